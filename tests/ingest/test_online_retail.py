"""examples/online_retail.yaml on the real UCI Online Retail file: all 541,909 rows
accounted for, each rule checked against an independent pandas computation."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
from tests.conftest import ROOT

from crmkit.config import load_config
from crmkit.ingest import ingest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retail(tmp_path_factory, request):
    from tests.conftest import SHARED, need

    path = SHARED / "data" / "online_retail" / "online_retail.csv.gz"
    need(path.exists(), str(path))
    warehouse = tmp_path_factory.mktemp("retail")
    config = load_config(ROOT / "examples" / "online_retail.yaml")
    audit = ingest(config, warehouse)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    return audit, warehouse, raw


def expected_accounting(raw: pd.DataFrame) -> dict:
    """The config's rules, computed independently with pandas."""
    price = raw.UnitPrice.astype(float)
    quantity = raw.Quantity.astype(float)
    cancelled = raw.InvoiceNo.str.startswith("C")
    amount = (quantity * price).round(6)
    amount = amount.where(~cancelled, -amount.abs())
    bad_price = price <= 0
    negative_sale = ~bad_price & (amount < 0) & ~cancelled
    invalid = bad_price | negative_sale
    duplicate = ~invalid & raw[~invalid].duplicated(keep="first").reindex(raw.index,
                                                                          fill_value=False)
    quarantined = invalid | duplicate
    guest = raw.CustomerID.str.strip() == ""
    flagged = ~quarantined & (cancelled | guest)
    return {
        "rows_in": len(raw),
        "quarantined": int(quarantined.sum()),
        "flagged": int(flagged.sum()),
        "kept": int((~quarantined & ~flagged).sum()),
        "reasons": {k: v for k, v in {
            "exact duplicate row": int(duplicate.sum()),
            "unit_price not above 0": int(bad_price.sum()),
            "negative amount on a non-return": int(negative_sale.sum())}.items() if v},
        "flags": {"return": int((flagged & cancelled).sum()),
                  "no_customer": int((flagged & guest).sum())},
        "amount_kept": float(amount[~quarantined & ~flagged].sum()),
        "customers": raw.CustomerID[~quarantined & ~guest].str.replace(r"\.0$", "", regex=True)
        .nunique(),
    }


def test_every_row_accounted_for(retail):
    audit, warehouse, raw = retail
    orders = audit["tables"]["orders"]
    expected = expected_accounting(raw)
    assert orders["rows_in"] == 541_909 == expected["rows_in"]
    assert orders["rows_in"] == orders["kept"] + orders["flagged"] + orders["quarantined"]
    for key in ("kept", "flagged", "quarantined", "reasons", "flags"):
        assert orders[key] == expected[key], key
    assert orders["control_totals"]["kept"] == pytest.approx(expected["amount_kept"], abs=0.01)
    assert audit["tables"]["customers"]["kept"] == expected["customers"]
    assert audit["reconciled"]
    on_disk = json.loads((warehouse / "audit.json").read_text())
    assert on_disk["tables"]["orders"]["rows_in"] == 541_909


def test_ids_returns_and_guests(retail):
    _, warehouse, _ = retail
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM orders WHERE customer_id = '17850'"
                           ).fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM orders WHERE customer_id LIKE '%.0'"
                           ).fetchone()[0] == 0
        returns = con.execute("SELECT min(amount), max(amount), bool_and(order_id LIKE 'C%') "
                              "FROM orders WHERE status = 'returned'").fetchone()
        assert returns[1] < 0 and returns[2] is True
        guests = con.execute("SELECT count(*) FROM orders WHERE customer_id IS NULL AND "
                             "flags LIKE '%no_customer%'").fetchone()[0]
        assert guests > 100_000
        rejects = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
        assert rejects == con.execute("SELECT 541909 - count(*) FROM orders").fetchone()[0]
        assert set(c for (c,) in con.execute("SELECT column_name FROM "
                   "information_schema.columns WHERE table_name = 'orders'").fetchall()) \
            >= {"stock_code", "country", "source_row", "flags"}
