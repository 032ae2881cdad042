"""Result types: Wilson and NPS intervals, too-few marks, text."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crmkit.metrics import MIN_DENOMINATOR, Measure, NotAvailable, Nps, Rate, wilson_interval
from crmkit.metrics.results import rate_frame

Z = 1.959963984540054


def wilson_by_roots(k: int, n: int) -> tuple[float, float]:
    """Wilson bounds as the roots in p of (k/n − p)² = z² p (1 − p) / n (independent of
    the closed form under test)."""
    phat = k / n
    a = 1 + Z * Z / n
    b = -(2 * phat + Z * Z / n)
    c = phat * phat
    roots = np.sort(np.roots([a, b, c]).real)
    return max(0.0, roots[0]), min(1.0, roots[1])


@pytest.mark.parametrize(("k", "n"), [(7, 20), (1, 29), (81, 263), (150, 150), (3, 1000)])
def test_wilson_matches_the_quadratic_roots(k, n):
    low, high = wilson_interval(k, n)
    expected = wilson_by_roots(k, n)
    assert low == pytest.approx(expected[0], abs=1e-10)
    assert high == pytest.approx(expected[1], abs=1e-10)


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson score).
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe_1998(k, n, low, high):
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=6e-5)


def test_wilson_is_vectorised_and_nan_without_trials():
    low, high = wilson_interval(np.array([0, 5]), np.array([0, 10]))
    assert math.isnan(low[0]) and math.isnan(high[0])
    assert (low[1], high[1]) == pytest.approx(wilson_by_roots(5, 10))


def test_rate_from_counts_and_text():
    rate = Rate.from_counts(37, 300)
    assert (rate.numerator, rate.denominator) == (37, 300)
    assert rate.value == pytest.approx(37 / 300)
    assert (rate.ci_low, rate.ci_high) == pytest.approx(wilson_by_roots(37, 300))
    assert not rate.too_few
    assert str(rate) == "12.3% (37 of 300)"


def test_small_rate_says_too_few_to_say():
    rate = Rate.from_counts(5, 12)
    assert rate.too_few and rate.value == pytest.approx(5 / 12)
    assert str(rate) == "too few to say (n=12)"
    assert Rate.from_counts(5, 12, min_n=10).too_few is False
    empty = Rate.from_counts(0, 0)
    assert math.isnan(empty.value) and str(empty) == "too few to say (n=0)"


def test_rate_rejects_a_numerator_above_the_denominator():
    with pytest.raises(ValueError, match="numerator <= denominator"):
        Rate.from_counts(4, 3)


def test_nps_interval_by_hand():
    # 50 promoters, 30 passives, 20 detractors: NPS 30,
    # Var = (0.5 + 0.2 - 0.3²) / 100 = 0.0061, half-width 100·z·√0.0061.
    score = Nps.from_counts(50, 30, 20)
    half = 100 * Z * math.sqrt(0.0061)
    assert score.value == pytest.approx(30.0)
    assert (score.ci_low, score.ci_high) == pytest.approx((30 - half, 30 + half))
    assert score.n == 100 and not score.too_few
    assert str(score) == "+30 (100 responses)"
    assert str(Nps.from_counts(2, 1, 1)) == "too few to say (n=4)"


def test_nps_interval_is_clipped_to_the_scale():
    score = Nps.from_counts(2, 1, 1)
    assert score.ci_high == 100.0
    assert score.ci_low == pytest.approx(25 - 100 * Z * math.sqrt((0.75 - 0.0625) / 4))


def test_measure_text_by_unit():
    assert str(Measure(1234.5, "currency")) == "1,234.50"
    assert str(Measure(1234.0, "count")) == "1,234"
    assert str(Measure(0.1234, "percent")) == "12.3%"
    assert str(Measure(3.5, "score", n=4, too_few=True)) == "too few to say (n=4)"


def test_not_available_reads_and_is_falsy():
    na = NotAvailable("needs tickets")
    assert str(na) == "not available (needs tickets)"
    assert not na


def test_rate_frame_columns():
    groups = pd.DataFrame({"region": ["East", "West"], "num": [3, 40], "den": [10, 50]})
    got = rate_frame(groups, "num", "den")
    low, high = zip(wilson_by_roots(3, 10), wilson_by_roots(40, 50))
    expected = pd.DataFrame({
        "region": ["East", "West"], "numerator": [3, 40], "denominator": [10, 50],
        "value": [0.3, 0.8], "ci_low": list(low), "ci_high": list(high),
        "too_few": [True, False]})
    pd.testing.assert_frame_equal(got, expected)
    assert MIN_DENOMINATOR == 30
