"""Models: customer value (BG/NBD, Gamma-Gamma), segments, survival, churn risk.

Pure functions: DataFrames in, DataFrames, mappings or small result objects out; no I/O,
no plotting, no global state. scikit-learn and lifelines are imported where they are used.
"""

from crmkit.models.clv import (
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
    rfm_summary,
)
from crmkit.models.risk import churn_features, contractual_churn_risk, noncontractual_risk
from crmkit.models.segments import (
    RFM_SEGMENTS,
    behaviour_clusters,
    cohort_retention,
    rfm_scores,
    rfm_segments,
)
from crmkit.models.survival import (
    contractual_durations,
    logrank_test,
    noncontractual_durations,
    retention_at,
    survival_curves,
)

__all__ = [
    "RFM_SEGMENTS",
    "behaviour_clusters",
    "churn_features",
    "cohort_retention",
    "contractual_churn_risk",
    "contractual_durations",
    "customer_lifetime_value",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "logrank_test",
    "noncontractual_durations",
    "noncontractual_risk",
    "probability_alive",
    "retention_at",
    "rfm_scores",
    "rfm_segments",
    "rfm_summary",
    "survival_curves",
]
