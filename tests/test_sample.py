"""crmkit.sample: the synthetic data set is deterministic, follows the contract, and shows
the patterns reports rely on (seasonality, growth, satisfaction-driven churn)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from crmkit import sample
from crmkit.exceptions import ConfigError
from crmkit.sample import SALES_REPS, write_sample
from crmkit.schema import TABLE_ORDER, TABLES

ID_COLUMNS = {c.name for t in TABLES.values() for c in t.columns if c.kind == "id"}
XSS = "<script>alert(1)</script>"


def read_tables(folder) -> dict[str, pd.DataFrame]:
    """The CSV tables with ids as text and dates parsed."""
    out = {}
    for name in TABLE_ORDER:
        table = TABLES[name]
        frame = pd.read_csv(folder / f"{name}.csv",
                            dtype={c: str for c in table.column_names if c in ID_COLUMNS})
        for col in table.columns:
            if col.kind == "date":
                frame[col.name] = pd.to_datetime(frame[col.name])
        out[name] = frame
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    counts = write_sample(folder, customers=1500, seed=7)
    return folder, counts


@pytest.fixture(scope="module")
def tables(written):
    return read_tables(written[0])


# --- determinism and files -------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_byte_identical_files(tmp_path, fmt):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_sample(a, customers=300, seed=11, fmt=fmt)
    write_sample(b, customers=300, seed=11, fmt=fmt)
    write_sample(c, customers=300, seed=12, fmt=fmt)
    for name in TABLE_ORDER:
        first = (a / f"{name}.{fmt}").read_bytes()
        assert first == (b / f"{name}.{fmt}").read_bytes(), name
    assert (a / f"orders.{fmt}").read_bytes() != (c / f"orders.{fmt}").read_bytes()


def test_counts_match_files_and_no_partials_left(written, tables):
    folder, counts = written
    assert list(counts) == list(TABLE_ORDER)
    assert {name: len(frame) for name, frame in tables.items()} == counts
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.csv" for n in TABLE_ORDER)
    # about 13 orders per customer, as the module docstring promises
    assert 11 * 1500 < counts["orders"] < 15 * 1500


def test_csv_header_is_the_canonical_columns(written):
    folder, _ = written
    for name in TABLE_ORDER:
        with open(folder / f"{name}.csv", encoding="utf-8") as f:
            assert f.readline().rstrip("\n").split(",") == TABLES[name].column_names


def test_csv_formats_dates_timestamps_and_bools(written):
    folder, _ = written
    raw = {n: pd.read_csv(folder / f"{n}.csv", dtype=str, keep_default_na=False)
           for n in ("orders", "customers", "leads", "tickets")}
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
    date = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    assert raw["orders"]["order_date"].str.match(stamp).all()
    closed = raw["tickets"]["closed_at"]
    assert closed[closed != ""].str.match(stamp).all() and (closed == "").any()
    assert raw["customers"]["signup_date"].str.match(date).all()
    churn = raw["customers"]["churn_date"]
    assert churn[churn != ""].str.match(date).all() and (churn == "").any()
    assert set(raw["leads"]["won"]) == {"true", "false"}


def test_parquet_has_the_canonical_schema(tmp_path):
    counts = write_sample(tmp_path, customers=200, seed=3, fmt="parquet")
    for name in TABLE_ORDER:
        table = pq.read_table(tmp_path / f"{name}.parquet")
        assert table.column_names == TABLES[name].column_names
        assert table.num_rows == counts[name]
    orders = pq.read_table(tmp_path / "orders.parquet")
    assert str(orders.schema.field("order_date").type) == "timestamp[ms]"
    assert str(orders.schema.field("amount").type) == "double"


def test_blocks_stream_into_one_consistent_data_set(tmp_path, monkeypatch):
    monkeypatch.setattr(sample, "BLOCK_CUSTOMERS", 120)
    counts = write_sample(tmp_path, customers=500, seed=5, fmt="parquet")
    customers = pq.read_table(tmp_path / "customers.parquet").to_pandas()
    orders = pq.read_table(tmp_path / "orders.parquet").to_pandas()
    assert pq.ParquetFile(tmp_path / "orders.parquet").metadata.num_row_groups == 5
    assert counts["customers"] == 500 and customers["customer_id"].is_unique
    assert orders["order_id"].is_unique
    assert set(orders["customer_id"].dropna()) <= set(customers["customer_id"])
    assert (customers["name"] == XSS).sum() == 1


# --- the contract ----------------------------------------------------------------------------

def test_required_columns_are_never_empty(tables):
    for name, frame in tables.items():
        for col in TABLES[name].required:
            assert frame[col].notna().all(), f"{name}.{col}"


def test_keys_are_unique(tables):
    for name, frame in tables.items():
        assert not frame.duplicated(list(TABLES[name].key)).any(), name


def test_foreign_keys_resolve(tables):
    customers = set(tables["customers"]["customer_id"])
    campaigns = set(tables["campaigns"]["campaign_id"])
    reps = set(SALES_REPS)
    orders = tables["orders"]
    guests = orders["customer_id"].isna()
    assert 0.003 < guests.mean() < 0.03  # a few guest sales, no more
    assert set(orders.loc[~guests, "customer_id"]) <= customers
    for name in ("orders", "leads"):
        used = set(tables[name]["campaign_id"].dropna())
        assert used and used <= campaigns, name
    assert set(tables["leads"]["customer_id"].dropna()) <= customers
    assert set(tables["tickets"]["customer_id"]) <= customers
    assert set(tables["surveys"]["customer_id"]) <= customers
    assert set(tables["leads"]["owner"]) <= reps
    assert set(tables["targets"]["owner"]) == reps
    assert set(tables["customers"]["owner"]) <= reps
    assert set(orders["sales_rep"]) <= reps


def test_values_respect_schema_rules(tables):
    for name, frame in tables.items():
        for col in TABLES[name].columns:
            values = frame[col.name].dropna()
            if col.min is not None:
                assert (values >= col.min).all(), f"{name}.{col.name}"
            if col.max is not None:
                assert (values <= col.max).all(), f"{name}.{col.name}"
            if col.values:
                assert set(values) <= set(col.values), f"{name}.{col.name}"


def test_amount_is_quantity_times_unit_price_to_the_cent(tables):
    orders = tables["orders"]
    cents = np.round(orders["amount"] * 100).astype(np.int64)
    expected = orders["quantity"].astype(np.int64) * np.round(orders["unit_price"] * 100).astype(
        np.int64)
    assert (cents == expected).all()
    assert (np.abs(orders["amount"] * 100 - cents) < 1e-6).all()  # whole cents only


def test_returns_are_negative_and_cancellations_positive(tables):
    orders = tables["orders"]
    by_status = orders.groupby("status")
    assert (orders.loc[orders.status == "returned", ["amount", "quantity"]] < 0).all().all()
    assert (orders.loc[orders.status != "returned", ["amount", "quantity"]] > 0).all().all()
    share = by_status.size() / len(orders)
    assert 0.85 < share["completed"] and 0.01 < share["returned"] < 0.05
    assert 0.01 < share["cancelled"] < 0.05


def test_targets_are_calendar_months_met_65_to_140_percent(tables):
    targets, orders = tables["targets"], tables["orders"]
    assert (targets["period_start"].dt.day == 1).all()
    assert (targets["period_end"] == targets["period_start"] + pd.offsets.MonthEnd(0)).all()
    assert (targets["region"] == targets["owner"].map(SALES_REPS)).all()
    net = orders[orders.status != "cancelled"]
    sold = net.groupby([net["sales_rep"], net["order_date"].dt.to_period("M")])["amount"].sum()
    key = zip(targets["owner"], targets["period_start"].dt.to_period("M"))
    attainment = np.array([sold.get(k, 0.0) for k in key]) / targets["target_amount"]
    assert attainment.between(0.6, 1.45).all()
    assert attainment.min() < 0.8 and attainment.max() > 1.2  # it really varies


def test_leads_stages_are_consistent(tables):
    leads = tables["leads"]
    won, lost = leads["stage"] == "Won", leads["stage"] == "Lost"
    open_ = ~(won | lost)
    assert (leads["won"] == won).all()
    assert leads.loc[won, "customer_id"].notna().all()
    assert leads.loc[~won, "customer_id"].isna().all()
    assert leads.loc[lost, "lost_reason"].notna().all()
    assert leads.loc[~lost, "lost_reason"].isna().all()
    assert open_.any() and leads.loc[open_, "closed_date"].isna().all()
    assert (leads.loc[~open_, "closed_date"] >= leads.loc[~open_, "created_date"]).all()
    # a won lead closes on the signup of the customer it became
    signup = tables["customers"].set_index("customer_id")["signup_date"]
    assert (leads.loc[won, "closed_date"].to_numpy()
            == signup[leads.loc[won, "customer_id"]].to_numpy()).all()


def test_tickets_close_after_opening_and_rate_only_when_closed(tables):
    tickets = tables["tickets"]
    closed = tickets["closed_at"].notna()
    assert (~closed).any() and closed.mean() > 0.9
    assert (tickets.loc[closed, "closed_at"] > tickets.loc[closed, "opened_at"]).all()
    assert tickets.loc[~closed, "csat"].isna().all()
    assert tickets.loc[closed, "csat"].isna().any()  # some customers do not rate
    assert set(tickets["type"]) == {"complaint", "inquiry", "follow_up", "technical"}


# --- the patterns reports show ---------------------------------------------------------------

def test_period_spans_more_than_two_years(tables):
    dates = tables["orders"]["order_date"]
    assert dates.min() >= pd.Timestamp("2023-01-01")
    assert dates.max() <= pd.Timestamp("2025-06-30 23:59:59")
    assert dates.max() - dates.min() > pd.Timedelta(days=2 * 365)


def net_revenue(orders: pd.DataFrame) -> pd.DataFrame:
    return orders[orders.status != "cancelled"]


def test_q4_peak_and_summer_dip(tables):
    net = net_revenue(tables["orders"])
    monthly = net.groupby(net["order_date"].dt.to_period("M"))["amount"].sum()
    by_month = monthly.groupby(monthly.index.month).mean()
    assert by_month[[11, 12]].mean() > 1.3 * by_month[[6, 7]].mean()


def test_revenue_grows_year_on_year(tables):
    net = net_revenue(tables["orders"])
    first_half = net[net["order_date"].dt.month <= 6]
    by_year = first_half.groupby(first_half["order_date"].dt.year)["amount"].sum()
    assert by_year[2023] < by_year[2024] < by_year[2025]


def test_segments_differ_in_order_value(tables):
    orders = tables["orders"].merge(tables["customers"][["customer_id", "segment"]],
                                    on="customer_id")
    value = orders[orders.status == "completed"].groupby("segment")["amount"].mean()
    assert value["Consumer"] < value["SMB"] < value["Enterprise"]


def test_low_satisfaction_customers_churn_more(tables):
    customers = tables["customers"].set_index("customer_id")
    csat = tables["surveys"].groupby("customer_id")["csat"].mean()
    rated = customers.join(csat.rename("survey_csat"), how="inner")
    tercile = pd.qcut(rated["survey_csat"].rank(method="first"), 3, labels=["low", "mid", "high"])
    churn = (rated["status"] == "churned").groupby(tercile, observed=True).mean()
    assert churn["low"] > churn["mid"] > churn["high"]
    assert churn["low"] - churn["high"] > 0.15


def test_churned_customers_complained_more_before_leaving(tables):
    customers = tables["customers"]
    complaints = tables["tickets"].query("type == 'complaint'").groupby("customer_id").size()
    per_customer = customers["customer_id"].map(complaints).fillna(0)
    by_status = per_customer.groupby(customers["status"]).mean()
    assert by_status["churned"] > 2 * by_status["active"]


def test_campaign_returns_differ(tables):
    orders, campaigns = tables["orders"], tables["campaigns"]
    revenue = net_revenue(orders).groupby("campaign_id")["amount"].sum()
    roi = (campaigns["campaign_id"].map(revenue).fillna(0) - campaigns["cost"]) / campaigns["cost"]
    assert 15 <= len(campaigns) <= 30
    assert roi.min() < 0.3 and roi.max() > 2.0


def test_nothing_happens_after_churn(tables):
    churn = tables["customers"].set_index("customer_id")["churn_date"]
    for name, column in (("orders", "order_date"), ("tickets", "opened_at"), ("surveys", "date")):
        frame = tables[name].dropna(subset=["customer_id"])
        left = churn.reindex(frame["customer_id"]).to_numpy()
        happened = frame[column].to_numpy()
        assert not (pd.notna(left) & (happened >= left)).any(), name


def test_customers_have_messy_names_and_exactly_one_script_tag(tables):
    names = tables["customers"]["name"]
    assert (names == XSS).sum() == 1
    assert names.str.contains("<").sum() == 1  # no other markup anywhere
    for messy in ("Müller GmbH", "北京星辰贸易有限公司", "Société Générale Services",
                  'Baker, Lewis & "Co" Inc.'):
        assert (names == messy).sum() == 1, messy
    assert tables["customers"]["email"].is_unique


def test_acquisition_cost_depends_on_channel(tables):
    cac = tables["customers"].groupby("acquisition_channel")["acquisition_cost"].mean()
    assert cac["Organic"] < cac["Paid Search"] < cac["Events"]


def test_tiny_sample_still_has_the_test_customer(tmp_path):
    counts = write_sample(tmp_path, customers=1, seed=1)
    assert counts["customers"] == 1 and counts["targets"] == 300
    customers = pd.read_csv(tmp_path / "customers.csv")
    assert customers["name"].tolist() == [XSS]


# --- arguments -------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"fmt": "xlsx"}, "format"),
    ({"customers": 0}, "at least 1"),
    ({"customers": 2.5}, "whole number"),
    ({"customers": True}, "whole number"),
    ({"seed": -1}, "seed"),
    ({"start": "2025-01-01", "end": "2025-01-01"}, "after start"),
    ({"start": "2025-06-30", "end": "2023-01-01"}, "after start"),
    ({"start": "January 2023"}, "date like"),
])
def test_bad_arguments_raise_config_error(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        write_sample(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()  # checked before anything is written


def test_out_must_be_a_folder(tmp_path):
    (tmp_path / "file.csv").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        write_sample(tmp_path / "file.csv", customers=10)


def test_progress_reports_blocks(tmp_path):
    lines = []
    write_sample(tmp_path, customers=50, seed=1, progress=lines.append)
    assert lines[0].startswith("block 1/1: 50 customers")
    assert lines[-1].startswith("wrote customers 50")
