"""Text files: CSV (and .txt, .tsv, .csv.gz) as exports and careless hands write them."""

from __future__ import annotations

import gzip
import os
import re

from tests.ingest.corpus.model import (ORDER_AMOUNTS, ORDER_DATES, H, Case, Ctx, Exit2, Loaded,
                                       Quarantined, Run, files, order_rows, orders_csv)

# A row with more fields than the header: the reason names the fields (extra field, too
# many fields ...), whatever its exact words.
EXTRA_FIELD = re.compile(r".*\bfields?\b.*", re.IGNORECASE)
# Past DuckDB's sniffer sample (20,480 rows): the whole file must be read one way.
LONG = 40_000
LATE_ROW = 30_000


def _long_file(odd_line: str, header: str = H, note: bool = False) -> str:
    """LONG order lines; line LATE_ROW is ``odd_line``."""
    lines = []
    for i in range(1, LONG + 1):
        if i == LATE_ROW:
            lines.append(odd_line)
        else:
            lines.append(f"{i},2024-01-{i % 28 + 1:02d},{i % 97 + 1}.50" +
                         (",ok\n" if note else "\n"))
    return header + "".join(lines)


def _symlink_to_folder(ctx: Ctx) -> Run:
    (ctx.src / "real").mkdir(parents=True)
    os.symlink(ctx.src / "real", ctx.src / "orders.csv")
    return Run(source=ctx.src)


def _unreadable(ctx: Ctx) -> Run:
    path = ctx.write("orders.csv", H + order_rows(3))
    path.chmod(0)
    return Run(source=ctx.src)


def _truncated_gz(ctx: Ctx) -> Run:
    data = gzip.compress((H + order_rows(5000)).encode())
    ctx.write("orders.csv.gz", data[: len(data) // 2])
    return Run(source=ctx.src)


def _gz(ctx: Ctx) -> Run:
    ctx.write("orders.csv.gz", gzip.compress((H + order_rows(3)).encode()))
    return Run(source=ctx.src)


def _late_bad_byte(ctx: Ctx) -> Run:
    # 1.5 MB of UTF-8, then one Windows-1252 byte: past the reader's first look.
    body = order_rows(60_000)
    ctx.write("orders.csv", H.rstrip("\n").encode() + b",name\n" + "".join(
        line + ",ok\n" for line in body.splitlines()).encode() + b"60001,2024-01-01,1,M\xfcller\n")
    return Run(source=ctx.src)



CASES = [
    # -- columns -----------------------------------------------------------------------
    Case("csv-clean", "csv", orders_csv(H + order_rows(3)), Loaded(3, 3),
         issue="baseline: a clean export loads"),
    Case("csv-missing-required-column", "csv",
         orders_csv("order_id,order_date\n1,2024-01-01\n"),
         Exit2(("orders.csv", "amount", "Columns found", "tables.orders.columns"))),
    Case("csv-misspelt-column", "csv", orders_csv("order_id,orderdate_x,amount\n1,2024-01-01,3\n"),
         Exit2(("orders.csv", "order_date", "orderdate_x", "tables.orders.columns"))),
    Case("csv-unrelated-columns", "csv", orders_csv("a,b,c\n1,2,3\n"),
         Exit2(("orders.csv", "order_id", "Columns found: a, b, c"))),
    Case("csv-duplicate-header", "csv",
         orders_csv("order_id,order_date,amount,amount\n1,2024-01-01,3,4\n"),
         Exit2(("orders.csv", "amount", ("twice", "duplicate", "more than once", "repeated"))),
         issue="two columns named amount: which is the amount? (today the second silently "
               "becomes an attribute amount_1)"),
    Case("csv-padded-header", "csv",
         orders_csv(" order_id , order_date , amount \n1,2024-01-01,3\n"),
         Loaded(1, 1, rows=(ORDER_AMOUNTS, [("1", 3.0)]))),
    Case("csv-crm-style-header", "csv", orders_csv("Order ID,Order Date,Amount\n1,2024-01-01,3\n"),
         Loaded(1, 1, rows=(ORDER_AMOUNTS, [("1", 3.0)]))),
    Case("csv-many-columns", "csv",
         orders_csv(H.rstrip("\n") + "".join(f",c{i}" for i in range(300)) + "\n" +
                    "".join(f"{n},2024-01-0{n},{n}" + ",x" * 300 + "\n" for n in (1, 2))),
         Loaded(2, 2)),

    # -- encodings ---------------------------------------------------------------------
    Case("csv-bom-utf8", "csv", orders_csv(H + "1,2024-01-01,3\n", encoding="utf-8-sig"),
         Loaded(1, 1, rows=(ORDER_AMOUNTS, [("1", 3.0)]))),
    Case("csv-utf16-bom", "csv", orders_csv(H + "1,2024-01-01,3\n", encoding="utf-16"),
         Loaded(1, 1, rows=(ORDER_AMOUNTS, [("1", 3.0)])),
         issue="a UTF-16 file with its BOM (Excel's Unicode text) says its encoding, as a "
               "UTF-8 BOM does"),
    Case("csv-utf16-configured", "csv",
         orders_csv(H + "1,2024-01-01,3\n", encoding="utf-16",
                    config="tables:\n  orders:\n    encoding: utf-16\n"),
         Loaded(1, 1, rows=(ORDER_AMOUNTS, [("1", 3.0)]))),
    Case("csv-gbk-unconfigured", "csv",
         orders_csv(H.rstrip("\n") + ",name\n1,2024-01-01,3,北京星辰贸易有限公司\n",
                    encoding="gbk"),
         Exit2(("orders.csv", "not valid utf-8", "encoding:", "gbk")), cli=True),
    Case("csv-gbk-configured", "csv",
         orders_csv(H.rstrip("\n") + ",name\n1,2024-01-01,3,北京星辰贸易有限公司\n",
                    encoding="gbk", config="tables:\n  orders:\n    encoding: gbk\n"),
         Loaded(1, 1, rows=("SELECT name FROM orders", [("北京星辰贸易有限公司",)]))),
    Case("csv-cp1252-unconfigured", "csv",
         orders_csv(H.rstrip("\n") + ",name\n1,2024-01-01,3,Müller – €uro\n", encoding="cp1252"),
         Exit2(("orders.csv", "not valid utf-8", "encoding:", "cp1252"))),
    Case("csv-cp1252-encoding-list", "csv",
         orders_csv(H.rstrip("\n") + ",name\n1,2024-01-01,3,Müller – €uro\n", encoding="cp1252",
                    config="tables:\n  orders:\n    encoding: [utf-8, cp1252]\n"),
         Loaded(1, 1, rows=("SELECT name FROM orders", [("Müller – €uro",)]))),
    Case("csv-bad-byte-after-1mb", "csv", _late_bad_byte,
         Exit2(("orders.csv", "utf-8", "encoding:")),
         issue="a Windows-1252 byte deep in a UTF-8 file"),
    Case("csv-unknown-encoding-name", "csv",
         orders_csv(H + "1,2024-01-01,3\n", config="tables:\n  orders:\n    encoding: klingon\n"),
         Exit2(("klingon", "encoding"))),

    # -- shape of the file ---------------------------------------------------------------
    Case("csv-empty", "csv", orders_csv(""), Exit2(("orders.csv", "empty"))),
    Case("csv-only-header", "csv", orders_csv(H), Exit2(("orders", "header but no rows"))),
    Case("csv-only-blank-lines", "csv", orders_csv("\n\n  \n"),
         Exit2(("orders.csv", ("empty", "no header", "header")))),
    Case("csv-blank-lines", "csv", orders_csv(H + "1,2024-01-01,3\n\n2,2024-01-02,4\n\n\n"),
         Loaded(2, 2), issue="blank lines are not rows"),
    Case("csv-crlf", "csv", orders_csv((H + order_rows(2)).replace("\n", "\r\n")), Loaded(2, 2)),
    Case("csv-cr-only", "csv", orders_csv((H + order_rows(2)).replace("\n", "\r")), Loaded(2, 2)),
    Case("csv-no-final-newline", "csv", orders_csv(H + order_rows(2).rstrip("\n")),
         Loaded(2, 2)),
    Case("csv-trailing-delimiter-everywhere", "csv",
         orders_csv("order_id,order_date,amount,\n1,2024-01-01,3,\n2,2024-01-02,4,\n"),
         Loaded(2, 2)),
    Case("csv-trailing-delimiter-on-rows", "csv",
         orders_csv(H + "1,2024-01-01,3,\n2,2024-01-02,4,\n"), Loaded(2, 2),
         issue="an empty field after the last column on every row loses nothing"),
    Case("csv-short-row", "csv", orders_csv(H + "1,2024-01-01\n2,2024-01-02,4\n"),
         Quarantined("missing amount", 1, rows_in=2)),
    Case("csv-extra-field-early", "csv",
         orders_csv(H + "1,2024-01-01,3\n2,2024-01-02,1,234.50\n3,2024-01-03,5\n"),
         Quarantined(EXTRA_FIELD, 1, rows_in=3),
         issue="an unquoted comma shifts a row (amount 1, then 234.50): the row is "
               "quarantined, not kept with a wrong amount"),
    Case("csv-extra-field-late", "csv",
         orders_csv(_long_file(f"{LATE_ROW},2024-01-02,1,234.50\n")),
         Quarantined(EXTRA_FIELD, 1, rows_in=LONG),
         issue="issue 13: an extra field after row ~20,480 was dropped silently"),
    Case("csv-quoted-newline-early", "csv",
         orders_csv("order_id,order_date,amount,note\n1,2024-01-01,3,\"line one\nline two\n"
                    "line three\nline four\"\n2,2024-01-02,4,plain\n3,2024-01-03,5,plain\n"),
         Loaded(3, 3, rows=("SELECT note FROM orders ORDER BY source_row",
                            [("line one\nline two\nline three\nline four",), ("plain",),
                             ("plain",)])),
         issue="issue 13: a quoted field opened in one row and closed three rows later"),
    Case("csv-quoted-newline-early-big", "csv",
         orders_csv("order_id,order_date,amount,note\n1,2024-01-01,3,\"line one\nline two\n"
                    "line three\"\n" + "".join(f"{i},2024-01-02,4,ok\n"
                                                for i in range(2, LONG + 1))),
         Loaded(LONG, LONG),
         issue="issue 13: DuckDB's parallel scanner refused quoted new lines in a big file"),
    Case("csv-quoted-newline-late", "csv",
         orders_csv(_long_file(f'{LATE_ROW},2024-01-02,3.50,"two\nlines"\n',
                               header="order_id,order_date,amount,note\n", note=True)),
         Loaded(LONG, LONG), issue="issue 13: one row became two (rows_in 40,001)"),
    Case("csv-doubled-quotes", "csv",
         orders_csv("order_id,order_date,amount,note\n1,2024-01-01,3,\"He said \"\"hi\"\"\"\n"),
         Loaded(1, 1, rows=("SELECT note FROM orders", [('He said "hi"',)])),
         issue="issue 13: doubled quotes not unescaped"),
    Case("csv-apostrophe-names", "csv",
         files(("customers.csv", "customer_id,name,segment\n1,'t Hoekje,SMB\n2,O'Brien's,SMB\n"
                                 "3,\"Smith, 'Bob'\",SMB\n"),
               ("orders.csv", "order_id,order_date,amount,customer_id\n1,2024-01-01,3,1\n")),
         Loaded(3, 3, table="customers",
                rows=("SELECT name FROM customers ORDER BY customer_id",
                      [("'t Hoekje",), ("O'Brien's",), ("Smith, 'Bob'",)])),
         issue="issue 13: 't Hoekje taken for a quote character"),
    Case("csv-mixed-delimiters", "csv",
         orders_csv(H + "1,2024-01-01,3\n2,2024-01-02,4\n3;2024-01-03;5\n4;2024-01-04;6\n"),
         Exit2(("orders.csv", "delimiter", ("inconsistent", "mix")),
               absent=("Rename the column",)),
         issue="issue 13: a file mixing , and ; got a hint to rename a column"),
    Case("csv-mixed-delimiters-by-header", "csv",
         orders_csv("order_id;order_date;amount\n1,2024-01-01,3\n2,2024-01-02,4\n"),
         Exit2(("orders.csv", "delimiter", ("inconsistent", "mix")),
               absent=("Rename the column",)),
         issue="issue 13: header in ;, rows in ,"),
    Case("csv-preamble", "csv",
         orders_csv("Export generated 2025-03-31 10:02 by admin\nFilter: all orders\n" + H +
                    order_rows(3)),
         Exit2(("orders.csv", "skip_rows")), issue="issue 13: two preamble lines"),
    Case("csv-preamble-skip-rows", "csv",
         orders_csv("Export generated 2025-03-31 10:02 by admin\nFilter: all orders\n" + H +
                    order_rows(3), config="tables:\n  orders:\n    skip_rows: 2\n"),
         Loaded(3, 3)),
    Case("csv-quote-setting", "csv",
         orders_csv("order_id,order_date,amount,note\n1,2024-01-01,3,'a, b'\n",
                    config="tables:\n  orders:\n    quote: \"'\"\n"),
         Loaded(1, 1, rows=("SELECT note FROM orders", [("a, b",)])),
         issue="issue 13: the config sets the quote character"),
    Case("csv-semicolon", "csv", orders_csv((H + order_rows(3)).replace(",", ";")), Loaded(3, 3)),
    Case("csv-tab", "csv", orders_csv((H + order_rows(3)).replace(",", "\t")), Loaded(3, 3)),
    Case("csv-pipe", "csv", orders_csv((H + order_rows(3)).replace(",", "|")), Loaded(3, 3)),
    Case("csv-tsv-extension", "csv",
         orders_csv((H + order_rows(3)).replace(",", "\t"), name="orders.tsv"), Loaded(3, 3)),
    Case("csv-txt-extension", "csv", orders_csv(H + order_rows(3), name="orders.txt"),
         Loaded(3, 3)),
    Case("csv-wrong-delimiter-setting", "csv",
         orders_csv(H + order_rows(3), config="tables:\n  orders:\n    delimiter: \";\"\n"),
         Exit2(("orders.csv", "delimiter", "one column"))),
    Case("csv-gz", "csv", _gz, Loaded(3, 3)),
    Case("csv-gz-truncated", "csv", _truncated_gz, Exit2(("orders.csv.gz", "whole")),
         issue="issue 13: EOFError traceback", cli=True),
    Case("csv-symlink-to-folder", "csv", _symlink_to_folder, Exit2(("orders.csv", "folder")),
         issue="issue 13: IsADirectoryError traceback"),
    Case("csv-unreadable", "csv", _unreadable, Exit2(("orders.csv", "permission")),
         issue="issue 13: PermissionError traceback", needs="non-root"),
    Case("csv-unknown-extension", "csv", orders_csv(H + order_rows(2), name="orders.dat"),
         Exit2(("nothing to report on", "orders.csv"))),
    Case("csv-named-xlsx", "excel", orders_csv(H + order_rows(2), name="orders.xlsx"),
         Exit2(("orders.xlsx", "not an Excel workbook"), absent=("engine",)),
         issue="issue 13: 'you must specify an engine manually'"),

    # -- values in text ----------------------------------------------------------------
    Case("csv-huge-field", "csv",
         orders_csv("order_id,order_date,amount,note\n1,2024-01-01,3," + "x" * 2_000_000 +
                    "\n2,2024-01-02,4,short\n"),
         Loaded(2, 2, rows=("SELECT length(note) FROM orders ORDER BY source_row",
                            [(2_000_000,), (5,)]))),
    Case("csv-nul-byte", "csv",
         orders_csv("order_id,order_date,amount,name\n1,2024-01-01,3,Ac\x00me\n"
                    "2,2024-01-02,4,Beta\n"), Loaded(2, 2)),
    Case("csv-script-in-name", "csv",
         files(("customers.csv", "customer_id,name\n1,<script>alert(1)</script>\n"
                                 "2,<img src=x onerror=alert(2)>\n")),
         Loaded(2, 2, table="customers",
                rows=("SELECT name FROM customers ORDER BY customer_id",
                      [("<script>alert(1)</script>",), ("<img src=x onerror=alert(2)>",)])),
         issue="data is stored as data, verbatim"),
    Case("csv-formula-injection", "csv",
         orders_csv("order_id,order_date,amount,product\n1,2024-01-01,3,=cmd|' /C calc'!A0\n"
                    "2,2024-01-02,4,+SUM(1+2)\n3,2024-01-03,5,@SUM(A1)\n4,2024-01-04,6,-2+3\n"),
         Loaded(4, 4, rows=("SELECT product FROM orders ORDER BY source_row",
                            [("=cmd|' /C calc'!A0",), ("+SUM(1+2)",), ("@SUM(A1)",),
                             ("-2+3",)]))),
    Case("csv-negative-amount", "csv", orders_csv(H + "1,2024-01-01,-3\n2,2024-01-02,4\n"),
         Quarantined("negative amount on a non-return", 1, rows_in=2)),
    Case("csv-negative-return", "csv",
         orders_csv("order_id,order_date,amount,status\n1,2024-01-01,-3,returned\n"
                    "2,2024-01-02,4,completed\n"),
         Loaded(2, 1, 1, flags={"return": 1})),
    Case("csv-zero-amount", "csv", orders_csv(H + "1,2024-01-01,0\n"), Loaded(1, 1)),
    Case("csv-thousands-unconfigured", "csv", orders_csv(H + '1,2024-01-01,"1,234.50"\n'),
         Quarantined("unparseable amount", 1)),
    Case("csv-thousands-configured", "csv",
         orders_csv(H + '1,2024-01-01,"1,234.50"\n',
                    config="tables:\n  orders:\n    thousands: \",\"\n"),
         Loaded(1, 1, rows=(ORDER_AMOUNTS, [("1", 1234.5)]))),
    Case("csv-decimal-comma-configured", "csv",
         orders_csv("order_id;order_date;amount\n1;2024-01-01;1.234,50\n2;2024-01-02;7,25\n",
                    config="tables:\n  orders:\n    delimiter: \";\"\n    decimal: \",\"\n"
                           "    thousands: \".\"\n"),
         Loaded(2, 2, rows=(ORDER_AMOUNTS, [("1", 1234.5), ("2", 7.25)]))),
    Case("csv-decimal-comma-unconfigured", "csv",
         orders_csv("order_id;order_date;amount\n1;2024-01-01;12,50\n2;2024-01-02;7,25\n"),
         Quarantined("unparseable amount", 2)),
    Case("csv-currency-symbols", "csv",
         orders_csv(H + "1,2024-01-01,$12.50\n2,2024-01-02,€3\n3,2024-01-03,12.50 USD\n"
                    "4,2024-01-04,£1\n"),
         Quarantined("unparseable amount", 4, rows_in=4)),
    Case("csv-accounting-negative", "csv", orders_csv(H + "1,2024-01-01,(12.50)\n"),
         Quarantined("unparseable amount", 1)),
    Case("csv-number-spellings", "csv",
         orders_csv(H + "1,2024-01-01,+12\n2,2024-01-02,1e3\n3,2024-01-03, 7.5 \n"
                    "4,2024-01-04,.5\n"),
         Loaded(4, 4, rows=(ORDER_AMOUNTS,
                            [("1", 12.0), ("2", 1000.0), ("3", 7.5), ("4", 0.5)]))),
    Case("csv-non-finite-amounts", "csv",
         orders_csv(H + "1,2024-01-01,3\n2,2024-01-02,NaN\n3,2024-01-03,inf\n"
                    "4,2024-01-04,Infinity\n5,2024-01-05,-Infinity\n6,2024-01-06,1e308\n"
                    "7,2024-01-07,1e400\n"),
         Loaded(7, 1, 0, 6, reasons={"amount not a finite number": 6}),
         issue="issue 13: NaN, inf, Infinity, 1e308, 1e400 kept as valid", cli=True),
    Case("csv-unknown-currency-with-rates", "csv",
         orders_csv("order_id,order_date,amount,currency\n1,2024-01-01,3,EUR\n"
                    "2,2024-01-02,4,XYZ\n",
                    config="currency: USD\nrates: {EUR: 1.1}\n"),
         Exit2(("XYZ", "rates"))),
    Case("csv-currency-not-a-code", "csv",
         orders_csv("order_id,order_date,amount,currency\n1,2024-01-01,3,USD\n"
                    "2,2024-01-02,4,dollars\n"),
         Quarantined(re.compile(r".*currency.*"), 1, rows_in=2),
         issue="'dollars' is no ISO code: today it is totalled as a currency of its own"),
    Case("csv-two-currencies-no-rates", "csv",
         orders_csv("order_id,order_date,amount,currency\n1,2024-01-01,3,USD\n"
                    "2,2024-01-02,4,EUR\n"), Loaded(2, 2)),
    Case("csv-bad-booleans", "csv",
         files(("customers.csv", "customer_id,churned\n1,yes\n2,maybe\n3,0\n4,ture\n")),
         Quarantined("unparseable churned", 2, table="customers", rows_in=4)),
    Case("csv-boolean-spellings", "csv",
         files(("customers.csv", "customer_id,churned\n1,Yes\n2,N\n3,TRUE\n4,f\n5,1\n6,0\n")),
         Loaded(6, 6, table="customers",
                rows=("SELECT count(*) FILTER (WHERE churned) FROM customers", [(3,)]))),
    Case("csv-duplicate-keys", "csv", orders_csv(H + "1,2024-01-01,3\n1,2024-01-02,4\n"),
         Quarantined("duplicate order_id", 1, rows_in=2)),
    Case("csv-missing-key", "csv", orders_csv(H + ",2024-01-01,3\n2,2024-01-02,4\n"),
         Quarantined("missing order_id", 1, rows_in=2)),
    Case("csv-orphan-customer", "csv",
         files(("customers.csv", "customer_id,name\n1,Ann\n"),
               ("orders.csv", "order_id,order_date,amount,customer_id\n1,2024-01-01,3,1\n"
                              "2,2024-01-02,4,9\n")),
         Quarantined("unknown customer_id", 1, rows_in=2)),
    Case("csv-orphan-campaign", "csv",
         files(("campaigns.csv", "campaign_id,cost\nC1,100\n"),
               ("orders.csv", "order_id,order_date,amount,campaign_id\n1,2024-01-01,3,C1\n"
                              "2,2024-01-02,4,C9\n")),
         Loaded(2, 1, 1, flags={"unknown_campaign": 1})),
    Case("csv-unknown-status", "csv",
         orders_csv("order_id,order_date,amount,status\n1,2024-01-01,3,lost in space\n"),
         Quarantined("unknown status", 1)),
    Case("csv-null-placeholders", "csv",
         orders_csv("order_id,order_date,amount,customer_id\n1,2024-01-01,3,N/A\n"
                    "2,2024-01-02,4,7\n",
                    config="defaults:\n  null_values: [\"N/A\"]\n"),
         Loaded(2, 1, 1, flags={"no_customer": 1})),
    Case("csv-nps-not-whole", "csv",
         files(("orders.csv", H + order_rows(1)),
               ("surveys.csv", "response_id,date,nps\nR1,2024-01-01,7.5\nR2,2024-01-02,9\n")),
         Quarantined("nps not a whole number", 1, table="surveys", rows_in=2)),
    Case("csv-csat-above-scale", "csv",
         files(("orders.csv", H + order_rows(1)),
               ("tickets.csv", "ticket_id,opened_at,csat\nT1,2024-01-01,6\nT2,2024-01-02,4\n")),
         Quarantined("csat above 5", 1, table="tickets")),
    Case("csv-probability-above-100", "csv",
         files(("opportunities.csv", "opportunity_id,created_date,probability\n"
                                     "O1,2024-01-01,150\nO2,2024-01-02,50\n")),
         Quarantined("probability above 100", 1, table="opportunities")),
    Case("csv-negative-unit-price", "csv",
         orders_csv("order_id,order_date,amount,unit_price\n1,2024-01-01,3,-1\n"),
         Quarantined("unit_price below 0", 1)),

    # -- dates ---------------------------------------------------------------------------
    Case("csv-dates-unambiguous-layouts", "csv",
         orders_csv(H + "1,2024-01-05,1\n2,2024-01-05 10:00:00,1\n3,2024/01/05,1\n"
                    "4,20240105,1\n5,2024-01-05T10:00:00,1\n6,2024年1月5日,1\n"
                    "7,2024-01-05T10:00:00.123,1\n"),
         Loaded(7, 7)),
    Case("csv-dates-day-month-unconfigured", "csv",
         orders_csv(H + "1,05/01/2024,1\n2,31/12/2024,1\n"),
         Quarantined("unparseable order_date", 2),
         issue="day/month order is never guessed"),
    Case("csv-dates-words", "csv",
         orders_csv(H + "1,\"Jan 5, 2024\",1\n2,5 January 2024,1\n3,yesterday,1\n"),
         Quarantined("unparseable order_date", 3)),
    Case("csv-dates-configured-format", "csv",
         orders_csv(H + "1,05/01/2024,1\n2,31/12/2024,1\n",
                    config="tables:\n  orders:\n    date_format: \"%d/%m/%Y\"\n"),
         Loaded(2, 2, rows=(ORDER_DATES, [("1", "2024-01-05 00:00"), ("2", "2024-12-31 00:00")]))),
    Case("csv-dates-impossible", "csv", orders_csv(H + "1,2024-02-30,1\n2,2023-13-01,1\n"),
         Quarantined("unparseable order_date", 2)),
    Case("csv-dates-placeholders", "csv",
         orders_csv(H + "1,2024-01-01,3\n2,9999-12-31,4\n3,0001-01-01,5\n"),
         Loaded(3, 1, 0, 2, reasons={"order_date out of range": 2}),
         issue="issue 13: 9999-12-31 crashed the render"),
    Case("csv-date-2205", "csv", orders_csv(H + "1,2024-01-01,3\n2,2205-06-01,4\n"),
         Quarantined("order_date out of range", 1),
         issue="issue 13: a date in 2205 moved the default period"),
    Case("csv-date-1899", "csv", orders_csv(H + "1,1899-12-31,3\n2,1900-01-01,4\n"),
         Quarantined("order_date out of range", 1, rows_in=2)),
    Case("csv-plausible-dates-setting", "csv",
         orders_csv(H + "1,1850-06-01,3\n2,1799-12-31,4\n3,2024-01-01,5\n",
                    config="plausible_dates: {earliest: 1800-01-01}\n"),
         Loaded(3, 2, 0, 1, reasons={"order_date out of range": 1}),
         issue="issue 13: a plausible-dates setting"),
    Case("csv-timestamps-with-offsets", "csv",
         orders_csv(H + "1,2024-01-01T23:30:00+02:00,1\n2,2024-01-01T10:00:00Z,1\n"
                    "3,2024-01-01T20:00:00-05:00,1\n4,2024-01-01T10:00:00+0530,1\n"),
         Loaded(4, 4, rows=(ORDER_DATES, [("1", "2024-01-01 21:30"), ("2", "2024-01-01 10:00"),
                                        ("3", "2024-01-02 01:00"), ("4", "2024-01-01 04:30")])),
         issue="issue 13: CSV dropped the offset"),
    Case("csv-timestamps-configured-zone", "csv",
         orders_csv(H + "1,2024-01-01T00:00:00Z,1\n2,2024-01-01 09:00,1\n",
                    config="timezone: Asia/Shanghai\n"),
         Loaded(2, 2, rows=(ORDER_DATES, [("1", "2024-01-01 08:00"), ("2", "2024-01-01 09:00")])),
         issue="issue 13: convert to the configured time zone"),
]
