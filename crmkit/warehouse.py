"""The warehouse: canonical tables behind ibis, an embedded DuckDB file by default.

A warehouse folder holds
    warehouse.duckdb   canonical tables (see crmkit.schema) plus ``rejects``
    audit.json         the ingest accounting (rows in / kept / flagged / quarantined)
    rejects.csv        every quarantined row with its reason

or, ingested with ``engine: spark`` (the audit says ``"engine": "spark"``),
    audit.json         the same accounting
    tables/            the canonical tables and ``rejects`` as Parquet folders (or, when the
                       config's warehouse is a lake URI, the audit's ``tables_location``)
which :meth:`Warehouse.open` opens through ibis' PySpark backend: the same ibis
expressions, computed by Spark.

Canonical tables carry two bookkeeping columns besides the contract's:
``source_row`` (1-based row number in the source table) and ``flags`` (NULL, or
';'-joined flags such as ``return;no_customer`` for rows kept with a flag).
Source columns the mapping did not name are kept as extra (attribute) columns.
"""

from __future__ import annotations

import json
import threading
import uuid
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pandas as pd

from crmkit.compiled import install as install_compiled
from crmkit.exceptions import WarehouseError
from crmkit.kept import Kept
from crmkit.schema import TABLES

# ibis 12 reads pandas' deprecated `future.infer_string` option on every pandas round trip.
# The warning is about ibis, not about the caller's code, and would reach a report's stderr.
warnings.filterwarnings("ignore", message="The 'future.infer_string' option is deprecated",
                        module=r"ibis\.formats\.pandas")

DB_FILE = "warehouse.duckdb"
AUDIT_FILE = "audit.json"
REJECTS_FILE = "rejects.csv"
BOOKKEEPING = ("source_row", "flags")
RESULTS_KEPT = 512  # query results a warehouse keeps (LRU): reports ask the same things often
RESULT_ROWS_KEPT = 200_000  # a larger result is not kept
EXPRESSIONS_KEPT = 256  # built table expressions a warehouse keeps (filtered tables)

# The open warehouse of each ibis connection, for :func:`execute` (weak: closing or dropping
# a warehouse forgets it).
_OPEN: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_NOT_KEPT = object()


class Warehouse:
    """Canonical CRM tables on one ibis backend (DuckDB file, PostgreSQL, in-memory).

    The connection's ``compile`` is replaced by one that reuses compiled query shapes
    (:mod:`crmkit.compiled`); its SQL is the same.
    """

    def __init__(self, con, audit: dict | None = None, location: str = "memory"):
        self.con = con
        self.audit = audit or {}
        self.location = location
        self._table_names: set[str] | None = None
        self._tables: dict[str, ibis.Table] = {}
        self._results = Kept(RESULTS_KEPT)
        self._results_lock = threading.Lock()
        self._expressions = Kept(EXPRESSIONS_KEPT)
        # kept_table: name -> (temporary table name, or None where not created; table)
        self._temporary: dict[str, tuple[str | None, ibis.Table]] = {}
        self._temporary_lock = threading.Lock()
        # A query for another region or period compiles from the SQL of the same shape.
        self.compiled = install_compiled(con)
        _OPEN[id(con)] = self

    # -- construction -------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | Path, read_only: bool = True) -> Warehouse:
        """Open a warehouse folder written by ``crmkit ingest`` (DuckDB, or Spark's
        Parquet tables when its audit says ``engine: spark``)."""
        folder = Path(folder)
        audit_path = folder / AUDIT_FILE
        audit = json.loads(audit_path.read_text()) if audit_path.exists() else {}
        if audit.get("engine") == "spark":
            return cls._open_spark(folder, audit)
        db = folder / DB_FILE
        if not db.exists():
            raise WarehouseError(
                f"no warehouse at {folder}: {DB_FILE} is missing. "
                "Run `crmkit ingest --source DIR --warehouse "
                f"{folder}` first.")
        try:
            con = ibis.duckdb.connect(str(db), read_only=read_only)
        except duckdb.Error as exc:
            raise WarehouseError(
                f"cannot open the warehouse {db}: {str(exc).splitlines()[0]} Rebuild it with "
                "`crmkit ingest --force`.") from None
        return cls(con, audit, str(folder))

    @classmethod
    def _open_spark(cls, folder: Path, audit: dict) -> Warehouse:
        """The Parquet tables of a Spark ingest as views of a Spark session of their own,
        started with the `spark:` settings of the config the audit names."""
        from crmkit.config import read_spark_settings
        from crmkit.spark import exists, session

        settings = read_spark_settings(audit.get("config"))
        location = spark_tables_location(folder, audit)
        if not exists(location, settings):
            raise WarehouseError(f"no warehouse tables at {location}: ingest again "
                                 "(`crmkit ingest --force`)")
        spark = session(settings).newSession()
        con = ibis.pyspark.connect(spark)
        for name in [*audit.get("tables", {}), "rejects"]:
            con.read_parquet(f"{location}/{name}", table_name=name)
        warehouse = cls(con, audit, str(folder))
        warehouse.spark_session = spark  # its views go on close(); the session stays
        return warehouse

    @classmethod
    def from_frames(cls, frames: dict[str, pd.DataFrame], con=None) -> Warehouse:
        """A warehouse from pandas frames with canonical columns (tests, notebooks).

        ``con`` is any ibis backend (default: a new in-memory DuckDB).
        """
        con = con if con is not None else ibis.duckdb.connect()
        for name, frame in frames.items():
            # A column with no value at all has no type to create; text is the safe one.
            empty = [c for c in frame.columns
                     if frame[c].dtype == object and frame[c].isna().all()]
            con.create_table(name, frame.astype({c: "string" for c in empty}), overwrite=True)
        if con.name == "postgres":
            # Fresh tables have no planner statistics: without them PostgreSQL picks nested
            # loops for the customer joins (seconds instead of milliseconds).
            con.raw_sql("ANALYZE")
        return cls(con)

    # -- access -------------------------------------------------------------------
    def _names(self) -> set[str]:
        # A warehouse is read, not written, while reports use it: list its tables once.
        if self._table_names is None:
            self._table_names = set(self.con.list_tables())
        return self._table_names

    def has(self, name: str) -> bool:
        return name in self._names()

    def tables(self) -> list[str]:
        present = self._names()
        return [t for t in TABLES if t in present]

    def table(self, name: str) -> ibis.Table:
        if not self.has(name):
            raise WarehouseError(
                f"the warehouse at {self.location} has no table {name!r}; "
                f"it has: {', '.join(self.tables()) or 'none'}")
        # ibis asks the backend for the schema on every con.table() (a few ms each).
        if name not in self._tables:
            self._tables[name] = self.con.table(name)
        return self._tables[name]

    def expression(self, key, build: Callable[[], ibis.Expr]) -> ibis.Expr:
        """The expression ``build()`` makes, built once per ``key`` (LRU,
        :data:`EXPRESSIONS_KEPT`): the filtered tables that most KPIs of a view start from
        (~1-2 ms of ibis per build). ibis expressions are immutable, so sharing is safe."""
        with self._results_lock:
            kept = self._expressions.get(key)
        if kept is None:
            kept = build()
            with self._results_lock:
                self._expressions[key] = kept
        return kept

    def kept_table(self, name: str, build: Callable[[], ibis.Table]) -> ibis.Table:
        """``build()``, a table that no filter changes (e.g. each customer's first
        purchase over all history), computed once into a temporary table of this
        connection; queries read that instead of computing it again. A backend that
        refuses temporary tables gets the expression itself. Dropped by
        :meth:`clear_cache`, and with the connection."""
        with self._temporary_lock:
            if name not in self._temporary:
                expr = build()
                temp = f"crmkit_{name}_{uuid.uuid4().hex[:8]}"
                try:
                    if self.con.name == "pyspark":
                        # ibis has no temporary tables on Spark: a temporary view, cached
                        # (CACHE TABLE computes it now and keeps it in the executors).
                        self.con.create_view(temp, expr, overwrite=True)
                        self.con.raw_sql(f"CACHE TABLE `{temp}`")
                    else:
                        self.con.create_table(temp, expr, temp=True)
                    self._temporary[name] = (temp, self.con.table(temp))
                except Exception:  # e.g. no TEMP privilege: the query computes it each time
                    self._temporary[name] = (None, expr)
            return self._temporary[name][1]

    def execute(self, expr) -> pd.DataFrame | pd.Series | object:
        """Run an ibis expression of this warehouse and return its pandas result.

        Results are kept per query (the expression's structure, literals included; LRU,
        :data:`RESULTS_KEPT`): a report and a filter panel ask for the same aggregate
        under several KPIs (revenue, orders and AOV share one query), and ibis spends more
        time compiling a query than DuckDB running it on a report's data. The caller gets
        its own copy. A warehouse is read, not written, while it is open; after changing
        its tables call :meth:`clear_cache`.
        """
        key = expr.op()
        with self._results_lock:
            kept = self._results.get(key, _NOT_KEPT)
        if kept is not _NOT_KEPT:
            return _copy(kept)
        result = in_microseconds(expr.execute())
        if not isinstance(result, (pd.DataFrame, pd.Series)) or len(result) <= RESULT_ROWS_KEPT:
            with self._results_lock:
                self._results[key] = result
            return _copy(result)
        return result

    def clear_cache(self) -> None:
        """Forget table schemas, the table list, kept results and kept tables (after
        writing tables)."""
        with self._results_lock:
            self._results.clear()
            self._expressions.clear()
        with self._temporary_lock:
            for temp, _ in self._temporary.values():
                if temp is None:
                    continue
                if self.con.name == "pyspark":
                    self.con.raw_sql(f"UNCACHE TABLE IF EXISTS `{temp}`")
                    self.con.raw_sql(f"DROP VIEW IF EXISTS `{temp}`")
                else:
                    self.con.drop_table(temp, force=True)
            self._temporary.clear()
        self._tables.clear()
        self._table_names = None

    def attributes(self, name: str) -> list[str]:
        """Columns of ``name`` that are neither canonical nor bookkeeping."""
        canonical = set(TABLES[name].column_names) | set(BOOKKEEPING)
        return [c for c in self.table(name).columns if c not in canonical]

    def close(self) -> None:
        with self._temporary_lock:  # temporary tables go with the connection: no DROP
            self._temporary.clear()
        self.clear_cache()
        if _OPEN.get(id(self.con)) is self:
            del _OPEN[id(self.con)]
        if self.con.name == "pyspark":
            # ibis' disconnect stops the SparkSession, and with it the process's Spark
            # context, which other warehouses may share: drop this one's views instead.
            spark = getattr(self, "spark_session", None)
            for table in spark.catalog.listTables() if spark is not None else []:
                if table.isTemporary:
                    spark.catalog.dropTempView(table.name)
            return
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect:
            disconnect()


def spark_tables_location(folder: str | Path, audit: dict) -> str:
    """Where the Parquet tables of a Spark ingest are: a lake URI, or a folder in the
    warehouse folder (relative, so that the folder can move)."""
    from crmkit.spark import is_uri

    location = audit.get("tables_location") or "tables"
    return location if is_uri(location) else str(Path(folder) / location)


def _copy(result):
    return result.copy() if isinstance(result, (pd.DataFrame, pd.Series)) else result


def execute(expr):
    """Run an ibis expression through the warehouse of its connection (its kept results,
    see :meth:`Warehouse.execute`), or plainly when no warehouse wraps that connection."""
    wh = _OPEN.get(id(expr._find_backend()))
    return wh.execute(expr) if wh is not None else in_microseconds(expr.execute())


def in_microseconds(result):
    """``result`` (a frame, series or scalar) with its datetimes in microseconds, the unit
    of SQL timestamps.

    DuckDB and PostgreSQL results hold datetime64[us]; ibis' PySpark backend returns
    datetime64[ns] (Spark's toPandas). The same KPI gives the same frame on every backend.
    """
    if isinstance(result, pd.Timestamp):
        return result.as_unit("us") if result.unit == "ns" else result
    if isinstance(result, pd.Series):
        target = _in_microseconds(result.dtype)
        return result if target is None else result.astype(target)
    if isinstance(result, pd.DataFrame):
        targets = {c: _in_microseconds(dtype) for c, dtype in result.dtypes.items()}
        targets = {c: target for c, target in targets.items() if target is not None}
        if targets:
            return result.astype(targets)
    return result


def _in_microseconds(dtype):
    """The microsecond dtype for a nanosecond datetime ``dtype``; None for any other."""
    if isinstance(dtype, pd.DatetimeTZDtype):
        return pd.DatetimeTZDtype("us", dtype.tz) if dtype.unit == "ns" else None
    if isinstance(dtype, np.dtype) and dtype.kind == "M" and np.datetime_data(dtype)[0] == "ns":
        return np.dtype("datetime64[us]")
    return None
