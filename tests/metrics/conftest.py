"""Fixtures for the KPI tests: a seeded synthetic CRM data set with all seven tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmkit.schema import TABLES
from crmkit.warehouse import Warehouse

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SAMPLE_B2B = SAMPLE.parent / "sample-b2b"

REPS = ["Ann", "Bob", "Cid", "Dee"]


def crm_frames(seed: int = 7, n_customers: int = 300) -> dict[str, pd.DataFrame]:
    """All seven canonical tables, small and seeded, with an attribute column (contract).

    Dates run from 2023 to 2025; orders include cancellations, returns (negative
    amounts) and guest sales without a customer.
    """
    rng = np.random.default_rng(seed)
    day0 = pd.Timestamp("2023-01-01")

    def days(n, lo, hi):
        return pd.to_timedelta(rng.integers(lo, hi, n), unit="D")

    cid = [f"C{i:04d}" for i in range(n_customers)]
    signup = day0 + days(n_customers, 0, 900)
    churned = rng.random(n_customers) < 0.25
    churn_date = pd.Series(signup + days(n_customers, 30, 400)).where(churned)
    customers = pd.DataFrame({
        "customer_id": cid,
        "name": [f"Customer {i}" for i in range(n_customers)],
        "signup_date": signup,
        "segment": rng.choice(["Consumer", "SMB", "Enterprise"], n_customers),
        "region": rng.choice(["North", "South", "East", "West"], n_customers),
        "acquisition_channel": rng.choice(["Search", "Social", "Referral"], n_customers),
        "acquisition_cost": np.where(rng.random(n_customers) < 0.1, np.nan,
                                     rng.gamma(2.0, 40.0, n_customers).round(2)),
        "owner": rng.choice(REPS, n_customers),
        "status": np.where(churned, "churned", "active"),
        "churn_date": churn_date,
        "contract": rng.choice(["Monthly", "Annual"], n_customers),
    })

    n_campaigns = 10
    camp_start = pd.Series(day0 + days(n_campaigns, 0, 1000))
    campaigns = pd.DataFrame({
        "campaign_id": [f"K{i:02d}" for i in range(n_campaigns)],
        "name": [f"Campaign {i}" for i in range(n_campaigns)],
        "channel": rng.choice(["Email", "Search", "Social"], n_campaigns),
        "start_date": camp_start,
        "end_date": camp_start + pd.Timedelta(days=30),
        "cost": rng.gamma(3.0, 500.0, n_campaigns).round(2),
    })

    n_orders = 2500
    who = rng.integers(0, n_customers, n_orders)
    order_date = pd.Series(signup[who] + days(n_orders, 0, 400))
    order_date = order_date.where(order_date < pd.Timestamp("2026-01-01"),
                                  pd.Timestamp("2025-12-31"))
    status = rng.choice(["completed", "cancelled", "returned"], n_orders, p=[0.85, 0.05, 0.1])
    amount = rng.gamma(2.0, 60.0, n_orders).round(2)
    amount = np.where(status == "returned", -amount, amount)
    guest = rng.random(n_orders) < 0.05
    orders = pd.DataFrame({
        "order_id": [f"O{i:05d}" for i in range(n_orders)],
        "order_date": order_date.to_numpy(),
        "amount": amount,
        "customer_id": pd.Series(np.asarray(cid)[who]).where(~guest).to_numpy(),
        "product": rng.choice(["Alpha", "Beta", "Gamma", "Delta"], n_orders),
        "category": rng.choice(["Hardware", "Software"], n_orders),
        "channel": rng.choice(["Online", "Store", "Phone"], n_orders),
        "region": customers["region"].to_numpy()[who],
        "sales_rep": rng.choice(REPS, n_orders),
        "status": status,
        "campaign_id": pd.Series(rng.choice(campaigns["campaign_id"], n_orders)).where(
            rng.random(n_orders) < 0.3).to_numpy(),
        "source_row": np.arange(1, n_orders + 1),
        "flags": np.where(status == "returned", "return", None),
    })

    n_leads = 500
    created = pd.Series(day0 + days(n_leads, 0, 1090))
    decided = rng.random(n_leads) < 0.7
    won_flag = decided & (rng.random(n_leads) < 0.4)
    won = pd.array(won_flag, dtype="boolean")
    won[~decided & (rng.random(n_leads) < 0.5)] = pd.NA  # open leads: false or unknown
    leads = pd.DataFrame({
        "lead_id": [f"L{i:04d}" for i in range(n_leads)],
        "created_date": created,
        "stage": np.where(decided, np.where(won_flag, "won", "lost"),
                          "open"),
        "converted": won,
        "closed_date": (created + days(n_leads, 5, 120)).where(decided),
        "amount": rng.gamma(2.0, 300.0, n_leads).round(2),
        "owner": rng.choice(REPS, n_leads),
        "source": rng.choice(["Web", "Event", "Referral"], n_leads),
        "campaign_id": pd.Series(rng.choice(campaigns["campaign_id"], n_leads)).where(
            rng.random(n_leads) < 0.6),
        "customer_id": pd.Series(rng.choice(cid, n_leads)).where(
            won_flag | (rng.random(n_leads) < 0.1)),
    })

    n_tickets = 700
    tw = rng.integers(0, n_customers, n_tickets)
    opened = pd.Series(signup[tw] + days(n_tickets, 0, 500))
    tickets = pd.DataFrame({
        "ticket_id": [f"T{i:04d}" for i in range(n_tickets)],
        "opened_at": opened,
        "customer_id": np.asarray(cid)[tw],
        "type": rng.choice(["complaint", "inquiry", "follow_up"], n_tickets),
        "closed_at": opened + days(n_tickets, 0, 10),
        "channel": rng.choice(["phone", "email"], n_tickets),
        "csat": np.where(rng.random(n_tickets) < 0.4, np.nan,
                         rng.integers(1, 6, n_tickets).astype(float)),
        "reason": rng.choice(["billing", "delivery", "quality"], n_tickets),
    })

    n_surveys = 450
    sw = rng.integers(0, n_customers, n_surveys)
    surveys = pd.DataFrame({
        "response_id": [f"R{i:04d}" for i in range(n_surveys)],
        "date": pd.Series(signup[sw] + days(n_surveys, 0, 500)),
        "customer_id": np.asarray(cid)[sw],
        "csat": rng.integers(1, 6, n_surveys).astype(float),
        "nps": rng.integers(0, 11, n_surveys),
        "comment": "",
    })

    months = pd.date_range("2023-01-01", "2025-12-01", freq="MS")
    targets = pd.DataFrame([
        {"owner": rep, "period_start": m, "period_end": m + pd.offsets.MonthEnd(0),
         "target_amount": float(rng.integers(8, 20) * 100)}
        for rep in REPS for m in months])
    return {"customers": customers, "orders": orders, "leads": leads,
            "campaigns": campaigns, "tickets": tickets, "surveys": surveys,
            "targets": targets}


@pytest.fixture(scope="session")
def synthetic_frames() -> dict[str, pd.DataFrame]:
    return crm_frames()


@pytest.fixture(scope="session")
def synthetic_wh(synthetic_frames) -> Warehouse:
    return Warehouse.from_frames(synthetic_frames)


def tiny_frames() -> dict[str, pd.DataFrame]:
    """A hand-checked CRM: 5 customers, 10 orders, 6 leads, 2 campaigns, 5 tickets, 5
    survey responses, 3 targets. The KPI tests work out their expected values from these
    rows by hand (period: Q1 2025)."""
    ts = pd.Timestamp
    nat = pd.NaT
    customers = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5"],
        "signup_date": [ts("2024-06-01"), ts("2024-11-15"), ts("2025-01-10"),
                        ts("2025-02-20"), ts("2024-03-01")],
        "segment": ["SMB", "SMB", "Enterprise", "Consumer", "Consumer"],
        "region": ["East", "West", "East", "West", "East"],
        "acquisition_cost": [100.0, 50.0, 300.0, np.nan, 20.0],
        "churn_date": [nat, ts("2025-02-10"), nat, nat, ts("2024-12-01")],
        "contract": ["Annual", "Monthly", "Annual", "Monthly", "Monthly"],
    })
    orders = pd.DataFrame(
        [("o1", ts("2024-12-20"), 100.0, "c1", "A", "Online", "East", "Ann", "completed", "k1"),
         ("o2", ts("2025-01-05"), 200.0, "c1", "A", "Online", "East", "Ann", "completed", "k1"),
         ("o3", ts("2025-01-20"), 50.0, "c2", "B", "Store", "West", "Bob", "completed", None),
         ("o4", ts("2025-02-01"), -50.0, "c2", "B", "Store", "West", "Bob", "returned", None),
         ("o5", ts("2025-02-14"), 300.0, "c3", "A", "Online", "East", "Ann", "completed", "k2"),
         ("o6", ts("2025-02-28"), 80.0, "c3", "B", "Online", "East", "Bob", "cancelled", "k2"),
         ("o7", ts("2025-03-31 23:00"), 120.0, "c1", "B", "Store", "East", "Bob", "completed",
          None),
         ("o8", ts("2025-04-01"), 999.0, "c4", "A", "Online", "West", "Ann", "completed", None),
         ("o9", ts("2025-03-10"), 40.0, None, "A", "Store", "West", "Bob", "completed", None),
         ("o10", ts("2024-02-10"), 70.0, "c5", "A", "Online", "East", "Ann", "completed", None)],
        columns=["order_id", "order_date", "amount", "customer_id", "product", "channel",
                 "region", "sales_rep", "status", "campaign_id"])
    leads = pd.DataFrame({
        "lead_id": ["l1", "l2", "l3", "l4", "l5", "l6"],
        "created_date": [ts("2024-11-01"), ts("2025-01-05"), ts("2025-02-01"),
                         ts("2024-12-01"), ts("2025-03-15"), ts("2025-04-10")],
        "converted": pd.array([True, True, False, None, False, None], dtype="boolean"),
        "closed_date": [ts("2024-11-10"), ts("2025-01-09"), ts("2025-03-01"), nat, nat, nat],
        "customer_id": ["c2", "c3", None, None, "c1", None],
        "campaign_id": ["k1", "k2", "k2", "k1", None, "k2"],
        "owner": ["Ann", "Ann", "Bob", "Bob", "Bob", "Ann"],
    })
    campaigns = pd.DataFrame({
        "campaign_id": ["k1", "k2"],
        "name": ["Winter", "Spring"],
        "channel": ["Email", "Search"],
        "start_date": [ts("2024-11-01"), ts("2025-01-05")],
        "cost": [100.0, 200.0],
    })
    tickets = pd.DataFrame({
        "ticket_id": ["t1", "t2", "t3", "t4", "t5"],
        "opened_at": [ts("2025-01-15"), ts("2025-02-01"), ts("2025-02-15"), ts("2024-12-15"),
                      ts("2025-03-05")],
        "customer_id": ["c1", "c4", "c1", "c2", "c5"],
        "type": ["complaint", "follow_up", "follow_up", "complaint", "complaint"],
        "csat": [2.0, 5.0, np.nan, 1.0, 3.0],
    })
    surveys = pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4", "r5"],
        "date": [ts("2025-01-10"), ts("2025-02-10"), ts("2025-02-20"), ts("2025-03-01"),
                 ts("2024-12-01")],
        "customer_id": ["c1", "c2", "c3", "c4", "c1"],
        "csat": [5.0, 4.0, 3.0, 2.0, 1.0],
        "nps": [10, 9, 7, 3, 0],
    })
    targets = pd.DataFrame({
        "owner": ["Ann", "Bob", "Cid"],
        "period_start": [ts("2025-01-01"), ts("2025-01-01"), ts("2025-01-01")],
        "period_end": [ts("2025-03-31"), ts("2025-12-31"), nat],
        "target_amount": [1000.0, 3650.0, 310.0],
    })
    return {"customers": customers, "orders": orders, "leads": leads, "campaigns": campaigns,
            "tickets": tickets, "surveys": surveys, "targets": targets}


@pytest.fixture(scope="session")
def tiny_wh() -> Warehouse:
    return Warehouse.from_frames(tiny_frames())


@pytest.fixture(scope="session")
def orders_only_wh() -> Warehouse:
    return Warehouse.from_frames({"orders": tiny_frames()["orders"]})


@pytest.fixture
def q1():
    from crmkit.metrics import Filters

    return Filters(start="2025-01-01", end="2025-03-31")


def sample_frames(folder: Path = SAMPLE) -> dict[str, pd.DataFrame]:
    """data/sample/*.csv (or another sample ``folder``) read with plain pandas, typed by the
    schema's column kinds."""
    assert folder.is_dir(), f"{folder} is missing: run `crmkit sample --out {folder}`"
    frames = {}
    for name, table in TABLES.items():
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        # A column under an alias (leads' `won`) is read as its canonical column, as ingest does.
        frame = frame.rename(columns=lambda c: table.canonical_name(c) or c)
        for col in table.columns:
            if col.name not in frame:
                continue
            values = frame[col.name]
            if col.kind == "date":
                frame[col.name] = pd.to_datetime(values, format="ISO8601").astype(
                    "datetime64[us]")
            elif col.kind == "number":
                frame[col.name] = values.astype(float)
            elif col.kind == "integer":
                frame[col.name] = pd.to_numeric(values).astype("Int64")
            elif col.kind == "bool":
                frame[col.name] = values.str.lower().map({"true": True, "false": False}).astype(
                    "boolean")
        frames[name] = frame
    return frames


@pytest.fixture(scope="session")
def sample_data() -> dict[str, pd.DataFrame]:
    return sample_frames()


@pytest.fixture(scope="session")
def sample_wh(sample_data) -> Warehouse:
    return Warehouse.from_frames(sample_data)
