"""At-risk customers: BG/NBD ranking for retail, logistic churn score for subscriptions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from crmkit.models.risk import churn_features, contractual_churn_risk, noncontractual_risk

CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # weeks


def retail_orders() -> pd.DataFrame:
    steady = pd.date_range("2024-01-09", "2024-12-24", freq="14D")  # every two weeks
    lapsed = pd.date_range("2024-01-09", "2024-03-26", freq="14D")  # then silence
    rows = ([("steady", d, 10.0) for d in steady] + [("lapsed", d, 10.0) for d in lapsed]
            + [("once", pd.Timestamp("2024-02-01"), 40.0),
               ("old", pd.Timestamp("2023-06-01"), 25.0), ("old", pd.Timestamp("2023-07-01"), 25.0)])
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])


def test_noncontractual_risk_ranks_the_lapsed_regular_first():
    orders = retail_orders()
    risk = noncontractual_risk(orders, observation_end="2024-12-31", bgnbd=CDNOW_BGNBD)
    assert risk.index[0] == "lapsed"
    assert risk.loc["lapsed", "p_alive"] < 0.05 < 0.9 < risk.loc["steady", "p_alive"]
    # One-time buyers cannot drop out under BG/NBD: p_alive 1, nothing at risk.
    assert risk.loc["once", "p_alive"] == 1.0
    assert risk.loc["once", "revenue_at_risk"] == 0.0
    # Trailing 365 days up to Dec 31 2024 start on Jan 2 2024: lapsed bought 6 times.
    assert risk.loc["lapsed", "trailing_revenue"] == 60.0
    assert risk.loc["old", "trailing_revenue"] == 0.0
    assert risk.loc["old", "historical_revenue"] == 50.0
    assert risk.loc["steady", "trailing_revenue"] == 10.0 * 26
    assert risk.loc["lapsed", "days_since_last_order"] == 287  # Mar 19 -> Dec 31
    np.testing.assert_allclose(risk["revenue_at_risk"],
                               risk["trailing_revenue"] * (1 - risk["p_alive"]))
    assert risk["revenue_at_risk"].is_monotonic_decreasing
    assert risk.loc["steady", "expected_purchases"] > risk.loc["lapsed", "expected_purchases"]


def test_noncontractual_risk_fits_bgnbd_when_not_given(shared_data):
    from .test_clv import read_cdnow_orders

    risk = noncontractual_risk(read_cdnow_orders(shared_data), observation_end="1997-09-30")
    assert len(risk) == 2357
    assert risk["p_alive"].between(0, 1).all()
    assert risk["revenue_at_risk"].is_monotonic_decreasing
    assert (risk["revenue_at_risk"] <= risk["trailing_revenue"] + 1e-9).all()


def test_churn_features_by_hand():
    customers = pd.DataFrame({
        "customer_id": ["a", "b", "c"],
        "signup_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
        "churn_date": pd.to_datetime(["2024-02-01", None, None]),
        "status": ["churned", "active", "active"],
        "monthly_revenue": [100.0, 50.0, 80.0],
    })
    tickets = pd.DataFrame({
        "ticket_id": [1, 2, 3, 4],
        "customer_id": ["a", "a", "b", "a"],
        "opened_at": pd.to_datetime(["2024-01-10", "2024-01-20", "2024-02-01", "2024-04-01"]),
        "type": ["complaint", "Complaint", "inquiry", "complaint"],  # the last is too late
    })
    surveys = pd.DataFrame({
        "response_id": [1, 2, 3],
        "customer_id": ["a", "b", "b"],
        "date": pd.to_datetime(["2024-01-15", "2024-01-15", "2024-02-15"]),
        "csat": [2.0, 4.0, 5.0],
    })
    features = churn_features(customers, observation_end="2024-03-01", tickets=tickets,
                              surveys=surveys)
    expected = pd.DataFrame(
        {
            "churned": [True, False, False],
            "tenure_months": [31 / 30.4375, 60 / 30.4375, 29 / 30.4375],
            "monthly_revenue": [100.0, 50.0, 80.0],
            "complaints": [2, 0, 0],
            "csat": [2.0, 4.5, np.nan],
        },
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    pdt.assert_frame_equal(features, expected)


def synthetic_subscribers(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Churn driven by complaints (up) and CSAT (down); revenue and tenure are noise."""
    rng = np.random.default_rng(seed)
    complaints = rng.poisson(1.0, n)
    csat = rng.uniform(1, 5, n)
    logit = -1.5 + 1.2 * complaints - 0.9 * (csat - 3)
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {"churned": churned, "tenure_months": rng.uniform(1, 48, n),
         "monthly_revenue": rng.lognormal(4, 0.5, n), "complaints": complaints, "csat": csat},
        index=pd.Index([f"s{i:03d}" for i in range(n)], name="customer_id"),
    )


def test_contractual_churn_risk_finds_the_drivers_and_ranks_revenue_at_risk():
    features = synthetic_subscribers()
    model = contractual_churn_risk(features)
    assert model.features == ("tenure_months", "monthly_revenue", "complaints", "csat")
    assert model.coefficients.loc["complaints", "coefficient"] > 0.5
    assert model.coefficients.loc["csat", "coefficient"] < -0.5
    assert model.cv_auc > 0.75
    assert model.n_customers == 400
    assert model.churn_rate == pytest.approx(features["churned"].mean())

    scores = model.scores
    assert set(scores.index) == set(features.index[~features["churned"]])
    np.testing.assert_allclose(scores["revenue_at_risk"],
                               scores["monthly_revenue"] * 12 * scores["p_churn"])
    assert scores["revenue_at_risk"].is_monotonic_decreasing
    # Among active customers, more complaints -> higher churn probability on average.
    joined = scores.join(features["complaints"])
    by_complaints = joined.groupby(joined["complaints"].clip(upper=2))["p_churn"].mean()
    assert by_complaints.is_monotonic_increasing

    again = contractual_churn_risk(features)
    pdt.assert_frame_equal(model.scores, again.scores)
    assert model.cv_auc == again.cv_auc


def test_contractual_churn_risk_needs_both_outcomes():
    features = synthetic_subscribers(20).assign(churned=False)
    with pytest.raises(ValueError, match="both churned and active"):
        contractual_churn_risk(features)
