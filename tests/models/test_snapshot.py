"""Snapshot churn models: Kaplan–Meier on tenure and the out-of-sample churn risk score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from crmkit.models.snapshot import (
    auc_interval,
    churn_model_features,
    snapshot_churn_model,
    snapshot_durations,
    snapshot_retention,
)


def six_customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": list("abcdefg"),
        "plan": ["Basic", "Basic", "Pro", "Pro", "Pro", "Basic", None],
        "tenure_months": [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, np.nan],
        "churned": [True, False, True, True, False, True, False],
    })


def test_durations_are_tenure_and_the_churn_flag():
    got = snapshot_durations(six_customers())
    assert got["customer_id"].tolist() == list("abcdef")  # g has no tenure
    assert got["duration"].tolist() == [1.0, 2.0, 2.0, 3.0, 4.0, 5.0]
    assert got["event"].tolist() == [True, False, True, True, False, True]
    with pytest.raises(ValueError, match="negative"):
        snapshot_durations(six_customers().assign(tenure_months=-1.0))


def test_retention_by_hand():
    # 6 at risk at 1, one churns: 5/6; 5 at risk at 2, one churns: 2/3; 3 at risk at 3,
    # one churns: 4/9; censored at 4; the last churns at 5: 0.
    got = snapshot_retention(six_customers(), months=[0, 2, 3, 5, 6])
    expected = pd.DataFrame({
        "months": [0.0, 2.0, 3.0, 5.0, 6.0],
        "retained": [1.0, 2 / 3, 4 / 9, 0.0, np.nan],
        "at_risk": [6, 5, 3, 1, 0], "churned": [0, 2, 3, 4, 4], "customers": [6] * 5})
    pdt.assert_frame_equal(got.drop(columns=["ci_low", "ci_high"]), expected,
                           check_dtype=False)


def test_retention_by_group_and_from_counts():
    customers = six_customers()
    by_plan = snapshot_retention(customers, months=[2], group_cols="plan")
    # Basic: a churns at 1 (1 of 3), b censored at 2 -> 2/3; Pro: c churns at 2 of 3 -> 2/3.
    assert by_plan["plan"].tolist() == ["Basic", "Pro"]  # g, without a plan, is no group
    np.testing.assert_allclose(by_plan["retained"], [2 / 3, 2 / 3])
    # One row per (tenure, flag) with its count gives the same curve and interval.
    counts = (customers.dropna(subset=["tenure_months"])
              .groupby(["tenure_months", "churned"]).size().rename("n").reset_index())
    months = [1, 2, 3, 4]
    pdt.assert_frame_equal(snapshot_retention(counts, months=months, weight_col="n"),
                           snapshot_retention(customers, months=months))


def churn_snapshot(n: int = 600, seed: int = 1) -> pd.DataFrame:
    """Churn driven by contract and tenure; ``lucky`` is noise with 20 values."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n)
    tenure = rng.integers(0, 72, n).astype(float)
    logit = -1.0 + 2.0 * (contract == "Month-to-month") - 1.5 * (contract == "Two year") \
        - 0.03 * tenure
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({
        "customer_id": [f"c{i:04d}" for i in range(n)],
        "contract": contract,
        "paperless_billing": rng.choice(["Yes", "No"], n),
        "lucky": rng.choice([f"L{i}" for i in range(20)], n),
        "tenure_months": tenure,
        "monthly_revenue": rng.gamma(4.0, 15.0, n).round(2),
        "satisfaction": np.where(rng.random(n) < 0.2, np.nan, rng.integers(1, 6, n)),
        "signup_date": pd.Timestamp("2025-12-31") - pd.to_timedelta(tenure * 30, unit="D"),
        "status": np.where(churned, "churned", "active"),
        "churn_reason": np.where(churned, "Price", None),
        "email": [f"c{i}@example.com" for i in range(n)],
        "churned": churned,
    })


def test_features_are_inferred_from_the_columns_the_data_has():
    categorical, numeric, left_out = churn_model_features(
        churn_snapshot().assign(region="North", note=[f"n{i}" for i in range(600)]))
    assert categorical == ["contract", "paperless_billing", "lucky"]
    assert numeric == ["tenure_months", "monthly_revenue", "satisfaction"]
    assert left_out == {"customer_id": "excluded", "signup_date": "excluded",
                        "status": "excluded", "churn_reason": "excluded",
                        "email": "excluded", "churned": "excluded",
                        "region": "a single value", "note": "more than 30 distinct values"}


def test_churn_model_scores_active_customers_out_of_sample():
    customers = churn_snapshot()
    model = snapshot_churn_model(customers)
    active = customers.loc[~customers["churned"], "customer_id"]
    assert sorted(model.scores.index) == sorted(active)
    assert model.scores["p_churn"].is_monotonic_decreasing
    assert model.scores.columns.tolist() == ["p_churn", "monthly_revenue"]
    assert (model.n, model.n_churned, model.folds) == (600, customers["churned"].sum(), 5)
    assert 0.75 < model.auc < 0.95
    assert model.auc_ci_low < model.auc < model.auc_ci_high
    # The drivers in words, strongest first: the contract, then tenure.
    drivers = model.drivers
    assert drivers.columns.tolist() == ["feature", "column", "level", "coefficient",
                                        "odds_ratio"]
    top = drivers.set_index("feature")["coefficient"]
    assert drivers["feature"].iloc[0].startswith("contract = ")
    assert top["contract = Month-to-month"] > 0 > top["contract = Two year"]
    assert top["tenure in months"] < 0
    assert "satisfaction not given" in top  # the missing-value indicator
    assert "paperless billing = Yes" in top and "paperless billing = No" not in top
    # Same seed, same scores.
    pdt.assert_frame_equal(snapshot_churn_model(customers).scores, model.scores)
    assert len(model.at_risk(0.5)) == (model.scores["p_churn"] > 0.5).sum()


def test_churn_model_auc_is_measured_on_customers_it_did_not_see():
    # Labels unrelated to every feature: a model scored in sample would find a pattern
    # in the 20-valued noise column; out of fold it ranks no better than chance.
    customers = churn_snapshot(seed=5)
    noise = np.random.default_rng(9).random(len(customers)) < 0.3
    model = snapshot_churn_model(customers.assign(churned=noise),
                                 categorical=["lucky"], numeric=["monthly_revenue"])
    assert model.auc < 0.6
    assert model.categorical == ("lucky",) and model.numeric == ("monthly_revenue",)


def test_churn_model_needs_churned_and_active_customers():
    customers = churn_snapshot().head(40).assign(churned=[True] + [False] * 39)
    with pytest.raises(ValueError, match="at least 2 churned and 2 active"):
        snapshot_churn_model(customers)


def test_auc_interval_hanley_mcneil():
    # A = 0.8, 50 churned and 50 active: Q1 = 0.8 / 1.2 = 2/3, Q2 = 2·0.64 / 1.8 = 32/45,
    # SE² = (0.16 + 49·(2/3 − 0.64) + 49·(32/45 − 0.64)) / 2500 = 0.00198044.
    low, high = auc_interval(0.8, 50, 50)
    se = 0.00198044444 ** 0.5
    assert (low, high) == pytest.approx((0.8 - 1.959964 * se, 0.8 + 1.959964 * se))
    assert auc_interval(0.99, 5, 5)[1] == 1.0  # clipped
