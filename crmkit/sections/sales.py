"""Sections of the sales_performance report: how much, where from, who sold it, against
which target, how it changes.

Two shapes of data feed it (see ``SHAPES``): retail orders (net revenue, orders, order
value) and a B2B pipeline of opportunities (bookings, win rate, deal size, sales cycle,
open pipeline, the funnel of the data's own stages, owners against target). A data set may
have both; a section of a shape the data does not have is left out. The summary and the
conclusions speak of whichever the data has."""

from __future__ import annotations

import pandas as pd

from crmkit import charts, i18n, narrative
from crmkit.i18n import N_, sentences, tr
from crmkit.labels import column_label, field_label, series
from crmkit.metrics import NotAvailable
from crmkit.metrics.funnel import CREATED
from crmkit.metrics.results import format_value
from crmkit.report.markup import escape_markdown, format_markdown
from crmkit.sections.base import COMMON_SECTIONS, Report, Table, Text, not_available
from crmkit.sections.cards import cards_section
from crmkit.shapes import data_columns

TITLE = N_("Sales performance")
BREAKDOWNS = ("category", "region", "channel")
TOP_PRODUCTS = 10
BEHIND_TARGET = 0.9  # attainment below which a rep is named in the recommendations
# A win-rate table as a reader reads it.
RATE_COLUMNS = {"numerator": "won", "denominator": "won_or_lost", "value": "win_rate",
                "ci_low": "low_95", "ci_high": "high_95"}
RATE_FORMATS = {"won": "count", "won_or_lost": "count", "win_rate": "percent",
                "low_95": "percent", "high_95": "percent",
                "too_few": "flag:" + N_("too few to say")}
MAX_RATE_BARS = 12  # groups a win-rate chart can label legibly; the table lists them all
# Deal columns a win rate is broken down by, when the data has values in them.
WIN_RATE_BREAKDOWNS = ("owner", "product", "source", "type")
LOW_COVERAGE = 3.0  # pipeline / target to go below which the conclusions ask for more deals
COACHING_GAP = 0.10  # win rate this far below the team's (with enough deals): a coaching flag
# The KPI cards: retail revenue, orders and order value; a pipeline's bookings, win rate,
# open pipeline and deal size (the first five the data has).
CARDS = ("revenue", "orders", "average_order_value", "bookings", "win_rate", "open_pipeline",
         "average_deal_size")
# A true / false cell as a table shows it.
YES, NO = N_("True"), N_("False")
# The KPIs of the growth table, as its rows name them.
GROWTH_KPIS = {"revenue": N_("Net revenue"), "orders": N_("Orders"),
               "aov": N_("Average order value")}


def _words(column: str) -> str:
    """A column named in a title or a sentence: its name in English (underscores as
    spaces, as always), the reader's name for it (crmkit.labels) in another language."""
    if i18n.current().language == i18n.SOURCE_LANGUAGE:
        return str(column).replace("_", " ")
    named = field_label(column)
    return named if named != column else column_label(column)


def _names(names) -> str:
    """Names from the data (escaped) in a list: "a, b" / "a、b"."""
    return series(escape_markdown(n) for n in names)


def _growth(report: Report):
    return report.kpi("sales_growth")


def _change(growth, kpi: str, column: str) -> float | None:
    if isinstance(growth, NotAvailable):
        return None
    row = growth[growth["kpi"] == kpi]
    return None if row.empty else row.iloc[0][column]


def summary(report: Report) -> list:
    """The main findings in sentences: revenue and its change, orders, AOV, where the
    revenue came from, the best rep (retail); bookings, win rate, deal size, open pipeline
    and the leading owner (pipeline); lead conversion."""
    items = _retail_findings(report) if report.has_rows("orders") else []
    if report.has_rows("opportunities"):
        items += _pipeline_findings(report)
    conversion = report.kpi("conversion_rate")
    if not isinstance(conversion, NotAvailable):
        items.append((1, narrative.rate_sentence(tr("Lead conversion"), conversion,
                                                 noun=tr("leads"))))
    return [Text(narrative.findings(items))]


def _bookings_sentence(report: Report) -> str:
    booked = report.kpi("bookings")
    if isinstance(booked, NotAvailable):
        return narrative.kpi_sentence(tr("Bookings (won deal value)"), booked)
    return format_markdown(tr("Bookings (won deal value) were {value} from {n} won deals."),
                           value=format_value(booked.value, "currency"),
                           n=i18n.number(booked.n))


def _pipeline_findings(report: Report) -> list:
    rate = report.kpi("win_rate")
    items = [(5, _bookings_sentence(report)),
             (5, narrative.rate_sentence(tr("The win rate (won / closed deals)"), rate,
                                         noun=tr("closed deals")))]
    size = report.kpi("average_deal_size")
    if not isinstance(size, NotAvailable):
        items.append((3, narrative.kpi_sentence(tr("The average won deal"), size,
                                                noun=tr("deals"))))
    pipeline = report.kpi("open_pipeline")
    if not isinstance(pipeline, NotAvailable) and pipeline["deals"].iloc[0]:
        row = pipeline.iloc[0]
        n = i18n.number(int(row["deals"]))
        if pd.notna(row["value"]) and pd.notna(row["weighted_value"]):
            items.append((3, format_markdown(
                tr("{n} deals are open, worth {value} ({weighted} weighted by their chance "
                   "to win)."), n=n, value=format_value(row["value"], "currency"),
                weighted=format_value(row["weighted_value"], "currency"))))
        elif pd.notna(row["value"]):
            items.append((3, format_markdown(
                tr("{n} deals are open, worth {value} (not weighted weighted by their "
                   "chance to win)."), n=n, value=format_value(row["value"], "currency"))))
        else:
            items.append((3, format_markdown(
                tr("{n} deals are open; they carry no amount yet, so the pipeline's value "
                   "is unknown."), n=n)))
    board = report.kpi("owner_leaderboard")
    if not isinstance(board, NotAvailable) and len(board) and board["bookings"].max() > 0:
        best = board.sort_values("bookings", ascending=False, kind="stable").iloc[0]
        items.append((2, format_markdown(
            tr("{owner} booked the most: {value} from {won} won deals."), owner=best["owner"],
            value=format_value(best["bookings"], "currency"),
            won=i18n.number(int(best["won_deals"])))))
    return items


def _retail_findings(report: Report) -> list:
    revenue, orders = report.kpi("revenue"), report.kpi("orders")
    aov = report.kpi("average_order_value")
    growth = _growth(report)
    items = []
    if not isinstance(growth, NotAvailable):
        rev = growth[growth["kpi"] == "revenue"].iloc[0]
        items.append((5, narrative.change_sentence(
            tr("Net revenue"), rev["current"], rev["previous_period"], "currency")))
        change = rev["change_vs_last_year"]
        if pd.notna(change):
            template = tr("Against the same period last year ({ly}) net revenue was up "
                          "{pct}.") if change >= 0 else \
                tr("Against the same period last year ({ly}) net revenue was down {pct}.")
            items.append((4, format_markdown(
                template, ly=format_value(rev["same_period_last_year"], "currency"),
                pct=format_value(abs(change), "percent"))))
    else:
        items.append((5, narrative.kpi_sentence(tr("Net revenue"), revenue)))
    items.append((3, narrative.kpi_sentence(tr("Completed orders"), orders)))
    items.append((3, narrative.kpi_sentence(tr("Average order value"), aov,
                                            noun=tr("orders"))))
    for dim, weight in (("region", 2), ("category", 2)):
        dist = report.kpi("revenue_distribution", by=dim)
        if not isinstance(dist, NotAvailable) and len(dist):
            items.append((weight, narrative.top_sentence(dist, by=dim,
                                                         what=tr("net revenue"))))
    quota = report.kpi("quota_attainment")
    if not isinstance(quota, NotAvailable) and quota["attainment"].notna().any():
        best = quota.dropna(subset=["attainment"]).iloc[0]
        met = int((quota["attainment"] >= 1).sum())
        with_target = int(quota["attainment"].notna().sum())
        items.append((2, format_markdown(
            tr("{rep} led the sales team with {att} of target; {met} of {n} reps with a "
               "target met it."), rep=best["sales_rep"], att=i18n.percent(best["attainment"]),
            met=i18n.number(met), n=i18n.number(with_target))))
    return items


def revenue_over_time(report: Report) -> list:
    """Monthly net revenue with the same months of last year dashed, and the month table."""
    by = report.by
    current = report.kpi("sales_over_time", freq="month", by=by)
    if isinstance(current, NotAvailable):
        return not_available(report, tr("Revenue over time"), current)
    last_year = report.kpi("sales_over_time", report.filters.same_period_last_year(),
                           freq="month", by=by)
    fig = charts.chart("trend", current, x="period", y="revenue", hue=by,
                       previous=None if isinstance(last_year, NotAvailable) else last_year,
                       title=tr("Net revenue per month (dashed: same month last year)"),
                       size=(10, 4))
    table = current if by else current[["period", "orders", "gross_revenue", "returns",
                                        "revenue", "aov"]]
    return [fig, Table(table, {"period": "{:%Y-%m}", "orders": "count",
                               "gross_revenue": "currency", "returns": "currency",
                               "revenue": "currency", "aov": "currency"},
                       caption=tr("Per month: completed orders, gross revenue, returns, "
                                  "net revenue, average order value"))]


def growth(report: Report) -> list:
    """Revenue, orders and AOV against the previous period and the same period last year."""
    table = _growth(report)
    if isinstance(table, NotAvailable):
        return not_available(report, tr("Growth"), table)
    table = table.copy()
    table["kpi"] = table["kpi"].astype(str).map(
        {kpi: tr(name) for kpi, name in GROWTH_KPIS.items()})
    previous, last_year = report.filters.previous_period(), \
        report.filters.same_period_last_year()
    return [
        Text(format_markdown(tr("Previous period: {p}. Same period last year: {y}."),
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
                               title=tr("By {dim}").format(dim=_words(dim)))
                  for dim, frame in present.items()),
            size=(5 * len(present), 3.6)))
        out += [Text(narrative.top_sentence(f, by=d, what=tr("net revenue")))
                for d, f in present.items()]
    for dim, frame in frames.items():
        if isinstance(frame, NotAvailable):
            out += not_available(report, tr("Revenue by {dim}").format(dim=_words(dim)),
                                 frame)
    return out


def top_products(report: Report) -> list:
    """The products with the most net revenue."""
    frame = report.kpi("revenue_distribution", by="product")
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("Revenue by product"), frame)
    fig = charts.chart("bar", frame, x="revenue", y="product", share="share",
                       top=TOP_PRODUCTS,
                       title=tr("Top {n} products by net revenue").format(n=TOP_PRODUCTS),
                       size=(10, 4.5))
    return [fig, Table(frame.head(TOP_PRODUCTS), {"orders": "count", "revenue": "currency",
                                                  "total_revenue": "currency",
                                                  "share": "percent"})]


def leaderboard(report: Report) -> list:
    """Each sales rep's net revenue against target, completion rate and rank."""
    quota = report.kpi("quota_attainment")
    if isinstance(quota, NotAvailable):
        return not_available(report, tr("The sales-rep leaderboard"), quota)
    fig = charts.chart("leaderboard", quota, rep="sales_rep", actual="revenue",
                       target="target", attainment="attainment",
                       title=tr("Net revenue against target"),
                       size=(10, 0.45 * len(quota) + 1.2))
    return [fig, Table(quota, {"orders": "count", "revenue": "currency",
                               "target": "currency", "attainment": "percent",
                               "rank": "{:.0f}", "revenue_rank": "{:.0f}"},
                       caption=tr("Completion rate = net revenue / target (targets pro "
                                  "rata to the days of the period)"))]


def funnel(report: Report) -> list:
    """Leads by pipeline stage and conversion rate by lead source."""
    stages = report.kpi("lead_funnel")
    if isinstance(stages, NotAvailable):
        return not_available(report, tr("The lead funnel"), stages)
    # The first row, "Created", is crmkit's word; the other stages are the data's.
    stages = stages.assign(stage=[tr(s) if s == CREATED else s for s in stages["stage"]])
    out = []
    by_source = report.kpi("conversion_rate", by="source")
    overall = report.kpi("conversion_rate")
    rates = None if isinstance(by_source, NotAvailable) else charts.panel(
        "rate_bars", by_source, x="source",
        reference=None if isinstance(overall, NotAvailable) else overall,
        title=tr("Conversion rate by lead source (95% CI)"))
    out.append(charts.Chart((charts.panel("funnel", stages, stage="stage", count="leads",
                                          title=tr("Leads created in the period, by stage "
                                                   "reached")), rates), size=(12, 4)))
    out.append(Text(narrative.rate_sentence(tr("Lead conversion"), overall,
                                            noun=tr("leads"))))
    if not isinstance(by_source, NotAvailable):
        # too_few is shown as it always was (True / False), in the report's words.
        shown = by_source.assign(too_few=[tr(YES) if v else tr(NO)
                                          for v in by_source["too_few"]]) \
            if "too_few" in by_source else by_source
        out.append(Table(shown, {"numerator": "count", "denominator": "count",
                                 "value": "percent", "ci_low": "percent",
                                 "ci_high": "percent"},
                         caption=tr("numerator = won leads, denominator = leads created")))
    return out


def _pipeline_recommendations(report: Report) -> list:
    """Owners below target, owners whose win rate trails the team's, thin coverage."""
    items = []
    board = report.kpi("owner_leaderboard")
    team = report.kpi("win_rate")
    if not isinstance(board, NotAvailable) and len(board):
        behind = board[board["attainment"] < BEHIND_TARGET]
        if len(behind):
            items.append((2, tr("{n} deal owners are below {share} of target ({names}): "
                                "review their open deals before the next period.").format(
                n=i18n.number(len(behind)), share=i18n.percent(BEHIND_TARGET, 0),
                names=_names(behind["owner"]))))
        if not isinstance(team, NotAvailable) and not team.too_few:
            trailing = board[~board["too_few"] &
                             (board["win_rate_high"] < team.value - COACHING_GAP)]
            if len(trailing):
                items.append((2, tr("The win rate of {names} is below the team's {rate} "
                                    "beyond doubt (the whole 95% interval lies more than "
                                    "{gap} under it): coach on qualifying and "
                                    "closing.").format(
                    names=_names(trailing["owner"]), rate=format_value(team.value, "percent"),
                    gap=i18n.percent(COACHING_GAP, 0))))
    coverage = report.kpi("pipeline_coverage")
    if not isinstance(coverage, NotAvailable) and len(coverage):
        value = coverage["coverage"].iloc[0]
        if pd.notna(value) and value < LOW_COVERAGE:
            items.append((3, tr("The open pipeline covers {coverage}× the target still to "
                                "reach, under the {low}× a team usually needs: generate and "
                                "qualify more deals.").format(
                coverage=i18n.number(value, 1), low=i18n.number(LOW_COVERAGE))))
    return items


def conclusions(report: Report) -> list:
    """Recommendations that follow from the numbers (rules in crmkit.narrative)."""
    growth_table = _growth(report) if report.has_rows("orders") else \
        NotAvailable("needs orders")
    values = {"revenue_growth": _change(growth_table, "revenue", "change_vs_previous"),
              "conversion_rate": report.kpi("conversion_rate")}
    items = narrative.recommendation_items({k: v for k, v in values.items() if v is not None})
    if report.has_rows("opportunities"):
        items += _pipeline_recommendations(report)
    quota = report.kpi("quota_attainment") if report.has_rows("orders") else None
    if quota is not None and not isinstance(quota, NotAvailable):
        behind = quota[quota["attainment"] < BEHIND_TARGET]
        if len(behind):
            items.append((2, tr("{n} reps are below {share} of target ({names}): review "
                                "their pipeline and coaching needs before the next "
                                "period.").format(
                n=i18n.number(len(behind)), share=i18n.percent(BEHIND_TARGET, 0),
                names=_names(behind["sales_rep"]))))
    if not items:
        return [Text(narrative.recommendations({}))]
    return [Text(narrative.findings(items))]


# -- the pipeline --------------------------------------------------------------------------
def bookings(report: Report) -> list:
    """Won deal value per month, with the won deals and the average deal size."""
    by = report.by if report.by in _deal_columns(report) else None
    frame = report.kpi("bookings_over_time", freq="month", by=by)
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("Bookings over time"), frame)
    out = [_bookings_sentence(report)]
    out.append(narrative.kpi_sentence(tr("The average won deal"),
                                      report.kpi("average_deal_size"), noun=tr("deals")))
    chart = charts.chart("trend", frame, x="period", y="bookings", hue=by,
                         title=tr("Bookings per month (won deals by close date)"),
                         size=(10, 4))
    table = frame if by else frame[["period", "won_deals", "bookings"]]
    return [Text(sentences(*out)), chart,
            Table(table, {"period": "{:%Y-%m}", "won_deals": "count", "bookings": "currency"},
                  caption=tr("Per month of close date: won deals and their value"))]


def win_rates(report: Report) -> list:
    """Win rate = won / (won + lost) overall and by owner, product, source, type and the
    report's breakdown: counts, 95% intervals, too-few marks."""
    overall = report.kpi("win_rate")
    if isinstance(overall, NotAvailable):
        return not_available(report, tr("The win rate"), overall)
    out = [Text(narrative.rate_sentence(tr("The win rate (won / closed deals)"), overall,
                                        noun=tr("closed deals")))]
    columns = _deal_columns(report)
    dims = [d for d in (*WIN_RATE_BREAKDOWNS, report.by) if d and d in columns]
    for dim in dict.fromkeys(dims):
        frame = report.kpi("win_rate", by=dim)
        if isinstance(frame, NotAvailable) or frame.empty:
            continue
        if 1 < len(frame) <= MAX_RATE_BARS:
            out.append(charts.chart("rate_bars", frame, x=dim, reference=overall, sort=True,
                                    title=tr("Win rate by {dim} (95% CI)").format(
                                        dim=_words(dim)),
                                    size=(10, 3.6)))
        out.append(Table(frame.rename(columns=RATE_COLUMNS), RATE_FORMATS,
                         caption=tr("Win rate by {dim}: won / (won + lost) among deals "
                                    "closed in the period, with its 95% interval").format(
                             dim=_words(dim))))
    return out


def deal_cycle(report: Report) -> list:
    """How long a won deal takes, from creation to close."""
    cycle = report.kpi("sales_cycle")
    if isinstance(cycle, NotAvailable):
        return not_available(report, tr("The sales cycle"), cycle)
    row = cycle.iloc[0]
    if not row["n"]:
        return [Text(tr("*No won deal with a created date closed in the period: there is no "
                        "sales cycle to measure.*"))]
    sentence = format_markdown(
        tr("A won deal took {mean} days on average from creation to close (median {median} "
           "days; {n} deals)."), mean=i18n.number(row["mean_days"]),
        median=i18n.number(row["median_days"]), n=i18n.number(row["n"]))
    if row.get("no_created_date"):
        sentence = sentences(sentence, format_markdown(
            tr("{k} won deals have no created date and are not measured."),
            k=i18n.number(row["no_created_date"])))
    return [Text(sentence)]


def pipeline(report: Report) -> list:
    """The deals open now by stage and by expected close month, weighted by their chance
    to win, and how far they cover the target still to reach."""
    by_stage = report.kpi("open_pipeline", by="stage")
    if isinstance(by_stage, NotAvailable):
        return not_available(report, tr("The open pipeline"), by_stage)
    if by_stage.empty or not by_stage["deals"].sum():
        return [Text(tr("*No deal is open now.*"))]
    out = []
    note = by_stage.attrs.get("note")
    valued = by_stage["value"].notna().any()
    column = "value" if valued else "deals"
    out.append(charts.chart("bar", by_stage, x=column, y="stage", sort=False,
                            unit="currency" if valued else "count",
                            title=tr("Open deals by stage (value)") if valued
                            else tr("Open deals by stage"),
                            size=(10, 0.5 * len(by_stage) + 1.2)))
    out.append(Table(by_stage, {"deals": "count", "valued_deals": "count", "value": "currency",
                                "weighted_value": "currency"},
                     caption=tr("Deals open now, by stage ({note})").format(note=note)
                     if note else tr("Deals open now, by stage")))
    months = report.kpi("open_pipeline", by="close_month")
    if not isinstance(months, NotAvailable) and len(months):
        out.append(Table(months, {"close_month": "{:%Y-%m}", "deals": "count",
                                  "valued_deals": "count", "value": "currency",
                                  "weighted_value": "currency"},
                         caption=tr("Deals open now, by the month they are expected to "
                                    "close")))
    coverage = report.kpi("pipeline_coverage")
    if not isinstance(coverage, NotAvailable) and len(coverage):
        row = coverage.iloc[0]
        if pd.notna(row["coverage"]):
            values = {"to_go": format_value(row["to_go"], "currency"),
                      "booked": format_value(row["bookings"], "currency"),
                      "pipe": format_value(row["pipeline"], "currency"),
                      "cov": i18n.number(row["coverage"], 1) + "×"}
            if pd.notna(row["weighted_coverage"]):
                template = tr("Of the period's target, {to_go} is still to reach after "
                              "{booked} booked; the deals expected to close by the period's "
                              "end are worth {pipe}: {cov} coverage ({wcov} weighted).")
                values["wcov"] = i18n.number(row["weighted_coverage"], 1) + "×"
            else:
                template = tr("Of the period's target, {to_go} is still to reach after "
                              "{booked} booked; the deals expected to close by the period's "
                              "end are worth {pipe}: {cov} coverage (not weighted weighted).")
            out.append(Text(format_markdown(template, **values)))
    return out


def deal_funnel(report: Report) -> list:
    """Deals created in the period by the stage they are in now, in the data's own order."""
    frame = report.kpi("opportunity_funnel")
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("The opportunity funnel"), frame)
    if not frame["deals"].sum():
        return [Text(tr("*No deal was created in the period.*"))]
    return [charts.chart("funnel", frame, stage="stage", count="deals",
                         title=tr("Deals created in the period, by the stage they are in "
                                  "now"),
                         size=(10, 0.5 * len(frame) + 1.2)),
            Table(frame, {"deals": "count", "share": "percent"})]


def owners(report: Report) -> list:
    """Each deal owner's bookings against target, completion rate, rank and win rate."""
    board = report.kpi("owner_leaderboard")
    if isinstance(board, NotAvailable):
        return not_available(report, tr("The deal owners' leaderboard"), board)
    if board.empty:
        return [Text(tr("*No deal with an owner closed in the period.*"))]
    if board["target"].notna().any():
        chart = charts.chart("leaderboard", board, rep="owner", actual="bookings",
                             target="target", attainment="attainment",
                             title=tr("Bookings against target"),
                             size=(10, 0.45 * len(board) + 1.2))
    else:
        chart = charts.chart("bar", board, x="bookings", y="owner",
                             title=tr("Bookings by deal owner (no targets in the data)"),
                             size=(10, 0.45 * len(board) + 1.2))
    return [chart, Table(board, {"bookings": "currency", "won_deals": "count",
                                 "lost_deals": "count", "win_rate": "percent",
                                 "win_rate_low": "percent", "win_rate_high": "percent",
                                 "too_few": "flag:" + N_("too few to say"),
                                 "target": "currency", "attainment": "percent",
                                 "rank": "{:.0f}", "bookings_rank": "{:.0f}"},
                         caption=tr("Completion rate = bookings / target (targets pro rata "
                                    "to the days of the period); win rate = won / (won + "
                                    "lost)"))]


def _deal_columns(report: Report) -> set[str]:
    """The opportunity columns (and attributes) that hold values, from the ingest audit
    (crmkit.shapes.data_columns); every column of a warehouse not written by ingest."""
    if not report.wh.audit.get("tables"):
        return set(report.wh.table("opportunities").columns) if report.has("opportunities") \
            else set()
    return data_columns(report.wh.audit).get("opportunities", set())


SHAPES = {
    "revenue_over_time": "orders", "growth": "orders", "breakdowns": "orders",
    "top_products": "orders", "leaderboard": "orders",
    "bookings": "opportunities", "win_rates": "opportunities", "deal_cycle": "opportunities",
    "pipeline": "opportunities", "deal_funnel": "opportunities", "owners": "opportunities",
}

SECTIONS = {
    "cards": cards_section(CARDS),
    "summary": summary,
    "revenue_over_time": revenue_over_time,
    "growth": growth,
    "breakdowns": breakdowns,
    "top_products": top_products,
    "leaderboard": leaderboard,
    "bookings": bookings,
    "win_rates": win_rates,
    "deal_cycle": deal_cycle,
    "pipeline": pipeline,
    "deal_funnel": deal_funnel,
    "owners": owners,
    "funnel": funnel,
    "conclusions": conclusions,
    **COMMON_SECTIONS,
}

OUTLINE = [
    N_("# Sales performance\n\nHow much we sold, where it came from, who sold it, against "
       "which target, and how it changes."),
    ("cards", N_("## Summary of findings")),
    ("summary", None),
    ("revenue_over_time", N_("## Revenue over time")),
    ("growth", N_("## Growth")),
    ("breakdowns", N_("## Where the revenue came from")),
    ("top_products", N_("## Top products")),
    ("leaderboard", N_("## Sales team against target")),
    ("bookings", N_("## Bookings over time")),
    ("win_rates", N_("## Win rate")),
    ("deal_cycle", N_("## Sales cycle")),
    ("pipeline", N_("## Open pipeline")),
    ("deal_funnel", N_("## Opportunity funnel")),
    ("owners", N_("## Deal owners against target")),
    ("funnel", N_("## Lead funnel and conversion")),
    ("conclusions", N_("## Conclusions and recommendations")),
]
