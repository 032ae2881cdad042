"""Binary inputs: Excel workbooks (openpyxl), Parquet files (pyarrow), DuckDB databases."""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3
import zipfile

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from tests.ingest.corpus.model import (ORDER_AMOUNTS, ORDER_DATES, Case, Ctx, Exit2, Loaded,
                                       Quarantined, Run)



# -- Excel -------------------------------------------------------------------------------

def _workbook(ctx: Ctx, sheets: dict[str, list[list]], name: str = "orders.xlsx",
              config: str | None = None) -> Run:
    """A workbook with these sheets (rows of cells, the first row the header)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    ctx.src.mkdir(parents=True, exist_ok=True)
    book.save(ctx.src / name)
    return ctx.config(config) if config is not None else Run(source=ctx.src)


HEADER = ["order_id", "order_date", "amount"]
ROWS = [["1", dt.datetime(2024, 1, 5), 3.5], ["2", dt.datetime(2024, 1, 6), 4]]


def workbook(sheets: dict[str, list[list]], **kw):
    return lambda ctx: _workbook(ctx, sheets, **kw)


def _text_formula(ctx: Ctx) -> Run:
    """A cell holding the text '=cmd|...' (a string, not a formula)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER + ["product"])
    sheet.append(["1", dt.datetime(2024, 1, 5), 3, None])
    cell = sheet.cell(row=2, column=4)
    cell.value = "=cmd|' /C calc'!A0"
    cell.data_type = "s"
    ctx.src.mkdir(parents=True, exist_ok=True)
    book.save(ctx.src / "orders.xlsx")
    return Run(source=ctx.src)


def _zip_not_workbook(ctx: Ctx) -> Run:
    ctx.src.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(ctx.src / "orders.xlsx", "w") as z:
        z.writestr("readme.txt", "not a workbook")
    return Run(source=ctx.src)


def _xlsx_named_csv(ctx: Ctx) -> Run:
    _workbook(ctx, {"Orders": [HEADER, *ROWS]}, name="orders.csv")
    return Run(source=ctx.src)


# -- Parquet -----------------------------------------------------------------------------

def parquet(columns: dict, name: str = "orders.parquet", config: str | None = None,
            schema: pa.Schema | None = None):
    def build(ctx: Ctx) -> Run:
        ctx.src.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns, schema=schema), ctx.src / name)
        return ctx.config(config) if config is not None else Run(source=ctx.src)
    return build


def _parquet_bytes(cut: bool):
    def build(ctx: Ctx) -> Run:
        ctx.src.mkdir(parents=True, exist_ok=True)
        path = ctx.src / "orders.parquet"
        if cut:
            pq.write_table(pa.table({"order_id": ["1"] * 1000, "amount": [1.0] * 1000}), path)
            path.write_bytes(path.read_bytes()[:300])
        else:
            path.write_bytes(b"PAR1" + b"\x00garbage" * 200)
        return Run(source=ctx.src)
    return build


def _parquet_named_csv(ctx: Ctx) -> Run:
    ctx.src.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"order_id": ["1"], "order_date": ["2024-01-01"],
                             "amount": [3.0]}), ctx.src / "orders.csv")
    return Run(source=ctx.src)


TS = [dt.datetime(2024, 1, 1, 10, 0), dt.datetime(2024, 1, 2, 11, 0)]

# -- DuckDB ------------------------------------------------------------------------------


def database(*statements: str, name: str = "crm.duckdb", config: str | None = None):
    """A DuckDB file made by these statements; the source is the file, or a config."""
    def build(ctx: Ctx) -> Run:
        ctx.src.mkdir(parents=True, exist_ok=True)
        path = ctx.src / name
        with duckdb.connect(str(path)) as con:
            for statement in statements:
                con.execute(statement)
        if config is not None:
            return ctx.config(config, source=f"src/{name}")
        return Run(source=path)
    return build


def raw_file(name: str, data: bytes):
    def build(ctx: Ctx) -> Run:
        return Run(source=ctx.write(name, data))
    return build


def _sqlite(ctx: Ctx) -> Run:
    ctx.src.mkdir(parents=True, exist_ok=True)
    path = ctx.src / "crm.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE orders (order_id TEXT, order_date TEXT, amount REAL)")
        con.execute("INSERT INTO orders VALUES ('1', '2024-01-01', 3)")
    return Run(source=path)


CLEAN_TABLE = ("CREATE TABLE orders AS SELECT * FROM (VALUES ('1', DATE '2024-01-01', 3.0), "
               "('2', DATE '2024-01-02', 4.5)) t(order_id, order_date, amount)")

CASES = [
    # -- Excel -------------------------------------------------------------------------
    Case("xlsx-clean", "excel", workbook({"Orders": [HEADER, *ROWS]}),
         Loaded(2, 2, rows=(ORDER_DATES, [("1", "2024-01-05 00:00"), ("2", "2024-01-06 00:00")]))),
    Case("xlsx-empty-first-sheet", "excel",
         workbook({"Notes": [], "Orders": [HEADER, *ROWS]}),
         Exit2(("orders.xlsx", "Notes", "Orders", "sheet:"),
               absent=("Need at least one non-root column", ".parquet")),
         issue="issue 13: internal .ingest-*/orders.xlsx.parquet path in the message"),
    Case("xlsx-sheet-setting", "excel",
         workbook({"Notes": [], "Orders": [HEADER, *ROWS]},
                  config="tables:\n  orders:\n    sheet: Orders\n"),
         Loaded(2, 2)),
    Case("xlsx-missing-sheet", "excel",
         workbook({"Orders": [HEADER, *ROWS]}, config="tables:\n  orders:\n    sheet: Sales\n"),
         Exit2(("orders.xlsx", "Sales", "Orders", "sheet")),
         issue="name the sheets that exist"),
    Case("xlsx-sheet-index-out-of-range", "excel",
         workbook({"Orders": [HEADER, *ROWS]}, config="tables:\n  orders:\n    sheet: 5\n"),
         Exit2(("orders.xlsx", "Orders", "sheet"))),
    Case("xlsx-corrupt", "excel", raw_file("orders.xlsx", b"\x00\x01 not a workbook " * 50),
         Exit2(("orders.xlsx", ("not an Excel workbook", "not a readable Excel")),
               absent=("engine",)),
         issue="a damaged workbook: 'you must specify an engine manually' points nowhere"),
    Case("xlsx-zip-not-workbook", "excel", _zip_not_workbook,
         Exit2(("orders.xlsx", ("not an Excel workbook", "not a readable Excel")))),
    Case("xlsx-header-only", "excel", workbook({"Orders": [HEADER]}),
         Exit2(("orders", "header but no rows"))),
    Case("xlsx-duplicate-header", "excel",
         workbook({"Orders": [HEADER + ["amount"], ["1", dt.datetime(2024, 1, 5), 3, 4]]}),
         Exit2(("orders.xlsx", "amount", ("twice", "duplicate", "more than once", "repeated"))),
         issue="two amount columns (today: amount.1 kept as an attribute)"),
    Case("xlsx-missing-column", "excel", workbook({"Orders": [HEADER[:2], ["1", "2024-01-01"]]}),
         Exit2(("orders.xlsx", "amount", "Columns found"))),
    Case("xlsx-formula-without-cached-value", "excel",
         workbook({"Orders": [HEADER, ["1", dt.datetime(2024, 1, 5), "=10*2"],
                              ["2", dt.datetime(2024, 1, 6), 4]]}),
         Quarantined("missing amount", 1, rows_in=2),
         issue="a formula no spreadsheet has computed has no value to read"),
    Case("xlsx-text-formula", "excel", _text_formula,
         Loaded(1, 1, rows=("SELECT product FROM orders", [("=cmd|' /C calc'!A0",)]))),
    Case("xlsx-preamble", "excel",
         workbook({"Orders": [["Export generated 2025-03-31 by admin"], [], HEADER, *ROWS]}),
         Exit2(("orders.xlsx", "skip_rows"))),
    Case("xlsx-blank-rows", "excel",
         workbook({"Orders": [HEADER, ROWS[0], [], [None, None, None], ROWS[1]]}),
         Loaded(2, 2), issue="blank rows are not rows"),
    Case("xlsx-text-dates-configured", "excel",
         workbook({"Orders": [HEADER, ["1", "05/01/2024", "3"], ["2", "31/12/2024", "4"]]},
                  config="tables:\n  orders:\n    date_format: \"%d/%m/%Y\"\n"),
         Loaded(2, 2, rows=(ORDER_DATES, [("1", "2024-01-05 00:00"), ("2", "2024-12-31 00:00")]))),
    Case("xlsx-boolean-cells", "excel",
         workbook({"Customers": [["customer_id", "churned"], ["1", True], ["2", False]]},
                  name="customers.xlsx"),
         Loaded(2, 2, table="customers",
                rows=("SELECT customer_id, churned FROM customers ORDER BY 1",
                      [("1", True), ("2", False)]))),
    Case("xlsx-named-csv", "csv", _xlsx_named_csv,
         Exit2(("orders.csv", ("Excel", "format:"))),
         issue="a workbook saved as .csv: say what the file is, not 'set encoding'"),

    # -- Parquet -----------------------------------------------------------------------
    Case("parquet-clean", "parquet",
         parquet({"order_id": ["1", "2"], "order_date": TS, "amount": [3.0, 4.5]}),
         Loaded(2, 2, rows=(ORDER_AMOUNTS, [("1", 3.0), ("2", 4.5)]))),
    Case("parquet-non-finite", "parquet",
         parquet({"order_id": ["1", "2", "3", "4", "5"], "order_date": TS + TS + TS[:1],
                  "amount": [3.0, float("nan"), float("inf"), float("-inf"), 1e308]}),
         Loaded(5, 1, 0, 4, reasons={"amount not a finite number": 4}),
         issue="issue 13: NaN and inf in Parquet kept as valid"),
    Case("parquet-huge-integer", "parquet",
         parquet({"order_id": ["1", "2"], "order_date": TS, "amount": [2 ** 62, 3]}),
         Quarantined("amount not a finite number", 1)),
    Case("parquet-zoned-timestamps", "parquet",
         parquet({"order_id": ["1", "2"],
                  "order_date": pa.array([dt.datetime(2024, 1, 1, 23, 30,
                                                      tzinfo=dt.timezone(dt.timedelta(hours=2))),
                                          dt.datetime(2024, 1, 1, 20, 0,
                                                      tzinfo=dt.timezone(dt.timedelta(hours=-5)))],
                                         pa.timestamp("us", tz="UTC")),
                  "amount": [1.0, 2.0]}),
         Loaded(2, 2, rows=(ORDER_DATES, [("1", "2024-01-01 21:30"), ("2", "2024-01-02 01:00")])),
         issue="issue 13: one time zone rule for every reader"),
    Case("parquet-dates-out-of-range", "parquet",
         parquet({"order_id": ["1", "2", "3"],
                  "order_date": pa.array([dt.date(2024, 1, 1), dt.date(9999, 12, 31),
                                          dt.date(1, 1, 1)], pa.date32()),
                  "amount": [1.0, 2.0, 3.0]}),
         Loaded(3, 1, 0, 2, reasons={"order_date out of range": 2})),
    Case("parquet-text-amounts", "parquet",
         parquet({"order_id": ["1", "2"], "order_date": TS, "amount": ["3.5", "three"]}),
         Quarantined("unparseable amount", 1, rows_in=2)),
    Case("parquet-decimal-amounts", "parquet",
         parquet({"order_id": ["1"], "order_date": TS[:1],
                  "amount": pa.array([decimal.Decimal("1234.56")], pa.decimal128(12, 2))}),
         Loaded(1, 1, rows=(ORDER_AMOUNTS, [("1", 1234.56)]))),
    Case("parquet-integer-ids", "parquet",
         parquet({"order_id": [1, 2], "order_date": TS, "amount": [3.0, 4.0],
                  "customer_id": [101, None]}),
         Loaded(2, 1, 1, flags={"no_customer": 1},
                rows=("SELECT order_id, customer_id FROM orders ORDER BY source_row",
                      [("1", "101"), ("2", None)]))),
    Case("parquet-nested-columns", "parquet",
         parquet({"order_id": ["1", "2"], "order_date": TS, "amount": [3.0, 4.0],
                  "tags": [["a", "b"], []], "address": [{"city": "Ghent"}, {"city": None}]}),
         Loaded(2, 2), issue="list and struct columns are attributes, not a crash"),
    Case("parquet-dictionary-column", "parquet",
         parquet({"order_id": ["1", "2"], "order_date": TS, "amount": [3.0, 4.0],
                  "channel": pa.array(["Web", "Shop"]).dictionary_encode()}),
         Loaded(2, 2, rows=("SELECT channel FROM orders ORDER BY source_row",
                            [("Web",), ("Shop",)]))),
    Case("parquet-duplicate-keys", "parquet",
         parquet({"order_id": ["1", "1"], "order_date": TS, "amount": [3.0, 4.0]}),
         Quarantined("duplicate order_id", 1)),
    Case("parquet-missing-column", "parquet", parquet({"order_id": ["1"], "amount": [3.0]}),
         Exit2(("orders.parquet", "order_date", "Columns found"))),
    Case("parquet-zero-rows", "parquet",
         parquet({"order_id": pa.array([], pa.string()), "order_date": pa.array([], pa.date32()),
                  "amount": pa.array([], pa.float64())}),
         Exit2(("orders", "no rows"))),
    Case("parquet-corrupt", "parquet", _parquet_bytes(cut=False),
         Exit2(("orders.parquet", "Parquet"))),
    Case("parquet-truncated", "parquet", _parquet_bytes(cut=True),
         Exit2(("orders.parquet", "Parquet"))),
    Case("parquet-named-csv", "csv", _parquet_named_csv,
         Exit2(("orders.csv", ("Parquet", "format:"))),
         issue="a Parquet file saved as .csv: say what the file is, not 'set encoding'"),
    Case("parquet-boolean-churn", "parquet",
         parquet({"customer_id": ["1", "2", "3"], "churned": [True, False, None]},
                 name="customers.parquet"),
         Loaded(3, 3, table="customers")),

    # -- DuckDB ------------------------------------------------------------------------
    Case("duckdb-clean", "duckdb", database(CLEAN_TABLE),
         Loaded(2, 2, rows=(ORDER_AMOUNTS, [("1", 3.0), ("2", 4.5)]))),
    Case("duckdb-missing-table", "duckdb",
         database(CLEAN_TABLE, config="tables:\n  orders:\n    table: sales\n"),
         Exit2(("'sales'", "crm.duckdb", "orders"))),
    Case("duckdb-no-canonical-table", "duckdb",
         database("CREATE TABLE stuff AS SELECT 1 AS x"),
         Exit2(("nothing to report on", "crm.duckdb", "orders"))),
    Case("duckdb-corrupt", "duckdb", raw_file("crm.duckdb", b"this is not a database" * 100),
         Exit2(("crm.duckdb", "cannot open")), issue="issue 13: IOException traceback",
         cli=True),
    Case("duckdb-empty-file", "duckdb", raw_file("crm.duckdb", b""),
         Exit2(("crm.duckdb", ("empty", "cannot open", "no tables", "nothing to report")))),
    Case("duckdb-sqlite-file", "duckdb", _sqlite, Exit2(("crm.db", "DuckDB"))),
    Case("duckdb-missing-file", "duckdb",
         lambda ctx: ctx.config("tables:\n  orders:\n    table: orders\n",
                                source="src/nope.duckdb"),
         Exit2(("nope.duckdb", "not found"))),
    Case("duckdb-non-finite", "duckdb",
         database("CREATE TABLE orders AS SELECT * FROM (VALUES ('1', DATE '2024-01-01', 3.0), "
                  "('2', DATE '2024-01-02', 'nan'::DOUBLE), "
                  "('3', DATE '2024-01-03', 'inf'::DOUBLE)) t(order_id, order_date, amount)"),
         Loaded(3, 1, 0, 2, reasons={"amount not a finite number": 2})),
    Case("duckdb-timestamptz", "duckdb",
         database("SET TimeZone = 'Europe/Berlin'",
                  "CREATE TABLE orders AS SELECT * FROM (VALUES "
                  "('1', TIMESTAMPTZ '2024-01-01 23:30:00+02', 1.0), "
                  "('2', TIMESTAMPTZ '2024-01-01 20:00:00-05', 2.0)) t(order_id, order_date, "
                  "amount)"),
         Loaded(2, 2, rows=(ORDER_DATES, [("1", "2024-01-01 21:30"), ("2", "2024-01-02 01:00")])),
         issue="issue 13: one time zone rule for every reader"),
    Case("duckdb-view", "duckdb",
         database("CREATE TABLE raw_orders AS SELECT * FROM (VALUES ('1', DATE '2024-01-01', "
                  "3.0)) t(order_id, order_date, amount)",
                  "CREATE VIEW orders AS SELECT * FROM raw_orders"),
         Loaded(1, 1), issue="a view named orders is a table to read"),
    Case("duckdb-dates-out-of-range", "duckdb",
         database("CREATE TABLE orders AS SELECT * FROM (VALUES ('1', DATE '2024-01-01', 1.0), "
                  "('2', DATE '9999-12-31', 2.0), ('3', 'infinity'::DATE, 3.0)) "
                  "t(order_id, order_date, amount)"),
         Loaded(3, 1, 0, 2),
         issue="9999-12-31 and an infinite date are no dates to report on"),
]
