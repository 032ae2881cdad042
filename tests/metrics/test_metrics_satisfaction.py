"""Satisfaction KPIs on data without orders: the service rates count the customers table,
and the customers' own score. Hand-made tables with the expected results written out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import crmkit.metrics as m
from crmkit.metrics import Filters, Measure, NotAvailable, Rate, wilson_interval
from crmkit.metrics.results import Z95
from crmkit.warehouse import Warehouse

Q1 = Filters(start="2025-01-01", end="2025-03-31")


def customers() -> pd.DataFrame:
    """Six customers of a snapshot: c3 has no score, c5 has churned."""
    return pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "segment": ["SMB", "SMB", "SMB", "Consumer", "Consumer", "Consumer"],
        "churned": [False, False, True, False, True, False],
        "satisfaction": [5.0, 4.0, None, 2.0, 1.0, 3.0],
    })


def tickets() -> pd.DataFrame:
    """Q1: c1 and c2 (twice) complain, c3 is followed up; c4 complains in April; x9 is
    not a customer of the table."""
    return pd.DataFrame({
        "ticket_id": [f"t{i}" for i in range(1, 8)],
        "opened_at": pd.to_datetime(["2025-01-05", "2025-02-01", "2025-02-20", "2025-03-03",
                                     "2025-04-02", "2025-03-10", "2025-03-15"]),
        "customer_id": ["c1", "c2", "c2", "c3", "c4", "x9", "c6"],
        "type": ["complaint", "complaint", "complaint", "follow_up", "complaint",
                 "complaint", "inquiry"],
    })


@pytest.fixture(scope="module")
def snapshot() -> Warehouse:
    return Warehouse.from_frames({"customers": customers(), "tickets": tickets()})


def test_without_orders_the_service_rates_count_the_customers_table(snapshot):
    # Every customer of the table, churned c3 and c5 included; x9 is not one of them.
    assert m.complaint_rate(snapshot, Q1) == Rate.from_counts(2, 6)
    assert m.follow_up_rate(snapshot, Q1) == Rate.from_counts(1, 6)
    low, high = wilson_interval([0, 2], [3, 3])
    expected = pd.DataFrame({"segment": ["Consumer", "SMB"], "numerator": [0, 2],
                             "denominator": [3, 3], "value": [0.0, 2 / 3], "ci_low": low,
                             "ci_high": high, "too_few": [True, True]})
    assert_frame_equal(m.complaint_rate(snapshot, Q1, by="segment"), expected,
                       check_dtype=False)
    assert m.complaint_rate(snapshot, Filters(start="2025-01-01", end="2025-03-31",
                                              segment="Consumer")) == Rate.from_counts(0, 3)


def test_a_period_without_any_ticket_is_not_a_zero_rate(snapshot):
    got = m.complaint_rate(snapshot, Filters(start="2030-01-01", end="2030-03-31"))
    assert isinstance(got, NotAvailable)
    assert got.reason == ("no ticket of any kind was opened in the period: the tickets do "
                          "not cover it")


def test_without_orders_or_customers_the_rates_say_what_they_need():
    got = m.complaint_rate(Warehouse.from_frames({"tickets": tickets()}), Q1)
    assert got.reason == "needs customers or orders"


def test_customer_satisfaction_is_the_mean_of_the_scored_customers(snapshot):
    scores = np.array([5.0, 4.0, 2.0, 1.0, 3.0])
    half = Z95 * scores.std(ddof=1) / np.sqrt(5)
    got = m.customer_satisfaction(snapshot, Q1)
    assert got == Measure(3.0, "score", 5, pytest.approx(3.0 - half),
                          pytest.approx(3.0 + half), True)
    # The score has no date: any period gives the same.
    assert m.customer_satisfaction(snapshot, Filters(start="2030-01-01")).value == 3.0
    by = m.customer_satisfaction(snapshot, by="segment")
    assert by["segment"].tolist() == ["Consumer", "SMB"]
    assert by["value"].tolist() == [2.0, 4.5]
    assert by["n"].tolist() == [3, 2]


def test_customer_satisfaction_distribution_counts_customers_without_a_score_apart(snapshot):
    got = m.customer_satisfaction_distribution(snapshot)
    low, high = wilson_interval([1] * 5, [5] * 5)
    expected = pd.DataFrame({"score": [1.0, 2.0, 3.0, 4.0, 5.0], "numerator": [1] * 5,
                             "denominator": [5] * 5, "value": [0.2] * 5, "ci_low": low,
                             "ci_high": high, "too_few": [True] * 5})
    assert_frame_equal(got, expected, check_dtype=False)
    assert got.attrs["without_score"] == 1


def test_customer_scores_say_what_they_need():
    empty = Warehouse.from_frames({"customers": customers().assign(satisfaction=np.nan)})
    assert m.customer_satisfaction(empty).reason == (
        "needs customers' satisfaction scores: customers.satisfaction is empty")
    none = Warehouse.from_frames({"customers": customers().drop(columns="satisfaction")})
    assert m.customer_satisfaction_distribution(none).reason == "needs customers.satisfaction"


@pytest.mark.slow
def test_the_same_on_postgres(snapshot, postgres_url):
    from tests.metrics.test_metrics_postgres import assert_same, postgres_warehouse

    pg = postgres_warehouse(postgres_url, {"customers": customers(), "tickets": tickets()})
    try:
        for name in ("complaint_rate", "follow_up_rate", "customer_satisfaction",
                     "customer_satisfaction_distribution"):
            for options in ({}, {"by": "segment"}):
                a, b = (m.get_metric(name)(wh, Q1, **options) for wh in (snapshot, pg))
                assert not isinstance(a, NotAvailable), name
                assert_same(a, b, f"{name}({options})")
    finally:
        pg.close()
