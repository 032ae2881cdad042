"""Churn KPIs of a customer snapshot: one row per customer with a churn flag, tenure in
months and a monthly charge, often no dates (a subscription CRM export; IBM Telco is the
reference shape).

A snapshot is as of its date: the period of the filters is not used; region, segment,
owner and attribute filters (contract, payment method ...) are. Rows without a churn flag
are left out of every KPI here. Breakdowns (``by=``) use customers columns and attributes;
customers with no value in a ``by`` column are left out of the breakdown (their number is
in ``frame.attrs["without_group"]``), never shown as a group of their own.

The models these KPIs read (Kaplan–Meier on tenure, the churn risk score) are in
:mod:`crmkit.models.snapshot`.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from crmkit.exceptions import ParameterError
from crmkit.i18n import N_, tr
from crmkit.metrics.derived import execute, grouped
from crmkit.metrics.filters import Filters, apply_filters, with_breakdown
from crmkit.metrics.registry import metric
from crmkit.metrics.results import MIN_DENOMINATOR, MetricUnavailable, Rate, rate_frame
from crmkit.models.snapshot import RETENTION_MONTHS, snapshot_churn_model, snapshot_retention

# Churn risk above which an active customer's revenue counts as at risk.
RISK_CUTOFF = 0.5
# Churn reasons that cannot be won back, compared case-insensitively.
NOT_WINNABLE = ("deceased", "moved away", "business closed")
# The kinds of rows of winback_candidates, in the order shown.
CAN_WIN_BACK = N_("can be won back")
CANNOT_WIN_BACK = N_("cannot be won back")
NO_REASON = N_("no reason given")


# -- the snapshot --------------------------------------------------------------------------
def _flagged(wh, filters: Filters) -> ibis.Table:
    """The filtered customers with a known churn flag; MetricUnavailable when the warehouse
    has no flag at all (customers derived from orders have the column, all NULL)."""
    customers = wh.table("customers")
    if "churned" not in customers.columns:
        raise MetricUnavailable(N_("needs customers.churned"))
    if not execute(customers.churned.notnull().any()):
        raise MetricUnavailable(N_("needs churn flags: customers.churned is empty"))
    t = apply_filters(wh, "customers", filters, period=False)
    return t.filter(t.churned.notnull())


def _with_groups(wh, t: ibis.Table, by) -> tuple[ibis.Table, list[str]]:
    """``t`` with the ``by`` columns checked, blank text in them read as missing."""
    t, by = with_breakdown(wh, "customers", t, by)
    blanks = {c: ibis.ifelse(t[c].strip() == "", ibis.null(t[c].type()), t[c])
              for c in by if t[c].type().is_string()}
    return (t.mutate(**blanks) if blanks else t), by


def _known_groups(frame: pd.DataFrame, by: list[str], count: str) -> pd.DataFrame:
    """``frame`` without the rows of a missing group value; how many customers those
    held goes to ``attrs["without_group"]``."""
    if not by:
        return frame
    missing = frame[by].isna().any(axis=1)
    out = frame[~missing].reset_index(drop=True)
    out.attrs["without_group"] = int(frame.loc[missing, count].sum())
    return out


def snapshot_customers(wh, filters: Filters | None = None) -> pd.DataFrame:
    """The filtered customers with a churn flag, every column, sorted by customer_id: what
    the model functions of :mod:`crmkit.models.snapshot` take."""
    t = _flagged(wh, filters if filters is not None else Filters())
    return execute(t.order_by("customer_id")).reset_index(drop=True)


# -- churn rate ----------------------------------------------------------------------------
# The formulas below are catalog messages (crmkit.i18n), so they spell the defaults out
# (MIN_DENOMINATOR 30, RISK_CUTOFF 0.5, NOT_WINNABLE): change them with these.
@metric(name="snapshot_churn_rate", returns="rate",
        title=N_("Churn rate (customer snapshot)"), unit=N_("percent"), grain=N_("snapshot"),
        needs=("customers.churned",),
        formula=N_("customers flagged churned / customers with a known churn flag (churned "
                   "true or false), as of the snapshot; 95% Wilson interval; too few to say "
                   "below 30 customers. The period is not used. By group: customers with no "
                   "value in the group column are left out"))
def snapshot_churn_rate(wh, filters, *, by=None):
    """Share of the customers who have churned: Rate, or a frame with one row per group
    (``by`` columns, then numerator, denominator, value, ci_low, ci_high, too_few)."""
    t, by = _with_groups(wh, _flagged(wh, filters), by)
    frame = grouped(t, by, numerator=t.count(where=t.churned), denominator=t.count())
    frame = _known_groups(frame, by, "denominator")
    rates = rate_frame(frame, "numerator", "denominator")
    rates.attrs.update(frame.attrs)
    if by:
        return rates
    return Rate.from_counts(rates["numerator"].iloc[0], rates["denominator"].iloc[0])


# -- retention by tenure -------------------------------------------------------------------
@metric(name="snapshot_retention_curve", returns="frame",
        title=N_("Retention by months of tenure (Kaplan–Meier, customer snapshot)"),
        unit=N_("percent"), grain=N_("month of tenure"),
        needs=("customers.churned", "customers.tenure_months"),
        formula=N_("Kaplan–Meier S(t) on tenure_months: a churned customer's tenure is the "
                   "time to churn, an active customer is censored at their tenure; S(t) = "
                   "product over tenures u <= t of (1 − customers churned at u / customers "
                   "with tenure >= u); 95% interval exponential Greenwood; at_risk = "
                   "customers with tenure >= t, too few to say below 30; no value past the "
                   "longest tenure observed"))
def snapshot_retention_curve(wh, filters, *, months=RETENTION_MONTHS, by=None) -> pd.DataFrame:
    """[*by], months, retained, ci_low, ci_high, at_risk, churned, customers, too_few: one
    row per group and month of ``months`` (default 12, 24, 36)."""
    t, by = _with_groups(wh, _flagged(wh, filters), by)
    t = t.filter(t.tenure_months.notnull())
    counts = grouped(t, [*by, "tenure_months", "churned"], customers=t.count())
    counts = _known_groups(counts, by, "customers")
    if counts.empty:
        raise MetricUnavailable(N_("no customers with a tenure and a churn flag in the "
                                   "selection"))
    curve = snapshot_retention(counts, months=months, group_cols=by, weight_col="customers")
    curve["too_few"] = curve["at_risk"] < MIN_DENOMINATOR
    curve.attrs.update(counts.attrs)
    return curve


# -- revenue at risk -----------------------------------------------------------------------
@metric(name="revenue_at_risk", returns="frame",
        title=N_("Monthly revenue at risk and lost (customer snapshot)"), unit=N_("currency"),
        grain=N_("snapshot"), needs=("customers.churned", "customers.monthly_revenue"),
        formula=N_("at risk = sum of monthly_revenue of the active customers (churned false) "
                   "whose churn risk is above the cut-off (default 0.5); the risk is the "
                   "out-of-fold probability of churn of a logistic regression on the "
                   "customers' attributes (crmkit.models.snapshot.snapshot_churn_model, "
                   "5-fold cross-validation); lost = sum of monthly_revenue of the churned "
                   "customers, the monthly revenue they paid when they left; both per month"))
def revenue_at_risk(wh, filters, *, cutoff: float = RISK_CUTOFF, by=None) -> pd.DataFrame:
    """[*by], active_customers, active_revenue, at_risk_customers, revenue_at_risk,
    churned_customers, revenue_lost: one row (or one per group). ``attrs`` holds the
    model's ``auc`` and ``n`` (customers it was scored on) and the ``cutoff``."""
    if not 0 <= cutoff <= 1:
        raise ParameterError(f"revenue_at_risk: cutoff is a probability from 0 to 1, "
                             f"got {cutoff!r}")
    t, by = _with_groups(wh, _flagged(wh, filters), by)
    customers = execute(t.order_by("customer_id")).reset_index(drop=True)
    try:
        model = snapshot_churn_model(customers)
    except ValueError as why:
        raise MetricUnavailable(tr("no churn model on this selection: {why}").format(
            why=why)) from None
    risk = model.scores["p_churn"].reindex(customers["customer_id"]).to_numpy()
    churned = customers["churned"].astype(bool).to_numpy()
    revenue = customers["monthly_revenue"].astype(float).fillna(0.0).to_numpy()
    flagged = ~churned & (risk > cutoff)
    parts = pd.DataFrame({
        **{c: customers[c] for c in by}, "_all": 0,
        "active_customers": ~churned, "active_revenue": np.where(churned, 0.0, revenue),
        "at_risk_customers": flagged, "revenue_at_risk": np.where(flagged, revenue, 0.0),
        "churned_customers": churned, "revenue_lost": np.where(churned, revenue, 0.0)})
    frame = parts.groupby(by or ["_all"], sort=True, dropna=False).sum().reset_index()
    frame = frame.drop(columns="_all")
    counts = ["active_customers", "at_risk_customers", "churned_customers"]
    frame[counts] = frame[counts].astype("int64")
    frame["_customers"] = frame["active_customers"] + frame["churned_customers"]
    frame = _known_groups(frame, by, "_customers").drop(columns="_customers")
    frame.attrs.update(auc=model.auc, n=model.n, cutoff=cutoff)
    return frame


def _scored(wh, filters: Filters):
    """The selection's flagged customers (by id) and the churn model fitted on them."""
    customers = execute(_flagged(wh, filters).order_by("customer_id")).reset_index(drop=True)
    try:
        return customers, snapshot_churn_model(customers)
    except ValueError as why:
        raise MetricUnavailable(tr("no churn model on this selection: {why}").format(
            why=why)) from None


@metric(name="churn_drivers", returns="frame",
        title=N_("What goes with churn (customer snapshot model)"), unit=N_("coefficient"),
        grain=N_("feature"), needs=("customers.churned",),
        formula=N_("the coefficients of the churn risk model (logistic regression on the "
                   "customers' attributes, standardized features: the change in log-odds of "
                   "churn per standard deviation, or for a category against the rest), "
                   "strongest first; how well it ranks: out-of-fold ROC AUC with its 95% "
                   "interval (Hanley–McNeil)"))
def churn_drivers(wh, filters, *, top: int = 8) -> pd.DataFrame:
    """feature, coefficient, odds_ratio: the ``top`` strongest; ``attrs`` holds ``auc``,
    ``auc_ci_low``, ``auc_ci_high``, ``n``, ``n_churned`` and ``left_out`` (column ->
    why it is not a feature)."""
    _, model = _scored(wh, filters)
    frame = model.drivers.head(top)[["feature", "coefficient", "odds_ratio"]].reset_index(
        drop=True)
    frame.attrs.update(auc=model.auc, auc_ci_low=model.auc_ci_low,
                       auc_ci_high=model.auc_ci_high, n=model.n, n_churned=model.n_churned,
                       left_out=dict(model.left_out))
    return frame


@metric(name="at_risk_list", returns="frame",
        title=N_("Active customers most at risk (customer snapshot)"),
        unit=N_("probability"), grain=N_("customer"), needs=("customers.churned",),
        formula=N_("active customers (churned false) with the highest out-of-fold churn risk "
                   "of the snapshot model, those above the cut-off (default 0.5), highest "
                   "first, with their monthly revenue"))
def at_risk_list(wh, filters, *, cutoff: float = RISK_CUTOFF, top: int = 20) -> pd.DataFrame:
    """customer_id, p_churn, monthly_revenue: the ``top`` active customers above
    ``cutoff``, riskiest first; ``attrs["at_risk"]`` counts all above it."""
    _, model = _scored(wh, filters)
    risky = model.at_risk(cutoff)
    frame = risky.sort_values(["p_churn", "monthly_revenue"], ascending=False,
                              kind="stable").head(top).rename_axis("customer_id").reset_index()
    frame.attrs["at_risk"] = int(len(risky))
    return frame[["customer_id", "p_churn", "monthly_revenue"]]


# -- win-back ------------------------------------------------------------------------------
@metric(name="winback_candidates", returns="frame",
        title=N_("Win-back candidates by churn reason (customer snapshot)"), unit=N_("count"),
        grain=N_("churn reason"), needs=("customers.churned", "customers.churn_reason"),
        formula=N_("churned customers by churn_reason: those whose reason can be won back are "
                   "the candidates; reasons that cannot (default: deceased, moved away, "
                   "business closed; compared case-insensitively) are counted and left out; "
                   "churned customers without a reason are counted apart; monthly_revenue = "
                   "sum of their monthly_revenue when they left"))
def winback_candidates(wh, filters, *, not_winnable=NOT_WINNABLE) -> pd.DataFrame:
    """kind ("can be won back", "cannot be won back", "no reason given"), churn_reason,
    customers, monthly_revenue: one row per reason, candidates first (most customers
    first), and always one "no reason given" row (churn_reason missing)."""
    rules = _reason_rules(not_winnable)
    if not execute(wh.table("customers").churn_reason.notnull().any()):
        raise MetricUnavailable(N_("needs churn reasons: customers.churn_reason is empty"))
    t = _flagged(wh, filters)
    t = t.filter(t.churned)
    reason = t.churn_reason.strip()
    t = t.mutate(churn_reason=ibis.ifelse(reason == "", ibis.null("string"), reason))
    revenue = (t.monthly_revenue.sum() if "monthly_revenue" in t.columns
               else ibis.null("float64"))
    frame = grouped(t, ["churn_reason"], customers=t.count(), monthly_revenue=revenue)
    known = frame["churn_reason"].notna()
    lost = frame["churn_reason"].str.lower().isin(rules)
    frame["kind"] = np.where(~known, NO_REASON, np.where(lost, CANNOT_WIN_BACK, CAN_WIN_BACK))
    if known.all():  # the row is always there: "none without a reason" is a finding too
        none = pd.DataFrame({"churn_reason": [None], "customers": [0], "kind": [NO_REASON],
                             "monthly_revenue": [0.0]})
        frame = pd.concat([frame, none], ignore_index=True)
    order = {CAN_WIN_BACK: 0, CANNOT_WIN_BACK: 1, NO_REASON: 2}
    frame = frame.assign(_order=frame["kind"].map(order)).sort_values(
        ["_order", "customers", "churn_reason"], ascending=[True, False, True], kind="stable")
    frame["customers"] = frame["customers"].astype("int64")
    frame["monthly_revenue"] = frame["monthly_revenue"].astype(float)
    return frame[["kind", "churn_reason", "customers", "monthly_revenue"]].reset_index(drop=True)


def _reason_rules(not_winnable) -> set[str]:
    if isinstance(not_winnable, str):
        not_winnable = [not_winnable]
    if isinstance(not_winnable, dict) or not all(isinstance(r, str) for r in not_winnable):
        raise ParameterError("winback_candidates: not_winnable is a list of churn reasons "
                             f"such as {list(NOT_WINNABLE)}, got {not_winnable!r}")
    return {r.strip().lower() for r in not_winnable}

