"""Sections of the sales_performance report: how much, where from, who sold it, against
which target, how it changes."""

from __future__ import annotations

import pandas as pd

from crmkit import charts, narrative
from crmkit.metrics import NotAvailable
from crmkit.metrics.results import format_value
from crmkit.report.markup import escape_markdown, format_markdown
from crmkit.sections.base import COMMON_SECTIONS, Report, Table, Text, not_available

TITLE = "Sales performance"
BREAKDOWNS = ("category", "region", "channel")
TOP_PRODUCTS = 10
BEHIND_TARGET = 0.9  # attainment below which a rep is named in the recommendations


def _growth(report: Report):
    return report.kpi("sales_growth")


def _change(growth, kpi: str, column: str) -> float | None:
    if isinstance(growth, NotAvailable):
        return None
    row = growth[growth["kpi"] == kpi]
    return None if row.empty else row.iloc[0][column]


def summary(report: Report) -> list:
    """The main findings in sentences: revenue and its change, orders, AOV, where the
    revenue came from, the best rep, lead conversion."""
    revenue, orders = report.kpi("revenue"), report.kpi("orders")
    aov = report.kpi("average_order_value")
    growth = _growth(report)
    items = []
    if not isinstance(growth, NotAvailable):
        rev = growth[growth["kpi"] == "revenue"].iloc[0]
        items.append((5, narrative.change_sentence(
            "Net revenue", rev["current"], rev["previous_period"], "currency")))
        change = rev["change_vs_last_year"]
        if pd.notna(change):
            items.append((4, format_markdown(
                "Against the same period last year ({ly}) net revenue was {word} {pct}.",
                ly=format_value(rev["same_period_last_year"], "currency"),
                word="up" if change >= 0 else "down", pct=format_value(abs(change), "percent"))))
    else:
        items.append((5, narrative.kpi_sentence("Net revenue", revenue)))
    items.append((3, narrative.kpi_sentence("Completed orders", orders)))
    items.append((3, narrative.kpi_sentence("Average order value", aov, noun="orders")))
    for dim, weight in (("region", 2), ("category", 2)):
        dist = report.kpi("revenue_distribution", by=dim)
        if not isinstance(dist, NotAvailable) and len(dist):
            items.append((weight, narrative.top_sentence(dist, by=dim, what="net revenue")))
    quota = report.kpi("quota_attainment")
    if not isinstance(quota, NotAvailable) and quota["attainment"].notna().any():
        best = quota.dropna(subset=["attainment"]).iloc[0]
        met = int((quota["attainment"] >= 1).sum())
        with_target = int(quota["attainment"].notna().sum())
        items.append((2, format_markdown(
            "{rep} led the sales team with {att} of target; {met} of {n} reps with a target "
            "met it.", rep=best["sales_rep"], att=f"{best['attainment']:.1%}", met=met,
            n=with_target)))
    conversion = report.kpi("conversion_rate")
    if not isinstance(conversion, NotAvailable):
        items.append((1, narrative.rate_sentence("Lead conversion", conversion, noun="leads")))
    return [Text(narrative.findings(items))]


def revenue_over_time(report: Report) -> list:
    """Monthly net revenue with the same months of last year dashed, and the month table."""
    by = report.by
    current = report.kpi("sales_over_time", freq="month", by=by)
    if isinstance(current, NotAvailable):
        return not_available(report, "Revenue over time", current)
    last_year = report.kpi("sales_over_time", report.filters.same_period_last_year(),
                           freq="month", by=by)
    fig = charts.chart("trend", current, x="period", y="revenue", hue=by,
                       previous=None if isinstance(last_year, NotAvailable) else last_year,
                       title="Net revenue per month (dashed: same month last year)",
                       size=(10, 4))
    table = current if by else current[["period", "orders", "gross_revenue", "returns",
                                        "revenue", "aov"]]
    return [fig, Table(table, {"period": "{:%Y-%m}", "orders": "count",
                               "gross_revenue": "currency", "returns": "currency",
                               "revenue": "currency", "aov": "currency"},
                       caption="Per month: completed orders, gross revenue, returns, net "
                               "revenue, average order value")]


def growth(report: Report) -> list:
    """Revenue, orders and AOV against the previous period and the same period last year."""
    table = _growth(report)
    if isinstance(table, NotAvailable):
        return not_available(report, "Growth", table)
    table = table.copy()
    table["kpi"] = table["kpi"].astype(str).map(
        {"revenue": "Net revenue", "orders": "Orders", "aov": "Average order value"})
    previous, last_year = report.filters.previous_period(), \
        report.filters.same_period_last_year()
    return [
        Text(format_markdown("Previous period: {p}. Same period last year: {y}.",
                             p=previous.describe().split(";")[0],
                             y=last_year.describe().split(";")[0])),
        Table(table, {"current": "{:,.2f}", "previous_period": "{:,.2f}",
                      "same_period_last_year": "{:,.2f}", "change_vs_previous": "percent",
                      "change_vs_last_year": "percent"}),
    ]


def breakdowns(report: Report) -> list:
    """Net revenue by category, region and channel: share of the total, side by side."""
    out = []
    frames = {dim: report.kpi("revenue_distribution", by=dim) for dim in BREAKDOWNS}
    present = {d: f for d, f in frames.items() if not isinstance(f, NotAvailable) and len(f)}
    if present:
        out.append(charts.Chart(
            tuple(charts.panel("bar", frame, x="revenue", y=dim, share="share",
                               title=f"By {dim}") for dim, frame in present.items()),
            size=(5 * len(present), 3.6)))
        out += [Text(narrative.top_sentence(f, by=d, what="net revenue"))
                for d, f in present.items()]
    for dim, frame in frames.items():
        if isinstance(frame, NotAvailable):
            out += not_available(report, f"Revenue by {dim}", frame)
    return out


def top_products(report: Report) -> list:
    """The products with the most net revenue."""
    frame = report.kpi("revenue_distribution", by="product")
    if isinstance(frame, NotAvailable):
        return not_available(report, "Revenue by product", frame)
    fig = charts.chart("bar", frame, x="revenue", y="product", share="share",
                       top=TOP_PRODUCTS, title=f"Top {TOP_PRODUCTS} products by net revenue",
                       size=(10, 4.5))
    return [fig, Table(frame.head(TOP_PRODUCTS), {"orders": "count", "revenue": "currency",
                                                  "total_revenue": "currency",
                                                  "share": "percent"})]


def leaderboard(report: Report) -> list:
    """Each sales rep's net revenue against target, completion rate and rank."""
    quota = report.kpi("quota_attainment")
    if isinstance(quota, NotAvailable):
        return not_available(report, "The sales-rep leaderboard", quota)
    fig = charts.chart("leaderboard", quota, rep="sales_rep", actual="revenue",
                       target="target", attainment="attainment",
                       title="Net revenue against target", size=(10, 0.45 * len(quota) + 1.2))
    return [fig, Table(quota, {"orders": "count", "revenue": "currency",
                               "target": "currency", "attainment": "percent",
                               "rank": "{:.0f}", "revenue_rank": "{:.0f}"},
                       caption="Completion rate = net revenue / target (targets pro rata "
                               "to the days of the period)")]


def funnel(report: Report) -> list:
    """Leads by pipeline stage and conversion rate by lead source."""
    stages = report.kpi("lead_funnel")
    if isinstance(stages, NotAvailable):
        return not_available(report, "The lead funnel", stages)
    out = []
    by_source = report.kpi("conversion_rate", by="source")
    overall = report.kpi("conversion_rate")
    rates = None if isinstance(by_source, NotAvailable) else charts.panel(
        "rate_bars", by_source, x="source",
        reference=None if isinstance(overall, NotAvailable) else overall,
        title="Conversion rate by lead source (95% CI)")
    out.append(charts.Chart((charts.panel("funnel", stages, stage="stage", count="leads",
                                          title="Leads created in the period, by stage "
                                                "reached"), rates), size=(12, 4)))
    out.append(Text(narrative.rate_sentence("Lead conversion", overall, noun="leads")))
    if not isinstance(by_source, NotAvailable):
        out.append(Table(by_source, {"numerator": "count", "denominator": "count",
                                     "value": "percent", "ci_low": "percent",
                                     "ci_high": "percent"},
                         caption="numerator = won leads, denominator = leads created"))
    return out


def conclusions(report: Report) -> list:
    """Recommendations that follow from the numbers (rules in crmkit.narrative)."""
    growth_table = _growth(report)
    values = {"revenue_growth": _change(growth_table, "revenue", "change_vs_previous"),
              "conversion_rate": report.kpi("conversion_rate")}
    items = narrative.recommendation_items({k: v for k, v in values.items() if v is not None})
    quota = report.kpi("quota_attainment")
    if not isinstance(quota, NotAvailable):
        behind = quota[quota["attainment"] < BEHIND_TARGET]
        if len(behind):
            names = ", ".join(escape_markdown(n) for n in behind["sales_rep"])
            items.append((2, f"{len(behind)} reps are below {BEHIND_TARGET:.0%} of target "
                             f"({names}): review their pipeline and coaching needs before "
                             "the next period."))
    if not items:
        return [Text(narrative.recommendations({}))]
    return [Text(narrative.findings(items))]


SECTIONS = {
    "summary": summary,
    "revenue_over_time": revenue_over_time,
    "growth": growth,
    "breakdowns": breakdowns,
    "top_products": top_products,
    "leaderboard": leaderboard,
    "funnel": funnel,
    "conclusions": conclusions,
    **COMMON_SECTIONS,
}

OUTLINE = [
    "# Sales performance\n\nHow much we sold, where it came from, who sold it, against which "
    "target, and how it changes.",
    ("summary", "## Summary of findings"),
    ("revenue_over_time", "## Revenue over time"),
    ("growth", "## Growth"),
    ("breakdowns", "## Where the revenue came from"),
    ("top_products", "## Top products"),
    ("leaderboard", "## Sales team against target"),
    ("funnel", "## Lead funnel and conversion"),
    ("conclusions", "## Conclusions and recommendations"),
]
