"""Sections of the customer_behaviour report: who buys, how often, which segments (RFM,
clusters), how cohorts retain, and what customers are worth.

Two shapes of data feed it (see ``SHAPES``): retail orders (the sections of this module)
and a B2B pipeline, whose customers are accounts that win and lose deals (the sections of
:mod:`crmkit.sections.accounts`). A section of a shape the data does not have is left out;
the summary and the conclusions speak of whichever the data has.

The period KPIs (customer mix, loyalty, repeat buying, CLV, CAC, CV) come from
:mod:`crmkit.metrics`. The models (RFM, behaviour clusters, cohort retention, BG/NBD +
Gamma-Gamma) look back over the whole history up to the period end, not only the period:
they run on one pandas frame per filter set, :func:`customer_orders` (the filtered orders
with a customer, completed and returned, up to the period end), computed once through
``report.memo``. Thresholds and recommendation rules are module-level data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from crmkit import charts, models, narrative
from crmkit.metrics import MIN_DENOMINATOR, NotAvailable, Rate, apply_filters, metric_definitions
from crmkit.metrics.derived import DAYS_PER_MONTH, classified_orders, execute, ts
from crmkit.metrics.filters import DIMENSIONS, Filters
from crmkit.metrics.results import format_value
from crmkit.report.markup import escape_markdown, format_markdown
from crmkit.sections import accounts
from crmkit.sections.base import COMMON_SECTIONS, Report, Table, Text, not_available

TITLE = "Customer behaviour"
FIG_WIDTH = 12.0  # inches, every figure: the report scales them alike, so text is one size

DAY = pd.Timedelta(days=1)
MAX_GROUPS = 8  # values of the `by` breakdown shown (the largest)
MAX_ORDERS_BAR = 10  # orders per customer: this many or more share the last bar
COHORT_MONTHS = 12  # acquisition cohorts shown in the heatmap (the most recent)
RETENTION_MONTHS = (1, 3)  # months after acquisition quoted in words
MIN_MODEL_CUSTOMERS = MIN_DENOMINATOR  # fewer customers: no clusters, no CLV fit
HORIZON_MONTHS = 12  # predicted CLV horizon
MONTHLY_DISCOUNT = 0.01  # discount rate per month for predicted CLV
ALIVE_THRESHOLD = 0.5  # P(alive) below this: "probably no longer buying"
AT_RISK_SEGMENTS = ("At risk", "Cannot lose them")
LAPSED_SEGMENTS = ("Hibernating", "Lost")
CAC_TO_CLV_LIMIT = 1 / 3  # an acquisition channel above this CAC / CLV is named
CORRELATION_CAUTION = 0.3  # |spend-frequency correlation| above this: Gamma-Gamma is rough

# Per-customer behaviour features for the clusters, and how a cluster reads when its mean
# (in the scale the clustering used) lies half a standard deviation above / below the rest.
CLUSTER_FEATURES = {
    "days_since_last_order": ("lapsed", "recent buyers"),
    "orders": ("frequent", "infrequent"),
    "spend": ("high spend", "low spend"),
    "days_since_first_order": ("long-standing", "newer"),
    "returns_share": ("many returns", "few returns"),
}
DESCRIBE_Z = 0.5
# Silhouette score -> how clearly the customers separate (Kaufman & Rousseeuw's bands).
SILHOUETTE_BANDS = ((0.5, "clear"), (0.25, "moderate"), (-1.0, "weak"))

# Report-specific recommendations, in the rule format of crmkit.narrative: the values
# are computed in `conclusions`. Thresholds are defaults for a typical business.
BEHAVIOUR_RULES: list[dict] = [
    {"metric": "month1_retention", "op": "<", "threshold": 0.25, "unit": "percent",
     "priority": 3,
     "text": "Only {value} of newly acquired customers buy again in the month after their "
             "first order (below {threshold}): add an onboarding follow-up and a "
             "second-purchase offer in the first weeks."},
    {"metric": "month3_retention", "op": "<", "threshold": 0.20, "unit": "percent",
     "priority": 2,
     "text": "Three months after acquisition only {value} of a cohort still buys (below "
             "{threshold}): review what new customers experience in their first quarter."},
    {"metric": "at_risk_spend_share", "op": ">", "threshold": 0.10, "unit": "percent",
     "priority": 3,
     "text": "Customers in the At risk and Cannot lose them segments hold {value} of spend "
             "to date: run a win-back contact for them, biggest spenders first."},
    {"metric": "lapsed_customer_share", "op": ">", "threshold": 0.30, "unit": "percent",
     "priority": 1,
     "text": "{value} of buyers are Hibernating or Lost: a low-cost reactivation campaign "
             "can test which of them still respond."},
    {"metric": "champion_spend_share", "op": ">", "threshold": 0.40, "unit": "percent",
     "priority": 2,
     "text": "Champions hold {value} of spend to date: the business depends on few "
             "customers, so give them named account care and watch their recency."},
    {"metric": "repeat_customer_rate", "op": "<", "threshold": 0.30, "unit": "percent",
     "priority": 2,
     "text": "Only {value} of the period's buyers bought twice or more (below "
             "{threshold}): test a loyalty programme or replenishment reminders."},
    {"metric": "new_purchase_rate", "op": "<", "threshold": 0.50, "unit": "percent",
     "priority": 2,
     "text": "Only {value} of the customers who signed up in the period bought in it: "
             "follow up new sign-ups until their first purchase."},
    {"metric": "cac_to_clv", "op": ">", "threshold": CAC_TO_CLV_LIMIT, "unit": "percent",
     "priority": 3,
     "text": "Acquisition cost is {value} of historical CLV: shift acquisition budget to "
             "the channels whose customers are worth most per unit of cost."},
    {"metric": "dormant_share", "op": ">", "threshold": 0.40, "unit": "percent",
     "priority": 1,
     "text": "The purchase model puts {value} of buyers below a 50% chance of still being "
             "active: prioritise retention spend on the customers it still rates alive."},
]


# -- the data the models share -------------------------------------------------------------

def _period_end(report: Report) -> pd.Timestamp:
    """The last day of the period; an open-ended period ends at the last selected order."""
    if report.filters.end is not None:
        return report.filters.end
    t = apply_filters(report.wh, "orders", report.filters)
    return pd.Timestamp(execute(t.order_date.max())).normalize()


def customer_orders(report: Report) -> pd.DataFrame:
    """customer_id (text), order_id, order_date, amount, order_kind (completed / returned)
    of the filtered orders with a customer, from the first one up to the period end."""
    def compute():
        end = _period_end(report)
        t = classified_orders(report.wh, report.filters, period=False)
        t = t.filter(t.customer_id.notnull() & (t.order_kind != "cancelled")
                     & (t.order_date < ts(end + DAY)))
        frame = execute(t.select("order_id", "order_date", "amount", "order_kind",
                                 customer_id=t.customer_id.cast("string")))
        frame["order_date"] = pd.to_datetime(frame["order_date"])
        frame["amount"] = frame["amount"].astype(float)
        return frame
    return report.memo("customer_orders", compute)


def _completed(report: Report) -> pd.DataFrame:
    orders = customer_orders(report)
    return orders[orders["order_kind"] == "completed"]


def rfm(report: Report) -> pd.DataFrame | None:
    """Per customer (completed orders up to the period end): recency_days, frequency,
    monetary, R, F, M, segment; None without orders."""
    def compute():
        completed = _completed(report)
        if completed.empty:
            return None
        return models.rfm_segments(models.rfm_scores(completed,
                                                     observation_end=_period_end(report)))
    return report.memo("rfm", compute)


def segment_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """segment, customers, customer_share, days_since_last_order, orders, spend,
    spend_share: one row per non-empty RFM segment, in the grid's order."""
    g = scores.groupby("segment", observed=True, sort=True)
    out = pd.DataFrame({"customers": g.size(), "days_since_last_order": g["recency_days"].mean(),
                        "orders": g["frequency"].mean(), "spend": g["monetary"].sum()})
    out.insert(1, "customer_share", out["customers"] / out["customers"].sum())
    total = out["spend"].sum()
    out["spend_share"] = out["spend"] / total if total else np.nan
    out = out[out["customers"] > 0].reset_index()
    out["segment"] = out["segment"].astype(str)
    return out


def customer_features(report: Report) -> pd.DataFrame:
    """One row per customer with a completed order up to the period end: the columns of
    :data:`CLUSTER_FEATURES` (spend = completed orders' amounts; returns share = returned
    orders / completed and returned orders)."""
    orders = customer_orders(report)
    end = _period_end(report)
    completed = orders[orders["order_kind"] == "completed"]
    g = completed.groupby("customer_id")
    returned = orders[orders["order_kind"] == "returned"].groupby("customer_id").size()
    features = pd.DataFrame({
        "days_since_last_order": (end - g["order_date"].max().dt.normalize()).dt.days,
        "orders": g["order_id"].nunique(),
        "spend": g["amount"].sum(),
        "days_since_first_order": (end - g["order_date"].min().dt.normalize()).dt.days,
    })
    returns = returned.reindex(features.index, fill_value=0)
    features["returns_share"] = returns / (features["orders"] + returns)
    return features.astype(float)


def clusters(report: Report):
    """BehaviourClusters of :func:`customer_features`, or a reason string."""
    def compute():
        features = customer_features(report)
        if len(features) < MIN_MODEL_CUSTOMERS:
            return f"{len(features)} customers with orders, fewer than {MIN_MODEL_CUSTOMERS}"
        return models.behaviour_clusters(features)
    return report.memo("clusters", compute)


def cohorts(report: Report):
    """CohortRetention by acquisition month, cut to the last :data:`COHORT_MONTHS`
    cohorts and the months observed for them, or None without orders."""
    def compute():
        completed = _completed(report)
        if completed.empty:
            return None
        full = models.cohort_retention(completed, observation_end=_period_end(report))
        keep = full.retention.index[-COHORT_MONTHS:]
        cols = full.retention.columns[:COHORT_MONTHS]
        retention = full.retention.loc[keep, cols].dropna(axis=1, how="all")
        return replace(full, retention=retention,
                       active=full.active.loc[keep, retention.columns],
                       cohort_size=full.cohort_size.loc[keep])
    return report.memo("cohorts", compute)


def month_retention(cohort, month: int) -> Rate | None:
    """Customers of the shown cohorts active ``month`` months after acquisition / the
    cohorts' sizes, over the cohorts for which that month is observed."""
    if cohort is None or month not in cohort.active.columns:
        return None
    active = cohort.active[month]
    observed = active.notna()
    if not observed.any():
        return None
    return Rate.from_counts(int(active[observed].sum()),
                            int(cohort.cohort_size[observed].sum()))


@dataclass(frozen=True)
class PredictedValue:
    """BG/NBD + Gamma-Gamma fitted on the customers' history up to the period end."""

    bgnbd: dict
    gamma_gamma: dict
    customers: pd.DataFrame  # per customer: p_alive, expected_purchases, predicted_clv
    spend_frequency_corr: float  # Gamma-Gamma assumes ~0
    churned: int  # customers churned by the period end, predicted at 0


def predicted_value(report: Report) -> PredictedValue | str:
    """The fitted models and per-customer predictions, or the reason they cannot be fitted.

    Weekly time unit; CLV over :data:`HORIZON_MONTHS` months discounted at
    :data:`MONTHLY_DISCOUNT` a month. Customers whose contract ended (customers.churn_date)
    by the period end stay in the fit but are predicted at 0.
    """
    def compute():
        completed = _completed(report)
        end = _period_end(report)
        summary = models.rfm_summary(completed, observation_end=end) if len(completed) \
            else pd.DataFrame()
        if len(summary) < MIN_MODEL_CUSTOMERS:
            return f"{len(summary)} customers with orders, fewer than {MIN_MODEL_CUSTOMERS}"
        try:
            bg = models.fit_bgnbd(summary)
            gg = models.fit_gamma_gamma(summary)
            clv = models.customer_lifetime_value(bg, gg, summary, horizon_months=HORIZON_MONTHS,
                                                 discount_rate=MONTHLY_DISCOUNT)
        except (ValueError, RuntimeError) as why:  # too few repeat buyers, q <= 1, no fit
            return str(why)
        weeks = HORIZON_MONTHS * DAYS_PER_MONTH / 7
        frame = pd.DataFrame({
            "p_alive": models.probability_alive(bg, summary),
            "expected_purchases": models.expected_purchases(bg, weeks, summary),
            "predicted_clv": clv})
        gone = _churned_by(report, end).intersection(frame.index)
        frame.loc[gone, ["p_alive", "expected_purchases", "predicted_clv"]] = 0.0
        repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        corr = float(repeat["frequency"].corr(repeat["monetary_value"])) \
            if len(repeat) > 2 else float("nan")
        return PredictedValue(bg, gg, frame, corr, len(gone))
    return report.memo("predicted_value", compute)


def _churned_by(report: Report, end: pd.Timestamp) -> pd.Index:
    if not report.has("customers") or "churn_date" not in report.wh.table("customers").columns:
        return pd.Index([])
    c = apply_filters(report.wh, "customers", report.filters, period=False)
    c = c.filter(c.churn_date.notnull() & (c.churn_date.cast("timestamp") < ts(end + DAY)))
    return pd.Index(execute(c.select(customer_id=c.customer_id.cast("string")))["customer_id"])


# -- breakdowns ----------------------------------------------------------------------------

def _by_values(report: Report) -> list:
    """The values of ``report.by`` with the most customers (customers column, else orders)."""
    by = report.by
    table = next((t for t in ("customers", "orders")
                  if report.has(t) and by in report.wh.table(t).columns), None)
    if table is None:
        return []
    t = apply_filters(report.wh, table, report.filters, period=False)
    t = t.filter(t[by].notnull())
    counts = execute(t.group_by(by).agg(n=t.count()))
    counts = counts.sort_values(["n", by], ascending=[False, True], kind="stable")
    return counts[by].head(MAX_GROUPS).tolist()


def _filters_for(filters: Filters, column: str, value) -> Filters:
    """``filters`` narrowed to ``column == value``."""
    if column in DIMENSIONS:
        return replace(filters, **{column: value})
    return replace(filters, attributes={**filters.attributes, column: value})


def _label(column: str) -> str:
    """A column name for a title or sentence: acquisition_channel -> acquisition channel."""
    return str(column).replace("_", " ")


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
        "Repeat-customer rate (buyers with 2+ completed orders in the period)",
        report.kpi("repeat_customer_rate"), noun="buyers")))
    items.append((3, narrative.kpi_sentence(
        "Loyalty CL (completed orders per buying customer per month)", report.kpi("loyalty"),
        noun="buyers")))
    scores = rfm(report)
    if scores is not None:
        items.append((3, _top_segment_sentence(segment_summary(scores))))
    cohort = cohorts(report)
    month3 = month_retention(cohort, 3)
    if month3 is not None:
        items.append((3, narrative.rate_sentence(
            f"Month-3 retention of the last {len(cohort.retention)} acquisition cohorts",
            month3, noun="customers")))
    items.append((3, _value_sentence(report)))
    predicted = predicted_value(report)
    if isinstance(predicted, PredictedValue):
        items.append((2, _predicted_sentence(predicted)))
    return items


def _mix_sentence(mix: pd.DataFrame) -> str:
    rows = mix.set_index("group")
    new, returning = rows.loc["new"], rows.loc["returning"]
    text = format_markdown(
        "{total} customers were in the customer base for the period: {new} new and "
        "{returning} returning; {rate} of the returning customers bought in it.",
        total=format_value(new["customers"] + returning["customers"], "count"),
        new=format_value(new["customers"], "count"),
        returning=format_value(returning["customers"], "count"),
        rate=format_value(returning["purchase_rate"], "percent"))
    if "potential" in rows.index:
        text += " " + format_markdown("{n} open leads were potential customers.",
                                      n=format_value(rows.loc["potential", "customers"],
                                                     "count"))
    return text


def _mix_groups_sentence(mix: pd.DataFrame) -> str:
    """One clause per group: "of the 159 new customers 93.1% bought; ..."."""
    nouns = {"new": "new customers", "returning": "returning customers",
             "potential": "potential customers (open leads)"}
    verbs = {"potential": "were won"}
    parts = []
    for _, row in mix.iterrows():
        noun = nouns.get(row["group"], row["group"])
        if row["customers"] == 0:
            parts.append(format_markdown("there were no {noun}", noun=noun))
            continue
        parts.append(format_markdown("of the {n} {noun} {rate} {verb}",
                                     n=format_value(row["customers"], "count"), noun=noun,
                                     rate=format_value(row["purchase_rate"], "percent"),
                                     verb=verbs.get(row["group"], "bought")))
    return ("In the period, " + "; ".join(parts) + ".") if parts else ""


def _top_segment_sentence(segments: pd.DataFrame) -> str:
    top = segments.sort_values("spend", ascending=False, kind="stable").iloc[0]
    return format_markdown(
        "By RFM segment at the period end, {segment} hold the most spend to date: {spend} "
        "from {n} customers ({share} of buyers).", segment=top["segment"],
        spend=format_value(top["spend_share"], "percent"), n=format_value(top["customers"],
                                                                         "count"),
        share=format_value(top["customer_share"], "percent"))


def _value_sentence(report: Report) -> str:
    value = report.kpi("customer_value")
    if isinstance(value, NotAvailable):
        return narrative.kpi_sentence("Average historical CLV", report.kpi("average_clv"),
                                      noun="customers")
    row = value.iloc[0]
    if pd.isna(row["cv"]):
        return format_markdown(
            "Historical CLV was {clv} per customer ({n} customers signed up by the period "
            "end); CV = CLV − CAC needs acquisition costs, which this data lacks.",
            clv=format_value(row["clv"], "currency"), n=format_value(row["customers"], "count"))
    return format_markdown(
        "Customer value CV = CLV − CAC was {cv} per customer: historical CLV {clv} less "
        "acquisition cost {cac} ({n} customers signed up by the period end).",
        cv=format_value(row["cv"], "currency"), clv=format_value(row["clv"], "currency"),
        cac=format_value(row["cac"], "currency"), n=format_value(row["customers"], "count"))


def _predicted_sentence(predicted: PredictedValue) -> str:
    frame = predicted.customers
    return format_markdown(
        "BG/NBD + Gamma-Gamma predict {mean} per buyer over the next {h} months, {total} in "
        "all (fitted on {n} customers).",
        mean=format_value(frame["predicted_clv"].mean(), "currency"), h=HORIZON_MONTHS,
        total=format_value(frame["predicted_clv"].sum(), "currency"),
        n=format_value(predicted.bgnbd["n_customers"], "count"))


def customer_mix(report: Report) -> list:
    """New, returning and potential customers: how many, how many were active, how many
    bought, with the KPI's definitions."""
    mix = report.kpi("customer_mix")
    if isinstance(mix, NotAvailable):
        return not_available(report, "The customer mix", mix)
    fig = charts.Chart(tuple(
        charts.panel("rate_bars", _mix_rates(mix, name), x="group", xlabel="",
                     title=f"{label} by customer group (95% CI)")
        for name, label in (("activity", "Activity rate"), ("purchase", "Purchase rate"))),
        size=(FIG_WIDTH, 4))
    out = [fig, Text(_mix_groups_sentence(mix)),
           Table(mix[["group", "customers", "active", "activity_rate", "purchasers",
                      "purchase_rate", "purchase_ci_low", "purchase_ci_high"]],
                 {"customers": "count", "active": "count", "activity_rate": "percent",
                  "purchasers": "count", "purchase_rate": "percent",
                  "purchase_ci_low": "percent", "purchase_ci_high": "percent"},
                 caption="Customers per group, active and buying in the period"),
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
    clauses = [c.strip() for c in table.loc[kpi, "formula"].split(";") if c.strip()]
    return "**Definitions:**\n\n" + "\n".join(f"- {escape_markdown(c)}" for c in clauses)


def _mix_by(report: Report) -> list:
    rows = []
    for value in _by_values(report):
        mix = report.kpi("customer_mix", _filters_for(report.filters, report.by, value))
        if isinstance(mix, NotAvailable):
            continue
        for _, row in mix[mix["group"] != "potential"].iterrows():
            rows.append({report.by: value, "group": row["group"],
                         "customers": row["customers"], "activity_rate": row["activity_rate"],
                         "purchase_rate": row["purchase_rate"], "too_few": row["too_few"]})
    if not rows:
        return [Text(format_markdown("*The customer mix cannot be broken down by {by}.*",
                                     by=_label(report.by)))]
    return [Table(pd.DataFrame(rows), {"customers": "count", "activity_rate": "percent",
                                       "purchase_rate": "percent"},
                  caption=f"New and returning customers by {_label(report.by)} (largest "
                          f"{MAX_GROUPS} groups)")]


def rfm_segments(report: Report) -> list:
    """RFM segments at the period end: customers and spend to date per segment."""
    scores = rfm(report)
    if scores is None:
        return [Text("*RFM segments are not available: no completed orders with a customer "
                     "up to the period end.*")]
    segments = segment_summary(scores)
    fig = charts.Chart((
        charts.panel("bar", segments, x="customers", y="segment", share="customer_share",
                     unit="count", sort=False, title="Customers per RFM segment"),
        charts.panel("bar", segments, x="spend", y="segment", share="spend_share",
                     sort=False, color=charts.PALETTE[2],
                     title="Spend to date per RFM segment")),
        size=(FIG_WIDTH, 0.42 * len(segments) + 1.6))
    out = [fig, Text(_top_segment_sentence(segments))]
    at_risk = segments[segments["segment"].isin(AT_RISK_SEGMENTS)]
    if len(at_risk):
        out.append(Text(format_markdown(
            "At risk and Cannot lose them (good customers who have not bought lately): "
            "{n} customers holding {share} of spend to date.",
            n=format_value(at_risk["customers"].sum(), "count"),
            share=format_value(at_risk["spend_share"].sum(), "percent"))))
    out.append(Table(segments, {"customers": "count", "customer_share": "percent",
                                "days_since_last_order": "{:,.0f}", "orders": "{:.1f}",
                                "spend": "currency", "spend_share": "percent"},
                     caption="Recency R and frequency F are scored 1-5 by quintile over the "
                             "customers with a completed order up to the period end; the "
                             "segment follows from the R x F grid. Spend: completed orders "
                             "to date."))
    if report.by:
        out += _segments_by(report, scores)
    return out


def _customer_attribute(report: Report, column: str) -> pd.Series:
    """``column`` per customer (text index): the customers table's value, else the value
    on the customer's latest order up to the period end."""
    if report.has("customers") and column in report.wh.table("customers").columns:
        c = apply_filters(report.wh, "customers", report.filters, period=False)
        frame = execute(c.select(column, customer_id=c.customer_id.cast("string")))
        return frame.set_index("customer_id")[column]
    if column not in report.wh.table("orders").columns:
        return pd.Series(dtype=object)
    t = apply_filters(report.wh, "orders", report.filters, period=False)
    t = t.filter(t.customer_id.notnull() & (t.order_date < ts(_period_end(report) + DAY)))
    frame = execute(t.select("order_date", column, customer_id=t.customer_id.cast("string")))
    latest = frame.sort_values("order_date", kind="stable").groupby("customer_id").last()
    return latest[column]


def _segments_by(report: Report, scores: pd.DataFrame) -> list:
    by = report.by
    attribute = _customer_attribute(report, by)
    if attribute.empty:
        return [Text(format_markdown("*RFM segments cannot be broken down by {by}: no such "
                                     "column.*", by=_label(by)))]
    frame = scores[["segment"]].join(attribute.rename("group"))
    if frame["group"].isna().all():
        return [Text(format_markdown("*RFM segments cannot be broken down by {by}: no buyer "
                                     "has one recorded.*", by=_label(by)))]
    keep = frame["group"].value_counts().index[:MAX_GROUPS]
    frame = frame[frame["group"].isin(keep)]
    table = pd.crosstab(frame["segment"].astype(str).rename("rfm_segment"), frame["group"],
                        normalize="columns")
    table = table.reindex([s for s in models.RFM_SEGMENTS if s in table.index])
    table.columns = [str(c) for c in table.columns]
    return [Table(table.reset_index(), {c: "percent" for c in table.columns},
                  caption=f"Share of each {_label(by)}'s buyers per RFM segment")]


def behaviour_clusters(report: Report) -> list:
    """K-means clusters of customers on recency, frequency, spend, tenure and returns: how
    k was chosen (silhouette) and what each cluster looks like."""
    result = clusters(report)
    if isinstance(result, str):
        return [Text(format_markdown("*Behaviour clusters are not available ({why}).*",
                                     why=result))]
    fig = charts.Chart((
        charts.panel("silhouette", result.silhouette, title="Choice of k (silhouette)"),
        charts.panel("cluster_profile", result.profile, features=list(CLUSTER_FEATURES),
                     title="Cluster means (colour: high / low against other clusters)")),
        size=(FIG_WIDTH, 0.55 * result.k + 3.2), widths=(1, 2.4))
    score = result.silhouette.loc[result.k, "silhouette"]
    band = next(word for limit, word in SILHOUETTE_BANDS if score >= limit)
    intro = format_markdown(
        "k-means on {n} customers chose {k} clusters, the k with the highest silhouette "
        "({score}: a {band} separation). Read against the other clusters:",
        n=format_value(len(result.labels), "count"), k=result.k, score=f"{score:.2f}",
        band=band)
    lines = [format_markdown("- **Cluster {c}** ({n} customers, {share}): {words}.", c=cluster,
                             n=format_value(row["n_customers"], "count"),
                             share=format_value(row["share"], "percent"), words=words)
             for (cluster, row), words in zip(result.profile.iterrows(),
                                              _describe_clusters(report, result))]
    logged = ", ".join(_label(f) for f in result.log_features) or "none"
    return [fig, Text(intro + "\n\n" + "\n".join(lines)),
            Table(result.profile.reset_index(),
                  {"n_customers": "count", "share": "percent",
                   "days_since_last_order": "{:,.0f}", "orders": "{:.1f}",
                   "spend": "currency", "days_since_first_order": "{:,.0f}",
                   "returns_share": "percent"},
                  caption="Mean of each feature per cluster (orders and spend: completed "
                          "orders up to the period end). Log-scaled before clustering: "
                          f"{logged}.")]


def _describe_clusters(report: Report, result) -> list[str]:
    """Words per cluster from :data:`CLUSTER_FEATURES`: features whose cluster mean lies
    :data:`DESCRIBE_Z` standard deviations above or below all customers' mean, in the
    scale the clustering used (log1p for the skewed features)."""
    features = customer_features(report).loc[result.labels.index]
    for column in result.log_features:
        features[column] = np.log1p(features[column])
    spread = features.std(ddof=0).replace(0, np.nan)
    z = (features.groupby(result.labels).mean() - features.mean()) / spread
    words = []
    for cluster in result.profile.index:
        parts = [high if z.at[cluster, f] > DESCRIBE_Z else low
                 for f, (high, low) in CLUSTER_FEATURES.items()
                 if abs(z.at[cluster, f]) > DESCRIBE_Z]
        words.append(", ".join(parts) or "close to average")
    return words


def cohort_retention(report: Report) -> list:
    """Monthly acquisition cohorts: the share that buys again in each following month."""
    cohort = cohorts(report)
    if cohort is None:
        return [Text("*Cohort retention is not available: no completed orders with a "
                     "customer up to the period end.*")]
    n_rows, n_cols = cohort.retention.shape
    fig = charts.chart("heatmap_cohorts", cohort, xlabel="Months since first order",
                       title="Share of each acquisition cohort buying in each month after "
                             "its first order", size=(FIG_WIDTH, 0.42 * n_rows + 1.6))
    out = [fig]
    for month in RETENTION_MONTHS:
        rate = month_retention(cohort, month)
        if rate is not None:
            out.append(Text(narrative.rate_sentence(
                f"Month-{month} retention of the cohorts shown", rate, noun="customers")))
    out.append(Text(format_markdown(
        "A cohort is the calendar month of a customer's first completed order (within the "
        "filters); month 1 is the calendar month after it. Rates pool the cohorts for "
        "which that month is observed; the last cohorts are young, so their later cells "
        "are blank. {n} most recent cohorts shown.", n=len(cohort.retention))))
    return out


def loyalty(report: Report) -> list:
    """Purchase frequency: loyalty CL, repeat-purchase and repeat-customer rates, and how
    many orders each buyer placed in the period."""
    out = []
    frequency = _orders_per_customer(report)
    if frequency is not None:
        most = frequency["orders"].max()
        out.append(charts.chart(
            "distribution", frequency, x="orders", y="value", unit="percent",
            names={most: f"{MAX_ORDERS_BAR}+"} if most >= MAX_ORDERS_BAR else None,
            ylabel="Share of buying customers",  # distribution's default names responses
            title="Completed orders per buying customer in the period",
            size=(FIG_WIDTH, 3.8)))
    out.append(Text(narrative.findings([
        (3, narrative.kpi_sentence("Loyalty CL (completed orders per buying customer per "
                                   "month)", report.kpi("loyalty"), noun="buyers")),
        (2, narrative.rate_sentence("Repeat-purchase rate (orders by customers who had "
                                    "bought before)", report.kpi("repeat_purchase_rate"),
                                    noun="orders")),
        (2, narrative.rate_sentence("Repeat-customer rate (buyers with 2+ orders in the "
                                    "period)", report.kpi("repeat_customer_rate"),
                                    noun="buyers")),
    ])))
    if report.by:
        out += _loyalty_by(report)
    return out


def _orders_per_customer(report: Report) -> pd.DataFrame | None:
    """orders (capped at :data:`MAX_ORDERS_BAR`), numerator (buyers), value (share)."""
    t = classified_orders(report.wh, report.filters)
    t = t.filter((t.order_kind == "completed") & t.customer_id.notnull())
    per = t.group_by("customer_id").agg(orders=t.count())
    counts = execute(per.group_by("orders").agg(numerator=per.count()))
    if counts.empty:
        return None
    counts["orders"] = counts["orders"].clip(upper=MAX_ORDERS_BAR).astype(int)
    counts = counts.groupby("orders", as_index=False)["numerator"].sum()
    counts["value"] = counts["numerator"] / counts["numerator"].sum()
    return counts


def _loyalty_by(report: Report) -> list:
    by = report.by
    repeat = report.kpi("repeat_customer_rate", by=by)
    cl = report.kpi("loyalty", by=by)
    if isinstance(repeat, NotAvailable):
        return not_available(report, f"Repeat buying by {_label(by)}", repeat)
    repeat = _largest(repeat.dropna(subset=[by]), "denominator")
    fig = charts.chart("rate_bars", repeat, x=by, reference=report.kpi("repeat_customer_rate"),
                       width=0.6, title=f"Repeat-customer rate by {_label(by)} (95% CI)",
                       size=(FIG_WIDTH, 4))
    table = repeat[[by, "numerator", "denominator", "value"]].rename(
        columns={"numerator": "repeat_buyers", "denominator": "buyers",
                 "value": "repeat_customer_rate"})
    if not isinstance(cl, NotAvailable):
        table = table.merge(cl[[by, "value"]].rename(columns={"value": "loyalty_cl"}),
                            on=by, how="left")
    return [fig, Table(table, {"repeat_buyers": "count", "buyers": "count",
                               "repeat_customer_rate": "percent", "loyalty_cl": "{:.2f}"},
                       caption=f"Repeat buying by {_label(by)}; loyalty CL in orders per buyer "
                               "per month")]


def customer_value(report: Report) -> list:
    """Historical CLV, CAC and CV = CLV − CAC by segment and acquisition channel, and the
    predicted 12-month CLV from BG/NBD + Gamma-Gamma with its fitted parameters."""
    out = [Text(narrative.findings([
        (3, _value_sentence(report)),
        (2, narrative.kpi_sentence("Average historical CLV (net revenue to date per "
                                   "customer)", report.kpi("average_clv"), noun="customers")),
        (2, narrative.kpi_sentence("CAC of the customers acquired in the period",
                                   report.kpi("cac"), noun="new customers")),
    ]))]
    dims = ["segment", "acquisition_channel"]
    out += _value_by_note(report, dims)
    present, missing = {}, []
    for dim in dims:
        frame = report.kpi("customer_value", by=dim)
        if isinstance(frame, NotAvailable):
            missing += not_available(report, f"Customer value by {_label(dim)}", frame)
        elif frame[dim].isna().all():
            missing.append(Text(format_markdown("*Customer value by {dim} is not available: no "
                                                "customer has one recorded.*",
                                                dim=_label(dim))))
        else:
            present[dim] = _largest(frame.dropna(subset=[dim]), "customers")
    if present:
        panels = []
        for dim, frame in present.items():
            # Without acquisition costs CV is missing: show the CLV it would start from.
            x, name = ("cv", "CV = CLV − CAC") if frame["cv"].notna().any() \
                else ("clv", "Historical CLV")
            panels.append(charts.panel("bar", frame, x=x, y=dim, xlabel="Per customer",
                                       title=f"{name} by {_label(dim)}"))
        rows = -(-len(present) // 2)  # two charts a row
        out.append(charts.Chart(tuple(panels), size=(FIG_WIDTH, 4.2 * rows), columns=2))
        for dim, frame in present.items():
            frame = frame.assign(cac_to_clv=frame["cac"] / frame["clv"].where(frame["clv"] > 0))
            out.append(Table(frame, {"customers": "count", "clv": "currency",
                                     "cac": "currency", "cv": "currency",
                                     "cac_to_clv": "percent"},
                             caption=f"Per customer, by {_label(dim)}: historical "
                                     "CLV, mean acquisition cost, CV, CAC as a share of "
                                     "CLV"))
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
    return [Text(format_markdown("*Customer value is per customer, so it breaks down by "
                                 "customers columns only; {by} is not one.*",
                                 by=_label(by)))]


def _predicted_outputs(report: Report) -> list:
    predicted = predicted_value(report)
    if isinstance(predicted, str):
        return [Text(format_markdown("*Predicted CLV is not available ({why}).*",
                                     why=predicted))]
    scores = rfm(report)
    frame = predicted.customers.join(scores[["segment", "monetary"]])
    g = frame.groupby("segment", observed=True, sort=True)
    by_segment = pd.DataFrame({
        "customers": g.size(), "spend_to_date": g["monetary"].mean(),
        "p_alive": g["p_alive"].mean(), "expected_orders": g["expected_purchases"].mean(),
        "predicted_clv": g["predicted_clv"].mean(), "predicted_total": g["predicted_clv"].sum(),
    }).reset_index()
    by_segment["segment"] = by_segment["segment"].astype(str)
    by_segment["share"] = by_segment["predicted_total"] / by_segment["predicted_total"].sum()
    fig = charts.chart("bar", by_segment, x="predicted_total", y="segment", share="share",
                       xlabel=f"Predicted value, next {HORIZON_MONTHS} months",
                       title=f"Predicted {HORIZON_MONTHS}-month value per RFM segment",
                       size=(FIG_WIDTH, 0.42 * len(by_segment) + 1.6))
    bg, gg = predicted.bgnbd, predicted.gamma_gamma
    params = pd.DataFrame([
        {"model": "BG/NBD (purchases)", "parameters": "r, α, a, b",
         "estimate": ", ".join(f"{bg[k]:.3f}" for k in ("r", "alpha", "a", "b")),
         "customers_fitted": bg["n_customers"], "log_likelihood": bg["log_likelihood"]},
        {"model": "Gamma-Gamma (spend)", "parameters": "p, q, γ",
         "estimate": ", ".join(f"{gg[k]:.3f}" for k in ("p", "q", "gamma")),
         "customers_fitted": gg["n_customers"], "log_likelihood": gg["log_likelihood"]},
    ])
    corr = predicted.spend_frequency_corr
    caution = format_markdown(
        "Purchase rates follow Gamma(r, α) per week and the chance of dropping out after "
        "each purchase Beta(a, b); spend per order has population mean p·γ / (q − 1) = "
        "{mean}. BG/NBD is fitted on every customer with a completed order up to the "
        "period end, Gamma-Gamma on the {repeat} repeat buyers. Gamma-Gamma assumes spend "
        "does not depend on purchase frequency: their correlation here is {corr}{verdict}.",
        mean=format_value(gg["p"] * gg["gamma"] / (gg["q"] - 1), "currency")
        if gg["q"] > 1 else "n/a",
        repeat=format_value(gg["n_customers"], "count"),
        corr="n/a" if np.isnan(corr) else f"{corr:.2f}",
        verdict="" if np.isnan(corr) else (
            ", small enough" if abs(corr) < CORRELATION_CAUTION
            else ", so treat the predicted spend as rough"))
    dormant = (predicted.customers["p_alive"] < ALIVE_THRESHOLD).mean()
    text = format_markdown(
        "Predicted CLV: expected orders in the next {h} months (BG/NBD) × expected spend "
        "per order (Gamma-Gamma), discounted {d} a month. {dormant} of buyers have less "
        "than a {alive} chance of still being active.", h=HORIZON_MONTHS,
        d=format_value(MONTHLY_DISCOUNT, "percent"), dormant=format_value(dormant, "percent"),
        alive=format_value(ALIVE_THRESHOLD, "percent"))
    if predicted.churned:
        text += " " + format_markdown("{n} customers whose contract ended by the period end "
                                      "are predicted at 0.",
                                      n=format_value(predicted.churned, "count"))
    return [fig, Text(_predicted_sentence(predicted) + " " + text),
            Table(by_segment, {"customers": "count", "spend_to_date": "currency",
                               "p_alive": "percent", "expected_orders": "{:.2f}",
                               "predicted_clv": "currency", "predicted_total": "currency",
                               "share": "percent"},
                  caption=f"Per RFM segment: mean spend to date, mean P(alive), expected "
                          f"orders and predicted CLV over {HORIZON_MONTHS} months"),
            Table(params, {"customers_fitted": "count", "log_likelihood": "{:,.1f}"},
                  caption="Fitted model parameters (maximum likelihood)"),
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
    items += narrative.recommendation_items(_rule_values(report), rules=BEHAVIOUR_RULES)
    return items + _channel_items(report)


def _rule_values(report: Report) -> dict:
    """The values :data:`BEHAVIOUR_RULES` check; a share resting on fewer than
    MIN_DENOMINATOR customers is left out (no advice on a number too small to trust)."""
    values = {"repeat_customer_rate": report.kpi("repeat_customer_rate")}
    cohort = cohorts(report)
    for month in RETENTION_MONTHS:
        values[f"month{month}_retention"] = month_retention(cohort, month)
    mix = report.kpi("customer_mix")
    if not isinstance(mix, NotAvailable):
        new = mix.set_index("group").loc["new"]
        values["new_purchase_rate"] = Rate.from_counts(new["purchasers"], new["customers"])
    scores = rfm(report)
    if scores is not None and len(scores) >= MIN_DENOMINATOR:
        segments = segment_summary(scores).set_index("segment")
        values["at_risk_spend_share"] = segments["spend_share"].reindex(
            list(AT_RISK_SEGMENTS)).sum()
        values["lapsed_customer_share"] = segments["customer_share"].reindex(
            list(LAPSED_SEGMENTS)).sum()
        values["champion_spend_share"] = segments["spend_share"].get("Champions", 0.0)
    value = report.kpi("customer_value")
    if not isinstance(value, NotAvailable) and value.iloc[0]["clv"] > 0:
        values["cac_to_clv"] = value.iloc[0]["cac"] / value.iloc[0]["clv"]
    predicted = predicted_value(report)
    if isinstance(predicted, PredictedValue):
        values["dormant_share"] = (predicted.customers["p_alive"] < ALIVE_THRESHOLD).mean()
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
    names = ", ".join(
        format_markdown("{name} ({share})", name=name,
                        share=format_value(cost / clv if clv > 0 else np.nan, "percent"))
        for name, cost, clv in zip(costly["acquisition_channel"], costly["cac"], costly["clv"]))
    return [(2, f"Acquisition through {names} costs more than "
                f"{format_value(CAC_TO_CLV_LIMIT, 'percent')} of the historical CLV its "
                "customers bring: renegotiate or cut spend there first.")]


# Figures this report computes itself (not registered KPIs), for the appendix.
DEFINITIONS = [
    {"title": "RFM segment", "formula": "R, F, M = quintile scores 1-5 of days since last "
     "order, orders and spend up to the period end; segment from the R x F grid "
     "crmkit.models.RFM_SEGMENTS", "unit": "customers", "grain": "customer"},
    {"title": "Behavioural cluster", "formula": "k-means on standardised (log where skewed) "
     "per-customer features; k in 2..8 with the highest silhouette", "unit": "customers",
     "grain": "customer"},
    {"title": "Cohort retention (month n)", "formula": "customers of an acquisition month "
     "(first order) with an order n months later / customers of that month",
     "unit": "percent", "grain": "cohort x month"},
    {"title": "Predicted CLV", "formula": f"BG/NBD expected purchases x Gamma-Gamma expected "
     f"spend over {HORIZON_MONTHS} months, discounted {MONTHLY_DISCOUNT:.0%} a month; fitted on "
     "the customers' orders up to the period end", "unit": "currency", "grain": "customer"},
    {"title": "Orders per buyer", "formula": "completed orders in the period per customer "
     f"who bought ({MAX_ORDERS_BAR}+ shown together)", "unit": "customers",
     "grain": "period"},
]


# Sections of one shape of data (see crmkit.sections.base.Report.shaped): the retail
# analyses read orders, the account ones a pipeline's opportunities.
SHAPES = {
    "customer_mix": "orders", "rfm": "orders", "clusters": "orders", "cohorts": "orders",
    "loyalty": "orders", "customer_value": "orders",
    "accounts": "opportunities", "new_and_repeat_accounts": "opportunities",
    "account_attributes": "opportunities", "open_deal_accounts": "opportunities",
}

SECTIONS = {
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
    "# Customer behaviour\n\nWho buys and how often, which segments the customers fall "
    "into (RFM and behavioural clusters), how acquisition cohorts keep buying, and what "
    "customers are worth, historically and predicted; for a B2B pipeline, which accounts "
    "the bookings come from, new and repeat accounts, the win rate by account attribute "
    "and the accounts with open deals that have not won yet.",
    ("summary", "## Summary of findings"),
    ("customer_mix", "## Customer mix: new, returning, potential"),
    ("rfm", "## RFM segments"),
    ("clusters", "## Behavioural clusters"),
    ("cohorts", "## Cohort retention"),
    ("loyalty", "## Loyalty and repeat buying"),
    ("customer_value", "## Customer value: CLV, CAC and CV"),
    ("accounts", "## Accounts by bookings"),
    ("new_and_repeat_accounts", "## New and repeat accounts"),
    ("account_attributes", "## Win rate and bookings by account attribute"),
    ("open_deal_accounts", "## Accounts with open deals and no win yet"),
    ("conclusions", "## Conclusions and recommendations"),
]
