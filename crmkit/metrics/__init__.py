"""CRM KPIs written once as ibis expressions over warehouse tables.

Every KPI is ``kpi(wh, filters=None, **options)``: a :class:`~crmkit.warehouse.Warehouse`
and a :class:`Filters` in, a small result out. The backend (DuckDB, PostgreSQL ...)
computes; only one row per period, group or customer comes back as pandas.

Results (see :mod:`crmkit.metrics.results`): with ``by=None`` a :class:`Measure`,
:class:`Rate` or :class:`Nps`; with ``by=`` a DataFrame with the same fields as columns;
table-shaped KPIs always a DataFrame; a KPI whose data is missing :class:`NotAvailable`.

Conventions: the period is ``start``..``end``, both days inclusive; net revenue =
completed + returned (negative) orders, cancelled excluded; orders and AOV count
completed orders only. ``metric_definitions()`` prints every formula.
"""

from crmkit.metrics.filters import (
    FILTER_COLUMNS,
    PERIOD_COLUMNS,
    Filters,
    apply_filters,
    unapplied_filters,
)
from crmkit.metrics.registry import Metric, get_metric, metric_definitions, metrics
from crmkit.metrics.results import (
    MIN_DENOMINATOR,
    Measure,
    NotAvailable,
    Nps,
    Rate,
    wilson_interval,
)

# KPI modules register their KPIs on import (sales first: the order of the appendix).
from crmkit.metrics.sales import (  # noqa: I001
    average_order_value,
    orders,
    quota_attainment,
    revenue,
    revenue_distribution,
    sales_growth,
    sales_over_time,
    sales_summary,
)
from crmkit.metrics.customers import (
    average_clv,
    cac,
    churn_over_time,
    churn_rate,
    clv_by_customer,
    customer_mix,
    customer_value,
    loyalty,
    new_customers,
    repeat_customer_rate,
    repeat_purchase_rate,
    retention_rate,
)
from crmkit.metrics.campaigns import (
    attribution,
    campaign_cost,
    campaign_lead_conversion,
    campaign_over_time,
    campaign_performance,
    campaign_roi,
    conversion_rate,
    cost_per_acquisition,
)
from crmkit.metrics.satisfaction import (
    complaint_rate,
    csat,
    csat_distribution,
    customer_satisfaction,
    customer_satisfaction_distribution,
    follow_up_rate,
    nps,
    satisfaction_score,
)
from crmkit.metrics.funnel import PIPELINE_STAGES, lead_funnel
from crmkit.metrics.selection import selected_rows
from crmkit.metrics.snapshot import (
    at_risk_list,
    churn_drivers,
    revenue_at_risk,
    snapshot_churn_rate,
    snapshot_retention_curve,
    winback_candidates,
)
from crmkit.metrics.churn import (
    churn_reasons,
    churn_reasons_by_group,
    churned_customers,
    contract_churn_risk,
    customer_lifetimes,
    inactivity_churn_rate,
    inactivity_churn_risk,
    inactivity_lifetimes,
    inactivity_retention_rate,
    lapsed_customers,
    survival_by_group,
)
from crmkit.metrics.pipeline import (
    average_deal_size,
    bookings,
    bookings_over_time,
    open_pipeline,
    opportunity_funnel,
    owner_leaderboard,
    pipeline_coverage,
    sales_cycle,
    win_rate,
)
from crmkit.metrics.accounts import (
    account_bookings,
    accounts_by_attribute,
    bookings_concentration,
    new_and_repeat_accounts,
    open_deal_accounts,
)
from crmkit.metrics.behaviour import (
    behaviour_clusters,
    cohort_month_retention,
    cohort_retention,
    group_sizes,
    orders_per_buyer,
    predicted_clv,
    rfm_segment_shares,
    rfm_segments_by_group,
)
from crmkit.metrics.scorecard import kpi_set

__all__ = [
    "FILTER_COLUMNS", "MIN_DENOMINATOR", "PERIOD_COLUMNS", "PIPELINE_STAGES", "Filters",
    "Measure", "Metric", "NotAvailable", "Nps", "Rate", "apply_filters", "average_clv", "average_order_value",
    "attribution", "cac", "campaign_cost", "campaign_lead_conversion",
    "campaign_over_time", "campaign_performance", "campaign_roi", "churn_over_time", "churn_rate",
    "clv_by_customer", "complaint_rate", "conversion_rate", "cost_per_acquisition", "csat",
    "csat_distribution", "customer_mix", "customer_value", "follow_up_rate", "get_metric",
    "kpi_set", "lead_funnel", "loyalty", "metric_definitions", "metrics", "new_customers", "nps", "orders",
    "quota_attainment", "repeat_customer_rate", "repeat_purchase_rate", "retention_rate",
    "revenue", "revenue_distribution", "sales_growth", "sales_over_time", "sales_summary",
    "satisfaction_score", "unapplied_filters", "wilson_interval",
    "customer_satisfaction", "customer_satisfaction_distribution",
    "revenue_at_risk", "snapshot_churn_rate", "snapshot_retention_curve", "winback_candidates",
    "average_deal_size", "bookings", "bookings_over_time", "open_pipeline",
    "opportunity_funnel", "owner_leaderboard", "pipeline_coverage", "sales_cycle",
    "win_rate",
    "account_bookings", "accounts_by_attribute", "bookings_concentration",
    "new_and_repeat_accounts", "open_deal_accounts",
    "behaviour_clusters", "cohort_month_retention", "cohort_retention", "group_sizes",
    "orders_per_buyer", "predicted_clv", "rfm_segment_shares", "rfm_segments_by_group",
]
