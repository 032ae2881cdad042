"""The customer_behaviour report's sections: output types, summary numbers against pandas
on data/sample, filters, missing optional tables, escaping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from crmkit import narrative
from crmkit.charts import Chart
from crmkit.metrics import Filters
from crmkit.metrics.results import format_value
from crmkit.report.markup import escape_markdown
from crmkit.sections import behaviour, open_report
from crmkit.sections.base import Report, Table, Text
from crmkit.warehouse import Warehouse
from tests.conftest import SAMPLE

START, END = pd.Timestamp("2025-01-01"), pd.Timestamp("2025-06-30")
DATA_SECTIONS = ("customer_mix", "rfm", "clusters", "cohorts", "loyalty", "customer_value")


@pytest.fixture(scope="module")
def report(sample_warehouse):
    return open_report("customer_behaviour", warehouse=str(sample_warehouse),
                       start="2025-01-01", end="2025-06-30")


@pytest.fixture(scope="module")
def sample():
    customers = pd.read_csv(SAMPLE / "customers.csv", parse_dates=["signup_date", "churn_date"])
    orders = pd.read_csv(SAMPLE / "orders.csv", parse_dates=["order_date"])
    kind = np.where(orders["status"] == "cancelled", "cancelled",
                    np.where((orders["status"] == "returned") | (orders["amount"] < 0),
                             "returned", "completed"))
    return customers, orders.assign(kind=kind)


def _text(outputs: list) -> str:
    return "\n".join(o.markdown for o in outputs if isinstance(o, Text))


def _md(value, unit: str) -> str:
    """A number as the report's Markdown writes it (formatted, then escaped)."""
    return escape_markdown(format_value(value, unit))


# -- shape ------------------------------------------------------------------------------

def test_outline_names_existing_sections():
    assert behaviour.OUTLINE[0].startswith("# Customer behaviour")
    for entry in behaviour.OUTLINE[1:]:
        assert entry[0] in behaviour.SECTIONS
    narrative.validate_rules(behaviour.BEHAVIOUR_RULES)


def test_every_section_returns_report_outputs(report):
    for name in ("summary", *DATA_SECTIONS, "conclusions"):
        outputs = report.outputs(name)
        assert outputs, name
        assert all(isinstance(o, (Text, Table, Figure, Chart)) for o in outputs), name
        for table in (o for o in outputs if isinstance(o, Table)):
            assert len(table.frame) <= 20, f"{name}: tables stay short"
    for name in DATA_SECTIONS:
        assert any(isinstance(o, (Figure, Chart)) for o in report.outputs(name)), name


# -- numbers ----------------------------------------------------------------------------

def _summary_numbers(customers, orders, region=None):
    """The summary's numbers computed with pandas straight from the CSVs."""
    if region is not None:
        customers = customers[customers["region"] == region]
        orders = orders[orders["region"] == region]
    new = customers["signup_date"].between(START, END)
    returning = (customers["signup_date"] < START) & ~(customers["churn_date"] < START)
    completed = orders[(orders["kind"] == "completed") & orders["customer_id"].notna()]
    in_period = completed["order_date"].between(START, END + pd.Timedelta(days=1),
                                                inclusive="left")
    per_buyer = completed[in_period].groupby("customer_id").size()
    # Month-3 retention of the last 12 acquisition cohorts, pooled over cohorts observed.
    history = completed[completed["order_date"] < END + pd.Timedelta(days=1)]
    month = history["order_date"].dt.to_period("M")
    first = month.groupby(history["customer_id"]).transform("min")
    cohorts = pd.period_range(END.to_period("M") - 11, END.to_period("M"), freq="M")
    eligible = first.isin([c for c in cohorts if c + 3 <= END.to_period("M")])
    size = history.loc[eligible, "customer_id"].nunique()
    active = history.loc[eligible & (month == first + 3), "customer_id"].nunique()
    # Customer value: customers signed up by the period end.
    base = customers[customers["signup_date"] <= END]
    net = orders[(orders["kind"] != "cancelled")
                 & (orders["order_date"] < END + pd.Timedelta(days=1))]
    clv = net.groupby("customer_id")["amount"].sum().reindex(base["customer_id"]).fillna(0)
    return {"new": int(new.sum()), "returning": int(returning.sum()),
            "repeat": (int((per_buyer >= 2).sum()), len(per_buyer)),
            "month3": (active, size), "cv": clv.mean() - base["acquisition_cost"].mean()}


def test_summary_numbers_match_pandas(report, sample):
    expected = _summary_numbers(*sample)
    text = _text(report.outputs("summary"))
    assert f"{expected['new']:,} new and {expected['returning']:,} returning" in text
    num, den = expected["repeat"]
    assert f"({num:,} of {den:,};" in text
    active, size = expected["month3"]
    assert size > 100 and f"({active:,} of {size:,};" in text
    assert f"CV = CLV − CAC was {_md(expected['cv'], 'currency')} per customer" in text


def test_region_filter_changes_the_numbers(report, sample_warehouse, sample):
    east = open_report("customer_behaviour", warehouse=str(sample_warehouse),
                       start="2025-01-01", end="2025-06-30", region="East")
    text = _text(east.outputs("summary"))
    expected = _summary_numbers(*sample, region="East")
    assert f"{expected['new']:,} new and {expected['returning']:,} returning" in text
    num, den = expected["repeat"]
    assert f"({num:,} of {den:,};" in text
    assert text != _text(report.outputs("summary"))


# -- other data -------------------------------------------------------------------------

def _small_frames(n_customers: int = 70) -> dict[str, pd.DataFrame]:
    """Customers and orders for 2024-2025; the costly channel's name is markup."""
    rng = np.random.default_rng(3)
    ids = [f"K{i:03d}" for i in range(n_customers)]
    costly = np.arange(n_customers) < 40
    customers = pd.DataFrame({
        "customer_id": ids,
        "signup_date": pd.Timestamp("2024-01-01")
        + pd.to_timedelta(rng.integers(0, 500, n_customers), unit="D"),
        "segment": np.where(np.arange(n_customers) % 2, "*VIP*", "Standard"),
        "region": np.where(np.arange(n_customers) % 3, "North", "South"),
        "acquisition_channel": np.where(costly, "<b>Paid_Search</b>", "Organic"),
        "acquisition_cost": np.where(costly, 5000.0, 10.0),
    })
    rows = []
    for cid, signup in zip(customers["customer_id"], customers["signup_date"]):
        for k in range(int(rng.integers(1, 7))):
            rows.append({"order_id": f"{cid}-{k}", "customer_id": cid,
                         "order_date": signup + pd.Timedelta(days=int(rng.integers(0, 180))),
                         "amount": float(rng.integers(100, 500)),
                         "status": "returned" if k == 5 else "completed",
                         "region": "North"})
    orders = pd.DataFrame(rows)
    orders.loc[orders["status"] == "returned", "amount"] *= -1
    return {"customers": customers, "orders": orders}


def _small_report(frames: dict[str, pd.DataFrame], **params) -> Report:
    return Report("customer_behaviour", behaviour.TITLE, Warehouse.from_frames(frames),
                  Filters(start="2025-01-01", end="2025-06-30"), {}, behaviour.SECTIONS,
                  **params)


def test_orders_only_warehouse_says_not_available():
    report = _small_report({"orders": _small_frames()["orders"]})
    for name in ("summary", *DATA_SECTIONS, "conclusions"):
        outputs = report.outputs(name)
        assert all(isinstance(o, (Text, Table, Figure, Chart)) for o in outputs), name
    value = _text(report.outputs("customer_value"))
    assert "Customer value by segment is not available" in value
    assert "needs customers" in value
    mix = next(o for o in report.outputs("customer_mix") if isinstance(o, Table))
    assert list(mix.frame["group"]) == ["new", "returning"]  # no leads: no potential row


def test_data_text_is_escaped():
    report = _small_report(_small_frames(), by="segment")
    name = "<b>Paid_Search</b>"
    advice = _text(report.outputs("conclusions"))
    assert escape_markdown(name) in advice and name not in advice
    for section in ("customer_mix", "rfm", "customer_value"):
        for output in report.outputs(section):
            html = output.to_html() if isinstance(output, Table) else \
                output.markdown if isinstance(output, Text) else ""
            assert "<b>" not in html, section


def test_breakdown_tables_follow_by():
    report = _small_report(_small_frames(), by="segment")
    mix = [o for o in report.outputs("customer_mix") if isinstance(o, Table)]
    assert set(mix[-1].frame["segment"]) == {"*VIP*", "Standard"}
    rfm = [o for o in report.outputs("rfm") if isinstance(o, Table)]
    assert {"*VIP*", "Standard"} <= set(rfm[-1].frame.columns)
