"""Sales KPIs: revenue, orders, average order value, their trend, growth, mix and quotas.

How orders count (see :mod:`crmkit.metrics.derived`)
    net revenue  = completed + returned amounts (returns are negative), cancelled excluded;
                   a return counts in the period of its own order_date
    orders       = completed orders (returns and cancellations are not orders)
    AOV          = gross revenue of completed orders / completed orders
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from crmkit.i18n import N_, tr
from crmkit.labels import either, field_label
from crmkit.metrics.derived import (
    FREQUENCIES,
    check_freq,
    classified_orders,
    execute,
    finish_sales,
    grouped,
    period_bounds,
    period_starts,
    sales_aggregates,
    ts,
)
from crmkit.metrics.filters import Filters, apply_filters, breakdown_list, with_breakdown
from crmkit.metrics.registry import metric
from crmkit.metrics.results import MetricUnavailable, mean_frame, measure_from_row, sum_frame

SALES_COLUMNS = ["orders", "gross_revenue", "returns", "revenue", "aov"]


def sales_summary(wh, filters: Filters | None = None, *, by=None) -> pd.DataFrame:
    """Orders, gross revenue, returns, net revenue and AOV in one query.

    orders (+ filters, period) -> [*by], orders, gross_revenue, returns, revenue, aov,
    counted_rows (completed + returned rows), aov_std (std of completed amounts).
    With ``by=None`` one row.
    """
    filters = filters if filters is not None else Filters()
    t, by = with_breakdown(wh, "orders", classified_orders(wh, filters), by)
    return finish_sales(grouped(t, by, **sales_aggregates(t)))


@metric(name="revenue", title=N_("Net revenue"), unit="currency", grain=N_("period"),
        formula=N_("sum(amount) of completed and returned orders (returns negative); "
                   "cancelled orders excluded"))
def revenue(wh, filters, *, by=None):
    """Net revenue in the period: Measure (currency, n = rows counted) or a frame by ``by``."""
    frame = sum_frame(sales_summary(wh, filters, by=by)[[*breakdown_list(by), "revenue",
                                                          "counted_rows"]],
                      value="revenue", n="counted_rows")
    return frame if by else measure_from_row(frame.iloc[0], "currency")


@metric(name="orders", title=N_("Orders"), unit="count", grain=N_("period"),
        formula=N_("count of completed orders (returns and cancellations excluded)"))
def orders(wh, filters, *, by=None):
    """Completed orders in the period: Measure (count) or a frame by ``by``."""
    summary = sales_summary(wh, filters, by=by)
    summary["n"] = summary["orders"]
    frame = sum_frame(summary[[*breakdown_list(by), "orders", "n"]], value="orders", n="n")
    return frame if by else measure_from_row(frame.iloc[0], "count")


@metric(name="average_order_value", title=N_("Average order value"), unit="currency",
        grain=N_("period"),
        formula=N_("AOV = sum(amount of completed orders) / count(completed orders); "
                   "95% CI mean ± 1.96·sd/√n"))
def average_order_value(wh, filters, *, by=None):
    """AOV of completed orders with a 95% interval: Measure or a frame by ``by``."""
    summary = sales_summary(wh, filters, by=by)
    frame = mean_frame(summary[[*breakdown_list(by), "aov", "aov_std", "orders"]],
                       mean="aov", std="aov_std", n="orders")
    return frame if by else measure_from_row(frame.iloc[0], "currency")


@metric(name="sales_over_time", title=N_("Revenue, orders and AOV over time"),
        unit="currency", grain=N_("day / week / month / quarter / year"), returns="frame",
        formula=N_("per period start (date_trunc; weeks start Monday): orders, gross "
                   "revenue, returns, net revenue, AOV as above; periods without sales "
                   "show 0"))
def sales_over_time(wh, filters, *, freq: str = "month", by=None) -> pd.DataFrame:
    """orders -> period, [*by], orders, gross_revenue, returns, revenue, aov.

    ``freq`` is day, week, month, quarter or year. Every period from the filters' start
    (else the first order) to their end (else the last order) has a row, 0 when empty.
    """
    t = classified_orders(wh, filters)
    truncated = t.order_date.truncate(FREQUENCIES[check_freq(freq)])
    t, by = with_breakdown(wh, "orders", t.mutate(period=truncated), by)
    aggs = sales_aggregates(t)
    aggs.pop("aov_std")
    aggs.pop("counted_rows")
    frame = grouped(t, ["period", *by], **aggs)
    try:
        first, last = period_bounds(wh, "orders", "order_date", filters)
    except MetricUnavailable:
        return finish_sales(frame)[["period", *by, *SALES_COLUMNS]]
    starts = pd.DataFrame({"period": period_starts(first, last, freq)})
    groups = frame[by].drop_duplicates() if by else None
    grid = starts.merge(groups, how="cross") if by else starts
    frame["period"] = frame["period"].astype("datetime64[us]")
    full = grid.merge(frame, on=["period", *by], how="left")
    full = finish_sales(full.assign(counted_rows=0))
    return full.sort_values(["period", *by], kind="stable").reset_index(drop=True)[
        ["period", *by, *SALES_COLUMNS]]


def _change(current: pd.Series, before: pd.Series) -> pd.Series:
    """(current - before) / |before|; NaN when before is 0 or missing."""
    base = before.abs().where(before.abs() > 0)
    return (current - before) / base


@metric(name="sales_growth", title=N_("Growth vs previous period and last year"),
        unit="percent", grain=N_("period"), returns="frame",
        formula=N_("change = (this period − comparison) / |comparison| for net revenue, "
                   "orders and AOV; comparison = the previous period of equal length (whole "
                   "months shift by months) and the same period one year earlier"))
def sales_growth(wh, filters, *, by=None) -> pd.DataFrame:
    """[*by], kpi (revenue / orders / aov), current, previous_period, change_vs_previous,
    same_period_last_year, change_vs_last_year. Needs a period with start and end."""
    if filters.start is None or filters.end is None:
        raise MetricUnavailable(N_("growth needs a period with a start and an end"))
    by = breakdown_list(by)
    kpis = ["revenue", "orders", "aov"]

    def long(f, name):
        s = sales_summary(wh, f, by=by)[[*by, *kpis]]
        return s.melt(id_vars=by, value_vars=kpis, var_name="kpi", value_name=name)

    out = long(filters, "current")
    for f, name in ((filters.previous_period(), "previous_period"),
                    (filters.same_period_last_year(), "same_period_last_year")):
        out = out.merge(long(f, name), on=[*by, "kpi"], how="outer")
    for col in ("current", "previous_period", "same_period_last_year"):
        # A group without sales in a period has 0 revenue and orders (AOV stays undefined).
        filled = out[col].astype(float)
        out[col] = filled.where(out["kpi"] == "aov", filled.fillna(0.0))
    out["change_vs_previous"] = _change(out["current"], out["previous_period"])
    out["change_vs_last_year"] = _change(out["current"], out["same_period_last_year"])
    out["kpi"] = pd.Categorical(out["kpi"], kpis)
    out = out.sort_values([*by, "kpi"], kind="stable").reset_index(drop=True)
    out["kpi"] = out["kpi"].astype(str)
    return out[[*by, "kpi", "current", "previous_period", "change_vs_previous",
                "same_period_last_year", "change_vs_last_year"]]


@metric(name="revenue_distribution",
        title=N_("Revenue by product / category / region / channel"),
        unit="percent", grain=N_("period × dimension"), returns="frame",
        formula=N_("share = net revenue of the group / net revenue of the period; orders "
                   "with no value for the group are no group (left out of the rows, counted "
                   "in the total)"))
def revenue_distribution(wh, filters, *, by="product") -> pd.DataFrame:
    """[*by], orders, revenue, total_revenue, share; largest revenue first.

    ``revenue`` is the numerator and ``total_revenue`` the denominator of ``share``.
    """
    frame = sales_summary(wh, filters, by=by)
    by = breakdown_list(by)
    if not by:
        raise MetricUnavailable(N_("a distribution needs a `by` column (product, region "
                                   "...)"))
    total = frame["revenue"].sum()
    # Orders with no value in a `by` column are no group: left out of the rows (never a
    # "(blank)" leader), their revenue in attrs and still in the total the shares are of.
    known = frame[by].notna().all(axis=1) & \
        ~frame[by].astype(str).apply(lambda c: c.str.strip() == "").any(axis=1)
    if len(frame) and not known.any():
        raise MetricUnavailable(tr("no order has a {column}").format(
            column=either(field_label(c) for c in by)))
    without = float(frame.loc[~known, "revenue"].sum())
    frame = frame[known].copy()
    frame["total_revenue"] = total
    frame["share"] = frame["revenue"] / total if total else np.nan
    frame = frame.sort_values(["revenue", *by], ascending=[False] + [True] * len(by),
                              kind="stable")
    out = frame[[*by, "orders", "revenue", "total_revenue", "share"]].reset_index(drop=True)
    out.attrs["without_group"] = without
    return out


@metric(name="quota_attainment", title=N_("Quota attainment and rank per sales rep"),
        unit="percent", grain=N_("period × sales rep"), returns="frame",
        needs=("orders.sales_rep", "targets"),
        formula=N_("attainment = net revenue of the rep / target for the period; a target "
                   "counts pro rata to the days of its period_start..period_end (inclusive; "
                   "a month when period_end is empty) that fall in the period; rank 1 = "
                   "highest attainment"))
def quota_attainment(wh, filters) -> pd.DataFrame:
    """orders + targets -> sales_rep, orders, revenue, target, attainment, rank, revenue_rank.

    Reps with revenue but no target have NaN attainment and no rank; rows are ordered by
    rank, then revenue.
    """
    reps = sales_summary(wh, filters, by="sales_rep")
    reps = reps[reps["sales_rep"].notna()][["sales_rep", "orders", "revenue"]]
    targets = _prorated_targets(wh, filters)
    out = reps.merge(targets, on="sales_rep", how="outer")
    out["orders"] = out["orders"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].astype(float).fillna(0.0)
    out["target"] = out["target"].astype(float)
    out["attainment"] = out["revenue"] / out["target"].where(out["target"] > 0)
    out["rank"] = out["attainment"].rank(ascending=False, method="min").astype("Int64")
    out["revenue_rank"] = out["revenue"].rank(ascending=False, method="min").astype("int64")
    out = out.sort_values(["rank", "revenue", "sales_rep"], ascending=[True, False, True],
                          na_position="last", kind="stable")
    return out[["sales_rep", "orders", "revenue", "target", "attainment", "rank",
                "revenue_rank"]].reset_index(drop=True)


def _prorated_targets(wh, filters: Filters) -> pd.DataFrame:
    """sales_rep, target: each rep's targets prorated to the overlap with the period."""
    t = apply_filters(wh, "targets", filters, period=False)
    begin = t.period_start.cast("timestamp")
    one_month = begin + ibis.interval(months=1)
    if "period_end" in t.columns:
        after = (t.period_end.cast("timestamp") + ibis.interval(days=1)).coalesce(one_month)
    else:
        after = one_month
    lo = begin if filters.start is None else ibis.greatest(begin, ts(filters.start))
    hi = after if filters.end is None else ibis.least(after, ts(filters.end_exclusive))

    def seconds(x):
        return x.epoch_seconds().cast("float64")

    length = seconds(after) - seconds(begin)
    overlap = ibis.greatest(seconds(hi) - seconds(lo), ibis.literal(0.0))
    share = ibis.ifelse(length > 0, overlap / length, ibis.literal(0.0))
    t = t.mutate(sales_rep=t.owner, prorated=t.target_amount * share, share=share)
    t = t.filter(t.share > 0)
    return execute(t.group_by("sales_rep").agg(target=t.prorated.sum()))
