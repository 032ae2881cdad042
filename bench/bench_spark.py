"""Spark local[2] against DuckDB: the KPI set and one report on generated orders, e.g. 10
and 50 million.

    python bench/bench_spark.py [--orders 10000000 50000000] [--report sales_performance]
    make bench BENCH_ARGS="--only spark"                      (10 and 50 million orders)
    make bench BENCH_ARGS="--only spark --orders 1000000"     (a quick check)

Data. Each size is made once and kept in a cache folder outside the repository
(``$CRMKIT_BENCH_SPARK_CACHE``, default ``<temp>/crmkit-bench-spark``; ``--clean`` removes
it), as one Parquet folder per table, ``parquet-N/<table>/part-*.parquet``, written with
pyarrow batch by batch so memory stays bounded. Up to 10 million orders
(:data:`INGEST_MAX`): ``crmkit sample --format parquet`` (the generator the other
benchmarks use) writes about N orders and their customers, leads, campaigns, tickets,
surveys and targets; ``crmkit ingest`` loads them into a DuckDB warehouse, so the tables
are exactly what crmkit reads (derived columns, flags, bookkeeping columns); its tables
are exported (then the generated files and the warehouse are removed). Above that (50 million): copies of the 10-million tables, ids made distinct
(``-1``, ``-2`` ... appended), campaign costs and sales targets multiplied by the copies,
so every rate and ratio KPI keeps its value and counts and amounts multiply (it is quicker
than generating and ingesting that many). Making the data is timed and
printed but is not one of the figures.

Engines, each step in a fresh process (so its peak memory is its own):
    duckdb   an in-memory ibis DuckDB connection with one view per table over
             ``read_parquet('parquet-N/<table>/*.parquet')``: every query scans the Parquet,
             as Spark does (no DuckDB table is loaded)
    spark    ``ibis.pyspark.connect`` on a SparkSession ``local[2]`` with one temporary view
             per table over the same Parquet folders (``--spark-memory`` driver heap,
             ``--shuffle-partitions``, UI off, time zone UTC, warehouse and local dirs in a
             temporary folder); start-up (session and views) is timed separately
Steps: ``kpi_set`` is crmkit.metrics.kpi_set on the quarter of bench_metrics (each KPI
timed too: the slowest are named); ``report`` is one report (default sales_performance) on
the same quarter: a crmkit.sections Report built as ``open_report`` builds one, but on the
engine's Warehouse over the Parquet (``open_report`` takes a warehouse folder), every
section of the notebook computed, its charts drawn to PNG and its tables to HTML. The two
engines' KPI values are compared (to 1e-6), and so are the report's texts, tables and KPI
cards (all but the lineage, which shows when it was made; a sum of amounts may come out a
cent apart, the order of addition differing). Each step is one cold run in its process.

Memory. The parent samples the step's whole process tree every 50 ms with psutil (the
Python process, and for Spark the driver JVM it launched and any Python worker): ``peak
MB`` is the largest sum of resident memory seen. ``python MB`` is the Python process's
peak resident memory as it reports it (``resource.getrusage``); ``JVM MB`` the driver
JVM's, read from the kernel (``VmHWM`` in /proc/<pid>/status, the last value seen before
the JVM exits). Both are peaks of one process each, over the whole step, start-up
included; peak MB is at one moment, so it can be less than their sum.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_ingest
import bench_metrics

SIZES = [10_000_000, 50_000_000]
PERIOD = bench_metrics.PERIOD  # 2025 Q1: has a previous quarter and year in the data
CACHE = Path(os.environ.get("CRMKIT_BENCH_SPARK_CACHE")
             or Path(tempfile.gettempdir()) / "crmkit-bench-spark")
ENGINES = ("duckdb", "spark")
STEPS = ("kpi_set", "report")
FILE_ROWS = 4_000_000  # rows per exported Parquet file (a 50-million order table: 13 files)
GROUP_ROWS = 1_000_000  # rows per row group: Spark splits a file by row groups
SAMPLE_SECONDS = 0.05  # how often the process tree's memory is read
# Sizes up to this are generated and ingested; a larger size is copies of this one (ids
# made distinct), which takes a minute where generating and ingesting 50 million orders
# would take a quarter of an hour, and keeps every rate the same.
INGEST_MAX = 10_000_000
# Columns a copy makes distinct (a suffix); campaign ids stay, and campaign costs and sales
# targets grow with the copies, so ROI and attainment stay what they were.
COPY_IDS = ("customer_id", "order_id", "lead_id", "ticket_id", "response_id")
COPY_SCALED = {"campaigns": "cost", "targets": "target_amount"}

# -- the data --------------------------------------------------------------------------------

INGEST = """
import json, resource, sys, time
from crmkit.ingest import ingest, resolve_config
t = time.perf_counter()
audit = ingest(resolve_config(source=sys.argv[1]), sys.argv[2], force=True,
               progress=lambda message: print("    " + message, flush=True))
print(json.dumps({"seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "reconciled": audit["reconciled"]}))
"""

# Writes the rows of each table's queries (run one after the other) to out/<table>/, in
# files of file_rows rows, through pyarrow, batch by batch.
EXPORT = """
import json, sys
from pathlib import Path
import duckdb, pyarrow.parquet as pq
db, out, file_rows, group_rows = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
plan = json.loads(sys.argv[5])
con = duckdb.connect(db, read_only=bool(db))
con.execute("SET preserve_insertion_order = true")
con.execute("SET enable_progress_bar = false")  # it would print on stdout
rows = {}
for table, queries in plan.items():
    folder = out / table
    folder.mkdir(parents=True)
    writer, part, in_file, total, schema = None, 0, 0, 0, None
    for query in queries:
        reader = con.execute(query).fetch_record_batch(group_rows)
        schema = schema or reader.schema
        for batch in reader:
            if writer is None or in_file >= file_rows:
                if writer is not None:
                    writer.close()
                writer = pq.ParquetWriter(folder / f"part-{part:05d}.parquet", schema,
                                          compression="zstd")
                part, in_file = part + 1, 0
            writer.write_batch(batch, row_group_size=group_rows)
            in_file += batch.num_rows
            total += batch.num_rows
    if writer is None:  # an empty table still has a file with its columns
        pq.write_table(schema.empty_table(), folder / "part-00000.parquet")
    else:
        writer.close()
    rows[table] = total
print(json.dumps(rows))
"""


def _complete(folder: Path) -> bool:
    return (folder / ".complete").exists()


def _stage(cmd: list[str], what: str, env: dict | None = None) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True,
                         env=None if env is None else {**os.environ, **env})
    if out.returncode:
        raise RuntimeError(f"{what} failed:\n{out.stderr[-3000:]}")
    return out.stdout


def _export(db: str, out: Path, plan: dict[str, list[str]]) -> dict[str, int]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return json.loads(_stage([sys.executable, "-c", EXPORT, db, str(out), str(FILE_ROWS),
                              str(GROUP_ROWS), json.dumps(plan)],
                             "the Parquet export").strip().splitlines()[-1])


def _ingested(orders: int, out: Path) -> dict[str, int]:
    """``out``: the tables of about ``orders`` generated orders, ingested by crmkit."""
    sample, warehouse = CACHE / f"sample-{orders}", CACHE / f"wh-{orders}"
    if not _complete(sample):
        shutil.rmtree(sample, ignore_errors=True)
        customers = bench_ingest.customers_for(orders)
        print(f"  generating about {orders:,} orders ({customers:,} customers, Parquet) "
              f"in {sample} ...", flush=True)
        began = time.perf_counter()
        _stage([sys.executable, "-m", "crmkit", "sample", "--out", str(sample), "--customers",
                str(customers), "--format", "parquet", "--seed", "7"], "crmkit sample")
        (sample / ".complete").touch()
        print(f"    generated in {time.perf_counter() - began:,.0f} s", flush=True)
    if not _complete(warehouse):
        print(f"  ingesting into {warehouse} (crmkit ingest) ...", flush=True)
        began = time.perf_counter()
        shutil.rmtree(warehouse, ignore_errors=True)
        done = json.loads(_stage([sys.executable, "-c", INGEST, str(sample), str(warehouse)],
                                 "crmkit ingest").strip().splitlines()[-1])
        if not done["reconciled"]:
            raise RuntimeError(f"the ingest of {sample} does not reconcile")
        (warehouse / ".complete").touch()
        print(f"    ingested in {time.perf_counter() - began:,.0f} s, peak "
              f"{done['peak_mb']:,.0f} MB", flush=True)
    print(f"  exporting the warehouse tables to Parquet in {out} ...", flush=True)
    import duckdb

    db = str(warehouse / "warehouse.duckdb")
    with duckdb.connect(db, read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() "
                                            "ORDER BY 1").fetchall() if t != "rejects"]
    rows = _export(db, out, {t: [f'SELECT * FROM "{t}"'] for t in tables})
    shutil.copy(warehouse / "audit.json", out / "audit.json")
    for done in (sample, warehouse):  # the Parquet tables are all the benchmark reads
        shutil.rmtree(done, ignore_errors=True)
    return rows


def _copied(base: Path, copies: int, out: Path) -> dict[str, int]:
    """``out``: ``copies`` copies of the tables in ``base``, ids made distinct (copy k > 0
    appends ``-k``), source_row numbered on; campaigns and targets once, their costs and
    targets times ``copies``."""
    import duckdb

    print(f"  copying {base} {copies} times (ids made distinct) to {out} ...", flush=True)
    plan = {}
    with duckdb.connect() as con:
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            files = f"read_parquet('{folder}/*.parquet')"
            columns = [c for (c, *_) in con.execute(f"DESCRIBE SELECT * FROM {files}").fetchall()]
            n = con.execute(f"SELECT count(*) FROM {files}").fetchone()[0]
            if folder.name in COPY_SCALED:
                col = COPY_SCALED[folder.name]
                plan[folder.name] = [f"SELECT * REPLACE ({col} * {copies} AS {col}) FROM {files}"]
                continue
            queries = []
            for k in range(copies):
                changed = [f"{c} || '-{k}' AS {c}" for c in COPY_IDS if c in columns and k]
                if "source_row" in columns and k:
                    changed.append(f"source_row + {k * n} AS source_row")
                replace = f" REPLACE ({', '.join(changed)})" if changed else ""
                queries.append(f"SELECT *{replace} FROM {files}")
            plan[folder.name] = queries
    rows = _export("", out, plan)
    audit = json.loads((base / "audit.json").read_text())
    audit["bench_copies"] = {"of": str(base), "copies": copies}
    for name, record in audit.get("tables", {}).items():
        if name not in COPY_SCALED:
            for key in ("rows_in", "kept", "flagged", "quarantined"):
                if isinstance(record.get(key), int):
                    record[key] *= copies
    (out / "audit.json").write_text(json.dumps(audit, indent=2))
    return rows


def data_for(orders: int) -> Path:
    """The Parquet folder of about ``orders`` generated orders (one folder per table, and
    the ingest audit), made once in :data:`CACHE`: generated and ingested up to
    :data:`INGEST_MAX` orders, copies of that size above."""
    out = CACHE / f"parquet-{orders}"
    if _complete(out):
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    if orders <= INGEST_MAX:
        rows = _ingested(orders, out)
    else:
        rows = _copied(data_for(INGEST_MAX), max(2, round(orders / INGEST_MAX)), out)
    (out / ".complete").touch()
    size = sum(p.stat().st_size for p in out.rglob("*.parquet")) / 1e6
    print(f"    written in {time.perf_counter() - began:,.0f} s: {rows['orders']:,} orders, "
          f"{size:,.0f} MB of Parquet", flush=True)
    return out


# -- one step in its own process ------------------------------------------------------------

STEP = r"""
import json, os, resource, sys, time
began = time.perf_counter()
engine, step, data, start, end, report_name, options = (sys.argv[1], sys.argv[2], sys.argv[3],
    sys.argv[4], sys.argv[5], sys.argv[6], json.loads(sys.argv[7]))
from pathlib import Path
import ibis
from crmkit.metrics import Filters, kpi_set
from crmkit.warehouse import Warehouse
data = Path(data)
audit = json.loads((data / "audit.json").read_text())
tables = sorted(p.name for p in data.iterdir() if p.is_dir())
imported = time.perf_counter() - began
t = time.perf_counter()
if engine == "duckdb":
    con = ibis.duckdb.connect()
    for name in tables:
        con.raw_sql(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{data / name}/*.parquet')")
    session = 0.0
else:
    from pyspark.sql import SparkSession
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    scratch = options["scratch"]
    spark = (SparkSession.builder.master("local[2]").appName("crmkit-bench")
             .config("spark.driver.memory", options["spark_memory"])
             .config("spark.sql.shuffle.partitions", str(options["shuffle_partitions"]))
             .config("spark.default.parallelism", "2")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.warehouse.dir", os.path.join(scratch, "spark-warehouse"))
             .config("spark.local.dir", os.path.join(scratch, "spark-local"))
             .config("spark.driver.extraJavaOptions",
                     f"-Djava.io.tmpdir={scratch} -Dderby.system.home={scratch}")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    session = time.perf_counter() - t
    for name in tables:
        spark.read.parquet(str(data / name)).createOrReplaceTempView(name)
    con = ibis.pyspark.connect(spark)
wh = Warehouse(con, audit, str(data))
startup = time.perf_counter() - t
filters = Filters(start=start, end=end)
result = {"imported": imported, "session": session, "startup": startup}
t = time.perf_counter()
if step == "kpi_set":
    from crmkit.metrics import get_metric
    each = {}
    def timed(name, f):  # kpi_set's own computation, each KPI timed
        began = time.perf_counter()
        try:
            return get_metric(name)(wh, f)
        finally:
            each[name] = each.get(name, 0.0) + time.perf_counter() - began
    kpis = kpi_set(wh, filters, kpi=timed)
    result["each"] = each
    result["values"] = dict(zip(kpis["name"], kpis["value"].astype(float)))
    result["kpis"] = len(kpis)
    result["available"] = int(kpis["available"].sum())
else:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from crmkit import i18n
    from crmkit.charts import Chart, use_theme
    from crmkit.sections import report_module, shaped_sections
    from crmkit.sections.base import Report, Table, figure_output, report_settings
    from crmkit.sections.notebooks import APPENDIX
    module = report_module(report_name)
    words = i18n.activate("en", None, None)
    use_theme(words.language)
    report = Report(name=report_name, title=module.TITLE, wh=wh, filters=filters,
                    params={"source": str(data), "config": "", "by": "", "language": "en",
                            "start": start, "end": end},
                    sections=module.SECTIONS, language=words.language,
                    shaped=shaped_sections(module), settings=report_settings("", wh),
                    words=words)
    outline = [e[0] for e in [*module.OUTLINE, *APPENDIX] if not isinstance(e, str)]
    counts = {"sections": 0, "charts": 0, "tables": 0, "cards": 0, "texts": 0}
    failed, shown = {}, {}
    for section in ["scope", *outline]:
        try:
            outputs = report.outputs(section)
        except Exception as exc:
            # A Py4JJavaError's first line names only the call; the Java exception follows.
            lines = [x for x in str(exc).strip().splitlines()
                     if x.strip() and not x.startswith("An error occurred while calling")]
            first = (lines or [""])[0].lstrip(": ")[:300]
            failed[section] = f"{type(exc).__name__}: {first}"
            continue
        counts["sections"] += 1
        texts = []  # what a reader reads: texts, tables, KPI cards (charts are drawn only)
        for item in outputs:
            if isinstance(item, (Figure, Chart)):
                figure_output(item)
                counts["charts"] += 1
            elif isinstance(item, Table):
                texts.append(item.to_html())
                counts["tables"] += 1
            elif hasattr(item, "to_html"):  # KPI cards
                texts.append(item.to_html())
                counts["cards"] += 1
            else:
                texts.append(str(getattr(item, "markdown", item)))
                counts["texts"] += 1
        shown[section] = "\n".join(texts)
    result.update(counts, failed=failed, shown=shown)
result["seconds"] = time.perf_counter() - t
result["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("BENCH-RESULT " + json.dumps(result), flush=True)
if engine == "spark":
    spark.stop()
"""


def _hwm_mb(pid: int) -> float | None:
    """The peak resident memory of process ``pid`` so far (kernel's VmHWM), in MB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _kind(proc) -> str:
    try:
        name = proc.name()
    except Exception:
        return "other"
    return "jvm" if name.startswith("java") else "python" if name.startswith("python") \
        else "other"


def watched(cmd: list[str], env: dict | None = None) -> tuple[str, str, dict]:
    """Run ``cmd``; its stdout, stderr and memory: ``tree_mb`` (largest sampled sum of
    resident memory over its process tree) and the peak (VmHWM) of each kind of process."""
    import psutil

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        root = psutil.Process(child.pid)
        tree_mb, peaks, kinds, names = 0.0, {}, {}, {}
        while child.poll() is None:
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                procs = []
            total = 0.0
            for proc in procs:
                try:
                    total += proc.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                hwm = _hwm_mb(proc.pid)
                if hwm is not None:
                    peaks[proc.pid] = max(peaks.get(proc.pid, 0.0), hwm)
                    # asked each time: spark-submit is a shell script that execs the JVM
                    kinds[proc.pid] = _kind(proc)
                    try:
                        names[proc.pid] = " ".join(proc.cmdline()[:3])[:120]
                    except psutil.Error:
                        pass
            tree_mb = max(tree_mb, total)
            time.sleep(SAMPLE_SECONDS)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    memory = {"tree_mb": tree_mb, "processes": [(kinds[pid], names.get(pid, "?"), round(mb))
                                                for pid, mb in peaks.items()]}
    for pid, mb in peaks.items():
        kind = kinds[pid]
        memory[f"{kind}_mb"] = max(memory.get(f"{kind}_mb", 0.0), mb)
    return stdout, stderr, memory


def step(engine: str, name: str, data: Path, report: str, options: dict) -> dict:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crmkit-bench-spark-") as scratch:
        env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
               "PYSPARK_DRIVER_PYTHON": sys.executable, "TMPDIR": scratch}
        stdout, stderr, memory = watched(
            [sys.executable, "-c", STEP, engine, name, str(data), *PERIOD, report,
             json.dumps({**options, "scratch": scratch})], env)
    lines = [line for line in stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if not lines:
        raise RuntimeError(f"{engine} {name} on {data} failed:\n{stderr[-4000:]}")
    result = json.loads(lines[-1].removeprefix("BENCH-RESULT "))
    result.update(memory, engine=engine, step=name, process_seconds=time.perf_counter() - began)
    return result


# -- the figures -----------------------------------------------------------------------------

HEADER = (f"  {'orders':>12}  {'engine':<15} {'step':<16} {'seconds':>8} {'peak MB':>9} "
          f"{'python MB':>10} {'JVM MB':>8}")


def _row(orders: int, engine: str, what: str, seconds: float, r: dict | None = None) -> str:
    mem = (f" {r['tree_mb']:>9,.0f} {r['ru_maxrss_mb']:>10,.0f} "
           f"{(format(r['jvm_mb'], ',.0f') if 'jvm_mb' in r else '-'):>8}") if r else ""
    return f"  {orders:>12,}  {engine:<15} {what:<16} {seconds:>8.1f}{mem}"


def _engine_label(engine: str) -> str:
    return "spark local[2]" if engine == "spark" else "duckdb"


def print_step(orders: int, r: dict) -> None:
    """A step's rows: its start-up (session and views; not in its seconds), then the step."""
    label = _engine_label(r["engine"])
    print(_row(orders, label, f"start-up ({'KPIs' if r['step'] == 'kpi_set' else 'report'})",
               r["startup"]), flush=True)
    print(_row(orders, label, "KPI set" if r["step"] == "kpi_set" else "report", r["seconds"],
               r), flush=True)


def print_notes(results: list[dict], report: str) -> None:
    for r in results:
        label = _engine_label(r["engine"])
        if r["step"] == "kpi_set":
            slowest = sorted(r["each"].items(), key=lambda kv: -kv[1])[:5]
            print(f"    {label}: KPI set of {r['kpis']} KPIs, {r['available']} available; "
                  f"slowest: {', '.join(f'{k} {v:.1f} s' for k, v in slowest)}", flush=True)
        else:
            failed = f", {len(r['failed'])} sections FAILED" if r["failed"] else ""
            print(f"    {label}: report {report}: {r['sections']} sections computed, "
                  f"{r['charts']} charts drawn, {r['tables']} tables"
                  f"{', KPI cards' if r['cards'] else ''}{failed}", flush=True)
            for section, error in r["failed"].items():
                print(f"      {section}: {error}", flush=True)
        others = [f"{name} ({mb:,} MB)" for kind, name, mb in r["processes"]
                  if mb >= 50 and kind == "other"]
        if others:
            print(f"      other processes in its peak MB: {'; '.join(others)}", flush=True)


NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
PICTURE = re.compile(r"base64,[A-Za-z0-9+/=]+")  # sparklines: drawn, not compared


def report_differences(a: dict[str, str], b: dict[str, str]) -> str:
    """How two engines' report outputs (section -> text) compare: "the same", the same
    but for the last digit of some numbers (sums of floating-point amounts come out a cent
    apart in another order of addition), or which sections differ. The lineage is left
    out: it shows when the report was made."""
    exact, rounding = [], []
    for section in sorted((set(a) | set(b)) - {"appendix_lineage"}):
        x, y = PICTURE.sub("", a.get(section, "")), PICTURE.sub("", b.get(section, ""))
        if x == y:
            continue
        xs, ys = NUMBER.findall(x), NUMBER.findall(y)
        if NUMBER.sub("#", x) == NUMBER.sub("#", y) and len(xs) == len(ys) and all(
                math.isclose(float(p.replace(",", "")), float(q.replace(",", "")),
                             rel_tol=1e-9, abs_tol=0.011) for p, q in zip(xs, ys)):
            first = next((p, q) for p, q in zip(xs, ys) if p != q)
            rounding.append(f"{section} ({first[0]} vs {first[1]})")
        else:
            exact.append(section)
    if exact:
        return "DIFFER in " + ", ".join(exact)
    if rounding:
        return "the same but for the last digit of float sums in " + ", ".join(rounding)
    return "the same"


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def run(sizes: list[int] | None = None, report: str = "sales_performance",
        engines: tuple[str, ...] = ENGINES, spark_memory: str = "4g",
        shuffle_partitions: int = 8) -> list[dict]:
    import psutil  # noqa: F401  (fail early: the memory figures need it)

    options = {"spark_memory": spark_memory, "shuffle_partitions": shuffle_partitions}
    print(f"  data cache: {CACHE}; period {PERIOD[0]} .. {PERIOD[1]}; Spark: local[2], "
          f"driver memory {spark_memory}, {shuffle_partitions} shuffle partitions; "
          f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB RAM, "
          f"{platform.python_version()}", flush=True)
    results = []
    for orders in sizes or SIZES:
        data = data_for(orders)
        print(f"  {orders:,} orders: load average before {_load()}", flush=True)
        print(HEADER, flush=True)
        size_results = []
        for engine in engines:
            for name in STEPS:
                r = step(engine, name, data, report, options)
                r["orders"] = orders
                size_results.append(r)
                print_step(orders, r)
        print_notes(size_results, report)
        values = {r["engine"]: r["values"] for r in size_results if r["step"] == "kpi_set"}
        if len(values) == 2:
            differ = bench_metrics.disagreements(values["duckdb"], values["spark"])
            print(f"  KPI values, duckdb vs spark: "
                  f"{'the same' if not differ else 'DISAGREE: ' + '; '.join(differ)}",
                  flush=True)
        shown = {r["engine"]: r["shown"] for r in size_results if r["step"] == "report"}
        if len(shown) == 2:
            print(f"  report texts, tables and cards, duckdb vs spark: "
                  f"{report_differences(shown['duckdb'], shown['spark'])}", flush=True)
        print(f"  load average after {_load()}", flush=True)
        results.extend(size_results)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=SIZES)
    parser.add_argument("--report", default="sales_performance")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--spark-memory", default="4g", help="spark.driver.memory (default 4g)")
    parser.add_argument("--shuffle-partitions", type=int, default=8,
                        help="spark.sql.shuffle.partitions (default 8)")
    parser.add_argument("--clean", action="store_true",
                        help=f"remove the data cache ({CACHE}) and stop")
    args = parser.parse_args()
    if args.clean:
        shutil.rmtree(CACHE, ignore_errors=True)
        print(f"removed {CACHE}")
        sys.exit(0)
    run(args.orders, args.report, tuple(args.engines), args.spark_memory,
        args.shuffle_partitions)
