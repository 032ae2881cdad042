"""Lead and campaign KPIs: conversion rate, campaign cost, leads, conversions, attributed
revenue, ROI and cost per acquisition.

Attribution: a campaign is in the selection when its start_date falls in the period.
Its leads (leads.campaign_id) and attributed orders (orders.campaign_id, net of returns,
cancelled excluded) count whenever they happened up to the end of the period, so a
campaign that started late in the period is not cut short at its start, and a report
stays reproducible as of its end date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.exceptions import ParameterError
from crmkit.metrics.derived import classified_orders, execute, grouped, ts
from crmkit.metrics.filters import Filters, apply_filters, breakdown_list, with_breakdown
from crmkit.metrics.registry import metric
from crmkit.metrics.results import Measure, MetricUnavailable, Rate, rate_frame

CONVERSION_BASES = ("all", "closed")


@metric(name="conversion_rate", title="Lead conversion rate", unit="percent", grain="period",
        needs=("leads.converted",), returns="rate",
        formula="converted leads / leads created in the period (basis 'all', the default); "
                "basis 'closed': converted / leads already converted or closed "
                "(converted, or closed_date set)")
def conversion_rate(wh, filters, *, basis: str = "all", by=None):
    """Share of the period's leads that converted: Rate or a frame by leads/customers columns.

    ``basis="closed"`` counts only decided leads: converted, or with a closed_date (without
    a closed_date column: with ``converted`` set, true or false).
    """
    if basis not in CONVERSION_BASES:
        raise ParameterError(f"conversion basis must be one of {CONVERSION_BASES}, "
                             f"got {basis!r}")
    t = apply_filters(wh, "leads", filters)
    if basis == "closed":
        if "closed_date" in t.columns:
            t = t.filter(t.converted.fill_null(False) | t.closed_date.notnull())
        else:
            t = t.filter(t.converted.notnull())
    t, by = with_breakdown(wh, "leads", t, by)
    frame = rate_frame(
        grouped(t, by, numerator=t.count(where=t.converted.fill_null(False)), denominator=t.count()),
        "numerator", "denominator")
    if by:
        return frame
    row = frame.iloc[0]
    return Rate.from_counts(row["numerator"], row["denominator"])


def _attributed(wh, filters: Filters, table: str, campaigns):
    """Rows of ``table`` attributed to the selected campaigns, up to the period end."""
    t = (classified_orders(wh, filters, period=False) if table == "orders"
         else apply_filters(wh, table, filters, period=False))
    t = t.filter(t.campaign_id.cast("string").isin(campaigns.campaign_id.cast("string")))
    date = "order_date" if table == "orders" else "created_date"
    if filters.end is not None:
        t = t.filter(t[date] < ts(filters.end_exclusive))
    return t


@metric(name="campaign_performance", title="Campaign cost, leads, conversions, revenue, ROI",
        unit="currency", grain="campaign", returns="frame", needs=("campaigns",),
        formula="campaigns started in the period; leads and conversions (won leads) with "
                "their campaign_id; attributed revenue = net revenue of orders with their "
                "campaign_id (both up to the period end); ROI = (attributed revenue − cost) "
                "/ cost; cost per acquisition = cost / conversions")
def campaign_performance(wh, filters, *, by=None) -> pd.DataFrame:
    """[*by], campaigns, cost, leads, conversions, orders, revenue, roi, cost_per_acquisition.

    ``by`` is any campaigns column (``"campaign_id"`` for one row per campaign, add
    ``"name"`` to show names); ``None`` gives the total. ``leads``, ``conversions`` and
    ``cost_per_acquisition`` are missing (<NA>/NaN) without a leads table with campaign_id.
    """
    by = breakdown_list(by)
    camp = apply_filters(wh, "campaigns", filters)
    unknown = [c for c in by if c not in camp.columns]
    if unknown:
        raise MetricUnavailable(
            f"cannot break campaigns down by {', '.join(map(repr, unknown))}: no such column "
            f"in campaigns (columns: {', '.join(camp.columns)})")
    keys = list(dict.fromkeys(["campaign_id", *by]))
    per = execute(camp.select(*keys, "cost").mutate(campaign_id=camp.campaign_id.cast("string")))
    per["cost"] = per["cost"].astype(float).fillna(0.0)

    if wh.has("orders") and "campaign_id" in wh.table("orders").columns:
        o = _attributed(wh, filters, "orders", camp)
        o = o.filter(o.order_kind != "cancelled")
        sold = execute(o.group_by(campaign_id=o.campaign_id.cast("string")).agg(
            orders=o.count(where=o.order_kind == "completed"), revenue=o.amount.sum()))
    else:
        sold = pd.DataFrame({"campaign_id": pd.Series(dtype=str), "orders": 0, "revenue": 0.0})
    per = per.merge(sold, on="campaign_id", how="left")
    per["orders"] = per["orders"].fillna(0).astype("int64")
    per["revenue"] = per["revenue"].astype(float).fillna(0.0)

    has_leads = wh.has("leads") and {"campaign_id", "converted"} <= set(wh.table("leads").columns)
    if has_leads:
        lt = _attributed(wh, filters, "leads", camp)
        won = execute(lt.group_by(campaign_id=lt.campaign_id.cast("string")).agg(
            leads=lt.count(), conversions=lt.count(where=lt.converted.fill_null(False))))
        per = per.merge(won, on="campaign_id", how="left")
    else:
        per["leads"] = per["conversions"] = np.nan
    per["campaigns"] = 1

    sums = ["campaigns", "cost", "leads", "conversions", "orders", "revenue"]
    if by:
        out = per.groupby(by, dropna=False, sort=True)[sums].sum(min_count=1).reset_index()
    else:
        out = per[sums].sum(min_count=1).to_frame().T
    out = out.astype({c: float for c in sums})
    for col in ("campaigns", "orders", "cost", "revenue"):
        out[col] = out[col].fillna(0)
    for col in ("leads", "conversions"):
        if has_leads:
            out[col] = out[col].fillna(0)
    out["roi"] = (out["revenue"] - out["cost"]) / out["cost"].where(out["cost"] > 0)
    out["cost_per_acquisition"] = out["cost"] / out["conversions"].where(out["conversions"] > 0)
    out = out.astype({"campaigns": "int64", "orders": "int64", "leads": "Int64",
                      "conversions": "Int64"})
    return out[[*by, "campaigns", "cost", "leads", "conversions", "orders", "revenue", "roi",
                "cost_per_acquisition"]].reset_index(drop=True)


@metric(name="campaign_cost", title="Campaign cost", unit="currency", grain="period",
        needs=("campaigns",), formula="sum(cost) of campaigns started in the period")
def campaign_cost(wh, filters):
    """Total cost of the period's campaigns: Measure (n = campaigns)."""
    camp = apply_filters(wh, "campaigns", filters)
    row = execute(camp.agg(cost=camp.cost.sum(), n=camp.count()))
    return Measure(float(np.nan_to_num(row["cost"].iloc[0])), "currency", int(row["n"].iloc[0]))


@metric(name="campaign_roi", title="Campaign ROI", unit="percent", grain="period",
        needs=("campaigns", "orders.campaign_id"),
        formula="ROI = (revenue attributed to the period's campaigns − their cost) / cost")
def campaign_roi(wh, filters):
    """ROI of all the period's campaigns together: Measure (percent, n = campaigns)."""
    total = campaign_performance(wh, filters)
    # column by column: a row of mixed Int64/float columns turns NaN into <NA>
    return Measure(float(total["roi"].iloc[0]), "percent", int(total["campaigns"].iloc[0]))


@metric(name="cost_per_acquisition", title="Cost per acquisition", unit="currency",
        grain="period", needs=("campaigns", "leads.campaign_id", "leads.converted"),
        formula="cost of the period's campaigns / leads they converted (won)")
def cost_per_acquisition(wh, filters):
    """Campaign cost per won lead: Measure (currency, n = conversions)."""
    total = campaign_performance(wh, filters)
    return Measure(float(total["cost_per_acquisition"].iloc[0]), "currency",
                   int(total["conversions"].iloc[0]))
