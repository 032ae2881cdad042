"""Service and satisfaction KPIs: follow-up and complaint rates, CSAT, CS = S / M, NPS,
and the customers' own satisfaction score.

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

import ibis
import pandas as pd

from crmkit.metrics.derived import (
    customer_base,
    execute,
    grouped,
    in_base,
    period_customer_ids,
)
from crmkit.metrics.filters import Filters, apply_filters, with_breakdown
from crmkit.metrics.registry import metric
from crmkit.metrics.results import (
    MIN_DENOMINATOR,
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
        raise MetricUnavailable("no ticket of any kind was opened in the period: the "
                                "tickets do not cover it")
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
        title="Follow-up rate", unit="percent", grain="period",
        needs=("customers|orders", "tickets.type", "tickets.customer_id"),
        formula="customers with a follow_up ticket opened in the period / customers in "
                "the base for the period (signed up, or first bought, before it ends and not "
                "churned before it starts); without orders, every customer of the customers "
                "table the filters select (a snapshot's customers, as of its date). Not "
                "available for a period in which no ticket at all was opened")
def follow_up_rate(wh, filters, *, ticket_type="follow_up", by=None):
    """Share of customers followed up in the period: Rate or a frame by customers columns."""
    return _customers_with_ticket(wh, filters, ticket_type, by)


@metric(name="complaint_rate", returns="rate",
        title="Complaint rate", unit="percent", grain="period",
        needs=("customers|orders", "tickets.type", "tickets.customer_id"),
        formula="customers with a complaint ticket opened in the period / customers in "
                "the base for the period (signed up, or first bought, before it ends and not "
                "churned before it starts); without orders, every customer of the customers "
                "table the filters select (a snapshot's customers, as of its date). Not "
                "available for a period in which no ticket at all was opened")
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
    raise MetricUnavailable(f"needs {' or '.join(f'{c}.{column}' for c in candidates)}")


@metric(name="csat", title="CSAT (mean score)", unit="score", grain="period",
        needs=("surveys.csat|tickets.csat",),
        formula="mean csat of survey responses in the period (tickets' csat when there is "
                "no surveys.csat); 95% CI mean ± 1.96·sd/√n")
def csat(wh, filters, *, source: str | None = None, by=None):
    """Mean satisfaction score: Measure (unit "score") or a frame by ``by``."""
    table, t = score_rows(wh, filters, "csat", source=source)
    t, by = with_breakdown(wh, table, t, by)
    frame = mean_frame(grouped(t, by, mean=t.csat.mean(), std=t.csat.std(), n=t.count()))
    return frame if by else measure_from_row(frame.iloc[0], "score")


@metric(name="satisfaction_score", title="Satisfaction CS = S / M", unit="percent",
        grain="period", needs=("surveys.csat|tickets.csat",),
        formula="CS = mean csat S / scale maximum M (5), as a percentage")
def satisfaction_score(wh, filters, *, source: str | None = None,
                       scale_max: float = CSAT_SCALE_MAX, by=None):
    """CS as a fraction of the scale maximum: Measure (percent) or a frame by ``by``."""
    table, t = score_rows(wh, filters, "csat", source=source)
    t, by = with_breakdown(wh, table, t, by)
    frame = mean_frame(grouped(t, by, mean=t.csat.mean(), std=t.csat.std(), n=t.count()),
                       scale=scale_max)
    return frame if by else measure_from_row(frame.iloc[0], "percent")


@metric(name="csat_distribution", title="CSAT distribution", unit="percent", grain="score",
        needs=("surveys.csat|tickets.csat",), returns="frame",
        formula="responses with each score / all responses with a score in the period")
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


@metric(name="nps", title="Net Promoter Score", unit="nps", grain="period",
        needs=("surveys.nps",), returns="nps",
        formula="NPS = 100 × (promoters (9-10) − detractors (0-6)) / responses; 95% CI "
                "±1.96·100·√((p_P + p_D − (p_P − p_D)²) / n)")
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
        raise MetricUnavailable("needs customers' satisfaction scores: customers.satisfaction "
                                "is empty")
    return apply_filters(wh, "customers", filters, period=False)


@metric(name="customer_satisfaction", title="Customers' own satisfaction score",
        unit="score", grain="as of the data", needs=("customers.satisfaction",),
        formula="mean customers.satisfaction of the customers the filters select that have "
                "a score, as of the data (the score has no date: the period is not used); "
                "95% CI mean ± 1.96·sd/√n; too few to say below "
                f"{MIN_DENOMINATOR} customers")
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
        title="Customers' own satisfaction score: distribution", unit="percent",
        grain="score, as of the data", needs=("customers.satisfaction",),
        formula="customers with each satisfaction score / customers with a score, of the "
                "customers the filters select, as of the data (the period is not used); "
                "95% Wilson interval; customers without a score are counted apart")
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
