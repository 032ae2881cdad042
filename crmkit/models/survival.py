"""Customer survival: durations for contractual and non-contractual customers, Kaplan-Meier
retention curves by group, retention and at-risk counts at chosen times, log-rank tests.

Durations in, curves and test results out; the estimators are lifelines 0.30.0's.

Two ways to get durations (one row per customer, ``duration`` and ``event`` columns):

* contractual (:func:`contractual_durations`): churn is an event with a date. Duration runs
  from signup to churn, or to ``observation_end`` for customers still active (censored).
* non-contractual (:func:`noncontractual_durations`): churn is inferred from inactivity.
  A customer with no order in the ``inactive_days`` up to ``observation_end`` is churned,
  and the event is dated when the lapse became visible: last order + ``inactive_days``.
  Others are censored at ``observation_end``. So duration = time from first order until
  the customer is *declared* lapsed; every curve is 1.0 before ``inactive_days`` by
  construction, and the last purchase happened ``inactive_days`` before the event.
  Dating the event at the last order instead would need the future to know it was the
  last, and would mix two clocks (last order for churned, today for active customers).
  Only the final lapse counts: a customer who paused for a year and came back is active.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from crmkit.models.clv import DAYS_PER_UNIT, _require_columns, _unit_days

CHURNED_STATUSES = ("churned",)


def contractual_durations(
    customers: pd.DataFrame,
    *,
    observation_end,
    unit: str = "M",
    customer_col: str = "customer_id",
    signup_col: str = "signup_date",
    churn_col: str = "churn_date",
    status_col: str = "status",
    tenure_col: str = "tenure_months",
    churned_statuses: Iterable[str] = CHURNED_STATUSES,
) -> pd.DataFrame:
    """Time as a customer and whether churn was observed, for subscription customers.

    ``customers``: ``customer_col`` and either ``signup_col`` (with ``churn_col`` and/or
    ``status_col``) or ``tenure_col`` (with ``status_col``). Per customer, first rule that
    applies:

    1. signup date known: duration = (churn date or observation_end) - signup; event when
       the churn date is on or before observation_end (a later churn date is censored).
       A status in ``churned_statuses`` without a churn date falls through to rule 2.
    2. tenure_months known: duration = tenure_months; event = status in
       ``churned_statuses``.
    Customers that fit neither, or signed up after observation_end, are left out.

    Returns the customers kept, indexed by ``customer_col``, with all their columns plus
    ``duration`` (in ``unit``: "D", "W" or "M" = 30.4375 days) and ``event`` (bool).
    """
    _require_columns(customers, [customer_col], "customers")
    if signup_col not in customers.columns and tenure_col not in customers.columns:
        raise KeyError(
            f"`customers` needs {signup_col!r} or {tenure_col!r} to compute durations; "
            "pass signup_col= or tenure_col= if they are called differently."
        )
    unit_days = _unit_days(unit)
    end = pd.Timestamp(observation_end).normalize()
    n = len(customers)
    missing_dates = pd.Series(pd.NaT, index=customers.index, dtype="datetime64[ns]")

    def dates(col):
        return pd.to_datetime(customers[col]).dt.normalize() if col in customers else missing_dates

    signup, churn = dates(signup_col), dates(churn_col)
    status_churned = (
        customers[status_col].astype("string").str.strip().str.lower()
        .isin([s.lower() for s in churned_statuses]).fillna(False).to_numpy(dtype=bool)
        if status_col in customers else np.zeros(n, dtype=bool)
    )
    tenure = (
        pd.to_numeric(customers[tenure_col], errors="coerce").to_numpy(dtype=float)
        if tenure_col in customers else np.full(n, np.nan)
    )

    churn_seen = (churn.notna() & (churn <= end)).to_numpy()
    by_dates = (signup.notna() & (signup <= end)).to_numpy() & ~(status_churned & churn.isna().to_numpy())
    stop = churn.where(pd.Series(churn_seen, index=customers.index), end)
    date_duration = (stop - signup).dt.days.to_numpy(dtype=float) / unit_days
    by_tenure = ~by_dates & ~np.isnan(tenure) & ~(signup > end).to_numpy()

    duration = np.where(by_dates, date_duration, tenure * DAYS_PER_UNIT["M"] / unit_days)
    event = np.where(by_dates, churn_seen, status_churned)
    kept = by_dates | by_tenure
    negative = kept & (duration < 0)
    if negative.any():
        ids = customers.loc[negative, customer_col].tolist()[:10]
        raise ValueError(f"Churn before signup (negative duration) for customers {ids}; "
                         "fix the dates before computing survival.")
    out = customers.loc[kept].assign(duration=duration[kept], event=event[kept].astype(bool))
    return out.set_index(customer_col)


def noncontractual_durations(
    orders: pd.DataFrame,
    *,
    observation_end,
    inactive_days: int = 180,
    unit: str = "M",
    customer_col: str = "customer_id",
    date_col: str = "order_date",
) -> pd.DataFrame:
    """Time from first order until a customer is declared lapsed, for retail customers.

    ``orders``: ``customer_col, date_col``; orders after ``observation_end`` and rows
    without a customer are ignored. A customer whose last order is ``inactive_days`` or
    more before ``observation_end`` is churned at last order + ``inactive_days``; the rest
    are censored at ``observation_end`` (see the module docstring for why).

    Returns one row per customer, indexed by ``customer_col``: ``first_order,
    last_order, duration`` (in ``unit``) and ``event`` (bool).
    """
    _require_columns(orders, [customer_col, date_col], "orders")
    unit_days = _unit_days(unit)
    end = pd.Timestamp(observation_end).normalize()
    days = pd.to_datetime(orders[date_col]).dt.normalize()
    keep = orders[customer_col].notna() & (days <= end)
    grouped = days[keep].groupby(orders.loc[keep, customer_col], sort=True)
    out = pd.DataFrame({"first_order": grouped.min(), "last_order": grouped.max()})
    lapse = out["last_order"] + pd.Timedelta(days=inactive_days)
    out["event"] = lapse <= end
    stop = lapse.where(out["event"], end)
    out["duration"] = (stop - out["first_order"]).dt.days / unit_days
    out.index.name = customer_col
    return out[["first_order", "last_order", "duration", "event"]]


# --------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------

ALL = "all"  # group label when no group column is given


def _groups(durations, group_col, duration_col, event_col):
    _require_columns(
        durations, [duration_col, event_col] + ([group_col] if group_col else []), "durations"
    )
    data = durations[[duration_col, event_col] + ([group_col] if group_col else [])]
    data = data.dropna(subset=[duration_col, event_col])
    if data.empty:
        raise ValueError("`durations` has no rows with a duration and an event flag.")
    if group_col is None:
        return [(ALL, data)]
    data = data.dropna(subset=[group_col])
    return list(data.groupby(group_col, sort=True, observed=True))


def _kaplan_meier(group, data, duration_col, event_col, alpha):
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter(alpha=alpha).fit(
        data[duration_col].to_numpy(dtype=float),
        data[event_col].to_numpy(dtype=bool),
        label=str(group),
    )


def survival_curves(
    durations: pd.DataFrame,
    *,
    group_col: str | None = None,
    duration_col: str = "duration",
    event_col: str = "event",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Kaplan-Meier retention curve of each group.

    ``durations``: ``duration_col, event_col`` and, optionally, ``group_col`` (e.g. from
    :func:`contractual_durations` joined with a segment). Returns one row per group and
    event or censoring time, starting at time 0: ``group, time, survival, ci_lower,
    ci_upper`` (pointwise (1 - alpha) interval, lifelines' exponential Greenwood),
    ``at_risk`` (customers still observed just before ``time``), ``events`` and
    ``censored`` at ``time``. The group is ``"all"`` without ``group_col``.
    """
    frames = []
    for group, data in _groups(durations, group_col, duration_col, event_col):
        fit = _kaplan_meier(group, data, duration_col, event_col, alpha)
        table = fit.event_table
        ci = fit.confidence_interval_survival_function_
        frames.append(pd.DataFrame({
            "group": group,
            "time": table.index.to_numpy(dtype=float),
            "survival": fit.survival_function_.iloc[:, 0].to_numpy(),
            "ci_lower": ci.iloc[:, 0].to_numpy(),
            "ci_upper": ci.iloc[:, 1].to_numpy(),
            "at_risk": table["at_risk"].to_numpy(dtype="int64"),
            "events": table["observed"].to_numpy(dtype="int64"),
            "censored": table["censored"].to_numpy(dtype="int64"),
        }))
    return pd.concat(frames, ignore_index=True)


def retention_at(
    durations: pd.DataFrame,
    times: Iterable[float],
    *,
    group_col: str | None = None,
    duration_col: str = "duration",
    event_col: str = "event",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Kaplan-Meier retention and at-risk counts of each group at chosen ``times``.

    Returns one row per group and time: ``group, time, survival, ci_lower, ci_upper,
    at_risk`` (customers with duration >= time: observed and not churned just before it,
    the number printed under a survival plot) and ``churned`` (events up to and
    including ``time``). Past a group's last observed time the curve is carried forward.
    """
    times = [float(t) for t in times]
    if any(t < 0 for t in times):
        raise ValueError(f"`times` must be >= 0; got {times}.")
    rows = []
    for group, data in _groups(durations, group_col, duration_col, event_col):
        fit = _kaplan_meier(group, data, duration_col, event_col, alpha)
        curve = fit.survival_function_.iloc[:, 0]
        ci = fit.confidence_interval_survival_function_
        d = data[duration_col].to_numpy(dtype=float)
        e = data[event_col].to_numpy(dtype=bool)
        for t in times:
            # The last step at or before t (KM curves are right-continuous step functions).
            position = int(np.searchsorted(curve.index.to_numpy(dtype=float), t, side="right")) - 1
            rows.append({
                "group": group,
                "time": t,
                "survival": float(curve.iloc[position]),
                "ci_lower": float(ci.iloc[position, 0]),
                "ci_upper": float(ci.iloc[position, 1]),
                "at_risk": int(np.sum(d >= t)),
                "churned": int(np.sum(e & (d <= t))),
            })
    return pd.DataFrame(rows)


def logrank_test(
    durations: pd.DataFrame,
    *,
    group_col: str,
    duration_col: str = "duration",
    event_col: str = "event",
) -> dict:
    """Log-rank test that all groups share one survival curve (multivariate for > 2 groups).

    Returns ``{"test", "statistic", "degrees_of_freedom", "p_value", "n_groups", "n"}``.
    Raises ValueError with fewer than two groups.
    """
    from lifelines.statistics import multivariate_logrank_test

    groups = _groups(durations, group_col, duration_col, event_col)
    if len(groups) < 2:
        raise ValueError(
            f"The log-rank test needs at least two groups in `{group_col}`; found {len(groups)}."
        )
    data = pd.concat([g for _, g in groups])
    with warnings.catch_warnings():
        # lifelines 0.30.0 calls DataFrame.sum(0) positionally, which pandas 3 deprecates
        # (Pandas4Warning). Harmless here; silenced for lifelines' statistics module only.
        warnings.filterwarnings(
            "ignore", message=r"Starting with pandas version 4\.0 all arguments of sum",
            module=r"lifelines\.statistics",
        )
        result = multivariate_logrank_test(
            data[duration_col].to_numpy(dtype=float),
            data[group_col].astype(str).to_numpy(),
            data[event_col].to_numpy(dtype=bool),
        )
    return {
        "test": "log-rank",
        "statistic": float(result.test_statistic),
        "degrees_of_freedom": int(result.degrees_of_freedom),
        "p_value": float(result.p_value),
        "n_groups": len(groups),
        "n": int(len(data)),
    }
