"""Ingest: every row accounted for, clear errors for bad input, every source kind."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crmkit.config import load_config
from crmkit.exceptions import ConfigError, SchemaError, SourceError
from crmkit.ingest import ingest, resolve_config

ORDERS_CSV = """\
order_id,order_date,amount,customer_id,status,Contract Type
A1,2024-01-05,100.00,101,completed,annual
A2,2024-01-06,50.50,102,Paid,monthly
A3,2024-01-07,-20.00,101,refunded,annual
A4,2024-01-08,30.00,,completed,monthly
A5,not a date,10.00,101,completed,annual
A6,2024-01-09,ten,102,completed,annual
,2024-01-10,5.00,102,completed,annual
A2,2024-01-11,7.00,102,completed,annual
A7,2024-01-12,8.00,109,completed,annual
A8,2024-01-13,9.00,102.0,shipped,monthly
A9,2024-01-14,11.00,101,lost in space,monthly
"""

CUSTOMERS_CSV = """\
customer_id,name,signup_date,segment
101,<script>alert(1)</script>,2023-12-01,SMB
102,Müller GmbH,2023-12-02,Consumer
102.0,Duplicate after id cleaning,2023-12-03,Consumer
"""


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def run_ingest(source=None, config=None, warehouse=None, tmp_path=None):
    warehouse = warehouse or tmp_path / "wh"
    return ingest(resolve_config(config, source), warehouse), warehouse


def query(warehouse: Path, sql: str):
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmkit", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_every_row_is_kept_flagged_or_quarantined_with_its_reason(tmp_path):
    src = tmp_path / "src"
    write(src, "orders.csv", ORDERS_CSV)
    write(src, "customers.csv", CUSTOMERS_CSV)
    audit, wh = run_ingest(source=src, tmp_path=tmp_path)

    orders = audit["tables"]["orders"]
    assert orders["rows_in"] == 11
    assert (orders["kept"], orders["flagged"], orders["quarantined"]) == (3, 2, 6)
    assert orders["reasons"] == {
        "duplicate order_id": 1, "missing order_id": 1, "unknown customer_id": 1,
        "unknown status": 1, "unparseable amount": 1, "unparseable order_date": 1}
    assert orders["flags"] == {"no_customer": 1, "return": 1}
    assert audit["reconciled"] is True
    totals = orders["control_totals"]
    assert totals["in"] == pytest.approx(100 + 50.5 - 20 + 30 + 10 + 5 + 7 + 8 + 9 + 11)
    assert totals["kept"] == pytest.approx(100 + 50.5 + 9)
    assert totals["flagged"] == pytest.approx(-20 + 30)
    assert totals["rows_without_amount"] == 1

    customers = audit["tables"]["customers"]
    assert customers["reasons"] == {"duplicate customer_id": 1}  # 102.0 is 102

    kept = query(wh, "SELECT order_id, status, amount, customer_id, contract_type, flags "
                     "FROM orders ORDER BY source_row")
    assert kept == [("A1", "completed", 100.0, "101", "annual", None),
                    ("A2", "completed", 50.5, "102", "monthly", None),
                    ("A3", "returned", -20.0, "101", "annual", "return"),
                    ("A4", "completed", 30.0, None, "monthly", "no_customer"),
                    ("A8", "completed", 9.0, "102", "monthly", None)]
    rejects = query(wh, "SELECT source_row, reason, record FROM rejects "
                        "WHERE table_name = 'orders' ORDER BY source_row")
    assert [(r[0], r[1]) for r in rejects] == [
        (5, "unparseable order_date"), (6, "unparseable amount"), (7, "missing order_id"),
        (8, "duplicate order_id"), (9, "unknown customer_id"), (11, "unknown status")]
    assert json.loads(rejects[0][2])["order_date"] == "not a date"
    on_disk = pd.read_csv(wh / "rejects.csv")
    assert len(on_disk) == 7 and set(on_disk.table_name) == {"orders", "customers"}
    # Data is stored as data: the script tag is a name, kept verbatim.
    assert query(wh, "SELECT name FROM customers WHERE customer_id = '101'") == \
        [("<script>alert(1)</script>",)]


def test_missing_required_column_names_table_column_and_columns_found(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,when,amount\n1,2024-01-01,3\n")
    with pytest.raises(SchemaError) as err:
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    message = str(err.value)
    assert "orders" in message and "order_date" in message
    assert "Columns found: order_id, when, amount" in message


def test_amount_derived_from_quantity_and_unit_price(tmp_path):
    write(tmp_path / "src", "orders.csv",
          "Order ID,Order Date,Quantity,Unit Price\n1,2024-01-01,3,2.5\n2,2024-01-02,2,1.1\n")
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert audit["tables"]["orders"]["derived"] == {"amount": "quantity * unit_price"}
    assert query(wh, "SELECT amount FROM orders ORDER BY 1") == [(2.2,), (7.5,)]


def test_no_orders_opportunities_or_customers_is_a_clear_error(tmp_path):
    write(tmp_path / "src", "tickets.csv", "ticket_id,opened_at\nT1,2024-01-01\n")
    with pytest.raises(SchemaError, match=r"nothing to report on .* \(found: tickets\)\. A "
                       r"data set needs orders .*, opportunities .* or customers"):
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)


def test_customers_alone_are_enough(tmp_path):
    write(tmp_path / "src", "customers.csv", CUSTOMERS_CSV)
    audit, _ = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert set(audit["tables"]) == {"customers"}
    assert audit["tables"]["customers"]["kept"] == 2
    assert audit["reports"]["sales_performance"]["feeds"] is False


def test_empty_and_header_only_files(tmp_path):
    write(tmp_path / "a", "orders.csv", "")
    with pytest.raises(SourceError, match=r"orders: orders.csv is empty \(0 bytes\)"):
        run_ingest(source=tmp_path / "a", tmp_path=tmp_path)
    write(tmp_path / "b", "orders.csv", "order_id,order_date,amount\n")
    with pytest.raises(SourceError, match="header but no rows"):
        run_ingest(source=tmp_path / "b", tmp_path=tmp_path)
    # An optional table with a header only loads empty.
    write(tmp_path / "c", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,2\n")
    write(tmp_path / "c", "tickets.csv", "ticket_id,opened_at\n")
    audit, wh = run_ingest(source=tmp_path / "c", tmp_path=tmp_path)
    assert audit["tables"]["tickets"]["rows_in"] == 0
    assert query(wh, "SELECT count(*) FROM tickets") == [(0,)]


@pytest.mark.parametrize("encoding,name", [("gbk", "北京星辰贸易有限公司"),
                                           ("cp1252", "Müller – €uro GmbH")])
def test_local_code_page_exports(tmp_path, encoding, name):
    text = f"order_id,order_date,amount,customer_name\n1,2024-01-01,3,{name}\n"
    write(tmp_path / "src", "orders.csv", text, encoding=encoding)
    with pytest.raises(SourceError) as err:
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert "not valid utf-8" in str(err.value) and "set `encoding:`" in str(err.value)

    config = write(tmp_path, "crm.yaml", f"source: src\ntables:\n  orders:\n"
                                         f"    encoding: {encoding}\n")
    audit, wh = run_ingest(config=config, tmp_path=tmp_path)
    assert query(wh, "SELECT customer_name FROM orders") == [(name,)]


def test_utf8_with_bom(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n",
          encoding="utf-8-sig")
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert audit["tables"]["orders"]["kept"] == 1


def test_config_maps_columns_formats_and_status_rules(tmp_path):
    write(tmp_path / "src", "sales.csv", textwrap.dedent("""\
        Invoice;Datum;Betrag;Kunde;Land
        100;03/04/2025;1.234,50;K1;DE
        C101;04/04/2025;-10,00;K1;DE
        102;31/12/2025;7,25;K2;AT
        """))
    config = write(tmp_path, "crm.yaml", textwrap.dedent("""\
        source: src
        tables:
          orders:
            file: sales.csv
            delimiter: ";"
            date_format: "%d/%m/%Y"
            decimal: ","
            thousands: "."
            columns: {order_id: Invoice, order_date: Datum, amount: Betrag, customer_id: Kunde}
            status_rules:
              - {column: Invoice, startswith: C, status: returned}
          customers:
            derive_from: orders
        """))
    audit, wh = run_ingest(config=config, tmp_path=tmp_path)
    rows = query(wh, "SELECT order_id, CAST(order_date AS DATE)::VARCHAR, amount, status, "
                     "land FROM orders ORDER BY source_row")
    assert rows == [("100", "2025-04-03", 1234.5, "completed", "DE"),
                    ("C101", "2025-04-04", -10.0, "returned", "DE"),
                    ("102", "2025-12-31", 7.25, "completed", "AT")]
    assert audit["tables"]["customers"]["derived_from"] == "orders"
    assert query(wh, "SELECT customer_id, CAST(signup_date AS DATE)::VARCHAR FROM customers "
                     "ORDER BY 1") == [("K1", "2025-04-03"), ("K2", "2025-12-31")]


@pytest.mark.parametrize("yaml_text,message", [
    ("source: src\ntables:\n  deals: {}\n", "unknown table; canonical tables are"),
    ("source: src\ntables:\n  orders:\n    columns: {revenue: X}\n",
     "'revenue' is not a canonical column of orders; valid: order_id, order_date"),
    ("source: src\ntables:\n  orders:\n    unique: maybe\n", "use `key` or `row`"),
    ("tables: {}\n", "`source` is missing"),
    ("source: [unclosed\n", "is not valid YAML"),
])
def test_config_errors(tmp_path, yaml_text, message):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    config = write(tmp_path, "crm.yaml", yaml_text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        load_config(config)


def test_mapping_to_a_column_the_file_lacks(tmp_path):
    write(tmp_path / "src", "orders.csv", "id,date,total\n1,2024-01-01,3\n")
    config = write(tmp_path, "crm.yaml", "source: src\ntables:\n  orders:\n    columns:\n"
                   "      order_id: id\n      order_date: Date\n      amount: total\n")
    with pytest.raises(SchemaError, match="maps order_date to column 'Date'.*"
                                          "Columns found: id, date, total"):
        run_ingest(config=config, tmp_path=tmp_path)


def test_parquet_excel_and_duckdb_sources(tmp_path):
    frame = pd.DataFrame({"order_id": ["1", "2"], "order_date": pd.to_datetime(
        ["2024-01-01", "2024-02-01"]), "amount": [3.0, 4.5], "channel": ["Web", "Shop"]})
    (tmp_path / "pq").mkdir()
    frame.to_parquet(tmp_path / "pq" / "orders.parquet")
    (tmp_path / "xl").mkdir()
    frame.to_excel(tmp_path / "xl" / "orders.xlsx", index=False)
    with duckdb.connect(str(tmp_path / "crm.duckdb")) as con:
        con.execute("CREATE TABLE orders AS SELECT * FROM frame")
    for source in (tmp_path / "pq", tmp_path / "xl", tmp_path / "crm.duckdb"):
        audit, wh = run_ingest(source=source, warehouse=tmp_path / f"wh-{source.name}")
        assert audit["tables"]["orders"]["kept"] == 2, source
        assert query(wh, "SELECT order_id, amount, channel FROM orders ORDER BY 1") == \
            [("1", 3.0, "Web"), ("2", 4.5, "Shop")], source


def test_unchanged_sources_are_not_ingested_again(tmp_path):
    src = write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    first, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    again, _ = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert again.get("skipped") is True and again["fingerprint"] == first["fingerprint"]
    src.write_text("order_id,order_date,amount\n1,2024-01-01,3\n2,2024-01-02,4\n")
    changed, _ = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert not changed.get("skipped") and changed["tables"]["orders"]["kept"] == 2


def test_cli_prints_accounting_and_errors_without_traceback(tmp_path):
    write(tmp_path / "src", "orders.csv", ORDERS_CSV)
    ok = cli("ingest", "--source", str(tmp_path / "src"), "--warehouse", str(tmp_path / "wh"))
    assert ok.returncode == 0, ok.stderr
    assert "orders" in ok.stdout and "every row accounted for" in ok.stdout
    assert "quarantined: duplicate order_id 1" in ok.stdout

    for args, message in [
        (["--source", str(tmp_path / "nowhere")], "source not found"),
        (["--config", str(tmp_path / "none.yaml")], "config file not found"),
    ]:
        bad = cli("ingest", *args, "--warehouse", str(tmp_path / "wh2"))
        assert bad.returncode == 2
        assert message in bad.stderr and "Traceback" not in bad.stderr


def test_sample_data_loads_all_seven_tables(tmp_path):
    from tests.conftest import SAMPLE, need

    need((SAMPLE / "orders.csv").exists(), "data/sample")
    audit, wh = run_ingest(source=SAMPLE, tmp_path=tmp_path)
    assert set(audit["tables"]) == {"customers", "orders", "leads", "campaigns", "tickets",
                                    "surveys", "targets"}
    assert audit["reconciled"]
    for name, record in audit["tables"].items():
        assert record["quarantined"] == 0, (name, record["reasons"])
        assert query(wh, f"SELECT count(*) FROM {name}") == \
            [(record["kept"] + record["flagged"],)]


def test_a_killed_ingests_work_folder_is_removed_by_the_next_run(tmp_path):
    import os
    import time

    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    stale = tmp_path / "wh" / ".ingest-killed"
    fresh = tmp_path / "wh" / ".ingest-running"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "orders.utf8.csv").write_text("x")
    old = time.time() - 7200
    os.utime(stale / "orders.utf8.csv", (old, old))
    os.utime(stale, (old, old))
    run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert not stale.exists() and fresh.exists()  # another ingest may still be writing there


def test_implausible_dates_and_non_finite_numbers_are_quarantined(tmp_path):
    write(tmp_path / "src", "orders.csv",
          "order_id,order_date,amount\n1,2024-01-01,3\n2,9999-12-31,4\n3,0001-01-01,5\n"
          "4,2024-01-02,NaN\n5,2024-01-03,inf\n6,2024-01-04,1e400\n7,2024-01-05,-Infinity\n"
          "8,2024-01-06,1e308\n")
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    orders = audit["tables"]["orders"]
    assert orders["reasons"] == {"order_date out of range": 2, "amount not a finite number": 5}
    assert orders["kept"] == 1 and audit["reconciled"] is True
    assert query(wh, "SELECT order_id FROM orders") == [("1",)]


def test_an_apostrophe_in_a_name_is_not_taken_for_a_quote(tmp_path):
    write(tmp_path / "src", "customers.csv",
          "customer_id,name,segment\n1,'t Hoekje,SMB\n2,\"He said \"\"hi\"\"\",SMB\n"
          "3,O'Brien's,Consumer\n")
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert audit["tables"]["customers"]["kept"] == 3
    assert query(wh, "SELECT name FROM customers ORDER BY customer_id") == [
        ("'t Hoekje",), ('He said "hi"',), ("O'Brien's",)]


def test_bad_files_and_folders_are_clear_errors_never_tracebacks(tmp_path):
    import gzip
    import os

    ok = "order_id,order_date,amount\n" + "".join(f"{i},2024-01-01,{i}\n" for i in range(5000))
    cases = []
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "real").mkdir()
    os.symlink(tmp_path / "a" / "real", tmp_path / "a" / "orders.csv")
    cases.append((["--source", str(tmp_path / "a")], "is a folder (or a link to one)"))
    (tmp_path / "b").mkdir()
    data = gzip.compress(ok.encode())
    (tmp_path / "b" / "orders.csv.gz").write_bytes(data[: len(data) // 2])
    cases.append((["--source", str(tmp_path / "b")], "could not read orders.csv.gz to its end"))
    (tmp_path / "c.duckdb").write_bytes(b"this is not a database" * 100)
    cases.append((["--source", str(tmp_path / "c.duckdb")], "cannot open"))
    write(tmp_path / "d", "orders.csv", ok)
    (tmp_path / "wh-file").write_text("x")
    cases.append((["--source", str(tmp_path / "d"), "--warehouse", str(tmp_path / "wh-file")],
                  "is a file; name a folder"))
    write(tmp_path, "bad-format.yaml", "source: d\ntables:\n  orders:\n    date_format: 5\n")
    cases.append((["--config", str(tmp_path / "bad-format.yaml")],
                  "date_format: 5; write strptime formats"))
    for args, message in cases:
        done = cli("ingest", *args, "--force")
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
