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
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

import crmkit
from crmkit.config import (IngestConfig, TableConfig, discover_tables, load_config,
                           preset_config, source_kind)
from crmkit.exceptions import ConfigError, SchemaError, SourceError
from crmkit.ingest.clean import Built, build_table
from crmkit.ingest.currency import convert_amounts, load_rates
from crmkit.ingest.lookups import join_lookups
from crmkit.ingest.readers import database_tables, literal, new_tmp_dir, quote, stage
from crmkit.ingest.rules import MAX_MAGNITUDE
from crmkit.shapes import reports_fed
from crmkit.schema import PRIMARY_TABLES, TABLES
from crmkit.secrets import redact_url, safe_name
from crmkit.warehouse import AUDIT_FILE, DB_FILE, REJECTS_FILE

_PROJECT = Path(__file__).resolve().parents[2]
# In a checkout, one cache for every working directory (notebooks run in notebooks/).
DEFAULT_WAREHOUSE_ROOT = (_PROJECT / ".crmkit" if (_PROJECT / "pyproject.toml").exists()
                          else Path.cwd() / ".crmkit")
# DuckDB spills to the warehouse folder beyond this, so a 10-million-row file fits in it.
MEMORY_LIMIT = os.environ.get("CRMKIT_MEMORY_LIMIT", "1GB")
SCRATCH_FILE = "scratch.duckdb"  # in the work folder: the tables on the way to the warehouse
# Loaded first so that children can check their references against kept keys.
# Bump when what ingest writes changes: warehouses written before are then rebuilt.
WAREHOUSE_FORMAT = 4
# A killed ingest's work folder (.ingest-*) untouched this long is removed by the next run.
STALE_TMP_SECONDS = 3600
LOAD_ORDER = ("campaigns", "customers", "orders", "opportunities", "leads", "tickets",
              "surveys", "targets")

__all__ = ["ingest", "ensure_warehouse", "resolve_config", "default_warehouse",
           "format_audit"]


def resolve_config(config: str | Path | None = None, source: str | Path | None = None,
                   preset: str | None = None) -> IngestConfig:
    """A config from a YAML file, or one discovered from a source path or URL (matched the
    way a CRM exports its objects when ``preset`` names one)."""
    if config is not None:
        if preset is not None:
            raise ConfigError("give the preset in the config (`preset: NAME`) or with "
                              "--source, not both")
        return load_config(config)
    if source is None:
        raise SourceError("nothing to ingest: give --config FILE or --source PATH")
    source = str(source)
    from crmkit.secrets import unencoded_at

    if source_kind(source) == "postgresql" and unencoded_at(source):
        raise SourceError("the password in the PostgreSQL URL has an @ that is not encoded; "
                          "write it as %40 (or give the password in PGPASSWORD)")
    if source_kind(source) == "uri":
        raise SourceError(f"--source {redact_url(source)}: a lake path is read by Spark; write "
                          "a config with `source:` this path and `engine: spark`")
    if source_kind(source) not in ("postgresql",) and not Path(source).exists():
        raise SourceError(f"source not found: {source}")
    resolved = str(Path(source).resolve()) if source_kind(source) != "postgresql" else source
    if preset is not None:
        return preset_config(resolved, preset)
    return discover_tables(resolved)


def default_warehouse(config: IngestConfig) -> Path:
    """Where a source's warehouse goes when none is named: .crmkit/<name>-<hash>."""
    if config.warehouse is not None:
        return config.warehouse
    key = str(config.path or config.source) + (f"#{config.preset}" if config.preset and
                                                not config.path else "")
    name = Path(config.path).stem if config.path else safe_name(config.source)
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return (DEFAULT_WAREHOUSE_ROOT / f"{name or 'source'}-{digest}").resolve()


def ensure_warehouse(config: str | Path | None = None, source: str | Path | None = None,
                     warehouse: str | Path | None = None,
                     progress: Callable[[str], None] | None = None,
                     preset: str | None = None) -> Path:
    """Ingest when needed and return the warehouse folder (reports call this)."""
    cfg = resolve_config(config, source, preset)
    folder = Path(warehouse) if warehouse else default_warehouse(cfg)
    ingest(cfg, folder, progress=progress)
    return folder


def _sha256(path: Path) -> str:
    if path.is_dir():
        raise SourceError(f"{path} is a folder (or a link to one), not a file; name the "
                          "file that holds the table")
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 22):
                h.update(block)
    except PermissionError:
        raise SourceError(f"cannot read {path}: permission denied; give your user read "
                          "access to it") from None
    return h.hexdigest()


def _inputs(config: IngestConfig) -> dict[str, dict]:
    """Checksums of every input file (None for a PostgreSQL table: it cannot be hashed
    without reading it, so a PostgreSQL source is always ingested again)."""
    out = {}
    kind = source_kind(config.source)
    for name, spec in config.tables.items():
        if spec.derive_from:
            out[name] = {"derived_from": spec.derive_from}
        elif config.engine == "spark" and (spec.uri or spec.file is None
                                           or not spec.file.is_file()):
            out[name] = _listed(spec, config)
        elif kind == "postgresql":
            out[name] = {"table": spec.table, "sha256": None}
        elif kind == "duckdb":
            out[name] = {"table": spec.table, "sha256": _sha256(Path(config.source))}
        else:
            if spec.file is None or not spec.file.exists():
                raise SourceError(f"{name}: file not found: {spec.file}")
            out[name] = {"file": str(spec.file), "bytes": spec.file.stat().st_size,
                         "sha256": _sha256(spec.file)}
        for lookup in spec.lookups:
            if lookup.file is not None:
                out[f"{name}.lookup.{lookup.name}"] = {
                    "file": str(lookup.file), "bytes": lookup.file.stat().st_size,
                    "sha256": _sha256(lookup.file)}
    for key, path in (("rates", config.rates_file), ("dated_rates", config.dated_rates_file)):
        if path is not None:
            out[key] = {"file": str(path), "sha256": _sha256(path)}
    return out


def _listed(spec: TableConfig, config: IngestConfig) -> dict:
    """A folder of Parquet parts, or a table in a lake (engine: spark), identified by its
    files' names, sizes and modification times: hashing a lake's bytes would cost what
    the ingest costs."""
    from crmkit.spark import listing, listing_digest

    location = spec.location
    entries = listing(location, config.spark)
    if not entries:
        raise SourceError(f"{spec.name}: no data files in {location}")
    return {"file": location, "files": len(entries), "bytes": sum(e[1] for e in entries),
            "sha256": listing_digest(entries),
            "identified_by": "file names, sizes and modification times"}


def _fingerprint(config: IngestConfig, inputs: dict) -> str | None:
    if any(v.get("sha256", "") is None for v in inputs.values()):
        return None
    # (`uri`, a lake table's, only when set: a DuckDB warehouse's fingerprint stays as it was)
    settings = {n: {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(s).items()
                    if not (k == "uri" and v is None)}
                for n, s in config.tables.items()}
    # DuckDB's file format changes between releases: a new DuckDB rebuilds the warehouse.
    snapshot = config.snapshot_date
    blob = json.dumps({"version": crmkit.__version__, "format": WAREHOUSE_FORMAT,
                       "duckdb": duckdb.__version__,
                       # a DuckDB warehouse's fingerprint is as it was before Spark came
                       **({"engine": config.engine, "tables_uri": config.tables_uri}
                          if config.engine == "spark" else {}),
                       "inputs": inputs, "snapshot": str(snapshot),
                       "currency": config.currency, "rates": config.rates,
                       "settings": settings,
                       # targets and scorecard rules: a change re-renders the reports
                       "reports": getattr(config, "report_settings", None)},
                      sort_keys=True, default=str)
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
                if explicit and not spec.optional:
                    raise SourceError(f"{name}: no table {spec.table!r} in "
                                      f"{redact_url(config.source)}; it has: "
                                      f"{', '.join(sorted(available)) or 'no tables'}")
                del tables[name]
    return tables


def ingest(config: IngestConfig, warehouse: str | Path, *, force: bool = False,
           progress: Callable[[str], None] | None = None) -> dict:
    """Load every configured table into ``warehouse`` (a folder); return the audit.

    ``config.engine`` says where: an embedded DuckDB file (the default), or Spark, which
    writes the tables and rejects as Parquet (crmkit.ingest.spark). Both apply the same
    rules (crmkit.ingest.clean's SQL) and write the same audit.
    """
    say = progress or (lambda message: None)
    folder = Path(warehouse)
    tables = _present_tables(config)
    if tables.get("customers") and tables["customers"].derive_from and "orders" not in tables:
        raise ConfigError("tables.customers.derive_from: orders, but there is no orders table")
    primary = [t for t in PRIMARY_TABLES if t in tables and not tables[t].derive_from]
    if not primary and config.preset and source_kind(config.source) == "folder":
        from crmkit.config import preset_settings

        wanted = [str(t.get("file")) for t in preset_settings(config.preset)["tables"].values()]
        there = sorted(p.name for p in Path(config.source).iterdir() if p.is_file())
        raise SchemaError(
            f"no file of a {config.preset} export in {config.source}: the preset reads "
            f"{', '.join(wanted)}; the folder has {', '.join(there[:20]) or 'no files'}"
            f"{' ...' if len(there) > 20 else ''}. Is it another CRM's export (presets: "
            "salesforce, hubspot)?")
    if not primary:
        found = ", ".join(sorted(tables)) or "no canonical tables"
        raise SchemaError(
            f"nothing to report on in {redact_url(config.source)} (found: {found}). A data "
            "set needs orders (retail), opportunities (a B2B pipeline) or customers (a "
            "subscription snapshot): name a file orders.csv, opportunities.csv or "
            "customers.csv (or .parquet/.xlsx), or map one under `tables` in a config.")
    if "customers" not in tables and "orders" in tables:
        tables["customers"] = TableConfig(name="customers", derive_from="orders")
    config = replace(config, tables=tables)
    inputs = _inputs(config)
    fingerprint = _fingerprint(config, inputs)
    audit_path = folder / AUDIT_FILE
    if not force and fingerprint and audit_path.exists():
        try:
            previous = json.loads(audit_path.read_text())
        except ValueError:  # a torn audit: ingest again
            previous = {}
        if previous.get("fingerprint") == fingerprint and _tables_there(folder, previous) \
                and not _dated_by_another_day(previous):
            say(f"warehouse {folder} is up to date (sources unchanged)")
            previous["skipped"] = True
            return previous

    _make_folder(folder)
    _remove_stale_tmp(folder)
    tmp = new_tmp_dir(folder)
    started = time.perf_counter()
    try:
        if config.engine == "spark":
            from crmkit.ingest.spark import SparkLoader

            loader = SparkLoader(config, folder, tmp)
        else:
            loader = DuckDBLoader(config, tmp)
        with loader:
            records, money, warnings = _load_tables(loader, config, tables, primary, inputs,
                                                    say)
            audit = {
                "crmkit_version": crmkit.__version__,
                "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "source": redact_url(config.source),
                "config": str(Path(config.path).resolve()) if config.path else None,
                "preset": config.preset,
                "fingerprint": fingerprint,
                "seconds": round(time.perf_counter() - started, 2),
                "engine": config.engine,
                **loader.location(),
                "tables": {n: records[n] for n in TABLES if n in records},
                "currency": _currency_record(money, loader.rates, config),
                "timezone": config.timezone,
                "plausible_dates": {"earliest": config.plausible_dates.earliest.isoformat(),
                                    "latest": config.plausible_dates.last().isoformat(),
                                    "years_ahead": None if config.plausible_dates.latest
                                    else config.plausible_dates.years_ahead},
                "warnings": warnings,
            }
            audit["reconciled"] = all(_reconciles(r) for r in audit["tables"].values())
            audit["reports"] = reports_fed(audit)
            (tmp / AUDIT_FILE).write_text(json.dumps(audit, indent=2, ensure_ascii=False))
            # The audit goes last: a crash in between leaves an old fingerprint, so the next
            # run ingests again rather than trusting a half-replaced warehouse.
            loader.commit(folder)
            os.replace(tmp / AUDIT_FILE, folder / AUDIT_FILE)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return audit


def _load_tables(loader, config: IngestConfig, tables: dict[str, TableConfig],
                 primary: list[str], inputs: dict, say: Callable[[str], None]
                 ) -> tuple[dict, dict, list[str]]:
    """Load every table through ``loader`` (parents before the tables that refer to them);
    return the audit record and the money of each table, and the warnings."""
    records, money = {}, {}

    def load(name: str, spec: TableConfig) -> None:
        t0 = time.perf_counter()
        say(f"{name}: reading {spec.label}")
        records[name], money[name] = loader.load(name, spec, inputs[name])
        r = records[name]
        say(f"{name}: {r['rows_in']:,} rows in, {r['kept']:,} kept, {r['flagged']:,} "
            f"flagged, {r['quarantined']:,} quarantined ({time.perf_counter() - t0:.1f} s)")

    for name in LOAD_ORDER:
        spec = tables.get(name)
        if spec is not None and not spec.derive_from:
            load(name, spec)
    snapshot = _snapshot_from_data(records)
    if snapshot is not None:
        # A snapshot with no date of its own, beside tables that have dates: it was
        # taken no earlier than their latest date, which is a truer anchor than today.
        loader.drop("customers")
        say(f"customers: no snapshot_date set; dated by the latest date in the data, "
            f"{snapshot.isoformat()}")
        load("customers", replace(tables["customers"], snapshot_date=snapshot))
        records["customers"]["snapshot_date_is_ingest_day"] = False
        records["customers"]["snapshot_date_from"] = "the latest date in the other tables"
    warnings = [m["warning"] for m in money.values() if m.get("warning")]
    if tables.get("customers") and tables["customers"].derive_from:
        records["customers"] = loader.derive_customers()
        say(f"customers: {records['customers']['kept']:,} derived from orders")
    if all(records[t]["rows_in"] == 0 for t in primary):
        labels = ", ".join(f"{t} ({tables[t].label})" for t in primary)
        raise SourceError(f"{labels}: a header but no rows; there is nothing to report on")
    loader.finish()
    return records, money, warnings


class DuckDBLoader:
    """Loads tables into ``warehouse.duckdb`` in the work folder ``tmp``, rejects into its
    ``rejects`` table and ``rejects.csv`` (see :func:`ingest`)."""

    def __init__(self, config: IngestConfig, tmp: Path):
        self.config, self.tmp = config, tmp
        # A database file in the work folder, not memory: the stage and scored tables of a
        # large source (10 million orders) outgrow memory_limit, and only a file's tables
        # can be written out to make room.
        self.con = con = duckdb.connect(str(tmp / SCRATCH_FILE))
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute("SET enable_progress_bar = false")  # ours is the per-table line
        # A timestamptz source column is read as text with its offset: print it in UTC, so
        # that no local zone (or its seconds, before 1900) enters; ingest converts it to
        # config.timezone (crmkit.ingest.clean).
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET temp_directory = '{tmp / 'spill'}'")
        con.execute(f"ATTACH '{tmp / DB_FILE}' AS wh")
        con.execute("CREATE TABLE wh.rejects (table_name VARCHAR, source_row BIGINT, "
                    "reason VARCHAR, record VARCHAR)")
        self.rates = load_rates(con, config, tmp)
        self.loaded: dict[str, str] = {}  # table -> its SQL name, for references to it

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.con.close()

    def load(self, name: str, spec: TableConfig, source: dict) -> tuple[dict, dict]:
        con, config = self.con, self.config
        staged = stage(con, spec, config.source, self.tmp)
        staged, joined, lookups = join_lookups(con, spec, staged, config.source, self.tmp)
        built = build_table(con, spec, staged, self.loaded, joined)
        money = convert_amounts(con, name, built, self.rates, config.currency)
        scored = f"scored_{name}"
        kept = f"wh.{quote(name)}"
        columns = ", ".join(quote(c) for c in kept_columns(name, built))
        con.execute(f"CREATE TABLE {kept} AS SELECT {columns} FROM {scored} "
                    f"WHERE __reason IS NULL ORDER BY source_row")
        typed = numeric_attributes(con, kept, list(built.mapping.attributes))
        for column, kind in typed.items():
            c = quote(column)
            con.execute(f"ALTER TABLE {kept} ALTER {c} TYPE {kind} USING "
                        f"TRY_CAST(trim(CAST({c} AS VARCHAR)) AS {kind})")
        con.execute(f"INSERT INTO wh.rejects SELECT {literal(name)}, source_row, __reason, "
                    f"__record FROM {scored} WHERE __reason IS NOT NULL ORDER BY source_row")
        record = table_record(con, name, spec, built, scored, source, money, typed)
        if lookups:
            record["lookups"] = lookups
        self.loaded[name] = kept
        con.execute(f"DROP TABLE {staged}; DROP TABLE {scored}")
        return record, money

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE wh.{quote(name)}; DELETE FROM wh.rejects "
                         f"WHERE table_name = {literal(name)}")

    def derive_customers(self) -> dict:
        con = self.con
        order_columns = [r[0] for r in con.execute("DESCRIBE wh.orders").fetchall()]
        select, columns = derived_customers(order_columns, "wh.orders")
        con.execute(f"CREATE TABLE wh.customers AS {select}")
        n = con.execute("SELECT count(*) FROM wh.customers").fetchone()[0]
        return derived_customers_record(n, columns)

    def finish(self) -> None:
        self.con.execute(f"COPY (SELECT * FROM wh.rejects ORDER BY table_name, source_row) "
                         f"TO '{self.tmp / REJECTS_FILE}' (HEADER)")
        self.con.execute("DETACH wh")

    def location(self) -> dict:
        return {}

    def commit(self, folder: Path) -> None:
        for name in (DB_FILE, REJECTS_FILE):
            os.replace(self.tmp / name, folder / name)
        # The Parquet tables of an earlier ingest with engine: spark into this folder.
        if (folder / "tables" / "rejects").is_dir():
            shutil.rmtree(folder / "tables", ignore_errors=True)


def _tables_there(folder: Path, audit: dict) -> bool:
    """Whether the tables the audit describes are still there (an up-to-date check)."""
    if audit.get("engine", "duckdb") != "spark":
        return (folder / DB_FILE).exists()
    from crmkit.warehouse import spark_tables_location

    from crmkit.config import read_spark_settings
    from crmkit.spark import exists, is_uri

    location = spark_tables_location(folder, audit)
    if not is_uri(location):
        return Path(location).is_dir()
    return exists(location, read_spark_settings(audit.get("config")))


def _make_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"the warehouse {folder} is a file; name a folder (--warehouse DIR)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".crmkit-write-check"
        probe.touch()
        probe.unlink()
    except PermissionError:
        raise ConfigError(f"cannot write the warehouse folder {folder}: permission denied; "
                          "name another with --warehouse (or `warehouse:` in a config)") from None
    except (NotADirectoryError, FileExistsError):
        raise ConfigError(f"cannot make the warehouse folder {folder}: a part of its path is "
                          "a file; name another with --warehouse (or `warehouse:` in a "
                          "config)") from None
    except OSError as exc:  # a read-only disk, a name too long
        raise ConfigError(f"cannot make the warehouse folder {folder}: {exc.strerror}; name "
                          "another with --warehouse (or `warehouse:` in a config)") from None


def _remove_stale_tmp(folder: Path, older_than: float = STALE_TMP_SECONDS) -> list[Path]:
    """Remove the work folders of ingests that were killed (``.ingest-*`` untouched for
    ``older_than`` seconds: a live ingest writes to its own all the time)."""
    now, removed = time.time(), []
    for path in folder.glob(".ingest-*"):
        try:
            newest = max([path.stat().st_mtime] + [p.stat().st_mtime for p in path.rglob("*")])
        except OSError:
            continue
        if path.is_dir() and now - newest > older_than:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _snapshot_from_data(records: dict) -> date | None:
    """The latest date of the other tables, when the customers' snapshot date was taken
    from the day of the ingest (no `snapshot_date` set); None otherwise."""
    if not records.get("customers", {}).get("snapshot_date_is_ingest_day"):
        return None
    ends = [r["date_range"]["max"] for n, r in records.items()
            if n != "customers" and (r.get("date_range") or {}).get("max")]
    return datetime.fromisoformat(max(ends)).date() if ends else None


def _dated_by_another_day(audit: dict) -> bool:
    """A snapshot dated by the day of its ingest (no `snapshot_date` set) is ingested
    again on another day: its derived dates move with it."""
    record = audit.get("tables", {}).get("customers", {})
    day = record.get("snapshot_date")
    return bool(day and record.get("snapshot_date_is_ingest_day")
                and day != datetime.now().date().isoformat())


def _currency_record(money: dict, rates, config: IngestConfig) -> dict:
    """The report currency, the rates used and where they came from, and the currencies
    each table's amounts were in."""
    currencies = sorted({c for m in money.values() for c in m.get("currencies", [])})
    report = config.currency or (rates.report if rates else None) or \
        (currencies[0] if len(currencies) == 1 else None)
    return {
        "report": report,
        "currencies": currencies,
        "converted": any(m.get("converted") for m in money.values()),
        "rates": rates.used if rates else {},
        "rates_source": rates.source if rates else None,
        "per_currency": len(currencies) > 1 and not rates,
    }


def _reconciles(record: dict) -> bool:
    ok = record["rows_in"] == record["kept"] + record["flagged"] + record["quarantined"]
    totals = record.get("control_totals")
    if totals:
        for part in totals.get("by_currency", {}).values() or [totals]:
            out = part["kept"] + part["flagged"] + part["quarantined"]
            ok = ok and abs(part["in"] - out) <= 1e-6 * max(1.0, abs(part["in"]))
    return ok


def kept_columns(name: str, built: Built) -> list[str]:
    """The columns of a canonical table in the warehouse: the contract's, the attributes,
    the bookkeeping."""
    return [*TABLES[name].column_names, *built.mapping.attributes, "source_row", "flags"]


def table_record(con, name: str, spec: TableConfig, built: Built, scored: str,
                 source: dict, money: dict, typed: dict[str, str]) -> dict:
    """The table's audit record from its scored rows (``scored``: kept, flagged and
    quarantined rows with ``__reason`` and ``flags``). ``con`` runs DuckDB SQL and returns
    rows (``fetchone``/``fetchall``): a DuckDB connection, or crmkit.ingest.spark's."""
    table = TABLES[name]
    mapping = built.mapping
    row = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE __reason IS NULL AND flags IS NULL), "
        f"count(*) FILTER (WHERE __reason IS NULL AND flags IS NOT NULL), "
        f"count(*) FILTER (WHERE __reason IS NOT NULL) FROM {scored}").fetchone()
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
        "reason_details": {k: v for k, v in built.reason_details.items() if k in reasons},
        "columns": {c: s.describe() for c, s in mapping.specs.items()},
        "derived": {**dict(mapping.derive), **built.derived},
        "attributes": mapping.attributes,
    }
    if mapping.renamed:
        record["renamed"] = mapping.renamed
    if typed:
        record["attribute_types"] = {c: "integer" if kind == "BIGINT" else "number"
                                     for c, kind in typed.items()}
    if built.skipped_rules:
        record["rules_not_applied"] = built.skipped_rules
    if mapping.absent:
        record["optional_columns_absent"] = {
            c: spec.columns[c].describe() for c in mapping.absent}
    if built.snapshot_date:
        record["snapshot_date"] = built.snapshot_date
        record["snapshot_date_is_ingest_day"] = spec.snapshot_date is None
        record["snapshot_date_from"] = ("the day of the ingest (no snapshot_date set)"
                                        if spec.snapshot_date is None else "the config")
    dated = next((c.name for c in table.columns if c.kind == "date" and c.required), None)
    where = "__reason IS NULL"
    if name == "opportunities":
        # A pipeline's period is where deals closed; an open deal's close date is only
        # expected (often in the future).
        known = mapping.present | set(built.derived)
        dated = "close_date" if "close_date" in known else "created_date"
        if dated == "close_date" and "outcome" in known:
            where += " AND outcome IN ('won', 'lost')"
    if dated and dated in mapping.present | set(built.derived):
        # The span of the kept data: reports take their default period from it.
        low, high = con.execute(f"SELECT min({quote(dated)}), max({quote(dated)}) FROM "
                                f"{scored} WHERE {where}").fetchone()
        record["date_range"] = {"column": dated,
                                "min": low.isoformat() if low else None,
                                "max": high.isoformat() if high else None}
    amount = table.amount_column
    if amount and amount in mapping.present:
        record["control_totals"] = _control_totals(con, scored, amount, money)
    if money.get("currencies"):
        record["currencies"] = money["currencies"]
    return record


def numeric_attributes(con, table: str, attributes: list[str]) -> dict[str, str]:
    """Attributes of ``table`` (kept rows) whose every value is a number: column ->
    ``BIGINT`` when all are whole, else ``DOUBLE``, so that a count of employees or a
    list price sorts and sums as one. A value with a leading zero (a postal code, an
    account number) keeps its column text. One query for all of them."""
    if not attributes:
        return {}
    parts = []
    for column in attributes:
        text = f"trim(CAST({quote(column)} AS VARCHAR))"
        parts += [f"count({quote(column)})", f"count(TRY_CAST({text} AS DOUBLE))",
                  f"count(*) FILTER (WHERE regexp_matches({text}, '^-?[0-9]+$'))",
                  f"count(*) FILTER (WHERE regexp_matches({text}, '^-?0[0-9]'))"]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {table}").fetchone()
    typed = {}
    for i, column in enumerate(attributes):
        values, numbers, whole, padded = row[4 * i: 4 * i + 4]
        if values == 0 or numbers < values or padded:
            continue
        typed[column] = "BIGINT" if whole == values else "DOUBLE"
    return typed


def _control_totals(con, scored: str, amount: str, money: dict) -> dict:
    """Sums of the amount in and out (kept, flagged, quarantined); per currency when the
    amounts are in several currencies and were not converted: never one sum across them."""
    # Only finite amounts add up (a quarantined "inf" or "NaN" is no money, and would
    # make every total NaN).
    a = f"CASE WHEN isfinite({quote(amount)}) AND abs({quote(amount)}) <= {MAX_MAGNITUDE!r} " \
        f"THEN {quote(amount)} END"
    sums = (f"sum({a}), sum({a}) FILTER (WHERE __reason IS NULL AND flags IS NULL), "
            f"sum({a}) FILTER (WHERE __reason IS NULL AND flags IS NOT NULL), "
            f"sum({a}) FILTER (WHERE __reason IS NOT NULL), count(*) FILTER (WHERE ({a}) IS NULL)")

    def part(r):
        return {"in": _money(r[0]), "kept": _money(r[1]), "flagged": _money(r[2]),
                "quarantined": _money(r[3]), "rows_without_amount": r[4]}

    if money.get("per_currency"):
        rows = con.execute(f"SELECT coalesce(currency, '(none)'), {sums} FROM {scored} "
                           f"GROUP BY 1 ORDER BY 1").fetchall()
        return {"column": amount, "by_currency": {r[0]: part(r[1:]) for r in rows}}
    totals = {"column": amount, **part(con.execute(f"SELECT {sums} FROM {scored}").fetchone())}
    if money.get("converted"):
        totals["currency"] = money["report"]
        totals["converted_from"] = money["original_totals"]
    elif money.get("currencies"):
        totals["currency"] = money["currencies"][0]
    return totals


def _money(value) -> float:
    return round(float(value or 0.0), 2)


def derived_customers(order_columns: list[str], orders: str) -> tuple[str, dict[str, str]]:
    """The SELECT of one customer per customer_id in ``orders`` (first order as signup,
    most frequent region, and country when orders carry one as an attribute), and how
    each column is derived."""
    table = TABLES["customers"]
    derived = {"customer_id": "customer_id", "signup_date": "min(order_date)",
               "region": "mode(region)"}
    if "country" in order_columns:
        derived["country"] = "mode(country)"
    select = ", ".join(
        f"CAST({derived.get(c.name, 'NULL')} AS {c.sql_type}) AS {quote(c.name)}"
        for c in table.columns)
    return (f"SELECT {select}, CAST(NULL AS BIGINT) AS source_row, "
            f"CAST(NULL AS VARCHAR) AS flags FROM {orders} WHERE customer_id IS NOT NULL "
            f"GROUP BY customer_id ORDER BY customer_id", derived)


def derived_customers_record(n: int, columns: dict[str, str]) -> dict:
    return {"input": "derived from orders", "derived_from": "orders", "rows_in": n,
            "kept": n, "flagged": 0, "quarantined": 0, "flags": {}, "reasons": {},
            "columns": dict(columns), "derived": {}, "attributes": {}}


def format_audit(audit: dict) -> str:
    """The accounting as a plain-text table (what `crmkit ingest` prints), then what was
    derived, renamed and joined, the currency, and the reports the data can feed."""
    lines = [f"{'table':<13} {'rows in':>12} {'kept':>12} {'flagged':>10} "
             f"{'quarantined':>12}"]
    pad = " " * 13
    for name, r in audit["tables"].items():
        lines.append(f"{name:<13} {r['rows_in']:>12,} {r['kept']:>12,} {r['flagged']:>10,} "
                     f"{r['quarantined']:>12,}" + ("   (derived from orders)"
                                                   if r.get("derived_from") else ""))
        for label, counts in (("flagged", r["flags"]), ("quarantined", r["reasons"])):
            if counts:
                lines.append(f"{pad}   {label}: " + "; ".join(
                    f"{k} {v:,}" for k, v in counts.items()))
        for reason, detail in r.get("reason_details", {}).items():
            lines.append(f"{pad}   {reason}: {detail}")
        dates = [k.split(" ", 1)[1] for k in r["reasons"]
                 if k.startswith("unparseable ") and k.endswith(("_date", "_at", " date"))]
        if dates or r["flags"].get("closed_before_created"):
            lines.append(f"{pad}   dates: {', '.join(dates) or 'close_date'} "
                         f"{'could not be read' if dates else 'before created_date'}; if "
                         "your dates are day/month or month/day, set date_format for "
                         f"tables.{name} (\"%d/%m/%Y\", \"%m/%d/%Y\" ...)")
        totals = r.get("control_totals")
        for currency, part in (totals or {}).get("by_currency", {}).items():
            lines.append(f"{pad}   {totals['column']} in {currency}: in {part['in']:,.2f} = "
                         f"kept {part['kept']:,.2f} + flagged {part['flagged']:,.2f} + "
                         f"quarantined {part['quarantined']:,.2f}")
        if totals and "in" in totals:
            unit = f" {totals['currency']}" if totals.get("currency") else ""
            lines.append(f"{pad}   {totals['column']}{unit}: in {totals['in']:,.2f} = kept "
                         f"{totals['kept']:,.2f} + flagged {totals['flagged']:,.2f} + "
                         f"quarantined {totals['quarantined']:,.2f}")
        derived = {k: v for k, v in r.get("derived", {}).items()}
        if derived and not r.get("derived_from"):
            lines.append(f"{pad}   derived: " + "; ".join(f"{k} {v}" for k, v in derived.items()))
        if r.get("snapshot_date"):
            lines.append(f"{pad}   snapshot date {r['snapshot_date']}: "
                         f"{r.get('snapshot_date_from', 'the config')}")
        for lookup in r.get("lookups", []):
            lines.append(f"{pad}   lookup {lookup['name']} ({lookup['input']}, by "
                         f"{lookup['key']}): {lookup['matched']:,} rows matched, "
                         f"{lookup['rows_without_key']:,} without a key, "
                         f"{lookup['unmatched']:,} unmatched" + (
                             " (" + ", ".join(f"{k!r} {n:,}" for k, n in
                                              lookup["unmatched_keys"].items()) + ")"
                             if lookup["unmatched_keys"] else ""))
        for why in r.get("renamed", {}).values():
            lines.append(f"{pad}   renamed: {why}")
        for column, source in r.get("optional_columns_absent", {}).items():
            lines.append(f"{pad}   not in the source (optional): {column} <- {source}")
        for rule in r.get("rules_not_applied", []):
            lines.append(f"{pad}   not applied (optional, column absent): {rule}")
    currency = audit.get("currency") or {}
    if currency.get("converted"):
        lines.append(f"amounts converted to {currency['report']} with rates from "
                     f"{currency['rates_source']}: " + ", ".join(
                         f"1 {k} = {v:.6g} {currency['report']}"
                         for k, v in currency["rates"].items()))
    if audit.get("timezone", "UTC") != "UTC":
        lines.append(f"timestamps in {audit['timezone']} (setting timezone): those with a UTC "
                     "offset converted, those without taken as in it")
    for warning in audit.get("warnings", []):
        lines.append(f"WARNING: {warning}")
    lines.append("every row accounted for" if audit.get("reconciled")
                 else "WARNING: the counts do not reconcile")
    reports = reports_fed(audit) if audit.get("tables") else {}
    if reports:
        lines.append("reports this data can feed:")
        for report, why in reports.items():
            lines.append(f"  {report:<20} {'yes' if why['feeds'] else 'no '}  {why['because']}")
    return "\n".join(lines)
