"""The churn report's sections on the sample (contractual) and on orders only (inactivity)."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from matplotlib.figure import Figure

from crmkit.charts import Chart
from crmkit.metrics import Filters
from crmkit.sections import open_report
from crmkit.sections import churn
from crmkit.sections.base import Table, Text
from tests.conftest import SAMPLE

START, END = pd.Timestamp("2025-01-01"), pd.Timestamp("2025-06-30")
OWN_SECTIONS = ["summary", "over_time", "survival", "reasons", "at_risk", "winback",
                "conclusions"]
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def report(sample_warehouse):
    return open_report("churn", warehouse=str(sample_warehouse), start="2025-01-01",
                       end="2025-06-30")


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "customers.csv", parse_dates=["signup_date", "churn_date"])


def contractual_counts(customers: pd.DataFrame, start, end) -> tuple[int, int]:
    """(churned in the period, active at its start), by hand."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    active = customers[(customers["signup_date"] < start)
                       & (customers["churn_date"].isna() | (customers["churn_date"] >= start))]
    return int(active["churn_date"].between(start, end).sum()), len(active)


def rate_text(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.1%} ({numerator:,} of {denominator:,}"


def markdown(outputs: list) -> str:
    return "\n".join(o.markdown for o in outputs if isinstance(o, Text))


def test_every_section_returns_report_outputs(report):
    for name in OWN_SECTIONS:
        outputs = report.outputs(name)
        assert outputs, name
        assert all(isinstance(o, (Text, Table, Figure, Chart)) for o in outputs), name
    for name in ("over_time", "survival", "reasons", "at_risk"):
        assert any(isinstance(o, (Figure, Chart)) for o in report.outputs(name)), name
    snapshot = [s for s, shape in churn.SHAPES.items() if shape == "snapshot"]
    # the KPI cards are tested with every report's in tests/sections/test_cards.py
    assert [s for s, _ in churn.OUTLINE[1:] if s not in snapshot and s != "cards"] == \
        OWN_SECTIONS
    assert churn.OUTLINE[0].startswith("# Churn and retention\n\n")
    # The snapshot's sections are left out of a retail report, heading and all.
    for name in snapshot:
        assert report.outputs(name) == [], name


def test_summary_matches_a_pandas_computation(report, customers):
    text = markdown(report.outputs("summary"))
    assert "contractual" in text
    churned, active = contractual_counts(customers, START, END)
    assert f"Churn rate was {rate_text(churned, active)}" in text
    assert f"Retention rate was {rate_text(active - churned, active)}" in text
    before, before_active = contractual_counts(customers, "2024-07-01", "2024-12-31")
    assert f"on the previous period ({before / before_active:.1%})" in text
    # The segment that churned most, and the top reason of everyone who left in the period.
    at_start = customers[(customers["signup_date"] < START) & (
        customers["churn_date"].isna() | (customers["churn_date"] >= START))]
    by_segment = at_start.groupby("segment")["churn_date"].apply(
        lambda d: d.between(START, END).mean())
    assert f"By segment, {by_segment.idxmax()} churned most" in text
    left = customers[customers["churn_date"].between(START, END)]
    reasons = left["churn_reason"].value_counts()
    assert (f"most common churn reason was {reasons.index[0]}: {reasons.iloc[0]} of "
            f"{len(left)} leavers") in text


def test_over_time_counts_each_month(report, customers):
    table = next(o for o in report.outputs("over_time") if isinstance(o, Table)).frame
    assert len(table) == 6
    for row in table.itertuples():
        end = row.period + pd.offsets.MonthEnd(0)
        assert (row.churned, row.active_at_start) == contractual_counts(customers, row.period,
                                                                        end)
        year = row.period - pd.DateOffset(years=1)
        n, d = contractual_counts(customers, year, year + pd.offsets.MonthEnd(0))
        assert row.churn_rate_last_year == pytest.approx(n / d)


def test_survival_and_reasons_tables(report, customers):
    outputs = report.outputs("survival")
    table = next(o for o in outputs if isinstance(o, Table)).frame
    assert list(table["segment"]) == ["Consumer", "Enterprise", "SMB", "all customers"]
    assert "log-rank test" in markdown(outputs)
    reasons = next(o for o in report.outputs("reasons") if isinstance(o, Table)).frame
    left = customers[customers["churn_date"].between(START, END)]
    expected = left["churn_reason"].value_counts()
    assert dict(zip(reasons["churn_reason"], reasons["customers"])) == expected.to_dict()
    assert reasons["share"].sum() == pytest.approx(1.0)


def test_at_risk_lists_active_customers_with_the_model_quality(report, customers):
    outputs = report.outputs("at_risk")
    text = markdown(outputs)
    assert "cross\\-validated AUC" in text and "fitted on 2,000 customers" in text
    table = [o for o in outputs if isinstance(o, Table)][0].frame
    assert len(table) == churn.TOP_AT_RISK
    assert table["revenue_at_risk"].is_monotonic_decreasing
    churned_by_end = set(customers.loc[customers["churn_date"] <= END, "customer_id"])
    assert not set(table["customer_id"]) & churned_by_end
    risk = churn._risk(report)
    assert risk.scored == len(customers) - len(churned_by_end) - int(
        (customers["signup_date"] > END).sum())
    assert f"{risk.scored:,} active customers" in text


def test_a_region_filter_changes_the_numbers(sample_warehouse, report, customers):
    east = open_report("churn", warehouse=str(sample_warehouse), start="2025-01-01",
                       end="2025-06-30", region="East")
    churned, active = contractual_counts(customers[customers["region"] == "East"], START, END)
    text = markdown(east.outputs("summary"))
    assert f"Churn rate was {rate_text(churned, active)}" in text
    assert text != markdown(report.outputs("summary"))
    table = [o for o in east.outputs("at_risk") if isinstance(o, Table)][0].frame
    assert set(table["region"]) == {"East"}


def test_the_at_risk_list_shows_names_as_text(sample_warehouse, monkeypatch):
    # C0000112 is called <script>alert(1)</script> and churned on 2024-01-26: active before.
    report = open_report("churn", warehouse=str(sample_warehouse), start="2023-07-01",
                         end="2023-12-31")
    monkeypatch.setattr(churn, "TOP_AT_RISK", 10_000)  # every active customer listed
    table = [o for o in report.outputs("at_risk") if isinstance(o, Table)][0]
    assert "C0000112" in set(table.frame["customer_id"])
    html = table.to_html()
    assert ESCAPED_SCRIPT in html and "<script>" not in html


def test_conclusions_use_the_rules(report):
    text = markdown(report.outputs("conclusions"))
    assert text.startswith("- ")
    assert len(text.splitlines()) <= 2 + churn.TOP_WINBACK_RULES
    items = churn.winback_items(report, reason_rules=[], group_rule={
        "min_ratio": 0.0, "priority": 1, "text": "{group}: {value}"})
    assert {re.sub(r":.*", "", s) for _, s in items} == {"Consumer", "Enterprise", "SMB"}


# -- non-contractual: only orders, customers derived, churn by inactivity -------------------

@pytest.fixture(scope="module")
def retail_report(tmp_path_factory):
    from crmkit.ingest import ingest, resolve_config

    source = tmp_path_factory.mktemp("orders-only")
    shutil.copy(SAMPLE / "orders.csv", source / "orders.csv")
    folder = tmp_path_factory.mktemp("orders-only-warehouse")
    ingest(resolve_config(source=source), folder)
    return open_report("churn", warehouse=str(folder), start="2025-01-01", end="2025-06-30")


def inactivity_counts(orders: pd.DataFrame, start, end, days: int) -> tuple[int, int]:
    """(lapsed in the period, active at its start) under the inactivity definition."""
    start, after = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    gap = pd.Timedelta(days=days)
    last_before = orders[orders["order_date"] < start].groupby("customer_id")["order_date"].max()
    active = last_before[last_before >= start - gap].index
    last = orders[orders["order_date"] < after].groupby("customer_id")["order_date"].max()
    return int((last.loc[active] < after - gap).sum()), len(active)


def test_orders_only_data_uses_the_inactivity_definition(retail_report):
    assert churn._basis(retail_report) == churn.ChurnBasis("inactivity")
    text = markdown(retail_report.outputs("summary"))
    assert "inactivity" in text and f"{churn.INACTIVE_DAYS} days without a completed order" \
        in text
    orders = pd.read_csv(SAMPLE / "orders.csv", parse_dates=["order_date"])
    completed = orders[orders["customer_id"].notna() & (orders["amount"] >= 0)
                       & ~orders["status"].isin(["cancelled", "returned"])]
    lapsed, active = inactivity_counts(completed, START, END, churn.INACTIVE_DAYS)
    assert f"Churn rate was {rate_text(lapsed, active)}" in text
    assert "not available" in markdown(retail_report.outputs("reasons"))


def test_orders_only_sections_work(retail_report):
    for name in OWN_SECTIONS:
        outputs = retail_report.outputs(name)
        assert outputs and all(isinstance(o, (Text, Table, Figure, Chart)) for o in outputs), name
    at_risk = retail_report.outputs("at_risk")
    assert "BG/NBD" in markdown(at_risk)
    table = [o for o in at_risk if isinstance(o, Table)][0].frame
    assert (table["days_since_last_order"] < churn.INACTIVE_DAYS).all()
    assert table["revenue_at_risk"].is_monotonic_decreasing
    survival = next(o for o in retail_report.outputs("survival") if isinstance(o, Table))
    assert "retained at 3 months" not in survival.frame.columns  # 1.0 by construction


def test_inactivity_churn_rate_direct(retail_report):
    f = Filters(start="2025-01-01", end="2025-06-30")
    churn_rate = churn.inactivity_churn(retail_report.wh, f)
    kept = churn.inactivity_churn(retail_report.wh, f, retained=True)
    assert churn_rate.denominator == kept.denominator
    assert churn_rate.numerator + kept.numerator == churn_rate.denominator
    by_region = churn.inactivity_churn(retail_report.wh, f, by="region")
    assert by_region["denominator"].sum() == churn_rate.denominator
