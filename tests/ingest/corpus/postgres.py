"""PostgreSQL sources: a real server (tests/conftest.py's ``postgres_url``), one corpus
database shared by the cases (``SETUP`` makes its tables), and servers that are not there.

A closed port on 127.0.0.1 refuses at once, so the unreachable cases need no server.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse, urlunparse

from tests.ingest.corpus.model import ORDER_DATES, Case, Ctx, Exit2, Loaded, Quarantined, Run

DATABASE = "crmkit_corpus"
WRONG_PASSWORD = "wrong-pw-7Qx"
QUERY_PASSWORD = "s3cret-in-query-9Zk"

SETUP = [
    "CREATE TABLE orders (order_id text, order_date timestamp, amount numeric(12,2))",
    "INSERT INTO orders VALUES ('o1', '2024-03-01 10:00', 120.50), "
    "('o2', '2024-03-02 11:00', 80.00), ('o3', '2024-03-03 12:00', -5)",
    "CREATE TABLE odd_amounts (id text, day date, total double precision, exact numeric)",
    "INSERT INTO odd_amounts VALUES ('a', '2024-01-01', 1, 1), "
    "('b', '2024-01-02', 'NaN', 2), ('c', '2024-01-03', 'Infinity', 3), "
    "('d', '2024-01-04', '-Infinity', 4), ('e', '2024-01-05', 2, 'NaN')",
    "CREATE TABLE zoned (id text, at timestamptz, total numeric)",
    "SET TIME ZONE 'Europe/Berlin'",
    "INSERT INTO zoned VALUES ('1', '2024-01-01 23:30:00+02', 1), "
    "('2', '2024-01-01 20:00:00-05', 2)",
    "CREATE TABLE endless (id text, at timestamp, total numeric)",
    "INSERT INTO endless VALUES ('1', '2024-01-01', 1), ('2', 'infinity', 2), "
    "('3', '-infinity', 3)",
]


def with_url(**parts):
    """A builder whose source is the corpus database's URL with ``parts`` replaced
    (password, netloc, path) and, with ``config``, a config naming it."""
    config = parts.pop("config", None)

    def build(ctx: Ctx) -> Run:
        url = urlparse(ctx.postgres)
        if "password" in parts:
            netloc = f"{url.username}:{parts.pop('password')}@{url.hostname}:{url.port}"
            parts["netloc"] = netloc
        source = urlunparse(url._replace(**parts))
        if config is not None:
            return ctx.config(config, source=source)
        return Run(source=source)
    return build


def fixed_url(url: str):
    return lambda ctx: Run(source=url)


def mapped(table: str, columns: str):
    return with_url(config=f"tables:\n  orders:\n    table: {table}\n    columns: {columns}\n")



CASES = [
    Case("pg-clean", "postgresql", with_url(), Loaded(3, 2, 0, 1, reasons={
        "negative amount on a non-return": 1}), needs="postgres"),
    Case("pg-wrong-password", "postgresql", with_url(password=WRONG_PASSWORD),
         Exit2(("cannot connect", "password"), absent=(WRONG_PASSWORD,)), needs="postgres"),
    Case("pg-missing-table", "postgresql",
         with_url(config="tables:\n  orders:\n    table: sales_2024\n"),
         Exit2(("orders", "'sales_2024'")), needs="postgres"),
    Case("pg-missing-database", "postgresql", with_url(path="/no_such_db"),
         Exit2(("cannot connect", "no_such_db")), needs="postgres"),
    Case("pg-bad-host", "postgresql", fixed_url("postgresql://crm:hunter2@127.0.0.1:1/crm"),
         Exit2(("cannot connect", "127.0.0.1:1"), absent=("hunter2",)), cli=True),
    Case("pg-password-in-query", "postgresql",
         fixed_url(f"postgresql://127.0.0.1:1/crm?user=u&password={QUERY_PASSWORD}"),
         Exit2(("cannot connect", "127.0.0.1"), absent=(QUERY_PASSWORD,)),
         issue="issue 13: a password in the query string was printed"),
    Case("pg-sslpassword-in-query", "postgresql",
         fixed_url(f"postgresql://u@127.0.0.1:1/crm?sslpassword={QUERY_PASSWORD}"),
         Exit2(("cannot connect", "127.0.0.1"), absent=(QUERY_PASSWORD,)),
         issue="issue 13: sslpassword is a credential too"),
    Case("pg-unknown-url-parameter", "postgresql",
         fixed_url(f"postgresql://u@127.0.0.1:1/crm?token={QUERY_PASSWORD}"),
         Exit2(("token", "postgresql://"), absent=(QUERY_PASSWORD,)),
         issue="issue 13: a token in the URL; libpq knows no such parameter"),
    Case("pg-password-with-at", "postgresql",
         fixed_url("postgresql://crm:p@ss@word@127.0.0.1:1/crm"),
         Exit2(("@", "not encoded", "%40"), absent=("p@ss", "ss@word")),
         issue="issue 13: a password with an unencoded @ was masked only in part; now "
               "refused before any connection, naming the fix"),
    Case("pg-malformed-url", "postgresql", fixed_url("postgresql://crm@127.0.0.1:notaport/crm"),
         Exit2(("postgresql://", ("port", "URL"))),
         issue="a URL psycopg cannot parse is a message, not a traceback"),
    Case("pg-non-finite", "postgresql",
         mapped("odd_amounts", "{order_id: id, order_date: day, amount: total}"),
         Loaded(5, 2, 0, 3, reasons={"amount not a finite number": 3}), needs="postgres"),
    Case("pg-numeric-nan", "postgresql",
         mapped("odd_amounts", "{order_id: id, order_date: day, amount: exact}"),
         Quarantined("amount not a finite number", 1, rows_in=5), needs="postgres"),
    Case("pg-timestamptz", "postgresql",
         mapped("zoned", "{order_id: id, order_date: at, amount: total}"),
         Loaded(2, 2, rows=(ORDER_DATES, [("1", "2024-01-01 21:30"), ("2", "2024-01-02 01:00")])),
         issue="issue 13: one time zone rule for every reader", needs="postgres"),
    Case("pg-infinite-timestamps", "postgresql",
         mapped("endless", "{order_id: id, order_date: at, amount: total}"),
         Quarantined(re.compile(r"(unparseable order_date|order_date out of range)"), 2,
                     rows_in=3), needs="postgres"),
]
