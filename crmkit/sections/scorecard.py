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

from crmkit import narrative
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

TITLE = "KPI scorecard"
# The headline cards: the first five of these the data supports.
HEADLINE = ("revenue", "bookings", "win_rate", "orders", "nps", "csat", "churn_rate",
            "inactivity_churn_rate", "snapshot_churn_rate", "revenue_at_risk",
            "campaign_roi")
LISTED = 5  # KPIs named per sentence of the summary
# The report that shows where each area's numbers come from, for the recommendations.
AREA_REPORTS = {"sales": "sales performance", "pipeline": "sales performance",
                "customers": "customer behaviour", "satisfaction": "satisfaction",
                "churn": "churn", "campaigns": "campaigns"}


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


def _count(n: int, noun: str) -> str:
    """"1 KPI", "23 KPIs"."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _listing(lines) -> str:
    return "; ".join(format_markdown("{title} {value} ({reached})", title=line.title,
                                     value=shown_value(line), reached=status_title(line))
                     for line in lines[:LISTED]) + ("; …" if len(lines) > LISTED else "")


def summary(report: Report) -> list:
    """How many KPIs are on track, at risk and off track; which are off track and at risk;
    which targets are met."""
    lines = _lines(report)
    shown = lines.shown
    if not shown:
        return [Text("*The data supports none of the scorecard's KPIs: see the appendix for "
                     "what each needs.*")]
    counts = {s: [line for line in shown if line.status == s]
              for s in ("on track", "at risk", "off track")}
    areas = [AREAS[a] for a in AREAS if any(line.area == a for line in shown)]
    targeted = [line for line in shown if line.target is not None]
    against = (format_markdown("against the target where there is one ({t}), else against "
                               "the previous period", t=_count(len(targeted), "target"))
               if targeted else "against the previous period (no KPI has a target: set "
                                "them under `targets:` in a config)")
    items = [(6, format_markdown(
        "{n} shown, in {areas}: {on} on track, {risk} at risk and {off} off track, ",
        n=_count(len(shown), "KPI"), areas=", ".join(areas).lower(),
        on=len(counts["on track"]), risk=len(counts["at risk"]),
        off=len(counts["off track"])) + against + ".")]
    if counts["off track"]:
        items.append((5, "Off track: " + _listing(counts["off track"]) + "."))
    if counts["at risk"]:
        items.append((4, "At risk: " + _listing(counts["at risk"]) + "."))
    if targeted:
        met = [line for line in targeted if line.status == "on track"]
        items.append((3, format_markdown(
            "{m} of {t} with a target reached it{names}.", m=len(met),
            t=_count(len(targeted), "KPI"),
            names=(": " + ", ".join(line.title for line in met)) if met else "")))
    without = [line for line in shown if line.status is None and not line.too_few]
    if without:
        items.append((2, format_markdown(
            "{n} without a target or a previous period to compare with (values as of the "
            "data, or spend): {names}.", n=_count(len(without), "KPI"),
            names=", ".join(line.title for line in without))))
    if lines.left_out:
        items.append((1, format_markdown(
            "{n} not shown because the data cannot support them; the appendix says why.",
            n=_count(len(lines.left_out), "KPI"))))
    return [Text(narrative.findings(items))]


def _area_section(area: str):
    def section(report: Report) -> list:
        lines = [line for line in _lines(report).shown if line.area == area]
        if not lines:
            return []
        return [Text(f"## {AREAS[area]}"), KpiTable(lines)]

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
        reference = "its target" if line.basis == "target" else "the previous period"
        items.append((4, format_markdown(
            "{title} is off track at {value}, {reached}: start there; the {report} report "
            "shows where it comes from.", title=line.title, value=shown_value(line),
            reached=status_title(line) or reference, report=AREA_REPORTS[line.area])))
    if not items:
        return [Text(narrative.recommendations({}))]
    return [Text(narrative.findings(items))]


# -- appendix --------------------------------------------------------------------------------

RULE_MEANINGS = {
    "on_track": "attainment from which a KPI is on track",
    "at_risk": "attainment from which a KPI short of its reference is at risk; below it, "
               "off track",
    "without_target": "what a KPI without a target is compared with (previous_period or "
                      "none)",
}


def appendix_rules(report: Report) -> list:
    """The status rules in force (defaults, or the config's ``scorecard:``), the targets,
    and how the status is decided."""
    settings = report.settings
    rules = settings.get("rules") or {**STATUS_RULES, "kpis": {}}
    source = (f"config {settings['config']}" if settings.get("config")
              else "defaults (no config)")
    rows = [{"rule": key, "applies to": "every KPI", "value": str(rules[key]),
             "meaning": meaning,
             "default": str(STATUS_RULES[key])} for key, meaning in RULE_MEANINGS.items()]
    for name, own in (rules.get("kpis") or {}).items():
        for key, value in own.items():
            rows.append({"rule": key, "applies to": name, "value": str(value),
                         "meaning": RULE_MEANINGS.get(key, ""), "default": ""})
    out = [Text(format_markdown("Status rules from: {source}. Set them in a config under "
                                "`scorecard:`, e.g. `scorecard: {{at_risk: 0.85, kpis: "
                                "{{churn_rate: {{at_risk: 0.95}}}}}}`.", source=source)),
           Table(pd.DataFrame(rows), caption="Status rules")]
    if settings.get("missing"):
        out.append(Text(format_markdown(
            "*The config the data was ingested with ({name}) was not found from here: the "
            "default rules and no config targets apply.*", name=settings["missing"])))
    out.append(Text(
        "- **Attainment** = value / reference where higher is better, reference / value "
        "where lower is better (" + escape_markdown(", ".join(
            k.name.replace("_", " ") for k in SCORECARD if k.better == "lower")) + "); for "
        "NPS and campaign ROI, which can be 0 or negative, 1 − shortfall / 100 points.\n"
        "- **Reference**: the target where there is one, else the previous period's "
        "value (with `without_target: previous_period`).\n"
        "- **A shortfall within the 95% interval** of a rate or a mean may be chance: it is "
        "at risk against a target, on track against the previous period (no clear change).\n"
        "- **No status**: too few observations to say, or no reference (a value as of the "
        "data, such as a snapshot's churn or the open pipeline, without a target).\n"
        "- **Targets**: a config's `targets:` (a number for the period shown, or `{value: N, "
        "per: month | quarter | year}` pro rata to the period), else for revenue and bookings "
        "the sum of the reps' targets in the targets table, pro rata to the days of the "
        "period."))
    targets = settings.get("targets") or {}
    lines = {line.name: line for line in _lines(report).shown}
    if targets:
        rows = [{"KPI": name, "as set": json.dumps(value),
                 "for this period": value_text(lines[name].target, lines[name].unit)
                 if name in lines and lines[name].target is not None else "not shown"}
                for name, value in targets.items()]
        out.append(Table(pd.DataFrame(rows), caption="Targets from the config"))
    return out


def appendix_definitions(report: Report) -> list:
    """The definitions of the KPIs shown (and of the figures the scorecard adds); those
    the data cannot support are listed, with why, under "KPIs not shown" instead."""
    from crmkit.metrics import get_metric

    left = {get_metric(x["name"]).title for x in _lines(report).left_out}
    out = base.appendix_definitions(report)
    table = out[0]
    table.frame = table.frame[~table.frame["title"].isin(left)].reset_index(drop=True)
    return out


def appendix_not_shown(report: Report) -> list:
    """The scorecard KPIs the data cannot support, and why."""
    left = _lines(report).left_out
    if not left:
        return [Text("The data supports every KPI of the scorecard.")]
    area = {k.name: AREAS[k.area] for k in SCORECARD}
    frame = pd.DataFrame([{"KPI": x["title"], "area": area[x["name"]], "why not shown":
                           x["reason"]} for x in left])
    return [Table(frame, caption="KPIs not shown: the data cannot support them")]


DEFINITIONS = [
    {"title": "Change vs previous period", "formula": "for amounts and counts (value − "
     "previous) / previous; for rates and NPS the difference in points; the previous period "
     "has the report period's length, just before it (whole months by months)",
     "unit": "percent / points", "grain": "period"},
    {"title": "Change vs same period last year", "formula": "as against the previous "
     "period, against the report period one year earlier", "unit": "percent / points",
     "grain": "period"},
    {"title": "Status", "formula": "on track / at risk / off track by the attainment of the "
     "target, else of the previous period's value (rules in the appendix)", "unit": "",
     "grain": "period"},
    {"title": f"Trend (last {TREND_PERIODS} periods)", "formula": "the KPI over the report "
     "period and the periods of its length before it, from the first one the data fully "
     "covers; periods with too few observations are left out", "unit": "", "grain": "period"},
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
    "# KPI scorecard\n\nEvery KPI the data supports on one page, by area: its value, its "
    "change against the previous period and the same period last year, its target and "
    "status, and its trend.",
    ("cards", "## Summary of findings"),
    ("summary", None),
    *[(area, None) for area in AREAS],  # each shows its heading when it has KPIs
    ("conclusions", "## Conclusions and recommendations"),
]

# After the appendix heading, before the definitions (see crmkit.sections.notebooks).
APPENDIX = [
    ("appendix_rules", "### Status rules and targets"),
    ("appendix_not_shown", "### KPIs not shown"),
]
