"""Ingest configuration: where the user's tables are and how their columns map to ours.

A config is a YAML file (examples in ``examples/``; every setting in ``docs/config.md``)::

    source: ../data/export            # folder of files, a .duckdb file, or a postgresql:// URL
    preset: salesforce                # optional: a CRM's standard export (crmkit/presets)
    snapshot_date: 2024-12-31         # optional: anchors a snapshot's tenure
    currency: USD                     # optional: the report currency
    locale: en_GB                     # optional: number and date formats (default: language's)
    timezone: Europe/Berlin           # optional: the zone timestamps are stored in (UTC)
    plausible_dates: {earliest: 1900-01-01, latest: 2035-12-31}   # optional: else quarantined
    rates: {EUR: 1.08}                # optional: report-currency units per unit
    engine: spark                     # optional: duckdb (default) or spark (Parquet sources)
    spark: {master: "local[*]", spark.executor.memory: 4g}   # optional: with engine: spark
    defaults: {encoding: utf-8, date_format: "%d/%m/%Y", null_values: ["N/A"]}
    tables:
      orders:
        file: sales.csv
        columns:                      # canonical name: source column, or a mapping
          order_id: InvoiceNo
          status: {column: State, values: {Done: completed, Void: cancelled}}
        derive: {amount: quantity * unit_price}
        status_rules: [{column: InvoiceNo, startswith: C, status: returned}]
        rules: {unit_price: {min: 0, exclusive: true}}
        lookups: [{file: products.csv, key: StockCode}]

Everything is checked when the config is read: an unknown setting, table, canonical column,
test or action stops with a ConfigError that names it and lists what is valid. What can only
be checked against the data (a source column, a lookup key) is checked by ingest before any
row is written. Nothing is silently ignored.

Without a config (``--source PATH``) a folder's files are matched to tables by name
(``orders.csv``, ``customers.parquet`` ...) and columns by name, the way ``crmkit sample``
writes them; ``--preset NAME`` matches them the way that CRM exports them.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from crmkit.exceptions import ConfigError, SourceError
from crmkit.schema import ORDER_STATUSES, TABLES

FILE_SUFFIXES = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".csv.gz": "csv", ".tsv.gz": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
}
TOP_KEYS = ("source", "preset", "warehouse", "snapshot_date", "currency", "locale", "rates",
            "timezone", "plausible_dates", "targets", "scorecard", "defaults", "tables",
            "engine", "spark")
READ_KEYS = ("encoding", "delimiter", "quote", "skip_rows", "date_format", "decimal",
             "thousands", "null_values")
DEFAULT_KEYS = set(READ_KEYS)
TABLE_KEYS = {"file", "table", "sheet", "format", *READ_KEYS, "columns", "derive",
              "status_rules", "unique", "rules", "derive_from", "lookups", "stages",
              "optional"}
COLUMN_KEYS = ("column", "values", "default", "value", "optional")
TESTS = ("equals", "in", "startswith", "matches", "negative")
STATUS_OPERATORS = set(TESTS)  # kept for callers of the old name
RULE_KEYS = {*TESTS, "ignore_case", "optional", "quarantine", "flag", "min", "max",
             "exclusive"}
STATUS_RULE_KEYS = {"column", "status", *TESTS, "ignore_case", "optional"}
LOOKUP_KEYS = {"file", "table", "key", "on", "columns", "name", "match", "optional", "pick",
               *READ_KEYS, "sheet", "format"}
# Tables whose `status` a status rule may set: order statuses are a closed set.
STATUS_TABLES = ("orders", "customers", "leads")
STAGED_TABLES = ("opportunities", "leads")
PRESETS_DIR = Path(__file__).resolve().parent / "presets"
# Timestamps with an offset are converted to this zone; those without are taken as in it.
DEFAULT_TIMEZONE = "UTC"
PLAUSIBLE_DATES_KEYS = ("earliest", "latest", "years_ahead")
# Where ingest validates and the warehouse computes: an embedded DuckDB (the default), or
# Spark for Parquet sources that outgrow one machine or already live in a lake.
ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[*]"
# Spark settings that fetch jars from a repository when the session starts: nothing may
# download at run time, so they stop the config (install the jars instead: `spark.jars`).
SPARK_DOWNLOADS = ("spark.jars.packages", "spark.jars.repositories", "spark.jars.ivy",
                   "spark.jars.ivySettings")
# A lake path (s3a://bucket/crm, hdfs://namenode/crm, file:///data/crm), read and written
# through Spark's own file systems.
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class PlausibleDates:
    """The dates a CRM record can carry: one before ``earliest`` or after the latest date
    (``latest``, else ``years_ahead`` years after the day of the ingest) is a data error (a
    9999-12-31 placeholder, a 2205 typo) and its row is quarantined."""

    earliest: dt.date = dt.date(1900, 1, 1)
    latest: dt.date | None = None
    years_ahead: int = 10

    def last(self, today: dt.date | None = None) -> dt.date:
        """The latest plausible date, inclusive."""
        if self.latest is not None:
            return self.latest
        today = today or dt.date.today()
        if (today.month, today.day) == (2, 29):  # into a year that may have no 29 February
            today = today.replace(day=28)
        return today.replace(year=today.year + self.years_ahead)

    def describe(self, today: dt.date | None = None) -> str:
        """'before 1900-01-01 or after 2036-12-06': what is out of range."""
        return f"before {self.earliest.isoformat()} or after {self.last(today).isoformat()}"


@dataclass(frozen=True)
class ColumnSpec:
    """Where a canonical column comes from: a source column (optionally through a value
    map), or a constant."""

    column: str | None = None
    # Several columns: per row, the first that has a value, among those the source has
    # (`owner: [owner_name, OwnerId]`: the name where a lookup found one, else the id).
    alternatives: tuple[str, ...] = ()
    values: dict[str, object] | None = None  # source value -> canonical value (None: missing)
    default: object = None                   # for a value the map does not name
    has_default: bool = False
    constant: object = None
    is_constant: bool = False
    optional: bool = False  # a source without the column leaves it out (presets)

    def describe(self) -> str:
        if self.is_constant:
            return f"= {self.constant!r}"
        text = " or ".join(self.alternatives) if len(self.alternatives) > 1 else \
            (self.column or "")
        if self.values:
            text += f" (mapped: {len(self.values)} values)"
        return text


@dataclass(frozen=True)
class Test:
    """A test on one column's trimmed text: equals, in, startswith, matches or negative."""

    column: str
    op: str
    arg: object = None
    ignore_case: bool = False
    optional: bool = False


@dataclass(frozen=True)
class Rule:
    """A rule: a range on a number (out of range: quarantined), or a test whose rows are
    quarantined with a reason or kept with a flag."""

    column: str
    test: Test | None = None
    min: float | None = None
    max: float | None = None
    exclusive: bool = False
    quarantine: str | None = None
    flag: str | None = None
    optional: bool = False

    @property
    def is_range(self) -> bool:
        return self.test is None


@dataclass(frozen=True)
class StatusRule:
    test: Test
    status: str


@dataclass
class Lookup:
    """A file joined to a table by a key; its other columns become source columns."""

    name: str
    key: str
    on: str
    file: Path | None = None
    table: str | None = None
    columns: dict[str, str] | None = None  # new name -> lookup column; None: all others
    match: str = "exact"
    optional: bool = False
    read: dict = field(default_factory=dict)  # encoding, delimiter ... as for a table
    # A key that repeats (a lead's campaign memberships): keep the "first" or "last" row
    # per key by this column; None: a repeated key stops ingest.
    pick: tuple[str, str] | None = None

    @property
    def label(self) -> str:
        return self.file.name if self.file is not None else f"table {self.table}"


@dataclass
class TableConfig:
    """How one canonical table is read from the source."""

    name: str
    file: Path | None = None
    table: str | None = None
    sheet: str | int | None = None
    format: str | None = None
    encoding: str = "utf-8"
    encodings: list[str] = field(default_factory=list)  # tried in order; [] = [encoding]
    delimiter: str | None = None  # None: detected among , ; tab | (crmkit.ingest.readers)
    quote: str = '"'
    skip_rows: int = 0  # lines before the header (an export's title lines)
    date_format: list[str] = field(default_factory=list)
    decimal: str = "."
    thousands: str | None = None
    null_values: list[str] = field(default_factory=list)
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    derive: dict[str, str] = field(default_factory=dict)
    status_rules: list[StatusRule] = field(default_factory=list)
    unique: str = "key"
    rules: list[Rule] = field(default_factory=list)
    derive_from: str | None = None
    lookups: list[Lookup] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    optional: bool = False
    snapshot_date: dt.date | None = None
    # Top-level settings every table is read with (set from the config, as snapshot_date).
    timezone: str = DEFAULT_TIMEZONE
    plausible_dates: PlausibleDates = PlausibleDates()
    # A table in a lake (engine: spark): the URI of its file or folder; `file` is its name.
    uri: str | None = None

    @property
    def location(self) -> str | None:
        """Where Spark reads the table: its URI, or its local file or folder."""
        return self.uri or (str(self.file) if self.file is not None else None)

    @property
    def label(self) -> str:
        """How the user knows this input: the file name or the database table."""
        if self.file is not None:
            return self.file.name
        if self.table is not None:
            return f"table {self.table}"
        return f"derived from {self.derive_from}"

    @property
    def source_columns(self) -> dict[str, str]:
        """canonical -> source column, for the columns mapped to a source column."""
        return {k: v.column for k, v in self.columns.items() if v.column is not None}


@dataclass(frozen=True)
class SparkSettings:
    """The Spark session of ``engine: spark``: its master (``local[*]``, a cluster URL such
    as ``spark://host:7077`` or ``yarn``) and any Spark configuration (``spark.*`` keys,
    passed to the session as they are)."""

    master: str = DEFAULT_SPARK_MASTER
    conf: tuple[tuple[str, str], ...] = ()

    @property
    def options(self) -> dict[str, str]:
        return dict(self.conf)


@dataclass
class IngestConfig:
    """Where the data is, where the warehouse goes, and one TableConfig per table."""

    source: str
    tables: dict[str, TableConfig]
    warehouse: Path | None = None
    path: Path | None = None  # the YAML file, if any
    preset: str | None = None
    snapshot_date: dt.date | None = None
    currency: str | None = None
    rates: dict[str, float] | None = None
    rates_file: Path | None = None
    dated_rates_file: Path | None = None  # Salesforce DatedConversionRate: by close date
    timezone: str = DEFAULT_TIMEZONE
    plausible_dates: PlausibleDates = PlausibleDates()
    # `targets` and `scorecard`: checked here, read by the reports (read_report_settings)
    report_settings: dict = field(default_factory=dict)
    engine: str = "duckdb"
    spark: SparkSettings = SparkSettings()
    # engine: spark with `warehouse:` a lake URI: the tables and rejects go there (the
    # audit stays in the local warehouse folder, which reports open).
    tables_uri: str | None = None

    @property
    def is_database(self) -> bool:
        return source_kind(self.source) in ("duckdb", "postgresql")


def source_kind(source: str) -> str:
    """'postgresql', 'duckdb', 'uri' (a lake path for Spark), 'folder' or 'file'."""
    if re.match(r"^postgres(ql)?://", source):
        return "postgresql"
    if URI.match(source):
        return "uri"
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


def presets() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def preset_settings(name: str) -> dict:
    """The raw settings of a preset (crmkit/presets/<name>.yaml)."""
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.exists():
        raise ConfigError(f"unknown preset {name!r}; presets: {', '.join(presets()) or 'none'}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if "source" in raw:
        raise AssertionError(f"preset {name} must not name a source")
    return raw


def merge_preset(preset: dict, raw: dict) -> dict:
    """The config's settings over a preset's: table by table, column by column."""
    for key in ("tables", "defaults"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            raise ConfigError(f"`{key}`: expected a mapping (table name: settings), got "
                              f"{raw[key]!r}")
    for name, spec in (raw.get("tables") or {}).items():
        if spec is not None and not isinstance(spec, dict):
            raise ConfigError(f"tables.{name}: expected a mapping of settings (file, "
                              f"columns ...), got {spec!r}")
        if isinstance(spec, dict) and spec.get("columns") is not None \
                and not isinstance(spec["columns"], dict):
            raise ConfigError(f"tables.{name}.columns: expected a mapping canonical column: "
                              f"source column, got {spec['columns']!r}")
    out = {k: v for k, v in preset.items() if k != "tables"}
    out.update({k: v for k, v in raw.items() if k not in ("tables", "defaults", "preset")})
    out["defaults"] = {**(preset.get("defaults") or {}), **(raw.get("defaults") or {})}
    # Placeholders add up: a config's own do not undo the CRM's (Salesforce's empty id).
    nulls = [*_strings((preset.get("defaults") or {}).get("null_values"), "preset"),
             *_strings((raw.get("defaults") or {}).get("null_values"), "defaults.null_values")]
    if nulls:
        out["defaults"]["null_values"] = list(dict.fromkeys(nulls))
    tables = {name: dict(spec or {}) for name, spec in (preset.get("tables") or {}).items()}
    for name, spec in (raw.get("tables") or {}).items():
        spec = dict(spec or {})
        merged = {**tables.get(name, {}), **spec}
        if "columns" in spec and name in tables:
            merged["columns"] = {**(tables[name].get("columns") or {}),
                                 **(spec.get("columns") or {})}
        if "lookups" in spec and name in tables and isinstance(spec["lookups"], list):
            # A config's lookups add to the preset's; one of the same file replaces it.
            own = {str(lk.get("file", lk.get("table"))).lower()
                   for lk in spec["lookups"] if isinstance(lk, dict)}
            merged["lookups"] = [lk for lk in tables[name].get("lookups") or []
                                 if str(lk.get("file", lk.get("table"))).lower() not in own
                                 ] + spec["lookups"]
        tables[name] = merged
    out["tables"] = tables
    return out


class _ConfigLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a date that does not exist (2024-02-30) stays text,
    so that the setting holding it can name it (PyYAML raises a bare ValueError)."""


def _date_or_text(loader: yaml.SafeLoader, node: yaml.Node):
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_ConfigLoader.add_constructor("tag:yaml.org,2002:timestamp", _date_or_text)


def load_config(path: str | Path) -> IngestConfig:
    """Read and check a YAML ingest config; raise ConfigError naming what is wrong."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_ConfigLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with `source` and `tables`")
    if "source" not in raw:
        import difflib

        typo = difflib.get_close_matches("source", [str(k) for k in raw], n=1, cutoff=0.6)
        hint = f"; is `{typo[0]}` meant to be `source`?" if typo else ""
        raise ConfigError(f"{path}: `source` is missing (a folder, a .duckdb file or a "
                          f"postgresql:// URL){hint}")
    return config_from_settings(raw, where=str(path), base=path.parent, path=path)


def preset_config(source: str, preset: str) -> IngestConfig:
    """A config for a CRM's standard export in ``source`` (``--source DIR --preset NAME``)."""
    return config_from_settings({"source": source, "preset": preset}, where=f"preset {preset}",
                                base=Path.cwd())


def config_from_settings(raw: dict, *, where: str, base: Path,
                         path: Path | None = None) -> IngestConfig:
    """Check raw settings (a parsed YAML mapping) and build the IngestConfig."""
    unknown = set(raw) - set(TOP_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(map(str, unknown))}; "
                          f"valid: {', '.join(TOP_KEYS)}")
    preset = raw.get("preset")
    if preset is not None:
        raw = merge_preset(preset_settings(str(preset)), raw)
    if raw.get("source") is None or isinstance(raw["source"], (bool, dict, list)):
        raise ConfigError(f"{where}: `source` {raw.get('source')!r}; give a folder, a .duckdb "
                          "file or a postgresql:// URL as text")
    source = str(raw["source"])
    if "\x00" in source:
        raise ConfigError(f"{where}: `source` holds a NUL character; give a folder, a file, a "
                          ".duckdb file or a postgresql:// URL")
    from crmkit.secrets import unencoded_at

    if source_kind(source) == "postgresql" and unencoded_at(source):
        raise ConfigError(f"{where}: the password in `source` has an @ that is not encoded; "
                          "write it as %40 (or give the password in PGPASSWORD)")
    warehouse = raw.get("warehouse")
    if warehouse is not None and not isinstance(warehouse, (str, Path)):
        raise ConfigError(f"{where}: `warehouse` {warehouse!r}; give a folder path as text")
    engine, spark = _engine(raw, where)
    if source_kind(source) == "uri" and engine != "spark":
        from crmkit.secrets import redact_url

        raise ConfigError(f"{where}: `source` {redact_url(source)!r} is a URL that only Spark "
                          "reads, as a lake path of Parquet tables (s3a://, hdfs://, file://): "
                          "add `engine: spark`, or give a folder, a file, a .duckdb file or a "
                          "postgresql:// URL")
    if source_kind(source) not in ("postgresql", "uri"):
        source = str((base / source).resolve()) if not Path(source).is_absolute() else source
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{where}: `defaults` must be a mapping of read settings")
    bad = set(defaults) - DEFAULT_KEYS
    if bad:
        raise ConfigError(f"{where}: unknown default(s) {sorted(map(str, bad))}; valid: "
                          f"{', '.join(sorted(DEFAULT_KEYS))}")
    snapshot = _date_setting(raw.get("snapshot_date"), f"{where}: snapshot_date")
    currency = raw.get("currency")
    if currency is not None and not re.fullmatch(r"[A-Za-z]{3}", str(currency)):
        raise ConfigError(f"{where}: currency {currency!r}; use a three-letter ISO code "
                          "(USD, EUR, CNY ...)")
    rates, rates_file = _rates(raw.get("rates"), where, source)
    timezone = _timezone(raw.get("timezone"), where)
    plausible = _plausible_dates(raw.get("plausible_dates"), where)
    report_settings = _report_settings(raw, where)
    dated_file = None
    if isinstance(rates_file, tuple):
        rates_file, dated_file = rates_file
    tables_raw = raw.get("tables") or {}
    if not isinstance(tables_raw, dict):
        raise ConfigError(f"{where}: `tables` must map table names to their settings")
    tables = {}
    for name, spec in tables_raw.items():
        table = _table_config(where, name, spec or {}, defaults, source, spark)
        if table is not None:
            table.snapshot_date = snapshot
            table.timezone, table.plausible_dates = timezone, plausible
            tables[name] = table
    warehouse = raw.get("warehouse")
    tables_uri = None
    if warehouse and URI.match(str(warehouse)):
        if engine != "spark":
            raise ConfigError(f"{where}: `warehouse` {warehouse!r} is a lake path, which only "
                              "`engine: spark` writes to; give a folder")
        tables_uri, warehouse = str(warehouse).rstrip("/"), None
    config = IngestConfig(source=source, tables=tables, path=path, preset=preset,
                          warehouse=(base / warehouse).resolve() if warehouse else None,
                          snapshot_date=snapshot,
                          currency=str(currency).upper() if currency else None,
                          rates=rates, rates_file=rates_file, dated_rates_file=dated_file,
                          timezone=timezone, plausible_dates=plausible,
                          report_settings=report_settings, engine=engine, spark=spark,
                          tables_uri=tables_uri)
    if not tables_raw:
        # Tables found by name start from `defaults` as named ones do.
        config.tables = {name: _table_config(where, name, {}, defaults, source, spark)
                         for name in discover_tables(source, spark).tables}
        for table in config.tables.values():
            table.snapshot_date = snapshot
            table.timezone, table.plausible_dates = timezone, plausible
            # Found by name, not asked for: a database without one of them is fine.
            table.optional = True
    if engine == "spark":
        _check_spark_sources(config, where)
        from crmkit.spark import check_available

        check_available()
    return config


def _engine(raw: dict, where: str) -> tuple[str, SparkSettings]:
    """``engine`` and the ``spark`` settings, checked: a Spark setting that is neither
    ``master`` nor a ``spark.*`` key (a typo) stops, as does one that would download jars."""
    engine = raw.get("engine", "duckdb")
    if engine not in ENGINES:
        raise ConfigError(f"{where}: engine {engine!r}; use {' or '.join(ENGINES)} (DuckDB, "
                          "the default, or Spark for Parquet data in a folder or a lake)")
    value = raw.get("spark")
    if value is None:
        return engine, SparkSettings()
    if engine != "spark":
        raise ConfigError(f"{where}: `spark` settings apply with `engine: spark`; add it, or "
                          "remove `spark:`")
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: spark: expected a mapping such as {{master: \"local[*]\", "
                          "spark.executor.memory: 4g}")
    master, conf = DEFAULT_SPARK_MASTER, {}
    for key, setting in value.items():
        key = str(key)
        if isinstance(setting, (dict, list)) or setting is None:
            raise ConfigError(f"{where}: spark.{key}: {setting!r}; give one value")
        text = _yaml_text(setting)
        if key in ("master", "spark.master"):
            master = text
        elif key in SPARK_DOWNLOADS:
            raise ConfigError(f"{where}: spark: {key} downloads jars when the session starts, "
                              "and crmkit downloads nothing at run time; install the jars on "
                              "the machines and name the files with spark.jars")
        elif key.startswith("spark.") and len(key) > len("spark."):
            conf[key] = text
        else:
            raise ConfigError(f"{where}: spark: unknown setting {key!r}; valid: master, or a "
                              "Spark setting named spark.* (spark.executor.memory, "
                              "spark.sql.shuffle.partitions ...)")
    return engine, SparkSettings(master=master, conf=tuple(sorted(conf.items())))


def _check_spark_sources(config: IngestConfig, where: str) -> None:
    """With ``engine: spark`` every table is read from Parquet (a file or a folder of parts);
    a database, a CSV file or a workbook stays with DuckDB. A file with no format in its
    name (``file: orders``: a folder of parts, as Spark writes them) is read as Parquet."""
    kind = source_kind(config.source)
    if kind in ("duckdb", "postgresql"):
        what = "a DuckDB file" if kind == "duckdb" else "a PostgreSQL database"
        raise ConfigError(f"{where}: engine: spark reads Parquet tables (a folder or a lake "
                          f"path); the source is {what}: use engine: duckdb")
    for name, spec in config.tables.items():
        if spec.derive_from or spec.format == "parquet":
            continue
        if spec.format is None and spec.file is not None:
            spec.format = "parquet"
            continue
        what = {"csv": "a CSV file", "excel": "an Excel workbook"}.get(
            spec.format, "not a Parquet file")
        raise ConfigError(f"{where}: tables.{name}: {spec.label} is {what}; engine: spark "
                          "reads Parquet only: convert it to Parquet (or set `format: "
                          "parquet` if it is one), or use engine: duckdb")


def _date_setting(value, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date; write YYYY-MM-DD") from None


def time_zones() -> frozenset[str]:
    """The IANA time zone names DuckDB converts with (its ICU extension, built in)."""
    import duckdb

    with duckdb.connect() as con:
        return frozenset(r[0] for r in con.execute("SELECT name FROM pg_timezone_names()")
                         .fetchall())


def _timezone(value, where: str) -> str:
    if value is None:
        return DEFAULT_TIMEZONE
    name = value.strip() if isinstance(value, str) else ""
    known = time_zones()
    if name in known:
        return name
    spelt = sorted(z for z in known if z.lower() == name.lower())
    hint = f"did you mean {spelt[0]}? " if spelt else ""
    raise ConfigError(f"{where}: timezone {value!r} is not a time zone; {hint}write an IANA "
                      "name such as `timezone: Europe/Berlin` (Asia/Shanghai, "
                      "America/New_York, UTC; a fixed UTC+8 is Etc/GMT-8)")


# -- settings the reports read: targets and the scorecard's status rules ------------------
TARGET_PERIODS = ("month", "quarter", "year")
SCORECARD_RULE_KEYS = ("on_track", "at_risk", "without_target", "kpis")
SCORECARD_REFERENCES = ("previous_period", "none")


def read_report_settings(path: str | Path) -> dict:
    """``{"targets": ..., "scorecard": ...}`` of config file ``path``, checked (the rest
    of the config is ingest's); empty mappings for a config without them."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    return _report_settings(raw if isinstance(raw, dict) else {}, str(path))


def read_spark_settings(path: str | Path | None) -> SparkSettings:
    """The ``spark:`` settings of config file ``path`` (master, spark.* keys), checked; the
    defaults (``local[*]``) without a config or without them. A Spark warehouse is opened
    with these: its audit names the config, never the settings, which may hold keys."""
    if not path or not Path(path).is_file():
        return SparkSettings()
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return SparkSettings()
    if not isinstance(raw, dict) or raw.get("engine") != "spark":
        return SparkSettings()
    return _engine(raw, str(path))[1]


def _report_settings(raw: dict, where: str) -> dict:
    """Check ``targets:`` (KPI -> a number, or {value: N, per: month|quarter|year}) and
    ``scorecard:`` (status rules); the KPI names are checked by the report, which knows
    them (crmkit.metrics.scorecard)."""
    targets = raw.get("targets") or {}
    if not isinstance(targets, dict):
        raise ConfigError(f"{where}: targets must map KPI names to targets, e.g. "
                          "{win_rate: 0.3, revenue: {value: 1000000, per: quarter}}")
    for name, target in targets.items():
        value = target.get("value") if isinstance(target, dict) else target
        if isinstance(target, dict) and (set(target) - {"value", "per"} or
                                         target.get("per", "month") not in TARGET_PERIODS):
            raise ConfigError(f"{where}: targets.{name}: {target!r}; write a number, or "
                              f"{{value: N, per: {' | '.join(TARGET_PERIODS)}}}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: targets.{name}: {value!r} is not a number (rates "
                              "as fractions: 0.3 for 30%)")
    scorecard = raw.get("scorecard") or {}
    check_status_rules(scorecard, f"{where}: scorecard", nested=True)
    for name, own in (scorecard.get("kpis") or {}).items():
        check_status_rules(own, f"{where}: scorecard.kpis.{name}", nested=False)
    locale = raw.get("locale")
    if locale is not None:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(str(locale).replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            raise ConfigError(f"{where}: locale {locale!r} is not a locale; use a code such "
                              "as en_GB, en_US, zh_CN or zh_TW") from None
    currency = raw.get("currency")
    return {"targets": dict(targets), "scorecard": dict(scorecard),
            "locale": str(locale).replace("-", "_") if locale else None,
            "currency": str(currency).upper() if currency else None}


def check_status_rules(setting, where: str, *, nested: bool = True) -> None:
    """Raise ConfigError naming a wrong key or value of the scorecard's status rules."""
    if not isinstance(setting, dict):
        raise ConfigError(f"{where}: expected a mapping of rules "
                          f"({', '.join(SCORECARD_RULE_KEYS)})")
    valid = SCORECARD_RULE_KEYS if nested else SCORECARD_RULE_KEYS[:-1]
    unknown = sorted(set(setting) - set(valid))
    if unknown:
        raise ConfigError(f"{where}: unknown rule(s) {unknown}; valid: {', '.join(valid)}")
    for key in ("on_track", "at_risk"):
        value = setting.get(key)
        if value is not None and (isinstance(value, bool) or
                                  not isinstance(value, (int, float)) or value < 0):
            raise ConfigError(f"{where}.{key}: {value!r}; use a share of the reference "
                              "such as 0.9")
    if setting.get("without_target", "none") not in SCORECARD_REFERENCES:
        raise ConfigError(f"{where}.without_target: {setting['without_target']!r}; use "
                          f"{' or '.join(SCORECARD_REFERENCES)}")
    if not isinstance(setting.get("kpis", {}), dict):
        raise ConfigError(f"{where}.kpis: expected KPI -> rules")


def _plausible_dates(value, where: str) -> PlausibleDates:
    at = f"{where}: plausible_dates"
    example = ("such as `plausible_dates: {earliest: 1900-01-01, latest: 2035-12-31}` or "
               "`{earliest: 1900-01-01, years_ahead: 10}`")
    if value is None:
        return PlausibleDates()
    if not isinstance(value, dict):
        raise ConfigError(f"{at}: expected a mapping {example}")
    bad = set(value) - set(PLAUSIBLE_DATES_KEYS)
    if bad:
        raise ConfigError(f"{at}: unknown key(s) {sorted(map(str, bad))}; valid: "
                          f"{', '.join(PLAUSIBLE_DATES_KEYS)}")
    if "latest" in value and "years_ahead" in value:
        raise ConfigError(f"{at}: give `latest` (a date) or `years_ahead` (years after the "
                          "day of the ingest), not both")
    earliest = _date_setting(value.get("earliest"), f"{at}.earliest") or \
        PlausibleDates.earliest
    latest = _date_setting(value.get("latest"), f"{at}.latest")
    years = value.get("years_ahead", PlausibleDates.years_ahead)
    if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 1000:
        raise ConfigError(f"{at}.years_ahead: {years!r}; use a whole number of years "
                          "(0 to 1000) after the day of the ingest")
    plausible = PlausibleDates(earliest=earliest, latest=latest, years_ahead=years)
    if earliest > plausible.last():
        raise ConfigError(f"{at}: earliest {earliest.isoformat()} is after the latest "
                          f"plausible date {plausible.last().isoformat()}; every date would "
                          f"be quarantined. Write the range {example}")
    return plausible


def _rates(value, where: str, source: str
           ) -> tuple[dict[str, float] | None, Path | tuple[Path, Path] | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: rates must map currency codes to numbers "
                          "({EUR: 1.08}) or name a file ({file: CurrencyType.csv})")
    if "file" in value:
        if set(value) - {"file", "dated", "optional"}:
            raise ConfigError(f"{where}: rates: give either `file` (with `dated`, "
                              "`optional`) or currency codes, not both")
        folder = Path(source) if source_kind(source) == "folder" else Path(source).parent
        path = _find_file(folder, str(value["file"]))
        if not path.exists():
            if value.get("optional"):
                return None, None
            raise ConfigError(f"{where}: rates file not found: {path}")
        if "dated" in value:
            dated = _find_file(folder, str(value["dated"]))
            if dated.exists():
                return None, (path, dated)
            if not value.get("optional"):
                raise ConfigError(f"{where}: rates.dated: file not found: {dated}")
        return None, path
    rates = {}
    for code, rate in value.items():
        if not re.fullmatch(r"[A-Za-z]{3}", str(code)):
            raise ConfigError(f"{where}: rates: {code!r} is not a currency code; use "
                              "three letters (USD, EUR ...)")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0:
            raise ConfigError(f"{where}: rates.{code}: {rate!r}; use a positive number "
                              "(report-currency units per unit)")
        rates[str(code).upper()] = float(rate)
    return rates, None


def _table_config(where: str, name: str, spec: dict, defaults: dict, source: str,
                  spark: SparkSettings | None = None) -> TableConfig | None:
    where = f"{where}: tables.{name}"
    if name not in TABLES:
        raise ConfigError(f"{where}: unknown table; canonical tables are "
                          f"{', '.join(TABLES)}")
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a mapping of settings")
    bad = set(spec) - TABLE_KEYS
    if bad:
        raise ConfigError(f"{where}: unknown setting(s) {sorted(map(str, bad))}; valid: "
                          f"{', '.join(sorted(TABLE_KEYS))}")
    table = TABLES[name]
    settings = {**defaults, **spec}
    if "null_values" in defaults and "null_values" in spec:
        settings["null_values"] = [*_strings(defaults["null_values"], f"{where}.null_values"),
                                   *_strings(spec["null_values"], f"{where}.null_values")]
    canonical = [c.name for c in table.columns if not c.computed]
    for section in ("columns", "derive"):
        value = settings.get(section) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{where}.{section}: expected a mapping")
    columns = {}
    for key, value in (settings.get("columns") or {}).items():
        target = table.canonical_name(str(key))
        if target not in canonical:
            raise ConfigError(f"{where}.columns: {key!r} is not a canonical column of "
                              f"{name}; valid: {', '.join(canonical)}")
        if target in columns:
            raise ConfigError(f"{where}.columns: {key!r} and another key both name "
                              f"{target}; keep one")
        columns[target] = _column_spec(value, f"{where}.columns.{key}")
    derive = {}
    for key, expression in (settings.get("derive") or {}).items():
        target = table.canonical_name(str(key))
        if target not in canonical:
            raise ConfigError(f"{where}.derive: {key!r} is not a canonical column of "
                              f"{name}; valid: {', '.join(canonical)}")
        derive[target] = str(expression)
    status_rules = _status_rules(settings.get("status_rules"), name, where)
    rules = _rules(settings.get("rules"), name, where)
    unique = settings.get("unique", "key")
    if unique not in ("key", "row"):
        raise ConfigError(f"{where}.unique: {unique!r}; use `key` or `row`")
    derive_from = settings.get("derive_from")
    if derive_from is not None and (name, derive_from) != ("customers", "orders"):
        raise ConfigError(f"{where}.derive_from: only customers can be derived, from orders")
    if derive_from is not None and {"file", "table"} & set(spec):
        raise ConfigError(f"{where}: derive_from and {'file' if 'file' in spec else 'table'} "
                          "exclude each other: read customers from a file, or derive them "
                          "from orders")
    stages = settings.get("stages") or []
    if stages and name not in STAGED_TABLES:
        raise ConfigError(f"{where}.stages: only {' and '.join(STAGED_TABLES)} have stages")
    stages = _strings(stages, f"{where}.stages")
    if len(set(stages)) != len(stages):
        raise ConfigError(f"{where}.stages: a stage is listed twice: {stages}")
    optional = settings.get("optional", False)
    if not isinstance(optional, bool):
        raise ConfigError(f"{where}.optional: {optional!r}; use true or false")
    encodings = settings.get("encoding", "utf-8")
    encodings = _strings(encodings, f"{where}.encoding")
    if not encodings:
        raise ConfigError(f"{where}.encoding: name at least one encoding")
    file = settings.get("file")
    table_name = settings.get("table")
    kind = source_kind(source)
    for key, kinds, what in (("file", (str,), "a file name"),
                             ("table", (str,), "a database table's name"),
                             ("sheet", (str, int), "a sheet's name or its number from 0")):
        value = settings.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            raise ConfigError(f"{where}.{key}: {value!r}; write {what}")
    if table_name is not None and kind not in ("duckdb", "postgresql") \
            and derive_from is None:
        raise ConfigError(f"{where}.table: {table_name!r} names a database table, but the "
                          f"source {Path(source).name} is not a database; give `file:` "
                          "(a file in the source folder)")
    uri = None
    if derive_from is None:
        if kind in ("duckdb", "postgresql"):
            table_name = table_name or name
        elif kind == "uri":
            found = discover_tables(source, spark).tables.get(name) if file is None else None
            if file is None and found is None:
                if optional:
                    return None
                raise ConfigError(f"{where}: no `file` given and no {name}.parquet in {source}")
            file = found.file if found is not None else Path(str(file))
            uri = found.uri if found is not None else f"{source.rstrip('/')}/{file}"
        elif kind == "file":
            file = Path(source)
        elif file is None:
            found = discover_tables(source).tables.get(name)
            if found is None:
                if optional:
                    return None
                raise ConfigError(f"{where}: no `file` given and no {name}.csv/.parquet/.xlsx "
                                  f"in {source}")
            file = found.file
        else:
            file = _find_file(Path(source), str(file))
            if optional and not file.exists():
                return None
    fmt = settings.get("format") or (file_format(file) if file else None)
    date_format = settings.get("date_format") or []
    formats = date_format if isinstance(date_format, list) else [date_format]
    if any(not isinstance(f, str) or "%" not in f for f in formats):
        raise ConfigError(f"{where}.date_format: {date_format!r}; write strptime formats "
                          "such as \"%d/%m/%Y\" (or a list of them)")
    lookups = [_lookup(item, i, where, source, settings)
               for i, item in enumerate(_list(settings.get("lookups"), f"{where}.lookups"))]
    lookups = [lk for lk in lookups if lk is not None]
    return TableConfig(
        name=name, file=file, table=table_name, sheet=settings.get("sheet"), format=fmt,
        encoding=encodings[0], encodings=encodings, **_csv_dialect(settings, where),
        date_format=[date_format] if isinstance(date_format, str) else list(date_format),
        **_number_format(settings, where),
        null_values=_strings(settings.get("null_values") or [], f"{where}.null_values"),
        columns=columns, derive=derive, status_rules=status_rules, unique=unique,
        rules=rules, derive_from=derive_from, lookups=lookups, stages=stages,
        optional=optional, uri=uri)


def _number_format(settings: dict, where: str) -> dict:
    """`decimal` and `thousands`, checked: a digit or the same mark for both would misread
    every amount (thousands: 5 strips every 5) without a word."""
    decimal = settings.get("decimal", ".")
    thousands = settings.get("thousands")
    if decimal not in (".", ","):
        raise ConfigError(f"{where}.decimal: {decimal!r}; write \".\" (1234.5) or \",\" "
                          "(1234,5)")
    if thousands is not None and thousands not in (",", ".", " ", "'", "\u00a0", "\u202f"):
        raise ConfigError(f"{where}.thousands: {thousands!r}; write the mark between "
                          "thousands: \",\" (1,234), \".\" (1.234), \" \" or \"'\"")
    if thousands == decimal:
        raise ConfigError(f"{where}: decimal and thousands are both {decimal!r}; a number "
                          "such as 1,234 could then be read two ways")
    return {"decimal": decimal, "thousands": thousands}


def _csv_dialect(settings: dict, where: str) -> dict:
    """`delimiter`, `quote` and `skip_rows`, checked: how a CSV file's fields are read."""
    delimiter = settings.get("delimiter")
    quote = '"' if settings.get("quote") is None else settings["quote"]
    for key, value in (("delimiter", delimiter), ("quote", quote)):
        if value is not None and (not isinstance(value, str) or len(value) != 1
                                  or value in "\r\n" or value.isalnum()):
            raise ConfigError(f"{where}.{key}: {value!r}; write one character, such as "
                              + ("',' ';' '|' or \"\\t\" (a tab)" if key == "delimiter"
                                 else "'\"' (the default) or \"'\""))
    if delimiter is not None and delimiter == quote:
        raise ConfigError(f"{where}: delimiter and quote are both {quote!r}; the quote "
                          "character encloses values that hold the delimiter")
    skip_rows = 0 if settings.get("skip_rows") is None else settings["skip_rows"]
    if isinstance(skip_rows, bool) or not isinstance(skip_rows, int) or skip_rows < 0:
        raise ConfigError(f"{where}.skip_rows: {skip_rows!r}; write the number of lines "
                          "before the header row (0 or more)")
    return {"delimiter": delimiter, "quote": quote, "skip_rows": skip_rows}


def _find_file(folder: Path, name: str) -> Path:
    """``folder / name``; a differently cased name counts (Opportunity.csv, opportunity.csv).

    A name with ``*`` or ``?`` is a pattern (HubSpot dates its exports:
    ``hubspot-crm-exports-all-deals-*.csv``): it must match one file; several stop with
    their names.
    """
    path = folder / name
    if path.exists() or not folder.is_dir():
        return path
    if any(ch in name for ch in "*?["):
        matches = sorted(p for p in folder.iterdir() if fnmatch.fnmatch(p.name.lower(),
                                                                        name.lower()))
        if len(matches) > 1:
            raise ConfigError(f"{name!r} matches {len(matches)} files in {folder}: "
                              f"{', '.join(p.name for p in matches)}; keep one, or name it")
        return matches[0] if matches else path
    matches = [p for p in folder.iterdir() if p.name.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else path


def _list(value, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list")
    return value


def _strings(value, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
        raise ConfigError(f"{where}: expected a value or a list of values; got {value!r}")
    return [_yaml_text(v) for v in value]


def _yaml_text(value) -> str:
    """A YAML scalar as the text an export would hold (YAML reads `yes` as True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column_spec(value, where: str) -> ColumnSpec:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return ColumnSpec(column=str(value))
    if isinstance(value, list):
        value = {"column": value}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a source column name or a mapping with "
                          f"`column` (and `values`, `default`) or `value`; got {value!r}")
    bad = set(value) - set(COLUMN_KEYS)
    if bad:
        raise ConfigError(f"{where}: unknown setting(s) {sorted(map(str, bad))}; valid: "
                          f"{', '.join(COLUMN_KEYS)}")
    if "value" in value:
        if set(value) - {"value"}:
            raise ConfigError(f"{where}: a constant (`value`) takes no other setting")
        constant = value["value"]
        if isinstance(constant, (dict, list)):
            raise ConfigError(f"{where}.value: expected one value; got {constant!r}")
        return ColumnSpec(constant=None if constant is None else _yaml_text(constant),
                          is_constant=True)
    if "column" not in value:
        raise ConfigError(f"{where}: name the source `column` (or give a constant `value`)")
    values = value.get("values")
    if values is not None:
        if not isinstance(values, dict) or not values:
            raise ConfigError(f"{where}.values: expected a mapping of source values to "
                              "canonical values")
        if any(isinstance(v, (dict, list)) for v in values.values()):
            raise ConfigError(f"{where}.values: each source value maps to one value")
        values = {_yaml_text(k): (None if v is None else _yaml_text(v))
                  for k, v in values.items()}
    elif "default" in value:
        raise ConfigError(f"{where}.default: a default applies to values a `values` map "
                          "does not name; add `values`")
    default = value.get("default")
    column = value["column"]
    alternatives = ()
    if isinstance(column, list):
        if not column or any(isinstance(c, (dict, list)) for c in column):
            raise ConfigError(f"{where}.column: a column name, or a list of column names "
                              "(per row, the first with a value)")
        alternatives = tuple(str(c) for c in column)
        column = column[0]
    optional = value.get("optional", False)
    if not isinstance(optional, bool):
        raise ConfigError(f"{where}.optional: use true or false")
    return ColumnSpec(column=str(column), alternatives=alternatives, values=values,
                      optional=optional,
                      default=None if default is None else _yaml_text(default),
                      has_default="default" in value)


def _test(rule: dict, column: str, where: str) -> Test | None:
    ops = [k for k in TESTS if k in rule]
    if len(ops) > 1:
        raise ConfigError(f"{where}: one test per rule; got {', '.join(ops)}")
    if not ops:
        return None
    op = ops[0]
    arg = rule[op]
    if op == "in":
        arg = _strings(arg, f"{where}.in")
        if not arg:
            raise ConfigError(f"{where}.in: list at least one value")
    elif op == "negative":
        if arg is not True:
            raise ConfigError(f"{where}.negative: write `negative: true`")
    else:
        if isinstance(arg, (dict, list)) or arg is None:
            raise ConfigError(f"{where}.{op}: expected one value; got {arg!r}")
        arg = _yaml_text(arg)
        if op == "matches":
            try:
                re.compile(arg)
            except re.error as exc:
                raise ConfigError(f"{where}.matches: {arg!r} is not a regular expression "
                                  f"({exc})") from None
    for flag in ("ignore_case", "optional"):
        if not isinstance(rule.get(flag, False), bool):
            raise ConfigError(f"{where}.{flag}: use true or false")
    return Test(column=column, op=op, arg=arg, ignore_case=rule.get("ignore_case", False),
                optional=rule.get("optional", False))


def _status_rules(value, table: str, where: str) -> list[StatusRule]:
    where = f"{where}.status_rules"
    rules = _list(value, where)
    if rules and table not in STATUS_TABLES:
        raise ConfigError(f"{where}: {table} has no status; status rules apply to "
                          f"{', '.join(STATUS_TABLES)}")
    out = []
    for i, rule in enumerate(rules):
        at = f"{where}[{i}]"
        if not isinstance(rule, dict) or "column" not in rule or "status" not in rule:
            raise ConfigError(f"{at}: each rule needs `column`, `status` and one of "
                              f"{', '.join(TESTS)}; got {rule!r}")
        bad = set(rule) - STATUS_RULE_KEYS
        if bad:
            raise ConfigError(f"{at}: unknown setting(s) {sorted(map(str, bad))}; valid: "
                              f"{', '.join(sorted(STATUS_RULE_KEYS))}")
        test = _test(rule, str(rule["column"]), at)
        if test is None:
            raise ConfigError(f"{at}: name a test: one of {', '.join(TESTS)}")
        status = _yaml_text(rule["status"])
        if table == "orders" and status not in ORDER_STATUSES:
            raise ConfigError(f"{at}: status {status!r}; use one of "
                              f"{', '.join(ORDER_STATUSES)}")
        out.append(StatusRule(test=test, status=status))
    return out


def _rules(value, table: str, where: str) -> list[Rule]:
    where = f"{where}.rules"
    if value is None:
        return []
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping of column: rule "
                          "({unit_price: {min: 0}})")
    out = []
    for column, items in value.items():
        for i, rule in enumerate(items if isinstance(items, list) else [items]):
            at = f"{where}.{column}" + (f"[{i}]" if isinstance(items, list) else "")
            if not isinstance(rule, dict):
                raise ConfigError(f"{at}: expected a mapping such as {{min: 0}} or "
                                  "{equals: X, quarantine: reason}")
            bad = set(rule) - RULE_KEYS
            if bad:
                raise ConfigError(f"{at}: unknown setting(s) {sorted(map(str, bad))}; valid: "
                                  f"{', '.join(sorted(RULE_KEYS))}")
            column_name = TABLES[table].canonical_name(str(column)) or str(column)
            test = _test(rule, column_name, at)
            ranged = {"min", "max", "exclusive"} & set(rule)
            actions = [k for k in ("quarantine", "flag") if k in rule]
            if test is None:
                if not ranged - {"exclusive"}:
                    raise ConfigError(f"{at}: give a range (min, max) or a test (one of "
                                      f"{', '.join(TESTS)}) with `quarantine` or `flag`")
                if actions:
                    raise ConfigError(f"{at}: a range quarantines what falls outside it; "
                                      f"`{actions[0]}` applies to tests")
                for bound in ("min", "max"):
                    if bound in rule and (isinstance(rule[bound], bool)
                                          or not isinstance(rule[bound], (int, float))
                                          or not math.isfinite(rule[bound])):
                        raise ConfigError(f"{at}.{bound}: {rule[bound]!r} is not a number; "
                                          "write a finite bound such as 0")
                out.append(Rule(column=column_name, min=rule.get("min"), max=rule.get("max"),
                                exclusive=bool(rule.get("exclusive", False)),
                                optional=bool(rule.get("optional", False))))
                continue
            if ranged:
                raise ConfigError(f"{at}: a rule is a range or a test, not both")
            if len(actions) != 1:
                raise ConfigError(f"{at}: say what happens to matching rows: `quarantine: "
                                  "reason` or `flag: name` (one of them)")
            label = str(rule[actions[0]]).strip()
            if not label:
                raise ConfigError(f"{at}.{actions[0]}: give a reason or flag name")
            if actions[0] == "flag" and not re.fullmatch(r"[a-z][a-z0-9_]*", label):
                raise ConfigError(f"{at}.flag: {label!r}; a flag is a short snake_case name")
            out.append(Rule(column=column_name, test=test, optional=test.optional,
                            **{actions[0]: label}))
    return out


def _lookup(item, i: int, where: str, source: str, settings: dict) -> Lookup | None:
    at = f"{where}.lookups[{i}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{at}: expected a mapping with `file` and `key`")
    if True in item:  # YAML 1.1 reads the key `on` as the boolean true
        item = {("on" if k is True else k): v for k, v in item.items()}
    bad = set(item) - LOOKUP_KEYS
    if bad:
        raise ConfigError(f"{at}: unknown setting(s) {sorted(map(str, bad))}; valid: "
                          f"{', '.join(sorted(LOOKUP_KEYS))}")
    if "key" not in item or not ({"file", "table"} & set(item)):
        raise ConfigError(f"{at}: a lookup needs `file` (or `table` in a database) and `key`")
    key = str(item["key"])
    match = item.get("match", "exact")
    if match not in ("exact", "loose"):
        raise ConfigError(f"{at}.match: {match!r}; use exact or loose")
    columns = item.get("columns")
    if isinstance(columns, list):
        columns = {str(c): str(c) for c in columns}
    elif isinstance(columns, dict):
        columns = {str(k): str(v) for k, v in columns.items()}
    elif columns is not None:
        raise ConfigError(f"{at}.columns: a list of the lookup's columns, or a mapping "
                          "new name: lookup column")
    optional = item.get("optional", False)
    pick = item.get("pick")
    if pick is not None:
        if not (isinstance(pick, dict) and len(pick) == 1
                and next(iter(pick)) in ("first", "last") and next(iter(pick.values()))):
            raise ConfigError(f"{at}.pick: {pick!r}; when the key repeats in the lookup, keep "
                              "one row per key: `pick: {first: COLUMN}` (the earliest by "
                              "COLUMN) or `pick: {last: COLUMN}`")
        pick = (next(iter(pick)), str(next(iter(pick.values()))))
    file = table = None
    kind = source_kind(source)
    if "file" in item:
        folder = Path(source) if kind == "folder" else Path(source).parent
        file = _find_file(folder, str(item["file"]))
        if not file.exists():
            if optional:
                return None
            raise ConfigError(f"{at}: lookup file not found: {file}")
        name = item.get("name") or table_name_of(file)
    else:
        table = str(item["table"])
        name = item.get("name") or table.split(".")[-1]
    read = {k: settings[k] for k in READ_KEYS if k in settings}
    read.update({k: item[k] for k in (*READ_KEYS, "sheet", "format") if k in item})
    _csv_dialect(read, at)
    return Lookup(name=_snake_word(str(name)), key=key, on=str(item.get("on", key)), file=file,
                  table=table, columns=columns, match=match, optional=bool(optional),
                  read=read, pick=pick)


def _snake_word(name: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    return re.sub(r"[^0-9A-Za-z]+", "_", s).strip("_").lower() or "lookup"


def discover_tables(source: str | Path, spark: SparkSettings | None = None) -> IngestConfig:
    """A config for a source whose tables and columns already carry canonical names (a
    lake path is listed through Spark, started with ``spark``)."""
    source = str(source)
    kind = source_kind(source)
    if kind in ("duckdb", "postgresql"):
        # The database's table list is read at ingest time; every canonical name is tried.
        return IngestConfig(source=source, tables={
            name: TableConfig(name=name, table=name) for name in TABLES})
    if kind == "uri":
        from crmkit.spark import list_folder

        return _discovered(source, [(Path(name), f"{source.rstrip('/')}/{name}")
                                    for name in list_folder(source, spark)])
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
    return _discovered(source, [(file, None) for file in sorted(path.iterdir())])


def _discovered(source: str, entries: list[tuple[Path, str | None]]) -> IngestConfig:
    """The tables among a folder's entries (file, its URI in a lake or None), by name."""
    tables: dict[str, TableConfig] = {}
    for file, uri in entries:
        name, fmt = table_name_of(file), file_format(file)
        if fmt is None or name not in TABLES:
            continue
        if name in tables:
            raise SourceError(f"two files for table {name} in {source}: "
                              f"{tables[name].file.name} and {file.name}; keep one")
        tables[name] = TableConfig(name=name, file=file, format=fmt, uri=uri)
    return IngestConfig(source=source, tables=tables)
