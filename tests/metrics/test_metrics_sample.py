"""KPIs on data/sample against a plain-pandas computation written out here.

The pandas side reads the definitions from the KPI docstrings and does the same
arithmetic with boolean masks and groupby, sharing no code with crmkit.metrics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmkit.metrics as m
from crmkit.metrics import Filters

START, END = pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-31")
AFTER = END + pd.Timedelta(days=1)
CASES = {
    "all regions": Filters(start=START, end=END),
    "North": Filters(start=START, end=END, region="North"),
}


@pytest.fixture(params=list(CASES))
def case(request):
    return request.param, CASES[request.param]


def region_of(frame: pd.DataFrame, customers: pd.DataFrame, region) -> pd.Series:
    """Mask: the row's own region, else its customer's region, is ``region``."""
    if region is None:
        return pd.Series(True, index=frame.index)
    if "region" in frame:
        return frame["region"] == region
    north = customers.loc[customers["region"] == region, "customer_id"]
    return frame["customer_id"].isin(north)


def in_q1(dates: pd.Series) -> pd.Series:
    return (dates >= START) & (dates < AFTER)


def pandas_orders(data, region, *, period=True):
    o = data["orders"]
    o = o[region_of(o, data["customers"], region)]
    return o[in_q1(o["order_date"])] if period else o


def pandas_base(data, region):
    c = data["customers"]
    c = c[region_of(c, c, region)]
    return c[(c["signup_date"] < AFTER) & (c["churn_date"].isna() | (c["churn_date"] >= START))]


def test_sales(sample_data, sample_wh, case):
    name, f = case
    o = pandas_orders(sample_data, f.region)
    done = o[o["status"] == "completed"]
    assert m.revenue(sample_wh, f).value == pytest.approx(o.loc[o["status"] != "cancelled",
                                                                "amount"].sum())
    assert m.orders(sample_wh, f).value == len(done)
    assert m.average_order_value(sample_wh, f).value == pytest.approx(done["amount"].mean())

    got = m.revenue_distribution(sample_wh, f, by="category")
    net = o[o["status"] != "cancelled"].groupby("category")["amount"].sum()
    expected = (net / net.sum()).sort_values(ascending=False)
    assert got["category"].tolist() == expected.index.tolist()
    np.testing.assert_allclose(got["share"], expected.to_numpy())


def test_monthly_series(sample_data, sample_wh, case):
    name, f = case
    half = f.with_period("2025-01-01", "2025-06-30")
    o = pandas_orders(sample_data, f.region, period=False)
    o = o[(o["order_date"] >= half.start) & (o["order_date"] < half.end_exclusive)]
    o = o[o["status"] != "cancelled"]
    month = o["order_date"].dt.to_period("M").dt.start_time
    expected = o.groupby(month)["amount"].sum()
    got = m.sales_over_time(sample_wh, half, freq="month")
    assert got["period"].tolist() == expected.index.tolist()
    np.testing.assert_allclose(got["revenue"], expected.to_numpy())


def test_quota_attainment(sample_data, sample_wh, case):
    name, f = case
    t = sample_data["targets"]
    # monthly targets: the quarter's are the three wholly inside it
    t = t[(t["period_start"] >= START) & (t["period_end"] <= END)]
    if f.region:
        t = t[t["region"] == f.region]
    o = pandas_orders(sample_data, f.region)
    revenue = o[o["status"] != "cancelled"].groupby("sales_rep")["amount"].sum()
    expected = (revenue / t.groupby("owner")["target_amount"].sum()).dropna()
    got = m.quota_attainment(sample_wh, f).dropna(subset=["attainment"])
    got = got.set_index("sales_rep")["attainment"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(),
                                   check_names=False, check_index_type=False)


def test_customer_rates(sample_data, sample_wh, case):
    name, f = case
    base = pandas_base(sample_data, f.region)
    tickets = sample_data["tickets"]
    tickets = tickets[in_q1(tickets["opened_at"])]
    for kpi, kind in ((m.complaint_rate, "complaint"), (m.follow_up_rate, "follow_up")):
        who = tickets.loc[tickets["type"] == kind, "customer_id"]
        got = kpi(sample_wh, f)
        assert (got.numerator, got.denominator) == (base["customer_id"].isin(who).sum(),
                                                    len(base))

    c = sample_data["customers"]
    c = c[region_of(c, c, f.region)]
    at_start = c[(c["signup_date"] < START)
                 & (c["churn_date"].isna() | (c["churn_date"] >= START))]
    churned = in_q1(at_start["churn_date"]).sum()
    got = m.churn_rate(sample_wh, f)
    assert (got.numerator, got.denominator) == (churned, len(at_start))

    leads = sample_data["leads"]
    leads = leads[in_q1(leads["created_date"]) & region_of(leads, c, f.region)]
    got = m.conversion_rate(sample_wh, f)
    assert (got.numerator, got.denominator) == (leads["converted"].fillna(False).sum(), len(leads))


@pytest.mark.parametrize("freq, start, end", [("month", "2024-11-15", "2025-03-31"),
                                               ("quarter", "2024-08-01", "2025-03-31")])
def test_churn_over_time(sample_data, sample_wh, case, freq, start, end):
    """Each month (quarter) of churn_over_time, cut to the period, is the contractual churn
    of that month counted in pandas (and so equals churn_rate on that month)."""
    name, f = case
    f = f.with_period(pd.Timestamp(start), pd.Timestamp(end))
    got = m.churn_over_time(sample_wh, f, freq=freq)
    c = sample_data["customers"]
    c = c[region_of(c, c, f.region)]
    periods = pd.period_range(f.start, f.end, freq="M" if freq == "month" else "Q")
    assert got["period"].tolist() == [p.start_time for p in periods]
    for row, p in zip(got.itertuples(), periods):
        first = max(p.start_time, f.start)
        after = min(p.end_time.normalize(), f.end) + pd.Timedelta(days=1)
        active = c[(c["signup_date"] < first)
                   & (c["churn_date"].isna() | (c["churn_date"] >= first))]
        churned = ((active["churn_date"] >= first) & (active["churn_date"] < after)).sum()
        assert (row.active_at_start, row.churned) == (len(active), churned), p
        assert row.churn_rate == pytest.approx(churned / len(active))
        assert row.retention_rate == pytest.approx(1 - churned / len(active))
    one = m.churn_rate(sample_wh, f.with_period(periods[1].start_time, periods[1].end_time))
    assert (one.numerator, one.denominator) == tuple(got.loc[1, ["churned", "active_at_start"]])


def test_satisfaction(sample_data, sample_wh, case):
    name, f = case
    s = sample_data["surveys"]
    s = s[in_q1(s["date"]) & region_of(s, sample_data["customers"], f.region)]
    assert m.csat(sample_wh, f).value == pytest.approx(s["csat"].mean())
    nps = s["nps"].dropna()
    expected = 100 * ((nps >= 9).mean() - (nps <= 6).mean())
    assert m.nps(sample_wh, f).value == pytest.approx(expected)


def test_repeat_purchases_and_clv(sample_data, sample_wh, case):
    name, f = case
    o = pandas_orders(sample_data, f.region, period=False)
    done = o[(o["status"] == "completed") & o["customer_id"].notna()]
    done = done.sort_values(["order_date", "order_id"])
    done = done.assign(nth=done.groupby("customer_id").cumcount())
    q = done[in_q1(done["order_date"])]
    got = m.repeat_purchase_rate(sample_wh, f)
    assert (got.numerator, got.denominator) == ((q["nth"] >= 1).sum(), len(q))

    c = sample_data["customers"]
    c = c[region_of(c, c, f.region) & (c["signup_date"] < AFTER)]
    upto = o[(o["order_date"] < AFTER) & (o["status"] != "cancelled")]
    clv = upto.groupby("customer_id")["amount"].sum().reindex(c["customer_id"]).fillna(0.0)
    assert m.average_clv(sample_wh, f).value == pytest.approx(clv.mean())
    value = m.customer_value(sample_wh, f).iloc[0]
    assert value["cv"] == pytest.approx(clv.mean() - c["acquisition_cost"].mean())


def test_campaigns(sample_data, sample_wh, case):
    name, f = case
    camp = sample_data["campaigns"]
    camp = camp[in_q1(camp["start_date"])]
    o = pandas_orders(sample_data, f.region, period=False)
    o = o[o["campaign_id"].isin(camp["campaign_id"]) & (o["order_date"] < AFTER)
          & (o["status"] != "cancelled")]
    leads = sample_data["leads"]
    leads = leads[leads["campaign_id"].isin(camp["campaign_id"])
                  & (leads["created_date"] < AFTER)
                  & region_of(leads, sample_data["customers"], f.region)]
    got = m.campaign_performance(sample_wh, f).iloc[0]
    assert got["cost"] == pytest.approx(camp["cost"].sum())
    assert got["revenue"] == pytest.approx(o["amount"].sum())
    assert (got["leads"], got["conversions"]) == (len(leads), leads["converted"].sum())
    cost = camp["cost"].sum()
    assert got["roi"] == pytest.approx((o["amount"].sum() - cost) / cost)


def test_customer_mix(sample_data, sample_wh, case):
    name, f = case
    base = pandas_base(sample_data, f.region)
    o = pandas_orders(sample_data, f.region)
    buyers = o.loc[o["status"] == "completed", "customer_id"]
    new = in_q1(base["signup_date"])
    got = m.customer_mix(sample_wh, f).set_index("group")
    for group, members in (("new", base[new]), ("returning", base[~new])):
        assert got.loc[group, "customers"] == len(members)
        assert got.loc[group, "purchasers"] == members["customer_id"].isin(buyers).sum()
