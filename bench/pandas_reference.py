"""The headline KPI set written straightforwardly in pandas: the benchmark's baseline.

``kpi_values(tables, start=..., end=...)`` takes the seven canonical tables as pandas
frames (all in memory) and returns ``{kpi name: value}`` for the same names and
definitions as ``crmkit.metrics.kpi_set`` over a period (no other filters). It shares no
code with crmkit.metrics; tests/metrics/test_metrics_reference.py checks the two agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 365.25 / 12
DAY = pd.Timedelta(days=1)


def shifted_periods(start: pd.Timestamp, end: pd.Timestamp):
    """(previous period, same period last year); whole months shift by months."""
    after = end + DAY
    if start.day == 1 and after.day == 1:
        months = (after.year - start.year) * 12 + after.month - start.month
        previous = (start - pd.DateOffset(months=months), start - DAY)
        last_year = (start - pd.DateOffset(years=1), after - pd.DateOffset(years=1) - DAY)
    else:
        days = (end - start).days + 1
        previous = (start - pd.Timedelta(days=days), start - DAY)
        last_year = (start - pd.DateOffset(years=1), end - pd.DateOffset(years=1))
    return previous, last_year


def order_kind(orders: pd.DataFrame) -> pd.Series:
    kind = pd.Series("completed", index=orders.index)
    kind[(orders["status"] == "returned") | (orders["amount"] < 0)] = "returned"
    kind[orders["status"] == "cancelled"] = "cancelled"
    return kind


def kpi_values(tables: dict[str, pd.DataFrame], *, start, end) -> dict[str, float]:
    """Headline KPIs for the period start..end (both days inclusive)."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    after = end + DAY
    orders = tables["orders"].assign(kind=lambda o: order_kind(o))
    customers, leads = tables["customers"], tables["leads"]
    tickets, surveys = tables["tickets"], tables["surveys"]
    campaigns = tables["campaigns"]
    out: dict[str, float] = {}

    def in_period(dates, lo=start, hi=after):
        return (dates >= lo) & (dates < hi)

    def net_revenue(lo, hi):
        o = orders[in_period(orders["order_date"], lo, hi + DAY)]
        return o.loc[o["kind"] != "cancelled", "amount"].sum()

    # sales
    period_orders = orders[in_period(orders["order_date"])]
    completed = period_orders[period_orders["kind"] == "completed"]
    out["revenue"] = net_revenue(start, end)
    out["orders"] = float(len(completed))
    out["average_order_value"] = completed["amount"].mean()

    # customers: signup date, else first completed order
    done_all = orders[(orders["kind"] == "completed") & orders["customer_id"].notna()]
    first = done_all.groupby("customer_id")["order_date"].min()
    signup = customers["signup_date"].fillna(customers["customer_id"].map(first))
    churn = customers["churn_date"]
    out["new_customers"] = float(in_period(signup).sum())

    buyers = completed[completed["customer_id"].notna()]
    per_buyer = buyers.groupby("customer_id").size()
    months = ((end - start).days + 1) / DAYS_PER_MONTH
    out["loyalty"] = per_buyer.mean() / months

    ranked = done_all.sort_values(["order_date", "order_id"])
    nth = ranked.groupby("customer_id").cumcount()
    in_q = in_period(ranked["order_date"])
    out["repeat_purchase_rate"] = (nth[in_q] >= 1).sum() / in_q.sum()
    out["repeat_customer_rate"] = (per_buyer >= 2).sum() / len(per_buyer)

    at_start = (signup.isna() | (signup < start)) & (churn.isna() | (churn >= start))
    churned = at_start & in_period(churn)
    out["churn_rate"] = churned.sum() / at_start.sum()
    out["retention_rate"] = 1 - out["churn_rate"]

    signed_up = signup.isna() | (signup < after)
    upto = orders[(orders["order_date"] < after) & (orders["kind"] != "cancelled")]
    clv = customers.loc[signed_up, "customer_id"].map(
        upto.groupby("customer_id")["amount"].sum()).fillna(0.0)
    out["average_clv"] = clv.mean()
    out["cac"] = customers.loc[in_period(signup), "acquisition_cost"].mean()

    # leads, service, satisfaction
    period_leads = leads[in_period(leads["created_date"])]
    out["conversion_rate"] = period_leads["converted"].fillna(False).astype(bool).sum() / len(
        period_leads)
    base = customers.loc[signed_up & (churn.isna() | (churn >= start)), "customer_id"]
    period_tickets = tickets[in_period(tickets["opened_at"])]
    for name, kind in (("follow_up_rate", "follow_up"), ("complaint_rate", "complaint")):
        who = period_tickets.loc[period_tickets["type"] == kind, "customer_id"]
        out[name] = base.isin(who).sum() / len(base)
    period_surveys = surveys[in_period(surveys["date"])]
    out["csat"] = period_surveys["csat"].mean()
    out["satisfaction_score"] = out["csat"] / 5
    scores = period_surveys["nps"].dropna()
    out["nps"] = 100 * ((scores >= 9).mean() - (scores <= 6).mean())

    # campaigns
    chosen = campaigns[in_period(campaigns["start_date"])]
    cost = chosen["cost"].sum()
    attributed = upto.loc[upto["campaign_id"].isin(chosen["campaign_id"]), "amount"].sum()
    won = leads[leads["campaign_id"].isin(chosen["campaign_id"])
                & (leads["created_date"] < after)]["converted"].fillna(False).astype(bool).sum()
    out["campaign_cost"] = cost
    out["campaign_roi"] = (attributed - cost) / cost if cost else np.nan
    out["cost_per_acquisition"] = cost / won if won else np.nan

    # growth and customer value
    previous, last_year = shifted_periods(start, end)
    now = out["revenue"]
    for name, (lo, hi) in (("revenue_growth_vs_previous", previous),
                           ("revenue_growth_vs_last_year", last_year)):
        before = net_revenue(lo, hi)
        out[name] = (now - before) / abs(before) if before else np.nan
    out["customer_value"] = clv.mean() - customers.loc[signed_up, "acquisition_cost"].mean()
    return {k: float(v) for k, v in out.items()}
