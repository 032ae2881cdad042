"""Config files (YAML) with typos, wrong types, unknown names, missing files and rules that
cannot work, over a valid orders file: each stops with the setting's name and the fix, or
takes effect."""

from __future__ import annotations

from tests.ingest.corpus.model import Case, Ctx, Exit2, Loaded, Quarantined, Run

ORDERS = ("order_id,order_date,amount,agent,Deleted,Email\n"
          "1,2024-01-01,3,Ann,0,a@x.com\n"
          "2,2024-01-02,4,Bob,1,b@test.example\n"
          "3,2024-01-03,50,Ann,0,c@x.com\n")
TEAMS = "agent,manager\nAnn,Mia\nBob,Mia\n"


def config(body: str, *also: tuple[str, str], source: str | None = "src",
           orders: str = ORDERS):
    """orders.csv (valid), the ``also`` files, and crm.yaml: ``source: src`` then ``body``."""
    def build(ctx: Ctx) -> Run:
        ctx.write("orders.csv", orders)
        for name, text in also:
            ctx.write(name, text)
        return ctx.config(body, source=source)
    return build


def orders_setting(lines: str, *also: tuple[str, str]):
    """A config whose ``tables.orders`` holds ``lines`` (YAML, 4-space indented here)."""
    indented = "".join(f"    {line}\n" for line in lines.strip("\n").splitlines())
    return config("tables:\n  orders:\n" + indented, *also)


def _warehouse(where: str):
    def build(ctx: Ctx) -> Run:
        ctx.write("orders.csv", ORDERS)
        (ctx.tmp / "afile").write_text("not a folder")
        return Run(source=ctx.src, warehouse=ctx.tmp / where)
    return build


def _unwritable_warehouse(ctx: Ctx) -> Run:
    ctx.write("orders.csv", ORDERS)
    (ctx.tmp / "locked").mkdir()
    (ctx.tmp / "locked").chmod(0o500)
    return Run(source=ctx.src, warehouse=ctx.tmp / "locked" / "wh")


def _missing_config(ctx: Ctx) -> Run:
    return Run(config=ctx.tmp / "none.yaml")


def _two_matches(ctx: Ctx) -> Run:
    ctx.write("orders-2024.csv", ORDERS)
    ctx.write("orders-2025.csv", ORDERS)
    return ctx.config("tables:\n  orders:\n    file: orders-*.csv\n")


DEALS = ("Deal,Created,Stage,Value\nD1,2024-01-01,Prospecting,10\nD2,2024-01-02,Negotiation,20\n"
         "D3,2024-01-03,Won,30\n")
DEAL_COLUMNS = "columns: {opportunity_id: Deal, created_date: Created, stage: Stage, amount: Value}"

CASES = [
    # -- names: keys, tables, columns --------------------------------------------------
    Case("cfg-unknown-top-key", "config", config("souce: elsewhere\n"),
         Exit2(("souce", "source"))),
    Case("cfg-misspelt-source-only", "config", config("souce: src\n", source=None),
         Exit2(("crm.yaml", "souce", "source")),
         issue="the message names the typo, not only the missing key"),
    Case("cfg-unknown-table-setting", "config", orders_setting("colums: {order_id: id}"),
         Exit2(("colums", "columns"))),
    Case("cfg-unknown-column-setting", "config",
         orders_setting("columns: {status: {colum: Deleted}}"), Exit2(("colum", "column"))),
    Case("cfg-unknown-table", "config", config("tables:\n  deals: {file: orders.csv}\n"),
         Exit2(("deals", "orders", "opportunities"))),
    Case("cfg-unknown-canonical-column", "config", orders_setting("columns: {revenue: amount}"),
         Exit2(("revenue", "order_id", "valid"))),
    Case("cfg-column-not-in-file", "config", orders_setting("columns: {amount: Total}"),
         Exit2(("orders.csv", "'Total'", "Columns found"))),
    Case("cfg-column-wrong-type", "config", orders_setting("columns: {amount: 5.5}"),
         Exit2(("columns.amount", "source column"))),
    Case("cfg-column-nested-mapping", "config",
         orders_setting("columns: {order_id: {column: {a: {b: c}}}}"),
         Exit2(("order_id", "column"))),
    Case("cfg-constant-list", "config", orders_setting("columns: {currency: {value: [USD]}}"),
         Exit2(("currency", "value"))),
    Case("cfg-unknown-keys-of-mixed-types", "config", config("2024: x\nnotes: y\n"),
         Exit2(("unknown", "2024", "notes")),
         issue="YAML keys that are numbers beside text keys (found by the property test)"),
    Case("cfg-defaults-unknown", "config", config("defaults: {encodng: utf-8}\n"),
         Exit2(("encodng", "encoding"))),
    Case("cfg-defaults-not-mapping", "config", config("defaults: [utf-8]\n"),
         Exit2(("defaults", "mapping"))),

    # -- shapes and types ----------------------------------------------------------------
    Case("cfg-tables-list", "config", config("tables: [orders]\n"),
         Exit2(("tables", "table names"))),
    Case("cfg-table-is-string", "config", config("tables:\n  orders: orders.csv\n"),
         Exit2(("tables.orders", "mapping"))),
    Case("cfg-invalid-yaml", "config", config("tables: [unclosed\n"),
         Exit2(("crm.yaml", "not valid YAML"))),
    Case("cfg-empty-file", "config", config("", source=None), Exit2(("crm.yaml", "source"))),
    Case("cfg-python-tag", "config",
         config("tables: !!python/object/apply:os.system ['echo pwned']\n"),
         Exit2(("crm.yaml", "YAML")), issue="a hostile YAML tag is refused, never run"),
    Case("cfg-optional-not-bool", "config", orders_setting('optional: "yes"'),
         Exit2(("optional", "true or false"))),
    Case("cfg-unique-maybe", "config", orders_setting("unique: maybe"),
         Exit2(("unique", "key", "row"))),
    Case("cfg-delimiter-number", "config", orders_setting("delimiter: 5"),
         Exit2(("delimiter", "5"))),
    Case("cfg-delimiter-empty", "config", orders_setting('delimiter: ""'),
         Exit2(("delimiter",))),
    Case("cfg-decimal-equals-thousands", "config",
         orders_setting('decimal: ","\nthousands: ","'), Exit2(("decimal", "thousands"))),
    Case("cfg-thousands-digit", "config", orders_setting("thousands: 5"),
         Exit2(("thousands", "5")),
         issue="a digit as the thousands mark deletes it from every amount (50.50 -> 0.0)"),
    Case("cfg-decimal-list", "config", orders_setting('decimal: [","]'),
         Exit2(("decimal",))),
    Case("cfg-encoding-empty-list", "config", orders_setting("encoding: []"),
         Exit2(("encoding",))),
    Case("cfg-null-values-mapping", "config", orders_setting("null_values: {a: 1}"),
         Exit2(("null_values",))),
    Case("cfg-sheet-on-csv", "config", orders_setting("sheet: Orders"),
         Exit2(("sheet", "orders.csv")),
         issue="a setting that cannot take effect stops ingest (docs/config.md)"),
    Case("cfg-table-on-file-source", "config", orders_setting("table: sales"),
         Exit2(("table", "sales", "file")),
         issue="`table:` names a database table; over a folder of files it cannot take effect"),
    Case("cfg-format-unknown", "config", orders_setting("format: xml"),
         Exit2(("format", "csv", "parquet", "excel"))),
    Case("cfg-format-wrong", "config", orders_setting("format: parquet"),
         Exit2(("orders.csv", "Parquet"))),
    Case("cfg-skip-rows-text", "config", orders_setting("skip_rows: two"),
         Exit2(("skip_rows", "two"))),
    Case("cfg-quote-two-characters", "config", orders_setting('quote: "ab"'),
         Exit2(("quote", "ab"))),

    # -- files ---------------------------------------------------------------------------
    Case("cfg-missing-config-file", "config", _missing_config,
         Exit2(("config file not found", "none.yaml"))),
    Case("cfg-source-folder-missing", "config",
         config("tables:\n  orders: {file: orders.csv}\n", source="nowhere"),
         Exit2(("nowhere", "not found"))),
    Case("cfg-source-number", "config", config("tables:\n  orders: {}\n", source="5"),
         Exit2(("5", "not found"))),
    Case("cfg-file-missing", "config", orders_setting("file: nope.csv"),
         Exit2(("nope.csv", "not found"))),
    Case("cfg-file-pattern-two-matches", "config", _two_matches,
         Exit2(("orders-*.csv", "orders-2024.csv", "orders-2025.csv"))),
    Case("cfg-warehouse-not-text", "config", config("warehouse: 5\n"),
         Exit2(("warehouse", "5")), issue="found by the property test"),
    Case("cfg-warehouse-is-a-file", "config", _warehouse("afile"),
         Exit2(("afile", "is a file", "folder")), issue="issue 13: FileExistsError traceback",
         cli=True),
    Case("cfg-warehouse-unwritable", "config", _unwritable_warehouse,
         Exit2(("wh", "permission")), issue="issue 13: PermissionError traceback",
         needs="non-root"),
    Case("cfg-warehouse-under-a-file", "config", _warehouse("afile/wh"),
         Exit2(("afile", "warehouse")), issue="a warehouse folder that cannot be made"),

    # -- lookups ---------------------------------------------------------------------------
    Case("cfg-lookup-plain-on", "config",
         orders_setting("lookups:\n  - {file: teams.csv, key: agent, on: agent}",
                        ("teams.csv", TEAMS)),
         Loaded(3, 3, rows=("SELECT manager FROM orders ORDER BY source_row",
                            [("Mia",), ("Mia",), ("Mia",)])),
         issue="YAML 1.1 reads a bare `on:` as true; crmkit reads it back"),
    Case("cfg-lookup-missing-file", "config",
         orders_setting("lookups:\n  - {file: teams.csv, key: agent}"),
         Exit2(("teams.csv", "not found"))),
    Case("cfg-lookup-missing-key", "config",
         orders_setting("lookups:\n  - {file: teams.csv, key: seller}", ("teams.csv", TEAMS)),
         Exit2(("seller", "orders.csv"))),
    Case("cfg-lookup-on-missing", "config",
         orders_setting("lookups:\n  - {file: teams.csv, key: agent, on: agent_name}",
                        ("teams.csv", TEAMS)),
         Exit2(("agent_name", "teams.csv"))),
    Case("cfg-lookup-repeated-key", "config",
         orders_setting("lookups:\n  - {file: teams.csv, key: agent}",
                        ("teams.csv", TEAMS + "Ann,Zoe\n")),
         Exit2(("teams.csv", "Ann"))),
    Case("cfg-lookups-not-a-list", "config",
         orders_setting("lookups: {file: teams.csv, key: agent}", ("teams.csv", TEAMS)),
         Exit2(("lookups", "list"))),
    Case("cfg-lookup-bad-match", "config",
         orders_setting("lookups:\n  - {file: teams.csv, key: agent, match: fuzzy}",
                        ("teams.csv", TEAMS)),
         Exit2(("match", "fuzzy", "loose"))),

    # -- rules -----------------------------------------------------------------------------
    Case("cfg-rule-min-abc", "config", orders_setting("rules: {amount: {min: abc}}"),
         Exit2(("rules.amount.min", "abc", "not a number")),
         issue="issue 13: ValueError traceback", cli=True),
    Case("cfg-rule-min-nan", "config", orders_setting("rules: {amount: {min: .nan}}"),
         Exit2(("rules.amount.min", "number")), issue="YAML's .nan is a float, not a bound"),
    Case("cfg-rule-max-list", "config", orders_setting("rules: {amount: {max: [1, 2]}}"),
         Exit2(("rules.amount.max", "not a number"))),
    Case("cfg-rule-min-applies", "config", orders_setting("rules: {amount: {min: 10}}"),
         Quarantined("amount below 10", 2, rows_in=3)),
    Case("cfg-rule-quarantine", "config",
         orders_setting('rules: {Deleted: {in: ["1"], quarantine: deleted in the CRM}}'),
         Quarantined("deleted in the CRM", 1, rows_in=3)),
    Case("cfg-rule-flag", "config",
         orders_setting('rules: {Email: {matches: ".*@test\\\\.example", flag: test_account}}'),
         Loaded(3, 2, 1, flags={"test_account": 1})),
    Case("cfg-rule-bad-regex", "config",
         orders_setting('rules: {Email: {matches: "([", flag: bad}}'),
         Exit2(("matches", "regular expression"))),
    Case("cfg-rule-no-action", "config", orders_setting("rules: {Email: {equals: x}}"),
         Exit2(("rules.Email", "quarantine", "flag"))),
    Case("cfg-rule-two-tests", "config",
         orders_setting("rules: {Email: {equals: a, in: [b], quarantine: x}}"),
         Exit2(("rules.Email", "one test per rule"))),
    Case("cfg-rule-range-on-date", "config", orders_setting("rules: {order_date: {min: 0}}"),
         Exit2(("order_date", "number"))),
    Case("cfg-rule-missing-column", "config",
         orders_setting('rules: {Removed: {equals: "1", quarantine: removed}}'),
         Exit2(("Removed", "columns found"))),
    Case("cfg-rule-flag-name", "config",
         orders_setting('rules: {Deleted: {equals: "1", flag: Test Account}}'),
         Exit2(("flag", "snake_case"))),
    Case("cfg-rules-not-mapping", "config", orders_setting("rules: [amount]"),
         Exit2(("rules", "mapping"))),
    Case("cfg-date-format-number", "config", orders_setting("date_format: 5"),
         Exit2(("date_format", "strptime")), issue="issue 13: TypeError traceback"),
    Case("cfg-date-format-no-percent", "config", orders_setting('date_format: "dd/mm/yyyy"'),
         Exit2(("date_format", "dd/mm/yyyy", "strptime"))),
    Case("cfg-date-format-list-mixed", "config", orders_setting('date_format: [5, "%d/%m/%Y"]'),
         Exit2(("date_format", "strptime"))),
    Case("cfg-status-rule-unknown-status", "config",
         orders_setting("status_rules:\n  - {column: order_id, startswith: C, status: sent back}"),
         Exit2(("sent back", "completed", "returned"))),
    Case("cfg-status-rule-no-test", "config",
         orders_setting("status_rules:\n  - {column: order_id, status: returned}"),
         Exit2(("status_rules", "equals"))),
    Case("cfg-status-rules-on-tickets", "config",
         config("tables:\n  orders: {}\n  tickets:\n    file: orders.csv\n    status_rules:\n"
                "      - {column: order_id, equals: '1', status: closed}\n"),
         Exit2(("status_rules", "tickets", "orders"))),
    Case("cfg-value-map-typo-target", "config",
         orders_setting('columns: {status: {column: Deleted, values: {"0": completed, '
                        '"1": cancled}}}'),
         Exit2(("cancled", "cancelled"))),
    Case("cfg-value-map-key-matches-nothing", "config",
         orders_setting("columns: {status: {column: agent, values: {Annie: completed}}}"),
         Exit2(("Annie", "Values found"))),
    Case("cfg-derive-not-arithmetic", "config",
         orders_setting('derive: {amount: "amount ** 2; DROP TABLE orders"}'),
         Exit2(("derive", "amount", "arithmetic"))),
    Case("cfg-derive-unknown-column", "config", orders_setting('derive: {amount: "price * qty"}'),
         Exit2(("price", "canonical"))),
    Case("cfg-stages-on-orders", "config", orders_setting("stages: [New, Done]"),
         Exit2(("stages", "opportunities"))),
    Case("cfg-stages-missing-stage", "config",
         config(f"tables:\n  opportunities:\n    file: deals.csv\n    {DEAL_COLUMNS}\n"
                "    stages: [Prospecting, Won, Lost]\n", ("deals.csv", DEALS)),
         Exit2(("stages", "Negotiation"))),
    Case("cfg-stages-twice", "config",
         config(f"tables:\n  opportunities:\n    file: deals.csv\n    {DEAL_COLUMNS}\n"
                "    stages: [Won, Won]\n", ("deals.csv", DEALS)),
         Exit2(("stages", "twice"))),
    Case("cfg-derive-from-with-file", "config",
         config("tables:\n  orders: {}\n  customers: {derive_from: orders, file: orders.csv}\n"),
         Exit2(("derive_from", "file"))),
    Case("cfg-derive-from-customers", "config", orders_setting("derive_from: customers"),
         Exit2(("derive_from", "customers"))),

    # -- top-level settings ------------------------------------------------------------------
    Case("cfg-currency-word", "config", config("currency: dollars\n"),
         Exit2(("currency", "dollars", "ISO"))),
    Case("cfg-rates-negative", "config", config("currency: USD\nrates: {EUR: -1}\n"),
         Exit2(("rates.EUR", "positive"))),
    Case("cfg-rates-decimal-comma", "config", config('currency: USD\nrates: {EUR: "1,08"}\n'),
         Exit2(("rates.EUR", "positive number"))),
    Case("cfg-rates-without-currency", "config",
         config("rates: {EUR: 1.1}\n",
                orders="order_id,order_date,amount,currency\n1,2024-01-01,3,EUR\n"),
         Exit2(("currency:",))),
    Case("cfg-rates-file-missing", "config", config("rates: {file: CurrencyType.csv}\n"),
         Exit2(("CurrencyType.csv", "not found"))),
    Case("cfg-snapshot-date-word", "config", config("snapshot_date: yesterday\n"),
         Exit2(("snapshot_date", "yesterday", "YYYY-MM-DD"))),
    Case("cfg-snapshot-date-impossible", "config", config("snapshot_date: 2024-02-30\n"),
         Exit2(("snapshot_date", "2024-02-30"))),
    Case("cfg-preset-unknown", "config", config("preset: zoho\n"),
         Exit2(("zoho", "salesforce", "hubspot"))),
    Case("cfg-timezone-unknown", "config", config("timezone: Mars/Olympus\n"),
         Exit2(("timezone", "Mars/Olympus"))),
    Case("cfg-plausible-dates-word", "config", config("plausible_dates: {earliest: yesterday}\n"),
         Exit2(("plausible_dates", "earliest", "yesterday"))),
    Case("cfg-plausible-dates-typo", "config",
         config("plausible_dates: {earliest: 1900-01-01, lates: 2030-01-01}\n"),
         Exit2(("plausible_dates", "lates", "latest"))),
]
