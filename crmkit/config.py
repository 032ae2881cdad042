"""Ingest configuration: where the user's tables are and how their columns map to ours.

A config is a YAML file (example: ``examples/online_retail.yaml``)::

    source: ../data/export            # folder of files, a .duckdb file, or a postgresql:// URL
    warehouse: .crmkit/warehouse      # optional; `--warehouse` overrides
    defaults:                         # optional; apply to every table unless it says otherwise
      encoding: utf-8                 # utf-8 (BOM or not), gbk, cp1252, latin-1 ...
      date_format: "%d/%m/%Y"         # strptime format(s), tried after ISO 8601
    tables:
      orders:
        file: sales.csv               # a file in the source folder (or `table:` in a database)
        columns:                      # canonical name: source column name
          order_id: InvoiceNo
          order_date: InvoiceDate
          customer_id: CustomerID
        derive:
          amount: quantity * unit_price   # arithmetic over canonical columns
        status_rules:                 # first match wins; otherwise `status` or "completed"
          - {column: InvoiceNo, startswith: C, status: returned}
        unique: row                   # "key" (default): duplicate keys are quarantined;
                                      # "row": only exact duplicate rows are
        rules:                        # tighten or loosen a column's range
          unit_price: {min: 0, exclusive: true}
      customers:
        derive_from: orders           # no customer table: one row per customer in orders

Relative paths are relative to the config file. Without a config (``--source PATH``) a
folder's files are matched to tables by name (``orders.csv``, ``customers.parquet`` ...) and
columns by name, the way ``crmkit sample`` writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from crmkit.exceptions import ConfigError, SourceError
from crmkit.schema import TABLES

FILE_SUFFIXES = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".csv.gz": "csv", ".tsv.gz": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
}
TABLE_KEYS = {"file", "table", "sheet", "format", "encoding", "delimiter", "date_format",
              "decimal", "thousands", "columns", "derive", "status_rules", "unique",
              "rules", "derive_from"}
DEFAULT_KEYS = {"encoding", "delimiter", "date_format", "decimal", "thousands"}
STATUS_OPERATORS = {"startswith", "equals", "in", "negative"}


@dataclass
class TableConfig:
    """How one canonical table is read from the source."""

    name: str
    file: Path | None = None
    table: str | None = None
    sheet: str | int | None = None
    format: str | None = None
    encoding: str = "utf-8"
    delimiter: str | None = None
    date_format: list[str] = field(default_factory=list)
    decimal: str = "."
    thousands: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    derive: dict[str, str] = field(default_factory=dict)
    status_rules: list[dict] = field(default_factory=list)
    unique: str = "key"
    rules: dict[str, dict] = field(default_factory=dict)
    derive_from: str | None = None

    @property
    def label(self) -> str:
        """How the user knows this input: the file name or the database table."""
        if self.file is not None:
            return self.file.name
        if self.table is not None:
            return f"table {self.table}"
        return f"derived from {self.derive_from}"


@dataclass
class IngestConfig:
    """Where the data is, where the warehouse goes, and one TableConfig per table."""

    source: str
    tables: dict[str, TableConfig]
    warehouse: Path | None = None
    path: Path | None = None  # the YAML file, if any

    @property
    def is_database(self) -> bool:
        return source_kind(self.source) in ("duckdb", "postgresql")


def source_kind(source: str) -> str:
    """'postgresql', 'duckdb', 'folder' or 'file'."""
    if re.match(r"^postgres(ql)?://", source):
        return "postgresql"
    if source.endswith((".duckdb", ".db")):
        return "duckdb"
    return "folder" if Path(source).is_dir() else "file"


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(FILE_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return FILE_SUFFIXES[suffix]
    return None


def table_name_of(path: Path) -> str:
    """``orders.csv.gz`` -> ``orders``."""
    return path.name.split(".")[0].lower()


def load_config(path: str | Path) -> IngestConfig:
    """Read and check a YAML ingest config; raise ConfigError naming what is wrong."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with `source` and `tables`")
    unknown = set(raw) - {"source", "warehouse", "defaults", "tables"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; "
                          "valid: source, warehouse, defaults, tables")
    if "source" not in raw:
        raise ConfigError(f"{path}: `source` is missing (a folder, a .duckdb file or a "
                          "postgresql:// URL)")
    base = path.parent
    source = str(raw["source"])
    if source_kind(source) != "postgresql":
        source = str((base / source).resolve()) if not Path(source).is_absolute() else source
    defaults = raw.get("defaults") or {}
    bad = set(defaults) - DEFAULT_KEYS
    if bad:
        raise ConfigError(f"{path}: unknown default(s) {sorted(bad)}; valid: "
                          f"{', '.join(sorted(DEFAULT_KEYS))}")
    tables_raw = raw.get("tables") or {}
    if not isinstance(tables_raw, dict):
        raise ConfigError(f"{path}: `tables` must map table names to their settings")
    tables = {}
    for name, spec in tables_raw.items():
        tables[name] = _table_config(path, name, spec or {}, defaults, source)
    warehouse = raw.get("warehouse")
    config = IngestConfig(source=source, tables=tables, path=path,
                          warehouse=(base / warehouse).resolve() if warehouse else None)
    if not tables:
        config.tables = discover_tables(source).tables
    return config


def _table_config(path: Path, name: str, spec: dict, defaults: dict,
                  source: str) -> TableConfig:
    where = f"{path}: tables.{name}"
    if name not in TABLES:
        raise ConfigError(f"{where}: unknown table; canonical tables are "
                          f"{', '.join(TABLES)}")
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a mapping of settings")
    bad = set(spec) - TABLE_KEYS
    if bad:
        raise ConfigError(f"{where}: unknown setting(s) {sorted(bad)}; valid: "
                          f"{', '.join(sorted(TABLE_KEYS))}")
    settings = {**defaults, **spec}
    canonical = TABLES[name].column_names
    for section in ("columns", "derive", "rules"):
        value = settings.get(section) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{where}.{section}: expected a mapping")
        unknown = [c for c in value if c not in canonical]
        if unknown:
            raise ConfigError(f"{where}.{section}: {unknown} not canonical columns of "
                              f"{name}; valid: {', '.join(canonical)}")
    for rule in settings.get("status_rules") or []:
        if not isinstance(rule, dict) or "column" not in rule or "status" not in rule \
                or not (set(rule) & STATUS_OPERATORS):
            raise ConfigError(f"{where}.status_rules: each rule needs `column`, `status` "
                              f"and one of {sorted(STATUS_OPERATORS)}; got {rule!r}")
    unique = settings.get("unique", "key")
    if unique not in ("key", "row"):
        raise ConfigError(f"{where}.unique: {unique!r}; use `key` or `row`")
    derive_from = settings.get("derive_from")
    if derive_from is not None and (name, derive_from) != ("customers", "orders"):
        raise ConfigError(f"{where}.derive_from: only customers can be derived, from orders")
    file = settings.get("file")
    table = settings.get("table")
    kind = source_kind(source)
    if derive_from is None:
        if kind in ("duckdb", "postgresql"):
            table = table or name
        elif kind == "file":
            file = Path(source)
        elif file is None:
            found = discover_tables(source).tables.get(name)
            if found is None:
                raise ConfigError(f"{where}: no `file` given and no {name}.csv/.parquet/.xlsx "
                                  f"in {source}")
            file = found.file
        else:
            file = Path(source) / file
    fmt = settings.get("format") or (file_format(file) if file else None)
    date_format = settings.get("date_format") or []
    return TableConfig(
        name=name, file=file, table=table, sheet=settings.get("sheet"), format=fmt,
        encoding=str(settings.get("encoding", "utf-8")), delimiter=settings.get("delimiter"),
        date_format=[date_format] if isinstance(date_format, str) else list(date_format),
        decimal=str(settings.get("decimal", ".")), thousands=settings.get("thousands"),
        columns={k: str(v) for k, v in (settings.get("columns") or {}).items()},
        derive={k: str(v) for k, v in (settings.get("derive") or {}).items()},
        status_rules=list(settings.get("status_rules") or []), unique=unique,
        rules=dict(settings.get("rules") or {}), derive_from=derive_from,
    )


def discover_tables(source: str | Path) -> IngestConfig:
    """A config for a source whose tables and columns already carry canonical names."""
    source = str(source)
    kind = source_kind(source)
    if kind in ("duckdb", "postgresql"):
        # The database's table list is read at ingest time; every canonical name is tried.
        return IngestConfig(source=source, tables={
            name: TableConfig(name=name, table=name) for name in TABLES})
    path = Path(source)
    if not path.exists():
        raise SourceError(f"source not found: {path}")
    if kind == "file":
        name = table_name_of(path)
        if name not in TABLES:
            raise SourceError(
                f"cannot tell which table {path.name} holds: name the file after a canonical "
                f"table ({', '.join(TABLES)}) or write a config that maps it")
        return IngestConfig(source=source, tables={
            name: TableConfig(name=name, file=path, format=file_format(path))})
    tables: dict[str, TableConfig] = {}
    for file in sorted(path.iterdir()):
        name, fmt = table_name_of(file), file_format(file)
        if fmt is None or name not in TABLES:
            continue
        if name in tables:
            raise SourceError(f"two files for table {name} in {path}: "
                              f"{tables[name].file.name} and {file.name}; keep one")
        tables[name] = TableConfig(name=name, file=file, format=fmt)
    return IngestConfig(source=source, tables=tables)
