"""crmkit.sample, crmkit.sample_b2b, crmkit.sample_subscription: each synthetic data set is
deterministic, follows the contract, and shows the patterns reports rely on (seasonality,
growth, satisfaction-driven churn; a stage pipeline; a churn snapshot)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from crmkit import sample, sample_b2b, sample_subscription
from crmkit.cli import main
from crmkit.exceptions import ConfigError
from crmkit.sample import RETAIL_COLUMNS, SALES_REPS, write_sample
from crmkit.sample_b2b import write_b2b_sample
from crmkit.sample_subscription import write_subscription_sample
from crmkit.schema import DERIVED_NAMES, TABLES
from tests.conftest import SAMPLE

XSS = "<script>alert(1)</script>"
TABLE_ORDER = tuple(RETAIL_COLUMNS)


def read_tables(folder, names=TABLE_ORDER) -> dict[str, pd.DataFrame]:
    """The CSV tables with ids as text and dates parsed, by the kinds of their canonical
    columns (attribute columns as pandas reads them)."""
    out = {}
    for name in names:
        header = pd.read_csv(folder / f"{name}.csv", nrows=0).columns
        kinds = {c: TABLES[name].column(c).kind for c in header
                 if TABLES[name].canonical_name(c)}
        frame = pd.read_csv(folder / f"{name}.csv",
                            dtype={c: str for c, kind in kinds.items() if kind == "id"})
        for c, kind in kinds.items():
            if kind == "date":
                frame[c] = pd.to_datetime(frame[c])
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


def test_csv_header_is_the_retail_columns_in_schema_order(written):
    folder, _ = written
    for name, columns in RETAIL_COLUMNS.items():
        with open(folder / f"{name}.csv", encoding="utf-8") as f:
            assert f.readline().rstrip("\n").split(",") == list(columns)
        canonical = [TABLES[name].canonical_name(c) for c in columns]
        assert None not in canonical, name
        assert canonical == [c for c in TABLES[name].column_names if c in canonical], name


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
        assert table.column_names == list(RETAIL_COLUMNS[name])
        assert table.num_rows == counts[name]
    orders = pq.read_table(tmp_path / "orders.parquet")
    assert str(orders.schema.field("order_date").type) == "timestamp[ms]"
    assert str(orders.schema.field("amount").type) == "double"
    customers = pq.read_table(tmp_path / "customers.parquet")
    assert str(customers.schema.field("tenure_months").type) == "int64"  # whole months


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

def check_required_and_keys(tables: dict[str, pd.DataFrame]) -> None:
    """Required columns are present and never empty; keys are unique."""
    for name, frame in tables.items():
        for col in TABLES[name].required:
            assert frame[col].notna().all(), f"{name}.{col}"
        assert not frame.duplicated(list(TABLES[name].key)).any(), name


def test_required_columns_are_never_empty_and_keys_unique(tables):
    check_required_and_keys(tables)


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


def check_schema_rules(tables: dict[str, pd.DataFrame]) -> None:
    """Every canonical column present keeps its column's min, max and closed values."""
    for name, frame in tables.items():
        for col in TABLES[name].columns:
            if col.name not in frame:
                continue
            values = frame[col.name].dropna()
            if col.min is not None:
                assert (values >= col.min).all(), f"{name}.{col.name}"
            if col.max is not None:
                assert (values <= col.max).all(), f"{name}.{col.name}"
            if col.values:
                assert set(values) <= set(col.values), f"{name}.{col.name}"


def test_values_respect_schema_rules(tables):
    check_schema_rules(tables)


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


# --- the B2B pipeline ------------------------------------------------------------------------

B2B_TABLES = ("customers", "opportunities", "leads", "campaigns", "tickets", "targets")
B2B_ATTRIBUTES = {"customers": {"industry", "employees"}}
B2B_START, B2B_END = pd.Timestamp(sample_b2b.START), pd.Timestamp(sample_b2b.END)


@pytest.fixture(scope="module")
def b2b(tmp_path_factory):
    folder = tmp_path_factory.mktemp("b2b")
    counts = write_b2b_sample(folder, customers=200, seed=7)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.csv" for n in B2B_TABLES)
    tables = read_tables(folder, B2B_TABLES)
    assert {name: len(frame) for name, frame in tables.items()} == counts
    return tables


def check_columns(folder, attributes: dict[str, set[str]]) -> None:
    """Each file's header: canonical columns in schema order, then the named attributes,
    none of which a canonical name, an alias or a derived name would collide with."""
    for path in sorted(folder.glob("*.csv")):
        name = path.stem
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split(",")
        canonical = [c for c in header if c in TABLES[name].column_names]
        extra = [c for c in header if c not in canonical]
        assert header == canonical + extra, name
        assert canonical == [c for c in TABLES[name].column_names if c in canonical], name
        assert set(extra) == attributes.get(name, set()), name
        for column in extra:
            assert TABLES[name].canonical_name(column) is None, column
            assert column not in DERIVED_NAMES, column


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_b2b_same_seed_gives_byte_identical_files(tmp_path, fmt):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_b2b_sample(a, customers=80, seed=11, fmt=fmt)
    write_b2b_sample(b, customers=80, seed=11, fmt=fmt)
    write_b2b_sample(c, customers=80, seed=12, fmt=fmt)
    for name in B2B_TABLES:
        assert (a / f"{name}.{fmt}").read_bytes() == (b / f"{name}.{fmt}").read_bytes(), name
    assert (a / f"opportunities.{fmt}").read_bytes() != (c / f"opportunities.{fmt}").read_bytes()


def test_b2b_columns_are_canonical_or_account_attributes(tmp_path, b2b):
    write_b2b_sample(tmp_path, customers=20, seed=1)
    check_columns(tmp_path, B2B_ATTRIBUTES)
    check_required_and_keys(b2b)
    check_schema_rules(b2b)
    assert b2b["opportunities"]["customer_id"].isna().any()  # a few prospects


def test_b2b_references_resolve(b2b):
    accounts = set(b2b["customers"]["customer_id"])
    campaigns = set(b2b["campaigns"]["campaign_id"])
    reps = set(sample_b2b.SALES_REPS)
    deals, leads = b2b["opportunities"], b2b["leads"]
    assert set(deals["customer_id"].dropna()) <= accounts
    assert set(leads["customer_id"].dropna()) <= accounts
    assert set(b2b["tickets"]["customer_id"]) <= accounts
    for frame in (deals, leads):
        used = set(frame["campaign_id"].dropna())
        assert used and used <= campaigns
    for frame in (b2b["customers"], deals, leads):
        assert set(frame["owner"]) <= reps
    assert set(b2b["targets"]["owner"]) == reps == set(deals["owner"])
    assert b2b["customers"]["name"].is_unique


def test_b2b_outcomes_stages_and_dates_agree(b2b):
    deals = b2b["opportunities"]
    won, lost, open_ = (deals["outcome"] == k for k in ("won", "lost", "open"))
    closed = won | lost
    assert (deals.loc[won, "stage"] == "Closed Won").all()
    assert (deals.loc[lost, "stage"] == "Closed Lost").all()
    assert set(deals.loc[open_, "stage"]) == set(list(sample_b2b.STAGES)[:4])
    assert (deals["stage_order"] == deals["stage"].map(
        {s: i + 1 for i, s in enumerate(sample_b2b.STAGES)})).all()
    assert (deals["probability"] == deals["stage"].map(sample_b2b.STAGES)).all()
    assert deals.loc[lost, "loss_reason"].notna().all()
    assert deals.loc[~lost, "loss_reason"].isna().all()
    assert (deals.loc[closed, "close_date"] >= deals.loc[closed, "created_date"]).all()
    assert deals.loc[closed, "close_date"].between(B2B_START, B2B_END).all()
    # open deals: expected to close after the last closed one, at a month end
    assert (deals.loc[open_, "close_date"] > deals.loc[closed, "close_date"].max()).all()
    assert deals.loc[open_, "close_date"].dt.is_month_end.all()
    assert (deals.loc[deals["customer_id"].isna(), "outcome"] == "open").all()
    assert (deals["created_date"] <= B2B_END).all()
    assert set(deals["currency"]) == {"USD"}
    assert (deals["amount"] > 0).all()


def test_b2b_accounts_begin_with_a_new_business_deal_from_a_converted_lead(b2b):
    accounts, deals, leads = b2b["customers"], b2b["opportunities"], b2b["leads"]
    new = accounts[accounts["signup_date"] >= B2B_START]
    assert len(new) > 10
    first = deals.sort_values("created_date").groupby("customer_id").first()
    assert (first.loc[new["customer_id"], "created_date"].to_numpy()
            == new["signup_date"].to_numpy()).all()
    assert (first.loc[new["customer_id"], "type"] == "New Business").all()
    converted = leads[leads["converted"]].set_index("customer_id")
    assert set(new["customer_id"]) <= set(converted.index)
    assert (leads["converted"] == (leads["status"] == "Converted")).all()
    assert leads.loc[leads["converted"], "customer_id"].notna().all()
    assert leads.loc[~leads["converted"], ["customer_id", "converted_date"]].isna().all().all()
    assert (leads.loc[leads["converted"], "converted_date"]
            >= leads.loc[leads["converted"], "created_date"]).all()
    assert set(leads["status"]) == set(sample_b2b.LEAD_STATUSES)


def test_b2b_pipeline_has_realistic_rates_and_differences(b2b):
    deals = b2b["opportunities"].merge(b2b["customers"][["customer_id", "segment"]],
                                       on="customer_id", how="left")
    closed = deals[deals["outcome"] != "open"]
    is_won = closed["outcome"] == "won"
    assert 0.4 < is_won.mean() < 0.6
    assert 0.18 < (deals["outcome"] == "open").mean() < 0.3
    assert 5 * 200 < len(deals) < 9 * 200
    by_type = is_won.groupby(closed["type"]).mean()
    assert by_type["Renewal"] > by_type["Upsell"] > by_type["New Business"]
    by_rep = is_won.groupby(closed["owner"]).mean()
    assert by_rep.max() - by_rep.min() > 0.15
    size = deals.groupby("segment")["amount"].median()
    assert size["SMB"] < size["Mid-Market"] < size["Enterprise"]
    days = (closed["close_date"] - closed["created_date"]).dt.days
    assert days.quantile(0.1) < 45 and days.quantile(0.9) > 180  # weeks to months


def test_b2b_wins_bunch_at_quarter_end_and_creation_dips_in_august(b2b):
    deals = b2b["opportunities"]
    won = deals[deals["outcome"] == "won"]
    to_quarter_end = (won["close_date"] + pd.offsets.QuarterEnd(0) - won["close_date"]).dt.days
    assert (to_quarter_end < 10).mean() > 0.25  # 10 of ~91 days would be 0.11
    created = deals["created_date"].dt.month.value_counts()
    assert created[8] < 0.85 * created[[9, 10]].mean()


def test_b2b_targets_are_quarters_of_every_rep(b2b):
    targets = b2b["targets"]
    assert (targets["period_start"].dt.day == 1).all()
    assert set(targets["period_start"].dt.month) == {1, 4, 7, 10}
    assert (targets["period_end"] == targets["period_start"] + pd.offsets.QuarterEnd(0)).all()
    assert targets["period_start"].min() == B2B_START
    assert targets["period_end"].max() == B2B_END
    assert len(targets) == 10 * len(sample_b2b.SALES_REPS)
    assert (targets["region"] == targets["owner"].map(sample_b2b.SALES_REPS)).all()


def test_b2b_cases_close_after_opening_and_rate_only_when_closed(b2b):
    cases = b2b["tickets"]
    closed = cases["closed_at"].notna()
    assert (cases.loc[closed, "closed_at"] > cases.loc[closed, "opened_at"]).all()
    assert cases.loc[~closed, "csat"].isna().all()
    assert cases["opened_at"].between(B2B_START, B2B_END + pd.Timedelta(days=1)).all()
    assert set(cases["type"]) == {"complaint", "inquiry", "follow_up"}


# --- the subscription snapshot ---------------------------------------------------------------

SUBSCRIPTION_TABLES = ("customers", "tickets", "surveys")
SUBSCRIPTION_ATTRIBUTES = {"customers": {"plan", "contract", "payment_method",
                                         *sample_subscription.SERVICES}}
WINDOW_START = pd.Timestamp(sample_subscription.WINDOW_START)
SNAPSHOT = pd.Timestamp(sample_subscription.SNAPSHOT)


@pytest.fixture(scope="module")
def subscription(tmp_path_factory):
    folder = tmp_path_factory.mktemp("subscription")
    counts = write_subscription_sample(folder, customers=3000, seed=7)
    tables = read_tables(folder, SUBSCRIPTION_TABLES)
    assert {name: len(frame) for name, frame in tables.items()} == counts
    return tables


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_subscription_same_seed_gives_byte_identical_files(tmp_path, fmt):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_subscription_sample(a, customers=300, seed=11, fmt=fmt)
    write_subscription_sample(b, customers=300, seed=11, fmt=fmt)
    write_subscription_sample(c, customers=300, seed=12, fmt=fmt)
    for name in SUBSCRIPTION_TABLES:
        assert (a / f"{name}.{fmt}").read_bytes() == (b / f"{name}.{fmt}").read_bytes(), name
    assert (a / f"customers.{fmt}").read_bytes() != (c / f"customers.{fmt}").read_bytes()


def test_subscription_is_a_snapshot_without_dates(tmp_path, subscription):
    write_subscription_sample(tmp_path, customers=20, seed=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.csv" for n in SUBSCRIPTION_TABLES)
    customers = pd.read_csv(tmp_path / "customers.csv")
    assert not {"signup_date", "churn_date"} & set(customers.columns)
    check_required_and_keys(subscription)
    check_schema_rules(subscription)


def test_subscription_columns_are_canonical_or_attributes(tmp_path):
    write_subscription_sample(tmp_path, customers=20, seed=1)
    with open(tmp_path / "customers.csv", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split(",")
    for column in header:
        assert (TABLES["customers"].canonical_name(column) == column
                or column in SUBSCRIPTION_ATTRIBUTES["customers"]), column
        assert column not in DERIVED_NAMES, column
    for name in ("tickets", "surveys"):
        with open(tmp_path / f"{name}.csv", encoding="utf-8") as f:
            assert f.readline().rstrip("\n").split(",") == TABLES[name].column_names


def test_subscription_flags_and_scores_are_consistent(subscription):
    customers = subscription["customers"]
    churned = customers["churned"] == "Yes"
    assert set(customers["churned"]) == {"Yes", "No"}
    assert customers.loc[churned, "churn_reason"].notna().all()
    assert customers.loc[~churned, "churn_reason"].isna().all()
    for service in sample_subscription.SERVICES:
        assert set(customers[service]) == {"Yes", "No"}, service
    assert set(customers["contract"]) == set(sample_subscription.CONTRACTS)
    assert (customers["tenure_months"] >= 0).all()
    assert customers["tenure_months"].dtype == np.int64
    assert (customers["monthly_revenue"] > 0).all()
    score = customers["satisfaction"]
    assert 0.05 < score.isna().mean() < 0.25
    assert set(score.dropna()) == {1, 2, 3, 4, 5}
    reasons = set(customers["churn_reason"].dropna())
    assert {"Deceased", "Moved away"} <= set(sample_subscription.UNWINNABLE_REASONS) & reasons
    assert {"Competitor", "Price", "Service"} <= reasons


def test_subscription_churn_has_drivers_a_model_can_find(subscription):
    customers = subscription["customers"]
    churned = customers["churned"] == "Yes"
    assert 0.18 < churned.mean() < 0.32
    by_contract = churned.groupby(customers["contract"]).mean()
    assert by_contract["Month-to-month"] > 3 * by_contract["One year"]
    assert by_contract["One year"] > by_contract["Two year"]
    tenure = pd.cut(customers["tenure_months"], [-1, 6, 48, 1000], labels=["new", "mid", "old"])
    by_tenure = churned.groupby(tenure, observed=True).mean()
    assert by_tenure["new"] > 2 * by_tenure["old"]
    by_score = churned.groupby(customers["satisfaction"]).mean()
    assert by_score[1] > 2 * by_score[5]
    revenue = pd.qcut(customers["monthly_revenue"], 4, labels=False)
    by_revenue = churned.groupby(revenue).mean()
    assert by_revenue[3] > by_revenue[0]


def test_subscription_tickets_and_surveys_fall_in_the_last_year(subscription):
    customers = set(subscription["customers"]["customer_id"])
    tickets, surveys = subscription["tickets"], subscription["surveys"]
    assert tickets["opened_at"].between(WINDOW_START, SNAPSHOT + pd.Timedelta(days=1)).all()
    assert surveys["date"].between(WINDOW_START, SNAPSHOT).all()
    assert set(tickets["customer_id"]) <= customers
    assert set(surveys["customer_id"]) <= customers
    closed = tickets["closed_at"].notna()
    assert (tickets.loc[closed, "closed_at"] > tickets.loc[closed, "opened_at"]).all()
    assert tickets.loc[~closed, "csat"].isna().all()


def test_subscription_leavers_complained_more(subscription):
    customers = subscription["customers"]
    complaints = subscription["tickets"].query("type == 'complaint'").groupby("customer_id").size()
    per_customer = customers["customer_id"].map(complaints).fillna(0)
    by_flag = per_customer.groupby(customers["churned"]).mean()
    assert by_flag["Yes"] > 1.5 * by_flag["No"]


# --- every shape: arguments, the CLI and the committed samples -------------------------------

@pytest.mark.parametrize("write", [write_b2b_sample, write_subscription_sample])
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"fmt": "xlsx"}, "format"),
    ({"customers": 0}, "at least 1"),
    ({"customers": 2.5}, "whole number"),
    ({"seed": -1}, "seed"),
])
def test_new_shapes_reject_bad_arguments(tmp_path, write, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        write(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("folder", ["sample", "sample-b2b", "sample-subscription"])
def test_committed_sample_is_what_its_readme_command_writes(tmp_path, folder):
    committed = SAMPLE.parent / folder
    command = re.search(r"`(crmkit sample [^`]+)`", (committed / "README.md").read_text())
    args = command.group(1).split()[1:]
    args[args.index("--out") + 1] = str(tmp_path)
    assert main(args) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in committed.glob("*.csv"))
    for name in written:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name
