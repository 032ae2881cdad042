"""Churn models for a customer snapshot: one row per customer, tenure in months, a churn
flag, a monthly charge and attribute columns (contract, payment method, services ...),
often no dates at all (the IBM Telco export is the reference shape).

* :func:`snapshot_retention`: Kaplan–Meier retention on tenure. A churned customer's
  tenure is the time to churn; an active customer is censored at their tenure (still
  there, so only known to last at least that long).
* :func:`snapshot_churn_model`: logistic regression of the churn flag on the attribute
  columns the data has, scored out of sample (cross-validation with a fixed seed): risk
  per active customer, ROC AUC with its n, and the drivers in plain words
  ("contract = Month-to-month").

  Honest limits (as for :func:`crmkit.models.risk.contractual_churn_risk`): this is a
  cross-sectional "who churned" model, not a forecast of when. A churned customer's
  tenure and charges are as of their leaving, an active one's as of the snapshot, so
  the tenure effect is biased; read ``p_churn`` as a ranking score, next to its AUC.

Pure functions: DataFrames in, DataFrames or a small result object out. lifelines and
scikit-learn are imported where they are used.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmkit.i18n import N_, tr
from crmkit.models.clv import _require_columns

# Months of tenure at which the retained share is read.
RETENTION_MONTHS = (12, 24, 36)
# A categorical column with more distinct values than this is not a feature (ids, free text).
MAX_LEVELS = 30
CV_FOLDS = 5
# Columns that are never features: identifiers and contact details, the outcome and what
# only exists because of it (status, churn date and reason), dates (a snapshot's are
# derived from tenure), tenure counted in days (tenure_months is the same clock), and
# the warehouse's bookkeeping.
NOT_FEATURES = ("customer_id", "name", "email", "status", "churned", "churn_date",
                "churn_reason", "signup_date", "tenure_days", "source_row", "flags")
# How a column reads in a driver's name, in the reader's language (crmkit's own columns);
# other columns (the data's attributes) read as they are, with spaces for underscores.
FEATURE_LABELS = {"tenure_months": N_("tenure in months"),
                  "monthly_revenue": N_("monthly revenue"), "segment": N_("segment"),
                  "region": N_("region"), "country": N_("country"),
                  "acquisition_channel": N_("acquisition channel"),
                  "acquisition_cost": N_("acquisition cost"), "owner": N_("owner"),
                  "satisfaction": N_("satisfaction")}
MISSING_LEVEL = N_("(not given)")
# Levels a driver's name shows in the reader's language: a missing value, true / false.
LEVEL_LABELS = {MISSING_LEVEL: MISSING_LEVEL, "True": N_("True"), "False": N_("False")}

Z95 = 1.959963984540054


# -- Kaplan–Meier on tenure -----------------------------------------------------------------
def snapshot_durations(
    customers: pd.DataFrame,
    *,
    tenure_col: str = "tenure_months",
    churned_col: str = "churned",
) -> pd.DataFrame:
    """``customers`` with ``duration`` (= tenure, in months) and ``event`` (= churned).

    Rows without a tenure or without a churn flag are left out; all columns are kept.
    """
    _require_columns(customers, [tenure_col, churned_col], "customers")
    tenure = pd.to_numeric(customers[tenure_col], errors="coerce")
    flag = customers[churned_col]
    known = tenure.notna() & flag.notna()
    if (tenure[known] < 0).any():
        raise ValueError(f"`{tenure_col}` has negative values; a tenure counts months "
                         "as a customer, from 0")
    return customers.loc[known].assign(duration=tenure[known].astype(float),
                                       event=flag[known].astype(bool))


def snapshot_retention(
    customers: pd.DataFrame,
    *,
    months: Iterable[float] = RETENTION_MONTHS,
    group_cols: str | Sequence[str] | None = None,
    tenure_col: str = "tenure_months",
    churned_col: str = "churned",
    weight_col: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Kaplan–Meier share of customers retained at each of ``months`` of tenure.

    ``customers``: one row per customer with ``tenure_col`` (months) and ``churned_col``
    (bool), or, with ``weight_col``, one row per distinct (group, tenure, flag) and its
    number of customers (what a warehouse aggregate returns; the estimate is the same).
    Rows without tenure or flag, and rows with a missing group value, are left out.

    Returns one row per group and month: ``[*group_cols], months, retained`` (S(t)),
    ``ci_low, ci_high`` (pointwise 1 − alpha interval, lifelines' exponential
    Greenwood), ``at_risk`` (customers with tenure >= t, still observed at t),
    ``churned`` (churned with tenure <= t) and ``customers`` (in the group). Past the
    longest tenure of a group nothing is observed: ``retained`` and its interval are NaN.
    """
    from lifelines import KaplanMeierFitter

    months = [float(t) for t in months]
    if any(t < 0 for t in months):
        raise ValueError(f"`months` must be >= 0; got {months}")
    groups = [group_cols] if isinstance(group_cols, str) else list(group_cols or [])
    _require_columns(customers, groups + ([weight_col] if weight_col else []), "customers")
    data = snapshot_durations(customers, tenure_col=tenure_col, churned_col=churned_col)
    data = data.dropna(subset=groups) if groups else data
    weights = (pd.to_numeric(data[weight_col]).astype(float) if weight_col
               else pd.Series(1.0, index=data.index))
    data = data.assign(_weight=weights)
    data = data[data["_weight"] > 0]
    if data.empty:
        raise ValueError("`customers` has no rows with a tenure, a churn flag"
                         + (" and a group value" if groups else ""))
    parts = data.groupby(groups, sort=True, observed=True) if groups else [((), data)]
    rows = []
    for key, part in parts:
        key = key if isinstance(key, tuple) else (key,)
        fit = KaplanMeierFitter(alpha=alpha).fit(
            part["duration"].to_numpy(), part["event"].to_numpy(),
            weights=part["_weight"].to_numpy())
        curve = fit.survival_function_.iloc[:, 0]
        ci = fit.confidence_interval_survival_function_
        times = curve.index.to_numpy(dtype=float)
        duration, event, weight = (part[c].to_numpy() for c in ("duration", "event", "_weight"))
        for t in months:
            # The last step at or before t (a KM curve is a right-continuous step function).
            step = int(np.searchsorted(times, t, side="right")) - 1
            observed = t <= duration.max()
            rows.append({
                **dict(zip(groups, key)),
                "months": t,
                "retained": float(curve.iloc[step]) if observed else math.nan,
                "ci_low": float(ci.iloc[step, 0]) if observed else math.nan,
                "ci_high": float(ci.iloc[step, 1]) if observed else math.nan,
                "at_risk": int(round(weight[duration >= t].sum())),
                "churned": int(round(weight[event & (duration <= t)].sum())),
                "customers": int(round(weight.sum())),
            })
    return pd.DataFrame(rows, columns=[*groups, "months", "retained", "ci_low", "ci_high",
                                       "at_risk", "churned", "customers"])


# -- churn risk -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SnapshotChurnModel:
    """A churn risk score fitted on a customer snapshot, and how well it ranks.

    ``scores``: the active customers, indexed by customer: ``p_churn`` (out-of-fold
    probability of churn) and ``monthly_revenue`` when the data has it; highest risk
    first. ``drivers``: one row per model feature: ``feature`` (in words, e.g.
    "contract = Month-to-month", "tenure in months", "satisfaction not given"),
    ``column``, ``level`` (the category, None for a number), ``coefficient`` (change in
    log-odds of churn per standard deviation of the feature; > 0 raises risk) and
    ``odds_ratio``; strongest first.
    """

    scores: pd.DataFrame
    drivers: pd.DataFrame
    auc: float  # ROC AUC of the out-of-fold scores of all n customers
    auc_ci_low: float  # 95% interval (Hanley & McNeil 1982)
    auc_ci_high: float
    n: int  # customers fitted and scored out of sample
    n_churned: int
    folds: int  # cross-validation folds (stratified, shuffled with random_state)
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    left_out: dict  # column -> why it is not a feature

    @property
    def churn_rate(self) -> float:
        return self.n_churned / self.n

    def at_risk(self, cutoff: float) -> pd.DataFrame:
        """The active customers whose ``p_churn`` is above ``cutoff``."""
        return self.scores[self.scores["p_churn"] > cutoff]


def churn_model_features(
    customers: pd.DataFrame,
    *,
    exclude: Iterable[str] = NOT_FEATURES,
    max_levels: int = MAX_LEVELS,
) -> tuple[list[str], list[str], dict[str, str]]:
    """The columns of ``customers`` a churn model can use: ``(categorical, numeric,
    left_out)``, ``left_out`` mapping each other column to the reason.

    Numbers are numeric; text and true/false columns are categorical when they have 2 to
    ``max_levels`` distinct values (text with more, such as free text or a number stored
    as text, is left out). Columns in ``exclude``, dates, empty and single-valued columns
    are left out.
    """
    excluded = set(exclude)
    categorical, numeric, left_out = [], [], {}
    for col in customers.columns:
        values = customers[col]
        known = values.dropna()
        if col in excluded:
            left_out[col] = "excluded"
        elif pd.api.types.is_datetime64_any_dtype(values):
            left_out[col] = "a date"
        elif known.nunique() < 2:
            left_out[col] = "empty" if known.empty else "a single value"
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numeric.append(col)
        elif known.nunique() <= max_levels:
            categorical.append(col)
        else:
            left_out[col] = f"more than {max_levels} distinct values"
    return categorical, numeric, left_out


def snapshot_churn_model(
    customers: pd.DataFrame,
    *,
    categorical: Sequence[str] | None = None,
    numeric: Sequence[str] | None = None,
    exclude: Iterable[str] = (),
    customer_col: str = "customer_id",
    churned_col: str = "churned",
    revenue_col: str = "monthly_revenue",
    max_levels: int = MAX_LEVELS,
    cv_folds: int = CV_FOLDS,
    random_state: int = 0,
) -> SnapshotChurnModel:
    """Logistic-regression churn risk on a snapshot's attribute columns, scored out of sample.

    ``customers``: one row per customer with ``customer_col``, a boolean ``churned_col``
    (rows without a flag are left out) and attribute columns. ``categorical`` and
    ``numeric`` name the features; when both are None they are inferred
    (:func:`churn_model_features`: contract, payment method, services ...; tenure,
    monthly revenue, satisfaction ...), leaving out :data:`NOT_FEATURES` and ``exclude``
    (e.g. a lifetime total such as Telco's total_charges, ≈ tenure × monthly charge, whose
    coefficient blurs theirs). Categories are one-hot encoded (a missing value is its own
    level; a two-valued column is one feature, its second value), numbers imputed with the
    median plus a "not given" indicator where values are missing; every feature is
    standardised.

    Each customer's ``p_churn`` comes from a model fitted on the other folds of a
    stratified ``cv_folds``-fold split shuffled with ``random_state``, so the AUC
    measures ranking on customers the model did not see; ``drivers`` come from one fit on
    all customers. Raises ValueError when fewer than two churned or two active
    customers leave nothing to validate on.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    _require_columns(customers, [customer_col, churned_col], "customers")
    data = customers[customers[churned_col].notna()]
    if categorical is None and numeric is None:
        categorical, numeric, left_out = churn_model_features(
            data, exclude=(*NOT_FEATURES, *exclude, customer_col, churned_col),
            max_levels=max_levels)
    else:
        categorical, numeric = list(categorical or []), list(numeric or [])
        used = {*categorical, *numeric}
        left_out = {c: "not chosen" for c in data.columns if c not in used}
    _require_columns(data, [*categorical, *numeric], "customers")
    if not categorical and not numeric:
        raise ValueError(tr("`customers` has no column to fit a churn model on; left out: "
                            "{left_out}").format(left_out=left_out))
    y = data[churned_col].astype(bool).to_numpy()
    churners, stayers = int(y.sum()), int((~y).sum())
    folds = min(cv_folds, churners, stayers)
    if folds < 2:
        raise ValueError(tr("a churn model needs at least 2 churned and 2 active customers "
                            "to validate; found {churners} churned and {stayers} active")
                         .format(churners=churners, stayers=stayers))

    X = _design(data, categorical, numeric)
    transformers = []
    if numeric:
        transformers.append(("numeric", make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), numeric))
    if categorical:
        transformers.append(("categorical", make_pipeline(
            # A yes/no column is one feature ("= Yes"), not a pair of mirror images.
            OneHotEncoder(drop="if_binary", handle_unknown="ignore", sparse_output=False),
            StandardScaler()), categorical))

    def pipeline():
        return make_pipeline(ColumnTransformer(transformers),
                             LogisticRegression(max_iter=2000))

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    p_churn = cross_val_predict(pipeline(), X, y, cv=splitter, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(y, p_churn))
    low, high = auc_interval(auc, churners, stayers)

    model = pipeline().fit(X, y)
    drivers = _drivers(model, categorical, numeric)

    ids = data[customer_col].to_numpy()
    scores = pd.DataFrame({"p_churn": p_churn[~y]}, index=pd.Index(ids[~y], name=customer_col))
    if revenue_col in data.columns:
        scores["monthly_revenue"] = pd.to_numeric(data[revenue_col], errors="coerce") \
            .to_numpy(dtype=float)[~y]
    scores = scores.sort_values("p_churn", ascending=False, kind="stable")
    return SnapshotChurnModel(
        scores=scores, drivers=drivers, auc=auc, auc_ci_low=low, auc_ci_high=high,
        n=len(y), n_churned=churners, folds=folds, categorical=tuple(categorical),
        numeric=tuple(numeric), left_out=left_out)


def _design(data: pd.DataFrame, categorical, numeric) -> pd.DataFrame:
    """The feature columns as scikit-learn reads them: floats with NaN, and text (object)
    with missing values as their own level."""
    columns = {}
    for col in numeric:
        columns[col] = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
    for col in categorical:
        values = data[col]
        text = values.astype(str).where(values.notna(), MISSING_LEVEL)
        columns[col] = text.to_numpy(dtype=object)
    return pd.DataFrame(columns, index=data.index)


def _label(col: str) -> str:
    """A column in a driver's name, in the active language (crmkit.i18n)."""
    label = FEATURE_LABELS.get(col)
    return tr(label) if label is not None else col.replace("_", " ")


def _level(level) -> str:
    """A category in a driver's name: the data's own value, or a made-up one in words."""
    label = LEVEL_LABELS.get(level) if isinstance(level, str) else None
    return tr(label) if label is not None else level


def _drivers(model, categorical, numeric) -> pd.DataFrame:
    """One row per feature of the fitted pipeline, named in words, strongest first."""
    transformer = model[0]
    rows = []
    if numeric:
        imputer = transformer.named_transformers_["numeric"][0]
        rows += [(_label(c), c, None) for c in numeric]
        if imputer.indicator_ is not None:
            rows += [(tr("{feature} not given").format(feature=_label(numeric[i])),
                      numeric[i], MISSING_LEVEL) for i in imputer.indicator_.features_]
    if categorical:
        encoder = transformer.named_transformers_["categorical"][0]
        for col, levels, dropped in zip(categorical, encoder.categories_, encoder.drop_idx_):
            rows += [(f"{_label(col)} = {_level(level)}", col, level)
                     for i, level in enumerate(levels) if dropped is None or i != dropped]
    coefficients = model[-1].coef_[0]
    drivers = pd.DataFrame(rows, columns=["feature", "column", "level"])
    drivers["coefficient"] = coefficients
    drivers["odds_ratio"] = np.exp(coefficients)
    order = np.argsort(-np.abs(coefficients), kind="stable")
    return drivers.iloc[order].reset_index(drop=True)


def auc_interval(auc: float, positives: int, negatives: int, *, z: float = Z95):
    """95% interval of a ROC AUC (Hanley & McNeil 1982), clipped to [0, 1]."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc)
                + (negatives - 1) * (q2 - auc * auc)) / (positives * negatives)
    half = z * math.sqrt(max(variance, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)
