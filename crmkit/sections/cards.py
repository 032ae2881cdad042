"""KPI cards and scorecard tables: headline numbers with their change, target, status and
trend, each drawn as one HTML block.

    lines = kpi_lines(report, ("revenue", "orders", "average_order_value"))
    KpiCards(lines.shown)         # the cards at the top of every report
    KpiTable(lines.shown)         # a table of the kpi_scorecard report

One computation for both (:func:`kpi_lines`): each KPI's value with its interval or
denominator, its change against the previous period and the same period last year, its
target (a config's ``targets:``, else the targets table) and status
(:func:`crmkit.metrics.scorecard.kpi_status` under the config's ``scorecard:`` rules), and
its values over the last :data:`TREND_PERIODS` periods of the report's length, drawn as a
sparkline (:func:`crmkit.charts.sparkline`). Every number comes from the report's KPI
cache through :func:`crmkit.metrics.scorecard.kpi_set` (``Report.computed``: a KPI is
recorded for the appendix's definitions only when it is shown).

Which KPIs are shown: those the registry can compute on this data (``needs``, then the
result is not NotAvailable), of the data's shape (see ScorecardKpi.shape), with a value in
the period; the others are listed with the reason (:attr:`KpiLines.left_out`), never shown
as a value. The HTML escapes every text; a missing number is left out, never "nan".
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crmkit import i18n
from crmkit.i18n import N_, ntr, tr
from crmkit.labels import series
from crmkit.metrics import get_metric
from crmkit.metrics.registry import needs_text
from crmkit.metrics.results import Measure, Nps, Rate, reason_text
from crmkit.metrics.scorecard import (
    SCORECARD_KPIS,
    STATUS_RULES,
    TABLE_TARGETS,
    attainment,
    kpi_set,
    kpi_status,
    kpi_target,
    rules_for,
    status_label,
    with_change,
)

TREND_PERIODS = 12  # periods of the report's length a sparkline shows, the report's last
MAX_CARDS = 5  # the first this many KPIs a report names that its data supports
# What the n of a sum or a "now" value counts (singular, plural), for the line under it
# (its words: counted_text).
COUNTED = {"bookings": ("won deal", "won deals"), "open_pipeline": ("open deal", "open deals"),
           "revenue_at_risk": ("active customer at risk", "active customers at risk")}
SHAPE_REASONS = {
    "snapshot": N_("the data is not a customer snapshot: churn is measured over the period"),
    "dated": N_("a customer snapshot's churn dates are its snapshot date, not when "
                "customers left: see the snapshot churn rate"),
    "inactivity": N_("the data records churn dates: churn is contractual (as in the churn "
                     "report)"),
}


@dataclass(frozen=True)
class KpiLine:
    """One KPI as a card or a scorecard row shows it (see :func:`kpi_lines`)."""

    name: str
    title: str
    area: str
    unit: str
    better: str
    result: object  # the Measure, Rate or Nps
    points: float | None = None  # a points scale (NPS, ROI): see ScorecardKpi
    previous: float | None = None
    change: float | None = None  # against the previous period: relative, or in points
    last_year: float | None = None
    change_last_year: float | None = None
    change_kind: str = "relative"
    periodic: bool = True
    target: float | None = None
    target_source: str = ""
    status: str | None = None
    basis: str = ""  # what the status compares with: "target" or "previous period"
    reached: float | None = None  # attainment of that reference
    within_interval: bool = False  # short of it, but the reference is in the 95% interval
    trend: pd.DataFrame | None = None  # period, value (NaN: not shown)
    note: str = ""

    @property
    def value(self) -> float:
        return float(self.result.value)

    @property
    def too_few(self) -> bool:
        return bool(self.result.too_few)


@dataclass
class KpiLines:
    """The KPIs shown, in the order asked, and those left out: name, title, reason."""

    shown: list[KpiLine] = field(default_factory=list)
    left_out: list[dict] = field(default_factory=list)
    periods: list = field(default_factory=list)  # the trend's periods (Filters), oldest first


# -- computing -------------------------------------------------------------------------------

def shape_reason(report, name: str) -> str | None:
    """Why KPI ``name`` is not for this data's shape, or None (see ScorecardKpi.shape)."""
    shape = SCORECARD_KPIS[name].shape
    if shape == "snapshot" and not report.has_shape("snapshot"):
        return SHAPE_REASONS["snapshot"]
    if shape == "dated" and report.has_shape("snapshot"):
        return SHAPE_REASONS["dated"]
    if shape == "inactivity" and _has_churn_dates(report):
        return SHAPE_REASONS["inactivity"]
    return None


def _has_churn_dates(report) -> bool:
    # Not report.memo: that reads the breakdown, and the cards do not depend on it.
    from crmkit.metrics.churn import has_churn_dates

    return has_churn_dates(report.wh)


def registry_reason(report, name: str) -> str | None:
    """Why the registry cannot compute KPI ``name`` on this warehouse (a table or column it
    needs is missing or empty), without running it; None when it can try."""
    kpi = get_metric(name)
    missing = kpi.missing(report.wh)
    if missing:
        return needs_text(missing)
    return kpi.empty_tables(report.wh) or kpi.mixed_currencies(report.wh)


def kpi_lines(report, names, *, trend: bool = True, limit: int | None = None) -> KpiLines:
    """The KPIs ``names`` (scorecard KPIs, crmkit.metrics.scorecard.SCORECARD) on the
    report's filters, with what a card or a scorecard row shows; ``limit`` keeps the first
    that many shown (the others are computed no further)."""
    out = KpiLines()
    candidates = []
    for name in dict.fromkeys(names):
        title = get_metric(name).title
        why = shape_reason(report, name) or registry_reason(report, name)
        if why:
            out.left_out.append({"name": name, "title": title, "reason": why})
        else:
            candidates.append(name)
    filters = report.filters
    current = kpi_set(report.wh, filters, names=candidates, kpi=report.computed)
    shown = []
    for row in current.itertuples(index=False):
        if not row.available:
            out.left_out.append({"name": row.name, "title": row.title, "reason": row.note})
        elif not np.isfinite(row.value):
            out.left_out.append({"name": row.name, "title": row.title,
                                 "reason": N_("no data in the period")})
        elif limit is None or len(shown) < limit:
            shown.append(row.name)
    current = current.set_index("name")
    dated = filters.start is not None and filters.end is not None
    periodic = [n for n in shown if SCORECARD_KPIS[n].periodic and dated]
    compared = current.loc[periodic].reset_index() if periodic else \
        current.iloc[0:0].reset_index()
    starts = {name: data_start(report.wh, name) for name in periodic}
    if periodic:
        for period, value, change in ((filters.previous_period(), "previous", "change"),
                                      (filters.same_period_last_year(), "last_year",
                                       "change_last_year")):
            # A period before the data begins has no value (not a sum of nothing: 0).
            covered = [n for n in periodic if starts[n] is None or period.start >= starts[n]]
            before = kpi_set(report.wh, period, names=covered, kpi=report.computed)
            compared = with_change(compared, before, value, change)
    compared = compared.set_index("name")
    trends = _trends(report, periodic, starts, out) if trend and periodic else {}
    rules = report.settings.get("rules") or STATUS_RULES
    targets = report.settings.get("targets") or {}
    for name in shown:
        out.shown.append(_line(report, name, current.loc[name], compared, trends, rules,
                               targets))
    return out


def _line(report, name: str, row, compared: pd.DataFrame, trends: dict, rules: dict,
          targets: dict) -> KpiLine:
    entry = SCORECARD_KPIS[name]
    result = _result(report, name)
    values = {}
    if name in compared.index:
        c = compared.loc[name]
        values = {"previous": _number(c["previous"]), "change": _number(c["change"]),
                  "last_year": _number(c["last_year"]),
                  "change_last_year": _number(c["change_last_year"]),
                  "change_kind": c["change_kind"]}
    target, source = kpi_target(name, row["unit"], report.filters, targets, report.computed)
    if source == "targets table":
        report.record(TABLE_TARGETS[name][0])  # the appendix defines where it comes from
    own = rules_for(name, rules)
    reference, basis = (target, "target") if target is not None else (None, "")
    if reference is None and own["without_target"] == "previous_period" and not entry.budget:
        if values.get("previous") is not None and entry.periodic:
            reference, basis = values["previous"], "previous period"
    interval = (_number(row["ci_low"]), _number(row["ci_high"]))
    status = kpi_status(float(row["value"]), reference, better=entry.better,
                        points=entry.points, interval=interval, too_few=bool(row["too_few"]),
                        within_interval="at risk" if basis == "target" else "on track",
                        rules=own)
    reached = None if reference is None else _number(
        attainment(float(row["value"]), reference, better=entry.better, points=entry.points))
    low, high = interval
    within = (reached is not None and reached < float(own["on_track"]) and low is not None
              and high is not None and low <= reference <= high)
    return KpiLine(name=name, title=row["title"], area=entry.area, unit=row["unit"],
                   better="neither" if entry.budget else entry.better, result=result,
                   points=entry.points, periodic=name in compared.index,
                   target=target, target_source=source, status=status,
                   basis=basis if status else "", reached=reached,
                   within_interval=bool(status and within),
                   trend=trends.get(name), note=row["note"] or "", **values)


def _result(report, name: str):
    """The KPI's scalar result (a frame-valued KPI's one value), from the report's cache;
    recorded, as it is shown."""
    from crmkit.metrics.scorecard import headline_result

    return headline_result(name, report.kpi(name))


def _number(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def trend_periods(filters, n: int = TREND_PERIODS) -> list:
    """The report's period and the ``n - 1`` periods of its length before it, oldest first."""
    periods = [filters]
    for _ in range(n - 1):
        periods.append(periods[-1].previous_period())
    return periods[::-1]


def data_start(wh, name: str) -> pd.Timestamp | None:
    """The first day of the data KPI ``name`` reads (the earliest date the ingest audit
    records for its tables, else for any table); None when no date is recorded."""
    tables = wh.audit.get("tables") or {}
    needs = {alt.partition(".")[0] for need in get_metric(name).needs
             for alt in need.split("|")}

    def first(names):
        days = [pd.Timestamp(tables[t]["date_range"]["min"]).normalize() for t in names
                if (tables.get(t) or {}).get("date_range")
                and tables[t]["date_range"].get("min")]
        return min(days) if days else None

    return first(needs) or first(tables)


def _trends(report, names: list[str], starts: dict, out: KpiLines) -> dict[str, pd.DataFrame]:
    """name -> period, value over the trend periods: NaN before the data begins (``starts``:
    name -> the first day of its data), where the KPI has no value and where it has too
    few observations to say."""
    periods = trend_periods(report.filters)
    out.periods = periods
    values = {name: [] for name in names}
    for period in periods:
        wanted = [n for n in names if starts[n] is None or period.start >= starts[n]]
        rows = kpi_set(report.wh, period, names=wanted, kpi=report.computed).set_index("name") \
            if wanted else None
        for name in names:
            if name not in wanted:
                values[name].append(math.nan)
                continue
            row = rows.loc[name]
            ok = row["available"] and not row["too_few"]
            values[name].append(float(row["value"]) if ok else math.nan)
    index = [p.start for p in periods]
    return {name: pd.DataFrame({"period": index, "value": v}) for name, v in values.items()}


# -- words and numbers --------------------------------------------------------------------------

def value_text(value: float | None, unit: str, *, compact: bool | None = False) -> str:
    """A KPI value as a card or a table shows it, in the active locale (crmkit.i18n):
    3.74M / 374.48万 (a card) or 3,744,815, 1,222.53, 28.1%, +12, 3.74, 175 days, 2.4×
    (money with the report currency when there is one); "" when missing. ``compact=None``:
    as a sentence gives money, in full in English, in 万 and 亿 in a 万 language."""
    if value is None or not np.isfinite(value):
        return ""
    if unit == "currency":
        # A card shortens millions (3.74M), or in a 万 language amounts from 10,000.
        wan = i18n.current().language in i18n.WAN_LANGUAGES
        if compact is None:
            compact = wan
        if compact and abs(value) >= (i18n.WAN if wan else 1e6):
            return i18n.money(value, compact_form=True)
        return i18n.money(value, compact_form=False, digits=0 if abs(value) >= 1000 else 2)
    if unit == "count":
        return i18n.number(value)
    if unit == "percent":
        return i18n.percent(value)
    if unit == "nps":
        return _signed(value, 0)
    if unit == "days":
        return tr("{value} days").format(value=i18n.number(value))
    if unit == "hours":
        return tr("{value} h").format(value=i18n.number(value, 1))
    if unit == "ratio":
        return tr("{value}×").format(value=i18n.number(value, 1))
    return i18n.number(value, 2)


def _signed(value: float, digits: int) -> str:
    """+12 / -3 / +0.0 (the sign as Python's "+" format writes it) in the active locale."""
    return ("-" if math.copysign(1.0, value) < 0 else "+") + i18n.number(abs(value), digits)


def _interval_text(low, high, unit: str, compact: bool = False) -> str:
    # No-break spaces: "95% CI" and "n = 1,038" never break across lines.
    if unit in ("days", "hours"):  # the unit once: 51–53 days
        number = "count" if unit == "days" else ""
        return tr("95%\u00a0CI {low}–{high}").format(low=value_text(low, number),
                                                    high=value_text(high, unit))
    if unit == "nps":
        return tr("95%\u00a0CI {low} to {high}").format(low=value_text(low, unit),
                                                       high=value_text(high, unit))
    return tr("95%\u00a0CI {low}–{high}").format(
        low=value_text(low, unit, compact=compact), high=value_text(high, unit, compact=compact))


def counted_text(name: str, n: int) -> str:
    """What the n of a sum or a "now" value counts (:data:`COUNTED`): "from 12 won deals"."""
    count = i18n.number(n)
    if name == "bookings":
        return ntr("from {n} won deal", "from {n} won deals", n).format(n=count)
    if name == "open_pipeline":
        return ntr("from {n} open deal", "from {n} open deals", n).format(n=count)
    if name == "revenue_at_risk":
        return ntr("from {n} active customer at risk", "from {n} active customers at risk",
                   n).format(n=count)
    singular, plural = COUNTED[name]
    return f"from {count} {plural if n != 1 else singular}"


def detail_text(line: KpiLine, *, compact: bool = False) -> str:
    """What the value rests on: the counts of a rate, the interval and n of a mean or an
    NPS, what a sum counts; "" when nothing. ``compact`` (a card): in a 万 language an
    interval of money reads in 万 like the value above it (English keeps it in full)."""
    compact = compact and i18n.current().language in i18n.WAN_LANGUAGES
    r = line.result
    if isinstance(r, Rate):
        text = tr("{numerator} of {denominator}").format(numerator=i18n.number(r.numerator),
                                                         denominator=i18n.number(r.denominator))
        if _number(r.ci_low) is not None and _number(r.ci_high) is not None:
            text += f" · {_interval_text(r.ci_low, r.ci_high, 'percent')}"
        return text
    if isinstance(r, Nps):
        return (tr("{n} responses").format(n=i18n.number(r.n)) +
                f" · {_interval_text(r.ci_low, r.ci_high, 'nps')}")
    if isinstance(r, Measure):
        if _number(r.ci_low) is not None and _number(r.ci_high) is not None:
            return (f"{_interval_text(r.ci_low, r.ci_high, line.unit, compact)} · "
                    f"n\u00a0=\u00a0{i18n.number(r.n)}")
        if r.n and line.name in COUNTED:
            return counted_text(line.name, r.n)
    return ""


def shown_value(line: KpiLine, *, compact: bool | None = False) -> str:
    """The value, or "too few to say" below the minimum count (``compact``: see
    :func:`value_text`)."""
    if line.too_few:
        return tr("too few to say")
    return value_text(line.value, line.unit, compact=compact)


def change_text(change: float | None, kind: str, unit: str) -> str:
    """+4.7% (relative) or +1.3 pts (points of a rate or an NPS); "" when missing."""
    if change is None:
        return ""
    if kind == "points":
        points = change * 100 if unit == "percent" else change
        return tr("{points} pts").format(points=_signed(points, 1))
    return ("-" if math.copysign(1.0, change) < 0 else "+") + i18n.percent(abs(change))


def direction(change: float | None, better: str) -> str:
    """"good", "bad" or "flat" for a change of a KPI whose ``better`` way ("higher",
    "lower", "neither") is given."""
    if change is None or abs(change) < 1e-12 or better == "neither":
        return "flat"
    return "good" if (change > 0) == (better == "higher") else "bad"


def _arrow(change: float | None) -> str:
    if change is None or abs(change) < 1e-12:
        return "="
    return "▲" if change > 0 else "▼"


def target_text(line: KpiLine, *, compact: bool = False) -> str:
    if line.target is None:
        return ""
    return value_text(line.target, line.unit, compact=compact)


def status_title(line: KpiLine) -> str:
    """"94% of target", "102% of the previous period" (what the status rests on)."""
    if line.reached is None or not line.basis:
        return ""
    target = line.basis == "target"
    if math.isinf(line.reached):
        return tr("above the target") if target else tr("above the previous period")
    if line.points is not None:  # a points scale: how many points short or over
        gap = (line.reached - 1) * line.points
        points = tr("{points} pts").format(points=i18n.number(
            abs(gap) * 100 if line.unit == "percent" else abs(gap), 1))
        if gap >= 0:
            text = (tr("{points} above target") if target
                    else tr("{points} above the previous period")).format(points=points)
        else:
            text = (tr("{points} below target") if target
                    else tr("{points} below the previous period")).format(points=points)
    else:
        from babel import numbers

        reached = numbers.format_percent(line.reached, "0%", locale=i18n.current().locale)
        text = (tr("{reached} of target") if target
                else tr("{reached} of the previous period")).format(reached=reached)
    if line.within_interval:
        return tr("{status}, within the 95% CI").format(status=text)
    return text


def sparkline_png(line: KpiLine) -> bytes | None:
    """The trend of ``line`` as a sparkline PNG, or None with fewer than two values."""
    from crmkit.charts import figure_png, sparkline

    if line.trend is None or line.trend["value"].notna().sum() < 2:
        return None
    return figure_png(sparkline(line.trend).figure)


def trend_alt(line: KpiLine) -> str:
    """The sparkline in words, for its alt text: first and last values and the range."""
    points = line.trend.dropna(subset=["value"])
    first, last = points.iloc[0], points.iloc[-1]
    return tr("{title}, {n} periods: {first} ({first_month}) to {last} ({last_month}); low "
              "{low}, high {high}").format(
        title=reason_text(line.title), n=i18n.number(len(points)),
        first=value_text(first["value"], line.unit, compact=None),
        first_month=i18n.month(first["period"]),
        last=value_text(last["value"], line.unit, compact=None),
        last_month=i18n.month(last["period"]),
        low=value_text(points["value"].min(), line.unit, compact=None),
        high=value_text(points["value"].max(), line.unit, compact=None))


# -- HTML ------------------------------------------------------------------------------------------

def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


# Scoped styles (crmkit-kpi-*) for the report page and the notebook alike: a report's CSP
# allows inline styles; colours are set, not inherited, so a dark notebook theme keeps
# the cards readable.
STYLE = """<style>
.crmkit-kpi-cards{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0 16px}
.crmkit-kpi-card{display:flex;flex-direction:column;flex:1 1 170px;max-width:250px;
 box-sizing:border-box;border:1px solid #d9e2ec;border-top:3px solid #2f5d8a;border-radius:6px;
 padding:9px 12px 8px;background:#fff;color:#1f2933;line-height:1.35;font-size:12.5px;
 break-inside:avoid}
.crmkit-kpi-title{color:#52606d;font-size:12.5px;font-weight:600}
.crmkit-kpi-value{font-size:25px;font-weight:650;font-variant-numeric:tabular-nums;margin:1px 0}
.crmkit-kpi-small{color:#52606d;font-size:11.5px;font-weight:400}
.crmkit-kpi-good{color:#17703a;font-weight:600}.crmkit-kpi-bad{color:#b42318;font-weight:600}
.crmkit-kpi-flat{color:#52606d;font-weight:600}
.crmkit-kpi-status{display:inline-block;border-radius:9px;padding:0 7px;font-size:11.5px;
 font-weight:600;white-space:nowrap}
.crmkit-kpi-on-track{background:#dcf2e3;color:#14532d}
.crmkit-kpi-at-risk{background:#fdf0c8;color:#6b4500}
.crmkit-kpi-off-track{background:#fbe0de;color:#8a1c12}
.crmkit-kpi-card img{display:block;width:170px;max-width:100%;height:auto;margin-top:auto;
 padding-top:6px}
table.crmkit-scorecard{border-collapse:collapse;table-layout:fixed;width:100%;margin:4px 0 14px;
 font-size:13px;background:#fff;color:#1f2933;font-variant-numeric:tabular-nums}
table.crmkit-scorecard th{text-align:left;font-weight:600;font-size:12px;color:#52606d;
 border-bottom:2px solid #1f2933;padding:4px 8px;vertical-align:bottom;background:#fff}
table.crmkit-scorecard th.crmkit-kpi-num{text-align:right}
table.crmkit-scorecard td{text-align:left;padding:6px 8px;vertical-align:top;
 border-bottom:1px solid #d9e2ec;background:#fff;white-space:normal}
table.crmkit-scorecard td.crmkit-kpi-num{text-align:right}
table.crmkit-scorecard td.crmkit-kpi-name{font-weight:600;min-width:9rem}
table.crmkit-scorecard img{display:block;width:100%;max-width:150px;height:auto}
</style>"""


def _change_html(change, kind, unit, better, against: str) -> str:
    if change is None:
        return ""
    way = direction(change, better)
    return (f"<span class='crmkit-kpi-{way}'>{_arrow(change)} "
            f"{_e(change_text(change, kind, unit))}</span> {_e(against)}")


def _small(text: str) -> str:
    return f"<span class='crmkit-kpi-small'>{_e(text)}</span>"


def _status_html(line: KpiLine) -> str:
    if line.too_few:
        return _small(tr("too few to say"))
    if not line.status:
        return _small(tr("no target"))
    css = line.status.replace(" ", "-")
    return (f"<span class='crmkit-kpi-status crmkit-kpi-{css}' "
            f"title='{_e(status_title(line))}'>{_e(status_label(line.status))}</span>")


def _sparkline_html(line: KpiLine) -> str:
    png = sparkline_png(line)
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f"<img src='data:image/png;base64,{data}' alt='{_e(trend_alt(line))}'>"


@dataclass
class KpiCards:
    """Headline KPIs as cards: value (and what it rests on), change against the previous
    period and the same period last year, target and status, trend. HTML in a report
    and in the live panel alike."""

    lines: list[KpiLine]
    caption: str = ""

    def to_html(self) -> str:
        cards = []
        for line in self.lines:
            parts = [f"<div class='crmkit-kpi-title'>{_e(reason_text(line.title))}</div>",
                     f"<div class='crmkit-kpi-value'>{_e(shown_value(line, compact=True))}"
                     "</div>"]
            detail = detail_text(line, compact=True)
            if detail:
                parts.append(f"<div class='crmkit-kpi-small'>{_e(detail)}</div>")
            for change, against in ((line.change, tr("vs previous period")),
                                    (line.change_last_year, tr("vs last year"))):
                if line.too_few:  # no change of a number the card does not stand behind
                    break
                text = _change_html(change, line.change_kind, line.unit, line.better, against)
                if text:
                    parts.append(f"<div>{text}</div>")
            if not line.periodic:
                no_period = _e(tr("as of the data: no period to compare"))
                parts.append(f"<div class='crmkit-kpi-small'>{no_period}</div>")
            status = ""
            if line.target is not None:
                status = _e(tr("Target {value}").format(
                    value=target_text(line, compact=True))) + " · "
            if line.status:
                status += _status_html(line)
                said = {"previous period": tr("vs previous period"), "target": ""}[line.basis]
                if line.within_interval:  # short, but by less than its uncertainty
                    said = (tr("no clear change vs previous period")
                            if line.basis == "previous period" else tr("within its 95% CI"))
                if said:
                    status += f" <span class='crmkit-kpi-small'>{_e(said)}</span>"
            if status:
                parts.append(f"<div style='margin-top:3px'>{status}</div>")
            parts.append(_sparkline_html(line))
            cards.append(f"<div class='crmkit-kpi-card' role='listitem'>{''.join(parts)}"
                         "</div>")
        caption = (f"<div class='crmkit-kpi-small'>{_e(self.caption)}</div>"
                   if self.caption else "")
        label = _e(tr("Headline KPIs"))
        return (STYLE + "<div class='crmkit-kpi-cards' role='list' aria-label='"
                f"{label}'>{''.join(cards)}</div>{caption}")

    def _repr_html_(self) -> str:
        return self.to_html()


@dataclass
class KpiTable:
    """Scorecard rows: KPI, value (and what it rests on), change against the previous
    period and the same period last year, target, status and trend."""

    lines: list[KpiLine]
    caption: str = ""

    # (heading, width, numbers): the same columns in every table of a scorecard; the
    # headings are messages ({n}: TREND_PERIODS)
    COLUMNS = ((N_("KPI"), "21%", False), (N_("Value"), "17%", True),
               (N_("vs previous period"), "12%", True),
               (N_("vs same period last year"), "12%", True),
               (N_("Target"), "11%", True), (N_("Status"), "13%", False),
               (N_("Last {n} periods"), "14%", False))

    def to_html(self) -> str:
        rows = []
        for line in self.lines:
            detail = detail_text(line)
            note = (f"<div class='crmkit-kpi-small'>{_e(reason_text(line.note))}</div>"
                    if line.note else "")
            value = (f"<div>{_e(shown_value(line))}</div>" +
                     (f"<div class='crmkit-kpi-small'>{_e(detail)}</div>" if detail else ""))
            changes = []
            for change, before in ((line.change, line.previous),
                                   (line.change_last_year, line.last_year)):
                if not line.periodic:
                    changes.append(_small(tr("as of the data")))
                elif line.too_few:
                    changes.append("")
                elif change is None:  # no data then, or a base of 0
                    changes.append(_small(tr("no data")) if before is None else
                                   _small(_from(before, line.unit)))
                else:
                    changes.append(
                        _change_html(change, line.change_kind, line.unit, line.better, "")
                        + f"<div class='crmkit-kpi-small'>"
                          f"{_e(_from(before, line.unit))}</div>")
            target = ""
            if line.target is not None:
                target = (f"<div>{_e(target_text(line))}</div><div class='crmkit-kpi-small'>"
                          f"{_e(tr(line.target_source))}</div>")
            status = _status_html(line)
            if line.status:
                status += f"<div class='crmkit-kpi-small'>{_e(status_title(line))}</div>"
            rows.append(
                "<tr>"
                f"<td class='crmkit-kpi-name'>{_e(reason_text(line.title))}{note}</td>"
                f"<td class='crmkit-kpi-num'>{value}</td>"
                f"<td class='crmkit-kpi-num'>{changes[0]}</td>"
                f"<td class='crmkit-kpi-num'>{changes[1]}</td>"
                f"<td class='crmkit-kpi-num'>{target}</td>"
                f"<td>{status}</td>"
                f"<td>{_sparkline_html(line)}</td>"
                "</tr>")
        head = "".join(f"<th scope='col'{' class=crmkit-kpi-num' if num else ''}>"
                       f"{_e(tr(h).format(n=TREND_PERIODS))}</th>"
                       for h, _, num in self.COLUMNS)
        cols = "".join(f"<col style='width:{w}'>" for _, w, _ in self.COLUMNS)
        caption = (f"<caption class='crmkit-kpi-small' style='caption-side:bottom;"
                   f"text-align:left'>{_e(self.caption)}</caption>" if self.caption else "")
        return (STYLE + f"<table class='crmkit-scorecard'>{caption}<colgroup>{cols}</colgroup>"
                f"<thead><tr>{head}</tr>"
                f"</thead><tbody>{''.join(rows)}</tbody></table>")

    def _repr_html_(self) -> str:
        return self.to_html()


def _from(before: float, unit: str) -> str:
    """"from 1,234": the value a change is measured from."""
    return tr("from {value}").format(value=value_text(before, unit))


# -- the cards section of a report ------------------------------------------------------------

def kpi_cards(report, names, *, limit: int = MAX_CARDS) -> list:
    """The section output: cards of the first ``limit`` KPIs of ``names`` the data
    supports; one line saying so when it supports none."""
    lines = kpi_lines(report, names, limit=limit)
    if not lines.shown:
        from crmkit.report.markup import escape_markdown
        from crmkit.sections.base import Text

        titles = series(reason_text(get_metric(n).title) for n in dict.fromkeys(names))
        return [Text(tr("*The headline KPIs ({titles}) are not available for this data and "
                        "period.*").format(titles=escape_markdown(titles)))]
    return [KpiCards(lines.shown, caption=cards_caption(report, lines))]


def cards_caption(report, lines: KpiLines) -> str:
    """What the cards compare with, in one line."""
    if not any(line.periodic for line in lines.shown):
        return tr("As of the data: a snapshot has no period to compare with.")
    return tr("Changes: against the previous period of the same length and the same period "
              "a year earlier. Trend: up to the last {n} periods of this length that the "
              "data covers, this one last (dot). Status: against the target, else the "
              "previous period (rules in the KPI scorecard's appendix).").format(
        n=TREND_PERIODS)


def cards_section(names):
    """A report's ``cards`` section showing its headline KPIs ``names``."""
    def cards(report) -> list:
        return kpi_cards(report, names)

    cards.__doc__ = f"KPI cards: the first {MAX_CARDS} of {', '.join(names)} the data has."
    return cards
