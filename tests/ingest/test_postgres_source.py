"""A PostgreSQL source, against a real server that the tests start (tests/conftest.py)."""

from __future__ import annotations

from urllib.parse import urlparse

import duckdb
import psycopg
import pytest

from crmkit.exceptions import SourceError
from crmkit.ingest import ingest, resolve_config

pytestmark = pytest.mark.slow


@pytest.fixture
def crm_database(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS orders, customers, sales")
        conn.execute("CREATE TABLE customers (customer_id integer PRIMARY KEY, name text, "
                     "segment text, signup_date date)")
        conn.execute("INSERT INTO customers VALUES (1, 'Müller GmbH', 'SMB', '2024-01-01'), "
                     "(2, '北京星辰贸易有限公司', 'Enterprise', '2024-02-01')")
        conn.execute("CREATE TABLE orders (order_id text, order_date timestamp, "
                     "amount numeric(12,2), customer_id integer, region text)")
        conn.execute("INSERT INTO orders VALUES ('o1', '2024-03-01 10:00', 120.50, 1, 'East'),"
                     "('o2', '2024-03-02 11:00', 80.00, 2, 'West'), "
                     "('o3', '2024-03-03 12:00', 15.25, NULL, 'West'), "
                     "('o4', '2024-03-04 12:00', 9.99, 7, 'East'), "
                     "('o2', '2024-03-05 12:00', 1.00, 2, 'West')")
        conn.execute("CREATE TABLE sales (ref text, day date, total numeric, who integer)")
        conn.execute("INSERT INTO sales VALUES ('s1', '2024-04-01', 10, 1)")
    return postgres_url


def test_postgres_tables_by_canonical_name(crm_database, tmp_path):
    audit = ingest(resolve_config(source=crm_database), tmp_path / "wh")
    orders = audit["tables"]["orders"]
    assert (orders["rows_in"], orders["kept"], orders["flagged"], orders["quarantined"]) == \
        (5, 2, 1, 2)
    assert orders["reasons"] == {"duplicate order_id": 1, "unknown customer_id": 1}
    assert orders["control_totals"]["in"] == pytest.approx(120.50 + 80 + 15.25 + 9.99 + 1)
    assert set(audit["tables"]) == {"customers", "orders"}
    password = urlparse(crm_database).password
    assert password and f":{password}@" not in audit["source"] and ":***@" in audit["source"]
    with duckdb.connect(str(tmp_path / "wh" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT name FROM customers ORDER BY customer_id").fetchall() == \
            [("Müller GmbH",), ("北京星辰贸易有限公司",)]
        assert con.execute("SELECT order_id, amount, region FROM orders ORDER BY 1"
                           ).fetchall() == [("o1", 120.5, "East"), ("o2", 80.0, "West"),
                                            ("o3", 15.25, "West")]


def test_postgres_table_through_a_config(crm_database, tmp_path):
    config = tmp_path / "pg.yaml"
    config.write_text(f"source: {crm_database}\ntables:\n  orders:\n    table: sales\n"
                      "    columns: {order_id: ref, order_date: day, amount: total, "
                      "customer_id: who}\n")
    audit = ingest(resolve_config(config=config), tmp_path / "wh")
    assert audit["tables"]["orders"]["kept"] == 1
    assert audit["tables"]["customers"]["derived_from"] == "orders"


def test_unreachable_server_is_a_clear_error_without_the_password(tmp_path):
    with pytest.raises(SourceError) as err:
        ingest(resolve_config(source="postgresql://crm:hunter2@127.0.0.1:1/crm"),
               tmp_path / "wh")
    assert "cannot connect to PostgreSQL at postgresql://crm:***@127.0.0.1:1/crm" in \
        str(err.value)
    assert "hunter2" not in str(err.value)
