"""Service and satisfaction KPIs: follow-up and complaint rates, CSAT, CS = S / M, NPS,
the customers' own satisfaction score, and the satisfaction report's figures: scores per
month and by what customers bought, complaint reasons and channels, complaints followed
up, resolution times, repeat buying and churn by CSAT band.

Customer rates use the customer base in the period (signed up before it ends, not
churned before it starts; see :mod:`crmkit.metrics.derived`) as denominator, so the
numerator is always a subset of the denominator. Data without orders (a subscription
snapshot, a CRM's customers and tickets) has no purchases to date a customer by: there
the base is every customer of the customers table the filters select, as of the data.

The customers' own score (``customers.satisfaction``, one per customer, e.g. a
subscription snapshot's 1-5 rating) has no date: its KPIs use the customers the filters
select and never the period.
"""

from __future__ import annotations

import math

import ibis
import pandas as pd

from crmkit.i18n import N_, tr
from crmkit.labels import either, field_label, need_label
from crmkit.metrics.derived import (
    classified_orders,
    customer_base,
    execute,
    grouped,
    in_base,
    in_period,
    period_customer_ids,
)
from crmkit.metrics.filters import PERIOD_COLUMNS, Filters, apply_filters, with_breakdown
from crmkit.metrics.registry import metric
from crmkit.metrics.results import (
    MetricUnavailable,
    Nps,
    Rate,
    mean_frame,
    measure_from_row,
    nps_frame,
    rate_frame,
)

# NPS bands on the 0-10 scale: promoters 9-10, passives 7-8, detractors 0-6.
PROMOTER_MIN = 9
DETRACTOR_MAX = 6
CSAT_SCALE_MAX = 5
# Months before the period that the monthly scores include, for context.
TREND_CONTEXT_MONTHS = 12
COMPLAINT_TYPE = "complaint"
FOLLOW_UP_TYPE = "follow_up"
# A complaint counts as followed up when the customer has a follow_up ticket opened within
# this many days after their first complaint of the period.
FOLLOW_UP_WINDOW_DAYS = 30
# Titles, grains and formulas are catalog messages (N_), so a formula writes the minimum
# of responses or customers, MIN_DENOMINATOR of crmkit.metrics.results (30), as a literal.
# Customers grouped by their mean CSAT in the period: (label, upper bound, exclusive).
# The labels are English in the KPI's frame; a report shows them with tr().
CSAT_BANDS = ((N_("low (1-2)"), 2.5), (N_("mid (3)"), 3.5), (N_("high (4-5)"), math.inf))
# The row of resolution_time over every ticket type (shown with tr()).
ALL_TYPES = N_("all types")


def service_base(wh, filters: Filters) -> ibis.Table:
    """The customers a service rate counts, with every customers column (for breakdowns).

    With orders: the customer base for the period (signed up, or first bought, before it
    ends and not churned before it starts). Without orders: every customer of the
    customers table the filters select, as of the data; the period is not used, as for
    the snapshot KPIs (a snapshot's signup and churn dates, when ingest derives them from
    tenure, are not dates to cut a period by).
    """
    if wh.has("orders"):
        base = customer_base(wh, filters)
        return base.filter(in_base(base, filters))
    return apply_filters(wh, "customers", filters, period=False)


def _customers_with_ticket(wh, filters: Filters, ticket_type, by):
    """Rate frame: base customers with a ticket of ``ticket_type`` opened in the period."""
    types = [ticket_type] if isinstance(ticket_type, str) else list(ticket_type)
    # No ticket at all in the period (whatever the other filters): the data does not reach
    # it, and "0% of 1,500 customers complained" would be a false statement.
    every = apply_filters(wh, "tickets", Filters(start=filters.start, end=filters.end))
    if not execute(every.count()):
        raise MetricUnavailable(N_("no ticket of any kind was opened in the period: the "
                                   "tickets do not cover it"))
    base = service_base(wh, filters)
    ids = period_customer_ids(wh, "tickets", filters, where=lambda t: t.type.isin(types))
    b = base.mutate(flagged=base.customer_id.cast("string").isin(ids.customer_id))
    b, by = with_breakdown(wh, "customers", b, by)
    frame = grouped(b, by, numerator=b.count(where=b.flagged), denominator=b.count())
    frame = rate_frame(frame, "numerator", "denominator")
    if by:
        return frame
    row = frame.iloc[0]
    return Rate.from_counts(row["numerator"], row["denominator"])


@metric(name="follow_up_rate", returns="rate",
        title=N_("Follow-up rate"), unit="percent", grain=N_("period"),
        needs=("customers|orders", "tickets.type", "tickets.customer_id"),
        formula=N_("customers with a follow_up ticket opened in the period / customers "
                   "in the base for the period (signed up, or first bought, before it "
                   "ends and not churned before it starts); without orders, every "
                   "customer of the customers table the filters select (a snapshot's "
                   "customers, as of its date). Not available for a period in which no "
                   "ticket at all was opened"))
def follow_up_rate(wh, filters, *, ticket_type="follow_up", by=None):
    """Share of customers followed up in the period: Rate or a frame by customers columns."""
    return _customers_with_ticket(wh, filters, ticket_type, by)


@metric(name="complaint_rate", returns="rate",
        title=N_("Complaint rate"), unit="percent", grain=N_("period"),
        needs=("customers|orders", "tickets.type", "tickets.customer_id"),
        formula=N_("customers with a complaint ticket opened in the period / customers "
                   "in the base for the period (signed up, or first bought, before it "
                   "ends and not churned before it starts); without orders, every "
                   "customer of the customers table the filters select (a snapshot's "
                   "customers, as of its date). Not available for a period in which no "
                   "ticket at all was opened"))
def complaint_rate(wh, filters, *, ticket_type="complaint", by=None):
    """Share of customers who complained in the period: Rate or a frame."""
    return _customers_with_ticket(wh, filters, ticket_type, by)


def score_rows(wh, filters: Filters, column: str, *, source: str | None = None):
    """(table, rows with a score in ``column``, in the period, after filters).

    Surveys first; csat falls back to tickets' csat when there are no surveys. Raises
    MetricUnavailable naming what is missing.
    """
    candidates = [source] if source else (["surveys", "tickets"] if column == "csat"
                                          else ["surveys"])
    for table in candidates:
        if wh.has(table) and column in wh.table(table).columns:
            t = apply_filters(wh, table, filters)
            return table, t.filter(t[column].notnull())
    raise MetricUnavailable(tr("needs {what}").format(
        what=either(need_label(f"{c}.{column}") for c in candidates)))


@metric(name="csat", title=N_("CSAT (mean score)"), unit="score", grain=N_("period"),
        needs=("surveys.csat|tickets.csat",),
        formula=N_("mean csat of survey responses in the period (tickets' csat when "
                   "there is no surveys.csat); 95% CI mean ± 1.96·sd/√n"))
def csat(wh, filters, *, source: str | None = None, by=None):
    """Mean satisfaction score: Measure (unit "score") or a frame by ``by``."""
    table, t = score_rows(wh, filters, "csat", source=source)
    t, by = with_breakdown(wh, table, t, by)
    frame = mean_frame(grouped(t, by, mean=t.csat.mean(), std=t.csat.std(), n=t.count()))
    return frame if by else measure_from_row(frame.iloc[0], "score")


@metric(name="satisfaction_score", title=N_("Satisfaction CS = S / M"), unit="percent",
        grain=N_("period"), needs=("surveys.csat|tickets.csat",),
        formula=N_("CS = mean csat S / scale maximum M (5), as a percentage"))
def satisfaction_score(wh, filters, *, source: str | None = None,
                       scale_max: float = CSAT_SCALE_MAX, by=None):
    """CS as a fraction of the scale maximum: Measure (percent) or a frame by ``by``."""
    table, t = score_rows(wh, filters, "csat", source=source)
    t, by = with_breakdown(wh, table, t, by)
    frame = mean_frame(grouped(t, by, mean=t.csat.mean(), std=t.csat.std(), n=t.count()),
                       scale=scale_max)
    return frame if by else measure_from_row(frame.iloc[0], "percent")


@metric(name="csat_distribution", title=N_("CSAT distribution"), unit="percent",
        grain=N_("score"),
        needs=("surveys.csat|tickets.csat",), returns="frame",
        formula=N_("responses with each score / all responses with a score in the period"))
def csat_distribution(wh, filters, *, source: str | None = None, by=None) -> pd.DataFrame:
    """[*by], score, numerator, denominator, value, ci_low, ci_high, too_few."""
    table, t = score_rows(wh, filters, "csat", source=source)
    t, by = with_breakdown(wh, table, t, by)
    return _score_shares(t.mutate(score=t.csat), by)


def _score_shares(t: ibis.Table, by: list[str]) -> pd.DataFrame:
    """[*by], score, numerator (rows with that score), denominator (rows of the group),
    value, ci_low, ci_high, too_few."""
    counts = grouped(t, [*by, "score"], numerator=t.count())
    totals = counts.groupby(by, dropna=False)["numerator"].transform("sum") if by \
        else counts["numerator"].sum()
    counts["denominator"] = totals
    return rate_frame(counts, "numerator", "denominator")


@metric(name="nps", title=N_("Net Promoter Score"), unit="nps", grain=N_("period"),
        needs=("surveys.nps",), returns="nps",
        formula=N_("NPS = 100 × (promoters (9-10) − detractors (0-6)) / responses; 95% "
                   "CI ±1.96·100·√((p_P + p_D − (p_P − p_D)²) / n)"))
def nps(wh, filters, *, by=None):
    """NPS of survey responses in the period: Nps or a frame by ``by``."""
    t = apply_filters(wh, "surveys", filters)
    t = t.filter(t.nps.notnull())
    t, by = with_breakdown(wh, "surveys", t, by)
    frame = nps_frame(grouped(t, by, promoters=t.count(where=t.nps >= PROMOTER_MIN),
                              passives=t.count(where=(t.nps > DETRACTOR_MAX)
                                               & (t.nps < PROMOTER_MIN)),
                              detractors=t.count(where=t.nps <= DETRACTOR_MAX)))
    if by:
        return frame
    row = frame.iloc[0]
    return Nps.from_counts(row["promoters"], row["passives"], row["detractors"])


# -- the customers' own score ----------------------------------------------------------------
def has_customer_scores(wh) -> bool:
    """Whether any customer has a ``satisfaction`` score (customers built from orders, or
    from a CRM without the field, have the column empty)."""
    if not wh.has("customers") or "satisfaction" not in wh.table("customers").columns:
        return False
    return bool(execute(wh.table("customers").satisfaction.notnull().any()))


def _scored_customers(wh, filters: Filters) -> ibis.Table:
    """The customers the filters select (the period is not used); MetricUnavailable when
    no customer has a score at all."""
    if not has_customer_scores(wh):
        raise MetricUnavailable(N_("needs customers' satisfaction scores: "
                                   "customers.satisfaction is empty"))
    return apply_filters(wh, "customers", filters, period=False)


@metric(name="customer_satisfaction", title=N_("Customers' own satisfaction score"),
        unit="score", grain=N_("as of the data"), needs=("customers.satisfaction",),
        formula=N_("mean customers.satisfaction of the customers the filters select that "
                   "have a score, as of the data (the score has no date: the period is "
                   "not used); 95% CI mean ± 1.96·sd/√n; too few to say below 30 "
                   "customers"))
def customer_satisfaction(wh, filters, *, by=None):
    """Mean of the customers' own score: Measure (unit "score", n = customers with a
    score) or a frame by ``by`` (customers columns): [*by], value, n, ci_low, ci_high,
    too_few."""
    t = _scored_customers(wh, filters)
    t = t.filter(t.satisfaction.notnull())
    t, by = with_breakdown(wh, "customers", t, by)
    frame = mean_frame(grouped(t, by, mean=t.satisfaction.mean(), std=t.satisfaction.std(),
                               n=t.count()))
    return frame if by else measure_from_row(frame.iloc[0], "score")


@metric(name="customer_satisfaction_distribution", returns="frame",
        title=N_("Customers' own satisfaction score: distribution"), unit="percent",
        grain=N_("score, as of the data"), needs=("customers.satisfaction",),
        formula=N_("customers with each satisfaction score / customers with a score, of "
                   "the customers the filters select, as of the data (the period is not "
                   "used); 95% Wilson interval; customers without a score are counted "
                   "apart"))
def customer_satisfaction_distribution(wh, filters, *, by=None) -> pd.DataFrame:
    """[*by], score, numerator, denominator, value, ci_low, ci_high, too_few, one row per
    score; ``attrs["without_score"]``: the selected customers with no score."""
    t = _scored_customers(wh, filters)
    without = int(execute(t.count(where=t.satisfaction.isnull())))
    t = t.filter(t.satisfaction.notnull())
    t, by = with_breakdown(wh, "customers", t, by)
    frame = _score_shares(t.mutate(score=t.satisfaction), by)
    frame.attrs["without_score"] = without
    return frame


# -- scores per month and by what customers bought -------------------------------------------
def _score_aggregates(t: ibis.Table, column: str) -> dict:
    if column == "nps":
        return {"promoters": t.count(where=t.nps >= PROMOTER_MIN),
                "passives": t.count(where=(t.nps > DETRACTOR_MAX) & (t.nps < PROMOTER_MIN)),
                "detractors": t.count(where=t.nps <= DETRACTOR_MAX)}
    return {"mean": t[column].mean(), "std": t[column].std(), "n": t.count()}


def _score_frame(t: ibis.Table, column: str, keys: list[str], *,
                 scale: float = 1.0) -> pd.DataFrame:
    """Mean (csat) or NPS frame of ``t`` grouped by ``keys``."""
    frame = grouped(t, keys, **_score_aggregates(t, column))
    return nps_frame(frame) if column == "nps" else mean_frame(frame, scale=scale)


def _by_month(wh, filters: Filters, column: str, context_months: int, by) -> pd.DataFrame:
    """``column`` scores per month from ``context_months`` before the period to its end."""
    start = None if filters.start is None else (
        filters.start - pd.DateOffset(months=context_months)).to_period("M").start_time
    table, t = score_rows(wh, filters.with_period(start, filters.end), column)
    t = t.mutate(month=t[PERIOD_COLUMNS[table]].truncate("M"))
    t, keys = with_breakdown(wh, table, t, by)
    return _score_frame(t, column, ["month", *keys])


@metric(name="csat_by_month", title=N_("CSAT per month"), unit="score", grain=N_("month"),
        needs=("surveys.csat|tickets.csat",), returns="frame",
        formula=N_("mean csat of the survey responses dated in each month (tickets' csat "
                   "when there is no surveys.csat), from the months before the period "
                   "(12 by default, for context) to its end; 95% CI mean ± 1.96·sd/√n; "
                   "months under 30 responses marked too few"))
def csat_by_month(wh, filters, *, context_months: int = TREND_CONTEXT_MONTHS,
                  by=None) -> pd.DataFrame:
    """month, [by], value, n, ci_low, ci_high, too_few."""
    return _by_month(wh, filters, "csat", context_months, by)


@metric(name="nps_by_month", title=N_("NPS per month"), unit="nps", grain=N_("month"),
        needs=("surveys.nps",), returns="frame",
        formula=N_("NPS of the survey responses dated in each month, from the months "
                   "before the period (12 by default, for context) to its end; 95% CI as "
                   "for NPS; months under 30 responses marked too few"))
def nps_by_month(wh, filters, *, context_months: int = TREND_CONTEXT_MONTHS,
                 by=None) -> pd.DataFrame:
    """month, [by], promoters, passives, detractors, value, n, ci_low, ci_high, too_few."""
    return _by_month(wh, filters, "nps", context_months, by)


@metric(name="nps_distribution", title=N_("NPS distribution"), unit="percent",
        grain=N_("score"),
        needs=("surveys.nps",), returns="frame",
        formula=N_("responses with each NPS score (0-10) / all responses with an NPS "
                   "score in the period; 95% Wilson interval"))
def nps_distribution(wh, filters, *, by=None) -> pd.DataFrame:
    """[*by], score, numerator, denominator, value, ci_low, ci_high, too_few."""
    table, t = score_rows(wh, filters, "nps")
    t, by = with_breakdown(wh, table, t, by)
    return _score_shares(t.mutate(score=t.nps), by)


def _scores_by_purchase(wh, filters: Filters, column: str, by: str, *,
                        scale: float = 1.0) -> pd.DataFrame:
    """``column`` scores of the customers who bought in each ``by`` group of completed
    orders in the period (a customer counts in each group they bought in)."""
    if by not in wh.table("orders").columns:
        raise MetricUnavailable(tr("{column} is not a column of orders").format(
            column=field_label(by)))
    o = classified_orders(wh, filters)
    o = o.filter((o.order_kind == "completed") & o.customer_id.notnull())
    bought = o.select(buyer=o.customer_id.cast("string"), bought_in=o[by]).distinct()
    _, s = score_rows(wh, filters, column)
    s = s.filter(s.customer_id.notnull())
    j = s.join(bought, s.customer_id.cast("string") == bought.buyer)
    j = j.select(**{column: j[column], by: j.bought_in})
    return _score_frame(j, column, [by], scale=scale)


@metric(name="csat_by_purchase", title=N_("CSAT by what customers bought"), unit="score",
        grain=N_("orders column"), needs=("orders", "surveys.csat|tickets.csat"),
        returns="frame",
        formula=N_("mean csat of the responses in the period of the customers who bought "
                   "in each group of an orders column (category ...) with a completed "
                   "order in the period; a customer counts in every group they bought "
                   "in; 95% CI mean ± 1.96·sd/√n"))
def csat_by_purchase(wh, filters, *, by: str = "category") -> pd.DataFrame:
    """by, value, n, ci_low, ci_high, too_few."""
    return _scores_by_purchase(wh, filters, "csat", by)


@metric(name="satisfaction_score_by_purchase", title=N_("Satisfaction CS by what customers "
           "bought"), unit="percent", grain=N_("orders column"),
        needs=("orders", "surveys.csat|tickets.csat"), returns="frame",
        formula=N_("CS = mean csat S / scale maximum M (5) of the responses in the "
                   "period of the customers who bought in each group of an orders column "
                   "(category ...) with a completed order in the period; a customer "
                   "counts in every group they bought in"))
def satisfaction_score_by_purchase(wh, filters, *, scale_max: float = CSAT_SCALE_MAX,
                                   by: str = "category") -> pd.DataFrame:
    """by, value, n, ci_low, ci_high, too_few (fractions of ``scale_max``)."""
    return _scores_by_purchase(wh, filters, "csat", by, scale=scale_max)


@metric(name="nps_by_purchase", title=N_("NPS by what customers bought"), unit="nps",
        grain=N_("orders column"), needs=("orders", "surveys.nps"), returns="frame",
        formula=N_("NPS of the responses in the period of the customers who bought in "
                   "each group of an orders column (category ...) with a completed order "
                   "in the period; a customer counts in every group they bought in; 95% "
                   "CI as for NPS"))
def nps_by_purchase(wh, filters, *, by: str = "category") -> pd.DataFrame:
    """by, promoters, passives, detractors, value, n, ci_low, ci_high, too_few."""
    return _scores_by_purchase(wh, filters, "nps", by)


# -- complaints and tickets ------------------------------------------------------------------
@metric(name="complaint_reasons", title=N_("Complaint reasons"), unit="percent",
        grain=N_("reason"),
        needs=("tickets.type", "tickets.reason"), returns="frame",
        formula=N_("complaint tickets opened in the period by reason / all complaint "
                   "tickets opened in it"))
def complaint_reasons(wh, filters, *, ticket_type: str = COMPLAINT_TYPE) -> pd.DataFrame:
    """reason (None: no reason given), complaints, share; most complaints first."""
    t = apply_filters(wh, "tickets", filters)
    t = t.filter(t.type == ticket_type)
    frame = grouped(t, ["reason"], complaints=t.count())
    frame["share"] = frame["complaints"] / frame["complaints"].sum()
    return frame.sort_values("complaints", ascending=False, kind="stable") \
        .reset_index(drop=True)


@metric(name="complaint_share_by_channel", title=N_("Complaint share of tickets by contact "
           "channel"), unit="percent", grain=N_("contact channel"),
        needs=("tickets.type", "tickets.channel"), returns="frame",
        formula=N_("complaint tickets opened in the period / all tickets opened in it, "
                   "per contact channel (tickets.channel); 95% Wilson interval"))
def complaint_share_by_channel(wh, filters, *,
                               ticket_type: str = COMPLAINT_TYPE) -> pd.DataFrame:
    """channel, numerator, denominator, value, ci_low, ci_high, too_few."""
    t = apply_filters(wh, "tickets", filters)
    frame = grouped(t, ["channel"], numerator=t.count(where=t.type == ticket_type),
                    denominator=t.count())
    return rate_frame(frame, "numerator", "denominator")


@metric(name="complaints_followed_up", title=N_("Complaints followed up"), unit="percent",
        grain=N_("period"), returns="rate",
        needs=("tickets.type", "tickets.customer_id", "tickets.opened_at"),
        formula=N_("complaining customers (a complaint ticket opened in the period) with "
                   "a follow_up ticket opened within 30 days (by default) after their "
                   "first complaint of the period / complaining customers"))
def complaints_followed_up(wh, filters, *, window_days: int = FOLLOW_UP_WINDOW_DAYS,
                           complaint_type: str = COMPLAINT_TYPE,
                           follow_up_type: str = FOLLOW_UP_TYPE) -> Rate:
    """Rate: complaining customers followed up within ``window_days``."""
    t = apply_filters(wh, "tickets", filters)
    t = t.filter((t.type == complaint_type) & t.customer_id.notnull())
    first = t.group_by(complainer=t.customer_id.cast("string")).agg(
        first_complaint=t.opened_at.min())
    fu = apply_filters(wh, "tickets", filters, period=False)
    fu = fu.filter(fu.type == follow_up_type)
    fu = fu.select(customer=fu.customer_id.cast("string"), follow_up_at=fu.opened_at)
    j = first.join(fu, first.complainer == fu.customer)
    j = j.filter((j.follow_up_at >= j.first_complaint)
                 & (j.follow_up_at < j.first_complaint + ibis.interval(days=window_days)))
    return Rate.from_counts(execute(j.complainer.nunique()), execute(first.count()))


@metric(name="resolution_time", title=N_("Resolution time"), unit="hours",
        grain=N_("ticket type"),
        needs=("tickets.type", "tickets.opened_at", "tickets.closed_at"), returns="frame",
        formula=N_("closed_at - opened_at of tickets opened in the period: median and "
                   "90th percentile in hours, by type and over all types; open = no "
                   "closed_at, as a share of the tickets (95% Wilson interval); with a "
                   "breakdown, median and 90th percentile by that tickets or customers "
                   "column"))
def resolution_time(wh, filters, *, by=None) -> pd.DataFrame:
    """Without ``by``: type (None: no type; ALL_TYPES, "all types", last), tickets, closed,
    median_hours, p90_hours, numerator (still open), denominator, value, ci_low, ci_high,
    too_few. With ``by``: [*by], tickets, median_hours, p90_hours."""
    if execute(wh.table("tickets").closed_at.count()) == 0:
        raise MetricUnavailable(N_("tickets have no closed_at"))
    t = apply_filters(wh, "tickets", filters)
    t = t.mutate(hours=((t.closed_at.epoch_seconds() - t.opened_at.epoch_seconds())
                        / 3600).cast("float64"))
    if by:
        t, keys = with_breakdown(wh, "tickets", t, by)
        return grouped(t, keys, tickets=t.count(), median_hours=t.hours.quantile(0.5),
                       p90_hours=t.hours.quantile(0.9))
    aggs = {"tickets": t.count(), "closed": t.count(where=t.closed_at.notnull()),
            "median_hours": t.hours.quantile(0.5), "p90_hours": t.hours.quantile(0.9)}
    by_type = grouped(t, ["type"], **aggs)
    by_type["type"] = by_type["type"].astype(object)
    total = grouped(t, [], **aggs).assign(type=ALL_TYPES)
    frame = pd.concat([by_type, total[by_type.columns]], ignore_index=True)
    frame["open"] = frame["tickets"] - frame["closed"]
    rates = rate_frame(frame[["open", "tickets"]].rename(
        columns={"open": "numerator", "tickets": "denominator"}), "numerator", "denominator")
    return pd.concat([frame[["type", "tickets", "closed", "median_hours", "p90_hours"]],
                      rates], axis=1)


# -- satisfaction against buying and churn ---------------------------------------------------
def has_churn_dates(wh) -> bool:
    """Whether any customer has a churn_date."""
    if not wh.has("customers") or "churn_date" not in wh.table("customers").columns:
        return False
    return bool(execute(wh.table("customers").churn_date.count()))


@metric(name="csat_band_outcomes", title=N_("Repeat buying and churn by CSAT band"),
        unit="count", grain=N_("CSAT band"), needs=("surveys.csat|tickets.csat", "orders"),
        returns="frame",
        formula=N_("customers banded by their mean survey csat in the period (low 1-2, "
                   "mid 3, high 4-5 by default): per band the customers, those with 2+ "
                   "completed orders in the period, and those with a churn_date in it "
                   "(of those not churned before their first survey), shown as shares "
                   "with 95% Wilson intervals; an association, not an effect"))
def csat_band_outcomes(wh, filters, *, bands: tuple = CSAT_BANDS) -> pd.DataFrame:
    """Surveyed customers by band of ``bands`` ((label, exclusive upper bound) on each
    customer's mean score, the last band open) -> band, customers, repeat (2+ completed
    orders in the period) and, when customers have churn dates, churn_base (in the
    customers table, not churned before their first survey of the period) and churned
    (of those, churn_date in the period)."""
    table, s = score_rows(wh, filters, "csat")
    s = s.filter(s.customer_id.notnull())
    per = s.group_by(customer=s.customer_id.cast("string")).agg(
        csat=s.csat.mean(), first_survey=s[PERIOD_COLUMNS[table]].min())
    cases = [(per.csat < upper, label) for label, upper in bands[:-1]]
    per = per.mutate(band=ibis.cases(*cases, else_=bands[-1][0]))
    o = classified_orders(wh, filters)
    o = o.filter((o.order_kind == "completed") & o.customer_id.notnull())
    bought = o.group_by(buyer=o.customer_id.cast("string")).agg(orders=o.count())
    j = per.left_join(bought, per.customer == bought.buyer)
    j = j.select("customer", "band", "first_survey", orders=j.orders.fill_null(0))
    churn = has_churn_dates(wh)
    if churn:
        c = wh.table("customers")
        c = c.select(known=c.customer_id.cast("string"), churn=c.churn_date.cast("timestamp"))
        j = j.left_join(c, j.customer == c.known)
    aggs = {"customers": j.count(), "repeat": j.count(where=j.orders >= 2)}
    if churn:
        base = j.known.notnull() & (j.churn.isnull() | (j.churn >= j.first_survey))
        aggs["churn_base"] = j.count(where=base)
        aggs["churned"] = j.count(where=base & in_period(j.churn, filters))
    frame = grouped(j, ["band"], **aggs)
    order = [label for label, _ in bands]
    frame = frame.set_index("band").reindex(order).fillna(0).astype("int64")
    return frame.reset_index()
