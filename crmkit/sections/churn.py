"""Sections of the churn report: how many customers leave, when, why, who is at risk next
and how much revenue that is.

Which churn (:func:`churn_basis`, decided on the whole customers table, not the filtered
slice, so a filter never switches the definition):

contractual
    Some customer has a ``churn_date`` (subscriptions). A customer churns on that date.
    Churn and retention rates are the ``churn_rate`` / ``retention_rate`` KPIs; survival
    runs from signup to churn; the at-risk score is the logistic model
    :func:`crmkit.models.risk.contractual_churn_risk` (revenue at risk = monthly revenue
    × 12 × churn probability).
inactivity
    No churn dates (retail; customers derived from orders). A customer churns when
    :data:`INACTIVE_DAYS` pass without a completed order, dated on the day that becomes
    visible (last order + INACTIVE_DAYS), as in
    :func:`crmkit.models.survival.noncontractual_durations`. Churn rate over a period =
    customers active at its start (first completed order before it, last one fewer than
    INACTIVE_DAYS before it) whose lapse falls in the period (no completed order in the
    INACTIVE_DAYS up to its end) / customers active at its start. Activity counts the
    completed orders the filters select. The at-risk score is BG/NBD probability alive
    (:func:`crmkit.models.risk.noncontractual_risk`; revenue at risk = last 365 days'
    revenue × (1 − p_alive)).

Breakdowns (highest churn, survival curves, win-back groups) use ``report.by`` when it is
a customers column with at least two values, else ``segment``, else region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmkit import charts, i18n, narrative
from crmkit.i18n import N_, tr
from crmkit.metrics import NotAvailable, Rate
from crmkit.metrics.churn import (  # noqa: F401  (inactivity_churn: kept importable here)
    ALL_CUSTOMERS,
    INACTIVE_DAYS,
    NOT_RECORDED,
    OTHER,
    customer_groups,
    has_churn_dates,
    inactivity_churn,
)
from crmkit.metrics.filters import Filters
from crmkit.metrics.snapshot import CAN_WIN_BACK, CANNOT_WIN_BACK
from crmkit.metrics.results import format_value
from crmkit.models.risk import feature_label
from crmkit.report.markup import escape_markdown, format_markdown
from crmkit.sections.base import COMMON_SECTIONS, Report, Table, Text, not_available
from crmkit.sections.cards import kpi_cards

TITLE = N_("Churn and retention")
TOP_AT_RISK = 20  # rows of the at-risk list
TOP_WINBACK = 10  # rows of the win-back call list
TOP_WINBACK_RULES = 3  # win-back recommendations repeated in the conclusions
MAX_GROUPS = 6  # survival curves drawn; smaller groups go to "other"
SIGNIFICANCE = 0.05  # log-rank p-value below which curves "differ"
# How well a ranking model's AUC lets a reader trust the list (first floor met wins).
AUC_WORDS = ((0.8, N_("ranks customers well")), (0.7, N_("ranks customers fairly")),
             (0.6, N_("ranks customers only weakly")),
             (0.0, N_("is barely better than chance")))
GROUP_COLUMNS = ("segment", "region")  # breakdown fallbacks when report.by is not usable

# Win-back rules (data: copy, edit and pass back to winback_items). A reason rule fires
# when customers who left in the period for one of its ``reasons`` (matched without case)
# are at least ``min_share`` of the leavers; ``winnable: False`` reasons get no campaign.
# In ``text``: {n} leavers, {share} of all leavers, {revenue} their annual revenue.
WINBACK_REASON_RULES: list[dict] = [
    {"reasons": ("price", "too expensive", "cost"), "min_share": 0.10, "priority": 3,
     "text": N_("{n} customers left over price ({share} of leavers, {revenue} a year): "
                "offer them a smaller plan or a loyalty price before they sign elsewhere.")},
    {"reasons": ("competitor",), "min_share": 0.10, "priority": 3,
     "text": N_("{n} customers left for a competitor ({share} of leavers, {revenue} a "
                "year): ask the largest accounts what the competitor offered and answer "
                "it.")},
    {"reasons": ("service quality", "service", "support"), "min_share": 0.10, "priority": 3,
     "text": N_("{n} customers left over service quality ({share} of leavers, {revenue} a "
                "year): show them what was fixed and give each a named contact before "
                "asking them back.")},
    {"reasons": ("no longer needed",), "min_share": 0.10, "priority": 1,
     "text": N_("{n} customers no longer needed the product ({share} of leavers, {revenue} "
                "a year): keep them in touch with a pause plan or newsletter and ask again "
                "in six months.")},
    {"reasons": ("moved", "relocated"), "min_share": 0.05, "priority": 1, "winnable": False,
     "text": N_("{n} customers left because they moved ({revenue} a year): not a "
                "win-back target; ask them for referrals instead.")},
]
# A group rule fires for each group whose churn rate is at least ``min_ratio`` times the
# overall rate (and not "too few to say"). {group}, {value}, {overall}, {n}, {revenue}.
WINBACK_GROUP_RULE: dict = {
    "min_ratio": 1.25, "priority": 2,
    "text": N_("{group} churned at {value} against {overall} overall ({n} customers, "
               "{revenue} a year): start win-back and retention work there."),
}
# Report-level rules for narrative.recommendation_items (same shape as its rules).
CHURN_RULES: list[dict] = [
    {"metric": "at_risk_revenue_share", "op": ">", "threshold": 0.05, "unit": "percent",
     "priority": 3,
     "text": N_("{value} of the active customers' annual revenue is at risk: give the "
                "at-risk list to the account owners this month, highest revenue at risk "
                "first.")},
    {"metric": "risk_model_auc", "op": "<", "threshold": 0.7, "unit": "score", "priority": 1,
     "text": N_("The churn score's AUC is only {value}: treat the at-risk list as a rough "
                "ranking and add features (usage, payments, contract end) before relying "
                "on it.")},
]


# -- which churn ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ChurnBasis:
    """How churn is defined for this warehouse: "contractual" or "inactivity"."""

    kind: str
    inactive_days: int = INACTIVE_DAYS

    @property
    def contractual(self) -> bool:
        return self.kind == "contractual"

    def describe(self) -> str:
        """One Markdown sentence a reader needs before any churn number."""
        if self.contractual:
            return tr("**Churn definition (contractual):** a customer churns on the churn "
                      "date recorded in the customers table; the churn rate of a period is "
                      "the customers who churned in it over the customers active at its "
                      "start.")
        return tr("**Churn definition (inactivity):** the data records no churn dates, so a "
                  "customer counts as churned after {days} days without a completed order, "
                  "on the day that mark is reached; the churn rate of a period is the "
                  "customers active at its start (an order in the {days} days before it) "
                  "who reach that mark in it, over those active at its start."
                  ).format(days=self.inactive_days)


def churn_basis(wh) -> ChurnBasis:
    """Contractual when any customer has a churn_date, else churn by inactivity."""
    return ChurnBasis("contractual" if has_churn_dates(wh) else "inactivity")


def _basis(report: Report) -> ChurnBasis:
    return report.memo("churn_basis", lambda: churn_basis(report.wh))


# -- churn and retention rates -------------------------------------------------------------

def _rate(report: Report, kind: str, filters: Filters | None = None, by=None):
    """Churn (``kind="churn"``) or retention rate on ``filters`` under the report's basis."""
    filters = report.filters if filters is None else filters
    basis = _basis(report)
    if basis.contractual:
        return report.kpi(f"{kind}_rate", filters, **({"by": by} if by else {}))
    return report.kpi(f"inactivity_{kind}_rate", filters, inactive_days=basis.inactive_days,
                      **({"by": by} if by else {}))


def _group_column(report: Report) -> str | None:
    """The breakdown for groups: report.by if a customers column with 2+ values, else
    segment, else region; None when none has two values."""
    def usable(column):
        return customer_groups(report.wh, column) >= 2

    return report.memo("group_column", lambda: next(
        (c for c in (report.by, *GROUP_COLUMNS) if c and usable(c)), None))


def _usable_rate(rate) -> bool:
    return isinstance(rate, Rate) and not rate.too_few and rate.denominator > 0


def _column_text(column: str) -> str:
    """A customers column named in a sentence: its reader's name (crmkit.labels), which
    for a column of the user's is the column itself with spaces for underscores."""
    from crmkit.labels import column_label

    if _english():
        return column.replace("_", " ")
    label = column_label(column)
    # A name in Latin letters (a column of the user's) stands apart from Chinese words.
    return f" {label} " if re.search(r"[A-Za-z0-9]", label[:1] + label[-1:]) else label


# Group and reason values the metrics make up (not data): shown in the reader's language.
MADE_UP_VALUES = (NOT_RECORDED, OTHER, ALL_CUSTOMERS)


def _reason_text(value):
    """A churn reason or group as shown: the data's own value, or a made-up one
    ("not recorded", "other") in the reader's language."""
    return tr(value) if isinstance(value, str) and value in MADE_UP_VALUES else value


def _month_name(day) -> str:
    """April 2025 / 2025年4月: a month named in full in the active locale."""
    from babel import dates

    return dates.format_skeleton("yMMMM", pd.Timestamp(day).date(),
                                 locale=i18n.current().locale)


def _names_text(names) -> str:
    """Names listed in a sentence: "a, b, c" in English (as the report always wrote
    them), the locale's list elsewhere (a、b和c)."""
    return ", ".join(names) if _english() else i18n.list_text(names)


def _english() -> bool:
    return i18n.current().language == i18n.SOURCE_LANGUAGE


def _iso_day(day) -> str:
    """A day in a sentence: 2025-06-30 in English (as the report always wrote it), the
    locale's date elsewhere (2025年6月30日)."""
    return f"{day:%Y-%m-%d}" if _english() else i18n.date(day)


# -- summary -------------------------------------------------------------------------------

def summary(report: Report) -> list:
    """The definition used, then the main findings: churn and retention rate with their
    change, the group that churns most, the top churn reason, customers and revenue at
    risk. A customer snapshot: its churn rate, the groups that differ most, retention by
    tenure, revenue at risk."""
    if report.has_shape("snapshot"):
        return [Text(tr(SNAPSHOT_BASIS)),
                Text(narrative.findings(_snapshot_findings(report)))]
    basis = _basis(report)
    churn, retention = _rate(report, "churn"), _rate(report, "retention")
    noun = tr("customers active at the start")
    items = [(6, narrative.rate_sentence(tr("Churn rate"), churn, noun=noun)),
             (6, narrative.rate_sentence(tr("Retention rate"), retention, noun=noun))]
    previous = _rate(report, "churn", report.filters.previous_period())
    if _usable_rate(churn) and _usable_rate(previous):
        items.append((5, narrative.change_sentence(tr("Churn rate"), churn, previous,
                                                   "percent")))
    worst = _worst_group(report)
    if worst:
        items.append((4, worst))
    reasons = _reasons(report)
    if isinstance(reasons, pd.DataFrame) and len(reasons):
        top = reasons.iloc[0]
        items.append((3, format_markdown(
            tr("The most common churn reason was {reason}: {n} of {total} leavers "
               "({share})."),
            reason=_reason_text(top["churn_reason"]), n=format_value(top["customers"], "count"),
            total=format_value(reasons["customers"].sum(), "count"),
            share=format_value(top["share"], "percent"))))
    risk = _risk(report)
    if not isinstance(risk, NotAvailable):
        items.append((4, _at_risk_sentence(risk)))
    return [Text(basis.describe()), Text(narrative.findings(items))]


def _worst_group(report: Report) -> str | None:
    column = _group_column(report)
    if column is None:
        return None
    frame = _rate(report, "churn", by=column)
    if isinstance(frame, NotAvailable):
        return None
    frame = frame[~frame["too_few"] & frame[column].notna()]
    if len(frame) < 2:
        return None
    top = frame.sort_values("value", ascending=False, kind="stable").iloc[0]
    return format_markdown(
        tr("By {column}, {group} churned most: {value} ({n} of {d})."),
        column=_column_text(column), group=top[column],
        value=format_value(top["value"], "percent"), n=format_value(top["numerator"], "count"),
        d=format_value(top["denominator"], "count"))


# -- over time -----------------------------------------------------------------------------

def _freq(filters: Filters) -> str:
    """Months for periods up to a year, quarters beyond."""
    return "month" if filters.days <= 366 else "quarter"


def _periods(filters: Filters, freq: str) -> list[tuple[pd.Timestamp, Filters]]:
    """[(period start, filters on that month or quarter cut to ``filters``' period)]."""
    out = []
    for p in pd.period_range(filters.start, filters.end, freq="M" if freq == "month" else "Q"):
        start = max(p.start_time.normalize(), filters.start)
        end = min(p.end_time.normalize(), filters.end)
        out.append((p.start_time.normalize(), filters.with_period(start, end)))
    return out


def _rates_over_time(report: Report, filters: Filters, freq: str) -> pd.DataFrame:
    """period, active_at_start, churned, churn_rate, retention_rate per month or quarter."""
    if _basis(report).contractual:  # one query for all months (the KPI churn_over_time)
        frame = report.kpi("churn_over_time", filters, freq=freq)
        if isinstance(frame, NotAvailable):
            return pd.DataFrame(columns=["period", "active_at_start", "churned",
                                         "churn_rate", "retention_rate"])
        return frame
    rows = []
    for start, f in _periods(filters, freq):
        rate = _rate(report, "churn", f)
        if isinstance(rate, NotAvailable):
            continue
        rows.append({"period": start, "active_at_start": rate.denominator,
                     "churned": rate.numerator, "churn_rate": rate.value,
                     "retention_rate": 1 - rate.value if rate.denominator else np.nan})
    return pd.DataFrame(rows, columns=["period", "active_at_start", "churned",
                                       "churn_rate", "retention_rate"])


def over_time(report: Report) -> list:
    """Churn rate per month (quarter for periods over a year) through the year before the
    period and the period itself (shaded), and the counts of the period's months with the
    same month of last year."""
    f = report.filters
    freq = _freq(f)
    year_before = f.with_period(f.start - pd.DateOffset(years=1), f.end)
    series = _rates_over_time(report, year_before, freq)
    current = series[series["period"] >= f.start.to_period(freq[0].upper()).start_time]
    if current.empty or not current["active_at_start"].any():
        return not_available(report, tr("Churn over time"),
                             NotAvailable(N_("no customers active in the period")))
    pad = pd.Timedelta(days=10 if freq == "month" else 30)
    fig = charts.chart("trend", series, x="period", y="churn_rate", unit="percent",
                       highlight=(current["period"].min() - pad,
                                  current["period"].max() + pad),
                       title=tr("Churn rate per month: the year before and the report "
                                "period (shaded)") if freq == "month" else
                       tr("Churn rate per quarter: the year before and the report period "
                          "(shaded)"), size=(10, 4))
    last_year = series.set_index("period")["churn_rate"]
    table = current.copy()
    table["churn_rate_last_year"] = [last_year.get(p - pd.DateOffset(years=1), np.nan)
                                     for p in table["period"]]
    overall = _rate(report, "churn")
    out = [fig]
    if len(current) > 1 and current["churned"].sum():
        peak = current.loc[current["churn_rate"].idxmax()]
        if freq == "month":
            template = tr("In the period churn peaked in {period} at {value} ({n} of {d} "
                          "customers). Each month's rate is over the customers active at "
                          "its own start, so the months do not add up to the period's rate "
                          "({overall}).")
            period = _month_name(peak["period"])
        else:
            template = tr("In the period churn peaked in {period} at {value} ({n} of {d} "
                          "customers). Each quarter's rate is over the customers active at "
                          "its own start, so the quarters do not add up to the period's rate "
                          "({overall}).")
            period = (peak["period"].strftime("%Y-%m") if _english()
                      else i18n.quarter(peak["period"]))
        out.append(Text(format_markdown(
            template, period=period,
            value=format_value(peak["churn_rate"], "percent"),
            n=format_value(peak["churned"], "count"),
            d=format_value(peak["active_at_start"], "count"),
            overall=format_value(getattr(overall, "value", np.nan), "percent"))))
    out.append(Table(table, {"period": "{:%Y-%m}", "active_at_start": "count",
                             "churned": "count", "churn_rate": "percent",
                             "retention_rate": "percent", "churn_rate_last_year": "percent"},
                     caption=tr("Per month of the period: customers active at its start, "
                                "churned in it, churn and retention rate, churn rate in the "
                                "same month last year") if freq == "month" else
                     tr("Per quarter of the period: customers active at its start, churned "
                        "in it, churn and retention rate, churn rate in the same quarter "
                        "last year")))
    return out


# -- survival ------------------------------------------------------------------------------

def _customer_columns(report: Report) -> tuple[str, ...]:
    """The customers column the lists carry beyond the usual ones: the report's breakdown."""
    return (report.by,) if report.by else ()


def survival(report: Report) -> list:
    """Kaplan-Meier retention curves by group with 95% bands, retention at 3 / 6 / 12
    months with the customers still at risk, and a log-rank test in words."""
    basis = _basis(report)
    column = _group_column(report)
    curves = report.kpi("survival_by_group", contractual=basis.contractual,
                        inactive_days=basis.inactive_days, column=column,
                        max_groups=MAX_GROUPS)
    if isinstance(curves, NotAvailable):
        return not_available(report, tr("Survival"), curves)
    drawn = curves.copy()
    drawn.attrs = {}  # the retention table and test ride in attrs; a chart needs the curves
    drawn["group"] = drawn["group"].map(_reason_text)
    if basis.contractual:
        title = tr("Share of customers retained by months since signup")
        xlabel = tr("months since signup")
    else:
        title = tr("Share of customers retained by months since first order")
        xlabel = tr("months since first order")
    fig = charts.chart("survival", drawn, title=title, xlabel=xlabel, ylabel=tr("retained"),
                       size=(10, 4.5))
    out = [fig]
    if basis.contractual:
        scope = tr("All {n} customers of the selection who signed up by {end}, followed to "
                   "that date.")
    else:
        scope = tr("All {n} customers of the selection who first ordered by {end}, followed "
                   "to that date; by construction nobody counts as churned before {days} "
                   "days without an order.")
    scope = scope.format(n=i18n.number(curves.attrs["customers"]),
                         end=_iso_day(report.filters.end), days=basis.inactive_days)
    out.append(Text(escape_markdown(scope)))
    if curves.attrs["test"] is not None:
        out.append(Text(_logrank_sentence(curves.attrs["test"], column)))
    out.append(Table(*_retention_table(curves.attrs["table"], column or "group"),
                     caption=tr("Kaplan-Meier share retained at each mark (95% CI) and the "
                                "customers still observed there (at risk)")))
    return out


def _retention_table(long: pd.DataFrame, column: str) -> tuple[pd.DataFrame, dict]:
    """retention_at rows -> one row per group: retained (with CI) and at risk per mark."""
    groups = long["group"].unique()
    wide = pd.DataFrame({column: groups})
    formats = {}
    for t, part in long.groupby("time", sort=True):
        part = part.set_index("group").reindex(groups)
        retained = tr("retained at {months} months").format(months=f"{t:g}")
        at_risk = tr("at risk at {months} months").format(months=f"{t:g}")
        wide[retained] = [
            f"{i18n.percent(s)} ({i18n.percent(lo)}–{i18n.percent(hi)})" for s, lo, hi in
            zip(part["survival"], part["ci_lower"], part["ci_upper"])]
        wide[at_risk] = part["at_risk"].to_numpy()
        formats[at_risk] = "count"
    wide[column] = wide[column].map(_reason_text)
    return wide, formats


def _logrank_sentence(test: dict, column: str | None) -> str:
    p = test["p_value"]
    shown = "< 0.001" if p < 0.001 else f"{p:.3f}"
    what = _column_text(column or "group")
    if p < SIGNIFICANCE:
        return format_markdown(
            tr("The retention curves of the {k} {what} groups differ by more than chance "
               "would explain (log-rank test, p {p}, {n} customers)."),
            k=test["n_groups"], what=what, p=shown if p < 0.001 else f"= {shown}",
            n=format_value(test["n"], "count"))
    return format_markdown(
        tr("The differences between the {k} {what} curves are within what chance would "
           "produce (log-rank test, p = {p}, {n} customers): read them as one curve."),
        k=test["n_groups"], what=what, p=shown, n=format_value(test["n"], "count"))


# -- reasons -------------------------------------------------------------------------------

def _reasons(report: Report):
    """The churn_reasons KPI; NotAvailable for inactivity churn."""
    if not _basis(report).contractual:
        return NotAvailable(N_("churn is inferred from inactivity, so no reason is "
                               "recorded"))
    return report.kpi("churn_reasons")


def reasons(report: Report) -> list:
    """Why customers who left in the period left: counts, share, the monthly revenue they
    paid, and the reasons by group when there are groups."""
    frame = _reasons(report)
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("Churn reason data"), frame)
    if frame.empty:
        return [Text(tr("No customer churned in the period."))]
    frame = frame.assign(churn_reason=frame["churn_reason"].map(_reason_text))
    fig = charts.chart("bar", frame, x="customers", y="churn_reason", share="share",
                       unit="count", title=tr("Customers who churned in the period, by reason"),
                       size=(10, 0.45 * len(frame) + 1.2))
    out = [fig, Text(narrative.top_sentence(frame, by="churn_reason", value="customers",
                                            what=tr("leavers"))),
           Table(frame, {"customers": "count", "share": "percent",
                         "monthly_revenue": "currency"},
                 caption=tr("Customers whose churn date falls in the period (also those who "
                            "joined in it, whom the churn rate leaves out), by reason; "
                            "monthly revenue = what they paid per month"))]
    by_group = _reasons_by_group(report)
    if by_group is not None:
        out.append(by_group)
    return out


def _reasons_by_group(report: Report) -> Table | None:
    column = _group_column(report)
    if column is None:
        return None
    shares = report.kpi("churn_reasons_by_group", by=column)
    if isinstance(shares, NotAvailable):
        return None
    shown = shares.set_index("reason").map(i18n.percent)
    shown.loc[tr("leavers (all reasons)")] = pd.Series(shares.attrs["leavers"]).map(
        i18n.number)
    shown = shown.reset_index()
    shown["reason"] = shown["reason"].map(_reason_text)
    shown.columns = [_reason_text(c) for c in shown.columns]
    return Table(shown, caption=tr("Share of each reason among the leavers of each {column} "
                                   "(last row: leavers)").format(column=_column_text(column)))


# -- at risk -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AtRisk:
    """Scored active customers and how far to trust the score."""

    kind: str  # contractual / inactivity
    scores: pd.DataFrame  # customer_id, customer columns, probability, revenue_at_risk ...
    revenue_at_risk: float  # total over the scored customers (annual)
    revenue_base: float  # their annual revenue: the denominator of the share at risk
    at_risk: int  # customers with churn probability >= at_risk_probability
    scored: int  # active customers scored
    fitted: int  # customers the model was fitted on
    auc: float  # cross-validated (contractual) or holdout (inactivity) ROC AUC
    auc_note: str
    at_risk_probability: float  # the KPI's "at risk" floor
    coefficients: pd.DataFrame | None = None


def _risk(report: Report):
    """The churn risk KPI of the report's basis as an :class:`AtRisk`; or NotAvailable."""
    def compute():
        basis = _basis(report)
        if basis.contractual:
            scores = report.kpi("contract_churn_risk", columns=_customer_columns(report))
        else:
            scores = report.kpi("inactivity_churn_risk", columns=_customer_columns(report),
                                inactive_days=basis.inactive_days)
        if isinstance(scores, NotAvailable):
            return scores
        a = scores.attrs
        if basis.contractual:
            note = tr("cross-validated AUC of a logistic model on {features}").format(
                features=_names_text([feature_label(f) for f in a["features"]]))
            coefficients = pd.DataFrame({"feature": list(a["odds_ratios"]),
                                         "odds_ratio": list(a["odds_ratios"].values())})
        else:
            note = tr("AUC of the BG/NBD expected purchases, fitted on orders up to {days} "
                      "days before the period end, at ranking which of {checked} customers "
                      "bought again in those days").format(
                days=a["holdout_days"], checked=i18n.number(a["checked"]))
            coefficients = None
        return AtRisk(kind=basis.kind, scores=scores, revenue_at_risk=a["revenue_at_risk"],
                      revenue_base=a["revenue_base"], at_risk=a["at_risk"],
                      scored=a["scored"], fitted=a["fitted"], auc=a["auc"], auc_note=note,
                      at_risk_probability=a["at_risk_probability"],
                      coefficients=coefficients)

    return report.memo("risk", compute)


def _auc_words(auc: float) -> str:
    if not np.isfinite(auc):
        return tr("could not be checked (too few customers with each outcome)")
    return tr(next(words for floor, words in AUC_WORDS if auc >= floor))


def _at_risk_sentence(risk: AtRisk) -> str:
    return format_markdown(
        tr("{n} of {m} active customers are at risk (churn probability {p} or more); the "
           "expected revenue at risk is {revenue} a year, {share} of their annual revenue."),
        n=format_value(risk.at_risk, "count"), m=format_value(risk.scored, "count"),
        p=format_value(risk.at_risk_probability, "percent"),
        revenue=format_value(risk.revenue_at_risk, "currency"),
        share=format_value(risk.revenue_at_risk / risk.revenue_base
                           if risk.revenue_base else np.nan, "percent"))


def at_risk(report: Report) -> list:
    """The active customers with the most revenue at risk, the total, revenue at risk by
    group, and how far to trust the score."""
    risk = _risk(report)
    if isinstance(risk, NotAvailable):
        return not_available(report, tr("The at-risk customer list"), risk)
    out = [Text(_at_risk_sentence(risk)),
           Text(format_markdown(
               tr("How sure: the model was fitted on {n} customers; its {note} is {auc}, so "
                  "it {words}."), n=format_value(risk.fitted, "count"), note=risk.auc_note,
               auc=format_value(risk.auc, "score"), words=_auc_words(risk.auc)))]
    if risk.kind == "contractual":
        out.append(Text(tr(
            "Revenue at risk = monthly revenue × 12 × churn probability. The model compares "
            "customers who left with those who stayed, so read the probability as a ranking "
            "score rather than a forecast of when a customer leaves.")))
        columns = ["customer_id", "name", "segment", "region", "owner", "monthly_revenue",
                   "churn_probability", "revenue_at_risk"]
        formats = {"monthly_revenue": "currency", "churn_probability": "percent",
                   "revenue_at_risk": "currency"}
    else:
        out.append(Text(tr(
            "Revenue at risk = revenue of the last 365 days × (1 − probability the customer "
            "is still active, BG/NBD). Customers who bought once have a probability of 1 in "
            "this model, so they never appear here however long ago they bought.")))
        columns = ["customer_id", "name", "segment", "region", "owner", "last_order_date",
                   "days_since_last_order", "trailing_revenue", "churn_probability",
                   "revenue_at_risk"]
        formats = {"last_order_date": "date", "days_since_last_order": "count",
                   "trailing_revenue": "currency", "churn_probability": "percent",
                   "revenue_at_risk": "currency"}
    scores = risk.scores
    column = _group_column(report)
    if column is not None and column in scores and scores[column].nunique() >= 2:
        by_group = (scores.assign(group=scores[column].fillna(tr(OTHER)))
                    .groupby("group", as_index=False)["revenue_at_risk"].sum()
                    .rename(columns={"group": column}))
        by_group["share"] = by_group["revenue_at_risk"] / by_group["revenue_at_risk"].sum()
        out.append(charts.chart(
            "bar", by_group, x="revenue_at_risk", y=column, share="share",
            title=tr("Expected annual revenue at risk by {column}").format(
                column=_column_text(column)),
            size=(10, 0.45 * len(by_group) + 1.4)))
    columns = [c for c in columns if c in scores and
               (c == "customer_id" or scores[c].notna().any())]
    top = scores.head(TOP_AT_RISK)[columns]
    out.append(Table(top, formats, caption=tr(
        "The {n} active customers with the most revenue at risk (annual)").format(
            n=len(top))))
    if risk.coefficients is not None and len(risk.coefficients):
        coef = risk.coefficients.sort_values("odds_ratio", ascending=False)
        coef["feature"] = coef["feature"].map(feature_label)
        out.append(Table(coef[["feature", "odds_ratio"]], {"odds_ratio": "{:.2f}"},
                         caption=tr("What moves the score: odds ratio of churn per standard "
                                    "deviation of each feature (above 1: more risk)")))
    return out


# -- win-back ------------------------------------------------------------------------------

def _leavers(report: Report):
    """The customers who churned (or lapsed) in the period, one row each: the customers
    columns, left_on, annual_revenue; highest annual revenue first."""
    basis = _basis(report)
    if basis.contractual:
        return report.kpi("churned_customers", columns=_customer_columns(report))
    return report.kpi("lapsed_customers", columns=_customer_columns(report),
                      inactive_days=basis.inactive_days)


def _rule_for(reason: str, rules: list[dict]) -> dict | None:
    key = str(reason).strip().lower()
    return next((r for r in rules if key in r["reasons"]), None)


def winback_items(report: Report, *, reason_rules: list[dict] | None = None,
                  group_rule: dict | None = None) -> list[tuple[float, str]]:
    """Win-back recommendations as (priority, sentence), from the rules above (or those
    given) applied to the period's leavers."""
    reason_rules = WINBACK_REASON_RULES if reason_rules is None else reason_rules
    group_rule = WINBACK_GROUP_RULE if group_rule is None else group_rule
    leavers = _leavers(report)
    if isinstance(leavers, NotAvailable) or leavers.empty:
        return []
    items = []  # (priority, annual revenue concerned, sentence)
    total = len(leavers)
    if "churn_reason" in leavers and leavers["churn_reason"].notna().any():
        for reason, part in leavers.groupby(leavers["churn_reason"].fillna(NOT_RECORDED)):
            rule = _rule_for(reason, reason_rules)
            share = len(part) / total
            if rule is None or share < rule.get("min_share", 0):
                continue
            items.append((rule.get("priority", 1), part["annual_revenue"].sum(), format_markdown(
                tr(rule["text"]), n=format_value(len(part), "count"),
                share=format_value(share, "percent"),
                revenue=format_value(part["annual_revenue"].sum(), "currency"))))
    column = _group_column(report)
    overall = _rate(report, "churn")
    if column is not None and _usable_rate(overall):
        frame = _rate(report, "churn", by=column)
        if not isinstance(frame, NotAvailable):
            for _, row in frame[~frame["too_few"] & frame[column].notna()].iterrows():
                if row["value"] < group_rule["min_ratio"] * overall.value:
                    continue
                part = leavers[leavers[column] == row[column]] if column in leavers else \
                    leavers.iloc[0:0]
                items.append((group_rule.get("priority", 1), part["annual_revenue"].sum(),
                              format_markdown(
                    tr(group_rule["text"]), group=_reason_text(row[column]),
                    value=format_value(row["value"], "percent"),
                    overall=format_value(overall.value, "percent"),
                    n=format_value(row["numerator"], "count"),
                    revenue=format_value(part["annual_revenue"].sum(), "currency"))))
    items.sort(key=lambda item: (-item[0], -item[1]))  # most revenue first within a priority
    return [(priority, sentence) for priority, _, sentence in items]


def winback(report: Report) -> list:
    """Who to win back first: what the period's leavers were worth, the customers worth
    most, and rules (reasons, groups that churn most) turned into actions."""
    leavers = _leavers(report)
    if isinstance(leavers, NotAvailable):
        return not_available(report, tr("Win-back"), leavers)
    if leavers.empty:
        return [Text(tr("No customer churned in the period, so there is no one to win "
                        "back."))]
    contractual = _basis(report).contractual
    winnable = leavers
    if contractual and "churn_reason" in leavers:
        lost_causes = [r for rule in WINBACK_REASON_RULES if rule.get("winnable") is False
                       for r in rule["reasons"]]
        reason = leavers["churn_reason"].fillna("").str.strip().str.lower()
        winnable = leavers[~reason.isin(lost_causes)]
    out = [Text(format_markdown(
        tr("The {n} customers who churned in the period brought in {revenue} a year; {w} of "
           "them ({wrev} a year) left for reasons a win-back offer can address."),
        n=format_value(len(leavers), "count"),
        revenue=format_value(leavers["annual_revenue"].sum(), "currency"),
        w=format_value(len(winnable), "count"),
        wrev=format_value(winnable["annual_revenue"].sum(), "currency"))
        if contractual else format_markdown(
        tr("The {n} customers who lapsed in the period (no order for {days} days) spent "
           "{revenue} in their last year as customers."), n=format_value(len(leavers), "count"),
        days=_basis(report).inactive_days,
        revenue=format_value(leavers["annual_revenue"].sum(), "currency")))]
    items = winback_items(report)
    if items:
        out.append(Text(narrative.findings(items)))
    if contractual:
        columns = ["customer_id", "name", "segment", "owner", "left_on", "churn_reason",
                   "annual_revenue"]
    else:
        columns = ["customer_id", "name", "segment", "region", "last_order", "left_on",
                   "annual_revenue"]
    columns = [c for c in columns if c in winnable and
               (c == "customer_id" or winnable[c].notna().any())]
    top = winnable.head(TOP_WINBACK)[columns]
    if "churn_reason" in top:
        top = top.assign(churn_reason=top["churn_reason"].map(_reason_text))
    caption = (tr("Call first: the {n} winnable customers who left in the period with the "
                  "most annual revenue") if contractual else
               tr("Call first: the {n} customers who left in the period with the most annual "
                  "revenue (revenue in the 365 days up to their last order)"))
    out.append(Table(top, {"left_on": "date", "last_order": "date",
                           "annual_revenue": "currency"}, caption=caption.format(n=len(top))))
    return out


# -- conclusions ---------------------------------------------------------------------------

def conclusions(report: Report) -> list:
    """Recommendations: the churn-rate rule of crmkit.narrative, the at-risk rules above and
    the win-back rules, most important first."""
    if report.has_shape("snapshot"):
        items = _snapshot_recommendations(report)
        return [Text(narrative.findings(items) if items else narrative.recommendations({}))]
    values = {"churn_rate": _rate(report, "churn")}
    risk = _risk(report)
    if not isinstance(risk, NotAvailable):
        if risk.revenue_base:
            values["at_risk_revenue_share"] = risk.revenue_at_risk / risk.revenue_base
        values["risk_model_auc"] = risk.auc
    items = narrative.recommendation_items(values) + narrative.recommendation_items(
        values, rules=CHURN_RULES)
    items += winback_items(report)[:TOP_WINBACK_RULES]
    if not items:
        return [Text(narrative.recommendations({}))]
    return [Text(narrative.findings(items))]


# -- a customer snapshot -------------------------------------------------------------------
SNAPSHOT_BASIS = N_("*Churn here is the customer snapshot's own flag: each customer has "
                    "churned or not as of the snapshot date, and tenure is the months they "
                    "stayed. The snapshot has no periods to compare.*")
SNAPSHOT_GROUP_TABLES = 3  # group tables shown when no breakdown is chosen: the most telling
SNAPSHOT_MAX_GROUPS = 12  # a column with more groups is not a breakdown here
SNAPSHOT_MONTHS = (12, 24, 36)  # retained share reported at these tenures
SNAPSHOT_CURVE_MONTHS = tuple(range(0, 73))  # the drawn curve, month by month


def _snapshot_columns(report: Report) -> list[str]:
    """Customer columns with groups to break churn down by (segment, region, attributes
    such as contract), as ingest recorded them."""
    record = report.wh.audit.get("tables", {}).get("customers", {})
    numeric = set(record.get("attribute_types") or {})
    mapped = [c for c in ("segment", "region", "country", "acquisition_channel", "owner")
              if c in (record.get("columns") or {})]
    return mapped + [a for a in (record.get("attributes") or {}) if a not in numeric]


def _snapshot_tables(report: Report) -> list[tuple[str, pd.DataFrame]]:
    """(column, churn by its groups): the report's breakdown, else the columns whose
    groups differ most (highest minus lowest rate among groups with enough customers)."""
    wanted = [report.by] if report.by else _snapshot_columns(report)
    scored = []
    for column in wanted:
        frame = report.kpi("snapshot_churn_rate", by=column)
        if isinstance(frame, NotAvailable) or not 1 < len(frame) <= SNAPSHOT_MAX_GROUPS:
            continue
        sure = frame[~frame["too_few"]]
        spread = sure["value"].max() - sure["value"].min() if len(sure) > 1 else 0.0
        scored.append((spread, column, frame))
    if report.by:
        return [(c, f) for _, c, f in scored]
    scored.sort(key=lambda item: -item[0])
    return [(c, f) for _, c, f in scored[:SNAPSHOT_GROUP_TABLES]]


def _snapshot_findings(report: Report) -> list:
    rate = report.kpi("snapshot_churn_rate")
    items = [(6, narrative.rate_sentence(tr("Churn"), rate, noun=tr("customers")))]
    tables = _snapshot_tables(report)
    if tables:
        column, frame = tables[0]
        sure = frame[~frame["too_few"]].sort_values("value", ascending=False, kind="stable")
        if len(sure) > 1:
            high, low = sure.iloc[0], sure.iloc[-1]
            items.append((5, format_markdown(
                tr("By {column}, {high} churned most ({hv}, {hn} of {hd}) and {low} least "
                   "({lv}, {ln} of {ld})."), column=_column_text(column), high=high[column],
                hv=format_value(high["value"], "percent"), hn=i18n.number(high["numerator"]),
                hd=i18n.number(high["denominator"]), low=low[column],
                lv=format_value(low["value"], "percent"), ln=i18n.number(low["numerator"]),
                ld=i18n.number(low["denominator"]))))
    curve = report.kpi("snapshot_retention_curve", months=SNAPSHOT_MONTHS)
    if not isinstance(curve, NotAvailable):
        shown = curve.dropna(subset=["retained"])
        if len(shown):
            parts = [tr("{value} at {months} months").format(
                value=format_value(r["retained"], "percent"), months=int(r["months"]))
                for _, r in shown.iterrows()]
            items.append((4, format_markdown(tr("Of every customer who started, {parts} "
                                                "were still customers (Kaplan–Meier on "
                                                "tenure)."),
                                             parts=_names_text(parts))))
    risk = report.kpi("revenue_at_risk")
    if not isinstance(risk, NotAvailable) and len(risk):
        row = risk.iloc[0]
        items.append((4, format_markdown(
            tr("{n} of {active} active customers are likely to churn (risk above {cut}), "
               "with {rev} of monthly revenue; churned customers took {lost} a month with "
               "them."),
            n=i18n.number(row["at_risk_customers"]), active=i18n.number(row["active_customers"]),
            cut=format_value(risk.attrs["cutoff"], "percent"),
            rev=format_value(row["revenue_at_risk"], "currency"),
            lost=format_value(row["revenue_lost"], "currency"))))
    return items


def snapshot_groups(report: Report) -> list:
    """Churn overall and for every group of the columns that tell most (or of ``by``):
    one table per column with counts and 95% intervals, a chart for the first."""
    rate = report.kpi("snapshot_churn_rate")
    if isinstance(rate, NotAvailable):
        return not_available(report, tr("The churn rate"), rate)
    out = [Text(narrative.rate_sentence(tr("Churn"), rate, noun=tr("customers")))]
    tables = _snapshot_tables(report)
    if not tables:
        return out + [Text(tr("*No customer column with a few groups to compare churn "
                              "by.*"))]
    first, frame = tables[0]
    out.append(charts.chart("rate_bars", frame, x=first, reference=rate, sort=True,
                            title=tr("Churn by {column} (95% CI)").format(
                                column=_column_text(first)),
                            size=(10, 3.6)))
    for column, frame in tables:
        without = frame.attrs.get("without_group", 0)
        caption = (tr("Churn by {column}: churned / customers, with its 95% interval; "
                      "{n} customers with no {column} left out") if without else
                   tr("Churn by {column}: churned / customers, with its 95% interval"))
        caption = caption.format(column=_column_text(column), n=i18n.number(without))
        out.append(Table(frame.rename(columns=SNAPSHOT_RATE_COLUMNS), SNAPSHOT_RATE_FORMATS,
                         caption=caption))
    return out


SNAPSHOT_RATE_COLUMNS = {"numerator": "churned", "denominator": "customers",
                         "value": "churn_rate", "ci_low": "low_95", "ci_high": "high_95"}
SNAPSHOT_RATE_FORMATS = {"churned": "count", "customers": "count", "churn_rate": "percent",
                         "low_95": "percent", "high_95": "percent",
                         "too_few": "flag:" + N_("too few to say")}


def snapshot_tenure(report: Report) -> list:
    """The share of customers still with us after n months of tenure (Kaplan–Meier), and
    by the report's breakdown when it has one."""
    by = report.by
    points = report.kpi("snapshot_retention_curve", months=SNAPSHOT_MONTHS, by=by)
    if isinstance(points, NotAvailable):
        return not_available(report, tr("Retention by tenure"), points)
    curve = report.kpi("snapshot_retention_curve", months=SNAPSHOT_CURVE_MONTHS, by=by)
    drawn = curve.dropna(subset=["retained"]).rename(
        columns={"months": "tenure_months", "retained": "retained_share"})
    chart = charts.chart("survival", drawn, group=by, time="tenure_months",
                         value="retained_share", ci_lower="ci_low", ci_upper="ci_high",
                         title=tr("Customers still with us by months of tenure"),
                         size=(10, 4))
    table = points.dropna(subset=["retained"])
    return [chart, Table(table, {"months": "{:.0f}", "retained": "percent",
                                 "ci_low": "percent", "ci_high": "percent",
                                 "at_risk": "count", "churned": "count",
                                 "customers": "count",
                                 "too_few": "flag:" + N_("too few to say")},
                         caption=tr("Retained share at n months of tenure (Kaplan–Meier; "
                                    "at_risk = customers with at least that tenure)"))]


def snapshot_risk(report: Report) -> list:
    """Who is likely to churn next: the model, how well it ranks, what goes with churn,
    the riskiest active customers and the monthly revenue at stake."""
    drivers = report.kpi("churn_drivers")
    if isinstance(drivers, NotAvailable):
        return not_available(report, tr("The churn risk model"), drivers)
    a = drivers.attrs
    out = [Text(format_markdown(
        tr("A churn model on the customers' own columns {words}: out-of-sample AUC {auc} "
           "(95% CI {lo}–{hi}; {n} customers, {k} churned). What goes with churn most:"),
        words=_auc_words(a["auc"]), auc=i18n.number(a["auc"], 2),
        lo=i18n.number(a["auc_ci_low"], 2), hi=i18n.number(a["auc_ci_high"], 2),
        n=i18n.number(a["n"]), k=i18n.number(a["n_churned"])))]
    out.append(Table(drivers, {"coefficient": "{:+.2f}", "odds_ratio": "{:.2f}"},
                     caption=tr("Coefficients on standardized features: + raises the odds of "
                                "churn, − lowers them (association, not cause)")))
    risk = report.kpi("revenue_at_risk")
    if not isinstance(risk, NotAvailable) and len(risk):
        row = risk.iloc[0]
        out.append(Text(format_markdown(
            tr("{n} of {active} active customers have a churn risk above {cut}: {rev} of "
               "monthly revenue is at risk."), n=i18n.number(row["at_risk_customers"]),
            active=i18n.number(row["active_customers"]),
            cut=format_value(risk.attrs["cutoff"], "percent"),
            rev=format_value(row["revenue_at_risk"], "currency"))))
    riskiest = report.kpi("at_risk_list", top=TOP_AT_RISK)
    if not isinstance(riskiest, NotAvailable) and len(riskiest):
        out.append(Table(riskiest, {"p_churn": "percent", "monthly_revenue": "currency"},
                         caption=tr("The {n} active customers most likely to "
                                    "churn").format(n=len(riskiest))))
    return out


def snapshot_winback(report: Report) -> list:
    """Churned customers who can be won back, by reason; reasons that cannot (deceased,
    moved away ...) counted and left out."""
    frame = report.kpi("winback_candidates")
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("Win-back"), frame)
    can = frame[frame["kind"] == CAN_WIN_BACK]
    cannot = frame[frame["kind"] == CANNOT_WIN_BACK]
    text = format_markdown(
        tr("{n} churned customers left for reasons that can be won back, with {rev} of "
           "monthly revenue; {k} left for reasons that cannot ({reasons}) and are not counted "
           "as winnable."), n=i18n.number(can["customers"].sum()),
        rev=format_value(can["monthly_revenue"].sum(), "currency"),
        k=i18n.number(cannot["customers"].sum()),
        reasons=_names_text(list(cannot["churn_reason"].astype(str))) or tr("none"))
    shown = frame.assign(kind=frame["kind"].map(tr))
    return [Text(text), Table(shown, {"customers": "count", "monthly_revenue": "currency"},
                              caption=tr("Churned customers by reason"))]


def _snapshot_recommendations(report: Report) -> list:
    items = []
    tables = _snapshot_tables(report)
    if tables:
        column, frame = tables[0]
        sure = frame[~frame["too_few"]].sort_values("value", ascending=False, kind="stable")
        if len(sure) > 1 and sure.iloc[0]["ci_low"] > sure.iloc[-1]["ci_high"]:
            items.append((3, format_markdown(
                tr("Customers with {column} {group} churn most ({v}): target them first with "
                   "retention offers, e.g. moving them to what the {low} group has."),
                column=_column_text(column), group=sure.iloc[0][column],
                v=format_value(sure.iloc[0]["value"], "percent"), low=sure.iloc[-1][column])))
    risk = report.kpi("revenue_at_risk")
    if not isinstance(risk, NotAvailable) and len(risk) and risk.iloc[0]["at_risk_customers"]:
        items.append((2, format_markdown(
            tr("Call the {n} active customers most likely to churn (the list above) before "
               "they leave: {rev} of monthly revenue is at stake."),
            n=i18n.number(risk.iloc[0]["at_risk_customers"]),
            rev=format_value(risk.iloc[0]["revenue_at_risk"], "currency"))))
    winback = report.kpi("winback_candidates")
    if not isinstance(winback, NotAvailable):
        can = winback[winback["kind"] == CAN_WIN_BACK]
        if can["customers"].sum():
            top = can.iloc[0]
            items.append((1, format_markdown(
                tr("Win back churned customers who left over {reason} ({n}) first: their "
                   "reason can be answered."), reason=top["churn_reason"],
                n=i18n.number(top["customers"]))))
    return items


SHAPES = {
    "over_time": "orders", "survival": "orders", "reasons": "orders", "at_risk": "orders",
    "winback": "orders",
    "snapshot_groups": "snapshot", "snapshot_tenure": "snapshot", "snapshot_risk": "snapshot",
    "snapshot_winback": "snapshot",
}

def cards(report: Report) -> list:
    """KPI cards under the report's churn definition: contractual churn and retention with
    new customers, churn by inactivity, or a snapshot's churn and revenue at risk."""
    if report.has_shape("snapshot"):
        names = ("snapshot_churn_rate", "revenue_at_risk")
    elif churn_basis(report.wh).contractual:  # not _basis: the cards ignore the breakdown
        names = ("churn_rate", "retention_rate", "new_customers")
    else:
        names = ("inactivity_churn_rate", "inactivity_retention_rate", "new_customers")
    return kpi_cards(report, names)


SECTIONS = {
    "cards": cards,
    "summary": summary,
    "snapshot_groups": snapshot_groups,
    "snapshot_tenure": snapshot_tenure,
    "snapshot_risk": snapshot_risk,
    "snapshot_winback": snapshot_winback,
    "over_time": over_time,
    "survival": survival,
    "reasons": reasons,
    "at_risk": at_risk,
    "winback": winback,
    "conclusions": conclusions,
    **COMMON_SECTIONS,
}

OUTLINE = [
    N_("# Churn and retention\n\nHow many customers leave, when, why, who is at risk next "
       "and how much revenue that is."),
    ("cards", N_("## Summary of findings")),
    ("summary", None),
    ("snapshot_groups", N_("## Who churns")),
    ("snapshot_tenure", N_("## How long customers stay")),
    ("snapshot_risk", N_("## Customers at risk")),
    ("snapshot_winback", N_("## Win-back")),
    ("over_time", N_("## Churn and retention over time")),
    ("survival", N_("## How long customers stay")),
    ("reasons", N_("## Why customers leave")),
    ("at_risk", N_("## Customers at risk")),
    ("winback", N_("## Win-back")),
    ("conclusions", N_("## Conclusions and recommendations")),
]
