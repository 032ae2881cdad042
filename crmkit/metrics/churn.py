"""Churn KPIs of the churn report: churn by inactivity, churn reasons, customer lifetimes,
churn risk and revenue at risk, and the customers who left.

Two definitions of churn (the report picks one with :func:`has_churn_dates`):

contractual
    A customer churns on the ``churn_date`` recorded in the customers table (the rates
    are the ``churn_rate`` / ``retention_rate`` KPIs of :mod:`crmkit.metrics.customers`).
inactivity
    No churn dates (retail). A customer churns when ``inactive_days`` pass without a
    completed order, on the day that becomes visible (last order + inactive_days), as in
    :func:`crmkit.models.survival.noncontractual_durations`.

The rules are parameters with the module defaults below; the model-backed KPIs fit the
models of :mod:`crmkit.models.risk` and :mod:`crmkit.models.survival` on the selection.
"""

from __future__ import annotations

import ibis
import pandas as pd

from crmkit.i18n import N_, tr
from crmkit.metrics.derived import classified_orders, customer_base, execute, grouped, ts
from crmkit.metrics.filters import Filters, apply_filters, with_breakdown
from crmkit.metrics.registry import metric
from crmkit.metrics.results import (MIN_DENOMINATOR, MetricUnavailable, NotAvailable, Rate,
                                    rate_frame)

INACTIVE_DAYS = 180  # retail: this long without a completed order counts as churned
AT_RISK_PROBABILITY = 0.5  # churn probability from which an active customer is "at risk"
HOLDOUT_DAYS = 180  # retail: the BG/NBD is checked on who bought again in these last days
RETENTION_MONTHS = (3, 6, 12)  # contractual: retention reported at these months
# Inactivity: retention is read at the first three of these after the lapse mark (the
# curve is 1 until it by construction).
LAPSE_RETENTION_MONTHS = (3, 6, 12, 24)
COMPLAINT_TYPES = ("complaint",)  # ticket types counted as complaints by the risk model
NOT_RECORDED = N_("not recorded")  # a churn reason left blank
OTHER = N_("other")  # a group value left blank
ALL_CUSTOMERS = N_("all customers")  # the one group of an ungrouped survival curve
# The customers columns the churn models and lists read.
CUSTOMER_COLUMNS = ("customer_id", "name", "segment", "region", "owner", "signup_date",
                    "status", "churn_date", "churn_reason", "tenure_months",
                    "monthly_revenue")


# -- which churn, which groups -------------------------------------------------------------
def has_churn_dates(wh) -> bool:
    """Whether any customer of the whole customers table (not a filtered slice, so that a
    filter never switches the definition) has a churn_date."""
    if wh.has("customers") and "churn_date" in wh.table("customers").columns:
        c = wh.table("customers")
        return int(execute(c.count(where=c.churn_date.notnull()))) > 0
    return False


def customer_groups(wh, column: str) -> int:
    """How many distinct values the customers column ``column`` holds (0 when there is no
    such column)."""
    if not wh.has("customers") or column not in wh.table("customers").columns:
        return 0
    return int(execute(wh.table("customers")[column].nunique()))


# -- frames the KPIs share -----------------------------------------------------------------
def _customers(wh, filters: Filters, columns=()) -> pd.DataFrame:
    """The selected customers, one row each, with :data:`CUSTOMER_COLUMNS` and
    ``columns`` (those the table has); dates as datetimes."""
    if not wh.has("customers"):  # a warehouse built without ingest (tests, frames)
        return pd.DataFrame({"customer_id": pd.Series([], dtype="string")})
    c = apply_filters(wh, "customers", filters, period=False)
    wanted = dict.fromkeys([*CUSTOMER_COLUMNS, *(col for col in columns if col)])
    frame = execute(c.select(*[col for col in wanted if col in c.columns]))
    for col in ("signup_date", "churn_date"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col])
    return frame


def _daily_orders(wh, filters: Filters) -> pd.DataFrame:
    """customer_id, order_date (a day), amount: completed orders of the selection summed
    per customer and day, up to the period end (what the retail models read)."""
    o = classified_orders(wh, filters, period=False)
    o = o.filter((o.order_kind == "completed") & o.customer_id.notnull()
                 & (o.order_date < ts(filters.end_exclusive)))
    o = o.mutate(day=o.order_date.truncate("D"))
    frame = execute(o.group_by(["customer_id", "day"]).agg(amount=o.amount.sum()))
    frame = frame.rename(columns={"day": "order_date"})
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["amount"] = frame["amount"].astype(float)
    return frame


def _in_period(dates: pd.Series, filters: Filters) -> pd.Series:
    """Dates on a day of the period (times of day included)."""
    return (dates >= filters.start) & (dates < filters.end_exclusive)


# -- churn and retention by inactivity -----------------------------------------------------
def _inactivity_table(wh, filters: Filters, inactive_days: int) -> ibis.Table:
    """Customers of the selection active at the period start, with ``lapsed`` (bool: the
    lapse falls in the period), ``last_order`` (last completed order up to the period end)
    and the customers columns."""
    gap = pd.Timedelta(days=inactive_days)
    o = classified_orders(wh, filters, period=False)
    o = o.filter((o.order_kind == "completed") & o.customer_id.notnull()
                 & (o.order_date < ts(filters.end_exclusive)))
    per = o.group_by("customer_id").agg(
        before=o.order_date.max(where=o.order_date < ts(filters.start)),
        last_order=o.order_date.max())
    per = per.filter(per.before >= ts(filters.start - gap))
    base = customer_base(wh, filters)
    joined = base.inner_join(per, "customer_id").select(*base.columns, "last_order")
    return joined.mutate(lapsed=joined.last_order < ts(filters.end_exclusive - gap))


def inactivity_churn(wh, filters: Filters, *, inactive_days: int = INACTIVE_DAYS, by=None,
                     retained: bool = False):
    """Churn (or, with ``retained``, retention) by inactivity over the period: a Rate, or a
    rate frame by customers columns (``by``, then numerator, denominator, value, ci_low,
    ci_high, too_few)."""
    t, by = with_breakdown(wh, "customers", _inactivity_table(wh, filters, inactive_days), by)
    counted = t.count(where=~t.lapsed) if retained else t.count(where=t.lapsed)
    frame = rate_frame(grouped(t, by, numerator=counted, denominator=t.count()),
                       "numerator", "denominator")
    if by:
        return frame
    row = frame.iloc[0]
    return Rate.from_counts(row["numerator"], row["denominator"])


# The formulas below are catalog messages (crmkit.i18n), so they spell the defaults out
# (INACTIVE_DAYS 180, AT_RISK_PROBABILITY 50%, HOLDOUT_DAYS 180, RETENTION_MONTHS 3, 6,
# 12, LAPSE_RETENTION_MONTHS 3, 6, 12, 24, SURVIVAL_GROUPS 6): change them with these.
@metric(name="inactivity_churn_rate", returns="rate", title=N_("Churn rate (inactivity)"),
        unit=N_("percent"), grain=N_("period"), needs=("orders",),
        formula=N_("without churn dates a customer churns inactive_days (default 180) after "
                   "their last completed order, on that day; rate = customers active at the "
                   "period start whose lapse falls in the period (no completed order in the "
                   "inactive_days up to its end) / customers active at the period start: "
                   "first completed order before it and the last one fewer than "
                   "inactive_days (default 180) before it; activity counts the completed "
                   "orders the filters select; 95% Wilson interval"))
def inactivity_churn_rate(wh, filters, *, inactive_days: int = INACTIVE_DAYS, by=None):
    """Rate, or a rate frame by customers columns."""
    return inactivity_churn(wh, filters, inactive_days=inactive_days, by=by)


@metric(name="inactivity_retention_rate", returns="rate",
        title=N_("Retention rate (inactivity)"), unit=N_("percent"), grain=N_("period"),
        needs=("orders",),
        formula=N_("1 − churn rate (inactivity): customers active at the period start who "
                   "have not lapsed by its end (a completed order in the inactive_days, "
                   "default 180, up to its end) / customers active at the period start: "
                   "first completed order before it and the last one fewer than "
                   "inactive_days (default 180) before it; activity counts the completed "
                   "orders the filters select; 95% Wilson interval"))
def inactivity_retention_rate(wh, filters, *, inactive_days: int = INACTIVE_DAYS, by=None):
    """Rate, or a rate frame by customers columns."""
    return inactivity_churn(wh, filters, inactive_days=inactive_days, by=by, retained=True)


# -- reasons -------------------------------------------------------------------------------
@metric(name="churn_reasons", returns="frame", title=N_("Churn reasons"), unit=N_("percent"),
        grain=N_("reason"), needs=("customers.churn_date", "customers.churn_reason",
                                   "customers.monthly_revenue"),
        formula=N_("customers whose churn_date falls in the period (also those who joined in "
                   "it), by churn_reason (blank: not recorded); share = their number / all "
                   "of them; monthly_revenue = the sum of what they paid per month"))
def churn_reasons(wh, filters) -> pd.DataFrame:
    """churn_reason, customers, share, monthly_revenue: most frequent first; no rows when
    nobody churned in the period."""
    c = apply_filters(wh, "customers", filters, period=False)
    left = c.filter((c.churn_date.cast("timestamp") >= ts(filters.start))
                    & (c.churn_date.cast("timestamp") < ts(filters.end_exclusive)))
    reason = left.churn_reason.fill_null(NOT_RECORDED)
    left = left.mutate(churn_reason=ibis.ifelse(reason.strip() == "", NOT_RECORDED, reason))
    frame = execute(left.group_by("churn_reason").agg(
        customers=left.count(), monthly_revenue=left.monthly_revenue.sum()))
    if frame.empty:
        return frame.assign(share=[])
    frame["customers"] = frame["customers"].astype("int64")
    frame["monthly_revenue"] = frame["monthly_revenue"].astype(float).fillna(0.0)
    frame["share"] = frame["customers"] / frame["customers"].sum()
    frame = frame.sort_values(["customers", "churn_reason"], ascending=[False, True],
                              kind="stable").reset_index(drop=True)
    if (frame["churn_reason"] != NOT_RECORDED).sum() == 0:
        raise MetricUnavailable(N_("no churn reasons are recorded"))
    return frame[["churn_reason", "customers", "share", "monthly_revenue"]]


@metric(name="churn_reasons_by_group", returns="frame", title=N_("Churn reasons by group"),
        unit=N_("percent"), grain=N_("reason × group"),
        needs=("customers.churn_date", "customers.churn_reason"),
        formula=N_("customers whose churn_date falls in the period, by churn_reason (missing: "
                   "not recorded) and group (missing: other); share = leavers of the reason "
                   "in the group / all leavers of the group"))
def churn_reasons_by_group(wh, filters, *, by=None) -> pd.DataFrame:
    """reason, then one column per group of ``by`` with the shares of each reason among
    the group's leavers (reasons and groups sorted); ``attrs["leavers"]``: group ->
    leavers. MetricUnavailable when the leavers fall in fewer than two groups."""
    if not by:
        raise MetricUnavailable(N_("needs a customers column to group by"))
    column = by if isinstance(by, str) else by[0]
    customers = _customers(wh, filters, (column,))
    if column not in customers:
        raise MetricUnavailable(tr("needs customers.{column}").format(column=column))
    left = customers[customers["churn_date"].pipe(_in_period, filters)]
    if left[column].nunique() < 2:
        raise MetricUnavailable(tr("the period's leavers fall in fewer than two {column} "
                                   "groups").format(column=column))
    counts = pd.crosstab(left["churn_reason"].fillna(NOT_RECORDED).rename("reason"),
                         left[column].fillna(OTHER))
    shares = (counts / counts.sum()).reset_index()
    shares.columns = [str(c) for c in shares.columns]
    shares.attrs["leavers"] = {str(k): int(v) for k, v in counts.sum().items()}
    return shares


# -- how long customers stay ---------------------------------------------------------------
@metric(name="customer_lifetimes", returns="frame",
        title=N_("Time as a customer (contractual churn)"), unit=N_("months"),
        grain=N_("customer"), needs=("customers",),
        formula=N_("per customer who signed up by the period end: months from signup_date to "
                   "churn_date, censored at the period end when no churn date is on or "
                   "before it (else tenure_months and status); retention at n months "
                   "(default 3, 6, 12) = Kaplan–Meier survival at n months (lifelines) with "
                   "its 95% interval; groups compared by a log-rank test"))
def customer_lifetimes(wh, filters, *, columns=(), months=RETENTION_MONTHS) -> pd.DataFrame:
    """customer_id, the customers columns (and ``columns``), duration (months), event
    (churned by the period end); ``attrs["months"]``: the months to read retention at."""
    from crmkit.models.survival import contractual_durations

    customers = _customers(wh, filters, columns)
    if customers.empty:
        raise MetricUnavailable(N_("no customers in the selection"))
    durations = contractual_durations(customers, observation_end=filters.end).reset_index()
    if durations.empty:
        raise MetricUnavailable(N_("no customers signed up by the period end"))
    durations.attrs["months"] = tuple(months)
    return durations


@metric(name="inactivity_lifetimes", returns="frame",
        title=N_("Time as a customer (inactivity churn)"), unit=N_("months"),
        grain=N_("customer"), needs=("orders",),
        formula=N_("per customer with a completed order by the period end: months from the "
                   "first completed order to the lapse (last order + inactive_days, default "
                   "180), censored at the period end when not lapsed by then; retention at n "
                   "months = Kaplan–Meier survival at n months (lifelines) with its 95% "
                   "interval, read only after the lapse mark (first three of 3, 6, 12, 24 "
                   "months); groups compared by a log-rank test"))
def inactivity_lifetimes(wh, filters, *, inactive_days: int = INACTIVE_DAYS, columns=(),
                         months=LAPSE_RETENTION_MONTHS) -> pd.DataFrame:
    """customer_id, duration (months), event (lapsed by the period end) and the
    customers ``columns``; ``attrs["months"]``: the months to read retention at."""
    from crmkit.models.survival import noncontractual_durations

    orders = _daily_orders(wh, filters)
    if orders.empty:
        raise MetricUnavailable(N_("no completed orders in the selection"))
    durations = noncontractual_durations(orders, observation_end=filters.end,
                                         inactive_days=inactive_days).reset_index()
    columns = [c for c in columns if c]
    if columns:
        groups = _customers(wh, filters, columns)
        durations = durations.merge(groups[["customer_id", *columns]], on="customer_id",
                                    how="left")
    if durations.empty:
        raise MetricUnavailable(N_("no customers signed up by the period end"))
    mark = inactive_days / (365.25 / 12)
    durations.attrs["months"] = tuple(t for t in months if t > mark)[:3]
    return durations


# -- churn risk ----------------------------------------------------------------------------
def _complaints(wh, filters: Filters, complaint_types) -> pd.DataFrame:
    t = apply_filters(wh, "tickets", filters, period=False)
    t = t.filter(t.customer_id.notnull() & (t.opened_at < ts(filters.end_exclusive))
                 & t.type.lower().isin(list(complaint_types)))
    return execute(t.select("customer_id", "opened_at", "type"))


def _csat(wh, filters: Filters) -> pd.DataFrame:
    """customer_id, date, csat: one row per customer with the mean CSAT up to the period
    end (churn_features takes the mean per customer, so the mean of one row is the same
    number, and only one row per customer crosses from the warehouse)."""
    s = apply_filters(wh, "surveys", filters, period=False)
    s = s.filter(s.customer_id.notnull() & s.csat.notnull()
                 & (s.date < ts(filters.end_exclusive)))
    frame = execute(s.group_by("customer_id").agg(date=s.date.max(), csat=s.csat.mean()))
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def _risk_attrs(scores: pd.DataFrame, revenue_base: float, probability: float) -> dict:
    return {"revenue_at_risk": float(scores["revenue_at_risk"].sum()),
            "revenue_base": revenue_base,
            "at_risk": int((scores["churn_probability"] >= probability).sum()),
            "scored": len(scores), "at_risk_probability": probability}


@metric(name="contract_churn_risk", returns="frame",
        title=N_("Churn probability and revenue at risk (contractual)"), unit=N_("currency"),
        grain=N_("customer"), needs=("customers.monthly_revenue",),
        formula=N_("churn probability = logistic regression on tenure, monthly revenue, "
                   "complaints (tickets of the complaint types up to the period end) and mean "
                   "CSAT (crmkit.models.risk.contractual_churn_risk; a feature without "
                   "variance is left out), fitted on the selected customers, 5-fold "
                   "cross-validated AUC; scored: customers active at the period end; revenue "
                   "at risk = monthly_revenue × 12 × churn probability; at risk from a "
                   "probability of 50% (default)"))
def contract_churn_risk(wh, filters, *, at_risk_probability: float = AT_RISK_PROBABILITY,
                        complaint_types=COMPLAINT_TYPES, columns=()) -> pd.DataFrame:
    """customer_id, churn_probability, monthly_revenue, revenue_at_risk and the customers
    columns (and ``columns``), most revenue at risk first. ``attrs``: revenue_at_risk,
    revenue_base (their annual revenue), at_risk, scored, fitted, auc, features,
    odds_ratios (feature -> odds ratio per standard deviation), at_risk_probability."""
    from crmkit.models.risk import churn_features, contractual_churn_risk

    customers = _customers(wh, filters, columns)
    if customers.empty or customers["monthly_revenue"].isna().all():
        raise MetricUnavailable(N_("needs customers.monthly_revenue"))
    tickets = _complaints(wh, filters, complaint_types) if wh.has("tickets") else None
    surveys = _csat(wh, filters) if wh.has("surveys") else None
    features = churn_features(customers, observation_end=filters.end, tickets=tickets,
                              surveys=surveys, complaint_types=complaint_types)
    # A ticket or survey feature without variance (none in the selection) says nothing.
    flat = [c for c in ("complaints", "csat") if c in features
            and features[c].nunique(dropna=True) <= 1]
    features = features.drop(columns=flat)
    try:
        model = contractual_churn_risk(features)
    except ValueError as err:
        raise MetricUnavailable(str(err)) from None
    scores = model.scores.join(customers.set_index("customer_id")
                               .drop(columns="monthly_revenue"), how="left")
    scores = scores.reset_index().rename(columns={"index": "customer_id",
                                                  "p_churn": "churn_probability"})
    coefficients = model.coefficients.reset_index()
    scores.attrs.update(
        _risk_attrs(scores, float(scores["monthly_revenue"].fillna(0).sum() * 12),
                    at_risk_probability),
        fitted=model.n_customers, auc=model.cv_auc, features=tuple(model.features),
        odds_ratios=dict(zip(coefficients["feature"], coefficients["odds_ratio"])))
    return scores


@metric(name="inactivity_churn_risk", returns="frame",
        title=N_("Churn probability and revenue at risk (inactivity)"), unit=N_("currency"),
        grain=N_("customer"), needs=("orders",),
        formula=N_("churn probability = 1 − BG/NBD P(alive) fitted on the selection's "
                   "completed orders up to the period end "
                   "(crmkit.models.risk.noncontractual_risk); scored: customers not lapsed "
                   "(last order fewer than inactive_days, default 180, before the period end) "
                   "with revenue in the last 365 days; revenue at risk = that revenue × (1 − "
                   "P(alive)); at risk from a probability of 50% (default); checked by the "
                   "AUC of the BG/NBD expected purchases fitted up to holdout_days (default "
                   "180) before the period end at ranking who bought again in those days"))
def inactivity_churn_risk(wh, filters, *, inactive_days: int = INACTIVE_DAYS,
                          at_risk_probability: float = AT_RISK_PROBABILITY,
                          holdout_days: int = HOLDOUT_DAYS, columns=()) -> pd.DataFrame:
    """customer_id, the BG/NBD risk columns (p_alive, trailing_revenue, revenue_at_risk,
    last_order_date, days_since_last_order ...), churn_probability and the customers
    columns, most revenue at risk first. ``attrs``: revenue_at_risk, revenue_base,
    at_risk, scored, fitted, auc, holdout_days, checked (customers the AUC ranked),
    at_risk_probability."""
    from crmkit.models.risk import noncontractual_holdout_auc, noncontractual_risk

    orders = _daily_orders(wh, filters)
    if orders["customer_id"].nunique() < MIN_DENOMINATOR:
        raise MetricUnavailable(tr("fewer than {n} customers with orders").format(
            n=MIN_DENOMINATOR))
    try:
        risk = noncontractual_risk(orders, observation_end=filters.end)
    except (ValueError, FloatingPointError) as err:
        raise MetricUnavailable(tr("the BG/NBD model did not fit ({error})").format(
            error=err)) from None
    auc, checked = noncontractual_holdout_auc(orders, observation_end=filters.end,
                                              holdout_days=holdout_days,
                                              min_customers=MIN_DENOMINATOR)
    # Active = not yet lapsed by the inactivity definition; the lapsed are win-back's.
    active = risk[(risk["days_since_last_order"] < inactive_days)
                  & (risk["trailing_revenue"] > 0)].copy()
    active["churn_probability"] = 1 - active["p_alive"]
    customers = _customers(wh, filters, columns).set_index("customer_id")
    scores = active.join(customers, how="left").reset_index()
    scores = scores.sort_values(["revenue_at_risk", "churn_probability"],
                                ascending=False, kind="stable").reset_index(drop=True)
    scores.attrs.update(
        _risk_attrs(scores, float(scores["trailing_revenue"].sum()), at_risk_probability),
        fitted=len(risk), auc=auc, holdout_days=holdout_days, checked=checked)
    return scores


# -- who left ------------------------------------------------------------------------------
@metric(name="churned_customers", returns="frame",
        title=N_("Customers who churned in the period (contractual)"), unit=N_("currency"),
        grain=N_("customer"), needs=("customers.churn_date", "customers.monthly_revenue"),
        formula=N_("customers whose churn_date falls in the period, left_on = churn_date, "
                   "annual_revenue = monthly_revenue × 12; most annual revenue first"))
def churned_customers(wh, filters, *, columns=()) -> pd.DataFrame:
    """The customers columns (and ``columns``), left_on, annual_revenue."""
    c = _customers(wh, filters, columns)
    left = c[c["churn_date"].pipe(_in_period, filters)].copy()
    left["left_on"] = left["churn_date"]
    left["annual_revenue"] = left["monthly_revenue"].astype(float) * 12
    return _by_revenue(left)


@metric(name="lapsed_customers", returns="frame",
        title=N_("Customers who lapsed in the period (inactivity)"), unit=N_("currency"),
        grain=N_("customer"), needs=("orders",),
        formula=N_("customers active at the period start whose lapse (last completed order + "
                   "inactive_days, default 180) falls in the period, left_on = that day; "
                   "annual_revenue = their completed orders in the 365 days up to their last "
                   "order; most annual revenue first"))
def lapsed_customers(wh, filters, *, inactive_days: int = INACTIVE_DAYS,
                     columns=()) -> pd.DataFrame:
    """customer_id, last_order, the customers columns (and ``columns``), left_on,
    annual_revenue."""
    t = _inactivity_table(wh, filters, inactive_days)
    t = t.filter(t.lapsed)
    o = classified_orders(wh, filters, period=False)
    o = o.filter(o.order_kind == "completed")
    year = o.inner_join(t.select("customer_id", "last_order"), "customer_id")
    year = year.filter(year.order_date > year.last_order - ibis.interval(days=365))
    revenue = execute(year.group_by("customer_id").agg(annual_revenue=year.amount.sum()))
    ids = execute(t.select("customer_id", "last_order"))
    left = ids.merge(_customers(wh, filters, columns), on="customer_id", how="left")
    left = left.merge(revenue, on="customer_id", how="left")
    left["last_order"] = pd.to_datetime(left["last_order"])
    left["left_on"] = left["last_order"].dt.normalize() + pd.Timedelta(days=inactive_days)
    left["annual_revenue"] = left["annual_revenue"].astype(float).fillna(0.0)
    return _by_revenue(left)


def _by_revenue(left: pd.DataFrame) -> pd.DataFrame:
    return left.sort_values(["annual_revenue", "customer_id"], ascending=[False, True],
                            kind="stable").reset_index(drop=True)


# Groups a survival comparison draws: the largest ones, the rest (and missing) as "other".
SURVIVAL_GROUPS = 6


@metric(name="survival_by_group", returns="frame",
        title=N_("Retention curves by group (Kaplan–Meier)"), unit=N_("percent"),
        grain=N_("group × month since signup (or first order)"), needs=("customers",),
        formula=N_("Kaplan–Meier share retained by months since signup (contractual: churn "
                   "date as the event, censored at the period end) or since the first order "
                   "(retail: the event is 180 days without an order); 95% bands; retention "
                   "read at 3, 6 and 12 months (and 24 for retail) with the customers still "
                   "at risk; groups compared by a log-rank test; the largest 6 groups of the "
                   "breakdown, the rest as other"))
def survival_by_group(wh, filters, *, contractual: bool = True,
                      inactive_days: int = INACTIVE_DAYS, column: str | None = None,
                      max_groups: int = SURVIVAL_GROUPS) -> pd.DataFrame:
    """The curves (group, time, survival, ci_lower, ci_upper ...); ``attrs`` holds
    ``table`` (retention at the months, per group, and for all customers when grouped),
    ``test`` (the log-rank test, None with one group), ``customers`` and ``months``."""
    from crmkit.models.survival import logrank_test, retention_at, survival_curves

    columns = (column,) if column else ()
    durations = (customer_lifetimes(wh, filters, columns=columns) if contractual else
                 inactivity_lifetimes(wh, filters, columns=columns,
                                      inactive_days=inactive_days))
    if isinstance(durations, NotAvailable):
        raise MetricUnavailable(durations.reason)
    if column is None:
        durations = durations.assign(group=ALL_CUSTOMERS)
    else:
        values = durations[column].astype("string")
        keep = values.value_counts().index[:max_groups]
        durations = durations.assign(
            group=values.where(values.isin(keep), OTHER).fillna(OTHER).astype(str))
    months = durations.attrs["months"]
    curves = survival_curves(durations, group_col="group")
    table = retention_at(durations, months, group_col="group")
    if column is not None:
        overall = retention_at(durations.assign(group=ALL_CUSTOMERS), months,
                               group_col="group")
        table = pd.concat([table, overall], ignore_index=True)
    test = (logrank_test(durations, group_col="group")
            if durations["group"].nunique() >= 2 else None)
    curves.attrs.update(table=table, test=test, customers=len(durations), months=months)
    return curves
