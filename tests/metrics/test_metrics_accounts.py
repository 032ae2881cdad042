"""The account KPIs (crmkit.metrics.accounts): a hand-checked pipeline, the committed B2B
sample against plain pandas on its CSVs, and the Maven pipeline's published totals."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmkit.metrics as m
from crmkit.ingest import ingest, resolve_config
from crmkit.metrics import Filters, NotAvailable
from crmkit.metrics.accounts import ACCOUNT_BANDS, band_labels
from crmkit.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
SAMPLE_B2B = ROOT / "data" / "sample-b2b"

T = pd.Timestamp
Q1 = Filters(start="2025-01-01", end="2025-03-31")
KPIS = ["account_bookings", "bookings_concentration", "new_and_repeat_accounts",
        "accounts_by_attribute", "open_deal_accounts"]


def _need(path: Path) -> None:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing (CI needs ../shared beside the checkout)")
        pytest.skip(f"{path} not here")


# -- a hand-checked pipeline -----------------------------------------------------------
def account_frames() -> dict[str, pd.DataFrame]:
    """Ten deals of four accounts and one prospect without an account.

    Closed in Q1 2025: d1 won 1000 and d2 won 3000 (a1, which won d8 in 2024: repeat),
    d3 lost (a2), d4 won 500 (a3: new), d5 won 2000 (no account), d6 won (a4, no amount).
    Open now: d7 4000 (a2, never won), d9 700 (a1), d10 300 (no account).
    a1 and a3 share a name; a2 has no industry and a3 an empty one.
    """
    rows = [
        ("d1", "a1", T("2025-01-05"), T("2025-02-10"), "won", 1000.0),
        ("d2", "a1", T("2025-01-10"), T("2025-03-20"), "won", 3000.0),
        ("d3", "a2", T("2024-12-01"), T("2025-01-15"), "lost", 500.0),
        ("d4", "a3", T("2025-02-01"), T("2025-03-01"), "won", 500.0),
        ("d5", None, T("2025-02-15"), T("2025-03-15"), "won", 2000.0),
        ("d6", "a4", T("2025-01-02"), T("2025-01-20"), "won", np.nan),
        ("d7", "a2", T("2025-03-01"), T("2025-05-31"), "open", 4000.0),
        ("d8", "a1", T("2024-11-01"), T("2024-12-20"), "won", 700.0),
        ("d9", "a1", T("2025-03-10"), T("2025-04-30"), "open", 700.0),
        ("d10", "", T("2025-03-12"), T("2025-06-30"), "open", 300.0),
    ]
    deals = pd.DataFrame(rows, columns=["opportunity_id", "customer_id", "created_date",
                                        "close_date", "outcome", "amount"])
    customers = pd.DataFrame({
        "customer_id": ["a1", "a2", "a3", "a4"],
        "name": ["Acme", "Beta <b>", "Acme", "Delta"],
        "industry": ["Retail", None, "", "Retail"],
        "employees": [40, 300, 6000, np.nan],
        "region": ["East", "West", "East", "West"],
    })
    return {"opportunities": deals, "customers": customers}


@pytest.fixture(scope="module")
def accounts_wh() -> Warehouse:
    return Warehouse.from_frames(account_frames())


def test_bookings_per_account_leave_out_deals_without_an_account(accounts_wh):
    frame = m.account_bookings(accounts_wh, Q1)
    expected = pd.DataFrame({
        "customer_id": ["a1", "a3", "a2", "a4"],
        "account": ["Acme (a1)", "Acme (a3)", "Beta <b>", "Delta"],
        "won_deals": [2, 1, 0, 1], "lost_deals": [0, 0, 1, 0],
        "bookings": [4000.0, 500.0, 0.0, np.nan],
        "share": [4000 / 4500, 500 / 4500, 0.0, np.nan],
        "cumulative_share": [4000 / 4500, 1.0, 1.0, np.nan],
        "rank": pd.array([1, 2, 3, pd.NA], dtype="Int64")})
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    assert frame.attrs["note"] == ("1 of 6 closed deals have no account (left out); 1 of 4 "
                                   "won deals have no amount (left out)")


def test_concentration_is_the_top_share_of_accounts_with_bookings(accounts_wh):
    row = m.bookings_concentration(accounts_wh, Q1).iloc[0]
    # a1 and a3 have bookings; the top 10% of two accounts is one: a1's 4000 of 4500
    assert (row["accounts"], row["top_accounts"]) == (2, 1)
    assert (row["top_bookings"], row["bookings"]) == (4000.0, 4500.0)
    assert row["concentration"] == pytest.approx(4000 / 4500)
    half = m.bookings_concentration(accounts_wh, Q1, top=0.5).iloc[0]
    assert half["top_accounts"] == 1
    assert m.bookings_concentration(accounts_wh, Filters(start="2030-01-01")) == NotAvailable(
        "no account has bookings in the period", "bookings_concentration")


def test_new_and_repeat_accounts_by_their_first_win(accounts_wh):
    frame = m.new_and_repeat_accounts(accounts_wh, Q1)
    # a1 won d8 in 2024 (repeat); a3 and a4 won first in Q1 (new; a4's deal has no amount)
    assert frame[["group", "accounts", "won_deals", "bookings"]].to_dict("list") == {
        "group": ["new", "repeat"], "accounts": [2, 1], "won_deals": [2, 2],
        "bookings": [500.0, 4000.0]}
    assert frame["account_share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert frame["bookings_share"].tolist() == pytest.approx([500 / 4500, 4000 / 4500])
    assert frame.attrs["note"].startswith("1 of 5 won deals have no account (left out)")
    assert "won deals are on record from 2024-12-20" in frame.attrs["note"]
    # nothing won before the period start: the two cannot be told apart
    early = m.new_and_repeat_accounts(accounts_wh, Filters(start="2024-01-01"))
    assert isinstance(early, NotAvailable) and "no won deal is on record" in early.reason


def test_attribute_groups_never_include_missing_values(accounts_wh):
    frame = m.accounts_by_attribute(accounts_wh, Q1, by="industry")
    # a2 (None) and a3 ("") have no industry: only Retail (a1, a4) is a group
    assert frame[["industry", "accounts", "numerator", "denominator", "bookings"]].to_dict(
        "list") == {"industry": ["Retail"], "accounts": [2], "numerator": [3],
                    "denominator": [3], "bookings": [4000.0]}
    assert "2 of 4 accounts with a closed deal have no industry (left out)" in \
        frame.attrs["note"]
    assert "1 of 6 closed deals have no account" in frame.attrs["note"]


def test_numbers_are_cut_into_bands_in_their_order(accounts_wh):
    frame = m.accounts_by_attribute(accounts_wh, Q1, by="employees")
    assert frame["employees"].tolist() == ["0–49", "250–999", "5,000+"]
    assert frame["numerator"].tolist() == [2, 0, 1]
    assert frame["denominator"].tolist() == [2, 1, 1]
    assert frame["bookings"].tolist() == [4000.0, 0.0, 500.0]
    own = m.accounts_by_attribute(accounts_wh, Q1, by="employees",
                                  bands={"employees": (0, 1000)})
    assert own["employees"].tolist() == ["0–999", "1,000+"]
    assert band_labels(ACCOUNT_BANDS["employees"]) == [
        "0–49", "50–249", "250–999", "1,000–4,999", "5,000+"]
    unbanded = m.accounts_by_attribute(Warehouse.from_frames(
        {**account_frames(), "customers": account_frames()["customers"].rename(
            columns={"employees": "staff"})}), Q1, by="staff")
    assert isinstance(unbanded, NotAvailable) and "staff is a number" in unbanded.reason


def test_all_accounts_in_one_row_without_a_breakdown(accounts_wh):
    row = m.accounts_by_attribute(accounts_wh, Q1).iloc[0]
    assert (row["accounts"], row["numerator"], row["denominator"]) == (4, 4, 5)
    assert row["bookings"] == 4500.0 and row["bookings_share"] == 1.0
    empty = m.accounts_by_attribute(accounts_wh, Filters(start="2030-01-01")).iloc[0]
    assert (empty["accounts"], empty["denominator"]) == (0, 0)
    assert math.isnan(empty["value"])


def test_open_deal_accounts_without_a_win_first(accounts_wh):
    frame = m.open_deal_accounts(accounts_wh, Q1)
    assert frame[["customer_id", "account", "open_deals", "open_value", "won_deals",
                  "lost_deals", "no_win_yet"]].to_dict("list") == {
        "customer_id": ["a2", "a1"], "account": ["Beta <b>", "Acme"],
        "open_deals": [1, 1], "open_value": [4000.0, 700.0], "won_deals": [0, 3],
        "lost_deals": [1, 0], "no_win_yet": [True, False]}
    assert frame["next_close"].tolist() == [T("2025-05-31"), T("2025-04-30")]
    assert frame.attrs["note"] == "1 of 3 open deals have no account (left out)"


def test_filters_reach_accounts_through_the_customers_table(accounts_wh):
    east = Filters(start="2025-01-01", end="2025-03-31", region="East")
    assert m.account_bookings(accounts_wh, east)["customer_id"].tolist() == ["a1", "a3"]


def test_account_kpis_have_written_definitions():
    table = m.metric_definitions().set_index("name")
    assert table.loc[KPIS, ["formula", "unit", "grain"]].map(bool).all().all()
    assert table.loc["accounts_by_attribute", "breakdown"]
    for name in KPIS:
        assert "without an account are left out" in table.loc[name, "formula"], name


def test_without_a_customer_id_column_the_account_kpis_say_so():
    wh = Warehouse.from_frames({"opportunities": account_frames()["opportunities"].drop(
        columns="customer_id")})
    for name in KPIS:
        result = m.get_metric(name)(wh, Q1)
        assert result == NotAvailable("needs opportunities.customer_id", name)


# -- the committed B2B sample against plain pandas -------------------------------------
Q4_2025 = Filters(start="2025-10-01", end="2025-12-31")


@pytest.fixture(scope="module")
def b2b(tmp_path_factory) -> Warehouse:
    folder = tmp_path_factory.mktemp("b2b-accounts") / "wh"
    ingest(resolve_config(source=SAMPLE_B2B), folder)
    wh = Warehouse.open(folder)
    yield wh
    wh.close()


@pytest.fixture(scope="module")
def csv() -> dict[str, pd.DataFrame]:
    deals = pd.read_csv(SAMPLE_B2B / "opportunities.csv",
                        parse_dates=["created_date", "close_date"])
    customers = pd.read_csv(SAMPLE_B2B / "customers.csv")
    return {"deals": deals, "customers": customers}


def _closed(deals: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    closed = deals[deals["outcome"].isin(["won", "lost"]) & deals["customer_id"].notna()]
    return closed[closed["close_date"].between(T(start), T(end))]


def _per_account(closed: pd.DataFrame) -> pd.DataFrame:
    won = closed["outcome"] == "won"
    return closed.assign(won=won, lost=~won, booked=closed["amount"].where(won, 0.0)).groupby(
        "customer_id").agg(won_deals=("won", "sum"), lost_deals=("lost", "sum"),
                           bookings=("booked", "sum"))


def test_b2b_bookings_per_account_equal_pandas(b2b, csv):
    expected = _per_account(_closed(csv["deals"], "2025-10-01", "2025-12-31"))
    frame = m.account_bookings(b2b, Q4_2025).set_index("customer_id")
    assert set(frame.index) == set(expected.index)
    pd.testing.assert_frame_equal(frame.loc[expected.index, expected.columns], expected,
                                  check_dtype=False)
    assert frame["share"].sum() == pytest.approx(1.0)
    assert frame["bookings"].is_monotonic_decreasing
    names = csv["customers"].set_index("customer_id")["name"]
    assert (frame["account"] == names.reindex(frame.index)).all()  # names are unique here
    assert frame.attrs["note"] == ""  # every closed deal of the sample has an account


def test_b2b_concentration_equals_pandas(b2b, csv):
    booked = _per_account(_closed(csv["deals"], "2025-10-01", "2025-12-31"))["bookings"]
    booked = booked[booked > 0].sort_values(ascending=False)
    k = math.ceil(len(booked) / 10)
    row = m.bookings_concentration(b2b, Q4_2025).iloc[0]
    assert (row["accounts"], row["top_accounts"]) == (len(booked), k)
    assert row["concentration"] == pytest.approx(booked.iloc[:k].sum() / booked.sum())


def test_b2b_new_and_repeat_accounts_equal_pandas(b2b, csv):
    won = csv["deals"][(csv["deals"]["outcome"] == "won") & csv["deals"]["customer_id"].notna()]
    first = won.groupby("customer_id")["close_date"].min()
    quarter = won[won["close_date"].between(T("2025-10-01"), T("2025-12-31"))]
    winners = quarter.groupby("customer_id")["amount"].agg(["size", "sum"])
    new = first.reindex(winners.index) >= T("2025-10-01")
    frame = m.new_and_repeat_accounts(b2b, Q4_2025).set_index("group")
    assert frame.loc["new", "accounts"] == new.sum()
    assert frame.loc["repeat", "accounts"] == (~new).sum()
    assert frame.loc["new", "bookings"] == winners.loc[new, "sum"].sum()
    assert frame.loc["repeat", "won_deals"] == winners.loc[~new, "size"].sum()


@pytest.mark.parametrize("column", ["industry", "segment", "employees"])
def test_b2b_win_rate_and_bookings_by_account_attribute_equal_pandas(b2b, csv, column):
    closed = _closed(csv["deals"], "2025-10-01", "2025-12-31")
    customers = csv["customers"].set_index("customer_id")
    group = customers[column].reindex(closed["customer_id"]).to_numpy()
    if column == "employees":
        bounds = ACCOUNT_BANDS["employees"]
        group = pd.cut(group, [*bounds, np.inf], right=False,
                       labels=band_labels(bounds)).astype(str)
    closed = closed.assign(group=group, won=closed["outcome"] == "won")
    expected = closed.groupby("group", sort=False).agg(
        accounts=("customer_id", "nunique"), numerator=("won", "sum"),
        denominator=("won", "size"))
    expected["bookings"] = closed[closed["won"]].groupby("group")["amount"].sum().reindex(
        expected.index, fill_value=0.0)
    frame = m.accounts_by_attribute(b2b, Q4_2025, by=column).set_index(column)
    assert set(frame.index) == set(expected.index)
    pd.testing.assert_frame_equal(frame.loc[expected.index, expected.columns], expected,
                                  check_dtype=False, check_names=False)
    assert frame["bookings_share"].sum() == pytest.approx(1.0)


def test_b2b_open_deal_accounts_equal_pandas(b2b, csv):
    deals = csv["deals"]
    open_ = deals[deals["outcome"] == "open"]
    with_account = open_[open_["customer_id"].notna()]
    ever_won = set(deals.loc[deals["outcome"] == "won", "customer_id"].dropna())
    frame = m.open_deal_accounts(b2b, Q4_2025).set_index("customer_id")
    per = with_account.groupby("customer_id")["amount"].agg(["size", "sum"])
    assert set(frame.index) == set(per.index)
    assert (frame.loc[per.index, "open_deals"] == per["size"]).all()
    assert (frame.loc[per.index, "open_value"] == per["sum"]).all()
    assert frame["no_win_yet"].sum() == len(set(per.index) - ever_won)
    assert frame.attrs["note"] == f"5 of {len(open_)} open deals have no account (left out)"


# -- the Maven pipeline ----------------------------------------------------------------
@pytest.fixture(scope="module")
def maven(tmp_path_factory):
    _need(SHARED / "maven_crm_pipeline")
    folder = tmp_path_factory.mktemp("maven-accounts") / "wh"
    ingest(resolve_config(ROOT / "examples" / "maven_pipeline.yaml"), folder)
    wh = Warehouse.open(folder)
    yield wh
    wh.close()


@pytest.mark.slow
def test_maven_accounts_hold_every_booking(maven):
    # 4,238 won deals worth 10,005,534 over all time, every one with one of the 85 accounts
    frame = m.account_bookings(maven)
    assert (len(frame), frame["won_deals"].sum(), frame["bookings"].sum()) == (
        85, 4238, 10_005_534.0)
    sectors = m.accounts_by_attribute(maven, by="segment")  # the config maps sector here
    assert len(sectors) == 10 and sectors["bookings"].sum() == 10_005_534.0
    assert (sectors["numerator"].sum(), sectors["denominator"].sum()) == (4238, 4238 + 2473)
    bands = m.accounts_by_attribute(maven, by="employees")
    assert bands["employees"].tolist() == band_labels(ACCOUNT_BANDS["employees"])
    assert bands["accounts"].sum() == 85
    # open deals carry no amount; most are with prospects that are no account yet
    open_ = m.open_deal_accounts(maven)
    assert open_["open_value"].isna().all() and open_["open_deals"].sum() == 664
    assert open_.attrs["note"] == "1,425 of 2,089 open deals have no account (left out)"
