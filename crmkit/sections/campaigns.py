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

from crmkit import charts, i18n, narrative
from crmkit.i18n import N_, ntr, tr
from crmkit.labels import series
from crmkit.metrics import NotAvailable
from crmkit.metrics.results import format_value
from crmkit.report.markup import escape_markdown, format_markdown
from crmkit.sections.base import COMMON_SECTIONS, Report, Table, Text, not_available
from crmkit.sections.cards import cards_section

TITLE = N_("Campaign effect")
MIN_LEADS = 5  # leads a campaign needs before its conversion rate is named in a sentence
MAX_BARS = 15  # campaigns a chart labels legibly; the table lists them all
LOSS = 0.0  # ROI below which a campaign returned less than it cost
# The KPI cards: spend, return, cost per acquisition, lead conversion.
CARDS = ("campaign_cost", "campaign_roi", "cost_per_acquisition", "conversion_rate")
TOO_FEW = N_("too few to say")  # the flag of a rate resting on too few leads
# The campaign_lead_conversion KPI's groups as a reader sees them.
LEAD_GROUPS = {"campaign": N_("from a campaign"), "other": N_("no campaign")}


def _performance(report: Report, by):
    return report.kpi("campaign_performance", by=by)


def _notes(frame: pd.DataFrame) -> list[str]:
    """Per row, why a figure is blank or provisional: no cost, no leads, still maturing."""
    notes = []
    for _, row in frame.iterrows():
        said = []
        if row["uncosted"] and row["uncosted"] == row["campaigns"]:
            said.append(tr("no cost recorded"))
        elif row["uncosted"]:
            said.append(tr("{n} without a cost (left out of ROI)").format(
                n=int(row["uncosted"])))
        if pd.notna(row["leads"]) and row["leads"] == 0:
            said.append(tr("no leads"))
        if row.get("maturing", False):
            said.append(tr("still maturing"))
        notes.append(series(said, semicolons=True))
    return notes


# The captions of the two tables of _tables, per campaign and per channel.
CAPTIONS = {
    "name": (N_("Cost and return per campaign started in the period: attributed revenue, "
                "ROI = (revenue − cost) / cost, cost per lead and per acquisition; blank "
                "where the data cannot give the figure"),
             N_("Leads and conversions per campaign started in the period; lead conversion "
                "= converted / leads with its 95% interval")),
    "channel": (N_("Cost and return per channel, of the campaigns started in the period: "
                   "attributed revenue, ROI = (revenue − cost) / cost, cost per lead and per "
                   "acquisition; blank where the data cannot give the figure"),
                N_("Leads and conversions per channel, of the campaigns started in the "
                   "period; lead conversion = converted / leads with its 95% interval")),
}


def _tables(frame: pd.DataFrame, rule: dict, label: str) -> list[Table]:
    """Two tables a page can hold: what the campaigns cost and returned, and how their
    leads went through the funnel, per campaign (``label`` "name") or per channel
    ("channel"); counts the data cannot give are left out, and each row says why a figure
    is blank or provisional."""
    notes = _notes(frame)
    money = frame[[label, "cost", "revenue", "roi", "cost_per_lead",
                   "cost_per_acquisition"]].copy()
    if label != "name":  # a channel holds several campaigns
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
    cost_caption, funnel_caption = CAPTIONS[label]
    return [Table(money.rename(columns={"roi": "ROI"}), {**formats, "ROI": "percent"},
                  caption=tr(cost_caption)),
            Table(funnel, formats, caption=tr(funnel_caption))]


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
        return not_available(report, tr("Campaign performance"), total)
    row = total.iloc[0]
    if not row["campaigns"]:
        return [Text(tr("*No campaign started in the period.*"))]
    items = [(5, _spend_sentence(row))]
    roi = report.kpi("campaign_roi")
    if isinstance(roi, NotAvailable):  # say why, rather than leave it out
        items.append((5, narrative.not_available_sentence(tr("Campaign ROI"), roi)))
    elif pd.notna(roi.value):
        items.append((5, format_markdown(
            _roi_template(row["campaigns"] > 1, bool(_maturing_sentence(report))),
            roi=format_value(roi.value, "percent"))))
    cpa = report.kpi("cost_per_acquisition")
    if not isinstance(cpa, NotAvailable) and pd.notna(cpa.value):
        items.append((3, format_markdown(
            _cpa_template(report, cpa.n), cpa=format_value(cpa.value, "currency"),
            n=i18n.number(cpa.n))))
    maturing = _maturing_sentence(report)
    if maturing:
        items.append((5, maturing))
    items += [(4, s) for s in _best_and_worst(report)]
    comparison = _comparison_sentence(report)
    if comparison:
        items.append((2, comparison))
    return [Text(narrative.findings(items))]


def _roi_template(several: bool, so_far: bool) -> str:
    """The sentence on the campaigns' ROI: one campaign or several, final or so far."""
    if several:
        return (tr("Together they returned {roi} on their cost so far (ROI = (attributed "
                   "revenue − cost) / cost).") if so_far else
                tr("Together they returned {roi} on their cost (ROI = (attributed revenue − "
                   "cost) / cost)."))
    return (tr("It returned {roi} on its cost so far (ROI = (attributed revenue − cost) / "
               "cost).") if so_far else
            tr("It returned {roi} on its cost (ROI = (attributed revenue − cost) / cost)."))


def _cpa_template(report: Report, n: int) -> str:
    """The sentence on the cost per acquisition, for what a conversion is here."""
    conversions = _rule(report).get("conversions")
    if conversions == "won deals":
        return ntr("Each conversion (a won deal) cost {cpa} ({n} conversion).",
                   "Each conversion (a won deal) cost {cpa} ({n} conversions).", n)
    if conversions == "converted leads":
        return ntr("Each conversion (a converted lead) cost {cpa} ({n} conversion).",
                   "Each conversion (a converted lead) cost {cpa} ({n} conversions).", n)
    return ntr("Each conversion (a conversion) cost {cpa} ({n} conversion).",
               "Each conversion (a conversion) cost {cpa} ({n} conversions).", n)


def _spend_sentence(row: pd.Series) -> str:
    """How many campaigns started, with how many leads; what they cost; the revenue
    attributed to them: clauses, each whole, for one campaign or several."""
    n = int(row["campaigns"])
    several = n != 1
    if pd.notna(row["leads"]):
        started = ntr("{n} campaign started in the period, with {leads} leads",
                      "{n} campaigns started in the period, with {leads} leads", n)
    else:
        started = ntr("{n} campaign started in the period",
                      "{n} campaigns started in the period", n)
    clauses = [started.format(n=i18n.number(n), leads=i18n.number(row["leads"])
                              if pd.notna(row["leads"]) else "")]
    cost = format_value(row["cost"], "currency")
    if int(row["uncosted"]) == n:
        clauses.append(tr("none of them has a cost recorded") if several
                       else tr("it has no cost recorded"))
    elif row["uncosted"]:  # several campaigns, some without a cost
        clauses.append(tr("they cost {cost} ({k} have no cost recorded)").format(
            cost=cost, k=i18n.number(row["uncosted"])))
    else:
        clauses.append((tr("they cost {cost}") if several else tr("it cost {cost}"))
                       .format(cost=cost))
    if pd.notna(row["revenue"]):
        revenue = format_value(row["revenue"], "currency")
        clauses.append((tr("{revenue} of revenue is attributed to them") if several
                        else tr("{revenue} of revenue is attributed to it"))
                       .format(revenue=revenue))
    return escape_markdown(tr("{clauses}.").format(clauses=series(clauses, semicolons=True)))


def _maturing_sentence(report: Report) -> str | None:
    frame = _per_campaign(report)
    if isinstance(frame, NotAvailable) or not frame["maturing"].any():
        return None
    n, total = int(frame["maturing"].sum()), len(frame)
    return format_markdown(
        tr("{n} of {total} campaigns started less than a typical sales cycle ({days} days, "
           "the median from a deal's creation to its win) before the period's end: their "
           "deals may still be open, so their ROI is provisional and not judged below."),
        n=i18n.number(n), total=i18n.number(total), days=f"{_cycle_days(report):.0f}")


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
    out = [format_markdown(tr("Highest ROI: {name}, {roi} ({revenue} attributed on a cost "
                              "of {cost})."), name=best["name"],
                           roi=format_value(best["roi"], "percent"),
                           revenue=format_value(best["revenue"], "currency"),
                           cost=format_value(best["cost"], "currency"))]
    worst = ranked.iloc[-1]
    out.append(format_markdown(
        tr("Lowest ROI: {name}, {roi} ({revenue} on {cost})."), name=worst["name"],
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
            tr("Too few leads to compare the conversion of campaign leads ({a}) with the "
               "others ({b})."), a=i18n.number(int(camp["leads"])),
            b=i18n.number(int(other["leads"])))
    d, low, high = (frame.attrs[k] for k in ("difference", "difference_low",
                                             "difference_high"))
    points = f"{abs(d) * 100:.1f}"
    interval = tr("{low} to {high} points").format(low=f"{low * 100:+.1f}",
                                                  high=f"{high * 100:+.1f}")
    if low <= 0 <= high:
        verdict = tr("the interval includes no difference, so the data cannot tell the two "
                     "apart")
    elif d > 0:
        verdict = tr("campaign leads converted {points} points more often").format(
            points=points)
    else:
        verdict = tr("campaign leads converted {points} points less often").format(
            points=points)
    return format_markdown(
        tr("Leads from a campaign converted at {a} ({ka} of {na}), the others at {b} ({kb} "
           "of {nb}); difference 95% CI {interval}: {verdict}. This is an association, not "
           "the campaigns' effect: a campaign chooses its audience."),
        a=format_value(camp["value"], "percent"), ka=i18n.number(int(camp["converted"])),
        na=i18n.number(int(camp["leads"])), b=format_value(other["value"], "percent"),
        kb=i18n.number(int(other["converted"])), nb=i18n.number(int(other["leads"])),
        interval=interval, verdict=verdict)


def by_campaign(report: Report) -> list:
    """Each campaign of the period: cost, leads, qualified leads, opportunities,
    conversions, conversion rate with its interval, attributed revenue, ROI, cost per lead
    and per acquisition."""
    frame = _per_campaign(report)
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("Campaign performance"), frame)
    if frame.empty:
        return [Text(tr("*No campaign started in the period.*"))]
    frame = _named(frame)
    out = []
    ranked = frame[frame["roi"].notna()].sort_values("roi", ascending=False, kind="stable")
    if len(ranked) > 1:
        shown = ranked.head(MAX_BARS)
        title = (tr("ROI per campaign") if len(ranked) <= MAX_BARS
                 else tr("ROI of the {n} best campaigns of {total}").format(
                     n=MAX_BARS, total=len(ranked)))
        bars = shown[["name", "roi"]].drop_duplicates("name").rename(columns={"roi": "ROI"})
        out.append(charts.chart("bar", bars, x="ROI", y="name", unit="percent", sort=False,
                                title=title, size=(10, 0.45 * len(shown) + 1.2)))
    return out + _tables(frame, _rule(report), "name")


def by_channel(report: Report) -> list:
    """The same figures per marketing channel."""
    if report.has("campaigns") and "channel" not in report.wh.table("campaigns").columns:
        return [Text(tr("*The campaigns carry no channel.*"))]
    frame = _performance(report, "channel")
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("Campaigns by channel"), frame)
    if frame.empty:
        return [Text(tr("*No campaign started in the period.*"))]
    frame = frame.assign(channel=frame["channel"].fillna(tr("(no channel)")))
    out = []
    costed = frame[frame["roi"].notna()]
    if len(costed):
        out.append(charts.chart("bar", costed[["channel", "roi"]].rename(columns={"roi": "ROI"}),
                                x="ROI", y="channel", unit="percent",
                                title=tr("ROI per channel"),
                                size=(10, 0.45 * len(costed) + 1.2)))
    return out + _tables(frame, _rule(report), "channel")


def over_time(report: Report) -> list:
    """Cost of the campaigns started each month, and the attributed revenue that fell in
    it, over the 12 months to the period's end."""
    frame = report.kpi("campaign_over_time")
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("Campaign cost and return over time"), frame)
    lines = [("cost", tr("Campaign cost"))]
    if frame["revenue"].notna().any():
        lines.append(("revenue", tr("Attributed revenue")))
    long = pd.concat([frame[["period", column]].rename(columns={column: "amount"})
                      .assign(figure=label) for column, label in lines], ignore_index=True)
    long = long.dropna(subset=["amount"])
    out = [Text(tr("Revenue is dated when it was made, so a month's return is not only that "
                   "month's campaigns': read the two lines side by side, not as a monthly "
                   "ROI."))]
    quarterly = frame.attrs.get("freq") == "quarter"
    if len(long):
        out.append(charts.chart("trend", long, x="period", y="amount", hue="figure",
                                title=tr("Campaign cost and attributed revenue per quarter")
                                if quarterly else
                                tr("Campaign cost and attributed revenue per month"),
                                size=(10, 4)))
    table = frame if frame["revenue"].notna().any() else frame.drop(columns="revenue")
    out.append(Table(table, {"period": "{:%Y-%m}", "campaigns": "count", "cost": "currency",
                             "revenue": "currency"},
                     caption=tr("Per quarter (its first day): campaigns started, their cost, "
                                "and the revenue attributed to any campaign") if quarterly
                     else tr("Per month (its first day): campaigns started, their cost, and "
                             "the revenue attributed to any campaign")))
    return out


def lead_conversion(report: Report) -> list:
    """Conversion of the period's leads from a campaign against the others, with
    intervals, worded as an association."""
    frame = report.kpi("campaign_lead_conversion")
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("The conversion of campaign leads"), frame)
    shown = frame.assign(group=frame["group"].map(lambda g: tr(LEAD_GROUPS.get(g, g))))
    out = []
    sentence = _comparison_sentence(report)
    if sentence:
        out.append(Text(sentence))
    out.append(charts.chart("rate_bars", shown, x="group", numerator="converted",
                            denominator="leads",
                            title=tr("Lead conversion, campaign leads and the others"),
                            size=(10, 2.6)))
    out.append(Table(shown, {"leads": "count", "converted": "count", "value": "percent",
                             "ci_low": "percent", "ci_high": "percent",
                             "too_few": f"flag:{TOO_FEW}"},
                     caption=tr("Leads created in the period; value = converted / leads, "
                                "95% Wilson interval")))
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
    lines = [tr("A campaign is in this report when it **started in the period**. It is "
                "credited with the rows that name it (their `campaign_id`) up to the "
                "period's end, so a campaign that started late in the period is not cut "
                "short at its start, and the report stays the same when re-run later.")]
    if rule.get("conversions") == "won deals":
        lines.append(tr("Its **opportunities** are the deals that name it (in Salesforce the "
                        "opportunity's Primary Campaign Source); its **conversions** are the "
                        "won deals among them, and its **attributed revenue** their bookings "
                        "(won amounts by close date)."))
    elif rule.get("conversions") == "converted leads":
        lines.append(tr("Its **conversions** are the leads that name it and converted."))
    if rule.get("revenue") == "orders":
        lines.append(tr("Its **attributed revenue** is the net revenue of the orders that "
                        "name it (returns deducted, cancelled orders left out)."))
    if touch is not None:
        if touch["which"] == "first":
            text = tr("A lead reached by several campaigns is credited to one: its first "
                      "touch, the campaign membership of {input} with the earliest {by}; the "
                      "other memberships are not credited.")
        elif touch["which"] == "last":
            text = tr("A lead reached by several campaigns is credited to one: its last "
                      "touch, the campaign membership of {input} with the latest {by}; the "
                      "other memberships are not credited.")
        else:
            text = tr("A lead reached by several campaigns is credited to one: its {which} "
                      "touch, the campaign membership of {input} with the latest {by}; the "
                      "other memberships are not credited.")
        lines.append(escape_markdown(text.format(which=touch["which"], input=touch["input"],
                                                 by=touch["by"])))
    else:
        lines.append(tr("One touch counts: the campaign the CRM recorded on the lead, deal or "
                        "order. Campaign-member histories (several touches per contact) are "
                        "not read, so a contact reached by three campaigns is credited to the "
                        "one on its row."))
    lines.append(tr("**Qualified leads** are the converted ones and those whose status "
                    "or stage says qualified (or later: proposal, negotiation). A campaign "
                    "without a cost is left out of ROI and costs per lead and acquisition, "
                    "which stay blank where no campaign has a cost."))
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
        names = series(escape_markdown(str(n)) for n in losing["name"])
        items.append((3, tr("{n} of {total} campaigns returned less than they cost ({names}): "
                            "compare their audience and offer with the best one before "
                            "funding them again.").format(n=len(losing), total=len(ranked),
                                                          names=names)))
    if len(ranked) > 1 and ranked.iloc[0]["roi"] > LOSS:
        items.append((2, format_markdown(
            tr("{name} returned the most per unit of cost: consider moving budget towards "
               "its channel ({channel}) and repeating its offer."), name=ranked.iloc[0]["name"],
            channel=_channel_of(report, ranked.iloc[0]["campaign_id"]))))
    total = _performance(report, None)
    if not isinstance(total, NotAvailable) and total["uncosted"].iloc[0]:
        items.append((2, tr("Record the cost of every campaign in the CRM: campaigns without "
                            "a cost cannot be judged on their return.")))
    if not items:
        return [Text(narrative.recommendations({}))]
    return [Text(narrative.findings(items))]


def _channel_of(report: Report, campaign_id) -> str:
    frame = _performance(report, ("campaign_id", "channel")) \
        if "channel" in report.wh.table("campaigns").columns else None
    if frame is None or isinstance(frame, NotAvailable):
        return tr("its channel")
    match = frame.loc[frame["campaign_id"] == campaign_id, "channel"]
    return str(match.iloc[0]) if len(match) and pd.notna(match.iloc[0]) else tr("its channel")


DEFINITIONS = [
    {"title": N_("Qualified leads"), "formula": N_("leads converted, or with a status or "
     "stage naming qualification or a later step (crmkit.metrics.campaigns."
     "QUALIFIED_STATUSES)"), "unit": N_("count"), "grain": N_("campaign")},
    {"title": N_("Cost per lead"), "formula": N_("cost / leads of the campaigns with a cost"),
     "unit": N_("currency"), "grain": N_("campaign")},
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
    N_("# Campaign effect\n\nWhat each marketing campaign cost, what it brought in, and how "
       "its leads converted."),
    ("cards", N_("## Summary of findings")),
    ("summary", None),
    ("by_campaign", N_("## Campaigns")),
    ("by_channel", N_("## Channels")),
    ("over_time", N_("## Cost and return over time")),
    ("lead_conversion", N_("## Campaign leads against the others")),
    ("attribution", N_("## How campaigns are credited")),
    ("conclusions", N_("## Conclusions and recommendations")),
]
