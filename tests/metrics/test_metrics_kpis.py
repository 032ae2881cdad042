"""Every KPI on the hand-checked tiny CRM (tests/metrics/conftest.py::tiny_frames).

Period q1 = 2025-01-01..2025-03-31. Its orders: o2 200 (c1, A), o3 50 (c2, B), o4 −50
return (c2, B), o5 300 (c3, A), o6 80 cancelled (c3, B), o7 120 (c1, B, 31 Mar 23:00),
o9 40 (guest, A). So 5 completed orders, gross 710, returns −50, net revenue 660.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import crmkit.metrics as m
from crmkit.metrics import Filters, Measure, NotAvailable, Nps, Rate
from crmkit.metrics.results import Z95, wilson_interval

T = pd.Timestamp
assert_frame_equal = pd.testing.assert_frame_equal


def measure_rows(keys: dict, values, ns, *, ci=None, too_few=None):
    frame = pd.DataFrame(keys)
    frame["value"] = [float(v) for v in values]
    frame["n"] = pd.Series(ns, dtype="int64")
    frame["ci_low"] = [c[0] for c in ci] if ci else np.nan
    frame["ci_high"] = [c[1] for c in ci] if ci else np.nan
    frame["too_few"] = too_few if too_few is not None else [False] * len(frame)
    return frame


def rate_rows(keys: dict, nums, dens):
    frame = pd.DataFrame(keys)
    frame["numerator"] = pd.Series(nums, dtype="int64")
    frame["denominator"] = pd.Series(dens, dtype="int64")
    frame["value"] = [n / d for n, d in zip(nums, dens)]
    low, high = wilson_interval(np.array(nums), np.array(dens))
    frame["ci_low"], frame["ci_high"] = low, high
    frame["too_few"] = [d < 30 for d in dens]
    return frame


# -- sales -----------------------------------------------------------------------------
def test_revenue_orders_aov(tiny_wh, q1):
    assert m.revenue(tiny_wh, q1) == Measure(660.0, "currency", n=6)
    assert m.orders(tiny_wh, q1) == Measure(5.0, "count", n=5)
    aov = m.average_order_value(tiny_wh, q1)
    amounts = np.array([200, 50, 300, 120, 40.0])
    half = Z95 * amounts.std(ddof=1) / math.sqrt(5)
    assert aov == Measure(142.0, "currency", n=5, ci_low=pytest.approx(142 - half),
                          ci_high=pytest.approx(142 + half), too_few=True)
    assert str(aov) == "too few to say (n=5)"


def test_revenue_by_a_customer_column_and_an_attribute(tiny_wh, q1):
    # segment comes from customers; the guest order o9 forms the missing group
    expected = measure_rows({"segment": ["Enterprise", "SMB", None]}, [300, 320, 40],
                            [1, 4, 1])
    assert_frame_equal(m.revenue(tiny_wh, q1, by="segment"), expected)
    expected = measure_rows({"contract": ["Annual", "Monthly", None]}, [620, 0, 40],
                            [3, 2, 1])
    assert_frame_equal(m.revenue(tiny_wh, q1, by="contract"), expected)


def test_sales_summary_by_region(tiny_wh, q1):
    got = m.sales_summary(tiny_wh, q1, by="region").drop(columns="aov_std")
    expected = pd.DataFrame({
        "region": ["East", "West"], "orders": [3, 2], "gross_revenue": [620.0, 90.0],
        "returns": [0.0, -50.0], "revenue": [620.0, 40.0], "counted_rows": [3, 3],
        "aov": [620 / 3, 45.0]})
    assert_frame_equal(got, expected)


def test_sales_over_time_fills_empty_periods(tiny_wh, q1):
    got = m.sales_over_time(tiny_wh, q1.with_period(q1.start, q1.end), freq="month")
    expected = pd.DataFrame({
        "period": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]).as_unit("us"),
        "orders": [2, 1, 2], "gross_revenue": [250.0, 300.0, 160.0],
        "returns": [0.0, -50.0, 0.0], "revenue": [250.0, 250.0, 160.0],
        "aov": [125.0, 300.0, 80.0]})
    assert_frame_equal(got, expected)
    ann = Filters(start="2025-01-01", end="2025-03-31", sales_rep="Ann")
    got = m.sales_over_time(tiny_wh, ann, freq="month")
    expected = pd.DataFrame({
        "period": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]).as_unit("us"),
        "orders": [1, 1, 0], "gross_revenue": [200.0, 300.0, 0.0],
        "returns": [0.0, 0.0, 0.0], "revenue": [200.0, 300.0, 0.0],
        "aov": [200.0, 300.0, np.nan]})
    assert_frame_equal(got, expected)


def test_sales_over_time_by_quarter_with_a_breakdown(tiny_wh):
    f = Filters(start="2024-10-01", end="2025-03-31")
    got = m.sales_over_time(tiny_wh, f, freq="quarter", by="channel")
    expected = pd.DataFrame({
        "period": pd.to_datetime(["2024-10-01", "2024-10-01", "2025-01-01",
                                  "2025-01-01"]).as_unit("us"),
        "channel": ["Online", "Store", "Online", "Store"],
        "orders": [1, 0, 2, 3], "gross_revenue": [100.0, 0.0, 500.0, 210.0],
        "returns": [0.0, 0.0, 0.0, -50.0], "revenue": [100.0, 0.0, 500.0, 160.0],
        "aov": [100.0, np.nan, 250.0, 70.0]})
    assert_frame_equal(got, expected)


def test_sales_growth(tiny_wh, q1):
    # previous quarter (Q4 2024): o1 100; Q1 2024: o10 70
    got = m.sales_growth(tiny_wh, q1)
    expected = pd.DataFrame({
        "kpi": ["revenue", "orders", "aov"],
        "current": [660.0, 5.0, 142.0],
        "previous_period": [100.0, 1.0, 100.0],
        "change_vs_previous": [5.6, 4.0, 0.42],
        "same_period_last_year": [70.0, 1.0, 70.0],
        "change_vs_last_year": [590 / 70, 4.0, 72 / 70]})
    assert_frame_equal(got, expected)
    assert isinstance(m.sales_growth(tiny_wh, Filters(start="2025-01-01")), NotAvailable)


def test_revenue_distribution(tiny_wh, q1):
    got = m.revenue_distribution(tiny_wh, q1, by="product")
    expected = pd.DataFrame({
        "product": ["A", "B"], "orders": [3, 2], "revenue": [540.0, 120.0],
        "total_revenue": [660.0, 660.0], "share": [540 / 660, 120 / 660]})
    assert_frame_equal(got, expected)


def test_quota_attainment_prorates_targets(tiny_wh, q1):
    # Ann: quarterly 1000, in full. Bob: yearly 3650, 90 of 365 days = 900.
    # Cid: no period_end, one month from 1 Jan = 310 in full, and no sales.
    got = m.quota_attainment(tiny_wh, q1)
    expected = pd.DataFrame({
        "sales_rep": ["Ann", "Bob", "Cid"], "orders": [2, 3, 0],
        "revenue": [500.0, 160.0, 0.0], "target": [1000.0, 900.0, 310.0],
        "attainment": [0.5, 160 / 900, 0.0],
        "rank": pd.array([1, 2, 3], dtype="Int64"), "revenue_rank": [1, 2, 3]})
    assert_frame_equal(got, expected)


# -- customers -------------------------------------------------------------------------
def test_customer_mix(tiny_wh, q1):
    # base: c1, c2 (returning), c3, c4 (new); c5 churned before the period.
    # active: c1, c2, c3 by orders, c4 by ticket t2; buyers c1, c2, c3.
    # potential: l2 (won in period), l3 (lost in period), l4 (still open);
    # l1 won before, l5 belongs to existing customer c1, l6 created after the period.
    got = m.customer_mix(tiny_wh, q1)
    counts = {"new": (2, 2, 1), "returning": (2, 2, 2), "potential": (3, 2, 1)}
    rows = []
    for group, (n, active, buyers) in counts.items():
        a_low, a_high = wilson_interval(active, n)
        p_low, p_high = wilson_interval(buyers, n)
        rows.append({"group": group, "customers": n, "active": active,
                     "activity_rate": active / n, "activity_ci_low": a_low,
                     "activity_ci_high": a_high, "purchasers": buyers,
                     "purchase_rate": buyers / n, "purchase_ci_low": p_low,
                     "purchase_ci_high": p_high, "too_few": True})
    assert_frame_equal(got, pd.DataFrame(rows))


def test_new_customers(tiny_wh, q1):
    assert m.new_customers(tiny_wh, q1) == Measure(2.0, "count", n=2)


def test_loyalty_repeat_purchase_and_repeat_customers(tiny_wh, q1):
    # q1 buyers: c1 2 orders (o2, o7), c2 1, c3 1; 90 days = 2.957 months
    months = 90 / (365.25 / 12)
    cl = m.loyalty(tiny_wh, q1)
    assert cl.value == pytest.approx((4 / 3) / months) and cl.n == 3 and cl.too_few
    # o2 and o7 follow c1's December order o1; o3, o5 are first orders; o9 has no customer
    assert m.repeat_purchase_rate(tiny_wh, q1) == Rate.from_counts(2, 4)
    assert m.repeat_customer_rate(tiny_wh, q1) == Rate.from_counts(1, 3)


def test_churn_and_retention(tiny_wh, q1):
    # active at 1 Jan: c1, c2 (c5 churned in December; c3, c4 joined later); c2 churns.
    assert m.churn_rate(tiny_wh, q1) == Rate.from_counts(1, 2)
    assert m.retention_rate(tiny_wh, q1) == Rate.from_counts(1, 2)
    by = m.churn_rate(tiny_wh, q1, by="region")
    assert_frame_equal(by, rate_rows({"region": ["East", "West"]}, [0, 1], [1, 1]))


def test_clv_cac_and_customer_value(tiny_wh, q1):
    got = m.clv_by_customer(tiny_wh, q1)
    expected = pd.DataFrame({
        "customer_id": ["c1", "c3", "c5", "c2", "c4"], "orders": [3, 1, 1, 1, 0],
        "clv": [420.0, 300.0, 70.0, 0.0, 0.0],
        "first_order": [T("2024-12-20"), T("2025-02-14"), T("2024-02-10"), T("2025-01-20"),
                        pd.NaT],
        "last_order": [T("2025-03-31 23:00"), T("2025-02-14"), T("2024-02-10"),
                       T("2025-02-01"), pd.NaT]})
    expected[["first_order", "last_order"]] = expected[["first_order", "last_order"]].astype(
        "datetime64[us]")
    assert_frame_equal(got, expected)
    assert m.average_clv(tiny_wh, q1).value == pytest.approx(158.0)
    # signed up in q1 with a cost: c3 (c4's cost is missing)
    assert m.cac(tiny_wh, q1) == Measure(300.0, "currency", n=1, ci_low=None, ci_high=None,
                                         too_few=True)
    got = m.customer_value(tiny_wh, q1, by="segment")
    expected = pd.DataFrame({
        "segment": ["Consumer", "Enterprise", "SMB"], "customers": [2, 1, 2],
        "clv": [35.0, 300.0, 210.0], "cac": [20.0, 300.0, 75.0], "cv": [15.0, 0.0, 135.0]})
    assert_frame_equal(got, expected)
    total = m.customer_value(tiny_wh, q1)
    assert total.to_dict("records") == [{"customers": 5, "clv": 158.0, "cac": 117.5,
                                         "cv": 40.5}]


# -- leads and campaigns ---------------------------------------------------------------
def test_conversion_rate(tiny_wh, q1):
    # q1 leads: l2 won, l3 lost, l5 open (won false, no closed_date)
    assert m.conversion_rate(tiny_wh, q1) == Rate.from_counts(1, 3)
    assert m.conversion_rate(tiny_wh, q1, basis="closed") == Rate.from_counts(1, 2)
    assert_frame_equal(m.conversion_rate(tiny_wh, q1, by="owner"),
                       rate_rows({"owner": ["Ann", "Bob"]}, [1, 0], [1, 2]))


def test_campaign_performance(tiny_wh, q1):
    got = m.campaign_performance(tiny_wh, Filters(), by=["campaign_id", "name"])
    low, high = wilson_interval(1, 2)
    expected = pd.DataFrame({
        "campaign_id": ["k1", "k2"], "name": ["Winter", "Spring"], "campaigns": [1, 1],
        "cost": [100.0, 200.0], "uncosted": [0, 0], "leads": pd.array([2, 3], dtype="Int64"),
        "qualified_leads": pd.array([1, 1], dtype="Int64"),
        "opportunities": pd.array([None, None], dtype="Int64"),
        "conversions": pd.array([1, 1], dtype="Int64"), "conversion_rate": [0.5, 1 / 3],
        "conversion_low": [low, wilson_interval(1, 3)[0]],
        "conversion_high": [high, wilson_interval(1, 3)[1]],
        "orders": pd.array([2, 1], dtype="Int64"), "revenue": [300.0, 300.0],
        "roi": [2.0, 0.5], "cost_per_lead": [50.0, 200 / 3],
        "cost_per_acquisition": [100.0, 200.0]})
    assert_frame_equal(got, expected)
    # q1: only k2 started in it; l6 (after the period end) is left out
    got = m.campaign_performance(tiny_wh, q1)
    assert got[["campaigns", "cost", "leads", "conversions", "orders", "revenue", "roi",
                "cost_per_lead", "cost_per_acquisition"]].iloc[0].tolist() == [
        1, 200.0, 2, 1, 1, 300.0, 0.5, 100.0, 200.0]
    assert m.campaign_cost(tiny_wh, q1) == Measure(200.0, "currency", n=1)
    assert m.campaign_roi(tiny_wh, q1) == Measure(0.5, "percent", n=1)
    assert m.cost_per_acquisition(tiny_wh, q1) == Measure(200.0, "currency", n=1)


# -- service and satisfaction ----------------------------------------------------------
def test_complaint_and_follow_up_rates(tiny_wh, q1):
    # base c1..c4; complaints in q1: t1 (c1), t5 (c5, not in the base)
    assert m.complaint_rate(tiny_wh, q1) == Rate.from_counts(1, 4)
    assert m.follow_up_rate(tiny_wh, q1) == Rate.from_counts(2, 4)
    assert_frame_equal(m.complaint_rate(tiny_wh, q1, by="segment"),
                       rate_rows({"segment": ["Consumer", "Enterprise", "SMB"]}, [0, 0, 1],
                                 [1, 1, 2]))


def test_csat_cs_and_distribution(tiny_wh, q1):
    # q1 survey scores 5, 4, 3, 2
    half = Z95 * math.sqrt(5 / 3) / 2
    assert m.csat(tiny_wh, q1) == Measure(3.5, "score", n=4, ci_low=pytest.approx(3.5 - half),
                                          ci_high=pytest.approx(3.5 + half), too_few=True)
    cs = m.satisfaction_score(tiny_wh, q1)
    assert (cs.value, cs.unit) == (0.7, "percent")
    assert cs.ci_low == pytest.approx((3.5 - half) / 5)
    # tickets as the source: t1 2, t2 5, t5 3 (t3 has no score)
    assert m.csat(tiny_wh, q1, source="tickets").value == pytest.approx(10 / 3)
    got = m.csat_distribution(tiny_wh, q1)
    expected = rate_rows({"score": [2.0, 3.0, 4.0, 5.0]}, [1, 1, 1, 1], [4, 4, 4, 4])
    assert_frame_equal(got, expected)


def test_nps(tiny_wh, q1):
    # q1: 10, 9 promoters; 7 passive; 3 detractor
    assert m.nps(tiny_wh, q1) == Nps.from_counts(2, 1, 1)
    assert m.nps(tiny_wh, q1).value == 25.0
    got = m.nps(tiny_wh, q1, by="segment")
    assert list(got.columns) == ["segment", "promoters", "passives", "detractors", "n",
                                 "value", "ci_low", "ci_high", "too_few"]
    assert got[["segment", "promoters", "passives", "detractors"]].values.tolist() == [
        ["Consumer", 0, 0, 1], ["Enterprise", 0, 1, 0], ["SMB", 2, 0, 0]]


# -- one filter, every table -----------------------------------------------------------
def test_one_filter_cuts_every_kpi_the_same_way(tiny_wh):
    smb = Filters(start="2025-01-01", end="2025-03-31", segment="SMB")  # c1, c2
    assert m.revenue(tiny_wh, smb).value == 320.0           # o2, o3, o4, o7
    assert m.complaint_rate(tiny_wh, smb) == Rate.from_counts(1, 2)
    assert m.nps(tiny_wh, smb) == Nps.from_counts(2, 0, 0)  # r1, r2
    assert m.churn_rate(tiny_wh, smb) == Rate.from_counts(1, 2)
    assert m.conversion_rate(tiny_wh, smb) == Rate.from_counts(0, 1)  # l5 (c1)
    mix = m.customer_mix(tiny_wh, smb).set_index("group")["customers"].to_dict()
    assert mix == {"new": 0, "returning": 2, "potential": 0}


def test_filters_that_do_not_reach_a_kpi_are_noted(tiny_wh, q1):
    f = Filters(start="2025-01-01", end="2025-03-31", product="A")
    rate = m.complaint_rate(tiny_wh, f)
    assert "product not applied to tickets" in rate.note
    assert m.revenue(tiny_wh, f).note == ""
    assert "product not applied to campaigns" in m.campaign_performance(tiny_wh, f).attrs[
        "note"]


def test_unknown_breakdown_is_not_available(tiny_wh, q1):
    got = m.revenue(tiny_wh, q1, by="colour")
    assert isinstance(got, NotAvailable)
    assert "cannot break orders down by 'colour'" in got.reason


# -- missing tables --------------------------------------------------------------------
@pytest.mark.parametrize(("kpi", "reason"), [
    ("nps", "needs surveys"),
    ("complaint_rate", "needs tickets"),
    ("churn_rate", "needs customers"),
    ("quota_attainment", "needs targets"),
    ("csat", "needs surveys.csat or tickets.csat"),
    ("campaign_performance", "needs campaigns"),
    ("conversion_rate", "needs leads"),
    ("customer_value", "needs customers"),
])
def test_missing_tables_give_not_available(orders_only_wh, q1, kpi, reason):
    got = m.get_metric(kpi)(orders_only_wh, q1)
    assert isinstance(got, NotAvailable)
    assert got.reason == reason
    assert str(got) == f"not available ({reason})"


def test_orders_alone_still_give_customer_kpis(orders_only_wh, q1):
    # customers derived from orders: c1, c2, c3 bought before/in q1 (c4 only in April,
    # c5 in 2024 — still in the base, no churn date known)
    assert m.revenue(orders_only_wh, q1).value == 660.0
    mix = m.customer_mix(orders_only_wh, q1).set_index("group")[["customers", "purchasers"]]
    assert mix.to_dict("index") == {"new": {"customers": 2, "purchasers": 2},
                                    "returning": {"customers": 2, "purchasers": 1}}
    assert m.cac(orders_only_wh, q1).reason == "needs customers.acquisition_cost or campaigns"


# -- the catalogue ---------------------------------------------------------------------
def test_metric_definitions_cover_every_kpi():
    defs = m.metric_definitions()
    assert list(defs.columns) == ["name", "title", "formula", "unit", "grain", "needs",
                                  "returns", "breakdown"]
    assert defs["name"].is_unique and defs["formula"].str.len().gt(20).all()
    assert {"revenue", "nps", "churn_rate", "campaign_performance", "customer_value"} <= set(
        defs["name"])
    assert defs.set_index("name").loc["churn_rate", "returns"] == "rate"


def test_kpi_set(tiny_wh, orders_only_wh, q1):
    got = m.kpi_set(tiny_wh, q1, compare=True)
    assert got["name"].is_unique and got["available"].all()
    row = got.set_index("name")
    assert row.loc["revenue", "value"] == 660.0
    assert row.loc["revenue", "previous_value"] == 100.0
    assert row.loc["revenue", "change"] == pytest.approx(5.6)
    assert row.loc["churn_rate", "text"] == "too few to say (n=2)"
    assert row.loc["churn_rate", "change_kind"] == "points"
    assert row.loc["revenue_growth_vs_previous", "text"] == "+560.0%"
    assert row.loc["customer_value", "value"] == 40.5
    alone = m.kpi_set(orders_only_wh, q1).set_index("name")
    assert not alone.loc["nps", "available"]
    assert alone.loc["nps", "note"] == "needs surveys"

