"""Customer KPIs: mix (new / returning / potential), loyalty, repeat buying, churn and
retention, historical CLV, CAC and customer value CV = CLV − CAC.

The customer base and its dates (``kpi_signup``, ``kpi_churn``) are defined in
:mod:`crmkit.metrics.derived`. Breakdowns (``by=``) of customer KPIs use customers columns
(segment, region, acquisition_channel, attributes ...).
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from crmkit.exceptions import ParameterError
from crmkit.i18n import N_
from crmkit.metrics.derived import (
    active_customer_ids,
    classified_orders,
    customer_base,
    execute,
    grouped,
    in_base,
    in_period,
    period_bounds,
    period_months,
    purchaser_ids,
    ts,
)
from crmkit.metrics.filters import Filters, apply_filters, cut_period, with_breakdown
from crmkit.metrics.registry import metric
from crmkit.metrics.results import (
    MIN_DENOMINATOR,
    Measure,
    MetricUnavailable,
    Rate,
    mean_frame,
    measure_from_row,
    rate_frame,
    wilson_interval,
)

PURCHASE_UNIT = N_("purchases per customer per month")  # a unit, shown as tr(unit)


def _rate_result(frame: pd.DataFrame, by: list[str]):
    """A rate frame, or its single row as a Rate when there is no breakdown."""
    if by:
        return frame
    row = frame.iloc[0]
    return Rate.from_counts(row["numerator"], row["denominator"])


# -- mix ---------------------------------------------------------------------------------
@metric(name="customer_mix", title=N_("Customer mix: new, returning, potential"),
        unit=N_("count"), grain=N_("period × group"), returns="frame",
        formula=N_("new = customers who signed up in the period (signup_date, else first "
                   "order); returning = customers who signed up before it and had not churned "
                   "by its start; potential = leads open during the period (not won or closed "
                   "before it, not already customers); activity rate = share of the group with "
                   "an order, ticket or survey in the period (potential: lead created or closed "
                   "in it); purchase rate = share with a completed order in the period "
                   "(potential: won in it)"))
def customer_mix(wh, filters) -> pd.DataFrame:
    """group (new / returning / potential), customers, active, activity_rate,
    activity_ci_low, activity_ci_high, purchasers, purchase_rate, purchase_ci_low,
    purchase_ci_high, too_few. The potential row needs a leads table."""
    base = customer_base(wh, filters)
    base = base.filter(in_base(base, filters))
    cid = base.customer_id.cast("string")
    b = base.mutate(
        group=ibis.ifelse(in_period(base.kpi_signup, filters), "new", "returning"),
        is_active=cid.isin(active_customer_ids(wh, filters).customer_id),
        is_buyer=cid.isin(purchaser_ids(wh, filters).customer_id),
    )
    counts = grouped(b, ["group"], customers=b.count(), active=b.count(where=b.is_active),
                     purchasers=b.count(where=b.is_buyer))
    counts = counts.set_index("group").reindex(["new", "returning"]).fillna(0)
    if wh.has("leads"):
        counts.loc["potential"] = _potential(wh, filters, base)
    counts = counts.astype("int64").rename_axis("group").reset_index()
    return _mix_rates(counts)


def _potential(wh, filters: Filters, base: ibis.Table) -> list[int]:
    """[leads, active, won] for the leads open during the period."""
    leads = apply_filters(wh, "leads", filters, period=False)
    known = ibis.literal(False)  # the lead is a customer who signed up before the period
    if filters.start is not None and "customer_id" in leads.columns:
        # A left join with the earlier customers' ids, not NOT IN (subquery): Spark runs a
        # NOT IN inside an aggregate as a nested-loop join (leads x customers).
        earlier = base.filter(base.kpi_signup < ts(filters.start), base.customer_id.notnull())
        earlier = earlier.select(known_customer=earlier.customer_id.cast("string")).distinct()
        leads = leads.left_join(earlier,
                                leads.customer_id.cast("string") == earlier.known_customer)
        known = leads.known_customer.notnull()
    won = (leads.converted.fill_null(False) if "converted" in leads.columns
           else ibis.literal(False))
    closed = (leads.closed_date.cast("timestamp") if "closed_date" in leads.columns
              else ibis.null().cast("timestamp"))
    open_ = ~(won & closed.isnull())  # won at an unknown date: already a customer
    if filters.end is not None:
        open_ &= leads.created_date < ts(filters.end_exclusive)
    if filters.start is not None:
        open_ &= (closed.isnull() | (closed >= ts(filters.start))) & ~known
    active = in_period(leads.created_date, filters) | in_period(closed, filters)
    won_in_period = won & in_period(closed, filters)
    row = execute(leads.agg(customers=leads.count(where=open_),
                            active=leads.count(where=open_ & active),
                            purchasers=leads.count(where=open_ & won_in_period)))
    return [int(row[c].iloc[0]) for c in ("customers", "active", "purchasers")]


def _mix_rates(counts: pd.DataFrame) -> pd.DataFrame:
    out = counts.copy()
    den = out["customers"]
    for num, name in (("active", "activity"), ("purchasers", "purchase")):
        low, high = wilson_interval(out[num], den)
        out[f"{name}_rate"] = out[num] / den.where(den > 0)
        out[f"{name}_ci_low"] = low
        out[f"{name}_ci_high"] = high
    out["too_few"] = den < MIN_DENOMINATOR
    return out[["group", "customers", "active", "activity_rate", "activity_ci_low",
                "activity_ci_high", "purchasers", "purchase_rate", "purchase_ci_low",
                "purchase_ci_high", "too_few"]]


@metric(name="new_customers", title=N_("New customers"), unit=N_("count"), grain=N_("period"),
        formula=N_("count of customers whose signup_date (else first completed order) falls "
                   "in the period"))
def new_customers(wh, filters, *, by=None):
    """Customers acquired in the period: Measure (count) or a frame by customers columns."""
    base = customer_base(wh, filters)
    b, by = with_breakdown(wh, "customers", base.filter(in_period(base.kpi_signup, filters)), by)
    frame = grouped(b, by, value=b.count())
    frame["n"] = frame["value"]
    frame["value"] = frame["value"].astype(float)
    frame["ci_low"] = frame["ci_high"] = np.nan
    frame["too_few"] = False
    return frame if by else measure_from_row(frame.iloc[0], "count")


# -- loyalty and repeat buying -----------------------------------------------------------
def _completed_in_period(wh, filters: Filters, by):
    t = classified_orders(wh, filters)
    t = t.filter((t.order_kind == "completed") & t.customer_id.notnull())
    return with_breakdown(wh, "orders", t, by)


@metric(name="loyalty", title=N_("Loyalty CL (purchases per customer per month)"),
        unit=PURCHASE_UNIT, grain=N_("period"),
        formula=N_("CL = P / T: completed orders of each purchasing customer in the period / "
                   "period length in months (days / 30.44), averaged over purchasing "
                   "customers; an open period runs from the first to the last order"))
def loyalty(wh, filters, *, by=None):
    """Average purchase frequency of the period's buyers: Measure or a frame by ``by``."""
    t, by = _completed_in_period(wh, filters, by)
    months = period_months(wh, "orders", "order_date", filters)
    per = t.group_by([*by, "customer_id"]).agg(purchases=t.count())
    frame = grouped(per, by, mean=per.purchases.mean(), std=per.purchases.std(), n=per.count())
    frame = mean_frame(frame, scale=months)
    return frame if by else measure_from_row(frame.iloc[0], PURCHASE_UNIT)


@metric(name="repeat_purchase_rate", returns="rate",
        title=N_("Repeat-purchase rate"), unit=N_("percent"),
        grain=N_("period"),
        formula=N_("repeat purchases / all purchases: completed orders in the period that are "
                   "not the customer's first completed order (over all history, within the "
                   "other filters) / completed orders in the period (orders without a "
                   "customer left out)"))
def repeat_purchase_rate(wh, filters, *, by=None):
    """Share of the period's purchases made by customers who had bought before: Rate or frame."""
    t = classified_orders(wh, filters, period=False)
    t = t.filter((t.order_kind == "completed") & t.customer_id.notnull())
    # Number each customer's orders over all history first, then keep the period.
    order = ibis.window(group_by="customer_id", order_by=["order_date", "order_id"])
    t = cut_period(t.mutate(seq=ibis.row_number().over(order)), "order_date", filters)
    t, by = with_breakdown(wh, "orders", t, by)
    frame = grouped(t, by, numerator=t.count(where=t.seq >= 1), denominator=t.count())
    return _rate_result(rate_frame(frame, "numerator", "denominator"), by)


@metric(name="repeat_customer_rate", returns="rate",
        title=N_("Repeat-customer rate"), unit=N_("percent"),
        grain=N_("period"),
        formula=N_("customers with 2+ completed orders in the period / customers with 1+"))
def repeat_customer_rate(wh, filters, *, by=None):
    """Share of the period's buyers who bought at least twice in it: Rate or frame."""
    t, by = _completed_in_period(wh, filters, by)
    per = t.group_by([*by, "customer_id"]).agg(purchases=t.count())
    frame = grouped(per, by, numerator=per.count(where=per.purchases >= 2),
                    denominator=per.count())
    return _rate_result(rate_frame(frame, "numerator", "denominator"), by)


# -- churn -------------------------------------------------------------------------------
def _require_churn_dates(wh) -> None:
    customers = wh.table("customers")
    if not execute(customers.churn_date.notnull().any()):
        # Customers derived from orders (retail) have the column but no churn events: a
        # 0% contractual churn rate would be a false statement, not a measurement.
        raise MetricUnavailable(N_("needs churn dates: customers.churn_date is empty"))


def _churn_counts(wh, filters: Filters, by):
    _require_churn_dates(wh)
    base = customer_base(wh, filters)
    if filters.start is not None:
        at_start = ((base.kpi_signup.isnull() | (base.kpi_signup < ts(filters.start)))
                    & (base.kpi_churn.isnull() | (base.kpi_churn >= ts(filters.start))))
    else:
        at_start = in_base(base, filters)
    b, by = with_breakdown(wh, "customers", base.filter(at_start), by)
    frame = grouped(b, by, churned=b.count(where=in_period(b.kpi_churn, filters)),
                    denominator=b.count())
    return frame, by


@metric(name="churn_rate", returns="rate",
        title=N_("Churn rate (contractual)"), unit=N_("percent"), grain=N_("period"),
        needs=("customers.churn_date",),
        formula=N_("customers whose churn_date falls in the period / customers active at its "
                   "start (signed up before the start, or signup unknown, and not churned "
                   "before it); customers who sign up during the period are not in the "
                   "denominator"))
def churn_rate(wh, filters, *, by=None):
    """Contractual churn over the period: Rate or a frame by customers columns."""
    frame, by = _churn_counts(wh, filters, by)
    frame = frame.rename(columns={"churned": "numerator"})
    return _rate_result(rate_frame(frame, "numerator", "denominator"), by)


@metric(name="retention_rate", returns="rate",
        title=N_("Retention rate (contractual)"), unit=N_("percent"),
        grain=N_("period"), needs=("customers.churn_date",),
        formula=N_("1 − churn rate: customers active at the start of the period who did not "
                   "churn in it / customers active at its start"))
def retention_rate(wh, filters, *, by=None):
    """Customers kept over the period: Rate or a frame by customers columns."""
    frame, by = _churn_counts(wh, filters, by)
    frame["numerator"] = frame["denominator"] - frame["churned"]
    frame = frame.drop(columns="churned")
    return _rate_result(rate_frame(frame, "numerator", "denominator"), by)


@metric(name="churn_over_time", returns="frame",
        title=N_("Churn and retention per month or quarter (contractual)"), unit=N_("percent"),
        grain=N_("month / quarter"), needs=("customers.churn_date",),
        formula=N_("per month (or quarter) of the period, cut to the period's first and last "
                   "day: customers whose churn_date falls in it / customers active at its start, "
                   "as churn_rate; retention = 1 − churn"))
def churn_over_time(wh, filters, *, freq: str = "month") -> pd.DataFrame:
    """period, active_at_start, churned, churn_rate, retention_rate: one row per month or
    quarter (``freq``) of the period, each equal to ``churn_rate`` on that month's
    filters, computed in one query (customers × periods) instead of one per month."""
    if freq not in ("month", "quarter"):
        raise ParameterError(f"churn_over_time: freq must be month or quarter, not {freq!r}")
    _require_churn_dates(wh)
    first, last = period_bounds(wh, "orders", "order_date", filters)
    periods = pd.period_range(first, last, freq="M" if freq == "month" else "Q")
    grid = pd.DataFrame({
        "period": [p.start_time.normalize() for p in periods],
        "p_start": [max(p.start_time.normalize(), first) for p in periods],
        "p_end": [min(p.end_time.normalize(), last) + pd.Timedelta(days=1) for p in periods],
    }).astype("datetime64[us]")
    base = customer_base(wh, filters)
    j = base.select("kpi_signup", "kpi_churn").cross_join(ibis.memtable(grid))
    at_start = ((j.kpi_signup.isnull() | (j.kpi_signup < j.p_start))
                & (j.kpi_churn.isnull() | (j.kpi_churn >= j.p_start)))
    churned = at_start & (j.kpi_churn < j.p_end)
    counts = grouped(j, ["period"], active_at_start=j.count(where=at_start),
                     churned=j.count(where=churned))
    counts["period"] = counts["period"].astype("datetime64[us]")
    frame = grid[["period"]].merge(counts, on="period", how="left").fillna(
        {"active_at_start": 0, "churned": 0})
    active = frame["active_at_start"].astype("int64")
    frame["active_at_start"], frame["churned"] = active, frame["churned"].astype("int64")
    frame["churn_rate"] = frame["churned"] / active.where(active > 0)
    frame["retention_rate"] = 1 - frame["churn_rate"]
    return frame


# -- value -------------------------------------------------------------------------------
def _lifetime_table(wh, filters: Filters) -> ibis.Table:
    """Customer base signed up by the period end + orders, clv, first_order, last_order."""
    base = customer_base(wh, filters)
    if filters.end is not None:
        base = base.filter(base.kpi_signup.isnull()
                           | (base.kpi_signup < ts(filters.end_exclusive)))
    o = classified_orders(wh, filters, period=False)
    o = o.filter((o.order_kind != "cancelled") & o.customer_id.notnull())
    if filters.end is not None:
        o = o.filter(o.order_date < ts(filters.end_exclusive))
    per = o.group_by("customer_id").agg(
        orders=o.count(where=o.order_kind == "completed"), revenue=o.amount.sum(),
        first_order=o.order_date.min(), last_order=o.order_date.max())
    joined = base.left_join(per, "customer_id").select(
        *base.columns, "orders", "revenue", "first_order", "last_order")
    return joined.mutate(orders=joined.orders.fill_null(0), clv=joined.revenue.fill_null(0.0))


@metric(name="clv_by_customer", title=N_("Historical CLV per customer"), unit=N_("currency"),
        grain=N_("customer"), returns="frame",
        formula=N_("CLV = net revenue of the customer's orders up to the end of the period "
                   "(completed + returned, cancelled excluded); customers without orders 0"))
def clv_by_customer(wh, filters) -> pd.DataFrame:
    """customer_id, orders, clv, first_order, last_order; highest CLV first.

    The period start is not used: CLV is "to date" as of the period end.
    """
    t = _lifetime_table(wh, filters)
    frame = execute(t.select("customer_id", "orders", "clv", "first_order", "last_order"))
    frame["orders"] = frame["orders"].astype("int64")
    return frame.sort_values(["clv", "customer_id"], ascending=[False, True],
                             kind="stable").reset_index(drop=True)


@metric(name="average_clv", title=N_("Average historical CLV"), unit=N_("currency"),
        grain=N_("period"),
        formula=N_("mean over customers signed up by the period end of their net revenue to "
                   "that date (0 for customers without orders); 95% CI mean ± 1.96·sd/√n"))
def average_clv(wh, filters, *, by=None):
    """Mean historical CLV: Measure or a frame by customers columns."""
    t, by = with_breakdown(wh, "customers", _lifetime_table(wh, filters), by)
    frame = mean_frame(grouped(t, by, mean=t.clv.mean(), std=t.clv.std(), n=t.count()))
    return frame if by else measure_from_row(frame.iloc[0], "currency")


@metric(name="cac", title=N_("Customer acquisition cost (CAC)"), unit=N_("currency"),
        grain=N_("period"),
        formula=N_("mean customers.acquisition_cost of customers who signed up in the period; "
                   "without that column: cost of campaigns started in the period / new "
                   "customers in the period"))
def cac(wh, filters, *, by=None):
    """CAC: Measure (n = customers it rests on) or a frame by customers columns."""
    base = customer_base(wh, filters)
    new = base.filter(in_period(base.kpi_signup, filters))
    if "acquisition_cost" in base.columns:
        new = new.filter(new.acquisition_cost.notnull())
        t, by = with_breakdown(wh, "customers", new, by)
        frame = mean_frame(grouped(t, by, mean=t.acquisition_cost.mean(),
                                   std=t.acquisition_cost.std(), n=t.count()))
        return frame if by else measure_from_row(frame.iloc[0], "currency")
    if not wh.has("campaigns"):
        raise MetricUnavailable(N_("needs customers.acquisition_cost or campaigns"))
    if by:
        raise MetricUnavailable(N_("CAC by group needs customers.acquisition_cost"))
    camp = apply_filters(wh, "campaigns", filters)
    cost = execute(camp.agg(cost=camp.cost.sum()))["cost"].fillna(0.0).iloc[0]
    n = int(execute(new.count()))
    return Measure(float(cost) / n if n else float("nan"), "currency", n)


@metric(name="customer_value", title=N_("Customer value CV = CLV − CAC"), unit=N_("currency"),
        grain=N_("period"), returns="frame", needs=("orders", "customers.acquisition_cost"),
        formula=N_("CV = mean historical CLV − mean acquisition_cost over customers signed up "
                   "by the period end (CAC mean over those with a cost)"))
def customer_value(wh, filters, *, by=None) -> pd.DataFrame:
    """[*by], customers, clv, cac, cv (one row without ``by``)."""
    t, by = with_breakdown(wh, "customers", _lifetime_table(wh, filters), by)
    frame = grouped(t, by, customers=t.count(), clv=t.clv.mean(),
                    cac=t.acquisition_cost.mean())
    frame["customers"] = frame["customers"].astype("int64")
    frame["cv"] = frame["clv"] - frame["cac"]
    return frame[[*by, "customers", "clv", "cac", "cv"]]
