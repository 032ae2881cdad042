"""engine: spark (issue 16): the config, ingest on Spark against DuckDB's (the same audit,
the same rejected rows with the same reasons), the Spark warehouse's KPIs, and reports
rendered on it with the same figures as on DuckDB.

The data: the retail and B2B samples as `make sample` writes them (seed 42), as Parquet;
the retail orders carry a dozen bad rows, read as text, with a config that maps values,
flags and quarantines by rules and reads placeholders as missing. Spark runs in local mode
(crmkit.spark's session, one per process); without Java or pyspark the Spark tests skip,
except under CI, where they fail (tests/conftest.py need).
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crmkit.config import load_config
from crmkit.exceptions import ConfigError, EngineError
from crmkit.ingest import ingest, resolve_config
from tests.conftest import ROOT, need

pytestmark = pytest.mark.slow

# Audit entries that differ by nature between two ingests of the same data.
VOLATILE = {"generated_at", "seconds", "fingerprint", "engine", "tables_location", "config"}
BAD_ORDERS = [  # (order_id, changes to a valid order, what ingest does with it)
    ("O00000001", {}, "duplicate order_id"),
    (None, {}, "missing order_id"),
    ("BAD03", {"order_date": "2025-02-30"}, "unparseable order_date"),
    ("BAD04", {"order_date": "9999-12-31"}, "order_date out of range"),
    ("BAD05", {"amount": "abc"}, "unparseable amount"),
    ("BAD06", {"amount": "inf"}, "amount not a finite number"),
    ("BAD07", {"amount": "-50"}, "negative amount on a non-return"),
    ("BAD08", {"status": "lost-in-mail"}, "unknown status"),
    ("BAD09", {"customer_id": "C9999999"}, "unknown customer_id"),
    ("BAD10", {"product": "DELETED widget"}, "deleted in the CRM"),
    ("BAD11", {"sales_rep": "Test Rep"}, "flag test_rep"),
    ("BAD12", {"campaign_id": "CAMP-NOPE"}, "flag unknown_campaign"),
    ("BAD13", {"status": "Refunded", "amount": "80"}, "flag return"),
    ("BAD14", {"customer_id": "N/A"}, "flag no_customer"),
    ("BAD15", {"order_date": "2025-05-10T12:00:00+00:00"}, "kept, 14:00 in Berlin"),
]
RETAIL_CONFIG = """\
source: {source}
timezone: Europe/Berlin
defaults: {{null_values: ["N/A"]}}
tables:
  campaigns: {{file: campaigns.parquet}}
  customers: {{file: customers.parquet}}
  orders:
    file: orders.parquet
    columns:
      status: {{column: status, values: {{Refunded: returned}}}}
    rules:
      sales_rep: {{equals: Test Rep, flag: test_rep}}
      product: {{startswith: DELETED, quarantine: deleted in the CRM}}
  leads: {{file: leads.parquet}}
  tickets: {{file: tickets.parquet}}
  surveys: {{file: surveys.parquet}}
  targets: {{file: targets.parquet}}
"""
SPARK = 'engine: spark\nspark: {master: "local[2]", spark.sql.shuffle.partitions: 4}\n'


def spark_here() -> None:
    from crmkit.spark import java

    need(importlib.util.find_spec("pyspark") is not None, "the pyspark package")
    need(java() is not None, "Java (for Spark)")


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- the config ----------------------------------------------------------------------------

@pytest.fixture
def parquet_folder(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    pd.DataFrame({"order_id": ["A"], "order_date": ["2025-01-01"], "amount": [1.0]}) \
        .to_parquet(folder / "orders.parquet")
    return folder


@pytest.mark.parametrize("text, message", [
    ("engine: sprak\n", "engine 'sprak'; use duckdb or spark"),
    ("engine: spark\nspark: {mastr: local}\n", "unknown setting 'mastr'"),
    ("engine: spark\nspark: {spark.jars.packages: 'org.x:y:1'}\n", "downloads jars"),
    ("spark: {master: local}\n", "`spark` settings apply with `engine: spark`"),
    ("engine: spark\nspark: [local]\n", "spark: expected a mapping"),
    ("warehouse: s3a://bucket/crm\n", "only `engine: spark` writes to"),
])
def test_config_stops_at_a_wrong_engine_setting(parquet_folder, text, message):
    config = write_config(parquet_folder.parent / "c.yaml", f"source: data\n{text}")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(config)


def test_config_reads_the_spark_settings(parquet_folder, monkeypatch):
    monkeypatch.setattr("crmkit.spark.check_available", lambda: None)
    config = load_config(write_config(parquet_folder.parent / "c.yaml", (
        "source: data\nengine: spark\nwarehouse: s3a://lake/crm/\n"
        "spark: {master: 'spark://h:7077', spark.executor.memory: 4g, "
        "spark.sql.adaptive.enabled: false}\n")))
    assert config.engine == "spark"
    assert config.spark.master == "spark://h:7077"
    assert config.spark.options == {"spark.executor.memory": "4g",
                                    "spark.sql.adaptive.enabled": "false"}
    assert config.tables_uri == "s3a://lake/crm" and config.warehouse is None
    assert load_config(write_config(parquet_folder.parent / "d.yaml", "source: data\n")
                       ).engine == "duckdb"


def test_spark_reads_parquet_only(parquet_folder, monkeypatch):
    monkeypatch.setattr("crmkit.spark.check_available", lambda: None)
    (parquet_folder / "customers.csv").write_text("customer_id\nC1\n")
    with pytest.raises(ConfigError, match=r"tables.customers: customers.csv is a CSV file; "
                       r"engine: spark reads Parquet only: convert it to Parquet"):
        load_config(write_config(parquet_folder.parent / "c.yaml",
                                 "source: data\nengine: spark\n"))
    # A folder of parts named without a suffix, as Spark writes them, is read as Parquet.
    parts = parquet_folder / "leads"
    parts.mkdir()
    pd.DataFrame({"lead_id": ["L1"]}).to_parquet(parts / "part-00000.parquet")
    config = load_config(write_config(parquet_folder.parent / "p.yaml",
                                      "source: data\nengine: spark\n"
                                      "tables: {leads: {file: leads}}\n"))
    assert config.tables["leads"].format == "parquet"
    with pytest.raises(ConfigError, match="a URL that only Spark reads"):
        load_config(write_config(parquet_folder.parent / "u.yaml",
                                 "source: s3a://lake/exports\n"))


def test_spark_without_pyspark_or_java_says_what_to_install(parquet_folder, monkeypatch):
    import crmkit.spark

    config = write_config(parquet_folder.parent / "c.yaml", "source: data\nengine: spark\n")
    real = importlib.util.find_spec
    monkeypatch.setattr(crmkit.spark.importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else real(name, *a))
    with pytest.raises(EngineError, match=re.escape("pip install 'crmkit[spark]'")):
        load_config(config)
    monkeypatch.setattr(crmkit.spark.importlib.util, "find_spec", real)
    monkeypatch.setattr(crmkit.spark, "java", lambda: None)
    with pytest.raises(EngineError, match="apt-get install openjdk-17-jre-headless"):
        load_config(config)
    # The CLI prints it as one line and exit status 2, no traceback.
    done = subprocess.run([sys.executable, "-c", (
        "import sys, crmkit.spark, crmkit.cli; crmkit.spark.java = lambda: None; "
        f"sys.exit(crmkit.cli.main(['ingest', '--config', {str(config)!r}]))")],
        capture_output=True, text=True, cwd=parquet_folder.parent, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "needs Java" in done.stderr


# -- ingest on both engines ----------------------------------------------------------------

def _orders_with_bad_rows(folder: Path) -> None:
    """The sample's orders with order_date and amount as text, and BAD_ORDERS appended."""
    orders = pd.read_parquet(folder / "orders.parquet")
    orders["order_date"] = orders["order_date"].dt.strftime("%Y-%m-%d %H:%M:%S")
    orders["amount"] = orders["amount"].map(repr)
    valid = {"order_date": "2025-05-10 12:00:00", "amount": "100.0", "customer_id": "C0000056",
             "product": "Widget", "category": "Hardware", "quantity": 1.0, "unit_price": 100.0,
             "channel": "Online", "region": "West", "sales_rep": "David Brooks",
             "status": "completed", "campaign_id": None}
    bad = pd.DataFrame([{**valid, **changes, "order_id": order_id}
                        for order_id, changes, _ in BAD_ORDERS])
    pd.concat([orders, bad[orders.columns]], ignore_index=True).to_parquet(
        folder / "orders.parquet", index=False)


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """data set -> (DuckDB warehouse folder, Spark warehouse folder), both ingested from
    the same Parquet files: the retail sample with bad orders through a config, the B2B
    sample found by name, read and written as lake paths (file:// URIs)."""
    spark_here()
    from crmkit.sample import write_sample
    from crmkit.sample_b2b import write_b2b_sample

    base = tmp_path_factory.mktemp("spark-engine")
    write_sample(base / "retail", customers=2000, seed=42, fmt="parquet")
    write_b2b_sample(base / "b2b", customers=150, seed=42, fmt="parquet")
    _orders_with_bad_rows(base / "retail")
    retail = RETAIL_CONFIG.format(source="retail")
    configs = {
        "retail": (write_config(base / "retail-duckdb.yaml", retail),
                   write_config(base / "retail-spark.yaml", retail + SPARK)),
        "b2b": (None, write_config(base / "b2b-spark.yaml", (
            f"source: {(base / 'b2b').as_uri()}\nwarehouse: {(base / 'lake').as_uri()}/b2b\n"
            + SPARK))),
    }
    out = {}
    for name, (duck_config, spark_config) in configs.items():
        duck = resolve_config(duck_config) if duck_config else resolve_config(
            source=base / name)
        ingest(duck, base / f"{name}-duckdb")
        ingest(load_config(spark_config), base / f"{name}-spark")
        out[name] = (base / f"{name}-duckdb", base / f"{name}-spark")
    return out


def _comparable(audit: dict) -> dict:
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        return value

    return strip(audit)


@pytest.mark.parametrize("data_set", ["retail", "b2b"])
def test_spark_ingest_writes_the_audit_duckdb_writes(warehouses, data_set):
    duck, spark = warehouses[data_set]
    a = json.loads((duck / "audit.json").read_text())
    b = json.loads((spark / "audit.json").read_text())
    assert b["engine"] == "spark" and b["reconciled"]
    assert not (spark / "warehouse.duckdb").exists()
    if data_set == "b2b":
        # Read from a lake path: the table files are listed, not hashed.
        assert b["tables_location"].startswith("file:") and not (spark / "tables").exists()
        opportunities = b["tables"]["opportunities"]
        assert opportunities["identified_by"] == "file names, sizes and modification times"
        for record in (a, b):
            for table in record["tables"].values():
                for key in ("file", "sha256", "bytes", "files", "identified_by"):
                    table.pop(key, None)
        a["source"] = b["source"] = None
    assert _comparable(b) == _comparable(a)


def _rejects(duck: Path, spark: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    from crmkit.warehouse import spark_tables_location

    with duckdb.connect(str(duck / "warehouse.duckdb"), read_only=True) as con:
        a = con.execute("SELECT table_name, source_row, reason, record FROM rejects").df()
    audit = json.loads((spark / "audit.json").read_text())
    b = pd.read_parquet(spark_tables_location(spark, audit) + "/rejects")
    b = b[["table_name", "source_row", "reason", "record"]].astype({"table_name": str})
    key = ["table_name", "source_row"]
    return (a.sort_values(key).reset_index(drop=True),
            b.sort_values(key).reset_index(drop=True))


def test_spark_quarantines_the_rows_duckdb_quarantines(warehouses):
    a, b = _rejects(*warehouses["retail"])
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    first_bad = 26_094 + 1  # the sample's orders, then BAD_ORDERS in order
    reasons = dict(zip(b.loc[b.table_name == "orders", "source_row"],
                       b.loc[b.table_name == "orders", "reason"]))
    for i, (_, _, what) in enumerate(BAD_ORDERS):
        if not what.startswith(("flag", "kept")):
            assert reasons.get(first_bad + i) == what, (i, what)
    assert len(reasons) == sum(not w.startswith(("flag", "kept")) for *_, w in BAD_ORDERS)
    record = json.loads(b.loc[b.source_row == first_bad + 4, "record"].iloc[0])
    assert record["order_id"] == "BAD05" and record["amount"] == "abc"


def test_spark_flags_and_converts_as_duckdb(warehouses):
    from crmkit.warehouse import Warehouse

    duck, spark = (Warehouse.open(f) for f in warehouses["retail"])
    try:
        columns = ["order_id", "order_date", "amount", "status", "customer_id", "flags",
                   "source_row"]
        bad = [i for i, _, _ in BAD_ORDERS if i and i.startswith("BAD")]
        frames = []
        for wh in (duck, spark):
            orders = wh.table("orders")
            frames.append(orders.filter(orders.order_id.isin(bad)).select(columns)
                          .order_by("source_row").execute())
        pd.testing.assert_frame_equal(frames[0], frames[1], check_dtype=False)
        kept = frames[1].set_index("order_id")
        assert kept.loc["BAD11", "flags"] == "test_rep"
        assert kept.loc["BAD12", "flags"] == "unknown_campaign"
        assert (kept.loc["BAD13", "status"], kept.loc["BAD13", "amount"]) == ("returned", -80.0)
        assert pd.isna(kept.loc["BAD14", "customer_id"])
        assert kept.loc["BAD15", "order_date"] == pd.Timestamp("2025-05-10 14:00:00")
    finally:
        duck.close()
        spark.close()


def test_spark_joins_lookups_and_converts_currencies_as_duckdb(warehouses, tmp_path):
    """Side files on the driver (a lookup CSV, Salesforce's currency files), joined and
    applied on Spark's workers: the same audit and the same deals as on DuckDB."""
    source = tmp_path / "pipeline"
    source.mkdir()
    b2b = Path(warehouses["b2b"][0]).parent / "b2b"
    for table in ("customers", "campaigns"):
        (source / f"{table}.parquet").write_bytes((b2b / f"{table}.parquet").read_bytes())
    deals = pd.read_parquet(b2b / "opportunities.parquet")
    deals.loc[deals.index[:40], "currency"] = "EUR"
    deals.to_parquet(source / "opportunities.parquet", index=False)
    owners = sorted(deals.owner.dropna().unique())[:-1]  # one owner finds no match
    pd.DataFrame({"owner": owners, "manager": [f"M{i % 3}" for i in range(len(owners))]}) \
        .to_csv(source / "teams.csv", index=False)
    (source / "CurrencyType.csv").write_text(
        "IsoCode,ConversionRate,IsCorporate\nUSD,1.0,true\nEUR,0.9,false\n")
    (source / "DatedConversionRate.csv").write_text(
        "IsoCode,ConversionRate,StartDate,NextStartDate\nUSD,1.0,2000-01-01,\n"
        "EUR,0.8,2000-01-01,2024-01-01\nEUR,0.9,2024-01-01,\n")
    text = ("source: pipeline\ncurrency: USD\n"
            "rates: {file: CurrencyType.csv, dated: DatedConversionRate.csv}\ntables:\n"
            "  opportunities:\n    file: opportunities.parquet\n"
            "    lookups: [{file: teams.csv, key: owner, columns: [manager], name: team}]\n"
            "  customers: {file: customers.parquet}\n  campaigns: {file: campaigns.parquet}\n")
    audits, deals_kept = [], []
    for engine, extra in (("duckdb", ""), ("spark", SPARK)):
        folder = tmp_path / engine
        audit = ingest(load_config(write_config(tmp_path / f"{engine}.yaml", text + extra)),
                       folder)
        audits.append(_comparable(audit))
        from crmkit.warehouse import Warehouse

        wh = Warehouse.open(folder)
        try:
            deals_kept.append(wh.table("opportunities").select(
                "opportunity_id", "amount", "amount_original", "currency", "manager")
                .order_by("opportunity_id").execute())
        finally:
            wh.close()
    assert audits[1] == audits[0]
    record = audits[1]["tables"]["opportunities"]
    assert record["lookups"][0]["unmatched"] > 0 and "dated rate" in record["derived"]["amount"]
    pd.testing.assert_frame_equal(*deals_kept, check_dtype=False)


# -- the warehouse and the reports ----------------------------------------------------------

KPIS = {"retail": ["revenue", "orders", "average_order_value", "repeat_purchase_rate",
                   "churn_rate", "nps", "complaint_rate", "conversion_rate"],
        "b2b": ["bookings", "win_rate", "average_deal_size", "conversion_rate"]}


@pytest.mark.parametrize("data_set", ["retail", "b2b"])
def test_spark_warehouse_computes_the_kpis_duckdb_computes(warehouses, data_set):
    import crmkit.metrics as m
    from crmkit.metrics import Filters
    from crmkit.warehouse import Warehouse

    duck, spark = (Warehouse.open(f) for f in warehouses[data_set])
    try:
        assert spark.con.name == "pyspark" and spark.tables() == duck.tables()
        filters = Filters(start="2025-01-01", end="2025-06-30")
        for name in KPIS[data_set]:
            a, b = (getattr(m, name)(wh, filters) for wh in (duck, spark))
            assert type(a) is type(b) and not isinstance(a, m.NotAvailable), (name, a, b)
            for field in fields(a):  # sums in another order: equal to the last digits
                x, y = getattr(a, field.name), getattr(b, field.name)
                assert x == (pytest.approx(y, rel=1e-9, nan_ok=True)
                             if isinstance(x, float) else y), f"{name}.{field.name}"
        by_region = [m.revenue(wh, filters, by="region") if data_set == "retail" else
                     m.bookings(wh, filters, by="owner") for wh in (duck, spark)]
        key = by_region[0].columns[0]
        pd.testing.assert_frame_equal(
            *(f.sort_values(key).reset_index(drop=True) for f in by_region),
            check_dtype=False)
    finally:
        duck.close()
        spark.close()


def test_filter_panel_redraws_on_spark_as_on_duckdb(warehouses, monkeypatch):
    """The live panel on a Spark warehouse: a region picked, the summary redrawn with the
    figures the DuckDB warehouse gives."""
    from crmkit.sections import open_report
    from crmkit.sections.widgets import FilterPanel

    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: None)
    summaries = []
    for folder in warehouses["retail"]:
        report = open_report("sales_performance", warehouse=str(folder), start="2025-04-01",
                             end="2025-06-30")
        panel = FilterPanel(report, debounce=0.02)
        report.panel = panel
        report.show("summary")
        panel.dimension_widgets["region"].value = "East"
        panel.wait()
        assert "up to date" in panel.status.value
        summaries.append("\n".join(o["data"]["text/markdown"]
                                   for o in panel.views["summary"].outputs
                                   if "text/markdown" in o["data"]))
        panel.close()
        report.wh.close()
    assert summaries[1] == summaries[0] and summaries[1]


def reader_text(page: str, base: Path) -> list[str]:
    """The page's text, line by line, without what differs between two renders of the same
    figures: times, the warehouse's path, the source's path or URI (under ``base``) and
    the inputs' checksums (a lake path's is its listing's)."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<img[^>]*>", " ", page)
    lines = [line.strip() for line in html.unescape(re.sub(r"<[^>]+>", "\n", page)).split("\n")]
    drop = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d| UTC)|warehouse = |ingested |"
                      r"^[0-9a-f]{64}$|" + re.escape(base.name))
    return [line for line in lines if line and not drop.search(line)]


def test_reports_render_on_spark_with_duckdb_figures(warehouses, tmp_path):
    """`crmkit render` on the Spark warehouse: the same pages, word for word and figure
    for figure, as on the DuckDB warehouse of the same data."""
    runs = {"retail": ["sales_performance", "churn"], "b2b": ["sales_performance"]}
    for data_set, reports in runs.items():
        pages = []
        for engine, folder in zip(("duckdb", "spark"), warehouses[data_set]):
            out = tmp_path / f"{data_set}-{engine}"
            done = subprocess.run(
                [sys.executable, "-m", "crmkit", "render", *reports, "--out", str(out),
                 "--param", f"warehouse={folder}", "--jobs", "2"],
                capture_output=True, text=True, cwd=ROOT, timeout=1800)
            assert done.returncode == 0, done.stdout + done.stderr
            pages.append({r: reader_text((out / f"{r}.html").read_text(), folder.parent)
                          for r in reports})
        for report in reports:
            duck, spark = pages[0][report], pages[1][report]
            assert spark == duck, f"{data_set} {report}: " + "\n".join(
                f"{x!r} | {y!r}" for x, y in zip(duck, spark) if x != y)
            if report == "sales_performance" and data_set == "retail":
                assert any("Net revenue" in line for line in spark)
