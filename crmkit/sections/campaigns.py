"""Sections of the campaigns report: what each marketing activity cost and what it brought
in (the input-output ratio the CRM literature asks of every campaign).

A campaign is in the report when it started in the period; it is credited with the leads,
deals and orders that name it up to the period's end (one touch: the campaign the CRM
recorded on the row; see :func:`attribution_text`). Every figure is a registered KPI of
:mod:`crmkit.metrics.campaigns`; a campaign without a cost or without leads is shown as
such, never as an ROI of 0% or an infinite one.
"""

from __future__ import annotations

import pandas as pd

from crmkit import charts, narrative
from crmkit.metrics import NotAvailable
from crmkit.metrics.results import format_value
from crmkit.report.markup import escape_markdown, format_markdown
from crmkit.sections.base import COMMON_SECTIONS, Report, Table, Text, not_available
from crmkit.sections.cards import cards_section

TITLE = "Campaign effect"
MIN_LEADS = 5  # leads a campaign needs before its conversion rate is named in a sentence
MAX_BARS = 15  # campaigns a chart labels legibly; the table lists them all
LOSS = 0.0  # ROI below which a campaign returned less than it cost
# The KPI cards: spend, return, cost per acquisition, lead conversion.
CARDS = ("campaign_cost", "campaign_roi", "cost_per_acquisition", "conversion_rate")

def _performance(report: Report, by):
    return report.kpi("campaign_performance", by=by)


def _notes(frame: pd.DataFrame) -> list[str]:
    """Per row, why a figure is blank or provisional: no cost, no leads, still maturing."""
    notes = []
    for _, row in frame.iterrows():
        said = []
        if row["uncosted"] and row["uncosted"] == row["campaigns"]:
            said.append("no cost recorded")
        elif row["uncosted"]:
            said.append(f"{int(row['uncosted'])} without a cost (left out of ROI)")
        if pd.notna(row["leads"]) and row["leads"] == 0:
            said.append("no leads")
        if row.get("maturing", False):
            said.append("still maturing")
        notes.append("; ".join(said))
    return notes


def _tables(frame: pd.DataFrame, rule: dict, label: str, what: str) -> list[Table]:
    """Two tables a page can hold: what the campaigns cost and returned, and how their
    leads went through the funnel; counts the data cannot give are left out, and each row
    says why a figure is blank or provisional."""
    notes = _notes(frame)
    money = frame[[label, "cost", "revenue", "roi", "cost_per_lead",
                   "cost_per_acquisition"]].copy()
    if "campaigns" in what:
        money.insert(1, "campaigns", frame["campaigns"])
    if any(notes):
        money["note"] = notes
    conversions = {"won deals": "won_deals", "converted leads": "converted_leads"}.get(
        rule.get("conversions"), "conversions")
    funnel = frame[[label]].copy()
    for column in ("leads", "qualified_leads", "opportunities", "conversions", "orders"):
        if frame[column].notna().any():
            funnel[conversions if column == "conversions" else column] = frame[column]
    funnel["lead_conversion"] = [
        "" if pd.isna(v) else f"{format_value(v, 'percent')} ({format_value(lo, 'percent')}"
        f"–{format_value(hi, 'percent')})" for v, lo, hi in
        frame[["conversion_rate", "conversion_low", "conversion_high"]].itertuples(index=False)]
    formats = {"campaigns": "count", "cost": "currency", "revenue": "currency",
               "roi": "percent", "cost_per_lead": "currency",
               "cost_per_acquisition": "currency", "leads": "count",
               "qualified_leads": "count", "opportunities": "count", "won_deals": "count",
               "converted_leads": "count", "conversions": "count", "orders": "count"}
    return [Table(money.rename(columns={"roi": "ROI"}), {**formats, "ROI": "percent"},
                  caption=f"Cost and return {what}: attributed revenue, ROI = (revenue − "
                          "cost) / cost, cost per lead and per acquisition; blank where the "
                          "data cannot give the figure"),
            Table(funnel, formats,
                  caption=f"Leads and conversions {what}; lead conversion = converted / "
                          "leads with its 95% interval")]


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign, named (its id where it has no name)."""
    frame = frame.copy()
    if "name" in frame:
        blank = frame["name"].isna() | (frame["name"].astype(str).str.strip() == "")
        frame["name"] = frame["name"].where(~blank, frame["campaign_id"])
    else:
        frame["name"] = frame["campaign_id"]
    return frame


def _per_campaign(report: Report):
    """One row per campaign of the period, with ``maturing``: started less than a typical
    sales cycle (the median days from created to won) before the period's end, so its
    deals may still be open and its ROI is provisional."""
    columns = report.wh.table("campaigns").columns if report.has("campaigns") else []
    by = tuple(c for c in ("campaign_id", "name", "start_date") if c in columns)
    frame = _performance(report, by)
    if isinstance(frame, NotAvailable):
        return frame
    cycle = _cycle_days(report)
    end = report.filters.end
    if cycle is None or end is None or "start_date" not in frame:
        return frame.assign(maturing=False)
    age = (end - pd.to_datetime(frame["start_date"])).dt.days
    return frame.assign(maturing=(age < cycle).fillna(False).astype(bool))


def _cycle_days(report: Report) -> float | None:
    """The median days a won deal takes, when campaigns are credited with won deals."""
    if _rule(report).get("conversions") != "won deals":
        return None
    cycle = report.kpi("sales_cycle", filters=report.filters.with_period(None, None))
    if isinstance(cycle, NotAvailable) or not cycle["n"].iloc[0]:
        return None
    return float(cycle["median_days"].iloc[0])


def _rule(report: Report) -> dict:
    frame = report.kpi("campaign_performance")
    return {} if isinstance(frame, NotAvailable) else frame.attrs.get("attribution", {})


def summary(report: Report) -> list:
    """The period's campaigns in sentences: spend, return, ROI, cost per acquisition, the
    best and the worst campaign, and how campaign leads convert against the others."""
    total = _performance(report, None)
    if isinstance(total, NotAvailable):
        return not_available(report, "Campaign performance", total)
    row = total.iloc[0]
    if not row["campaigns"]:
        return [Text("*No campaign started in the period.*")]
    items = [(5, _spend_sentence(row))]
    roi = report.kpi("campaign_roi")
    if isinstance(roi, NotAvailable):  # say why, rather than leave it out
        items.append((5, narrative.not_available_sentence("Campaign ROI", roi)))
    elif pd.notna(roi.value):
        items.append((5, format_markdown(
            "{who} returned {roi} on {whose} cost{so_far} (ROI = (attributed revenue − "
            "cost) / cost).", roi=format_value(roi.value, "percent"),
            so_far=" so far" if _maturing_sentence(report) else "",
            who="Together they" if row["campaigns"] > 1 else "It",
            whose="their" if row["campaigns"] > 1 else "its")))
    cpa = report.kpi("cost_per_acquisition")
    if not isinstance(cpa, NotAvailable) and pd.notna(cpa.value):
        items.append((3, format_markdown(
            "Each conversion (a {what}) cost {cpa} ({n} conversion{s}).",
            what=_conversion_word(report), cpa=format_value(cpa.value, "currency"),
            n=f"{cpa.n:,}", s="" if cpa.n == 1 else "s")))
    maturing = _maturing_sentence(report)
    if maturing:
        items.append((5, maturing))
    items += [(4, s) for s in _best_and_worst(report)]
    comparison = _comparison_sentence(report)
    if comparison:
        items.append((2, comparison))
    return [Text(narrative.findings(items))]


def _conversion_word(report: Report) -> str:
    rule = _rule(report)
    return {"won deals": "won deal", "converted leads": "converted lead"}.get(
        rule.get("conversions"), "conversion")


def _spend_sentence(row: pd.Series) -> str:
    n = int(row["campaigns"])
    campaigns = f"{n:,} campaign{'s' if n != 1 else ''}"
    they, them = ("they", "them") if n != 1 else ("it", "it")
    if int(row["uncosted"]) == n:
        spend = "none of them has a cost recorded" if n != 1 else "it has no cost recorded"
    else:
        spend = f"{they} cost {format_value(row['cost'], 'currency')}"
        if row["uncosted"]:
            spend += f" ({int(row['uncosted']):,} have no cost recorded)"
    revenue = (f"; {format_value(row['revenue'], 'currency')} of revenue is attributed to "
               f"{them}" if pd.notna(row["revenue"]) else "")
    leads = (f", with {int(row['leads']):,} leads" if pd.notna(row["leads"]) else "")
    return escape_markdown(f"{campaigns} started in the period{leads}; {spend}{revenue}.")


def _maturing_sentence(report: Report) -> str | None:
    frame = _per_campaign(report)
    if isinstance(frame, NotAvailable) or not frame["maturing"].any():
        return None
    n, total = int(frame["maturing"].sum()), len(frame)
    return format_markdown(
        "{n} of {total} campaigns started less than a typical sales cycle ({days} days, the "
        "median from a deal's creation to its win) before the period's end: their deals "
        "may still be open, so their ROI is provisional and not judged below.",
        n=f"{n:,}", total=f"{total:,}", days=f"{_cycle_days(report):.0f}")


def _ranked(report: Report) -> pd.DataFrame:
    """The period's campaigns with a cost and a computable ROI, best first."""
    frame = _per_campaign(report)
    if isinstance(frame, NotAvailable):
        return pd.DataFrame()
    frame = _named(frame)
    judged = frame["roi"].notna() & ~frame["maturing"]
    return frame[judged].sort_values("roi", ascending=False, kind="stable")


def _best_and_worst(report: Report) -> list[str]:
    ranked = _ranked(report)
    if len(ranked) < 2:  # one campaign: its ROI is the period's, said already
        return []
    best = ranked.iloc[0]
    out = [format_markdown("Highest ROI: {name}, {roi} ({revenue} attributed on a cost of "
                           "{cost}).", name=best["name"],
                           roi=format_value(best["roi"], "percent"),
                           revenue=format_value(best["revenue"], "currency"),
                           cost=format_value(best["cost"], "currency"))]
    worst = ranked.iloc[-1]
    out.append(format_markdown(
        "Lowest ROI: {name}, {roi} ({revenue} on {cost}).", name=worst["name"],
        roi=format_value(worst["roi"], "percent"),
        revenue=format_value(worst["revenue"], "currency"),
        cost=format_value(worst["cost"], "currency")))
    return out


def _comparison_sentence(report: Report) -> str | None:
    frame = report.kpi("campaign_lead_conversion")
    if isinstance(frame, NotAvailable):
        return None
    rows = frame.set_index("group")
    camp, other = rows.loc["campaign"], rows.loc["other"]
    if not camp["leads"] or not other["leads"]:
        return None
    if camp["too_few"] or other["too_few"]:
        return format_markdown(
            "Too few leads to compare the conversion of campaign leads ({a}) with the "
            "others ({b}).", a=f"{int(camp['leads']):,}", b=f"{int(other['leads']):,}")
    d, low, high = (frame.attrs[k] for k in ("difference", "difference_low",
                                             "difference_high"))
    points = f"{abs(d) * 100:.1f}"
    interval = f"{low * 100:+.1f} to {high * 100:+.1f} points"
    if low <= 0 <= high:
        verdict = ("the interval includes no difference, so the data cannot tell the two "
                   "apart")
    else:
        verdict = (f"campaign leads converted {points} points "
                   f"{'more' if d > 0 else 'less'} often")
    return format_markdown(
        "Leads from a campaign converted at {a} ({ka} of {na}), the others at {b} ({kb} of "
        "{nb}); difference 95% CI {interval}: {verdict}. This is an association, not the "
        "campaigns' effect: a campaign chooses its audience.",
        a=format_value(camp["value"], "percent"), ka=f"{int(camp['converted']):,}",
        na=f"{int(camp['leads']):,}", b=format_value(other["value"], "percent"),
        kb=f"{int(other['converted']):,}", nb=f"{int(other['leads']):,}",
        interval=interval, verdict=verdict)


def by_campaign(report: Report) -> list:
    """Each campaign of the period: cost, leads, qualified leads, opportunities,
    conversions, conversion rate with its interval, attributed revenue, ROI, cost per lead
    and per acquisition."""
    frame = _per_campaign(report)
    if isinstance(frame, NotAvailable):
        return not_available(report, "Campaign performance", frame)
    if frame.empty:
        return [Text("*No campaign started in the period.*")]
    frame = _named(frame)
    out = []
    ranked = frame[frame["roi"].notna()].sort_values("roi", ascending=False, kind="stable")
    if len(ranked) > 1:
        shown = ranked.head(MAX_BARS)
        title = ("ROI per campaign" if len(ranked) <= MAX_BARS
                 else f"ROI of the {MAX_BARS} best campaigns of {len(ranked)}")
        bars = shown[["name", "roi"]].drop_duplicates("name").rename(columns={"roi": "ROI"})
        out.append(charts.chart("bar", bars, x="ROI", y="name", unit="percent", sort=False,
                                title=title, size=(10, 0.45 * len(shown) + 1.2)))
    return out + _tables(frame, _rule(report), "name", "per campaign started in the period")


def by_channel(report: Report) -> list:
    """The same figures per marketing channel."""
    if report.has("campaigns") and "channel" not in report.wh.table("campaigns").columns:
        return [Text("*The campaigns carry no channel.*")]
    frame = _performance(report, "channel")
    if isinstance(frame, NotAvailable):
        return not_available(report, "Campaigns by channel", frame)
    if frame.empty:
        return [Text("*No campaign started in the period.*")]
    frame = frame.assign(channel=frame["channel"].fillna("(no channel)"))
    out = []
    costed = frame[frame["roi"].notna()]
    if len(costed):
        out.append(charts.chart("bar", costed[["channel", "roi"]].rename(columns={"roi": "ROI"}),
                                x="ROI", y="channel", unit="percent", title="ROI per channel",
                                size=(10, 0.45 * len(costed) + 1.2)))
    return out + _tables(frame, _rule(report), "channel",
                         "per channel, of the campaigns started in the period")


def over_time(report: Report) -> list:
    """Cost of the campaigns started each month, and the attributed revenue that fell in
    it, over the 12 months to the period's end."""
    frame = report.kpi("campaign_over_time")
    if isinstance(frame, NotAvailable):
        return not_available(report, "Campaign cost and return over time", frame)
    lines = [("cost", "Campaign cost")]
    if frame["revenue"].notna().any():
        lines.append(("revenue", "Attributed revenue"))
    long = pd.concat([frame[["period", column]].rename(columns={column: "amount"})
                      .assign(figure=label) for column, label in lines], ignore_index=True)
    long = long.dropna(subset=["amount"])
    out = [Text("Revenue is dated when it was made, so a month's return is not only that "
                "month's campaigns': read the two lines side by side, not as a monthly ROI.")]
    if len(long):
        per = "quarter" if frame.attrs.get("freq") == "quarter" else "month"
        out.append(charts.chart("trend", long, x="period", y="amount", hue="figure",
                                title=f"Campaign cost and attributed revenue per {per}",
                                size=(10, 4)))
    table = frame if frame["revenue"].notna().any() else frame.drop(columns="revenue")
    per = "quarter" if frame.attrs.get("freq") == "quarter" else "month"
    out.append(Table(table, {"period": "{:%Y-%m}", "campaigns": "count", "cost": "currency",
                             "revenue": "currency"},
                     caption=f"Per {per} (its first day): campaigns started, their cost, and the revenue "
                             "attributed to any campaign"))
    return out


def lead_conversion(report: Report) -> list:
    """Conversion of the period's leads from a campaign against the others, with
    intervals, worded as an association."""
    frame = report.kpi("campaign_lead_conversion")
    if isinstance(frame, NotAvailable):
        return not_available(report, "The conversion of campaign leads", frame)
    shown = frame.assign(group=frame["group"].map(
        {"campaign": "from a campaign", "other": "no campaign"}))
    out = []
    sentence = _comparison_sentence(report)
    if sentence:
        out.append(Text(sentence))
    out.append(charts.chart("rate_bars", shown, x="group", numerator="converted",
                            denominator="leads", title="Lead conversion, campaign leads and the others",
                            size=(10, 2.6)))
    out.append(Table(shown, {"leads": "count", "converted": "count", "value": "percent",
                             "ci_low": "percent", "ci_high": "percent",
                             "too_few": "flag:too few to say"},
                     caption="Leads created in the period; value = converted / leads, "
                             "95% Wilson interval"))
    return out


def lead_touch(audit: dict) -> dict | None:
    """How the leads' campaign was chosen when a lead has several (campaign-member data):
    the lookup of the leads that fills campaign_id with ``pick`` (see docs/config.md), as
    ``{"which": "first", "by": "CreatedDate", "input": "CampaignMember.csv"}``; None when
    each lead carries one campaign of its own."""
    record = (audit.get("tables") or {}).get("leads") or {}
    source = (record.get("columns") or {}).get("campaign_id")
    for lookup in record.get("lookups") or []:
        if lookup.get("pick") and source in (lookup.get("columns") or {}):
            (which, by), = lookup["pick"].items()
            return {"which": which, "by": by, "input": lookup["input"]}
    return None


def attribution_text(rule: dict, touch: dict | None = None) -> str:
    """How the report credits a campaign, in words, for the attribution in use; ``touch``:
    which campaign membership of a lead counts (:func:`lead_touch`)."""
    lines = ["A campaign is in this report when it **started in the period**. It is "
             "credited with the rows that name it (their `campaign_id`) up to the period's "
             "end, so a campaign that started late in the period is not cut short at its "
             "start, and the report stays the same when re-run later."]
    if rule.get("conversions") == "won deals":
        lines.append("Its **opportunities** are the deals that name it (in Salesforce the "
                     "opportunity's Primary Campaign Source); its **conversions** are the "
                     "won deals among them, and its **attributed revenue** their bookings "
                     "(won amounts by close date).")
    elif rule.get("conversions") == "converted leads":
        lines.append("Its **conversions** are the leads that name it and converted.")
    if rule.get("revenue") == "orders":
        lines.append("Its **attributed revenue** is the net revenue of the orders that "
                     "name it (returns deducted, cancelled orders left out).")
    if touch is not None:
        lines.append(escape_markdown(
            f"A lead reached by several campaigns is credited to one: its "
            f"{touch['which']} touch, the campaign membership of {touch['input']} with the "
            f"{'earliest' if touch['which'] == 'first' else 'latest'} {touch['by']}; the "
            "other memberships are not credited."))
    else:
        lines.append("One touch counts: the campaign the CRM recorded on the lead, deal or "
                     "order. Campaign-member histories (several touches per contact) are not "
                     "read, so a contact reached by three campaigns is credited to the one "
                     "on its row.")
    lines.append("**Qualified leads** are the converted ones and those whose status "
                 "or stage says qualified (or later: proposal, negotiation). A campaign "
                 "without a cost is left out of ROI and costs per lead and acquisition, "
                 "which stay blank where no campaign has a cost.")
    return "\n\n".join(lines)


def attribution(report: Report) -> list:
    """The attribution rule this report applies, stated for the data at hand."""
    return [Text(attribution_text(_rule(report), lead_touch(report.wh.audit)))]


def conclusions(report: Report) -> list:
    """Recommendations that follow from the numbers."""
    ranked = _ranked(report)
    values = {"conversion_rate": report.kpi("conversion_rate")}
    campaigns = _per_campaign(report)
    if isinstance(campaigns, NotAvailable) or not campaigns["maturing"].any():
        values["campaign_roi"] = report.kpi("campaign_roi")  # no provisional ROI judged
    items = narrative.recommendation_items(values)
    losing = ranked[ranked["roi"] < LOSS] if len(ranked) else ranked
    if len(losing) and len(losing) < len(ranked):
        names = ", ".join(escape_markdown(str(n)) for n in losing["name"])
        items.append((3, f"{len(losing)} of {len(ranked)} campaigns returned less than they "
                         f"cost ({names}): compare their audience and offer with the best "
                         "one before funding them again."))
    if len(ranked) > 1 and ranked.iloc[0]["roi"] > LOSS:
        items.append((2, format_markdown(
            "{name} returned the most per unit of cost: consider moving budget towards "
            "its channel ({channel}) and repeating its offer.", name=ranked.iloc[0]["name"],
            channel=_channel_of(report, ranked.iloc[0]["campaign_id"]))))
    total = _performance(report, None)
    if not isinstance(total, NotAvailable) and total["uncosted"].iloc[0]:
        items.append((2, "Record the cost of every campaign in the CRM: campaigns without a "
                         "cost cannot be judged on their return."))
    if not items:
        return [Text(narrative.recommendations({}))]
    return [Text(narrative.findings(items))]


def _channel_of(report: Report, campaign_id) -> str:
    frame = _performance(report, ("campaign_id", "channel")) \
        if "channel" in report.wh.table("campaigns").columns else None
    if frame is None or isinstance(frame, NotAvailable):
        return "its channel"
    match = frame.loc[frame["campaign_id"] == campaign_id, "channel"]
    return str(match.iloc[0]) if len(match) and pd.notna(match.iloc[0]) else "its channel"


DEFINITIONS = [
    {"title": "Qualified leads", "formula": "leads converted, or with a status or stage "
     "naming qualification or a later step (crmkit.metrics.campaigns.QUALIFIED_STATUSES)",
     "unit": "count", "grain": "campaign"},
    {"title": "Cost per lead", "formula": "cost / leads of the campaigns with a cost",
     "unit": "currency", "grain": "campaign"},
]

SECTIONS = {
    "cards": cards_section(CARDS),
    "summary": summary,
    "by_campaign": by_campaign,
    "by_channel": by_channel,
    "over_time": over_time,
    "lead_conversion": lead_conversion,
    "attribution": attribution,
    "conclusions": conclusions,
    **COMMON_SECTIONS,
}

OUTLINE = [
    "# Campaign effect\n\nWhat each marketing campaign cost, what it brought in, and how "
    "its leads converted.",
    ("cards", "## Summary of findings"),
    ("summary", None),
    ("by_campaign", "## Campaigns"),
    ("by_channel", "## Channels"),
    ("over_time", "## Cost and return over time"),
    ("lead_conversion", "## Campaign leads against the others"),
    ("attribution", "## How campaigns are credited"),
    ("conclusions", "## Conclusions and recommendations"),
]
