"""Churn KPIs of a customer snapshot: hand-made cases, the committed subscription sample
checked against plain pandas, and the IBM Telco reference figures of
../shared/data/README.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import crmkit.metrics as m
from crmkit.metrics import Filters, NotAvailable, Rate, wilson_interval
from crmkit.metrics.snapshot import RISK_CUTOFF, snapshot_customers
from crmkit.models.snapshot import snapshot_churn_model
from crmkit.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
SUBSCRIPTION = ROOT / "data" / "sample-subscription"


def _need(path: Path) -> None:
    if not path.exists():
        import os

        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing (CI needs ../shared beside the checkout)")
        pytest.skip(f"{path} not here")


def flags(*values) -> pd.arrays.BooleanArray:
    return pd.array(values, dtype="boolean")


# -- hand-made snapshots -------------------------------------------------------------------
def tiny_snapshot() -> pd.DataFrame:
    """k6 and k7 have no contract (NULL, blank); k8 no churn flag."""
    return pd.DataFrame({
        "customer_id": ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"],
        "region": ["East", "East", "West", "East", "West", "East", "West", "East"],
        "contract": ["Monthly", "Monthly", "Monthly", "Annual", "Annual", None, "", "Annual"],
        "churned": flags(True, False, True, False, False, True, False, None),
        "tenure_months": [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        "monthly_revenue": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
    })


@pytest.fixture(scope="module")
def tiny_snap() -> Warehouse:
    return Warehouse.from_frames({"customers": tiny_snapshot()})


def test_churn_rate_counts_customers_with_a_known_flag(tiny_snap):
    rate = m.snapshot_churn_rate(tiny_snap)
    assert isinstance(rate, Rate)
    assert (rate.numerator, rate.denominator) == (3, 7)  # k8 has no flag
    assert (rate.ci_low, rate.ci_high) == pytest.approx(wilson_interval(3, 7))
    assert rate.too_few and str(rate) == "too few to say (n=7)"


def test_churn_rate_by_group_leaves_out_customers_without_a_group(tiny_snap):
    got = m.snapshot_churn_rate(tiny_snap, by="contract")
    low, high = wilson_interval([0, 2], [2, 3])
    expected = pd.DataFrame({
        "contract": ["Annual", "Monthly"], "numerator": [0, 2], "denominator": [2, 3],
        "value": [0.0, 2 / 3], "ci_low": low, "ci_high": high, "too_few": [True, True]})
    pdt.assert_frame_equal(got, expected, check_dtype=False)
    assert got.attrs["without_group"] == 2  # k6 (NULL) and k7 (blank): no group named nan


def test_churn_rate_filters_through_the_customers_columns(tiny_snap):
    east = m.snapshot_churn_rate(tiny_snap, Filters(region="East"))
    assert (east.numerator, east.denominator) == (2, 4)  # k1, k2, k4, k6
    monthly = m.snapshot_churn_rate(tiny_snap, Filters(attributes={"contract": "Monthly"}))
    assert (monthly.numerator, monthly.denominator) == (2, 3)
    # The period does not cut a snapshot; a filter that cannot reach it is named.
    dated = m.snapshot_churn_rate(tiny_snap, Filters(start="2025-01-01", end="2025-03-31",
                                                     channel="Online"))
    assert (dated.numerator, dated.denominator) == (3, 7)
    assert dated.note == "channel not applied to customers"


def test_churn_rate_marks_groups_below_the_minimum_as_too_few():
    n_monthly, n_annual = m.MIN_DENOMINATOR, m.MIN_DENOMINATOR - 1
    customers = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n_monthly + n_annual)],
        "contract": ["Monthly"] * n_monthly + ["Annual"] * n_annual,
        "churned": [i % 3 == 0 for i in range(n_monthly)] + [i == 0 for i in range(n_annual)],
    })
    got = m.snapshot_churn_rate(Warehouse.from_frames({"customers": customers}), by="contract")
    assert got["contract"].tolist() == ["Annual", "Monthly"]
    assert got["denominator"].tolist() == [n_annual, n_monthly]
    assert got["numerator"].tolist() == [1, 10]
    assert got["too_few"].tolist() == [True, False]


def test_snapshot_kpis_say_what_they_need():
    no_flag = Warehouse.from_frames({"customers": tiny_snapshot().drop(columns="churned")})
    assert m.snapshot_churn_rate(no_flag).reason == "needs customers.churned"
    empty = tiny_snapshot().assign(churned=flags(*[None] * 8))
    empty_wh = Warehouse.from_frames({"customers": empty})
    assert m.snapshot_churn_rate(empty_wh).reason == "needs churn flags: customers.churned is empty"
    wh = Warehouse.from_frames({"customers": tiny_snapshot()})
    missing = m.snapshot_churn_rate(wh, by="plan")
    assert isinstance(missing, NotAvailable)
    assert "cannot break customers down by 'plan'" in missing.reason
    assert m.winback_candidates(wh).reason == "needs customers.churn_reason"


def test_retention_curve_by_hand():
    # Kaplan–Meier: t=1 6 at risk, 1 churns -> 5/6; t=2 5 at risk, 1 churns (one censored)
    # -> 2/3; t=3 3 at risk, 1 churns -> 4/9; t=4 censored; t=5 the last one churns.
    customers = pd.DataFrame({
        "customer_id": list("abcdef"),
        "tenure_months": [1.0, 2.0, 2.0, 3.0, 4.0, 5.0],
        "churned": [True, False, True, True, False, True],
    })
    got = m.snapshot_retention_curve(Warehouse.from_frames({"customers": customers}),
                                     months=(2, 4, 6))
    assert got.columns.tolist() == ["months", "retained", "ci_low", "ci_high", "at_risk",
                                    "churned", "customers", "too_few"]
    np.testing.assert_allclose(got["retained"], [2 / 3, 4 / 9, np.nan])
    assert got["at_risk"].tolist() == [5, 2, 0]
    assert got["churned"].tolist() == [2, 3, 4]
    assert got["customers"].tolist() == [6, 6, 6]
    assert got["too_few"].all()
    assert (got["ci_low"].iloc[:2] < got["retained"].iloc[:2]).all()
    assert np.isnan(got["ci_low"].iloc[2])  # past the longest tenure nothing is observed


def test_retention_curve_by_group_leaves_out_missing_groups(tiny_snap):
    got = m.snapshot_retention_curve(tiny_snap, months=(1,), by="contract")
    # Annual: k4, k5 never churn; Monthly: k1 churns at 1 of 3 at risk.
    assert got["contract"].tolist() == ["Annual", "Monthly"]
    np.testing.assert_allclose(got["retained"], [1.0, 2 / 3])
    assert got.attrs["without_group"] == 2


def test_revenue_at_risk_sums_active_and_lost_revenue():
    rng = np.random.default_rng(3)
    n = 400
    contract = rng.choice(["Monthly", "Annual"], n)
    churned = rng.random(n) < np.where(contract == "Monthly", 0.6, 0.08)
    customers = pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in range(n)],
        "contract": np.where(np.arange(n) < 5, None, contract),
        "churned": churned,
        "tenure_months": rng.integers(0, 60, n).astype(float),
        "monthly_revenue": rng.gamma(4.0, 15.0, n).round(2),
    })
    wh = Warehouse.from_frames({"customers": customers})
    got = m.revenue_at_risk(wh)
    assert got.columns.tolist() == ["active_customers", "active_revenue", "at_risk_customers",
                                    "revenue_at_risk", "churned_customers", "revenue_lost"]
    row = got.iloc[0]
    assert row["churned_customers"] == churned.sum()
    assert row["revenue_lost"] == pytest.approx(customers.loc[churned, "monthly_revenue"].sum())
    assert row["active_revenue"] == pytest.approx(customers.loc[~churned, "monthly_revenue"].sum())
    assert 0 < row["revenue_at_risk"] < row["active_revenue"]
    assert got.attrs["cutoff"] == RISK_CUTOFF and got.attrs["n"] == n
    assert got.attrs["auc"] > 0.7
    # The cut-off is the caller's: 0 counts every active customer, 1 none.
    everyone = m.revenue_at_risk(wh, cutoff=0.0).iloc[0]
    assert everyone["at_risk_customers"] == everyone["active_customers"]
    assert m.revenue_at_risk(wh, cutoff=1.0).iloc[0]["revenue_at_risk"] == 0.0
    # The revenue at risk is on the high-risk contract; no group for the missing contract.
    by = m.revenue_at_risk(wh, by="contract").set_index("contract")
    assert by.index.tolist() == ["Annual", "Monthly"]
    assert by.loc["Monthly", "revenue_at_risk"] > by.loc["Annual", "revenue_at_risk"]
    with_contract = customers[customers["contract"].notna()]
    assert by["revenue_lost"].sum() == pytest.approx(
        with_contract.loc[with_contract["churned"], "monthly_revenue"].sum())


def test_revenue_at_risk_without_enough_customers_to_model(tiny_snap):
    got = m.revenue_at_risk(tiny_snap, Filters(region="West"))
    assert isinstance(got, NotAvailable)
    assert got.reason.startswith("no churn model on this selection")


def winback_snapshot() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"w{i}" for i in range(1, 11)],
        "churned": [True] * 8 + [False, False],
        "churn_reason": ["Deceased", "moved away ", "BUSINESS CLOSED", "Price", "Price",
                         "Competitor", None, "", None, "Price"],
        "monthly_revenue": [20.0, 30.0, 40.0, 50.0, 15.0, 25.0, 5.0, 7.0, 100.0, 100.0],
    })


def test_winback_leaves_out_reasons_that_cannot_be_won_back():
    wh = Warehouse.from_frames({"customers": winback_snapshot()})
    expected = pd.DataFrame({
        "kind": ["can be won back"] * 2 + ["cannot be won back"] * 3 + ["no reason given"],
        "churn_reason": ["Price", "Competitor", "BUSINESS CLOSED", "Deceased", "moved away",
                         None],
        "customers": [2, 1, 1, 1, 1, 2],
        "monthly_revenue": [65.0, 25.0, 40.0, 20.0, 30.0, 12.0],
    })
    pdt.assert_frame_equal(m.winback_candidates(wh), expected, check_dtype=False)
    # The rule set is the caller's.
    own = m.winback_candidates(wh, not_winnable=["competitor"]).set_index("churn_reason")
    assert own.loc["Competitor", "kind"] == "cannot be won back"
    assert (own.loc[["Deceased", "moved away", "BUSINESS CLOSED", "Price"], "kind"]
            == "can be won back").all()


def test_winback_always_has_a_no_reason_row():
    customers = winback_snapshot().dropna(subset=["churn_reason"])
    customers = customers[customers["churn_reason"] != ""]
    got = m.winback_candidates(Warehouse.from_frames({"customers": customers}))
    last = got.iloc[-1]
    assert (last["kind"], last["customers"], last["monthly_revenue"]) == (
        "no reason given", 0, 0.0)


def test_snapshot_kpis_are_in_the_appendix():
    defs = m.metric_definitions().set_index("name")
    for name in ("snapshot_churn_rate", "snapshot_retention_curve", "revenue_at_risk",
                 "winback_candidates"):
        assert len(defs.loc[name, "formula"]) > 80 and defs.loc[name, "unit"]
    assert defs.loc["snapshot_churn_rate", "returns"] == "rate"
    assert defs.loc["snapshot_churn_rate", "breakdown"]


# -- the committed subscription sample -----------------------------------------------------
@pytest.fixture(scope="module")
def subscription(tmp_path_factory):
    from crmkit.ingest import ingest, resolve_config

    folder = tmp_path_factory.mktemp("subscription")
    ingest(resolve_config(source=SUBSCRIPTION), folder)
    wh = Warehouse.open(folder)
    csv = pd.read_csv(SUBSCRIPTION / "customers.csv")
    yield wh, csv
    wh.close()


def test_subscription_churn_by_contract_matches_pandas(subscription):
    wh, csv = subscription
    churned = csv["churned"].eq("Yes")
    plain = csv.assign(churned=churned).groupby("contract")["churned"].agg(["sum", "count"])
    got = m.snapshot_churn_rate(wh, by="contract").set_index("contract")
    assert got.index.tolist() == plain.index.tolist()  # every contract, not only the worst
    assert got["numerator"].tolist() == plain["sum"].tolist()
    assert got["denominator"].tolist() == plain["count"].tolist()
    np.testing.assert_allclose(got["value"], plain["sum"] / plain["count"])
    total = m.snapshot_churn_rate(wh)
    assert (total.numerator, total.denominator) == (churned.sum(), len(csv))


def test_subscription_winback_excludes_and_counts_reasons_that_cannot_be_won_back(subscription):
    wh, csv = subscription
    churned = csv[csv["churned"].eq("Yes")]
    got = m.winback_candidates(wh).set_index("churn_reason", drop=False)
    lost = got[got["kind"] == "cannot be won back"]
    assert sorted(lost["churn_reason"]) == ["Deceased", "Moved away"]
    for reason in ("Deceased", "Moved away"):
        assert lost.loc[reason, "customers"] == (churned["churn_reason"] == reason).sum()
    candidates = got[got["kind"] == "can be won back"]
    winnable = churned[~churned["churn_reason"].isin(["Deceased", "Moved away"])]
    assert candidates["customers"].sum() == len(winnable)
    assert candidates["monthly_revenue"].sum() == pytest.approx(
        winnable["monthly_revenue"].sum())
    assert got.loc[got["kind"] == "no reason given", "customers"].tolist() == [0]


def test_subscription_retention_and_risk(subscription):
    wh, csv = subscription
    curve = m.snapshot_retention_curve(wh, by="contract").set_index(["contract", "months"])
    # Month-to-month customers leave first: the retained share is lowest at every month.
    for month in (12.0, 24.0, 36.0):
        shares = curve.xs(month, level="months")["retained"]
        assert shares.idxmin() == "Month-to-month"
    risk = m.revenue_at_risk(wh)
    assert risk.attrs["auc"] > 0.8
    assert risk.iloc[0]["revenue_lost"] == pytest.approx(
        csv.loc[csv["churned"].eq("Yes"), "monthly_revenue"].sum())


# -- IBM Telco: the reference figures --------------------------------------------------------
@pytest.fixture(scope="module")
def telco(tmp_path_factory):
    from crmkit.ingest import ingest, resolve_config

    _need(SHARED / "telco_churn")
    folder = tmp_path_factory.mktemp("telco")
    ingest(resolve_config(ROOT / "examples" / "telco_churn.yaml"), folder)
    wh = Warehouse.open(folder)
    yield wh
    wh.close()


@pytest.mark.slow
def test_telco_churn_rate_and_by_contract(telco):
    rate = m.snapshot_churn_rate(telco)
    assert (rate.numerator, rate.denominator) == (1869, 7043)
    assert round(100 * rate.value, 2) == 26.54
    by = m.snapshot_churn_rate(telco, by="contract")
    assert by["contract"].tolist() == ["Month-to-month", "One year", "Two year"]
    assert by["numerator"].tolist() == [1655, 166, 48]
    assert by["denominator"].tolist() == [3875, 1473, 1695]
    assert (100 * by["value"]).round(2).tolist() == [42.71, 11.27, 2.83]
    assert not by["too_few"].any()


@pytest.mark.slow
def test_telco_kaplan_meier_on_tenure(telco):
    curve = m.snapshot_retention_curve(telco).set_index("months")
    assert round(curve.loc[12.0, "retained"], 4) == 0.8432
    assert round(curve.loc[24.0, "retained"], 4) == 0.7887
    assert curve.loc[12.0, "ci_low"] < 0.8432 < curve.loc[12.0, "ci_high"]
    assert curve["customers"].eq(7043).all()


@pytest.mark.slow
def test_telco_churn_model_ranks_well_out_of_sample(telco):
    model = snapshot_churn_model(snapshot_customers(telco))
    assert model.n == 7043 and model.n_churned == 1869
    assert model.auc > 0.8 and model.auc_ci_low > 0.8
    assert len(model.scores) == 7043 - 1869
    top = model.drivers["feature"].head(6).tolist()
    assert "tenure in months" in top and "contract = Two year" in top
    assert {"churn_reason", "status", "churn_date"} <= set(model.left_out)  # the outcome
    # A lifetime total (≈ tenure × monthly charge) can be left out by the caller.
    assert "total charges" in model.drivers["feature"].tolist()
    without = snapshot_churn_model(snapshot_customers(telco), exclude=["total_charges"])
    assert "total charges" not in without.drivers["feature"].tolist()
    assert without.auc > 0.8


@pytest.mark.slow
def test_subscription_kpis_are_the_same_on_postgres(subscription, postgres_url):
    from tests.metrics.test_metrics_postgres import assert_same, postgres_warehouse

    duck, _ = subscription
    customers = duck.table("customers").execute()
    duck_mem = Warehouse.from_frames({"customers": customers})
    pg = postgres_warehouse(postgres_url, {"customers": customers})
    filters = Filters(region=["North", "East"], attributes={"plan": ["Basic", "Premium"]})
    try:
        for name in ("snapshot_churn_rate", "snapshot_retention_curve", "revenue_at_risk",
                     "winback_candidates"):
            for options in ({}, {"by": "contract"}) if name != "winback_candidates" else ({},):
                a, b = (m.get_metric(name)(wh, filters, **options) for wh in (duck_mem, pg))
                assert not isinstance(a, NotAvailable), name
                assert_same(a, b, f"{name}({options})")
    finally:
        pg.close()


def test_subscription_drivers_and_the_riskiest_active_customers(subscription):
    wh, csv = subscription
    drivers = m.churn_drivers(wh, top=5)
    assert len(drivers) == 5 and drivers.attrs["auc"] > 0.8
    assert drivers.attrs["n"] == len(csv)
    assert drivers["coefficient"].abs().is_monotonic_decreasing
    riskiest = m.at_risk_list(wh, top=10)
    active = set(csv.loc[csv["churned"].eq("No"), "customer_id"].astype(str))
    assert len(riskiest) == 10 and set(riskiest["customer_id"]) <= active
    assert (riskiest["p_churn"] > 0.5).all() and riskiest["p_churn"].is_monotonic_decreasing
    assert riskiest.attrs["at_risk"] == int(m.revenue_at_risk(wh)["at_risk_customers"].iloc[0])
