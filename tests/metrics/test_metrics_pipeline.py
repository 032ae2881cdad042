"""The pipeline KPIs (crmkit.metrics.pipeline): a hand-checked pipeline, the committed B2B
sample against plain pandas, and the Maven pipeline against its published figures."""

from __future__ import annotations

import math
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import crmkit.metrics as m
from crmkit.ingest import ingest, resolve_config
from crmkit.metrics import Filters, Measure, NotAvailable, Rate
from crmkit.metrics.results import wilson_interval
from crmkit.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
SAMPLE_B2B = ROOT / "data" / "sample-b2b"

T = pd.Timestamp
NAT = pd.NaT
Q1 = Filters(start="2025-01-01", end="2025-03-31")


def _need(path: Path) -> None:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing (CI needs ../shared beside the checkout)")
        pytest.skip(f"{path} not here")


# -- a hand-checked pipeline -----------------------------------------------------------
def deal_frames() -> dict[str, pd.DataFrame]:
    """Nine deals, two accounts, three targets.

    Closed in Q1 2025: d1 won 1000 (Ann, X, a1), d2 won 3000 (Bob, Y, a1), d3 lost (Ann),
    d4 lost (no owner), d5 won 2000 (no owner, no product, no account), d9 won 500 (Dee,
    who has no target). d8 was won in 2024. Open now: d6 4000 at 50% (Ann, expected May),
    d7 1000 at 20% (Bob, expected April).
    """
    rows = [
        ("d1", "a1", T("2025-01-05"), T("2025-02-10"), "Won", 4, "won", 1000.0, "Ann", "X", 100),
        ("d2", "a1", T("2025-01-10"), T("2025-03-20"), "Won", 4, "won", 3000.0, "Bob", "Y", 100),
        ("d3", "a2", T("2024-12-01"), T("2025-01-15"), "Lost", 5, "lost", 500.0, "Ann", "X", 0),
        ("d4", "a2", T("2025-02-01"), T("2025-03-01"), "Lost", 5, "lost", 800.0, None, "X", 0),
        ("d5", None, T("2025-02-15"), T("2025-03-15"), "Won", 4, "won", 2000.0, None, None, 100),
        ("d6", "a1", T("2025-03-01"), T("2025-05-31"), "Proposal", 2, "open", 4000.0, "Ann", "X",
         50),
        ("d7", "a2", T("2025-03-10"), T("2025-04-30"), "Qualify", 1, "open", 1000.0, "Bob", "Y",
         20),
        ("d8", "a2", T("2024-11-01"), T("2024-12-20"), "Won", 4, "won", 700.0, "Bob", "Y", 100),
        ("d9", "a1", T("2025-01-02"), T("2025-01-20"), "Won", 4, "won", 500.0, "Dee", "Y", 100),
    ]
    deals = pd.DataFrame(rows, columns=[
        "opportunity_id", "customer_id", "created_date", "close_date", "stage", "stage_order",
        "outcome", "amount", "owner", "product", "probability"])
    deals["probability"] = deals["probability"].astype(float)
    customers = pd.DataFrame({"customer_id": ["a1", "a2"], "region": ["East", "West"]})
    targets = pd.DataFrame({
        "owner": ["Ann", "Bob", "Cid"],
        "period_start": [T("2025-01-01"), T("2025-01-01"), T("2025-01-01")],
        "period_end": [T("2025-03-31"), T("2025-06-30"), T("2025-03-31")],
        "target_amount": [2000.0, 6000.0, 1000.0],
    })
    return {"opportunities": deals, "customers": customers, "targets": targets}


@pytest.fixture(scope="module")
def deals_wh() -> Warehouse:
    return Warehouse.from_frames(deal_frames())


def with_deals(change) -> Warehouse:
    frames = deal_frames()
    frames["opportunities"] = change(frames["opportunities"])
    return Warehouse.from_frames(frames)


def test_closed_deal_kpis_count_deals_closed_in_the_period(deals_wh):
    assert m.bookings(deals_wh, Q1) == Measure(6500.0, "currency", n=4)
    assert m.win_rate(deals_wh, Q1) == Rate.from_counts(4, 6)
    size = m.average_deal_size(deals_wh, Q1)
    assert (size.value, size.n, size.too_few) == (1625.0, 4, True)
    # open deals are never in the win rate's denominator: over all time 5 won of 7 closed
    assert m.win_rate(deals_wh) == Rate.from_counts(5, 7)


def test_breakdowns_leave_out_deals_without_a_group_value(deals_wh):
    by_owner = m.win_rate(deals_wh, Q1, by="owner")
    assert by_owner["owner"].tolist() == ["Ann", "Bob", "Dee"]  # d4, d5 have no owner
    assert by_owner["numerator"].tolist() == [1, 1, 1]
    assert by_owner["denominator"].tolist() == [2, 1, 1]
    by_product = m.bookings(deals_wh, Q1, by="product")
    assert by_product[["product", "value", "n"]].to_dict("list") == {
        "product": ["X", "Y"], "value": [1000.0, 3500.0], "n": [1, 2]}
    # a customer column: d5 has no account, so no region; West lost d3 and d4
    by_region = m.bookings(deals_wh, Q1, by="region")
    assert by_region[["region", "value", "n"]].to_dict("list") == {
        "region": ["East", "West"], "value": [4500.0, 0.0], "n": [3, 0]}


def test_region_reaches_deals_through_their_account(deals_wh):
    east = Filters(start="2025-01-01", end="2025-03-31", region="East")
    assert m.bookings(deals_wh, east) == Measure(4500.0, "currency", n=3)
    assert m.win_rate(deals_wh, east) == Rate.from_counts(3, 3)
    assert m.bookings(deals_wh, Filters(start="2025-01-01", end="2025-03-31",
                                        sales_rep="Ann")) == Measure(1000.0, "currency", n=1)


def test_bookings_over_time_has_every_month(deals_wh):
    frame = m.bookings_over_time(deals_wh, Filters(start="2024-12-01", end="2025-04-30"))
    expected = pd.DataFrame({
        "period": pd.to_datetime(["2024-12-01", "2025-01-01", "2025-02-01", "2025-03-01",
                                  "2025-04-01"]).as_unit("us"),
        "won_deals": [1, 1, 1, 2, 0], "bookings": [700.0, 500.0, 1000.0, 5000.0, 0.0]})
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    by_owner = m.bookings_over_time(deals_wh, Q1, by="owner")
    assert len(by_owner) == 3 * 3 and set(by_owner["owner"]) == {"Ann", "Bob", "Dee"}
    assert by_owner["bookings"].sum() == 4500.0


def test_sales_cycle_mean_median_and_deals_without_a_created_date(deals_wh):
    cycle = m.sales_cycle(deals_wh, Q1)  # d1 36 days, d2 69, d5 28, d9 18
    assert cycle[["n", "no_created_date", "mean_days", "median_days"]].iloc[0].tolist() == [
        4, 0, 37.75, 32.0]
    undated = with_deals(lambda d: d.assign(
        created_date=d["created_date"].where(d["opportunity_id"] != "d9")))
    cycle = m.sales_cycle(undated, Q1)
    assert cycle[["n", "no_created_date", "median_days"]].iloc[0].tolist() == [3, 1, 36.0]
    assert cycle["mean_days"].iloc[0] == pytest.approx((36 + 69 + 28) / 3)
    assert "1 of 4 won deals have no created date" in cycle.attrs["note"]
    none_dated = with_deals(lambda d: d.assign(created_date=NAT))
    assert m.sales_cycle(none_dated, Q1) == NotAvailable(
        "no won deal of the period has a created date", "sales_cycle")


def test_open_pipeline_is_the_deals_open_now_weighted_by_probability(deals_wh):
    total = m.open_pipeline(deals_wh, Q1)
    assert total.iloc[0].tolist() == [2, 2, 5000.0, 4000 * 0.5 + 1000 * 0.2]
    assert "the period does not cut" in total.attrs["note"]
    assert "probability" in total.attrs["note"]
    # the period does not change the snapshot
    pd.testing.assert_frame_equal(total, m.open_pipeline(deals_wh))
    stages = m.open_pipeline(deals_wh, by="stage")
    assert stages["stage"].tolist() == ["Qualify", "Proposal"]  # stage_order 1, 2
    assert stages["weighted_value"].tolist() == [200.0, 2000.0]
    months = m.open_pipeline(deals_wh, by="close_month")
    assert months["close_month"].tolist() == [T("2025-04-01"), T("2025-05-01")]
    assert months["value"].tolist() == [1000.0, 4000.0]


def test_open_pipeline_without_probability_is_weighted_by_the_win_rate(deals_wh):
    wh = with_deals(lambda d: d.drop(columns="probability"))
    total = m.open_pipeline(wh)
    # overall win rate, all periods: 5 won of 7 closed
    assert total["weighted_value"].iloc[0] == pytest.approx(5000 * 5 / 7)
    assert "overall win rate 71.4%" in total.attrs["note"]


def test_open_deals_without_amounts_have_no_value_not_zero():
    wh = with_deals(lambda d: d.assign(amount=d["amount"].where(d["outcome"] != "open")))
    total = m.open_pipeline(wh)
    assert total["deals"].iloc[0] == 2
    assert math.isnan(total["value"].iloc[0]) and math.isnan(total["weighted_value"].iloc[0])
    assert "open deals carry no amount" in total.attrs["note"]


def test_no_closed_deals_gives_too_few_and_no_weighting():
    wh = with_deals(lambda d: d[d["outcome"] == "open"].drop(columns="probability"))
    rate = m.win_rate(wh, Q1)
    assert (rate.denominator, rate.too_few, str(rate)) == (0, True, "too few to say (n=0)")
    assert m.bookings(wh, Q1) == Measure(0.0, "currency", n=0)
    pipeline = m.open_pipeline(wh)
    assert pipeline["value"].iloc[0] == 5000.0
    assert math.isnan(pipeline["weighted_value"].iloc[0])
    assert "no probability and no closed deals" in pipeline.attrs["note"]


def test_won_deals_without_amounts_are_not_bookings_of_zero():
    wh = with_deals(lambda d: d.assign(amount=d["amount"].where(d["outcome"] != "won")))
    assert m.bookings(wh, Q1) == NotAvailable("the won deals carry no amount", "bookings")
    partial = with_deals(lambda d: d.assign(
        amount=d["amount"].where(d["opportunity_id"] != "d9")))
    result = m.bookings(partial, Q1)
    assert (result.value, result.n) == (6000.0, 4)
    assert result.note == "1 of 4 won deals have no amount (left out)"


def test_leaderboard_ranks_owners_by_attainment(deals_wh):
    board = m.owner_leaderboard(deals_wh, Q1)
    # Bob's half-year target counts for the 90 of its 181 days in Q1
    bob_target = 6000 * 90 / 181
    assert board["owner"].tolist() == ["Bob", "Ann", "Cid", "Dee"]  # no row for "no owner"
    assert board["bookings"].tolist() == [3000.0, 1000.0, 0.0, 500.0]
    assert board["won_deals"].tolist() == [1, 1, 0, 1]
    assert board["lost_deals"].tolist() == [0, 1, 0, 0]
    np.testing.assert_allclose(board["target"], [bob_target, 2000, 1000, np.nan])
    np.testing.assert_allclose(board["attainment"], [3000 / bob_target, 0.5, 0.0, np.nan])
    assert board["rank"].tolist() == [1, 2, 3, pd.NA]  # Dee has no target: no attainment
    assert board["bookings_rank"].tolist() == [1, 2, 4, 3]
    assert board["win_rate"].iloc[1] == 0.5 and math.isnan(board["win_rate"].iloc[2])
    assert (board["win_rate_low"].iloc[1], board["win_rate_high"].iloc[1]) == pytest.approx(
        wilson_interval(1, 2))


def test_leaderboard_without_targets_has_no_attainment():
    frames = deal_frames()
    del frames["targets"]
    board = m.owner_leaderboard(Warehouse.from_frames(frames), Q1)
    assert board["owner"].tolist() == ["Bob", "Ann", "Dee"]
    assert board["attainment"].isna().all() and board["rank"].isna().all()
    assert board.attrs["note"] == "no targets: no attainment or rank"
    assert m.pipeline_coverage(Warehouse.from_frames(frames), Q1) == NotAvailable(
        "needs targets", "pipeline_coverage")


def test_coverage_of_the_target_to_go(deals_wh):
    q2 = Filters(start="2025-04-01", end="2025-06-30")
    # as of the last close (20 March): the whole of Q2 is ahead, nothing booked in it yet
    team = m.pipeline_coverage(deals_wh, q2)
    bob_target = 6000 * 91 / 181
    row = team.iloc[0]
    assert row["as_of"] == T("2025-03-20")
    assert (row["target"], row["bookings"], row["to_go"]) == pytest.approx(
        (bob_target, 0.0, bob_target))
    assert (row["deals"], row["pipeline"], row["weighted_pipeline"]) == (2, 5000.0, 2200.0)
    assert row["coverage"] == pytest.approx(5000 / bob_target)
    assert row["weighted_coverage"] == pytest.approx(2200 / bob_target)
    owners = m.pipeline_coverage(deals_wh, q2, by="owner").set_index("owner")
    assert owners.loc["Bob", "coverage"] == pytest.approx(1000 / bob_target)
    assert math.isnan(owners.loc["Ann", "target"]) and math.isnan(owners.loc["Ann", "coverage"])
    # bookings so far count up to the as-of day
    early = m.pipeline_coverage(deals_wh, Q1, as_of="2025-02-28").iloc[0]
    assert early["bookings"] == 1500.0  # d9 (20 Jan) and d1 (10 Feb)
    assert early["deals"] == 0 and early["coverage"] == 0.0


def test_coverage_needs_a_period_still_running_with_a_target(deals_wh):
    def reason(filters, **options):
        return m.pipeline_coverage(deals_wh, filters, **options).reason

    assert reason(Filters()) == "coverage needs a period with a start and an end"
    assert reason(Filters(start="2024-10-01", end="2024-12-31")).startswith(
        "the period ended before the as-of date 2025-03-20")
    assert reason(Filters(start="2025-07-01", end="2025-09-30")) == \
        "no target overlaps the period"


def test_funnel_in_the_data_stage_order(deals_wh):
    funnel = m.opportunity_funnel(deals_wh, Q1)  # created in Q1: d1 d2 d4 d5 d6 d7 d9
    assert funnel.to_dict("list") == {
        "stage": ["Qualify", "Proposal", "Won", "Lost"], "deals": [1, 1, 4, 1],
        "share": [1 / 7, 1 / 7, 4 / 7, 1 / 7]}
    # without stage_order: open deals' stages first, then won, then lost, each in the order
    # they first appear (a closed stage ends the pipeline wherever the export lists it)
    unordered = m.opportunity_funnel(with_deals(lambda d: d.drop(columns="stage_order")), Q1)
    assert unordered["stage"].tolist() == ["Proposal", "Qualify", "Won", "Lost"]
    # a stage with no deal created in the period stays, at 0; none is invented
    autumn = m.opportunity_funnel(deals_wh, Filters(start="2024-11-01", end="2024-11-30"))
    assert autumn["deals"].tolist() == [0, 0, 1, 0]


def test_pipeline_kpis_have_written_definitions():
    table = m.metric_definitions().set_index("name")
    names = ["bookings", "bookings_over_time", "win_rate", "average_deal_size", "sales_cycle",
             "open_pipeline", "pipeline_coverage", "opportunity_funnel", "owner_leaderboard"]
    assert table.loc[names, ["formula", "unit", "grain"]].map(bool).all().all()
    assert "not cut by the period" in table.loc["open_pipeline", "formula"]


# -- the committed B2B sample against plain pandas -------------------------------------
@pytest.fixture(scope="module")
def b2b(tmp_path_factory) -> Warehouse:
    folder = tmp_path_factory.mktemp("b2b") / "wh"
    ingest(resolve_config(source=SAMPLE_B2B), folder)
    wh = Warehouse.open(folder)
    yield wh
    wh.close()


@pytest.fixture(scope="module")
def b2b_csv() -> dict[str, pd.DataFrame]:
    deals = pd.read_csv(SAMPLE_B2B / "opportunities.csv",
                        parse_dates=["created_date", "close_date"])
    targets = pd.read_csv(SAMPLE_B2B / "targets.csv", parse_dates=["period_start", "period_end"])
    customers = pd.read_csv(SAMPLE_B2B / "customers.csv")
    return {"deals": deals, "targets": targets, "customers": customers}


Q2_2025 = Filters(start="2025-04-01", end="2025-06-30")


def _closed_in(deals: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    closed = deals[deals["outcome"].isin(["won", "lost"])]
    return closed[closed["close_date"].between(T(start), T(end))]


def test_b2b_quarter_bookings_and_win_rate_equal_pandas(b2b, b2b_csv):
    closed = _closed_in(b2b_csv["deals"], "2025-04-01", "2025-06-30")
    won = closed[closed["outcome"] == "won"]
    assert m.bookings(b2b, Q2_2025) == Measure(float(won["amount"].sum()), "currency",
                                                n=len(won))
    assert m.win_rate(b2b, Q2_2025) == Rate.from_counts(len(won), len(closed))
    size = m.average_deal_size(b2b, Q2_2025)
    assert size.value == pytest.approx(won["amount"].mean())
    cycle = m.sales_cycle(b2b, Q2_2025).iloc[0]
    days = (won["close_date"] - won["created_date"]).dt.days
    assert (cycle["n"], cycle["median_days"]) == (len(won), days.median())
    assert cycle["mean_days"] == pytest.approx(days.mean())
    by_month = m.bookings_over_time(b2b, Q2_2025)
    expected = won.groupby(won["close_date"].dt.to_period("M").dt.start_time)["amount"].sum()
    assert by_month["bookings"].tolist() == expected.tolist()
    assert len(by_month) == 3


def test_b2b_win_rate_by_owner_equals_pandas(b2b, b2b_csv):
    closed = _closed_in(b2b_csv["deals"], "2025-04-01", "2025-06-30")
    expected = closed.groupby("owner")["outcome"].agg(
        numerator=lambda s: int((s == "won").sum()), denominator="count").reset_index()
    frame = m.win_rate(b2b, Q2_2025, by="owner")
    assert frame[["owner", "numerator", "denominator"]].to_dict("list") == \
        expected.to_dict("list")


def test_b2b_open_pipeline_weighted_by_probability_equals_pandas(b2b, b2b_csv):
    open_ = b2b_csv["deals"][b2b_csv["deals"]["outcome"] == "open"]
    total = m.open_pipeline(b2b, Q2_2025).iloc[0]
    assert total["deals"] == len(open_) == 248
    assert total["value"] == open_["amount"].sum()
    assert total["weighted_value"] == pytest.approx(
        (open_["amount"] * open_["probability"] / 100).sum())
    stages = m.open_pipeline(b2b, by="stage")
    in_order = open_.sort_values("stage_order")["stage"].unique().tolist()
    assert stages["stage"].tolist() == in_order
    assert stages["deals"].tolist() == open_.groupby("stage").size()[in_order].tolist()


def test_b2b_sales_rep_filter_reaches_opportunities(b2b, b2b_csv):
    rep = "Priya Nair"
    closed = _closed_in(b2b_csv["deals"], "2025-04-01", "2025-06-30")
    mine = closed[closed["owner"] == rep]
    filters = Filters(start="2025-04-01", end="2025-06-30", sales_rep=rep)
    assert m.bookings(b2b, filters).value == mine.loc[mine["outcome"] == "won", "amount"].sum()
    assert m.win_rate(b2b, filters).denominator == len(mine)
    open_ = b2b_csv["deals"][(b2b_csv["deals"]["outcome"] == "open")
                             & (b2b_csv["deals"]["owner"] == rep)]
    assert m.open_pipeline(b2b, filters)["deals"].iloc[0] == len(open_)
    # region comes through the deal's account
    apac = set(b2b_csv["customers"].loc[b2b_csv["customers"]["region"] == "APAC",
                                        "customer_id"])
    in_apac = closed[closed["customer_id"].isin(apac)]
    rate = m.win_rate(b2b, Filters(start="2025-04-01", end="2025-06-30", region="APAC"))
    assert rate.denominator == len(in_apac)


def test_b2b_leaderboard_against_the_targets(b2b, b2b_csv):
    closed = _closed_in(b2b_csv["deals"], "2025-04-01", "2025-06-30")
    won = closed[closed["outcome"] == "won"].groupby("owner")["amount"].sum()
    targets = b2b_csv["targets"]
    quarter = targets[targets["period_start"] == T("2025-04-01")].set_index("owner")[
        "target_amount"]
    board = m.owner_leaderboard(b2b, Q2_2025).set_index("owner")
    assert set(board.index) == set(quarter.index)
    for owner, target in quarter.items():
        assert board.loc[owner, "target"] == target
        assert board.loc[owner, "bookings"] == won.get(owner, 0.0)
        assert board.loc[owner, "attainment"] == pytest.approx(won.get(owner, 0.0) / target)
    attainment = board["attainment"].sort_values(ascending=False)
    assert board.loc[attainment.index, "rank"].tolist() == list(range(1, len(board) + 1))


def test_b2b_coverage_against_the_targets(b2b, b2b_csv):
    q4 = Filters(start="2025-10-01", end="2025-12-31")
    # The export's last day closes the quarter: no time is left to judge its coverage.
    assert m.pipeline_coverage(b2b, q4) == NotAvailable(
        "0 days of the period are left after the data's last close date (2025-12-31): too "
        "little to judge its coverage", "pipeline_coverage")
    closed = _closed_in(b2b_csv["deals"], "2025-10-01", "2025-11-15")
    booked = closed.loc[closed["outcome"] == "won", "amount"].sum()
    targets = b2b_csv["targets"]
    target = targets.loc[targets["period_start"] == T("2025-10-01"), "target_amount"].sum()
    row = m.pipeline_coverage(b2b, q4, as_of="2025-11-15").iloc[0]
    # every open deal is expected after the quarter
    assert row["as_of"] == T("2025-11-15")
    assert (row["target"], row["bookings"]) == (target, booked)
    assert row["to_go"] == max(target - booked, 0)
    assert (row["deals"], row["pipeline"]) == (0, 0.0)
    # the next quarter has open deals but no target
    assert m.pipeline_coverage(b2b, Filters(start="2026-01-01", end="2026-03-31")) == \
        NotAvailable("no target overlaps the period", "pipeline_coverage")


def test_b2b_funnel_equals_pandas(b2b, b2b_csv):
    deals = b2b_csv["deals"]
    created = deals[deals["created_date"].between(T("2025-04-01"), T("2025-06-30"))]
    order = deals.sort_values("stage_order")["stage"].unique().tolist()
    funnel = m.opportunity_funnel(b2b, Q2_2025)
    assert funnel["stage"].tolist() == order
    assert funnel["deals"].tolist() == created["stage"].value_counts().reindex(
        order, fill_value=0).tolist()
    assert funnel["share"].sum() == pytest.approx(1.0)


# -- the Maven pipeline: the published figures -----------------------------------------
@pytest.fixture(scope="module")
def maven(tmp_path_factory):
    _need(SHARED / "maven_crm_pipeline")
    folder = tmp_path_factory.mktemp("maven") / "wh"
    ingest(resolve_config(ROOT / "examples" / "maven_pipeline.yaml"), folder)
    wh = Warehouse.open(folder)
    yield wh, folder
    wh.close()


@pytest.mark.slow
def test_maven_bookings_and_win_rate_over_all_time(maven):
    wh, _ = maven
    assert m.bookings(wh) == Measure(10_005_534.0, "currency", n=4238)
    rate = m.win_rate(wh)
    assert (rate.numerator, rate.denominator) == (4238, 4238 + 2473)
    assert round(100 * rate.value, 2) == 63.15
    assert (rate.ci_low, rate.ci_high) == pytest.approx(wilson_interval(4238, 6711))
    assert (round(rate.ci_low, 4), round(rate.ci_high, 4)) == (0.6199, 0.6430)
    # deals close from March to December 2017: every month of the year is a row
    months = m.bookings_over_time(wh, Filters(start="2017-01-01", end="2017-12-31"))
    assert len(months) == 12 and months["won_deals"].tolist()[:2] == [0, 0]
    assert months["bookings"].sum() == 10_005_534.0


@pytest.mark.slow
def test_maven_open_deals_carry_no_amount(maven):
    wh, _ = maven
    total = m.open_pipeline(wh)
    assert total["deals"].iloc[0] == 2089 and total["valued_deals"].iloc[0] == 0
    assert math.isnan(total["value"].iloc[0])
    assert "open deals carry no amount" in total.attrs["note"]
    stages = m.open_pipeline(wh, by="stage")
    assert stages[["stage", "deals"]].to_dict("list") == {
        "stage": ["Prospecting", "Engaging"], "deals": [500, 1589]}


@pytest.mark.slow
def test_maven_win_rate_by_owner_for_every_agent(maven):
    wh, folder = maven
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        expected = con.execute(
            "SELECT owner, count(*) FILTER (WHERE outcome = 'won'), count(*) FROM "
            "opportunities WHERE outcome IN ('won', 'lost') GROUP BY 1 ORDER BY 1").fetchall()
    frame = m.win_rate(wh, by="owner")
    assert len(frame) == len(expected) == 30
    assert list(frame[["owner", "numerator", "denominator"]].itertuples(index=False,
                                                                        name=None)) == expected
    board = m.owner_leaderboard(wh)
    assert len(board) == 30 and board["bookings"].sum() == 10_005_534.0
    assert m.pipeline_coverage(wh, Filters(start="2017-10-01", end="2017-12-31")) == \
        NotAvailable("needs targets", "pipeline_coverage")
