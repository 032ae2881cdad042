"""Every headline KPI in one frame: what a scorecard prints and the benchmark times."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crmkit.metrics.filters import Filters
from crmkit.metrics.registry import get_metric
from crmkit.metrics.results import Measure, NotAvailable, Nps, Rate

# The scorecard's KPIs, in the order printed. Each is a registered KPI with a scalar
# result; rows from frame-valued KPIs (growth, customer value) are added after them.
HEADLINE_KPIS = (
    "revenue", "orders", "average_order_value", "new_customers", "loyalty",
    "repeat_purchase_rate", "repeat_customer_rate", "churn_rate", "retention_rate",
    "average_clv", "cac", "conversion_rate", "follow_up_rate", "complaint_rate", "csat",
    "satisfaction_score", "nps", "campaign_cost", "campaign_roi", "cost_per_acquisition",
)

COLUMNS = ["name", "title", "unit", "value", "text", "n", "numerator", "denominator",
           "ci_low", "ci_high", "too_few", "available", "note"]

# Rates and scores on a fixed scale change in points; amounts and counts change relatively.
POINT_UNITS = ("percent", "nps")


def _row(name: str, title: str, unit: str, result) -> dict:
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update(name=name, title=title, unit=unit, text=str(result), too_few=False,
               available=not isinstance(result, NotAvailable), note="")
    if isinstance(result, NotAvailable):
        row["note"] = result.reason
        return row
    row.update(value=result.value, ci_low=getattr(result, "ci_low", None),
               ci_high=getattr(result, "ci_high", None), too_few=bool(result.too_few),
               note=result.note)
    if isinstance(result, Rate):
        row.update(n=result.denominator, numerator=result.numerator,
                   denominator=result.denominator)
    elif isinstance(result, (Measure, Nps)):
        row["n"] = result.n
    return row


def _growth_rows(wh, filters: Filters) -> list[dict]:
    growth = get_metric("sales_growth")(wh, filters)
    out = []
    for column, name, title in (
            ("change_vs_previous", "revenue_growth_vs_previous",
             "Revenue growth vs previous period"),
            ("change_vs_last_year", "revenue_growth_vs_last_year",
             "Revenue growth vs same period last year")):
        if isinstance(growth, NotAvailable):
            out.append(_row(name, title, "percent", growth))
            continue
        value = float(growth.loc[growth["kpi"] == "revenue", column].iloc[0])
        row = _row(name, title, "percent", Measure(value, "percent"))
        row["text"] = "n/a" if math.isnan(value) else f"{value:+.1%}"  # growth shows its sign
        out.append(row)
    return out


def _customer_value_row(wh, filters: Filters) -> dict:
    title = "Customer value CV = CLV − CAC"
    frame = get_metric("customer_value")(wh, filters)
    if isinstance(frame, NotAvailable):
        return _row("customer_value", title, "currency", frame)
    return _row("customer_value", title, "currency",
                Measure(float(frame["cv"].iloc[0]), "currency",
                        int(frame["customers"].iloc[0]),
                        note=frame.attrs.get("note", "")))


def kpi_set(wh, filters: Filters | None = None, *, compare: bool = False) -> pd.DataFrame:
    """Every headline KPI for ``filters``: one row each, NotAvailable ones included.

    Columns: name, title, unit, value, text (as printed), n, numerator, denominator,
    ci_low, ci_high, too_few, available, note. With ``compare=True`` (needs a period
    with start and end) also previous_value and change (relative for amounts and counts,
    in points for percentages and NPS; see change_kind).
    """
    filters = filters if filters is not None else Filters()
    rows = []
    for name in HEADLINE_KPIS:
        kpi = get_metric(name)
        rows.append(_row(name, kpi.title, kpi.unit, kpi(wh, filters)))
    rows += _growth_rows(wh, filters)
    rows.append(_customer_value_row(wh, filters))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["too_few"] = frame["too_few"].astype(bool)
    frame["available"] = frame["available"].astype(bool)
    if not compare:
        return frame
    before = kpi_set(wh, filters.previous_period())[["name", "value"]]
    frame = frame.merge(before.rename(columns={"value": "previous_value"}), on="name",
                        how="left")
    points = frame["unit"].isin(POINT_UNITS)
    frame["change_kind"] = np.where(points, "points", "relative")
    previous = frame["previous_value"]
    relative = (frame["value"] - previous) / previous.abs().where(previous.abs() > 0)
    frame["change"] = np.where(points, frame["value"] - previous, relative)
    growth = frame["name"].str.startswith("revenue_growth")
    frame.loc[growth, ["previous_value", "change", "change_kind"]] = [math.nan, math.nan, ""]
    return frame
