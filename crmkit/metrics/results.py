"""What a KPI returns: honest numbers that carry their counts and their uncertainty.

The convention for every KPI in :mod:`crmkit.metrics`
    * ``by=None``: one result object: :class:`Measure` (a sum, count or mean),
      :class:`Rate` (a proportion with its numerator, denominator and Wilson interval) or
      :class:`Nps`.
    * ``by="column"`` (or a list of columns): a DataFrame with the ``by`` columns first and
      then the fields of that same result type, one row per group, sorted by the ``by``
      columns. ``result.to_frame()`` gives the one-row frame of a single result, so both
      shapes line up.
    * KPIs that are tables by nature (over time, distributions, per rep, per customer,
      per campaign, customer mix) always return a DataFrame; their docstrings list the
      columns.
    * A KPI whose table or column is missing returns :class:`NotAvailable` instead of
      raising.

Percentages (rates, shares, growth, ROI, CS) are stored as fractions (0.123) and shown as
percentages (12.3%); NPS is on its own -100..100 scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import re

import numpy as np
import pandas as pd

from crmkit.i18n import tr

# Below this many observations a rate, mean or NPS is marked "too few to say".
MIN_DENOMINATOR = 30
# Two-sided 95% normal quantile.
Z95 = 1.959963984540054

RATE_COLUMNS = ["numerator", "denominator", "value", "ci_low", "ci_high", "too_few"]
MEASURE_COLUMNS = ["value", "n", "ci_low", "ci_high", "too_few"]
NPS_COLUMNS = ["promoters", "passives", "detractors", "n", "value", "ci_low", "ci_high",
               "too_few"]


class MetricUnavailable(Exception):
    """Raised inside a KPI when its data is missing; the registry turns it into NotAvailable."""


@dataclass(frozen=True)
class NotAvailable:
    """A KPI that cannot be computed on this warehouse, and why (``needs tickets``)."""

    reason: str
    metric: str = ""

    def __str__(self) -> str:
        return tr("not available ({reason})").format(reason=reason_text(self.reason))

    def __bool__(self) -> bool:  # `if result:` reads as "was it computed"
        return False


# Letters of the scripts a catalog translates into (CJK, kana, full-width forms): a text
# holding them was already written in the report's language.
_TRANSLATED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def reason_text(text: str) -> str:
    """A reason or note (NotAvailable.reason, a result's note) in the active language.

    A KPI module gives a fixed reason as its English message, marked N_() where it is
    raised: it is translated here. A reason with values in it was written with tr() where
    it was raised, so it is already in the report's language: shown as it is."""
    if not text or _TRANSLATED.search(text):
        return text or ""
    return tr(text)


def format_value(value: float | None, unit: str, *, compact: bool | None = None) -> str:
    """``value`` as text in its ``unit``, in the active locale (crmkit.i18n): 1,234.50 /
    €1,234.50 / 1,234 / 12.3% / +12 / 4.21; money compact (¥374.48万) as
    :func:`crmkit.i18n.money` decides unless ``compact`` says."""
    from crmkit import i18n

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return i18n.missing()
    if unit == "currency":
        return i18n.money(value, compact_form=compact)
    if unit == "count":
        return i18n.number(value)
    if unit == "percent":
        return i18n.percent(value)
    if unit == "nps":
        return i18n.signed(value)
    return i18n.number(value, 2)


@dataclass(frozen=True)
class Measure:
    """A sum, count or mean in ``unit``; ``n`` is how many rows it rests on.

    Means carry a 95% normal-approximation interval and are ``too_few`` below
    :data:`MIN_DENOMINATOR` observations; sums and counts have no interval.
    """

    value: float
    unit: str
    n: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    too_few: bool = False
    note: str = ""

    def __str__(self) -> str:
        if self.too_few:
            return tr("too few to say (n={n})").format(n=format_value(self.n, "count"))
        return format_value(self.value, self.unit)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{c: getattr(self, c) for c in MEASURE_COLUMNS}])


@dataclass(frozen=True)
class Rate:
    """A proportion ``numerator / denominator`` with its Wilson 95% interval.

    ``too_few`` is true when the denominator is below ``min_n`` (default
    :data:`MIN_DENOMINATOR`); the value is still there, but ``str`` says
    "too few to say (n=12)".
    """

    numerator: int
    denominator: int
    value: float
    ci_low: float
    ci_high: float
    too_few: bool
    note: str = ""

    unit = "percent"

    @classmethod
    def from_counts(cls, numerator, denominator, *, min_n: int = MIN_DENOMINATOR,
                    note: str = "") -> Rate:
        """The rate of ``numerator`` successes in ``denominator`` trials."""
        num, den = int(numerator or 0), int(denominator or 0)
        if num < 0 or num > den:
            raise ValueError(f"a rate needs 0 <= numerator <= denominator, got {num}/{den}")
        low, high = wilson_interval(num, den)
        value = num / den if den else math.nan
        return cls(num, den, value, low, high, den < min_n, note)

    def __str__(self) -> str:
        if self.too_few:
            return tr("too few to say (n={n})").format(
                n=format_value(self.denominator, "count"))
        return tr("{value} ({numerator} of {denominator})").format(
            value=format_value(self.value, "percent"),
            numerator=format_value(self.numerator, "count"),
            denominator=format_value(self.denominator, "count"))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{c: getattr(self, c) for c in RATE_COLUMNS}])


@dataclass(frozen=True)
class Nps:
    """Net Promoter Score = 100 × (promoters − detractors) / responses, with a 95% interval.

    The interval is the normal approximation on the trinomial (promoter / passive /
    detractor) variance: Var = (p_P + p_D − (p_P − p_D)²) / n, clipped to [−100, 100].
    """

    promoters: int
    passives: int
    detractors: int
    n: int
    value: float
    ci_low: float
    ci_high: float
    too_few: bool
    note: str = ""

    unit = "nps"

    @classmethod
    def from_counts(cls, promoters, passives, detractors, *, min_n: int = MIN_DENOMINATOR,
                    note: str = "") -> Nps:
        p, m, d = int(promoters or 0), int(passives or 0), int(detractors or 0)
        n = p + m + d
        value, low, high = nps_interval(p, m, d)
        return cls(p, m, d, n, value, low, high, n < min_n, note)

    def __str__(self) -> str:
        if self.too_few:
            return tr("too few to say (n={n})").format(n=format_value(self.n, "count"))
        return tr("{value} ({n} responses)").format(value=format_value(self.value, "nps"),
                                                    n=format_value(self.n, "count"))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{c: getattr(self, c) for c in NPS_COLUMNS}])


def wilson_interval(numerator, denominator, *, z: float = Z95):
    """Wilson score interval for a binomial proportion; arrays broadcast.

    Returns ``(low, high)``; NaN where the denominator is 0.
    """
    k = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2n = z * z / n
        centre = (p + z2n / 2) / (1 + z2n)
        half = z / (1 + z2n) * np.sqrt(p * (1 - p) / n + z2n / (4 * n))
        low, high = centre - half, centre + half
    # Exact bounds at 0/n and n/n (rounding leaves ~1e-17 otherwise: an interval that
    # excludes its own estimate, and negative error bars in charts).
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    low = np.where(n > 0, np.clip(low, 0.0, 1.0), np.nan)
    high = np.where(n > 0, np.clip(high, 0.0, 1.0), np.nan)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def difference_interval(k1, n1, k2, n2, *, z: float = Z95) -> tuple[float, float, float]:
    """p1 − p2 of two independent proportions and its 95% interval by Newcombe's hybrid
    score method (Newcombe 1998, method 10), built on the Wilson intervals above
    (statsmodels, which has it, is not a dependency for five lines). NaNs when either
    denominator is 0."""
    if not n1 or not n2:
        return math.nan, math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, z=z)
    l2, u2 = wilson_interval(k2, n2, z=z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def nps_interval(promoters, passives, detractors, *, z: float = Z95):
    """NPS and its normal-approximation interval; arrays broadcast. NaN when no responses."""
    p = np.asarray(promoters, dtype=float)
    d = np.asarray(detractors, dtype=float)
    n = p + np.asarray(passives, dtype=float) + d
    with np.errstate(divide="ignore", invalid="ignore"):
        pp, pd_ = p / n, d / n
        score = pp - pd_
        se = np.sqrt(np.maximum(pp + pd_ - score**2, 0.0) / n)
        value = np.where(n > 0, 100 * score, np.nan)
        low = np.where(n > 0, np.clip(100 * (score - z * se), -100, 100), np.nan)
        high = np.where(n > 0, np.clip(100 * (score + z * se), -100, 100), np.nan)
    if value.ndim == 0:
        return float(value), float(low), float(high)
    return value, low, high


def mean_interval(mean, std, n, *, z: float = Z95):
    """Normal-approximation interval ``mean ± z·sd/√n``; arrays broadcast, NaN for n < 2."""
    m = np.asarray(mean, dtype=float)
    s = np.asarray(std, dtype=float)
    k = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * s / np.sqrt(k)
    half = np.where(k >= 2, half, np.nan)
    low, high = m - half, m + half
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


# -- frames ------------------------------------------------------------------------------
def frame_with(groups: pd.DataFrame, keys: list[str], columns: dict) -> pd.DataFrame:
    """``groups[keys]`` followed by ``columns`` (arrays, or scalars for every row), index
    0..n-1. One constructor instead of a column assignment each: pandas spends ~0.15 ms per
    assignment, and a redraw of the filter panel builds dozens of these frames."""
    data = {k: groups[k].array for k in keys}
    data.update(columns)
    return pd.DataFrame(data, index=pd.RangeIndex(len(groups)))


def rate_frame(groups: pd.DataFrame, numerator: str, denominator: str, *,
               min_n: int = MIN_DENOMINATOR) -> pd.DataFrame:
    """``groups`` (by columns + counts) -> by columns + :data:`RATE_COLUMNS`."""
    keys = [c for c in groups.columns if c not in (numerator, denominator)]
    num = groups[numerator].fillna(0).to_numpy(dtype="int64")
    den = groups[denominator].fillna(0).to_numpy(dtype="int64")
    low, high = wilson_interval(num, den)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return frame_with(groups, keys, {
        "numerator": num, "denominator": den, "value": value, "ci_low": low,
        "ci_high": high, "too_few": den < min_n})


def mean_frame(groups: pd.DataFrame, *, mean: str = "mean", std: str = "std", n: str = "n",
               min_n: int = MIN_DENOMINATOR, scale: float = 1.0) -> pd.DataFrame:
    """``groups`` (by columns + mean, std, n) -> by columns + :data:`MEASURE_COLUMNS`.

    ``scale`` divides the mean and its interval (CS = S / M uses the scale maximum).
    """
    keys = [c for c in groups.columns if c not in (mean, std, n)]
    low, high = mean_interval(groups[mean], groups[std], groups[n])
    count = groups[n].fillna(0).to_numpy(dtype="int64")
    return frame_with(groups, keys, {
        "value": groups[mean].to_numpy(dtype=float) / scale, "n": count,
        "ci_low": np.asarray(low) / scale, "ci_high": np.asarray(high) / scale,
        "too_few": count < min_n})


def sum_frame(groups: pd.DataFrame, *, value: str, n: str) -> pd.DataFrame:
    """``groups`` (by columns + a total and its row count) -> by columns + MEASURE_COLUMNS."""
    keys = [c for c in groups.columns if c not in (value, n)]
    return frame_with(groups, keys, {
        "value": np.nan_to_num(groups[value].to_numpy(dtype=float), nan=0.0),
        "n": groups[n].fillna(0).to_numpy(dtype="int64"),
        "ci_low": np.nan, "ci_high": np.nan, "too_few": False})


def nps_frame(groups: pd.DataFrame, *, min_n: int = MIN_DENOMINATOR) -> pd.DataFrame:
    """``groups`` (by columns + promoters, passives, detractors) -> by + NPS_COLUMNS."""
    counts = ["promoters", "passives", "detractors"]
    keys = [c for c in groups.columns if c not in counts]
    promoters, passives, detractors = (groups[c].fillna(0).to_numpy(dtype="int64")
                                       for c in counts)
    n = promoters + passives + detractors
    value, low, high = nps_interval(promoters, passives, detractors)
    return frame_with(groups, keys, {
        "promoters": promoters, "passives": passives, "detractors": detractors, "n": n,
        "value": value, "ci_low": low, "ci_high": high, "too_few": n < min_n})


def measure_from_row(row: pd.Series | dict, unit: str, *, note: str = "") -> Measure:
    """The :class:`Measure` of one row of a measure frame."""
    def opt(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    n = row["n"]
    return Measure(float(row["value"]), unit, None if pd.isna(n) else int(n),
                   opt(row["ci_low"]), opt(row["ci_high"]), bool(row["too_few"]), note)

