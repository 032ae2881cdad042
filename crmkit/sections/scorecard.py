"""Sections of the kpi_scorecard report: every KPI the data supports on one page, by area.

Each KPI of :data:`crmkit.metrics.scorecard.SCORECARD` that the registry can compute on
the data (and that fits its shape) is one row of its area's table: its value with its
interval or denominator, its change against the previous period and the same period last
year, its target (a config's ``targets:``, else the targets table for revenue and
bookings), a status by the config's ``scorecard:`` rules (defaults in
crmkit.metrics.scorecard.STATUS_RULES, printed in the appendix) and its trend over the
last 12 periods of the report's length. The KPIs the data cannot support are listed in
the appendix with the reason, never shown as a value. The rows are
:func:`crmkit.sections.cards.kpi_lines`, as the KPI cards of every report.
"""

from __future__ import annotations

import json

import pandas as pd

from crmkit import i18n, narrative
from crmkit.i18n import N_, ntr, tr
from crmkit.labels import column_label, series
from crmkit.metrics.results import reason_text
from crmkit.metrics.scorecard import AREAS, SCORECARD, STATUS_RULES
from crmkit.report.markup import escape_markdown, format_markdown
from crmkit.sections import base
from crmkit.sections.base import COMMON_SECTIONS, Report, Table, Text
from crmkit.sections.cards import (
    MAX_CARDS,
    TREND_PERIODS,
    KpiCards,
    KpiTable,
    cards_caption,
    kpi_lines,
    shown_value,
    status_title,
    value_text,
)

TITLE = N_("KPI scorecard")
# The headline cards: the first five of these the data supports.
HEADLINE = ("revenue", "bookings", "win_rate", "orders", "nps", "csat", "churn_rate",
            "inactivity_churn_rate", "snapshot_churn_rate", "revenue_at_risk",
            "campaign_roi")
LISTED = 5  # KPIs named per sentence of the summary
# The report that shows where each area's numbers come from, for the recommendations.
AREA_REPORTS = {"sales": N_("sales performance"), "pipeline": N_("sales performance"),
                "customers": N_("customer behaviour"), "satisfaction": N_("satisfaction"),
                "churn": N_("churn"), "campaigns": N_("campaigns")}


def _lines(report: Report):
    """Every scorecard KPI's line, computed once per filter set (not per breakdown)."""
    return report.memo("scorecard", lambda: kpi_lines(report, [k.name for k in SCORECARD]),
                       breakdown=False)


def cards(report: Report) -> list:
    """The headline KPIs as cards."""
    lines = _lines(report)
    by_name = {line.name: line for line in lines.shown}
    chosen = [by_name[n] for n in HEADLINE if n in by_name][:MAX_CARDS]
    return [KpiCards(chosen, caption=cards_caption(report, lines))] if chosen else []


def _kpis(n: int) -> str:
    """"1 KPI", "23 KPIs"."""
    return ntr("{n} KPI", "{n} KPIs", n).format(n=i18n.number(n))


def _targets(n: int) -> str:
    """"1 target", "4 targets"."""
    return ntr("{n} target", "{n} targets", n).format(n=i18n.number(n))


def _titles(lines) -> str:
    return series(reason_text(line.title) for line in lines)


def _listing(lines) -> str:
    items = [format_markdown(tr("{title} {value} ({reached})"), title=reason_text(line.title),
                             value=shown_value(line, compact=None), reached=status_title(line))
             for line in lines[:LISTED]]
    return series(items + (["…"] if len(lines) > LISTED else []), semicolons=True)


def summary(report: Report) -> list:
    """How many KPIs are on track, at risk and off track; which are off track and at risk;
    which targets are met."""
    lines = _lines(report)
    shown = lines.shown
    if not shown:
        return [Text(tr("*The data supports none of the scorecard's KPIs: see the appendix "
                        "for what each needs.*"))]
    counts = {s: [line for line in shown if line.status == s]
              for s in ("on track", "at risk", "off track")}
    areas = [tr(AREAS[a]) for a in AREAS if any(line.area == a for line in shown)]
    targeted = [line for line in shown if line.target is not None]
    numbers = {"n": _kpis(len(shown)), "areas": series(areas).lower(),
               "on": i18n.number(len(counts["on track"])),
               "risk": i18n.number(len(counts["at risk"])),
               "off": i18n.number(len(counts["off track"]))}
    if targeted:
        overview = format_markdown(tr(
            "{n} shown, in {areas}: {on} on track, {risk} at risk and {off} off track, "
            "against the target where there is one ({t}), else against the previous "
            "period."), t=_targets(len(targeted)), **numbers)
    else:
        overview = format_markdown(tr(
            "{n} shown, in {areas}: {on} on track, {risk} at risk and {off} off track, "
            "against the previous period (no KPI has a target: set them under `targets:` "
            "in a config)."), **numbers)
    items = [(6, overview)]
    if counts["off track"]:
        items.append((5, tr("Off track: {items}.").format(
            items=_listing(counts["off track"]))))
    if counts["at risk"]:
        items.append((4, tr("At risk: {items}.").format(items=_listing(counts["at risk"]))))
    if targeted:
        met = [line for line in targeted if line.status == "on track"]
        template = (tr("{m} of {t} with a target reached it: {names}.") if met
                    else tr("{m} of {t} with a target reached it."))
        items.append((3, format_markdown(template, m=i18n.number(len(met)),
                                         t=_kpis(len(targeted)), names=_titles(met))))
    without = [line for line in shown if line.status is None and not line.too_few]
    if without:
        items.append((2, format_markdown(tr(
            "{n} without a target or a previous period to compare with (values as of the "
            "data, or spend): {names}."), n=_kpis(len(without)), names=_titles(without))))
    if lines.left_out:
        items.append((1, format_markdown(tr(
            "{n} not shown because the data cannot support them; the appendix says why."),
            n=_kpis(len(lines.left_out)))))
    return [Text(narrative.findings(items))]


def _area_section(area: str):
    def section(report: Report) -> list:
        lines = [line for line in _lines(report).shown if line.area == area]
        if not lines:
            return []
        return [Text(f"## {tr(AREAS[area])}"), KpiTable(lines)]

    section.__name__ = area
    section.__doc__ = f"The {AREAS[area].lower()} KPIs the data supports, one row each."
    return section


def conclusions(report: Report) -> list:
    """The recommendation rules on the KPIs' values, and where to start for each other
    off-track KPI, by priority."""
    lines = _lines(report).shown
    values = {line.name: line.result for line in lines}
    revenue = next((line for line in lines if line.name == "revenue"), None)
    if revenue is not None and revenue.change is not None:
        values["revenue_growth"] = revenue.change
    items = narrative.recommendation_items(values)
    advised = {name for name in values if narrative.recommendation_items({name: values[name]})}
    for line in [x for x in lines if x.status == "off track" and x.name not in advised
                 ][:LISTED]:
        reference = tr("its target") if line.basis == "target" else tr("the previous period")
        items.append((4, format_markdown(tr(
            "{title} is off track at {value}, {reached}: start there; the {report} report "
            "shows where it comes from."), title=reason_text(line.title),
            value=shown_value(line, compact=None), reached=status_title(line) or reference,
            report=tr(AREA_REPORTS[line.area]))))
    if not items:
        return [Text(narrative.recommendations({}))]
    return [Text(narrative.findings(items))]


# -- appendix --------------------------------------------------------------------------------

RULE_MEANINGS = {
    "on_track": N_("attainment from which a KPI is on track"),
    "at_risk": N_("attainment from which a KPI short of its reference is at risk; below it, "
                  "off track"),
    "without_target": N_("what a KPI without a target is compared with (previous_period or "
                         "none)"),
}
# The rules' keys and word values (config words), as the rules table shows them; English
# shows the word itself.
RULE_WORDS = {"on_track": N_("on_track"), "at_risk": N_("at_risk"),
              "without_target": N_("without_target"),
              "previous_period": N_("previous_period"), "none": N_("none")}
# What a `per` of a config target means (crmkit.metrics.scorecard.TARGET_SCALES).
PER = {"month": N_("{value} per month"), "quarter": N_("{value} per quarter"),
       "year": N_("{value} per year")}


def _rule_word(value) -> str:
    return tr(RULE_WORDS[value]) if isinstance(value, str) and value in RULE_WORDS \
        else str(value)


def _english() -> bool:
    return i18n.current().language == i18n.SOURCE_LANGUAGE


def _kpi_name(name: str) -> str:
    """A scorecard KPI as the config names it (English: ``churn_rate``), or by its title
    in another language (流失率)."""
    if _english():
        return name
    from crmkit.metrics import get_metric

    try:
        return reason_text(get_metric(name).title)
    except KeyError:
        return name


def _as_set(value) -> str:
    """A config target as it was set: JSON in English ({"value": 1000, "per": "month"}),
    in words in another language (每月 1,000)."""
    from babel import numbers

    if _english():
        return json.dumps(value)

    def number(x) -> str:
        try:
            return numbers.format_decimal(float(x), "#,##0.##",
                                          locale=i18n.current().locale)
        except (TypeError, ValueError):
            return str(x)

    if isinstance(value, dict):
        per = value.get("per")
        shown = number(value.get("value"))
        return tr(PER[per]).format(value=shown) if per in PER else shown
    return number(value)


def appendix_rules(report: Report) -> list:
    """The status rules in force (defaults, or the config's ``scorecard:``), the targets,
    and how the status is decided."""
    settings = report.settings
    rules = settings.get("rules") or {**STATUS_RULES, "kpis": {}}
    source = (tr("config {name}").format(name=settings["config"]) if settings.get("config")
              else tr("defaults (no config)"))
    rows = [{"rule": _rule_word(key), "applies to": tr("every KPI"),
             "value": _rule_word(rules[key]), "meaning": tr(meaning),
             "default": _rule_word(STATUS_RULES[key])}
            for key, meaning in RULE_MEANINGS.items()]
    for name, own in (rules.get("kpis") or {}).items():
        for key, value in own.items():
            rows.append({"rule": _rule_word(key), "applies to": _kpi_name(name),
                         "value": _rule_word(value),
                         "meaning": tr(RULE_MEANINGS[key]) if key in RULE_MEANINGS else "",
                         "default": ""})
    out = [Text(format_markdown(tr("Status rules from: {source}. Set them in a config under "
                                   "`scorecard:`, e.g. `scorecard: {{at_risk: 0.85, kpis: "
                                   "{{churn_rate: {{at_risk: 0.95}}}}}}`."), source=source)),
           Table(pd.DataFrame(rows), caption=tr("Status rules"))]
    if settings.get("missing"):
        out.append(Text(format_markdown(tr(
            "*The config the data was ingested with ({name}) was not found from here: the "
            "default rules and no config targets apply.*"), name=settings["missing"])))
    out.append(Text(tr(
        "- **Attainment** = value / reference where higher is better, reference / value "
        "where lower is better ({lower}); for NPS and campaign ROI, which can be 0 or "
        "negative, 1 − shortfall / 100 points.\n"
        "- **Reference**: the target where there is one, else the previous period's "
        "value (with `without_target: previous_period`).\n"
        "- **A shortfall within the 95% interval** of a rate or a mean may be chance: it is "
        "at risk against a target, on track against the previous period (no clear change).\n"
        "- **No status**: too few observations to say, or no reference (a value as of the "
        "data, such as a snapshot's churn or the open pipeline, without a target).\n"
        "- **Targets**: a config's `targets:` (a number for the period shown, or `{{value: N, "
        "per: month | quarter | year}}` pro rata to the period), else for revenue and "
        "bookings the sum of the reps' targets in the targets table, pro rata to the days of "
        "the period.").format(lower=escape_markdown(series(
            column_label(k.name) for k in SCORECARD if k.better == "lower")))))
    targets = settings.get("targets") or {}
    lines = {line.name: line for line in _lines(report).shown}
    if targets:
        rows = [{"KPI": _kpi_name(name), "as set": _as_set(value),
                 "for this period": value_text(lines[name].target, lines[name].unit)
                 if name in lines and lines[name].target is not None else tr("not shown")}
                for name, value in targets.items()]
        out.append(Table(pd.DataFrame(rows), caption=tr("Targets from the config")))
    return out


def appendix_definitions(report: Report) -> list:
    """The definitions of the KPIs shown (and of the figures the scorecard adds); those
    the data cannot support are listed, with why, under "KPIs not shown" instead."""
    from crmkit.metrics import get_metric

    left = {reason_text(get_metric(x["name"]).title) for x in _lines(report).left_out}
    out = base.appendix_definitions(report)
    table = out[0]
    table.frame = table.frame[~table.frame["title"].isin(left)].reset_index(drop=True)
    return out


def appendix_not_shown(report: Report) -> list:
    """The scorecard KPIs the data cannot support, and why."""
    left = _lines(report).left_out
    if not left:
        return [Text(tr("The data supports every KPI of the scorecard."))]
    area = {k.name: AREAS[k.area] for k in SCORECARD}
    frame = pd.DataFrame([{"KPI": reason_text(x["title"]), "area": tr(area[x["name"]]),
                           "why not shown": reason_text(x["reason"])} for x in left])
    return [Table(frame, caption=tr("KPIs not shown: the data cannot support them"))]


DEFINITIONS = [
    {"title": N_("Change vs previous period"), "formula": N_(
        "for amounts and counts (value − previous) / previous; for rates and NPS the "
        "difference in points; the previous period has the report period's length, just "
        "before it (whole months by months)"),
     "unit": N_("percent / points"), "grain": N_("period")},
    {"title": N_("Change vs same period last year"), "formula": N_(
        "as against the previous period, against the report period one year earlier"),
     "unit": N_("percent / points"), "grain": N_("period")},
    {"title": N_("Status"), "formula": N_(
        "on track / at risk / off track by the attainment of the target, else of the "
        "previous period's value (rules in the appendix)"), "unit": "",
     "grain": N_("period")},
    # "message" and "values": the title as a catalog message and its placeholders
    # (crmkit.sections.base.appendix_definitions)
    {"title": f"Trend (last {TREND_PERIODS} periods)",
     "message": N_("Trend (last {n} periods)"), "values": {"n": TREND_PERIODS},
     "formula": N_("the KPI over the report period and the periods of its length before "
                   "it, from the first one the data fully covers; periods with too few "
                   "observations are left out"), "unit": "", "grain": N_("period")},
]

SECTIONS = {
    "cards": cards,
    "summary": summary,
    **{area: _area_section(area) for area in AREAS},
    "conclusions": conclusions,
    "appendix_rules": appendix_rules,
    "appendix_not_shown": appendix_not_shown,
    **COMMON_SECTIONS,
    "appendix_definitions": appendix_definitions,
}

OUTLINE = [
    N_("# KPI scorecard\n\nEvery KPI the data supports on one page, by area: its value, its "
       "change against the previous period and the same period last year, its target and "
       "status, and its trend."),
    ("cards", N_("## Summary of findings")),
    ("summary", None),
    *[(area, None) for area in AREAS],  # each shows its heading when it has KPIs
    ("conclusions", N_("## Conclusions and recommendations")),
]

# After the appendix heading, before the definitions (see crmkit.sections.notebooks).
APPENDIX = [
    ("appendix_rules", N_("### Status rules and targets")),
    ("appendix_not_shown", N_("### KPIs not shown")),
]
