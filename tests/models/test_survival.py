"""Survival: durations from both kinds of business, Kaplan-Meier by hand, log-rank by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from scipy import stats

from crmkit.models.survival import (
    contractual_durations,
    logrank_test,
    noncontractual_durations,
    retention_at,
    survival_curves,
)


def test_contractual_durations_by_hand():
    customers = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e", "f", "g"],
        "signup_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", None,
                                       "2024-02-01", "2024-05-01", None]),
        "churn_date": pd.to_datetime(["2024-01-11", "2024-12-01", None, None, None, None, None]),
        "status": ["churned", "churned", "active", "Churned", "churned", "active", "active"],
        "tenure_months": [None, None, None, 3, None, None, 2],
    })
    durations = contractual_durations(customers, observation_end="2024-03-01", unit="D")
    # a: churned after 10 days. b: churns after observation_end -> censored at Mar 1 (60
    # days, 2024 is a leap year). c: active, 29 days. d, g: no dates, tenure in months.
    # e: churned with neither a date nor a tenure, f: signed up later -> both left out.
    assert durations.index.tolist() == ["a", "b", "c", "d", "g"]
    pdt.assert_series_equal(
        durations["duration"],
        pd.Series([10.0, 60.0, 29.0, 3 * 30.4375, 2 * 30.4375], index=durations.index,
                  name="duration"),
    )
    assert durations["event"].tolist() == [True, False, False, True, False]
    assert "status" in durations.columns  # customer attributes stay for grouping


def test_contractual_durations_refuse_churn_before_signup():
    customers = pd.DataFrame({"customer_id": ["x"], "signup_date": ["2024-02-01"],
                              "churn_date": ["2024-01-01"], "status": ["churned"]})
    with pytest.raises(ValueError, match="negative duration"):
        contractual_durations(customers, observation_end="2024-03-01")


def test_noncontractual_durations_by_hand():
    orders = pd.DataFrame({
        "customer_id": ["1", "1", "2", "3", "4", "5", None],
        "order_date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-06-01", "2024-09-01",
                                      "2024-07-04", "2025-01-05", "2024-05-05"]),
    })
    durations = noncontractual_durations(orders, observation_end="2024-12-31",
                                         inactive_days=180, unit="D")
    # 1: last order Mar 1, lapsed Aug 28 = 60 + 180 days after the first order.
    # 2: one order Jun 1, lapsed Nov 28 (180 days). 3: Sep 1 + 180 is after the end ->
    # censored at Dec 31, 121 days. 4: Jul 4 is exactly 180 days before Dec 31 -> lapsed.
    # 5 ordered only after the end; the guest sale has no customer.
    expected = pd.DataFrame(
        {
            "first_order": pd.to_datetime(["2024-01-01", "2024-06-01", "2024-09-01",
                                           "2024-07-04"]),
            "last_order": pd.to_datetime(["2024-03-01", "2024-06-01", "2024-09-01",
                                          "2024-07-04"]),
            "duration": [240.0, 180.0, 121.0, 180.0],
            "event": [True, True, False, True],
        },
        index=pd.Index(["1", "2", "3", "4"], name="customer_id"),
    )
    pdt.assert_frame_equal(durations, expected)


# Eight customers, months: churn at 2, 3, 5, 8, 8; censored at 3, 6, 10.
KM_DURATIONS = pd.DataFrame({
    "duration": [2, 3, 3, 5, 6, 8, 8, 10],
    "event": [True, True, False, True, False, True, True, False],
})


def test_kaplan_meier_matches_a_hand_computed_curve():
    curve = survival_curves(KM_DURATIONS)
    # S(t) = prod (1 - d_i / n_i): 2: 7/8; 3: x 6/7 (one churn of 7, one censored);
    # 5: x 4/5; 6: censored; 8: x 1/3 (two churns of 3); 10: censored.
    expected_survival = [1.0, 7 / 8, 7 / 8 * 6 / 7, 7 / 8 * 6 / 7 * 4 / 5,
                         7 / 8 * 6 / 7 * 4 / 5, 7 / 8 * 6 / 7 * 4 / 5 / 3,
                         7 / 8 * 6 / 7 * 4 / 5 / 3]
    assert curve["time"].tolist() == [0, 2, 3, 5, 6, 8, 10]
    np.testing.assert_allclose(curve["survival"], expected_survival, rtol=1e-12)
    assert curve["at_risk"].tolist() == [8, 8, 7, 5, 4, 3, 1]
    assert curve["events"].tolist() == [0, 1, 1, 1, 0, 2, 0]
    assert curve["censored"].tolist() == [0, 0, 1, 0, 1, 0, 1]
    assert (curve["group"] == "all").all()
    assert (curve["ci_lower"] <= curve["survival"]).all()
    assert (curve["survival"] <= curve["ci_upper"]).all()


def test_retention_and_at_risk_at_chosen_times():
    table = retention_at(KM_DURATIONS, [0, 3, 4, 9, 12])
    np.testing.assert_allclose(table["survival"], [1.0, 0.75, 0.75, 0.2, 0.2], rtol=1e-12)
    # At risk at t: durations >= t. Churned by t: events with duration <= t.
    assert table["at_risk"].tolist() == [8, 7, 5, 1, 0]
    assert table["churned"].tolist() == [0, 2, 2, 5, 5]


def test_survival_by_group_and_log_rank_by_hand():
    # Group A churns at 1, 2, 3; group B at 4, 5, 6.
    durations = pd.DataFrame({"duration": [1, 2, 3, 4, 5, 6], "event": [True] * 6,
                              "segment": ["A", "A", "A", "B", "B", "B"]})
    curves = survival_curves(durations, group_col="segment")
    assert curves.groupby("group")["survival"].last().tolist() == [0.0, 0.0]
    assert curves.loc[curves["group"] == "B", "time"].tolist() == [0, 4, 5, 6]

    result = logrank_test(durations, group_col="segment")
    # Expected churns of A at t = 1, 2, 3: 3/6, 2/5, 1/4 (none later): E = 1.15, O = 3.
    # Variances n_A n_B d (n - d) / (n^2 (n - 1)): 0.25, 0.24, 0.1875 -> V = 0.6775.
    statistic = (3 - 1.15) ** 2 / 0.6775
    assert result["statistic"] == pytest.approx(statistic, rel=1e-9)
    assert result["p_value"] == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-9)
    assert result["degrees_of_freedom"] == 1
    assert (result["n_groups"], result["n"]) == (2, 6)


def test_log_rank_needs_two_groups():
    durations = KM_DURATIONS.assign(segment="only")
    with pytest.raises(ValueError, match="at least two groups"):
        logrank_test(durations, group_col="segment")


def test_lifelines_emits_no_warnings_on_pandas_3():
    durations = KM_DURATIONS.assign(segment=list("xyxyxyxy"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        survival_curves(durations, group_col="segment")
        retention_at(durations, [1, 5], group_col="segment")
        logrank_test(durations.assign(segment=list("xyzxyzxy")), group_col="segment")
