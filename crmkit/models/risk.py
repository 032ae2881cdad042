"""At-risk customers and revenue at risk, for non-contractual and contractual businesses.

Non-contractual (retail): :func:`noncontractual_risk` ranks customers by revenue at risk
from the BG/NBD model (see :mod:`crmkit.models.clv`):

    p_alive          probability the customer is still active at observation_end
    expected_purchases  BG/NBD expected purchases in the next ``horizon_days``
    trailing_revenue revenue in the ``trailing_days`` (default 365) up to observation_end
    revenue_at_risk  trailing_revenue x (1 - p_alive): last year's revenue from customers
                     the model believes have gone; what is lost if nothing is done.

  A BG/NBD limitation to say out loud: a customer can only drop out right after a repeat
  purchase, so one-time buyers have p_alive = 1 and no revenue at risk, however long ago
  they bought. Their outlook shows in ``expected_purchases`` (low for old one-timers).

Contractual (subscriptions): :func:`contractual_churn_risk` fits a logistic regression of
"has churned" on customer features (tenure, monthly revenue, complaints, CSAT ...) and
scores the active customers:

    p_churn          model probability of churn
    revenue_at_risk  monthly_revenue x 12 x p_churn: expected annual recurring revenue lost

  Honest limits: this is a cross-sectional "who churned" model, not a forecast of when.
  Churned customers' features are measured at their churn (their tenure stopped growing),
  active customers' today, so tenure effects are biased; treat p_churn as a ranking
  score. The cross-validated AUC says how well it ranks; report it next to the list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmkit.i18n import N_, tr
from crmkit.models.clv import (
    _require_columns,
    _unit_days,
    expected_purchases,
    fit_bgnbd,
    probability_alive,
    rfm_summary,
)

# How the features of :func:`churn_features` read in a report, in the reader's language
# (crmkit.i18n); any other feature reads as its column, with spaces for underscores.
FEATURE_LABELS = {"tenure_months": N_("tenure months"),
                  "monthly_revenue": N_("monthly revenue"), "complaints": N_("complaints"),
                  "csat": N_("csat")}


def feature_label(feature: str) -> str:
    """A model feature named for a reader: "tenure months" / 在网时长（月）."""
    label = FEATURE_LABELS.get(feature)
    return tr(label) if label is not None else str(feature).replace("_", " ")


RISK_COLUMNS = [
    "p_alive", "expected_purchases", "last_order_date", "days_since_last_order",
    "historical_revenue", "trailing_revenue", "revenue_at_risk",
]


def noncontractual_risk(
    orders: pd.DataFrame,
    *,
    observation_end,
    bgnbd: Mapping | None = None,
    time_unit: str = "W",
    horizon_days: int = 365,
    trailing_days: int = 365,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """Customers ranked by revenue at risk, from BG/NBD probability alive.

    ``orders``: completed orders with ``customer_col, date_col, amount_col``; orders
    after ``observation_end`` are ignored. ``bgnbd``: fitted parameters (from
    :func:`~crmkit.models.clv.fit_bgnbd` on the same ``time_unit``); fitted on these
    orders when None. Returns one row per customer, indexed by ``customer_col``, with
    the module docstring's columns plus ``last_order_date`` and ``days_since_last_order``
    (``historical_revenue`` is all revenue up to observation_end), sorted by
    revenue_at_risk (highest first), then p_alive (lowest first).
    """
    _require_columns(orders, [customer_col, date_col, amount_col], "orders")
    end = pd.Timestamp(observation_end).normalize()
    summary = rfm_summary(orders, observation_end=end, time_unit=time_unit,
                          customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    params = fit_bgnbd(summary) if bgnbd is None else bgnbd

    days = pd.to_datetime(orders[date_col]).dt.normalize()
    keep = orders[customer_col].notna() & (days <= end)
    kept = pd.DataFrame({"customer": orders.loc[keep, customer_col], "day": days[keep],
                         "amount": orders.loc[keep, amount_col].astype(float)})
    recent = kept["day"] > end - pd.Timedelta(days=trailing_days)
    by_customer = kept.groupby("customer", sort=True)
    last_order = by_customer["day"].max()

    risk = pd.DataFrame({
        "p_alive": probability_alive(params, summary),
        "expected_purchases": expected_purchases(
            params, horizon_days / _unit_days(time_unit), summary),
        "last_order_date": last_order,
        "days_since_last_order": (end - last_order).dt.days.astype("int64"),
        "historical_revenue": by_customer["amount"].sum(),
        "trailing_revenue": kept[recent].groupby("customer")["amount"].sum()
        .reindex(summary.index, fill_value=0.0),
    }, index=summary.index)
    risk["revenue_at_risk"] = risk["trailing_revenue"] * (1 - risk["p_alive"])
    risk.index.name = customer_col
    return risk[RISK_COLUMNS].sort_values(
        ["revenue_at_risk", "p_alive"], ascending=[False, True], kind="stable"
    )


# --------------------------------------------------------------------------------------
# Contractual
# --------------------------------------------------------------------------------------

def churn_features(
    customers: pd.DataFrame,
    *,
    observation_end,
    tickets: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    customer_col: str = "customer_id",
    complaint_types: Sequence[str] = ("complaint",),
) -> pd.DataFrame:
    """Per-customer features for :func:`contractual_churn_risk` from canonical tables.

    ``customers``: customer_id with signup_date (and churn_date / status) or
    tenure_months, and monthly_revenue. ``tickets`` (optional): customer_id, opened_at,
    type; ``surveys`` (optional): customer_id, date, csat. Rows after ``observation_end``
    are ignored. Returns, indexed by customer: ``churned`` (bool), ``tenure_months``,
    ``monthly_revenue``, ``complaints`` (tickets of ``complaint_types``, 0 if none) and
    ``csat`` (mean survey CSAT, NaN if none; the model imputes the median) when the
    tables are given.
    """
    from crmkit.models.survival import contractual_durations

    _require_columns(customers, [customer_col, "monthly_revenue"], "customers")
    end = pd.Timestamp(observation_end).normalize()
    durations = contractual_durations(customers, observation_end=end, unit="M",
                                      customer_col=customer_col)
    features = pd.DataFrame({
        "churned": durations["event"].astype(bool),
        "tenure_months": durations["duration"].astype(float),
        "monthly_revenue": pd.to_numeric(durations["monthly_revenue"], errors="coerce"),
    })
    if tickets is not None:
        _require_columns(tickets, [customer_col, "opened_at", "type"], "tickets")
        in_window = pd.to_datetime(tickets["opened_at"]).dt.normalize() <= end
        is_complaint = tickets["type"].astype("string").str.lower().isin(
            [t.lower() for t in complaint_types]).fillna(False)
        counts = tickets.loc[in_window & is_complaint].groupby(customer_col).size()
        features["complaints"] = counts.reindex(features.index, fill_value=0).astype("int64")
    if surveys is not None:
        _require_columns(surveys, [customer_col, "date", "csat"], "surveys")
        in_window = pd.to_datetime(surveys["date"]).dt.normalize() <= end
        csat = pd.to_numeric(surveys.loc[in_window, "csat"], errors="coerce")
        features["csat"] = csat.groupby(surveys.loc[in_window, customer_col]).mean() \
            .reindex(features.index)
    return features


@dataclass(frozen=True)
class ChurnRiskModel:
    """A fitted contractual churn score and what it is worth."""

    scores: pd.DataFrame  # active customers: p_churn, monthly_revenue, revenue_at_risk
    coefficients: pd.DataFrame  # per feature: coefficient per standard deviation, odds_ratio
    cv_auc: float  # mean cross-validated ROC AUC (NaN when too few churners to say)
    n_customers: int  # customers the model was fitted on
    churn_rate: float  # share of them that churned
    features: tuple[str, ...]


def contractual_churn_risk(
    features: pd.DataFrame,
    *,
    target_col: str = "churned",
    feature_cols: Sequence[str] | None = None,
    revenue_col: str = "monthly_revenue",
    cv_folds: int = 5,
    random_state: int = 0,
) -> ChurnRiskModel:
    """Logistic-regression churn score for subscription customers, and revenue at risk.

    ``features``: one row per customer (index kept), a boolean ``target_col`` (churned)
    and numeric feature columns (all other numeric columns when ``feature_cols`` is None;
    ``revenue_col`` is a feature too unless ``feature_cols`` leaves it out). Missing
    values are imputed with the median; features are standardised, so a coefficient is
    the change in log-odds per standard deviation. The model is fitted on all customers;
    ``scores`` ranks the active ones (target false) by revenue_at_risk = revenue_col x 12
    x p_churn. Read the module docstring's limits before acting on it.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _require_columns(features, [target_col, revenue_col], "features")
    if feature_cols is None:
        feature_cols = [c for c in features.columns
                        if c != target_col and pd.api.types.is_numeric_dtype(features[c])
                        and not pd.api.types.is_bool_dtype(features[c])]
    feature_cols = list(feature_cols)
    _require_columns(features, feature_cols, "features")
    y = features[target_col].astype(bool).to_numpy()
    churners, stayers = int(y.sum()), int((~y).sum())
    if churners == 0 or stayers == 0:
        raise ValueError(tr("`{column}` needs both churned and active customers; found "
                            "{churners} churned and {stayers} active.").format(
            column=target_col, churners=churners, stayers=stayers))
    X = features[feature_cols].astype(float).to_numpy()

    def pipeline():
        return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                             LogisticRegression(max_iter=1000))

    folds = min(cv_folds, churners, stayers)
    cv_auc = float("nan")
    if folds >= 2:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
        cv_auc = float(np.mean(cross_val_score(pipeline(), X, y, cv=splitter, scoring="roc_auc")))

    model = pipeline().fit(X, y)
    coefficients = model[-1].coef_[0]
    coef_table = pd.DataFrame(
        {"coefficient": coefficients, "odds_ratio": np.exp(coefficients)},
        index=pd.Index(feature_cols, name="feature"),
    )
    active = features.loc[~y]
    p_churn = model.predict_proba(active[feature_cols].astype(float).to_numpy())[:, 1]
    revenue = pd.to_numeric(active[revenue_col], errors="coerce")
    scores = pd.DataFrame(
        {"p_churn": p_churn, "monthly_revenue": revenue,
         "revenue_at_risk": revenue.fillna(0.0) * 12 * p_churn},
        index=active.index,
    ).sort_values(["revenue_at_risk", "p_churn"], ascending=False, kind="stable")
    return ChurnRiskModel(scores=scores, coefficients=coef_table, cv_auc=cv_auc,
                          n_customers=len(y), churn_rate=churners / len(y),
                          features=tuple(feature_cols))


def noncontractual_holdout_auc(
    orders: pd.DataFrame,
    *,
    observation_end,
    holdout_days: int = 180,
    min_customers: int = 30,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
) -> tuple[float, int]:
    """How well the BG/NBD ranks who buys again: (ROC AUC, customers checked).

    ``orders``: customer_col, date_col, amount (one row per customer and day, as
    :func:`noncontractual_risk` takes). The model is fitted on the orders up to
    observation_end − ``holdout_days`` and its expected purchases over ``holdout_days``
    are scored against who bought in those last days. NaN when fewer than
    ``min_customers`` customers ordered before the cut, the model does not fit, or one
    outcome is missing (customers checked is then 0, 0 and all of them).
    """
    from sklearn.metrics import roc_auc_score

    cut = pd.Timestamp(observation_end) - pd.Timedelta(days=holdout_days)
    before = orders[orders[date_col] <= cut]
    if before[customer_col].nunique() < min_customers:
        return float("nan"), 0
    try:
        risk = noncontractual_risk(before, observation_end=cut, horizon_days=holdout_days,
                                   customer_col=customer_col, date_col=date_col)
    except (ValueError, FloatingPointError):
        return float("nan"), 0
    bought = set(orders.loc[orders[date_col] > cut, customer_col])
    outcome = risk.index.isin(bought)
    if outcome.all() or not outcome.any():
        return float("nan"), len(risk)
    return float(roc_auc_score(outcome, risk["expected_purchases"])), len(risk)
