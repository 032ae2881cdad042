"""Derived tables several KPIs share, as ibis expressions, and the one place they execute.

Order kinds (:func:`classified_orders`)
    cancelled   status = 'cancelled'                      excluded from every sales KPI
    returned    status = 'returned' or amount < 0         counted in net revenue (negative)
    completed   everything else (also a missing status)   counted as orders

The customer base (:func:`customer_base`)
    The customers table cut by the filters that reach it, or, without one, the customers
    who appear in the (filtered) orders. ``kpi_signup`` is customers.signup_date, falling
    back to the customer's first completed order; ``kpi_churn`` is customers.churn_date
    (NULL without that column). A customer is *in the base for a period* when
    signed up before the period ends (or signup unknown) and not churned before it starts.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from crmkit.exceptions import ParameterError
from crmkit.i18n import tr
from crmkit.labels import table_label
from crmkit.metrics.filters import Filters, apply_filters
from crmkit.metrics.results import MetricUnavailable
from crmkit.warehouse import execute as warehouse_execute

# Average month length in days, to express a period in months.
DAYS_PER_MONTH = 365.25 / 12

FREQUENCIES = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
# pandas spelling of the same period starts (weeks start on Monday, as in SQL date_trunc).
_PANDAS_STARTS = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}
_PANDAS_PERIODS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}


def execute(expr):
    """Run an ibis expression on its backend and return the (small) pandas result.

    The one place KPIs execute: through the warehouse, which keeps results per query
    (see :meth:`crmkit.warehouse.Warehouse.execute`; ibis' pandas-option warning is
    filtered where that module is imported). Timestamps come back in microseconds on every
    backend (:func:`crmkit.warehouse.in_microseconds`).
    """
    return warehouse_execute(expr)


def grouped(t: ibis.Table, by: list[str], **aggregates) -> pd.DataFrame:
    """Aggregate ``t`` by ``by`` (or in total when empty); rows sorted by ``by``."""
    expr = t.group_by(by).agg(**aggregates) if by else t.agg(**aggregates)
    frame = execute(expr)
    if by:
        frame = frame.sort_values(by, na_position="last", kind="stable")
    return frame.reset_index(drop=True)


def ts(stamp: pd.Timestamp):
    """A timestamp as an ibis literal (the same type on every backend)."""
    return ibis.literal(stamp.to_pydatetime(), type="timestamp")


def null_timestamp():
    return ibis.null().cast("timestamp")


# -- orders ------------------------------------------------------------------------------
def classified_orders(wh, filters: Filters, *, period: bool = True) -> ibis.Table:
    """Filtered orders with an ``order_kind`` column: completed / returned / cancelled."""
    return wh.expression(("classified_orders", filters, period),
                         lambda: _classified(wh, filters, period))


def _classified(wh, filters: Filters | None, period: bool) -> ibis.Table:
    t = apply_filters(wh, "orders", filters, period=period)
    status = t.status if "status" in t.columns else ibis.null().cast("string")
    kind = ibis.cases(
        (status == "cancelled", "cancelled"),
        ((status == "returned") | (t.amount < 0), "returned"),
        else_="completed",
    )
    return t.mutate(order_kind=kind)


def sales_aggregates(t: ibis.Table) -> dict:
    """Aggregates over classified orders: orders, gross_revenue, returns, revenue, sums for AOV."""
    completed = t.order_kind == "completed"
    return {
        "orders": t.count(where=completed),
        "gross_revenue": t.amount.sum(where=completed),
        "returns": t.amount.sum(where=t.order_kind == "returned"),
        "revenue": t.amount.sum(where=t.order_kind != "cancelled"),
        "counted_rows": t.count(where=t.order_kind != "cancelled"),
        "aov_std": t.amount.std(where=completed),
    }


def finish_sales(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill empty sums with 0 and add ``aov`` = gross_revenue / orders."""
    columns = {c: frame[c].array for c in frame.columns}
    for col in ("gross_revenue", "returns", "revenue"):
        columns[col] = np.nan_to_num(frame[col].to_numpy(dtype=float), nan=0.0)
    for col in ("orders", "counted_rows"):
        columns[col] = frame[col].fillna(0).to_numpy(dtype="int64")
    orders = columns["orders"]
    with np.errstate(divide="ignore", invalid="ignore"):
        columns["aov"] = np.where(orders > 0, columns["gross_revenue"] / orders, np.nan)
    # one constructor, not an assignment per column (see results.frame_with)
    return pd.DataFrame(columns, index=frame.index)


def first_purchases(wh) -> ibis.Table:
    """customer_id, first_order: each customer's first completed order over all history.

    No filter changes it, and every customer-base query needs it (a grouping of all
    orders: ~40 ms of DuckDB on a million), so the warehouse keeps it as a temporary table
    (:meth:`crmkit.warehouse.Warehouse.kept_table`)."""
    return wh.kept_table("first_purchases", lambda: _first_purchases(wh))


def _first_purchases(wh) -> ibis.Table:
    t = classified_orders(wh, None)
    t = t.filter((t.order_kind == "completed") & t.customer_id.notnull())
    return t.group_by("customer_id").agg(first_order=t.order_date.min())


# -- customers ---------------------------------------------------------------------------
def customer_base(wh, filters: Filters) -> ibis.Table:
    """Every customer the filters select, with ``kpi_signup`` and ``kpi_churn`` columns.

    From the customers table when there is one (all its columns kept, for breakdowns),
    else the distinct customers of the filtered orders (all periods).
    """
    if wh.has("customers") and not wh.has("orders"):  # no purchases to date a signup by
        c = apply_filters(wh, "customers", filters, period=False)
        signup = (c.signup_date.cast("timestamp") if "signup_date" in c.columns
                  else null_timestamp())
        churn = (c.churn_date.cast("timestamp") if "churn_date" in c.columns
                 else null_timestamp())
        return c.mutate(kpi_signup=signup, kpi_churn=churn)
    first = first_purchases(wh)
    if wh.has("customers"):
        c = apply_filters(wh, "customers", filters, period=False)
        joined = c.left_join(first, "customer_id").select(*c.columns, "first_order")
        signup = (joined.signup_date.cast("timestamp").coalesce(joined.first_order)
                  if "signup_date" in c.columns else joined.first_order)
        churn = (joined.churn_date.cast("timestamp") if "churn_date" in c.columns
                 else null_timestamp())
        return joined.mutate(kpi_signup=signup, kpi_churn=churn).drop("first_order")
    orders = classified_orders(wh, filters, period=False)
    buyers = orders.filter((orders.order_kind != "cancelled") & orders.customer_id.notnull())
    ids = buyers.select("customer_id").distinct()
    joined = ids.left_join(first, "customer_id").select("customer_id", "first_order")
    return joined.mutate(kpi_signup=joined.first_order, kpi_churn=null_timestamp()).drop(
        "first_order")


def in_base(base: ibis.Table, filters: Filters):
    """Condition: signed up before the period ends and not churned before it starts."""
    cond = ibis.literal(True)
    if filters.end is not None:
        cond &= base.kpi_signup.isnull() | (base.kpi_signup < ts(filters.end_exclusive))
    if filters.start is not None:
        cond &= base.kpi_churn.isnull() | (base.kpi_churn >= ts(filters.start))
    return cond


def in_period(column, filters: Filters):
    """Condition: ``column`` falls in the filters' period (NULL counts as outside)."""
    cond = column.notnull()
    if filters.start is not None:
        cond &= column >= ts(filters.start)
    if filters.end is not None:
        cond &= column < ts(filters.end_exclusive)
    return cond


def period_customer_ids(wh, table: str, filters: Filters, *, where=None) -> ibis.Table:
    """Distinct customer_id of ``table`` rows in the period (after filters, ``where``)."""
    t = apply_filters(wh, table, filters)
    if where is not None:
        t = t.filter(where(t))
    return t.filter(t.customer_id.notnull()).select(
        customer_id=t.customer_id.cast("string")).distinct()


def active_customer_ids(wh, filters: Filters) -> ibis.Table:
    """Customers with any activity in the period: an order (any status), a ticket, a survey."""
    parts = [period_customer_ids(wh, "orders", filters)]
    for table in ("tickets", "surveys"):
        if wh.has(table) and "customer_id" in wh.table(table).columns:
            parts.append(period_customer_ids(wh, table, filters))
    return ibis.union(*parts, distinct=True)


def purchaser_ids(wh, filters: Filters) -> ibis.Table:
    """Customers with a completed order in the period."""
    t = classified_orders(wh, filters)
    t = t.filter((t.order_kind == "completed") & t.customer_id.notnull())
    return t.select(customer_id=t.customer_id.cast("string")).distinct()


# -- periods -----------------------------------------------------------------------------
def period_bounds(wh, table: str, column: str, filters: Filters):
    """(first day, last day) of the period; open ends taken from the data in ``table``."""
    start, end = filters.start, filters.end
    if start is None or end is None:
        t = apply_filters(wh, table, filters)
        span = execute(t.agg(first=t[column].min(), last=t[column].max()))
        if start is None:
            start = span["first"].iloc[0]
        if end is None:
            end = span["last"].iloc[0]
        if pd.isna(start) or pd.isna(end):
            raise MetricUnavailable(tr("no {table} in the selection to measure a period "
                                       "on").format(table=table_label(table)))
        start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    return start, end


def period_months(wh, table: str, column: str, filters: Filters) -> float:
    """Length of the period in months (days / 30.44)."""
    start, end = period_bounds(wh, table, column, filters)
    return ((end - start).days + 1) / DAYS_PER_MONTH


def period_starts(first: pd.Timestamp, last: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    """Every period start of ``freq``, from the period holding ``first`` to ``last``."""
    begin = first.to_period(_PANDAS_PERIODS[freq]).start_time
    return pd.date_range(begin, last, freq=_PANDAS_STARTS[freq]).as_unit("us")


def check_freq(freq: str) -> str:
    if freq not in FREQUENCIES:
        raise ParameterError(
            f"unknown freq {freq!r}; use one of {', '.join(FREQUENCIES)}")
    return freq

