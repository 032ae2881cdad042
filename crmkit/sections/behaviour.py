"""Sections of the customer_behaviour report: who buys, how often, which segments (RFM,
clusters), how cohorts retain, and what customers are worth.

Two shapes of data feed it (see ``SHAPES``): retail orders (the sections of this module)
and a B2B pipeline, whose customers are accounts that win and lose deals (the sections of
:mod:`crmkit.sections.accounts`). A section of a shape the data does not have is left out;
the summary and the conclusions speak of whichever the data has.

Every figure comes from a registered KPI through ``report.kpi``: the period KPIs
(customer mix, loyalty, repeat buying, CLV, CAC, CV) of :mod:`crmkit.metrics`, and the
model KPIs of :mod:`crmkit.metrics.behaviour` (RFM segments, behaviour clusters, cohort
retention, BG/NBD + Gamma-Gamma predicted CLV), which look back over the whole history up
to the period end. The recommendation rules are module-level data.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from crmkit import charts, i18n, narrative
from crmkit.i18n import N_, tr
from crmkit.labels import column_label, series
from crmkit.metrics import MIN_DENOMINATOR, NotAvailable, Rate, metric_definitions
from crmkit.metrics.behaviour import CLOSE_TO_AVERAGE
from crmkit.metrics.filters import DIMENSIONS, Filters
from crmkit.metrics.results import format_value, reason_text
from crmkit.report.markup import escape_markdown, format_markdown
from crmkit.sections import accounts
from crmkit.sections.base import COMMON_SECTIONS, Report, Table, Text, not_available
from crmkit.sections.cards import cards_section

TITLE = N_("Customer behaviour")
FIG_WIDTH = 12.0  # inches, every figure: the report scales them alike, so text is one size

MAX_GROUPS = 8  # values of the `by` breakdown shown (the largest)
RETENTION_MONTHS = (1, 3)  # months after acquisition quoted in words
AT_RISK_SEGMENTS = ("At risk", "Cannot lose them")
LAPSED_SEGMENTS = ("Hibernating", "Lost")
CAC_TO_CLV_LIMIT = 1 / 3  # an acquisition channel above this CAC / CLV is named
CORRELATION_CAUTION = 0.3  # |spend-frequency correlation| above this: Gamma-Gamma is rough

# Report-specific recommendations, in the rule format of crmkit.narrative: the values
# are computed in `conclusions`. Thresholds are defaults for a typical business. The texts
# are English catalog messages (N_): crmkit.narrative says them in the report's language.
BEHAVIOUR_RULES: list[dict] = [
    {"metric": "month1_retention", "op": "<", "threshold": 0.25, "unit": "percent",
     "priority": 3,
     "text": N_("Only {value} of newly acquired customers buy again in the month after their "
                "first order (below {threshold}): add an onboarding follow-up and a "
                "second-purchase offer in the first weeks.")},
    {"metric": "month3_retention", "op": "<", "threshold": 0.20, "unit": "percent",
     "priority": 2,
     "text": N_("Three months after acquisition only {value} of a cohort still buys (below "
                "{threshold}): review what new customers experience in their first "
                "quarter.")},
    {"metric": "at_risk_spend_share", "op": ">", "threshold": 0.10, "unit": "percent",
     "priority": 3,
     "text": N_("Customers in the At risk and Cannot lose them segments hold {value} of "
                "spend to date: run a win-back contact for them, biggest spenders first.")},
    {"metric": "lapsed_customer_share", "op": ">", "threshold": 0.30, "unit": "percent",
     "priority": 1,
     "text": N_("{value} of buyers are Hibernating or Lost: a low-cost reactivation "
                "campaign can test which of them still respond.")},
    {"metric": "champion_spend_share", "op": ">", "threshold": 0.40, "unit": "percent",
     "priority": 2,
     "text": N_("Champions hold {value} of spend to date: the business depends on few "
                "customers, so give them named account care and watch their recency.")},
    {"metric": "repeat_customer_rate", "op": "<", "threshold": 0.30, "unit": "percent",
     "priority": 2,
     "text": N_("Only {value} of the period's buyers bought twice or more (below "
                "{threshold}): test a loyalty programme or replenishment reminders.")},
    {"metric": "new_purchase_rate", "op": "<", "threshold": 0.50, "unit": "percent",
     "priority": 2,
     "text": N_("Only {value} of the customers who signed up in the period bought in it: "
                "follow up new sign-ups until their first purchase.")},
    {"metric": "cac_to_clv", "op": ">", "threshold": CAC_TO_CLV_LIMIT, "unit": "percent",
     "priority": 3,
     "text": N_("Acquisition cost is {value} of historical CLV: shift acquisition budget to "
                "the channels whose customers are worth most per unit of cost.")},
    {"metric": "dormant_share", "op": ">", "threshold": 0.40, "unit": "percent",
     "priority": 1,
     "text": N_("The purchase model puts {value} of buyers below a 50% chance of still "
                "being active: prioritise retention spend on the customers it still rates "
                "alive.")},
]

# The customer_mix KPI's groups as a reader sees them (the frame keeps the English keys).
MIX_GROUPS = {"new": N_("new"), "returning": N_("returning"), "potential": N_("potential")}


def _sentences(*parts: str) -> str:
    """Sentences one after another: a space after an English full stop, none after a
    Chinese one (。)."""
    text = ""
    for part in parts:
        if part:
            text = part if not text else text + ("" if text.endswith("。") else " ") + part
    return text


def _segments_shown(frame: pd.DataFrame, column: str = "segment") -> pd.DataFrame:
    """``frame`` with its RFM segment names (English values) in the report's language."""
    return frame.assign(**{column: frame[column].map(lambda s: tr(s) if isinstance(s, str)
                                                     else s)})


def _groups_shown(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the customer mix's group keys as a reader names them."""
    return frame.assign(group=frame["group"].map(lambda g: tr(MIX_GROUPS.get(g, g))))


# -- breakdowns ----------------------------------------------------------------------------

def _by_values(report: Report) -> list:
    """The values of ``report.by`` with the most customers (customers column, else orders)."""
    groups = report.kpi("group_sizes", by=report.by, top=MAX_GROUPS)
    return [] if isinstance(groups, NotAvailable) else groups[report.by].tolist()


def _filters_for(filters: Filters, column: str, value) -> Filters:
    """``filters`` narrowed to ``column == value``."""
    if column in DIMENSIONS:
        return replace(filters, **{column: value})
    return replace(filters, attributes={**filters.attributes, column: value})


def _label(column: str) -> str:
    """A column name for a title or sentence: acquisition_channel -> acquisition channel
    (in English as it always read; in another language the reader's name of the column)."""
    if i18n.current().language == i18n.SOURCE_LANGUAGE:
        return str(column).replace("_", " ")
    return column_label(column)


def _largest(frame: pd.DataFrame, size: str) -> pd.DataFrame:
    """The :data:`MAX_GROUPS` rows with the largest ``size``, in their original order."""
    if len(frame) <= MAX_GROUPS:
        return frame
    return frame.loc[frame[size].nlargest(MAX_GROUPS).index].sort_index()


# -- sections ------------------------------------------------------------------------------

def summary(report: Report) -> list:
    """The main findings in sentences: customer counts, repeat buying, loyalty, the RFM
    segment with the most spend, month-3 retention, CLV / CAC / CV and predicted CLV
    (orders); new and repeat accounts, where bookings come from, accounts with open deals
    and no win (a pipeline)."""
    items = _retail_findings(report) if report.has_rows("orders") else []
    if report.has_rows("opportunities"):
        items += accounts.findings(report)
    return [Text(narrative.findings(items))]


def _retail_findings(report: Report) -> list:
    items = []
    mix = report.kpi("customer_mix")
    if not isinstance(mix, NotAvailable):
        items.append((5, _mix_sentence(mix)))
    items.append((4, narrative.rate_sentence(
        tr("Repeat-customer rate (buyers with 2+ completed orders in the period)"),
        report.kpi("repeat_customer_rate"), noun=tr("buyers"))))
    items.append((3, narrative.kpi_sentence(
        tr("Loyalty CL (completed orders per buying customer per month)"),
        report.kpi("loyalty"), noun=tr("buyers"))))
    segments = report.kpi("rfm_segment_shares")
    if not isinstance(segments, NotAvailable):
        items.append((3, _top_segment_sentence(segments)))
    month3 = report.kpi("cohort_month_retention", month=3)
    if not isinstance(month3, NotAvailable):
        shown = len(report.kpi("cohort_retention"))
        items.append((3, narrative.rate_sentence(
            tr("Month-3 retention of the last {n} acquisition cohorts").format(n=shown),
            month3, noun=tr("customers"))))
    items.append((3, _value_sentence(report)))
    predicted = report.kpi("predicted_clv")
    if not isinstance(predicted, NotAvailable):
        items.append((2, _predicted_sentence(predicted)))
    return items


def _mix_sentence(mix: pd.DataFrame) -> str:
    rows = mix.set_index("group")
    new, returning = rows.loc["new"], rows.loc["returning"]
    text = format_markdown(
        tr("{total} customers were in the customer base for the period: {new} new and "
           "{returning} returning; {rate} of the returning customers bought in it."),
        total=format_value(new["customers"] + returning["customers"], "count"),
        new=format_value(new["customers"], "count"),
        returning=format_value(returning["customers"], "count"),
        rate=format_value(returning["purchase_rate"], "percent"))
    if "potential" in rows.index:
        text = _sentences(text, format_markdown(
            tr("{n} open leads were potential customers."),
            n=format_value(rows.loc["potential", "customers"], "count")))
    return text


# One clause per customer_mix group: (none in it, how many bought or were won), Markdown
# (the escaped parentheses are the text the report has always had).
MIX_CLAUSES = {
    "new": (N_("there were no new customers"), N_("of the {n} new customers {rate} bought")),
    "returning": (N_("there were no returning customers"),
                  N_("of the {n} returning customers {rate} bought")),
    "potential": (N_("there were no potential customers \\(open leads\\)"),
                  N_("of the {n} potential customers \\(open leads\\) {rate} were won")),
}


def _mix_groups_sentence(mix: pd.DataFrame) -> str:
    """One clause per group: "of the 159 new customers 93.1% bought; ..."."""
    parts = []
    for _, row in mix.iterrows():
        if row["group"] not in MIX_CLAUSES:  # a group the KPI does not give today
            continue
        none, some = MIX_CLAUSES[row["group"]]
        if row["customers"] == 0:
            parts.append(tr(none))
            continue
        parts.append(format_markdown(tr(some), n=format_value(row["customers"], "count"),
                                     rate=format_value(row["purchase_rate"], "percent")))
    return tr("In the period, {clauses}.").format(clauses=series(parts, semicolons=True)) \
        if parts else ""


def _top_segment_sentence(segments: pd.DataFrame) -> str:
    top = segments.sort_values("spend", ascending=False, kind="stable").iloc[0]
    return format_markdown(
        tr("By RFM segment at the period end, {segment} hold the most spend to date: {spend} "
           "from {n} customers ({share} of buyers)."), segment=tr(top["segment"]),
        spend=format_value(top["spend_share"], "percent"), n=format_value(top["customers"],
                                                                         "count"),
        share=format_value(top["customer_share"], "percent"))


def _value_sentence(report: Report) -> str:
    value = report.kpi("customer_value")
    if isinstance(value, NotAvailable):
        return narrative.kpi_sentence(tr("Average historical CLV"), report.kpi("average_clv"),
                                      noun=tr("customers"))
    row = value.iloc[0]
    if pd.isna(row["cv"]):
        return format_markdown(
            tr("Historical CLV was {clv} per customer ({n} customers signed up by the period "
               "end); CV = CLV − CAC needs acquisition costs, which this data lacks."),
            clv=format_value(row["clv"], "currency"), n=format_value(row["customers"], "count"))
    return format_markdown(
        tr("Customer value CV = CLV − CAC was {cv} per customer: historical CLV {clv} less "
           "acquisition cost {cac} ({n} customers signed up by the period end)."),
        cv=format_value(row["cv"], "currency"), clv=format_value(row["clv"], "currency"),
        cac=format_value(row["cac"], "currency"), n=format_value(row["customers"], "count"))


def _predicted_sentence(predicted: pd.DataFrame) -> str:
    """One sentence on the predicted_clv KPI (its ``attrs``)."""
    fit = predicted.attrs
    return format_markdown(
        tr("BG/NBD + Gamma-Gamma predict {mean} per buyer over the next {h} months, {total} "
           "in all (fitted on {n} customers)."),
        mean=format_value(fit["mean"], "currency"), h=fit["horizon_months"],
        total=format_value(fit["total"], "currency"),
        n=format_value(fit["customers"], "count"))


def customer_mix(report: Report) -> list:
    """New, returning and potential customers: how many, how many were active, how many
    bought, with the KPI's definitions."""
    mix = report.kpi("customer_mix")
    if isinstance(mix, NotAvailable):
        return not_available(report, tr("The customer mix"), mix)
    shown = _groups_shown(mix)
    fig = charts.Chart(tuple(
        charts.panel("rate_bars", _mix_rates(shown, name), x="group", xlabel="",
                     title=title)
        for name, title in (("activity", tr("Activity rate by customer group (95% CI)")),
                            ("purchase", tr("Purchase rate by customer group (95% CI)")))),
        size=(FIG_WIDTH, 4))
    out = [fig, Text(_mix_groups_sentence(mix)),
           Table(shown[["group", "customers", "active", "activity_rate", "purchasers",
                        "purchase_rate", "purchase_ci_low", "purchase_ci_high"]],
                 {"customers": "count", "active": "count", "activity_rate": "percent",
                  "purchasers": "count", "purchase_rate": "percent",
                  "purchase_ci_low": "percent", "purchase_ci_high": "percent"},
                 caption=tr("Customers per group, active and buying in the period")),
           Text(_definitions("customer_mix"))]
    if report.by:
        out += _mix_by(report)
    return out


def _mix_rates(mix: pd.DataFrame, name: str) -> pd.DataFrame:
    """A rate frame (group + numerator ... too_few) of the mix's activity or purchase rate."""
    numerator = "active" if name == "activity" else "purchasers"
    return pd.DataFrame({"group": mix["group"], "numerator": mix[numerator],
                         "denominator": mix["customers"], "value": mix[f"{name}_rate"],
                         "ci_low": mix[f"{name}_ci_low"], "ci_high": mix[f"{name}_ci_high"],
                         "too_few": mix["too_few"]})


def _definitions(kpi: str) -> str:
    """The KPI's formula as a bulleted list, one clause per line."""
    table = metric_definitions().set_index("name")
    formula = tr(table.loc[kpi, "formula"]).replace("；", ";")
    clauses = [c.strip() for c in formula.split(";") if c.strip()]
    return tr("**Definitions:**") + "\n\n" + "\n".join(f"- {escape_markdown(c)}"
                                                       for c in clauses)


def _mix_by(report: Report) -> list:
    rows = []
    for value in _by_values(report):
        mix = report.kpi("customer_mix", _filters_for(report.filters, report.by, value))
        if isinstance(mix, NotAvailable):
            continue
        for _, row in mix[mix["group"] != "potential"].iterrows():
            rows.append({report.by: value, "group": tr(MIX_GROUPS.get(row["group"],
                                                                      row["group"])),
                         "customers": row["customers"], "activity_rate": row["activity_rate"],
                         "purchase_rate": row["purchase_rate"], "too_few": row["too_few"]})
    if not rows:
        return [Text(format_markdown(tr("*The customer mix cannot be broken down by {by}.*"),
                                     by=_label(report.by)))]
    return [Table(pd.DataFrame(rows), {"customers": "count", "activity_rate": "percent",
                                       "purchase_rate": "percent"},
                  caption=tr("New and returning customers by {by} (largest {n} groups)")
                  .format(by=_label(report.by), n=MAX_GROUPS))]


def rfm_segments(report: Report) -> list:
    """RFM segments at the period end: customers and spend to date per segment."""
    segments = report.kpi("rfm_segment_shares")
    if isinstance(segments, NotAvailable):
        return [Text(format_markdown(tr("*RFM segments are not available: {why}.*"),
                                     why=reason_text(segments.reason)))]
    shown = _segments_shown(segments)
    fig = charts.Chart((
        charts.panel("bar", shown, x="customers", y="segment", share="customer_share",
                     unit="count", sort=False, title=tr("Customers per RFM segment")),
        charts.panel("bar", shown, x="spend", y="segment", share="spend_share",
                     sort=False, color=charts.PALETTE[2],
                     title=tr("Spend to date per RFM segment"))),
        size=(FIG_WIDTH, 0.42 * len(segments) + 1.6))
    out = [fig, Text(_top_segment_sentence(segments))]
    at_risk = segments[segments["segment"].isin(AT_RISK_SEGMENTS)]
    if len(at_risk):
        out.append(Text(format_markdown(
            tr("At risk and Cannot lose them (good customers who have not bought lately): "
               "{n} customers holding {share} of spend to date."),
            n=format_value(at_risk["customers"].sum(), "count"),
            share=format_value(at_risk["spend_share"].sum(), "percent"))))
    out.append(Table(shown, {"customers": "count", "customer_share": "percent",
                             "days_since_last_order": "{:,.0f}", "orders": "{:.1f}",
                             "spend": "currency", "spend_share": "percent"},
                     caption=tr("Recency R and frequency F are scored 1-5 by quintile over "
                                "the customers with a completed order up to the period end; "
                                "the segment follows from the R x F grid. Spend: completed "
                                "orders to date.")))
    if report.by:
        out += _segments_by(report)
    return out


def _segments_by(report: Report) -> list:
    by = report.by
    table = report.kpi("rfm_segments_by_group", by=by, top=MAX_GROUPS)
    if isinstance(table, NotAvailable):
        return [Text(format_markdown(tr("*RFM segments cannot be broken down by {by}: "
                                        "{why}.*"), by=_label(by),
                                     why=reason_text(table.reason)))]
    return [Table(_segments_shown(table, "rfm_segment"),
                  {c: "percent" for c in table.columns if c != "rfm_segment"},
                  caption=tr("Share of each {by}'s buyers per RFM segment").format(
                      by=_label(by)))]


def behaviour_clusters(report: Report) -> list:
    """K-means clusters of customers on recency, frequency, spend, tenure and returns: how
    k was chosen (silhouette) and what each cluster looks like."""
    profile = report.kpi("behaviour_clusters")
    if isinstance(profile, NotAvailable):
        return [Text(format_markdown(tr("*Behaviour clusters are not available ({why}).*"),
                                     why=reason_text(profile.reason)))]
    fit = profile.attrs
    fig = charts.Chart((
        charts.panel("silhouette", fit["silhouette"], title=tr("Choice of k (silhouette)")),
        charts.panel("cluster_profile", profile, features=fit["features"],
                     title=tr("Cluster means (colour: high / low against other clusters)"))),
        size=(FIG_WIDTH, 0.55 * fit["k"] + 3.2), widths=(1, 2.4))
    intro = format_markdown(
        tr("k-means on {n} customers chose {k} clusters, the k with the highest silhouette "
           "({score}: a {band} separation). Read against the other clusters:"),
        n=format_value(fit["customers"], "count"), k=fit["k"],
        score=i18n.number(fit["silhouette_score"], 2), band=tr(fit["separation"]))
    lines = [format_markdown(tr("- **Cluster {c}** ({n} customers, {share}): {words}."),
                             c=cluster, n=format_value(row["n_customers"], "count"),
                             share=format_value(row["share"], "percent"),
                             words=series(tr(w) for w in words) or tr(CLOSE_TO_AVERAGE))
             for (cluster, row), words in zip(profile.iterrows(), fit["description_words"])]
    logged = series(_label(f) for f in fit["log_features"]) or tr("none")
    return [fig, Text(intro + "\n\n" + "\n".join(lines)),
            Table(profile.reset_index(),
                  {"n_customers": "count", "share": "percent",
                   "days_since_last_order": "{:,.0f}", "orders": "{:.1f}",
                   "spend": "currency", "days_since_first_order": "{:,.0f}",
                   "returns_share": "percent"},
                  caption=tr("Mean of each feature per cluster (orders and spend: completed "
                             "orders up to the period end). Log-scaled before clustering: "
                             "{logged}.").format(logged=logged))]


def cohort_retention(report: Report) -> list:
    """Monthly acquisition cohorts: the share that buys again in each following month."""
    retention = report.kpi("cohort_retention")
    if isinstance(retention, NotAvailable):
        return [Text(format_markdown(tr("*Cohort retention is not available: {why}.*"),
                                     why=reason_text(retention.reason)))]
    n_rows = len(retention)
    fig = charts.chart("heatmap_cohorts", retention,
                       cohort_size=retention.attrs["cohort_size"],
                       xlabel=tr("Months since first order"),
                       title=tr("Share of each acquisition cohort buying in each month after "
                                "its first order"), size=(FIG_WIDTH, 0.42 * n_rows + 1.6))
    out = [fig]
    for month in RETENTION_MONTHS:
        rate = report.kpi("cohort_month_retention", month=month)
        if not isinstance(rate, NotAvailable):
            out.append(Text(narrative.rate_sentence(
                tr("Month-{month} retention of the cohorts shown").format(month=month), rate,
                noun=tr("customers"))))
    out.append(Text(format_markdown(
        tr("A cohort is the calendar month of a customer's first completed order (within the "
           "filters); month 1 is the calendar month after it. Rates pool the cohorts for "
           "which that month is observed; the last cohorts are young, so their later cells "
           "are blank. {n} most recent cohorts shown."), n=n_rows)))
    return out


def loyalty(report: Report) -> list:
    """Purchase frequency: loyalty CL, repeat-purchase and repeat-customer rates, and how
    many orders each buyer placed in the period."""
    out = []
    frequency = report.kpi("orders_per_buyer")
    if not isinstance(frequency, NotAvailable):
        most, cap = frequency["orders"].max(), frequency.attrs["max_orders"]
        out.append(charts.chart(
            "distribution", frequency, x="orders", y="value", unit="percent",
            names={most: f"{cap}+"} if most >= cap else None,
            ylabel=tr("Share of buying customers"),  # distribution's default: responses
            title=tr("Completed orders per buying customer in the period"),
            size=(FIG_WIDTH, 3.8)))
    out.append(Text(narrative.findings([
        (3, narrative.kpi_sentence(tr("Loyalty CL (completed orders per buying customer per "
                                      "month)"), report.kpi("loyalty"), noun=tr("buyers"))),
        (2, narrative.rate_sentence(tr("Repeat-purchase rate (orders by customers who had "
                                       "bought before)"), report.kpi("repeat_purchase_rate"),
                                    noun=tr("orders"))),
        (2, narrative.rate_sentence(tr("Repeat-customer rate (buyers with 2+ orders in the "
                                       "period)"), report.kpi("repeat_customer_rate"),
                                    noun=tr("buyers"))),
    ])))
    if report.by:
        out += _loyalty_by(report)
    return out


def _loyalty_by(report: Report) -> list:
    by = report.by
    repeat = report.kpi("repeat_customer_rate", by=by)
    cl = report.kpi("loyalty", by=by)
    if isinstance(repeat, NotAvailable):
        return not_available(report, tr("Repeat buying by {by}").format(by=_label(by)), repeat)
    repeat = _largest(repeat.dropna(subset=[by]), "denominator")
    fig = charts.chart("rate_bars", repeat, x=by, reference=report.kpi("repeat_customer_rate"),
                       width=0.6, title=tr("Repeat-customer rate by {by} (95% CI)").format(
                           by=_label(by)),
                       size=(FIG_WIDTH, 4))
    table = repeat[[by, "numerator", "denominator", "value"]].rename(
        columns={"numerator": "repeat_buyers", "denominator": "buyers",
                 "value": "repeat_customer_rate"})
    if not isinstance(cl, NotAvailable):
        table = table.merge(cl[[by, "value"]].rename(columns={"value": "loyalty_cl"}),
                            on=by, how="left")
    return [fig, Table(table, {"repeat_buyers": "count", "buyers": "count",
                               "repeat_customer_rate": "percent", "loyalty_cl": "{:.2f}"},
                       caption=tr("Repeat buying by {by}; loyalty CL in orders per buyer "
                                  "per month").format(by=_label(by)))]


def customer_value(report: Report) -> list:
    """Historical CLV, CAC and CV = CLV − CAC by segment and acquisition channel, and the
    predicted 12-month CLV from BG/NBD + Gamma-Gamma with its fitted parameters."""
    out = [Text(narrative.findings([
        (3, _value_sentence(report)),
        (2, narrative.kpi_sentence(tr("Average historical CLV (net revenue to date per "
                                      "customer)"), report.kpi("average_clv"),
                                   noun=tr("customers"))),
        (2, narrative.kpi_sentence(tr("CAC of the customers acquired in the period"),
                                   report.kpi("cac"), noun=tr("new customers"))),
    ]))]
    dims = ["segment", "acquisition_channel"]
    out += _value_by_note(report, dims)
    present, missing = {}, []
    for dim in dims:
        frame = report.kpi("customer_value", by=dim)
        if isinstance(frame, NotAvailable):
            missing += not_available(report, tr("Customer value by {dim}").format(
                dim=_label(dim)), frame)
        elif frame[dim].isna().all():
            missing.append(Text(format_markdown(tr("*Customer value by {dim} is not "
                                                   "available: no customer has one "
                                                   "recorded.*"), dim=_label(dim))))
        else:
            present[dim] = _largest(frame.dropna(subset=[dim]), "customers")
    if present:
        panels = []
        for dim, frame in present.items():
            # Without acquisition costs CV is missing: show the CLV it would start from.
            x, title = ("cv", tr("CV = CLV − CAC by {dim}")) if frame["cv"].notna().any() \
                else ("clv", tr("Historical CLV by {dim}"))
            panels.append(charts.panel("bar", frame, x=x, y=dim, xlabel=tr("Per customer"),
                                       title=title.format(dim=_label(dim))))
        rows = -(-len(present) // 2)  # two charts a row
        out.append(charts.Chart(tuple(panels), size=(FIG_WIDTH, 4.2 * rows), columns=2))
        for dim, frame in present.items():
            frame = frame.assign(cac_to_clv=frame["cac"] / frame["clv"].where(frame["clv"] > 0))
            out.append(Table(frame, {"customers": "count", "clv": "currency",
                                     "cac": "currency", "cv": "currency",
                                     "cac_to_clv": "percent"},
                             caption=tr("Per customer, by {dim}: historical CLV, mean "
                                        "acquisition cost, CV, CAC as a share of CLV").format(
                                            dim=_label(dim))))
    out += missing
    return out + _predicted_outputs(report)


def _value_by_note(report: Report, dims: list[str]) -> list:
    """Adds ``report.by`` to ``dims`` when it is a customers column (CLV, CAC and CV are
    per customer); otherwise one line saying why it is not broken down."""
    by = report.by
    if not by or by in dims:
        return []
    if report.has("customers") and by in report.wh.table("customers").columns:
        dims.append(by)
        return []
    return [Text(format_markdown(tr("*Customer value is per customer, so it breaks down by "
                                    "customers columns only; {by} is not one.*"),
                                 by=_label(by)))]


def _predicted_outputs(report: Report) -> list:
    by_segment = report.kpi("predicted_clv")
    if isinstance(by_segment, NotAvailable):
        return [Text(format_markdown(tr("*Predicted CLV is not available ({why}).*"),
                                     why=reason_text(by_segment.reason)))]
    fit = by_segment.attrs
    horizon = fit["horizon_months"]
    shown = _segments_shown(by_segment)
    fig = charts.chart("bar", shown, x="predicted_total", y="segment", share="share",
                       xlabel=tr("Predicted value, next {h} months").format(h=horizon),
                       title=tr("Predicted {h}-month value per RFM segment").format(h=horizon),
                       size=(FIG_WIDTH, 0.42 * len(by_segment) + 1.6))
    bg, gg = fit["bgnbd"], fit["gamma_gamma"]
    params = pd.DataFrame([
        {"model": tr("BG/NBD (purchases)"), "parameters": "r, α, a, b",
         "estimate": ", ".join(f"{bg[k]:.3f}" for k in ("r", "alpha", "a", "b")),
         "customers_fitted": bg["n_customers"], "log_likelihood": bg["log_likelihood"]},
        {"model": tr("Gamma-Gamma (spend)"), "parameters": "p, q, γ",
         "estimate": ", ".join(f"{gg[k]:.3f}" for k in ("p", "q", "gamma")),
         "customers_fitted": gg["n_customers"], "log_likelihood": gg["log_likelihood"]},
    ])
    corr = fit["spend_frequency_corr"]
    # The last sentence, whole, for each verdict on the spend-frequency correlation.
    if np.isnan(corr):
        verdict = tr("Gamma-Gamma assumes spend does not depend on purchase frequency: their "
                     "correlation here is {corr}.")
    elif abs(corr) < CORRELATION_CAUTION:
        verdict = tr("Gamma-Gamma assumes spend does not depend on purchase frequency: their "
                     "correlation here is {corr}, small enough.")
    else:
        verdict = tr("Gamma-Gamma assumes spend does not depend on purchase frequency: their "
                     "correlation here is {corr}, so treat the predicted spend as rough.")
    caution = format_markdown(
        _sentences(tr("Purchase rates follow Gamma(r, α) per week and the chance of dropping "
                      "out after each purchase Beta(a, b); spend per order has population "
                      "mean p·γ / (q − 1) = {mean}. BG/NBD is fitted on every customer with a "
                      "completed order up to the period end, Gamma-Gamma on the {repeat} "
                      "repeat buyers."), verdict),
        mean=format_value(gg["p"] * gg["gamma"] / (gg["q"] - 1), "currency")
        if gg["q"] > 1 else i18n.missing(),
        repeat=format_value(gg["n_customers"], "count"),
        corr=i18n.missing() if np.isnan(corr) else i18n.number(corr, 2))
    text = format_markdown(
        tr("Predicted CLV: expected orders in the next {h} months (BG/NBD) × expected spend "
           "per order (Gamma-Gamma), discounted {d} a month. {dormant} of buyers have less "
           "than a {alive} chance of still being active."), h=horizon,
        d=format_value(fit["monthly_discount"], "percent"),
        dormant=format_value(fit["dormant_share"], "percent"),
        alive=format_value(fit["alive_threshold"], "percent"))
    if fit["churned"]:
        text = _sentences(text, format_markdown(
            tr("{n} customers whose contract ended by the period end are predicted at 0."),
            n=format_value(fit["churned"], "count")))
    return [fig, Text(_sentences(_predicted_sentence(by_segment), text)),
            Table(shown, {"customers": "count", "spend_to_date": "currency",
                          "p_alive": "percent", "expected_orders": "{:.2f}",
                          "predicted_clv": "currency", "predicted_total": "currency",
                          "share": "percent"},
                  caption=tr("Per RFM segment: mean spend to date, mean P(alive), expected "
                             "orders and predicted CLV over {h} months").format(h=horizon)),
            Table(params, {"customers_fitted": "count", "log_likelihood": "{:,.1f}"},
                  caption=tr("Fitted model parameters (maximum likelihood)")),
            Text(caution)]


def conclusions(report: Report) -> list:
    """Recommendations from the numbers: crmkit.narrative's rules and :data:`BEHAVIOUR_RULES`
    (orders), :data:`crmkit.sections.accounts.ACCOUNT_RULES` (a pipeline)."""
    items = _retail_recommendations(report) if report.has_rows("orders") else []
    if report.has_rows("opportunities"):
        items += accounts.recommendations(report)
    if not items:
        return [Text(narrative.recommendations({}))]
    return [Text(narrative.findings(items))]


def _retail_recommendations(report: Report) -> list[tuple[int, str]]:
    items = narrative.recommendation_items(
        {"repeat_purchase_rate": report.kpi("repeat_purchase_rate")})
    items += narrative.recommendation_items(_rule_values(report),
                                            rules=BEHAVIOUR_RULES)
    return items + _channel_items(report)


def _rule_values(report: Report) -> dict:
    """The values :data:`BEHAVIOUR_RULES` check; a share resting on fewer than
    MIN_DENOMINATOR customers is left out (no advice on a number too small to trust)."""
    values = {"repeat_customer_rate": report.kpi("repeat_customer_rate")}
    for month in RETENTION_MONTHS:
        rate = report.kpi("cohort_month_retention", month=month)
        values[f"month{month}_retention"] = None if isinstance(rate, NotAvailable) else rate
    mix = report.kpi("customer_mix")
    if not isinstance(mix, NotAvailable):
        new = mix.set_index("group").loc["new"]
        values["new_purchase_rate"] = Rate.from_counts(new["purchasers"], new["customers"])
    segments = report.kpi("rfm_segment_shares")
    if not isinstance(segments, NotAvailable) and segments["customers"].sum() >= MIN_DENOMINATOR:
        segments = segments.set_index("segment")
        values["at_risk_spend_share"] = segments["spend_share"].reindex(
            list(AT_RISK_SEGMENTS)).sum()
        values["lapsed_customer_share"] = segments["customer_share"].reindex(
            list(LAPSED_SEGMENTS)).sum()
        values["champion_spend_share"] = segments["spend_share"].get("Champions", 0.0)
    value = report.kpi("customer_value")
    if not isinstance(value, NotAvailable) and value.iloc[0]["clv"] > 0:
        values["cac_to_clv"] = value.iloc[0]["cac"] / value.iloc[0]["clv"]
    predicted = report.kpi("predicted_clv")
    if not isinstance(predicted, NotAvailable):
        values["dormant_share"] = predicted.attrs["dormant_share"]
    return {k: v for k, v in values.items() if v is not None}


def _channel_items(report: Report) -> list[tuple[int, str]]:
    """Acquisition channels whose CAC is above :data:`CAC_TO_CLV_LIMIT` of their CLV."""
    value = report.kpi("customer_value", by="acquisition_channel")
    if isinstance(value, NotAvailable):
        return []
    value = value.dropna(subset=["acquisition_channel", "cac"])
    value = value[value["customers"] >= MIN_DENOMINATOR]
    costly = value[value["cac"] > CAC_TO_CLV_LIMIT * value["clv"].clip(lower=0)]
    if costly.empty:
        return []
    names = series(
        format_markdown(tr("{name} ({share})"), name=name,
                        share=format_value(cost / clv if clv > 0 else np.nan, "percent"))
        for name, cost, clv in zip(costly["acquisition_channel"], costly["cac"], costly["clv"]))
    return [(2, tr("Acquisition through {names} costs more than {limit} of the historical "
                   "CLV its customers bring: renegotiate or cut spend there first.").format(
                       names=names, limit=format_value(CAC_TO_CLV_LIMIT, "percent")))]


# Sections of one shape of data (see crmkit.sections.base.Report.shaped): the retail
# analyses read orders, the account ones a pipeline's opportunities.
SHAPES = {
    "customer_mix": "orders", "rfm": "orders", "clusters": "orders", "cohorts": "orders",
    "loyalty": "orders", "customer_value": "orders",
    "accounts": "opportunities", "new_and_repeat_accounts": "opportunities",
    "account_attributes": "opportunities", "open_deal_accounts": "opportunities",
}

# The KPI cards: who buys and what they are worth; for a pipeline, the accounts' deals.
CARDS = ("new_customers", "repeat_customer_rate", "loyalty", "average_clv", "bookings",
         "win_rate", "average_deal_size")

SECTIONS = {
    "cards": cards_section(CARDS),
    "summary": summary,
    "customer_mix": customer_mix,
    "rfm": rfm_segments,
    "clusters": behaviour_clusters,
    "cohorts": cohort_retention,
    "loyalty": loyalty,
    "customer_value": customer_value,
    "accounts": accounts.top_accounts,
    "new_and_repeat_accounts": accounts.new_and_repeat,
    "account_attributes": accounts.account_attributes,
    "open_deal_accounts": accounts.open_accounts,
    "conclusions": conclusions,
    **COMMON_SECTIONS,
}

OUTLINE = [
    N_("# Customer behaviour\n\nWho buys and how often, which segments the customers fall "
       "into (RFM and behavioural clusters), how acquisition cohorts keep buying, and what "
       "customers are worth, historically and predicted; for a B2B pipeline, which accounts "
       "the bookings come from, new and repeat accounts, the win rate by account attribute "
       "and the accounts with open deals that have not won yet."),
    ("cards", N_("## Summary of findings")),
    ("summary", None),
    ("customer_mix", N_("## Customer mix: new, returning, potential")),
    ("rfm", N_("## RFM segments")),
    ("clusters", N_("## Behavioural clusters")),
    ("cohorts", N_("## Cohort retention")),
    ("loyalty", N_("## Loyalty and repeat buying")),
    ("customer_value", N_("## Customer value: CLV, CAC and CV")),
    ("accounts", N_("## Accounts by bookings")),
    ("new_and_repeat_accounts", N_("## New and repeat accounts")),
    ("account_attributes", N_("## Win rate and bookings by account attribute")),
    ("open_deal_accounts", N_("## Accounts with open deals and no win yet")),
    ("conclusions", N_("## Conclusions and recommendations")),
]
