"""Campaign effect: each campaign's cost, attributed revenue, ROI and cost per acquisition
against pandas written here, on the retail and the b2b samples; campaigns without a cost
or without leads; the comparison of campaign leads with the others."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmkit.metrics as m
from crmkit.metrics import Filters, NotAvailable
from crmkit.metrics.results import difference_interval, wilson_interval
from crmkit.warehouse import Warehouse
from tests.metrics.conftest import SAMPLE_B2B, sample_frames, tiny_frames

ROOT = Path(__file__).resolve().parents[2]
PERIOD = dict(start="2024-01-01", end="2024-12-31")


@pytest.fixture(scope="module")
def b2b_wh() -> Warehouse:
    return Warehouse.from_frames(sample_frames(SAMPLE_B2B))


def _csv(folder: str, name: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / folder / f"{name}.csv", dtype={"campaign_id": str})


def _compare(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.set_index("campaign_id").sort_index()
    expected = expected.set_index("campaign_id").sort_index()
    assert list(got.index) == list(expected.index)
    for column in expected.columns:
        np.testing.assert_allclose(got[column].astype(float), expected[column].astype(float),
                                   rtol=1e-9, equal_nan=True, err_msg=column)


def test_retail_campaigns_match_pandas(sample_wh):
    """Orders carry the campaign: attributed revenue = net revenue of the campaign's orders
    (cancelled left out, returns deducted) up to the period end; conversions = converted
    leads."""
    end = pd.Timestamp(PERIOD["end"]) + pd.Timedelta(days=1)
    camp = _csv("data/sample", "campaigns")
    camp["start_date"] = pd.to_datetime(camp["start_date"])
    camp = camp[camp["start_date"].between(PERIOD["start"], PERIOD["end"])]
    orders = _csv("data/sample", "orders")
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    status = orders["status"].str.lower()
    sold = orders[(orders["order_date"] < end) & (status != "cancelled")]
    revenue = sold.groupby("campaign_id")["amount"].sum()
    leads = _csv("data/sample", "leads")
    leads = leads[pd.to_datetime(leads["created_date"]) < end]
    converted = leads[leads["won"].astype(str).str.lower() == "true"] \
        .groupby("campaign_id").size()
    expected = pd.DataFrame({"campaign_id": camp["campaign_id"], "cost": camp["cost"]})
    expected["revenue"] = expected["campaign_id"].map(revenue).fillna(0.0)
    expected["conversions"] = expected["campaign_id"].map(converted).fillna(0)
    expected["roi"] = (expected["revenue"] - expected["cost"]) / expected["cost"]
    expected["cost_per_acquisition"] = (expected["cost"] / expected["conversions"]
                                        .where(expected["conversions"] > 0))
    got = m.campaign_performance(sample_wh, Filters(**PERIOD), by="campaign_id")
    assert len(expected) >= 5
    _compare(got[list(expected.columns)], expected)
    assert got.attrs["attribution"] == {"conversions": "converted leads", "revenue": "orders"}


def test_b2b_campaigns_match_pandas(b2b_wh):
    """Deals carry the campaign: conversions = won deals, attributed revenue = their
    bookings, both closed up to the period end."""
    end = pd.Timestamp(PERIOD["end"]) + pd.Timedelta(days=1)
    camp = _csv("data/sample-b2b", "campaigns")
    camp["start_date"] = pd.to_datetime(camp["start_date"])
    camp = camp[camp["start_date"].between(PERIOD["start"], PERIOD["end"])]
    deals = _csv("data/sample-b2b", "opportunities")
    deals = deals[pd.to_datetime(deals["created_date"]) < end]
    won = deals[(deals["outcome"] == "won") & (pd.to_datetime(deals["close_date"]) < end)]
    expected = pd.DataFrame({"campaign_id": camp["campaign_id"], "cost": camp["cost"]})
    expected["opportunities"] = expected["campaign_id"].map(
        deals.groupby("campaign_id").size()).fillna(0)
    expected["conversions"] = expected["campaign_id"].map(
        won.groupby("campaign_id").size()).fillna(0)
    expected["revenue"] = expected["campaign_id"].map(
        won.groupby("campaign_id")["amount"].sum()).fillna(0.0)
    expected["roi"] = (expected["revenue"] - expected["cost"]) / expected["cost"]
    expected["cost_per_acquisition"] = (expected["cost"] / expected["conversions"]
                                        .where(expected["conversions"] > 0))
    got = m.campaign_performance(b2b_wh, Filters(**PERIOD), by="campaign_id")
    assert len(expected) >= 5 and expected["conversions"].sum() > 0
    _compare(got[list(expected.columns)], expected)
    assert got.attrs["attribution"] == {"conversions": "won deals", "revenue": "bookings"}
    total = m.campaign_roi(b2b_wh, Filters(**PERIOD))
    assert total.value == pytest.approx(
        (expected["revenue"].sum() - expected["cost"].sum()) / expected["cost"].sum())


def _wh(**changes) -> Warehouse:
    frames = tiny_frames()
    for name, frame in changes.items():
        frames[name] = frame
    return Warehouse.from_frames(frames)


def test_a_campaign_without_a_cost_or_leads_is_shown_as_such():
    frames = tiny_frames()
    camp = pd.concat([frames["campaigns"], pd.DataFrame({
        "campaign_id": ["k3"], "name": ["Unpriced"], "channel": ["Email"],
        "start_date": [pd.Timestamp("2025-02-01")], "cost": [np.nan]})], ignore_index=True)
    wh = _wh(campaigns=camp)
    got = m.campaign_performance(wh, Filters(), by="campaign_id").set_index("campaign_id")
    k3 = got.loc["k3"]
    assert k3["uncosted"] == 1 and pd.isna(k3["cost"])
    assert pd.isna(k3["roi"]) and pd.isna(k3["cost_per_acquisition"])
    assert k3["leads"] == 0 and pd.isna(k3["conversion_rate"])  # no leads: no rate
    # the total leaves the unpriced campaign out of ROI and says so
    roi = m.campaign_roi(wh, Filters())
    assert roi.value == pytest.approx((600 - 300) / 300)
    assert "1 of 3 campaigns have no cost" in roi.note
    # a period whose only campaign has no cost: ROI is not available, never 0% or inf
    only = Filters(start="2025-02-01", end="2025-02-28")
    assert isinstance(m.campaign_roi(wh, only), NotAvailable)
    assert isinstance(m.campaign_cost(wh, only), NotAvailable)


def test_campaign_lead_conversion_compares_with_an_interval(tiny_wh):
    got = m.campaign_lead_conversion(tiny_wh, Filters())
    rows = got.set_index("group")
    # leads with a campaign: l1, l2, l3, l4, l6 (2 converted); without: l5 (0 of 1)
    assert rows.loc["campaign", ["leads", "converted"]].tolist() == [5, 2]
    assert rows.loc["other", ["leads", "converted"]].tolist() == [1, 0]
    assert rows.loc["campaign", "ci_low"] == pytest.approx(wilson_interval(2, 5)[0])
    d, low, high = difference_interval(2, 5, 0, 1)
    assert (got.attrs["difference"], got.attrs["difference_low"],
            got.attrs["difference_high"]) == (d, low, high)


def test_newcombe_interval_reproduces_the_published_example():
    """Newcombe (1998), Statistics in Medicine 17, 873-890, table II, first example:
    56/70 − 48/80 = 0.2000, method 10 (hybrid score) interval 0.0524 to 0.3339."""
    d, low, high = difference_interval(56, 70, 48, 80)
    assert (round(d, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)


def test_cost_and_return_over_time(sample_wh):
    frame = m.campaign_over_time(sample_wh, Filters(**PERIOD))
    assert len(frame) == 12 and frame["period"].iloc[0] == pd.Timestamp("2024-01-01")
    camp = _csv("data/sample", "campaigns")
    camp["start_date"] = pd.to_datetime(camp["start_date"])
    in_year = camp[camp["start_date"].dt.year == 2024]
    assert frame["cost"].sum() == pytest.approx(in_year["cost"].sum())
    assert frame["campaigns"].sum() == len(in_year)
