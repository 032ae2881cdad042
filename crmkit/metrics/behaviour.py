"""Customer behaviour KPIs: orders per buyer, RFM segments, acquisition-cohort retention,
behaviour clusters and the predicted CLV of BG/NBD + Gamma-Gamma.

Except orders per buyer (the period's orders), these look back over the whole history up
to the period end, not only the period: they read :func:`customer_orders` (the filtered
orders with a customer, completed and returned, up to the period end) and hand it to the
models of :mod:`crmkit.models`. The rules they apply (cohorts shown, minimum customers
for a model, CLV horizon and discount, the P(alive) cut-off, cluster wording) are keyword
parameters with the module defaults below.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit import models
from crmkit.i18n import N_, tr
from crmkit.metrics.derived import DAYS_PER_MONTH, classified_orders, execute, ts
from crmkit.metrics.filters import Filters, apply_filters
from crmkit.metrics.registry import metric
from crmkit.metrics.results import MIN_DENOMINATOR, MetricUnavailable, Rate
from crmkit.models.segments import CohortRetention

DAY = pd.Timedelta(days=1)
MAX_ORDERS = 10  # orders_per_buyer: this many orders or more are counted together
MAX_GROUPS = 8  # group_sizes: the largest groups returned
COHORT_MONTHS = 12  # cohort_retention: the most recent acquisition cohorts
MIN_MODEL_CUSTOMERS = MIN_DENOMINATOR  # fewer customers: no clusters, no CLV fit
HORIZON_MONTHS = 12  # predicted CLV horizon
MONTHLY_DISCOUNT = 0.01  # discount rate per month for predicted CLV
ALIVE_THRESHOLD = 0.5  # P(alive) below this: "probably no longer buying"

# Per-customer behaviour features for the clusters, and how a cluster reads when its mean
# (in the scale the clustering used) lies DESCRIBE_Z standard deviations above / below.
# The words are English values, marked for the catalogs: a report shows tr(word).
CLUSTER_FEATURES = {
    "days_since_last_order": (N_("lapsed"), N_("recent buyers")),
    "orders": (N_("frequent"), N_("infrequent")),
    "spend": (N_("high spend"), N_("low spend")),
    "days_since_first_order": (N_("long-standing"), N_("newer")),
    "returns_share": (N_("many returns"), N_("few returns")),
}
DESCRIBE_Z = 0.5
CLOSE_TO_AVERAGE = N_("close to average")  # a cluster no feature sets apart
# Silhouette score -> how clearly the customers separate (Kaufman & Rousseeuw's bands).
SILHOUETTE_BANDS = ((0.5, N_("clear")), (0.25, N_("moderate")), (-1.0, N_("weak")))

# Reasons a KPI is not available: English values a report shows as tr(reason).
NO_ORDERS = N_("no completed orders with a customer up to the period end")
NO_BREAKDOWN = N_("needs a breakdown column (by)")


def _too_few_customers(n: int, least: int) -> str:
    return tr("{n} customers with orders, fewer than {least}").format(n=n, least=least)


# -- the orders the models share -----------------------------------------------------------
def period_end(wh, filters: Filters) -> pd.Timestamp:
    """The last day of the period; an open-ended period ends at the last selected order."""
    if filters.end is not None:
        return filters.end
    t = apply_filters(wh, "orders", filters)
    return pd.Timestamp(execute(t.order_date.max())).normalize()


def customer_orders(wh, filters: Filters) -> pd.DataFrame:
    """customer_id (text), order_id, order_date, amount, order_kind (completed / returned)
    of the filtered orders with a customer, from the first one up to the period end."""
    end = period_end(wh, filters)
    t = classified_orders(wh, filters, period=False)
    t = t.filter(t.customer_id.notnull() & (t.order_kind != "cancelled")
                 & (t.order_date < ts(end + DAY)))
    t = t.select("order_id", "order_date", "amount", "order_kind",
                 customer_id=t.customer_id.cast("string"))
    # One row order on every backend, so that sums and model fits agree to the last digit.
    frame = execute(t.order_by("customer_id", "order_date", "order_id"))
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["amount"] = frame["amount"].astype(float)
    return frame


def _completed(orders: pd.DataFrame) -> pd.DataFrame:
    return orders[orders["order_kind"] == "completed"]


def rfm_customers(wh, filters: Filters) -> pd.DataFrame:
    """Per customer (completed orders up to the period end): recency_days, frequency,
    monetary, R, F, M, segment; MetricUnavailable without orders."""
    completed = _completed(customer_orders(wh, filters))
    if completed.empty:
        raise MetricUnavailable(NO_ORDERS)
    return models.rfm_segments(models.rfm_scores(completed,
                                                 observation_end=period_end(wh, filters)))


# -- orders per buyer ------------------------------------------------------------------------
# Formulas are catalog messages (N_), so the module defaults they name are written out:
# keep them equal to MAX_ORDERS, COHORT_MONTHS, DESCRIBE_Z, HORIZON_MONTHS,
# MONTHLY_DISCOUNT and ALIVE_THRESHOLD above.
@metric(name="orders_per_buyer", title=N_("Orders per buyer"), unit=N_("customers"),
        grain=N_("period"), needs=("orders.customer_id",), returns="frame",
        formula=N_("completed orders in the period per customer who bought; buyers with "
                   "10 or more orders are counted together (10+); share = "
                   "buyers with that many orders / all buyers"))
def orders_per_buyer(wh, filters, *, max_orders: int = MAX_ORDERS) -> pd.DataFrame:
    """orders (capped at ``max_orders``), numerator (buyers), value (their share);
    ``attrs["max_orders"]`` is the cap."""
    t = classified_orders(wh, filters)
    t = t.filter((t.order_kind == "completed") & t.customer_id.notnull())
    per = t.group_by("customer_id").agg(orders=t.count())
    counts = execute(per.group_by("orders").agg(numerator=per.count()))
    if counts.empty:
        raise MetricUnavailable(N_("no completed orders with a customer in the period"))
    counts["orders"] = counts["orders"].clip(upper=max_orders).astype(int)
    counts = counts.groupby("orders", as_index=False)["numerator"].sum()
    counts["value"] = counts["numerator"] / counts["numerator"].sum()
    counts.attrs["max_orders"] = max_orders
    return counts


# -- breakdown groups ------------------------------------------------------------------------
@metric(name="group_sizes", title=N_("Largest groups of a breakdown"), unit=N_("count"),
        grain=N_("group"), returns="frame",
        formula=N_("rows per value of the breakdown column, from the customers table when "
                   "it has the column (customers), else from orders (orders), all periods; "
                   "rows without a value left out; the largest groups first, then by value"))
def group_sizes(wh, filters, *, by=None, top: int = MAX_GROUPS) -> pd.DataFrame:
    """``by``, n: the ``top`` values of the column ``by`` with the most customers (else
    orders); empty when neither table has the column."""
    if not by:
        raise MetricUnavailable(NO_BREAKDOWN)
    table = next((t for t in ("customers", "orders")
                  if wh.has(t) and by in wh.table(t).columns), None)
    if table is None:
        return pd.DataFrame({by: [], "n": []})
    t = apply_filters(wh, table, filters, period=False)
    t = t.filter(t[by].notnull())
    counts = execute(t.group_by(by).agg(n=t.count()))
    counts = counts.sort_values(["n", by], ascending=[False, True], kind="stable")
    return counts.head(top).reset_index(drop=True)


# -- RFM -------------------------------------------------------------------------------------
@metric(name="rfm_segment_shares", title=N_("RFM segment"), unit=N_("customers"),
        grain=N_("customer"), needs=("orders.customer_id",), returns="frame",
        formula=N_("R, F, M = quintile scores 1-5 of days since last order, orders and spend "
                   "up to the period end; segment from the R x F grid "
                   "crmkit.models.RFM_SEGMENTS; per segment: customers and their share of "
                   "buyers, mean days since last order, mean orders, spend to date "
                   "(completed orders) and its share"))
def rfm_segment_shares(wh, filters) -> pd.DataFrame:
    """segment, customers, customer_share, days_since_last_order, orders, spend,
    spend_share: one row per non-empty RFM segment, in the grid's order."""
    scores = rfm_customers(wh, filters)
    g = scores.groupby("segment", observed=True, sort=True)
    out = pd.DataFrame({"customers": g.size(), "days_since_last_order": g["recency_days"].mean(),
                        "orders": g["frequency"].mean(), "spend": g["monetary"].sum()})
    out.insert(1, "customer_share", out["customers"] / out["customers"].sum())
    total = out["spend"].sum()
    out["spend_share"] = out["spend"] / total if total else np.nan
    out = out[out["customers"] > 0].reset_index()
    out["segment"] = out["segment"].astype(str)
    return out


def _customer_attribute(wh, filters: Filters, column: str) -> pd.Series:
    """``column`` per customer (text index): the customers table's value, else the value
    on the customer's latest order up to the period end."""
    if wh.has("customers") and column in wh.table("customers").columns:
        c = apply_filters(wh, "customers", filters, period=False)
        frame = execute(c.select(column, customer_id=c.customer_id.cast("string")))
        return frame.set_index("customer_id")[column]
    if column not in wh.table("orders").columns:
        return pd.Series(dtype=object)
    t = apply_filters(wh, "orders", filters, period=False)
    t = t.filter(t.customer_id.notnull() & (t.order_date < ts(period_end(wh, filters) + DAY)))
    frame = execute(t.select("order_date", column, customer_id=t.customer_id.cast("string")))
    latest = frame.sort_values("order_date", kind="stable").groupby("customer_id").last()
    return latest[column]


@metric(name="rfm_segments_by_group", title=N_("RFM segments by group"), unit=N_("percent"),
        grain=N_("segment × group"), needs=("orders.customer_id",), returns="frame",
        formula=N_("per value of the breakdown column (the customer's, else that of their "
                   "latest order up to the period end; the largest groups): the group's "
                   "buyers in each RFM segment / the group's buyers"))
def rfm_segments_by_group(wh, filters, *, by=None, top: int = MAX_GROUPS) -> pd.DataFrame:
    """rfm_segment, then one column per value of ``by`` (the ``top`` with most buyers):
    the share of that group's buyers in the segment; rows in the grid's order."""
    if not by:
        raise MetricUnavailable(NO_BREAKDOWN)
    scores = rfm_customers(wh, filters)
    attribute = _customer_attribute(wh, filters, by)
    if attribute.empty:
        raise MetricUnavailable(N_("no such column"))
    frame = scores[["segment"]].join(attribute.rename("group"))
    if frame["group"].isna().all():
        raise MetricUnavailable(N_("no buyer has one recorded"))
    keep = frame["group"].value_counts().index[:top]
    frame = frame[frame["group"].isin(keep)]
    table = pd.crosstab(frame["segment"].astype(str).rename("rfm_segment"), frame["group"],
                        normalize="columns")
    table = table.reindex([s for s in models.RFM_SEGMENTS if s in table.index])
    table.columns = [str(c) for c in table.columns]
    return table.reset_index()


# -- cohorts ---------------------------------------------------------------------------------
def _cohorts(wh, filters: Filters, cohorts: int) -> CohortRetention:
    completed = _completed(customer_orders(wh, filters))
    if completed.empty:
        raise MetricUnavailable(NO_ORDERS)
    full = models.cohort_retention(completed, observation_end=period_end(wh, filters))
    keep = full.retention.index[-cohorts:]
    cols = full.retention.columns[:cohorts]
    retention = full.retention.loc[keep, cols].dropna(axis=1, how="all")
    return CohortRetention(
        retention=retention, active=full.active.loc[keep, retention.columns],
        cohort_size=full.cohort_size.loc[keep])


@metric(name="cohort_retention", title=N_("Cohort retention (month n)"), unit=N_("percent"),
        grain=N_("cohort x month"), needs=("orders.customer_id",), returns="frame",
        formula=N_("customers of an acquisition month (first order) with an order n months "
                   "later / customers of that month; the most recent cohorts (default "
                   "12), orders up to the period end; months not yet observed "
                   "are blank"))
def cohort_retention(wh, filters, *, cohorts: int = COHORT_MONTHS) -> pd.DataFrame:
    """Rows: acquisition cohort (month); columns: months since the first order; values:
    retention 0-1, NaN where not observed. ``attrs["cohort_size"]``: cohort -> customers."""
    cohort = _cohorts(wh, filters, cohorts)
    out = cohort.retention.copy()
    out.attrs["cohort_size"] = cohort.cohort_size.to_dict()
    return out


@metric(name="cohort_month_retention", title=N_("Cohort retention in month n, pooled"),
        unit=N_("percent"), grain=N_("period"), needs=("orders.customer_id",), returns="rate",
        formula=N_("customers of the shown acquisition cohorts (see cohort retention) with an "
                   "order n months after their first / the cohorts' customers, over the "
                   "cohorts for which month n is observed; 95% Wilson interval"))
def cohort_month_retention(wh, filters, *, month: int = 1,
                           cohorts: int = COHORT_MONTHS) -> Rate:
    """Rate of the shown cohorts' customers buying ``month`` months after their first
    order; MetricUnavailable when no shown cohort is that old."""
    cohort = _cohorts(wh, filters, cohorts)
    if month not in cohort.active.columns:
        raise MetricUnavailable(tr("month {month} is not observed").format(month=month))
    active = cohort.active[month]
    observed = active.notna()
    if not observed.any():
        raise MetricUnavailable(tr("month {month} is not observed").format(month=month))
    return Rate.from_counts(int(active[observed].sum()),
                            int(cohort.cohort_size[observed].sum()))


# -- behaviour clusters ----------------------------------------------------------------------
def customer_features(wh, filters: Filters) -> pd.DataFrame:
    """One row per customer with a completed order up to the period end: the columns of
    :data:`CLUSTER_FEATURES` (spend = completed orders' amounts; returns share = returned
    orders / completed and returned orders)."""
    orders = customer_orders(wh, filters)
    end = period_end(wh, filters)
    g = _completed(orders).groupby("customer_id")
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


def _describe_clusters(features: pd.DataFrame, result, describe_z: float
                       ) -> list[tuple[str, ...]]:
    """Words per cluster from :data:`CLUSTER_FEATURES`: features whose cluster mean lies
    ``describe_z`` standard deviations above or below all customers' mean, in the scale
    the clustering used (log1p for the skewed features); none: close to average."""
    features = features.loc[result.labels.index].copy()
    for column in result.log_features:
        features[column] = np.log1p(features[column])
    spread = features.std(ddof=0).replace(0, np.nan)
    z = (features.groupby(result.labels).mean() - features.mean()) / spread
    words = []
    for cluster in result.profile.index:
        parts = [high if z.at[cluster, f] > describe_z else low
                 for f, (high, low) in CLUSTER_FEATURES.items()
                 if abs(z.at[cluster, f]) > describe_z]
        words.append(tuple(parts))
    return words


@metric(name="behaviour_clusters", title=N_("Behavioural cluster"), unit=N_("customers"),
        grain=N_("customer"), needs=("orders.customer_id",), returns="frame",
        formula=N_("k-means on standardised (log where skewed) per-customer features (days "
                   "since last and first order, completed orders, spend, share of orders "
                   "returned, up to the period end); k in 2..8 with the highest silhouette; "
                   "a cluster is described by the features whose mean lies over 0.5 "
                   "standard deviations from all customers' mean"))
def behaviour_clusters(wh, filters, *, min_customers: int = MIN_MODEL_CUSTOMERS,
                       describe_z: float = DESCRIBE_Z) -> pd.DataFrame:
    """Per cluster (index; 0 the largest): n_customers, share and the mean of each
    feature. ``attrs``: k, silhouette (per candidate k: silhouette, inertia, chosen),
    silhouette_score, separation (clear / moderate / weak), customers, log_features,
    features (the feature columns), description_words (per cluster, in row order: the
    :data:`CLUSTER_FEATURES` words that set it apart, English; none: close to average) and
    descriptions (the same joined, "lapsed, frequent" / "close to average").
    MetricUnavailable below ``min_customers`` customers with orders."""
    features = customer_features(wh, filters)
    if len(features) < min_customers:
        raise MetricUnavailable(_too_few_customers(len(features), min_customers))
    result = models.behaviour_clusters(features)
    score = result.silhouette.loc[result.k, "silhouette"]
    words = _describe_clusters(features, result, describe_z)
    out = result.profile.copy()
    out.attrs.update(k=result.k, silhouette=result.silhouette, silhouette_score=score,
                     separation=next(word for limit, word in SILHOUETTE_BANDS
                                     if score >= limit),
                     customers=len(result.labels), log_features=tuple(result.log_features),
                     features=list(CLUSTER_FEATURES),
                     description_words=words,
                     descriptions=[", ".join(w) or CLOSE_TO_AVERAGE for w in words])
    return out


# -- predicted CLV ---------------------------------------------------------------------------
def _churned_by(wh, filters: Filters, end: pd.Timestamp) -> pd.Index:
    """The customers whose contract ended (customers.churn_date) by ``end``."""
    if not wh.has("customers") or "churn_date" not in wh.table("customers").columns:
        return pd.Index([])
    c = apply_filters(wh, "customers", filters, period=False)
    c = c.filter(c.churn_date.notnull() & (c.churn_date.cast("timestamp") < ts(end + DAY)))
    return pd.Index(execute(c.select(customer_id=c.customer_id.cast("string")))["customer_id"])


@metric(name="predicted_clv", title=N_("Predicted CLV"), unit=N_("currency"),
        grain=N_("customer"), needs=("orders.customer_id",), returns="frame",
        formula=N_("BG/NBD expected purchases x Gamma-Gamma expected spend over the horizon "
                   "(default 12 months), discounted 1% a month "
                   "by default; fitted on the customers' orders up to the period end; "
                   "customers whose contract ended by then are predicted at 0; per RFM "
                   "segment the means, the total and its share; dormant share = buyers with "
                   "P(alive) below 50% / buyers"))
def predicted_clv(wh, filters, *, horizon_months: int = HORIZON_MONTHS,
                  monthly_discount: float = MONTHLY_DISCOUNT,
                  alive_threshold: float = ALIVE_THRESHOLD,
                  min_customers: int = MIN_MODEL_CUSTOMERS) -> pd.DataFrame:
    """Per RFM segment: segment, customers, spend_to_date, p_alive, expected_orders,
    predicted_clv (means), predicted_total, share. ``attrs``: mean and total (predicted
    CLV per buyer and in all), customers (fitted), dormant_share, churned (predicted at
    0), bgnbd and gamma_gamma (fitted parameters), spend_frequency_corr (Gamma-Gamma
    assumes ~0), horizon_months, monthly_discount, alive_threshold. MetricUnavailable
    below ``min_customers`` customers with orders or when a model cannot be fitted.

    Weekly time unit; customers whose contract ended by the period end stay in the fit.
    """
    completed = _completed(customer_orders(wh, filters))
    end = period_end(wh, filters)
    summary = models.rfm_summary(completed, observation_end=end) if len(completed) \
        else pd.DataFrame()
    if len(summary) < min_customers:
        raise MetricUnavailable(_too_few_customers(len(summary), min_customers))
    try:
        bg = models.fit_bgnbd(summary)
        gg = models.fit_gamma_gamma(summary)
        clv = models.customer_lifetime_value(bg, gg, summary, horizon_months=horizon_months,
                                             discount_rate=monthly_discount)
    except (ValueError, RuntimeError) as why:  # too few repeat buyers, q <= 1, no fit
        raise MetricUnavailable(str(why)) from None  # a catalog message: shown as tr(why)
    weeks = horizon_months * DAYS_PER_MONTH / 7
    customers = pd.DataFrame({
        "p_alive": models.probability_alive(bg, summary),
        "expected_purchases": models.expected_purchases(bg, weeks, summary),
        "predicted_clv": clv})
    gone = _churned_by(wh, filters, end).intersection(customers.index)
    customers.loc[gone, ["p_alive", "expected_purchases", "predicted_clv"]] = 0.0
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    corr = float(repeat["frequency"].corr(repeat["monetary_value"])) \
        if len(repeat) > 2 else float("nan")

    frame = customers.join(rfm_customers(wh, filters)[["segment", "monetary"]])
    g = frame.groupby("segment", observed=True, sort=True)
    out = pd.DataFrame({
        "customers": g.size(), "spend_to_date": g["monetary"].mean(),
        "p_alive": g["p_alive"].mean(), "expected_orders": g["expected_purchases"].mean(),
        "predicted_clv": g["predicted_clv"].mean(), "predicted_total": g["predicted_clv"].sum(),
    }).reset_index()
    out["segment"] = out["segment"].astype(str)
    out["share"] = out["predicted_total"] / out["predicted_total"].sum()
    out.attrs.update(mean=customers["predicted_clv"].mean(),
                     total=customers["predicted_clv"].sum(), customers=bg["n_customers"],
                     dormant_share=(customers["p_alive"] < alive_threshold).mean(),
                     churned=len(gone), bgnbd=dict(bg), gamma_gamma=dict(gg),
                     spend_frequency_corr=corr, horizon_months=horizon_months,
                     monthly_discount=monthly_discount, alive_threshold=alive_threshold)
    return out
