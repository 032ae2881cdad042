"""Ingest: read the user's tables, validate and clean them, load the warehouse, audit it.

    ingest(config, warehouse_dir) -> audit dict

Every input row ends in exactly one place: kept, kept with a flag, or quarantined with a
reason (``rejects`` table and ``rejects.csv``). The audit (``audit.json``) records, per
table, ``rows_in = kept + flagged + quarantined``, counts per flag and per reason, and
control totals of the table's amount column in and out. Unchanged sources (same checksums,
same config, same crmkit version) are not ingested again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

import crmkit
from crmkit.config import IngestConfig, TableConfig, discover_tables, load_config, source_kind
from crmkit.exceptions import SchemaError, SourceError
from crmkit.ingest.clean import build_table
from crmkit.ingest.readers import database_tables, literal, new_tmp_dir, quote, stage
from crmkit.schema import TABLES
from crmkit.secrets import redact_url
from crmkit.warehouse import AUDIT_FILE, DB_FILE, REJECTS_FILE

_PROJECT = Path(__file__).resolve().parents[2]
# In a checkout, one cache for every working directory (notebooks run in notebooks/).
DEFAULT_WAREHOUSE_ROOT = (_PROJECT / ".crmkit" if (_PROJECT / "pyproject.toml").exists()
                          else Path.cwd() / ".crmkit")
# DuckDB spills to the warehouse folder beyond this, so a 10-million-row file fits in it.
MEMORY_LIMIT = os.environ.get("CRMKIT_MEMORY_LIMIT", "1GB")
# Loaded first so that children can check their references against kept keys.
# Bump when what ingest writes changes: warehouses written before are then rebuilt.
WAREHOUSE_FORMAT = 2
LOAD_ORDER = ("campaigns", "customers", "orders", "leads", "tickets", "surveys", "targets")

__all__ = ["ingest", "ensure_warehouse", "resolve_config", "default_warehouse",
           "format_audit"]


def resolve_config(config: str | Path | None = None, source: str | Path | None = None
                   ) -> IngestConfig:
    """A config from a YAML file, or one discovered from a source path or URL."""
    if config is not None:
        return load_config(config)
    if source is None:
        raise SourceError("nothing to ingest: give --config FILE or --source PATH")
    source = str(source)
    if source_kind(source) not in ("postgresql",) and not Path(source).exists():
        raise SourceError(f"source not found: {source}")
    resolved = str(Path(source).resolve()) if source_kind(source) != "postgresql" else source
    return discover_tables(resolved)


def default_warehouse(config: IngestConfig) -> Path:
    """Where a source's warehouse goes when none is named: .crmkit/<name>-<hash>."""
    if config.warehouse is not None:
        return config.warehouse
    key = str(config.path or config.source)
    name = Path(config.path).stem if config.path else Path(redact_url(config.source)).name
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return (DEFAULT_WAREHOUSE_ROOT / f"{name or 'source'}-{digest}").resolve()


def ensure_warehouse(config: str | Path | None = None, source: str | Path | None = None,
                     warehouse: str | Path | None = None,
                     progress: Callable[[str], None] | None = None) -> Path:
    """Ingest when needed and return the warehouse folder (reports call this)."""
    cfg = resolve_config(config, source)
    folder = Path(warehouse) if warehouse else default_warehouse(cfg)
    ingest(cfg, folder, progress=progress)
    return folder


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _inputs(config: IngestConfig) -> dict[str, dict]:
    """Checksums of every input file (None for a PostgreSQL table: it cannot be hashed
    without reading it, so a PostgreSQL source is always ingested again)."""
    out = {}
    kind = source_kind(config.source)
    for name, spec in config.tables.items():
        if spec.derive_from:
            out[name] = {"derived_from": spec.derive_from}
        elif kind == "postgresql":
            out[name] = {"table": spec.table, "sha256": None}
        elif kind == "duckdb":
            out[name] = {"table": spec.table, "sha256": _sha256(Path(config.source))}
        else:
            if spec.file is None or not spec.file.exists():
                raise SourceError(f"{name}: file not found: {spec.file}")
            out[name] = {"file": str(spec.file), "bytes": spec.file.stat().st_size,
                         "sha256": _sha256(spec.file)}
    return out


def _fingerprint(config: IngestConfig, inputs: dict) -> str | None:
    if any(v.get("sha256", "") is None for v in inputs.values()):
        return None
    settings = {n: {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(s).items()}
                for n, s in config.tables.items()}
    # DuckDB's file format changes between releases: a new DuckDB rebuilds the warehouse.
    blob = json.dumps({"version": crmkit.__version__, "format": WAREHOUSE_FORMAT,
                       "duckdb": duckdb.__version__,
                       "inputs": inputs,
                       "settings": settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _present_tables(config: IngestConfig) -> dict[str, TableConfig]:
    """Drop canonical tables that a database source does not have (they are optional)."""
    tables = dict(config.tables)
    if source_kind(config.source) in ("duckdb", "postgresql"):
        available = database_tables(config.source)
        explicit = config.path is not None
        for name, spec in list(tables.items()):
            if spec.derive_from:
                continue
            if spec.table not in available and spec.table.split(".")[-1] not in available:
                if explicit:
                    raise SourceError(f"{name}: no table {spec.table!r} in "
                                      f"{redact_url(config.source)}; it has: "
                                      f"{', '.join(sorted(available)) or 'no tables'}")
                del tables[name]
    return tables


def ingest(config: IngestConfig, warehouse: str | Path, *, force: bool = False,
           progress: Callable[[str], None] | None = None) -> dict:
    """Load every configured table into ``warehouse`` (a folder); return the audit."""
    say = progress or (lambda message: None)
    folder = Path(warehouse)
    tables = _present_tables(config)
    if "orders" not in tables:
        found = ", ".join(sorted(tables)) or "no canonical tables"
        raise SchemaError(
            f"no orders table in {redact_url(config.source)} (found: {found}). Orders are "
            "required: name a file orders.csv (or .parquet/.xlsx), or map one under "
            "tables.orders in a config.")
    if "customers" not in tables:
        tables["customers"] = TableConfig(name="customers", derive_from="orders")
    config = IngestConfig(source=config.source, tables=tables, warehouse=config.warehouse,
                          path=config.path)
    inputs = _inputs(config)
    fingerprint = _fingerprint(config, inputs)
    audit_path = folder / AUDIT_FILE
    if not force and fingerprint and audit_path.exists() and (folder / DB_FILE).exists():
        previous = json.loads(audit_path.read_text())
        if previous.get("fingerprint") == fingerprint:
            say(f"warehouse {folder} is up to date (sources unchanged)")
            previous["skipped"] = True
            return previous

    folder.mkdir(parents=True, exist_ok=True)
    tmp = new_tmp_dir(folder)
    out_db = tmp / DB_FILE
    started = time.perf_counter()
    try:
        con = duckdb.connect()
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute("SET enable_progress_bar = false")  # ours is the per-table line
        con.execute(f"SET temp_directory = '{tmp / 'spill'}'")
        con.execute(f"ATTACH '{out_db}' AS wh")
        con.execute("CREATE TABLE wh.rejects (table_name VARCHAR, source_row BIGINT, "
                    "reason VARCHAR, record VARCHAR)")
        records, loaded = {}, {}
        for name in LOAD_ORDER:
            spec = tables.get(name)
            if spec is None or spec.derive_from:
                continue
            t0 = time.perf_counter()
            say(f"{name}: reading {spec.label}")
            staged = stage(con, spec, config.source, tmp)
            mapping = build_table(con, spec, staged, loaded)
            records[name] = _load(con, name, spec, mapping, inputs[name])
            loaded[name] = f"wh.{quote(name)}"
            con.execute(f"DROP TABLE {staged}; DROP TABLE scored_{name}")
            r = records[name]
            say(f"{name}: {r['rows_in']:,} rows in, {r['kept']:,} kept, {r['flagged']:,} "
                f"flagged, {r['quarantined']:,} quarantined ({time.perf_counter() - t0:.1f} s)")
        if tables["customers"].derive_from:
            records["customers"] = _derive_customers(con)
            say(f"customers: {records['customers']['kept']:,} derived from orders")
        if records["orders"]["rows_in"] == 0:
            raise SourceError(f"orders: {tables['orders'].label} has a header but no rows; "
                              "there is nothing to report on")
        con.execute(f"COPY (SELECT * FROM wh.rejects ORDER BY table_name, source_row) "
                    f"TO '{tmp / REJECTS_FILE}' (HEADER)")
        con.execute("DETACH wh")
        con.close()
        audit = {
            "crmkit_version": crmkit.__version__,
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "source": redact_url(config.source),
            "config": str(config.path) if config.path else None,
            "fingerprint": fingerprint,
            "seconds": round(time.perf_counter() - started, 2),
            "tables": {n: records[n] for n in TABLES if n in records},
        }
        audit["reconciled"] = all(_reconciles(r) for r in audit["tables"].values())
        (tmp / AUDIT_FILE).write_text(json.dumps(audit, indent=2, ensure_ascii=False))
        # The audit goes last: a crash in between leaves an old fingerprint, so the next
        # run ingests again rather than trusting a half-replaced warehouse.
        for name in (DB_FILE, REJECTS_FILE, AUDIT_FILE):
            os.replace(tmp / name, folder / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return audit


def _reconciles(record: dict) -> bool:
    ok = record["rows_in"] == record["kept"] + record["flagged"] + record["quarantined"]
    totals = record.get("control_totals")
    if totals:
        out = totals["kept"] + totals["flagged"] + totals["quarantined"]
        ok = ok and abs(totals["in"] - out) <= 1e-6 * max(1.0, abs(totals["in"]))
    return ok


def _load(con: duckdb.DuckDBPyConnection, name: str, spec: TableConfig, mapping,
          source: dict) -> dict:
    """Write kept rows and rejects from scored_<name>; return the table's audit record."""
    table = TABLES[name]
    scored = f"scored_{name}"
    keep = [quote(c) for c in table.column_names] + \
        [quote(a) for a in mapping.attributes] + ["source_row", "flags"]
    con.execute(f"CREATE TABLE wh.{quote(name)} AS SELECT {', '.join(keep)} FROM {scored} "
                f"WHERE __reason IS NULL ORDER BY source_row")
    con.execute(f"INSERT INTO wh.rejects SELECT {literal(name)}, source_row, __reason, __record "
                f"FROM {scored} WHERE __reason IS NOT NULL ORDER BY source_row")
    amount = table.amount_column
    sums = (f", sum({quote(amount)}), "
            f"sum({quote(amount)}) FILTER (WHERE __reason IS NULL AND flags IS NULL), "
            f"sum({quote(amount)}) FILTER (WHERE __reason IS NULL AND flags IS NOT NULL), "
            f"sum({quote(amount)}) FILTER (WHERE __reason IS NOT NULL), "
            f"count(*) FILTER (WHERE {quote(amount)} IS NULL)") if amount else ""
    row = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE __reason IS NULL AND flags IS NULL), "
        f"count(*) FILTER (WHERE __reason IS NULL AND flags IS NOT NULL), "
        f"count(*) FILTER (WHERE __reason IS NOT NULL) {sums} FROM {scored}").fetchone()
    reasons = dict(con.execute(
        f"SELECT __reason, count(*) FROM {scored} WHERE __reason IS NOT NULL "
        f"GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    flags = dict(con.execute(
        f"SELECT f, count(*) FROM (SELECT unnest(string_split(flags, ';')) AS f FROM "
        f"{scored} WHERE flags IS NOT NULL) GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    record = {
        "input": spec.label, **source,
        "rows_in": row[0], "kept": row[1], "flagged": row[2], "quarantined": row[3],
        "flags": flags, "reasons": reasons,
        "columns": mapping.columns, "derived": dict(mapping.derive),
        "attributes": mapping.attributes,
    }
    dated = next((c.name for c in table.columns if c.kind == "date" and c.required), None)
    if dated:
        # The span of the kept data: reports take their default period from it.
        low, high = con.execute(f"SELECT min({quote(dated)}), max({quote(dated)}) FROM "
                                f"{scored} WHERE __reason IS NULL").fetchone()
        record["date_range"] = {"column": dated,
                                "min": low.isoformat() if low else None,
                                "max": high.isoformat() if high else None}
    if amount:
        record["control_totals"] = {
            "column": amount, "in": _money(row[4]), "kept": _money(row[5]),
            "flagged": _money(row[6]), "quarantined": _money(row[7]),
            "rows_without_amount": row[8]}
    return record


def _money(value) -> float:
    return round(float(value or 0.0), 2)


def _derive_customers(con: duckdb.DuckDBPyConnection) -> dict:
    """One customer per customer_id in orders: first order as signup, most frequent region
    (and country, when orders carry one as an attribute)."""
    table = TABLES["customers"]
    order_columns = {r[0] for r in con.execute("DESCRIBE wh.orders").fetchall()}
    derived = {"customer_id": "customer_id", "signup_date": "min(order_date)",
               "region": "mode(region)"}
    if "country" in order_columns:
        derived["country"] = "mode(country)"
    select = ", ".join(
        f"CAST({derived.get(c.name, 'NULL')} AS {c.sql_type}) AS {quote(c.name)}"
        for c in table.columns)
    con.execute(f"CREATE TABLE wh.customers AS SELECT {select}, "
                f"CAST(NULL AS BIGINT) AS source_row, CAST(NULL AS VARCHAR) AS flags "
                f"FROM wh.orders WHERE customer_id IS NOT NULL GROUP BY customer_id "
                f"ORDER BY customer_id")
    n = con.execute("SELECT count(*) FROM wh.customers").fetchone()[0]
    return {"input": "derived from orders", "derived_from": "orders", "rows_in": n,
            "kept": n, "flagged": 0, "quarantined": 0, "flags": {}, "reasons": {},
            "columns": {c: e for c, e in derived.items()}, "derived": {}, "attributes": {}}


def format_audit(audit: dict) -> str:
    """The accounting as a plain-text table (what `crmkit ingest` prints)."""
    lines = [f"{'table':<10} {'rows in':>12} {'kept':>12} {'flagged':>10} "
             f"{'quarantined':>12}"]
    for name, r in audit["tables"].items():
        lines.append(f"{name:<10} {r['rows_in']:>12,} {r['kept']:>12,} {r['flagged']:>10,} "
                     f"{r['quarantined']:>12,}" + ("   (derived from orders)"
                                                   if r.get("derived_from") else ""))
        for label, counts in (("flagged", r["flags"]), ("quarantined", r["reasons"])):
            if counts:
                lines.append(f"{'':<10}   {label}: " + "; ".join(
                    f"{k} {v:,}" for k, v in counts.items()))
        totals = r.get("control_totals")
        if totals:
            lines.append(f"{'':<10}   {totals['column']}: in {totals['in']:,.2f} = kept "
                         f"{totals['kept']:,.2f} + flagged {totals['flagged']:,.2f} + "
                         f"quarantined {totals['quarantined']:,.2f}")
    lines.append("every row accounted for" if audit.get("reconciled")
                 else "WARNING: the counts do not reconcile")
    return "\n".join(lines)
