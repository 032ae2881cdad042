"""Sections of the satisfaction report: how satisfied customers are, where it is worse,
complaints and follow-ups, and whether satisfaction goes with repeat buying and churn.

Every figure is a registered KPI (:mod:`crmkit.metrics.satisfaction`): levels and
breakdowns, scores per month and by what customers bought, the NPS distribution, complaint
reasons and contact channels, complaints followed up, resolution times, and repeat buying
and churn by CSAT band. This module lays them out.

Satisfaction scores come from ``surveys`` and, when there is no surveys table, from the
``csat`` of ``tickets`` (the rule of the ``csat`` KPI); NPS only from surveys. The
customers' own score (``customers.satisfaction``, as of the data) is shown beside them
when the data has one.

Data without orders (a subscription snapshot; see crmkit.shapes): what needs purchases
(repeat buying, scores by product category) is left out with one line saying so;
complaint and follow-up rates count the customers table; on a snapshot, churn is its own
flag, set against the customers' own score (``snapshot_churn_rate`` by score).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crmkit import charts, i18n, narrative
from crmkit.i18n import N_, tr
from crmkit.labels import field_label, series
from crmkit.metrics import NotAvailable, Rate
from crmkit.metrics.results import MIN_DENOMINATOR, format_value, rate_frame
from crmkit.metrics.satisfaction import (
    ALL_TYPES,
    CSAT_SCALE_MAX,
    FOLLOW_UP_WINDOW_DAYS,
    TREND_CONTEXT_MONTHS,
    has_customer_scores,
)
from crmkit.report.markup import escape_markdown, format_markdown
from crmkit.sections.base import COMMON_SECTIONS, Report, Table, Text, not_available
from crmkit.sections.cards import cards_section

TITLE = N_("Customer satisfaction")

# Where satisfaction is compared: customers columns reach surveys through customer_id;
# order columns (category) through the customers who bought them in the period.
BREAKDOWNS = ("segment", "region", "category")
TOP_REASONS = 8
UNKNOWN_GROUP = N_("(unknown)")  # shown with tr()
NO_REASON = N_("(no reason)")
# Churn is set against the customers' own score level by level on a scale of at most this
# many levels (1-5, 0-10); a finer score (0-100) has too few customers per level.
MAX_SCORE_LEVELS = 11

# Recommendations specific to this report, in the format of
# crmkit.narrative.RECOMMENDATION_RULES (values computed in `conclusions`).
SATISFACTION_RULES: list[dict] = [
    {"metric": "complaints_followed_up", "op": "<", "threshold": 0.5, "unit": "percent",
     "priority": 2,
     # {days}: FOLLOW_UP_WINDOW_DAYS, filled in by `conclusions`.
     "text": N_("Only {value} of complaining customers got a follow-up within {days} days, "
                "below {threshold}: make a follow-up call part of closing every "
                "complaint.")},
    {"metric": "resolution_p90_hours", "op": ">", "threshold": 72, "unit": "count",
     "priority": 2,
     "text": N_("One ticket in ten takes more than {value} hours to close, above "
                "{threshold} hours: set a resolution target per ticket type and escalate "
                "tickets that pass it.")},
    {"metric": "open_ticket_share", "op": ">", "threshold": 0.05, "unit": "percent",
     "priority": 1,
     "text": N_("{value} of the period's tickets are still open, above {threshold}: "
                "review the backlog and close or escalate the oldest.")},
]


# -- data ------------------------------------------------------------------------------

def _score_source(report: Report) -> str:
    """The table CSAT comes from: surveys, else tickets."""
    return "surveys" if report.has("surveys") else "tickets"


def _dim_name(dim: str) -> str:
    """A breakdown column as a sentence names it: the column itself in English, a
    canonical column's name in another language (crmkit.labels.field_label)."""
    return field_label(dim)


def _list(items) -> str:
    """Named groups in a sentence: "a (3.10), b (3.20)" / "a（3.10）、b（3.20）"."""
    return series(items)


def _group_value(group, value: str) -> str:
    return tr("{group} ({value})").format(group=group, value=value)


def _no_breakdown(what: str, by: str, table: str) -> Text:
    """``what`` (translated) cannot be broken down by ``by``, a column of neither
    ``table`` (surveys or tickets) nor customers."""
    template = (tr("*{what} cannot be broken down by {by}: it is not a column of tickets "
                   "or customers.*") if table == "tickets" else
                tr("*{what} cannot be broken down by {by}: it is not a column of surveys "
                   "or customers.*"))
    return Text(format_markdown(template, what=what, by=_dim_name(by)))


def _label_groups(frame, column: str):
    """``frame`` with missing group names shown as UNKNOWN_GROUP (NotAvailable as is)."""
    if isinstance(frame, NotAvailable):
        return frame
    frame = frame.copy()
    frame[column] = frame[column].astype(object).where(frame[column].notna(),
                                                       tr(UNKNOWN_GROUP))
    return frame


def reaches(report: Report, table: str, column: str) -> bool:
    """Whether ``column`` is a column of ``table`` or of customers joined on customer_id
    (the breakdown rule of the KPIs)."""
    if not report.has(table):
        return False
    columns = report.wh.table(table).columns
    return column in columns or ("customer_id" in columns and report.has("customers")
                                 and column in report.wh.table("customers").columns)


def monthly_scores(report: Report, by: str | None = None, *,
                   context_months: int = TREND_CONTEXT_MONTHS) -> dict:
    """{"csat": frame, "nps": frame} per month from ``context_months`` before the period
    to its end (KPIs csat_by_month, nps_by_month): month, [by], value, n, ci_low, ci_high,
    too_few (NPS also its counts). A missing score (or a ``by`` the score table cannot
    reach) is NotAvailable."""
    out = {}
    for column in ("csat", "nps"):
        frame = report.kpi(f"{column}_by_month", context_months=context_months, by=by)
        out[column] = _label_groups(frame, by) if by else frame
    return out


def nps_distribution(report: Report):
    """Share of responses per NPS score 0-10 (KPI nps_distribution)."""
    return report.kpi("nps_distribution")


def scores_by(report: Report, dim: str) -> dict | NotAvailable:
    """{"csat", "cs", "nps"} frames by ``dim``: a KPI breakdown when ``dim`` reaches the
    score table (its own or a customers column), else by the customers who bought in
    that ``dim`` of orders in the period (a customer counts in each group they bought)."""
    csat = report.kpi("csat", by=dim)
    if not isinstance(csat, NotAvailable):
        return {"csat": _label_groups(csat, dim),
                "cs": _label_groups(report.kpi("satisfaction_score", by=dim), dim),
                "nps": _label_groups(report.kpi("nps", by=dim), dim)}
    if not report.has("orders") or dim not in report.wh.table("orders").columns:
        return csat
    csat = report.kpi("csat_by_purchase", by=dim)
    if isinstance(csat, NotAvailable):
        return csat
    return {"csat": _label_groups(csat, dim),
            "cs": _label_groups(report.kpi("satisfaction_score_by_purchase", by=dim), dim),
            "nps": _label_groups(report.kpi("nps_by_purchase", by=dim), dim)}


def breakdowns(report: Report) -> list[str]:
    """The BREAKDOWNS this data has: a column of the score table or of customers, or an
    order column when there are orders (a snapshot has no product category)."""
    table = _score_source(report)
    orders = report.wh.table("orders").columns if report.has("orders") else ()
    return [dim for dim in BREAKDOWNS if reaches(report, table, dim) or dim in orders]


def has_orders(report: Report) -> bool:
    """Whether the data has orders to set satisfaction against buying (rows, not only an
    empty table: no "0 of 120 bought twice" from an export without order lines)."""
    return report.memo("has_orders", lambda: report.has_shape("orders"))


def customer_scores(report: Report) -> bool:
    """Whether customers carry their own satisfaction score; asked before the score's
    KPIs, so that a report on data without one does not list their definitions."""
    return report.memo("customer_scores", lambda: has_customer_scores(report.wh))


def churn_by_score(report: Report, *, max_levels: int = MAX_SCORE_LEVELS):
    """Churn by the customers' own score on a snapshot: score (as text: "4"), numerator
    (churned), denominator (customers with a churn flag and that score), value, ci_low,
    ci_high, too_few, from ``snapshot_churn_rate`` by satisfaction;
    ``attrs["without_group"]``: customers with a flag and no score. NotAvailable without
    scores, or on a scale of more than ``max_levels`` values."""
    def compute():
        if not customer_scores(report):
            return NotAvailable(N_("needs customers' satisfaction scores"))
        frame = report.kpi("snapshot_churn_rate", by="satisfaction")
        if isinstance(frame, NotAvailable):
            return frame
        if len(frame) > max_levels:
            return NotAvailable(tr("customers.satisfaction takes {n} values; churn is set "
                                   "against it level by level on a scale of at most "
                                   "{max}").format(n=i18n.number(len(frame)),
                                                   max=i18n.number(max_levels)))
        out = frame.rename(columns={"satisfaction": "score"})
        out["score"] = [charts.score_text(float(v)) for v in out["score"]]
        out.attrs = dict(frame.attrs)
        return out

    return report.memo(("churn_by_score", max_levels), compute)


def below_overall(frame: pd.DataFrame, overall) -> pd.Series:
    """Groups whose whole 95% interval lies below the overall value (too_few never)."""
    if isinstance(overall, NotAvailable) or not math.isfinite(overall.value):
        return pd.Series(False, index=frame.index)
    return ~frame["too_few"].astype(bool) & (frame["ci_high"] < overall.value)


def complaint_reasons(report: Report):
    """Complaint tickets opened in the period per reason (KPI complaint_reasons): reason,
    complaints, share."""
    frame = report.kpi("complaint_reasons")
    if isinstance(frame, NotAvailable):
        return frame
    frame = frame.copy()
    frame["reason"] = frame["reason"].astype(object).where(frame["reason"].notna(),
                                                           tr(NO_REASON))
    return frame


def complaints_by_contact_channel(report: Report):
    """Share of the period's tickets that are complaints, per contact channel (KPI
    complaint_share_by_channel)."""
    return _label_groups(report.kpi("complaint_share_by_channel"), "channel")


def complaints_followed_up(report: Report, *, window_days: int = FOLLOW_UP_WINDOW_DAYS):
    """Rate: customers with a complaint in the period who had a follow_up ticket within
    ``window_days`` after their first complaint of the period (KPI complaints_followed_up)."""
    return report.kpi("complaints_followed_up", window_days=window_days)


def resolution_times(report: Report):
    """Tickets opened in the period by type, "all types" last (KPI resolution_time):
    tickets, closed, median_hours, p90_hours and still open as a rate."""
    return _label_groups(report.kpi("resolution_time"), "type")


def resolution_by(report: Report, by: str):
    """Median and 90th percentile hours to close by a customers (or tickets) column."""
    return _label_groups(report.kpi("resolution_time", by=by), by)


def satisfaction_outcomes(report: Report):
    """Surveyed customers by CSAT band (KPI csat_band_outcomes): band, customers, repeat,
    churn_base, churned."""
    return report.kpi("csat_band_outcomes")


def _shown_bands(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The outcomes with their band labels in the report's language."""
    return outcomes.assign(band=[tr(band) for band in outcomes["band"]])


def _outcome_rates(outcomes: pd.DataFrame, numerator: str, denominator: str) -> pd.DataFrame:
    frame = outcomes[["band", numerator, denominator]].rename(
        columns={numerator: "numerator", denominator: "denominator"})
    return rate_frame(frame, "numerator", "denominator")


def _overall_rate(frame: pd.DataFrame) -> Rate:
    return Rate.from_counts(frame["numerator"].sum(), frame["denominator"].sum())


# -- words -----------------------------------------------------------------------------

def _score_sentence(label: str, result) -> str:
    """CSAT, CS or NPS (``label``, translated) in words; "no responses" rather than "too
    few to say (0 ...)"."""
    if getattr(result, "n", None) == 0:
        return tr("{label}: no scored responses in the period.").format(label=label)
    return narrative.kpi_sentence(label, result, noun=tr("responses"))


def _interval(low, high, unit: str) -> str:
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return ""
    if unit == "nps":
        return tr("{low} to {high}").format(low=format_value(low, unit),
                                            high=format_value(high, unit))
    return f"{format_value(low, unit)}–{format_value(high, unit)}"


def _intervals(frame: pd.DataFrame, unit: str) -> list[str]:
    return [_interval(lo, hi, unit) for lo, hi in zip(frame["ci_low"], frame["ci_high"])]


# A group's score with its interval and count, by what the count counts.
_GROUP_SCORE = {"responses": N_("{value} (95% CI {interval}; {n} responses)"),
                "customers": N_("{value} (95% CI {interval}; {n} customers)")}


def _group_score_text(row, unit: str, noun: str = "responses") -> str:
    """"3.45 (95% CI 3.30–3.60; 120 responses)" of one frame row; ``noun``: "responses"
    or "customers"."""
    return tr(_GROUP_SCORE[noun]).format(
        value=format_value(row["value"], unit),
        interval=_interval(row["ci_low"], row["ci_high"], unit),
        n=format_value(row["n"], "count"))


def lowest_group_sentence(frame: pd.DataFrame, dim: str, overall, *,
                          label: str = N_("CSAT"), unit: str = "score",
                          noun: str = "responses") -> str | None:
    """Where ``label`` is lowest by ``dim`` and whether that is significantly below the
    overall value; None when no group has enough ``noun`` ("responses" or "customers").
    ``label`` is an English catalog message, translated here."""
    reliable = frame[~frame["too_few"].astype(bool) & frame["value"].notna()]
    if reliable.empty or isinstance(overall, NotAvailable):
        return None
    row = reliable.loc[reliable["value"].idxmin()]
    significant = row["ci_high"] < overall.value
    template = (tr("By {dim}, {label} was lowest for {group}: {text}, significantly below "
                   "the overall {overall}.") if significant else
                tr("By {dim}, {label} was lowest for {group}: {text}, but its 95% interval "
                   "reaches the overall {overall}, so the gap may be chance."))
    return format_markdown(
        template, dim=_dim_name(dim), label=tr(label), group=row[dim],
        text=_group_score_text(row, unit, noun), overall=format_value(overall.value, unit))


def _band_counts(row) -> str:
    return tr("{numerator} of {denominator}; 95% CI {interval}").format(
        numerator=format_value(row["numerator"], "count"),
        denominator=format_value(row["denominator"], "count"),
        interval=_interval(row["ci_low"], row["ci_high"], "percent"))


def _points(difference: float) -> str:
    """A difference of two rates in percentage points, to one decimal: 12.3."""
    return i18n.number(abs(difference) * 100, 1)


def band_comparison(rates: pd.DataFrame, what: str, *, column: str = "band",
                    subject: str = N_("mean CSAT")) -> dict | None:
    """Highest against lowest CSAT band of a rate frame by band (``what`` the customers
    did: "churned in the period"), or of another ordered ``column`` of levels (``subject``
    names what the levels are): the difference, whether the 95% intervals overlap and a
    sentence; None when either end has too few customers. ``what`` and ``subject`` are
    English catalog messages, translated here; the levels are shown as they are."""
    high, low = rates.iloc[-1], rates.iloc[0]
    if high["too_few"] or low["too_few"]:
        return None
    difference = high["value"] - low["value"]
    overlap = high["ci_low"] <= low["ci_high"] and low["ci_low"] <= high["ci_high"]
    verdict = (tr("The 95% intervals overlap, so this sample does not show a clear "
                  "difference.") if overlap else
               tr("The 95% intervals do not overlap: the difference is unlikely to be "
                  "chance."))
    template = (tr("{high} of customers whose {subject} was {high_band} {what} "
                   "({high_counts}), against {low} of those whose {subject} was {low_band} "
                   "({low_counts}): {points} percentage points higher. ")
                if difference >= 0 else
                tr("{high} of customers whose {subject} was {high_band} {what} "
                   "({high_counts}), against {low} of those whose {subject} was {low_band} "
                   "({low_counts}): {points} percentage points lower. "))
    sentence = format_markdown(
        template, high=format_value(high["value"], "percent"), high_band=high[column],
        what=tr(what), high_counts=_band_counts(high),
        low=format_value(low["value"], "percent"), low_band=low[column],
        low_counts=_band_counts(low), subject=tr(subject),
        points=_points(difference)) + verdict
    return {"difference": difference, "overlap": overlap, "sentence": sentence}


# -- charts ------------------------------------------------------------------------------

def _rate_panel(frame: pd.DataFrame, *, x: str, title: str, reference=None,
                **options) -> charts.Panel:
    """charts.rate_bars against the overall rate (named in the title, see rate_bars)."""
    reference = _overall_rate(frame) if reference is None else reference
    # wilson_interval can put ci_low a rounding error (1e-17) above a 0 rate, and
    # rate_bars then fails on a negative error bar; clamp the interval around the value.
    frame = frame.assign(ci_low=np.fmin(frame["ci_low"], frame["value"]),
                         ci_high=np.fmax(frame["ci_high"], frame["value"]))
    return charts.panel("rate_bars", frame, x=x, reference=reference, title=title, **options)


# -- sections ----------------------------------------------------------------------------

def summary(report: Report) -> list:
    """The main findings: CSAT, CS, NPS, complaint and follow-up rates, where satisfaction
    is lowest, and how it goes with repeat buying. Data without orders: first what its
    figures rest on; the customers' own score and, on a snapshot, how churn goes with it."""
    items = [(5, _score_sentence(tr("Average CSAT"), report.kpi("csat"))),
             (5, _score_sentence(tr("Satisfaction CS = S / M"),
                                 report.kpi("satisfaction_score"))),
             (5, _score_sentence(tr("NPS"), report.kpi("nps"))),
             (3, narrative.rate_sentence(tr("Complaint rate"), report.kpi("complaint_rate"),
                                         noun=tr("customers"))),
             (3, narrative.rate_sentence(tr("Follow-up rate"), report.kpi("follow_up_rate"),
                                         noun=tr("customers")))]
    worst = _worst_group_sentence(report)
    if worst:
        items.append((3, worst))
    outcomes = satisfaction_outcomes(report) if has_orders(report) else None
    if isinstance(outcomes, pd.DataFrame):
        comparison = band_comparison(
            _outcome_rates(_shown_bands(outcomes), "repeat", "customers"),
            N_("bought twice or more in the period"))
        if comparison:
            items.append((3, comparison["sentence"]))
    if customer_scores(report):
        items.append((4, _customer_score_sentence(report.kpi("customer_satisfaction"))))
    if not has_orders(report) and report.has_shape("snapshot"):
        comparison = _score_churn_comparison(report)
        if comparison:
            items.append((3, comparison["sentence"]))
    findings = Text(narrative.findings(items))
    return [findings] if has_orders(report) else [Text(_no_orders_basis(report)), findings]


def _worst_group_sentence(report: Report) -> str | None:
    """The lowest-CSAT segment or region (whichever is lower), in words."""
    overall = report.kpi("csat")
    candidates = []
    for dim in ("segment", "region"):
        frames = scores_by(report, dim)
        if isinstance(frames, NotAvailable):
            continue
        frame = frames["csat"]
        reliable = frame[~frame["too_few"].astype(bool) & frame["value"].notna()]
        if len(reliable):
            candidates.append((reliable["value"].min(), dim, frame))
    if not candidates:
        return None
    _, dim, frame = min(candidates, key=lambda c: c[0])
    return lowest_group_sentence(frame, dim, overall)


def levels(report: Report) -> list:
    """CSAT, CS and NPS with their intervals, and the distribution of both scores; then the
    customers' own score, when they have one."""
    csat, cs, nps = report.kpi("csat"), report.kpi("satisfaction_score"), report.kpi("nps")
    own = _customer_score_levels(report)
    if isinstance(csat, NotAvailable) and isinstance(nps, NotAvailable):
        return not_available(report, tr("Survey satisfaction") if own else
                             tr("Satisfaction"), csat) + own
    out = [Text(" ".join([
        _score_sentence(tr("Average CSAT"), csat),
        _score_sentence(tr("Satisfaction CS = S / M"), cs),
        _score_sentence(tr("NPS"), nps)]))]
    distributions = [(report.kpi("csat_distribution"), "csat",
                      tr("CSAT: share of responses")),
                     (nps_distribution(report), "nps", tr("NPS: share of responses"))]
    present = [d for d in distributions if not isinstance(d[0], NotAvailable) and len(d[0])]
    if present:
        widths = {"csat": 1.0, "nps": 1.8}
        out.append(charts.Chart(
            tuple(charts.panel("distribution", frame, x="score", y="value", scale=scale,
                               title=title) for frame, scale, title in present),
            size=(12, 4), widths=tuple(widths[s] for _, s, _ in present)))
    if not isinstance(nps, NotAvailable) and nps.n:
        out.append(Text(format_markdown(
            tr("Promoters (9-10): {p} of {n}; passives (7-8): {m}; detractors (0-6): {d}."),
            p=format_value(nps.promoters, "count"), n=format_value(nps.n, "count"),
            m=format_value(nps.passives, "count"), d=format_value(nps.detractors, "count"))))
    if report.by:
        out += _levels_by(report)
    notes = sorted({r.note for r in (csat, nps) if getattr(r, "note", "")})
    out += [Text(tr("*Note: {note}.*").format(note=escape_markdown(n))) for n in notes]
    return out + own


def _levels_by(report: Report) -> list:
    frames = scores_by(report, report.by)
    if isinstance(frames, NotAvailable):
        return not_available(report, tr("Satisfaction by {by}").format(
            by=_dim_name(report.by)), frames)
    table = _scores_table(frames, report.by, report.kpi("csat"), report.kpi("nps"))
    return [Table(table.drop(columns="dimension"), _SCORES_FORMATS,
                  caption=tr("CSAT, CS and NPS by {by}").format(by=_dim_name(report.by)))]


def trend(report: Report) -> list:
    """Monthly CSAT and NPS over the period and the months before it, with n per month."""
    by = report.by if report.by and reaches(report, _score_source(report), report.by) \
        else None
    monthly = monthly_scores(report, by)
    csat, nps = monthly["csat"], monthly["nps"]
    if isinstance(csat, NotAvailable) and isinstance(nps, NotAvailable):
        return not_available(report, tr("Satisfaction over time"), csat)
    present = [(k, f) for k, f in (("csat", csat), ("nps", nps))
               if not isinstance(f, NotAvailable) and len(f)]
    out = []
    if present:
        f = report.filters
        period = (f.start, f.end_exclusive) if f.start is not None and f.end is not None \
            else None
        out.append(charts.Chart(tuple(
            charts.panel("trend", frame.rename(columns={"value": column.upper()}),
                         x="month", y=column.upper(), hue=by,
                         unit="score" if column == "csat" else "nps",
                         band=("ci_low", "ci_high") if by is None else None,
                         highlight=period,
                         highlight_label=tr("report period") if period else None,
                         hollow="too_few",
                         hollow_label=tr("too few responses (n < {min})").format(
                             min=i18n.number(MIN_DENOMINATOR)),
                         ylim=(1, CSAT_SCALE_MAX) if column == "csat" else None,
                         ylabel=column.upper(),
                         title=(tr("CSAT per month (mean, 1-5)") if column == "csat"
                                else tr("NPS per month")))
            for column, frame in present), size=(10, 3.4 * len(present)), columns=1,
            sharex=True))
    out += _trend_sentences(report, present)
    if present:
        out.append(_trend_table(dict(present), by))
    else:
        out.append(Text(tr("*No survey scores in the period or the {months} months before "
                           "it.*").format(months=i18n.number(TREND_CONTEXT_MONTHS))))
    for label, frame in ((N_("CSAT over time"), csat), (N_("NPS over time"), nps)):
        if isinstance(frame, NotAvailable):
            out += not_available(report, tr(label), frame)
    if report.by and by is None:
        out.append(_no_breakdown(tr("CSAT and NPS per month"), report.by, "surveys"))
    return out


def _trend_sentences(report: Report, present) -> list:
    f = report.filters
    sentences = []
    if f.start is not None and f.end is not None:
        last_year = f.same_period_last_year()
        for name, label in (("csat", N_("Average CSAT")), ("nps", N_("NPS"))):
            now = report.kpi(name)
            if isinstance(now, NotAvailable):
                continue
            before = report.kpi(name, last_year)
            if getattr(before, "too_few", True) or getattr(now, "too_few", True):
                continue  # no comparison on a number the report calls unreliable
            sentences.append(narrative.change_sentence(
                tr(label), now, before, comparison=tr("same period last year")))
    for column, frame in present:
        few = int(frame["too_few"].sum())
        if few:
            sentences.append(format_markdown(
                tr("{few} of {cells} monthly {what} figures rest on fewer than {min} "
                   "responses and are drawn hollow."), few=i18n.number(few),
                cells=i18n.number(len(frame)), what=column.upper(),
                min=i18n.number(MIN_DENOMINATOR)))
    return [Text(" ".join(sentences))] if sentences else []


def _trend_table(frames: dict, by: str | None) -> Table:
    if by:
        frame = frames.get("csat", frames.get("nps"))
        unit = "score" if "csat" in frames else "nps"
        cells = frame.assign(cell=[tr("{value} (n={n})").format(
            value=format_value(v, unit), n=i18n.number(n))
            for v, n in zip(frame["value"], frame["n"])])
        table = cells.pivot(index="month", columns=by, values="cell").reset_index()
        table.columns.name = None
        caption = (tr("NPS per month by {by} (n = responses)") if unit == "nps" else
                   tr("CSAT per month by {by} (n = responses)"))
        return Table(table, {"month": "{:%Y-%m}"}, caption=caption.format(by=_dim_name(by)))
    months = None
    for column, frame in frames.items():
        part = frame[["month", "n", "value", "ci_low", "ci_high", "too_few"]].copy()
        unit = "score" if column == "csat" else "nps"
        part[f"{column}_95%_CI"] = _intervals(part, unit)
        part = part.rename(columns={"n": f"{column}_responses", "value": column,
                                    "too_few": f"{column}_too_few"})
        part = part.drop(columns=["ci_low", "ci_high"])
        months = part if months is None else months.merge(part, on="month", how="outer")
    few_cols = [c for c in months.columns if c.endswith("_too_few")]
    months["note"] = np.where(months[few_cols].eq(True).any(axis=1),
                              tr("too few responses"), "")
    months = months.drop(columns=few_cols)
    return Table(months, {"month": "{:%Y-%m}", "csat_responses": "count", "csat": "score",
                          "nps_responses": "count", "nps": "nps"},
                 caption=tr("Per month: responses, mean CSAT and NPS with 95% intervals "
                            "(fewer than {min} responses: too few to say)").format(
                     min=i18n.number(MIN_DENOMINATOR)))


_SCORES_FORMATS = {"responses": "count", "csat": "score", "cs": "percent", "nps": "nps"}


def _scores_table(frames: dict, dim: str, csat_overall, nps_overall) -> pd.DataFrame:
    csat, cs, nps = frames["csat"], frames["cs"], frames["nps"]
    table = pd.DataFrame({
        "dimension": _dim_name(dim), "group": csat[dim], "responses": csat["n"],
        "csat": csat["value"],
        "csat_95%_CI": _intervals(csat, "score"),
        "cs": cs["value"]})
    csat_low = below_overall(csat, csat_overall)
    if isinstance(nps, NotAvailable):
        nps_low = pd.Series(False, index=table.index)
    else:
        low = set(nps.loc[below_overall(nps, nps_overall), dim])
        nps = nps.set_index(dim).reindex(csat[dim])
        table["nps"] = nps["value"].to_numpy()
        table["nps_95%_CI"] = _intervals(nps, "nps")
        nps_low = table["group"].isin(low)
    verdict = np.select([csat["too_few"].astype(bool), csat_low & nps_low, csat_low,
                         nps_low],
                        [tr("too few responses"), tr("CSAT and NPS below overall"),
                         tr("CSAT below overall"), tr("NPS below overall")], "")
    table["significantly_worse"] = verdict
    return table


def where_worse(report: Report) -> list:
    """CS and NPS by segment, region and product category (when there are orders) with
    95% intervals; groups whose interval lies entirely below the overall value are named.
    Then the customers' own score by the same groups, when they have one."""
    overall_csat, overall_cs = report.kpi("csat"), report.kpi("satisfaction_score")
    overall_nps = report.kpi("nps")
    extra = [report.by] if report.by and report.by not in BREAKDOWNS else []
    dims = breakdowns(report) + extra
    own = _customer_scores_by(report, [*BREAKDOWNS, *extra])
    if isinstance(overall_csat, NotAvailable):
        return not_available(report, tr("Survey satisfaction by group") if own else
                             tr("Satisfaction by group"), overall_csat) + own
    frames = {dim: scores_by(report, dim) for dim in dims}
    present = {d: f for d, f in frames.items() if not isinstance(f, NotAvailable)
               and len(f["csat"]) >= 2}  # one group (a filter on it) compares nothing
    out = []
    if present:
        has_nps = any(not isinstance(f["nps"], NotAvailable) for f in present.values())
        panels = []
        for dim, f in present.items():
            panels.append(_rate_panel(f["cs"], x=dim,
                                      title=tr("CS by {dim}").format(dim=_dim_name(dim)),
                                      reference=overall_cs, numerator="n", denominator="n",
                                      xlabel=""))
            if has_nps:
                panels.append(None if isinstance(f["nps"], NotAvailable) else charts.panel(
                    "nps_bars", f["nps"], x=dim,
                    title=tr("NPS by {dim}").format(dim=_dim_name(dim)),
                    overall=None if isinstance(overall_nps, NotAvailable) else overall_nps))
        out.append(charts.Chart(tuple(panels), size=(12, 3.6 * len(present)),
                                columns=2 if has_nps else 1))
        sentences = []
        for dim, f in present.items():
            sentences.append(lowest_group_sentence(f["csat"], dim, overall_csat))
            if not isinstance(f["nps"], NotAvailable):
                low = f["nps"][below_overall(f["nps"], overall_nps)]
                if len(low):
                    sentences.append(format_markdown(
                        tr("NPS by {dim} is significantly below the overall {overall} for "
                           "{groups}."), dim=_dim_name(dim),
                        overall=format_value(overall_nps.value, "nps"),
                        groups=_list(_group_value(g, format_value(v, "nps")) for g, v
                                     in zip(low[dim], low["value"]))))
        if any(sentences):
            out.append(Text("\n".join(f"- {s}" for s in sentences if s)))
        table = pd.concat([_scores_table(f, d, overall_csat, overall_nps)
                           for d, f in present.items()], ignore_index=True)
        out.append(Table(table, _SCORES_FORMATS, caption=(
            tr("CS = mean CSAT / 5. Segment and region: the customer's; order columns such "
               "as category: the responses of customers who bought in that group in the "
               "period (a customer counts in every group they bought in). Significantly "
               "worse: the 95% interval lies entirely below the overall value.")
            if report.has("orders") else
            tr("CS = mean CSAT / 5; groups are the responding customer's. Significantly "
               "worse: the 95% interval lies entirely below the overall value."))))
    else:
        out.append(Text(tr("*No breakdown has two or more groups with survey scores in "
                           "this selection.*")))
    for dim, f in frames.items():
        if isinstance(f, NotAvailable):
            out += not_available(report, tr("Satisfaction by {by}").format(
                by=_dim_name(dim)), f)
    return out + own


def complaints(report: Report) -> list:
    """Complaint and follow-up rates with their counts, complaints followed up, the top
    complaint reasons and the complaint share of tickets by contact channel."""
    complaint, follow_up = report.kpi("complaint_rate"), report.kpi("follow_up_rate")
    if isinstance(complaint, NotAvailable):
        return not_available(report, tr("The complaint analysis"), complaint)
    followed = complaints_followed_up(report)
    reasons = complaint_reasons(report)
    channels = complaints_by_contact_channel(report)
    sentences = [narrative.rate_sentence(tr("Complaint rate"), complaint,
                                         noun=tr("customers")),
                 narrative.rate_sentence(tr("Follow-up rate"), follow_up,
                                         noun=tr("customers")),
                 narrative.rate_sentence(
                     tr("The share of complaining customers followed up within {days} "
                        "days").format(days=i18n.number(FOLLOW_UP_WINDOW_DAYS)), followed,
                     noun=tr("complaining customers"))
                 if isinstance(followed, NotAvailable) or followed.denominator else
                 tr("No customer complained in the period, so no complaint follow-up is "
                    "measured.")]
    has_reasons = not isinstance(reasons, NotAvailable) and len(reasons)
    if has_reasons:
        sentences.append(narrative.top_sentence(reasons, by="reason", value="complaints",
                                                what=tr("complaint tickets")))
    out = [Text("\n".join(f"- {s}" for s in sentences))]
    has_channels = not isinstance(channels, NotAvailable) and len(channels) \
        and channels["channel"].ne(tr(UNKNOWN_GROUP)).any()
    if has_reasons:
        panels = [charts.panel("bar", reasons, x="complaints", y="reason", share="share",
                               unit="count", top=TOP_REASONS,
                               title=tr("Complaint tickets by reason"))]
        if has_channels:
            panels.append(_rate_panel(channels, x="channel", xlabel="",
                                      title=tr("Complaint share of tickets\nby contact "
                                               "channel")))
        out.append(charts.Chart(tuple(panels), size=(12, 4.2),
                                widths=(1.2, 1) if has_channels else None))
    if report.by:
        out += _rates_by(report)
    return out


def _rates_by(report: Report) -> list:
    by = report.by
    if not report.has("customers") or by not in report.wh.table("customers").columns:
        return [Text(format_markdown(
            tr("*Complaint and follow-up rates cannot be broken down by {by}: they count "
               "customers, and {by} is not a customers column.*"), by=_dim_name(by)))]
    # KPI -> (chart title, what is not available), each "... by {by}".
    names = {"complaint_rate": (N_("Complaint rate by {by}"),
                                N_("The complaint rate by {by}")),
             "follow_up_rate": (N_("Follow-up rate by {by}"),
                                N_("The follow-up rate by {by}"))}
    rates = {kpi: report.kpi(kpi, by=by) for kpi in names}
    present = {k: _label_groups(f, by) for k, f in rates.items()
               if not isinstance(f, NotAvailable)}
    out = []
    if present:
        out.append(charts.Chart(tuple(
            _rate_panel(frame, x=by, title=tr(names[kpi][0]).format(by=_dim_name(by)))
            for kpi, frame in present.items()), size=(12, 4)))
    for kpi, frame in rates.items():
        if isinstance(frame, NotAvailable):
            out += not_available(report, tr(names[kpi][1]).format(by=_dim_name(by)), frame)
    return out


def resolution(report: Report) -> list:
    """How long tickets take from opened to closed, by type, and how many are still open."""
    times = resolution_times(report)
    if isinstance(times, NotAvailable):
        return not_available(report, tr("The resolution-time analysis"), times)
    by_type = times[times["type"] != ALL_TYPES]
    total = times[times["type"] == ALL_TYPES].iloc[0]
    if total["tickets"] == 0:
        return [Text(tr("*No tickets were opened in the period.*"))]
    # Rounded so the bar labels read 38.2 hours, as the table does.
    fig = charts.Chart(tuple(
        charts.panel("bar", by_type.dropna(subset=[column]).round({column: 1}), x=column,
                     y="type", unit="number", title=title, xlabel=tr("hours"))
        for column, title in (("median_hours", tr("Median hours to close")),
                              ("p90_hours", tr("90th percentile: hours to close")))),
        size=(12, min(max(2.5, 0.45 * len(by_type) + 1.4), 8)))
    sentences = [format_markdown(
        tr("Half of the closed tickets were closed within {median} hours and 90% within "
           "{p90} hours ({closed} closed tickets)."), median=_hours(total["median_hours"]),
        p90=_hours(total["p90_hours"]), closed=format_value(total["closed"], "count"))]
    slowest = by_type.dropna(subset=["median_hours"])
    if len(slowest):
        row = slowest.loc[slowest["median_hours"].idxmax()]
        sentences.append(format_markdown(
            tr("{kind} tickets took longest: median {median} hours, 90th percentile {p90} "
               "hours."), kind=_ticket_type(row["type"]),
            median=_hours(row["median_hours"]), p90=_hours(row["p90_hours"])))
    sentences.append(narrative.rate_sentence(
        tr("The share of the period's tickets still open"), _row_rate(total),
        noun=tr("tickets")))
    shown = times.assign(type=[tr(t) if t == ALL_TYPES else t for t in times["type"]])
    out = [fig, Text(" ".join(sentences)),
           Table(shown[["type", "tickets", "closed", "median_hours", "p90_hours"]].assign(
                     still_open=times["value"],
                     **{"still_open_95%_CI": _intervals(times, "percent")}),
                 {"tickets": "count", "closed": "count", "median_hours": "{:,.1f}",
                  "p90_hours": "{:,.1f}", "still_open": "percent"},
                 caption=tr("Tickets opened in the period; hours from opened_at to "
                            "closed_at of the closed ones; still open = no closed_at (95% "
                            "CI)"))]
    if report.by and not reaches(report, "tickets", report.by):
        out.append(_no_breakdown(tr("Resolution times"), report.by, "tickets"))
    elif report.by:
        frame = resolution_by(report, report.by)
        if isinstance(frame, NotAvailable):
            out += not_available(report, tr("Resolution times by {by}").format(
                by=_dim_name(report.by)), frame)
        else:
            out.append(Table(frame, {"tickets": "count", "median_hours": "{:,.1f}",
                                     "p90_hours": "{:,.1f}"},
                             caption=tr("Hours to close by {by}").format(
                                 by=_dim_name(report.by))))
    return out


def _hours(value) -> str:
    """Hours to one decimal, as the resolution table shows them: 38.2."""
    return i18n.number(value, 1)


def _ticket_type(kind) -> str:
    """A ticket type starting a sentence: "Follow-up" in English; in another language the
    type as the data writes it (a data value, not a word to translate)."""
    if i18n.current().language == i18n.SOURCE_LANGUAGE:
        return str(kind).replace("_", "-").capitalize()
    return str(kind)


def _row_rate(row) -> Rate:
    return Rate.from_counts(row["numerator"], row["denominator"])


def repeat_and_churn(report: Report) -> list:
    """Surveyed customers by CSAT band: the share who bought again and the share who
    churned, with intervals; the gap between high and low CSAT in words. Without orders:
    on a snapshot, churn by the customers' own score; otherwise one line on what it needs."""
    if not has_orders(report):
        if report.has_shape("snapshot"):
            return _churn_by_score_outputs(report)
        return [Text(tr("*Satisfaction cannot be set against buying or churn in this data: "
                        "repeat buying needs orders, and churn needs orders or customers "
                        "with a churn flag.*"))]
    outcomes = satisfaction_outcomes(report)
    if isinstance(outcomes, NotAvailable):
        return not_available(report, tr("The link between satisfaction, buying and churn"),
                             outcomes)
    if outcomes["customers"].sum() == 0:
        return [Text(tr("*No surveyed customer in the selection, so satisfaction cannot be "
                        "set against buying and churn.*"))]
    outcomes = _shown_bands(outcomes)
    repeat = _outcome_rates(outcomes, "repeat", "customers")
    churn = _outcome_rates(outcomes, "churned", "churn_base") \
        if "churned" in outcomes else None
    band_label = tr("Customer's mean CSAT in the period")
    fig = charts.Chart((
        _rate_panel(repeat, x="band", title=tr("Bought twice or more in the period"),
                    xlabel=band_label),
        *([_rate_panel(churn, x="band", title=tr("Churned in the period"),
                       xlabel=band_label)]
          if churn is not None else [])), size=(12, 4))
    sentences = []
    comparison = band_comparison(repeat, N_("bought twice or more in the period"))
    sentences.append(comparison["sentence"] if comparison else
                     tr("Too few customers in the high or low CSAT band to compare repeat "
                        "buying."))
    if churn is not None:
        comparison = band_comparison(churn, N_("churned in the period"))
        sentences.append(comparison["sentence"] if comparison else
                         tr("Too few customers in the high or low CSAT band to compare "
                            "churn."))
    else:
        sentences.append(tr("Churn is not available (needs customers.churn_date)."))
    sentences.append(tr("This is an association, not an effect: satisfied customers may "
                        "differ in other ways (segment, tenure, what they buy) that also "
                        "drive buying and churn."))
    table = outcomes[["band", "customers", "repeat"]].assign(
        repeat_share=repeat["value"], **{"repeat_95%_CI": _intervals(repeat, "percent")})
    if churn is not None:
        table = table.assign(churn_base=outcomes["churn_base"], churned=outcomes["churned"],
                             churn_rate=churn["value"],
                             **{"churn_95%_CI": _intervals(churn, "percent")})
    return [fig, Text("\n".join(f"- {s}" for s in sentences)),
            Table(table, {"customers": "count", "repeat": "count", "churn_base": "count",
                          "churned": "count", "repeat_share": "percent",
                          "churn_rate": "percent"},
                  caption=tr("Customers with a survey score in the period, grouped by "
                             "their mean CSAT. repeat = 2+ completed orders in the period; "
                             "churn: customers not churned before their first survey of the "
                             "period (churn_base), of whom churned = churn_date in the "
                             "period."))]


def _rules() -> list[dict]:
    """SATISFACTION_RULES with their texts in the report's language ({language: text},
    which crmkit.narrative takes as it is), the follow-up window written in."""
    language = i18n.current().language
    return [{**rule, "text": {language: tr(rule["text"]).replace(
        "{days}", i18n.number(FOLLOW_UP_WINDOW_DAYS))}} for rule in SATISFACTION_RULES]


def conclusions(report: Report) -> list:
    """Recommendations: the generic KPI rules of crmkit.narrative, this report's rules
    (SATISFACTION_RULES), groups significantly below overall, the repeat-buying gap and,
    without orders, what the customers' own score says (and on a snapshot, its churn gap)."""
    values = {name: report.kpi(name) for name in ("csat", "nps", "complaint_rate",
                                                  "follow_up_rate")}
    items = narrative.recommendation_items(values)
    own = {"complaints_followed_up": complaints_followed_up(report)}
    times = resolution_times(report)
    if not isinstance(times, NotAvailable):
        total = times[times["type"] == ALL_TYPES].iloc[0]
        if total["closed"] >= MIN_DENOMINATOR:
            own["resolution_p90_hours"] = float(total["p90_hours"])
        own["open_ticket_share"] = _row_rate(total)
    items += narrative.recommendation_items(own, rules=_rules())
    overall = report.kpi("csat")
    for dim in breakdowns(report):
        frames = scores_by(report, dim)
        if isinstance(frames, NotAvailable) or isinstance(overall, NotAvailable):
            continue
        low = frames["csat"][below_overall(frames["csat"], overall)]
        if len(low):
            items.append((2, format_markdown(
                tr("CSAT is significantly below the overall {overall} for {dim} {groups}: "
                   "read their survey comments and complaint reasons first."),
                overall=format_value(overall.value, "score"), dim=_dim_name(dim),
                groups=_list(_group_value(g, format_value(v, "score"))
                             for g, v in zip(low[dim], low["value"])))))
    items += _customer_score_recommendations(report)
    outcomes = satisfaction_outcomes(report) if has_orders(report) else None
    if isinstance(outcomes, pd.DataFrame):
        comparison = band_comparison(_outcome_rates(outcomes, "repeat", "customers"), "")
        if comparison and not comparison["overlap"] and comparison["difference"] > 0:
            items.append((2, format_markdown(
                tr("Customers with high CSAT bought again {points} percentage points more "
                   "often than those with low CSAT: a test of faster service recovery for "
                   "low scores (a call within a week) would show whether raising "
                   "satisfaction raises repeat buying."),
                points=_points(comparison["difference"]))))
    if not items and all(isinstance(v, NotAvailable) for v in values.values()):
        return [Text(tr("No recommendations: this data has no survey or ticket scores to "
                        "base them on."))]
    if not items and all(isinstance(v, NotAvailable) or getattr(v, "n", None) == 0
                         for v in values.values()):
        return [Text(tr("No recommendations: no survey response or ticket falls in this "
                        "selection to base them on."))]
    if not items:
        return [Text(narrative.recommendations({}))]
    return [Text(narrative.findings(items))]


# -- data without orders: the customers' own score and a snapshot's churn ------------------

OWN_SCORE = N_("the customers' own satisfaction score")  # shown with tr()

# What the figures of data without orders rest on: one clause per fact (see below).
_FEEDBACK_PERIOD = {
    ("survey", "ticket"): N_("survey and ticket figures are for the report period"),
    ("survey",): N_("survey figures are for the report period"),
    ("ticket",): N_("ticket figures are for the report period")}
_AS_OF_DATA = {
    (True, True): N_("the customers' own satisfaction score and the churn flag are as of "
                     "the data, not the period"),
    (True, False): N_("the customers' own satisfaction score is as of the data, not the "
                      "period"),
    (False, True): N_("the churn flag is as of the data, not the period")}


def _no_orders_basis(report: Report) -> str:
    """What the figures of data without orders rest on, in one paragraph."""
    parts = []
    feedback = tuple(name for name in ("survey", "ticket") if report.has(f"{name}s"))
    if feedback:
        parts.append(tr(_FEEDBACK_PERIOD[feedback]))
    if report.has("customers") and report.has("tickets"):
        parts.append(tr("complaint and follow-up rates count every customer of the "
                        "customers table the filters select"))
    as_of = (bool(customer_scores(report)), bool(report.has_shape("snapshot")))
    if any(as_of):
        parts.append(tr(_AS_OF_DATA[as_of]))
    if not parts:
        return tr("*This data has no orders. Repeat buying and scores by product category "
                  "need orders and are not reported.*")
    return tr("*This data has no orders: {facts}. Repeat buying and scores by product "
              "category need orders and are not reported.*").format(
        facts=series(parts, semicolons=True))


def _customer_score_sentence(
        measure, label: str = N_("The mean of the customers' own satisfaction score")) -> str:
    """The mean of the customers' own score in words ("no customer" rather than "0");
    ``label`` in English, translated here."""
    if not isinstance(measure, NotAvailable) and not measure.n:
        return tr("No customer in the selection has a satisfaction score of their own.")
    return narrative.kpi_sentence(tr(label), measure, noun=tr("customers with a score"))


def _customer_score_levels(report: Report) -> list:
    """The customers' own score: its mean with interval and its distribution; [] when
    customers have no score."""
    if not customer_scores(report):
        return []
    mean = report.kpi("customer_satisfaction")
    spread = report.kpi("customer_satisfaction_distribution")
    lead = tr("**The customers' own satisfaction score** (customers.satisfaction: one "
              "score per customer, as of the data rather than the period).")
    out = [Text(lead + " " + _customer_score_sentence(mean, N_("Its mean")))]
    if isinstance(mean, NotAvailable) or not mean.n or isinstance(spread, NotAvailable):
        return out
    on_csat_scale = set(spread["score"]) <= set(range(1, int(CSAT_SCALE_MAX) + 1))
    out.append(charts.chart("distribution", spread, x="score", y="value",
                            scale="csat" if on_csat_scale else None, size=(8, 3.6),
                            title=tr("Customers' own satisfaction score"),
                            ylabel=tr("Share of customers")))
    without = spread.attrs.get("without_score", 0)
    if without:
        out.append(Text(format_markdown(
            tr("{n} of the {total} customers selected have no score on file and are left "
               "out of these figures."), n=format_value(without, "count"),
            total=format_value(without + mean.n, "count"))))
    return out


def _customer_score_frames(report: Report, dims: list[str]) -> dict:
    """dim -> the customers' own score by ``dim`` (customers columns with 2+ groups)."""
    columns = report.wh.table("customers").columns
    frames = {}
    for dim in dims:
        frame = report.kpi("customer_satisfaction", by=dim) if dim in columns else None
        if isinstance(frame, pd.DataFrame) and len(frame) >= 2:
            frames[dim] = _label_groups(frame, dim)
    return frames


def _customer_scores_by(report: Report, dims: list[str]) -> list:
    """The customers' own score by the customers columns among ``dims``: the lowest group
    in words and a table with intervals; [] when customers have no score."""
    if not customer_scores(report):
        return []
    overall = report.kpi("customer_satisfaction")
    if isinstance(overall, NotAvailable) or not overall.n:
        return []  # the level section says why
    frames = _customer_score_frames(report, dims)
    out = []
    if report.by and report.by not in report.wh.table("customers").columns:
        out.append(Text(format_markdown(
            tr("*The customers' own score cannot be broken down by {by}: it is not a "
               "customers column.*"), by=_dim_name(report.by))))
    if not frames:
        return out + [Text(tr("*No customer column has two or more groups to compare the "
                              "customers' own satisfaction score by in this selection.*"))]
    sentences = [lowest_group_sentence(f, dim, overall, label=OWN_SCORE, noun="customers")
                 for dim, f in frames.items()]
    table = pd.concat([pd.DataFrame({
        "dimension": _dim_name(dim), "group": f[dim], "customers": f["n"],
        "score": f["value"], "score_95%_CI": _intervals(f, "score"),
        "significantly_lower": np.where(f["too_few"].astype(bool), tr("too few customers"),
                                        np.where(below_overall(f, overall),
                                                 tr("below overall"), ""))})
        for dim, f in frames.items()], ignore_index=True)
    words = [Text("\n".join(f"- {s}" for s in sentences if s))] if any(sentences) else []
    return [*words, *out,
            Table(table, {"customers": "count", "score": "score"},
                  caption=tr("The customers' own satisfaction score by group: mean of the "
                             "customers with a score (95% CI). Significantly lower: the "
                             "interval lies entirely below the overall mean."))]


def _score_churn_comparison(report: Report) -> dict | None:
    """Churn at the highest against the lowest score with enough customers (see
    band_comparison); None without two such scores."""
    frame = churn_by_score(report)
    if isinstance(frame, NotAvailable):
        return None
    sure = frame[~frame["too_few"].astype(bool)].reset_index(drop=True)
    if len(sure) < 2:
        return None
    return band_comparison(sure, N_("churned"), column="score",
                           subject=N_("own satisfaction score"))


def _churn_by_score_outputs(report: Report) -> list:
    """A snapshot: the churn rate by the customers' own score, with counts and intervals,
    and whether the least satisfied leave more."""
    lead = Text(tr("*Repeat buying needs orders, which this data does not have. Churn here "
                   "is the snapshot's own flag (churned or not as of its date), set against "
                   "each customer's own satisfaction score.*"))
    frame = churn_by_score(report)
    if isinstance(frame, NotAvailable):
        return [lead, *not_available(report, tr("Churn by satisfaction score"), frame)]
    if frame.empty:
        return [lead, Text(tr("*No customer in the selection has both a churn flag and a "
                              "satisfaction score.*"))]
    overall = report.kpi("snapshot_churn_rate")
    chart = charts.Chart((_rate_panel(
        frame, x="score", reference=overall,
        title=tr("Churn by the customer's own satisfaction score"),
        xlabel=tr("Customer's satisfaction score")),), size=(10, 4))
    comparison = _score_churn_comparison(report)
    sentences = [narrative.rate_sentence(tr("Churn as of the snapshot"), overall,
                                         noun=tr("customers")),
                 comparison["sentence"] if comparison else
                 tr("Too few customers at two scores to compare churn."),
                 tr("This is an association, not an effect: less satisfied customers may "
                    "differ in other ways (contract, tenure, price) that also drive churn.")]
    without = frame.attrs.get("without_group", 0)
    table = frame[["score", "denominator", "numerator"]].rename(
        columns={"denominator": "customers", "numerator": "churned"}).assign(
        churn_rate=frame["value"], **{"churn_95%_CI": _intervals(frame, "percent")},
        too_few=frame["too_few"])
    caption = (tr("Customers with a churn flag by their own satisfaction score "
                  "(customers.satisfaction); churned = flagged churned as of the snapshot; "
                  "{n} customers without a score left out").format(n=i18n.number(without))
               if without else
               tr("Customers with a churn flag by their own satisfaction score "
                  "(customers.satisfaction); churned = flagged churned as of the snapshot"))
    return [lead, chart, Text("\n".join(f"- {s}" for s in sentences)),
            Table(table, {"customers": "count", "churned": "count", "churn_rate": "percent",
                          "too_few": "flag:" + N_("too few to say")}, caption=caption)]


def _customer_score_recommendations(report: Report) -> list:
    """(priority, sentence): groups whose own score is significantly below overall and,
    on a snapshot, a churn gap between the lowest and highest score that is not chance."""
    if not customer_scores(report):
        return []
    items = []
    overall = report.kpi("customer_satisfaction")
    if not isinstance(overall, NotAvailable) and overall.n:
        for dim, frame in _customer_score_frames(report, list(BREAKDOWNS)).items():
            low = frame[below_overall(frame, overall)]
            if len(low):
                items.append((2, format_markdown(
                    tr("The customers' own satisfaction score is significantly below the "
                       "overall {overall} for {dim} {groups}: find what those customers "
                       "have in common and ask a sample of them what went wrong."),
                    overall=format_value(overall.value, "score"), dim=_dim_name(dim),
                    groups=_list(_group_value(g, format_value(v, "score"))
                                 for g, v in zip(low[dim], low["value"])))))
    comparison = _score_churn_comparison(report) if not has_orders(report) and \
        report.has_shape("snapshot") else None
    if comparison and not comparison["overlap"] and comparison["difference"] < 0:
        frame = churn_by_score(report)
        sure = frame[~frame["too_few"].astype(bool)]
        items.append((2, format_markdown(
            tr("Customers whose own satisfaction score was {low} churned {points} percentage "
               "points more often than those who gave {high}: contact low scorers before "
               "they leave; a test of such calls would show whether raising satisfaction "
               "keeps customers."), low=sure["score"].iloc[0], high=sure["score"].iloc[-1],
            points=_points(comparison["difference"]))))
    return items


# The KPI cards: scores, complaints and their follow-up, a snapshot's own scores.
CARDS = ("csat", "nps", "complaint_rate", "complaints_followed_up", "customer_satisfaction")

SECTIONS = {
    "cards": cards_section(CARDS),
    "summary": summary,
    "levels": levels,
    "trend": trend,
    "where_worse": where_worse,
    "complaints": complaints,
    "resolution": resolution,
    "repeat_and_churn": repeat_and_churn,
    "conclusions": conclusions,
    **COMMON_SECTIONS,
}

OUTLINE = [
    N_("# Customer satisfaction\n\nHow satisfied customers are, where satisfaction is "
       "worse, how complaints and follow-ups are handled, and whether satisfaction goes "
       "with repeat buying and churn."),
    ("cards", N_("## Summary of findings")),
    ("summary", None),
    ("levels", N_("## Satisfaction level\n\nCSAT is the mean survey score (1-5), CS = S / "
                  "M the same as a share of the scale maximum, NPS the share of promoters "
                  "(9-10) minus the share of detractors (0-6).")),
    ("trend", N_("## Satisfaction over time\n\nThe shaded months are the report period; "
                 "the months before give context.")),
    ("where_worse", N_("## Where satisfaction is worse")),
    ("complaints", N_("## Complaints and follow-ups")),
    ("resolution", N_("## Ticket resolution")),
    ("repeat_and_churn", N_("## Satisfaction, repeat buying and churn")),
    ("conclusions", N_("## Conclusions and recommendations")),
]
