"""CLV models: the RFM summary by hand, BG/NBD and Gamma-Gamma against published CDNOW values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from crmkit.models import (
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
    rfm_summary,
)
from crmkit.models.clv import bgnbd_log_likelihood

# Fader, Hardie & Lee (2005); Fader & Hardie (2013). CDNOW sample, weeks, 39-week calibration.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LOG_LIKELIHOOD = -9582.4
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def read_cdnow_orders(shared_data) -> pd.DataFrame:
    raw = pd.read_csv(
        shared_data / "cdnow" / "CDNOW_sample.txt", sep=r"\s+", header=None,
        names=["customer_index", "customer_id", "date", "number_of_cds", "dollar_value"],
        dtype={"date": str},
    )
    return pd.DataFrame({
        "customer_id": raw["customer_id"].astype("int64"),
        "order_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "amount": raw["dollar_value"].astype(float),
    })


@pytest.fixture
def cdnow_summary(shared_data) -> pd.DataFrame:
    return rfm_summary(read_cdnow_orders(shared_data), observation_end="1997-09-30",
                       time_unit="W")


def test_rfm_summary_by_hand():
    orders = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c1", "c2", "c2", "c3", "c3", "c3", None],
        "order_date": pd.to_datetime([
            "2024-01-01", "2024-01-01", "2024-01-15", "2024-02-12",  # c1: two on day one
            "2024-02-01", "2024-04-02",  # c2: the second is after observation_end
            "2024-01-08", "2024-03-04", "2024-03-04",  # c3: two on the last day
            "2024-01-20",  # a guest sale
        ]),
        "amount": [10.0, 5.0, 20.0, 30.0, 50.0, 70.0, 12.0, 8.0, 4.0, 99.0],
    })
    summary = rfm_summary(orders, observation_end="2024-03-31", time_unit="W")
    # c1: days Jan 1 (15), Jan 15 (20), Feb 12 (30): 2 repeats, last 42 days after the
    #     first, 90 days to Mar 31 (2024 is a leap year), repeat mean (20 + 30) / 2.
    # c2: one day in the window, 59 days to Mar 31.
    # c3: days Jan 8 (12) and Mar 4 (8 + 4): 1 repeat, 56 days apart, 83 days to Mar 31.
    expected = pd.DataFrame(
        {
            "frequency": [2, 0, 1],
            "recency": [42 / 7, 0.0, 56 / 7],
            "T": [90 / 7, 59 / 7, 83 / 7],
            "monetary_value": [25.0, 0.0, 12.0],
        },
        index=pd.Index(["c1", "c2", "c3"], name="customer_id"),
    )
    pdt.assert_frame_equal(summary, expected)

    in_days = rfm_summary(orders, observation_end="2024-03-31", time_unit="D")
    pdt.assert_series_equal(in_days["T"], pd.Series([90.0, 59.0, 83.0], index=expected.index,
                                                    name="T"))


def test_rfm_summary_calibration_start_and_custom_columns():
    orders = pd.DataFrame({
        "who": [1, 1, 1],
        "when": pd.to_datetime(["2023-12-20", "2024-01-10", "2024-01-24"]),
        "value": [100.0, 10.0, 30.0],
    })
    summary = rfm_summary(orders, observation_end="2024-01-31", time_unit="D",
                          calibration_start="2024-01-01",
                          customer_col="who", date_col="when", amount_col="value")
    expected = pd.DataFrame({"frequency": [1], "recency": [14.0], "T": [21.0],
                             "monetary_value": [30.0]},
                            index=pd.Index([1], name="who"))
    pdt.assert_frame_equal(summary, expected)


def test_rfm_summary_names_a_missing_column():
    orders = pd.DataFrame({"customer_id": [1], "order_date": ["2024-01-01"]})
    with pytest.raises(KeyError, match="amount"):
        rfm_summary(orders, observation_end="2024-02-01")


def test_cdnow_summary_matches_the_published_summary(shared_data, cdnow_summary):
    published = pd.read_csv(
        shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv", index_col="ID"
    )
    assert len(cdnow_summary) == len(published) == 2357
    mine = cdnow_summary.reindex(published.index)
    np.testing.assert_array_equal(mine["frequency"].to_numpy(), published["x"].to_numpy())
    # The published file rounds to two decimals.
    np.testing.assert_allclose(mine["recency"], published["t_x"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(mine["T"], published["T"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(mine["monetary_value"], published["zbar"], atol=0.005 + 1e-9)
    assert (cdnow_summary["frequency"] > 0).sum() == 946


def test_bgnbd_reproduces_published_cdnow_parameters(cdnow_summary):
    fitted = fit_bgnbd(cdnow_summary)
    for name, value in PUBLISHED_BGNBD.items():
        assert fitted[name] == pytest.approx(value, rel=0.01), name
    assert fitted["log_likelihood"] == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.1)
    assert fitted["n_customers"] == 2357
    # The maximum: the published (rounded) parameters cannot do better.
    assert bgnbd_log_likelihood(PUBLISHED_BGNBD, cdnow_summary) <= fitted["log_likelihood"]


def test_gamma_gamma_reproduces_published_cdnow_parameters(cdnow_summary):
    fitted = fit_gamma_gamma(cdnow_summary)
    assert fitted["n_customers"] == 946
    for name, value in PUBLISHED_GG.items():
        assert fitted[name] == pytest.approx(value, rel=0.02), name


def test_conditional_expectation_matches_hardies_spreadsheet():
    # Hardie's BG/NBD Excel sheet (used by lifetimes' tests): x=2, t_x=30.43, T=38.86 ->
    # 1.226 purchases expected in the next 39 weeks.
    customer = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert expected_purchases(PUBLISHED_BGNBD, 39, customer).iloc[0] == pytest.approx(
        1.226, abs=0.001)
    assert expected_purchases(PUBLISHED_BGNBD, 0, customer).iloc[0] == 0.0


def test_probability_alive_closed_forms():
    p = PUBLISHED_BGNBD
    customers = pd.DataFrame({"frequency": [0, 1, 3], "recency": [0.0, 20.0, 5.0],
                              "T": [30.0, 20.0, 40.0]})
    alive = probability_alive(p, customers)
    # No repeat purchase: the model has not let the customer drop out.
    assert alive.iloc[0] == 1.0
    # Bought just now (recency == T) once: 1 / (1 + a / b) = b / (a + b).
    assert alive.iloc[1] == pytest.approx(p["b"] / (p["a"] + p["b"]), rel=1e-12)
    # Silent for 35 weeks after 3 repeats: far more likely gone.
    assert alive.iloc[2] < 0.2


def test_expected_spend_matches_hardies_spreadsheet(cdnow_summary):
    # Hardie's Gamma-Gamma spreadsheet (brucehardie.com/notes/025), first ten customers,
    # as quoted in lifetimes' tests; the rounded parameters move the values a few cents.
    spreadsheet = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    spend = expected_spend(PUBLISHED_GG, cdnow_summary.loc[list(range(1, 11))])
    np.testing.assert_allclose(spend.to_numpy(), spreadsheet, atol=0.1)


def test_customer_lifetime_value_sums_discounted_monthly_purchases(cdnow_summary):
    customers = cdnow_summary.head(50)
    undiscounted = customer_lifetime_value(PUBLISHED_BGNBD, PUBLISHED_GG, customers,
                                           horizon_months=12, discount_rate=0.0)
    # Without discounting the monthly increments telescope to 12 months' purchases.
    twelve_months = expected_purchases(PUBLISHED_BGNBD, 12 * 30.4375 / 7, customers)
    spend = expected_spend(PUBLISHED_GG, customers)
    np.testing.assert_allclose(undiscounted, spend * twelve_months, rtol=1e-10)

    discounted = customer_lifetime_value(PUBLISHED_BGNBD, PUBLISHED_GG, customers,
                                         horizon_months=12, discount_rate=0.01)
    assert (discounted < undiscounted).all()
    assert (discounted > undiscounted / 1.01**12).all()
    one_month = customer_lifetime_value(PUBLISHED_BGNBD, PUBLISHED_GG, customers,
                                        horizon_months=1, discount_rate=0.01)
    first_month = expected_purchases(PUBLISHED_BGNBD, 30.4375 / 7, customers)
    np.testing.assert_allclose(one_month, spend * first_month / 1.01, rtol=1e-10)


def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, T: float,
                   seed: int = 1) -> pd.DataFrame:
    """frequency, recency, T of ``n`` customers drawn from the BG/NBD process (FHL 2005):
    purchases at Poisson rate lambda ~ Gamma(r, alpha); after each repeat purchase the
    customer drops out with probability p ~ Beta(a, b)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    t, x, t_x = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        t[active] += rng.exponential(1 / rate[active])
        bought = active & (t <= T)
        x[bought] += 1
        t_x[bought] = t[bought]
        active = bought & (rng.random(n) >= drop)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": np.full(n, T)})


def test_bgnbd_recovers_simulated_parameters_on_a_large_base():
    """On 40,000 simulated customers the fit lands on the maximum (at least the likelihood
    of the true parameters) and near the true parameters; a stopping rule that cannot be
    met at this likelihood's size would not finish, one that stops early would miss."""
    true = {"r": 0.8, "alpha": 5.0, "a": 0.4, "b": 2.5}
    summary = simulate_bgnbd(40_000, **true, T=52.0)
    fitted = fit_bgnbd(summary)
    assert fitted["log_likelihood"] >= bgnbd_log_likelihood(true, summary) - 1e-6
    for name, value in true.items():
        assert fitted[name] == pytest.approx(value, rel=0.15), name


@pytest.mark.parametrize("fit", [fit_bgnbd, fit_gamma_gamma])
def test_fits_use_an_exact_gradient_and_stop_without_the_fallback(cdnow_summary, fit,
                                                                  monkeypatch):
    """The objective BFGS gets returns the gradient of the value it returns (checked
    against finite differences at the start and away from it), and BFGS itself reports
    convergence on CDNOW: the slower Nelder-Mead fallback is not needed."""
    from scipy import optimize

    runs = []
    minimize = optimize.minimize

    def recording(fun, x0, **kwargs):
        result = minimize(fun, x0, **kwargs)
        runs.append((fun, np.asarray(x0), kwargs, result))
        return result

    monkeypatch.setattr(optimize, "minimize", recording)
    fit(cdnow_summary)
    assert [kw.get("method") for _, _, kw, _ in runs] == ["BFGS"]
    fun, start, kwargs, result = runs[0]
    assert kwargs["jac"] is True and result.success, result.message
    for point in (start, start + 0.3, result.x):
        value, gradient = fun(point)
        numeric = optimize.approx_fprime(point, lambda p: fun(p)[0], 1e-6)
        assert np.isfinite(value)
        assert gradient == pytest.approx(numeric, rel=1e-3, abs=0.05)


def test_nelder_mead_settles_a_fit_bfgs_does_not_report_converged(cdnow_summary, monkeypatch):
    """With a stopping bound BFGS cannot meet it ends unconverged; Nelder-Mead then
    settles the fit from there, at the published optimum."""
    from scipy import optimize

    from crmkit.models import clv

    methods = []
    minimize = optimize.minimize

    def recording(fun, x0, **kwargs):
        methods.append(kwargs.get("method"))
        return minimize(fun, x0, **kwargs)

    monkeypatch.setattr(optimize, "minimize", recording)
    monkeypatch.setattr(clv, "GTOL_PER_CUSTOMER", 0.0)
    fitted = fit_gamma_gamma(cdnow_summary)
    assert methods == ["BFGS", "Nelder-Mead"]
    for name, value in PUBLISHED_GG.items():
        assert fitted[name] == pytest.approx(value, rel=0.02), name
