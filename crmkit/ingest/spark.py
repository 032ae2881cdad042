"""Ingest on Spark (``engine: spark``): the same rules and audit as on DuckDB, for Parquet
tables in a folder or a lake, written back as Parquet.

The rules are not written twice. crmkit.ingest.clean plans DuckDB SQL in three steps
(:class:`crmkit.ingest.clean.TablePlan`), and here each runs where it belongs:

    Parquet source --(Spark: read, number the rows)--> staged rows
      -> row checks      the plan's DuckDB SQL, run by DuckDB inside Spark's Python
                         workers on each partition's Arrow batches (mapInArrow): parsing,
                         mapping, derivations, status, every row rule
      -> duplicates      the plan's window, transpiled to Spark SQL (sqlglot), over the
                         whole table
      -> orphans         a Spark join with the parent tables' kept keys
      -> judged          the plan's DuckDB SQL again per batch: the reason, the flags, the
                         raw record of a quarantined row
      -> scored rows (Parquet, in the work folder) -> the canonical table and its rejects

The audit's counts, control totals and checks (value maps, stages, numeric attributes,
currencies) are the DuckDB path's own queries, transpiled to Spark SQL (:class:`SparkSQL`).
Parsing stays DuckDB's, so a date, a number or an offset reads the same on both engines,
and only small results reach the driver. Side files (exchange rates, lookup files) are
read on the driver with the DuckDB readers and sent to the workers with the batches'
SQL: they are small by nature.

The warehouse folder gets ``audit.json``; the tables and the rejects go, as Parquet
folders, to ``<warehouse>/tables/`` (or to the lake URI the config's ``warehouse`` names):
``tables/<table>/`` and ``tables/rejects/table_name=<table>/``.
"""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
import sqlglot
import sqlglot.expressions as sge

from crmkit.config import IngestConfig, TableConfig
from crmkit.exceptions import SourceError
from crmkit.ingest.clean import Orphan, _check_stages, _check_value_maps, plan_table
from crmkit.ingest.currency import convert_amounts, load_rates
from crmkit.ingest.lookups import join_lookups
from crmkit.ingest.readers import json_text_select, quote
from crmkit.spark import exists, is_uri, listing, remove, rename, session

TABLES_FOLDER = "tables"  # in the warehouse folder: the Parquet tables of a Spark ingest
REJECTS = "rejects"
ROWS_PER_BATCH = 10_000  # rows DuckDB hands back to Spark at a time


def spark_sql(sql: str) -> str:
    """crmkit's DuckDB SQL as Spark SQL: sqlglot's transpiler, plus the DuckDB functions it
    leaves as they are (``isfinite``)."""
    tree = sqlglot.parse_one(sql, read="duckdb")

    def rewrite(node):
        if isinstance(node, sge.Anonymous) and str(node.this).lower() == "isfinite":
            x = node.expressions[0]
            # NULL stays NULL, as DuckDB's isfinite(NULL).
            return sge.not_(sge.paren(sge.or_(
                sge.func("isnan", x.copy()),
                sge.EQ(this=sge.func("abs", x.copy()),
                       expression=sge.cast(sge.Literal.string("Infinity"), "double")))))
        return node

    return tree.transform(rewrite).sql(dialect="spark")


class SparkSQL:
    """A connection-like object: ``execute(duckdb_sql)`` runs the query on Spark and
    returns its (small) result with ``fetchone`` / ``fetchall``."""

    def __init__(self, spark):
        self.spark = spark

    def execute(self, sql: str) -> _Rows:
        return _Rows([tuple(r) for r in self.spark.sql(spark_sql(sql)).collect()])


class _Rows:
    def __init__(self, rows: list[tuple]):
        self.rows = rows

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple]:
        return self.rows


def _local_duckdb() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # as ingest's own connection (crmkit.ingest)
    con.execute("SET enable_progress_bar = false")
    return con


def rowwise(df, sql: str, side: dict | None = None):
    """``sql`` (DuckDB SQL reading the relation ``batch``, and the small ``side`` tables:
    name -> pyarrow Table) over every partition of the Spark DataFrame ``df``, in DuckDB
    inside Spark's Python workers; the result as a Spark DataFrame. The SQL must read
    ``batch`` once and keep to each row (no window, no ORDER BY over it)."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    side = side or {}
    # The result's schema, from the same SQL over no rows.
    with _local_duckdb() as con:
        for name, table in side.items():
            con.register(name, table)
        con.register("batch", to_arrow_schema(df.schema).empty_table())
        out = con.execute(sql).fetch_record_batch().schema
    out = pa.schema([field.with_nullable(True) for field in out])
    shipped = df.sparkSession.sparkContext.broadcast(
        {name: _ipc(table) for name, table in side.items()})

    def run(batches):
        import duckdb as duck
        import pyarrow as arrow

        first = next(batches, None)
        if first is None:
            return
        with duck.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET threads = 1")  # Spark runs one task per core already
            for name, blob in shipped.value.items():
                con.register(name, arrow.ipc.open_stream(blob).read_all())
            con.register("batch", arrow.RecordBatchReader.from_batches(
                first.schema, itertools.chain([first], batches)))
            for batch in con.execute(sql).fetch_record_batch(ROWS_PER_BATCH):
                yield batch.cast(out)

    return df.mapInArrow(run, from_arrow_schema(out, prefer_timestamp_ntz=True))


def _ipc(table) -> bytes:
    import pyarrow as pa

    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


class SparkLoader:
    """Loads tables with Spark into Parquet (see crmkit.ingest.ingest, which drives it as
    it drives the DuckDB loader)."""

    def __init__(self, config: IngestConfig, folder: Path, tmp: Path):
        self.config = config
        # A session of its own: its temporary views (scored_orders ...) stay here.
        self.spark = session(config.spark).newSession()
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")
        self.sql = SparkSQL(self.spark)
        self.local = _local_duckdb()  # side files: rates, lookups
        self.tmp = tmp
        self.rates = load_rates(self.local, config, tmp)
        if config.tables_uri:
            self.final = config.tables_uri
            self.base = f"{config.tables_uri}.ingest-{uuid.uuid4().hex[:8]}"
        else:
            self.final = str(folder / TABLES_FOLDER)
            self.base = str(tmp / "spark")
        self.work = f"{self.base}/{TABLES_FOLDER}"
        self.scratch = f"{self.base}/scratch"
        self.loaded: dict[str, str] = {}  # table -> its kept rows' view
        self._cached: list = []  # materialized frames held in memory while in use

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.local.close()
        if is_uri(self.base):
            remove(self.base, self.config.spark)

    # -- one table ----------------------------------------------------------------------
    def load(self, name: str, spec: TableConfig, source: dict) -> tuple[dict, dict]:
        from crmkit.ingest import kept_columns, numeric_attributes, table_record

        staged, nested = self._stage(spec)
        joined, lookups = {}, []
        if spec.lookups:
            staged, joined, lookups = self._join_lookups(spec, staged)
        staged.createOrReplaceTempView(f"stage_{name}")
        plan = plan_table(spec, ["__row", *(c for c in staged.columns if c != "__row")],
                          self.loaded, joined)
        built = plan.built
        checked = rowwise(staged, f"WITH stage AS ({json_text_select(nested, 'batch')}), "
                                  f"{plan.checked('stage')} SELECT * FROM checked")
        checked.createOrReplaceTempView(f"checked_{name}")
        deduped = self.spark.sql(spark_sql(
            f"SELECT *, {plan.duplicate} AS __reason2 FROM checked_{name}"))
        for i, ref in enumerate(plan.orphans):
            deduped = self._mark_orphans(deduped, ref, f"__orphan{i}")
        marks = {ref: f"__orphan{i}" for i, ref in enumerate(plan.orphans)}
        scored = rowwise(deduped, "WITH " + plan.judged("batch", lambda ref: marks[ref]))
        scored = self._materialize(scored, f"scored_{name}")
        _check_value_maps(self.sql, spec, f"stage_{name}", built.mapping)
        if spec.stages:
            _check_stages(self.sql, spec)
        money = convert_amounts(self.sql, name, built, self.rates, self.config.currency,
                                rewrite=lambda select, rates: self._rewrite(name, select, rates))
        kept_rows = f"(SELECT * FROM scored_{name} WHERE __reason IS NULL) AS kept"
        typed = numeric_attributes(self.sql, kept_rows, list(built.mapping.attributes))
        columns = [f"TRY_CAST(trim(CAST({quote(c)} AS VARCHAR)) AS {typed[c]}) AS {quote(c)}"
                   if c in typed else quote(c)
                   for c in kept_columns(name, built)]
        # In source order within each part (a global sort would cost a pass of its own).
        kept = self.spark.sql(spark_sql(f"SELECT {', '.join(columns)} FROM scored_{name} "
                                        f"WHERE __reason IS NULL")).sortWithinPartitions(
            "source_row")
        kept.write.mode("overwrite").parquet(f"{self.work}/{name}")
        rejects = self.spark.sql(spark_sql(
            f"SELECT source_row, __reason AS reason, __record AS record FROM scored_{name} "
            f"WHERE __reason IS NOT NULL")).sortWithinPartitions("source_row")
        rejects.write.mode("overwrite").parquet(self._rejects_of(name))
        self.spark.read.schema(kept.schema).parquet(f"{self.work}/{name}") \
            .createOrReplaceTempView(f"kept_{name}")
        self.loaded[name] = f"kept_{name}"
        record = table_record(self.sql, name, spec, built, f"scored_{name}", source, money,
                              typed)
        if lookups:
            record["lookups"] = lookups
        for view in (f"stage_{name}", f"checked_{name}", f"scored_{name}"):
            self.spark.catalog.dropTempView(view)
        while self._cached:
            self._cached.pop().unpersist()
        return record, money

    def _stage(self, spec: TableConfig):
        """The table's rows as Spark reads them, numbered from 1 in file order (by file
        name, then row within the file: ``__row``), and its nested columns (lists,
        structs, maps: read as their JSON text, as DuckDB's reader does)."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import ArrayType, MapType, StructType

        location = spec.location
        try:
            df = self.spark.read.parquet(location)
        except Exception as exc:  # AnalysisException: not Parquet, no such path
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SourceError(f"{spec.name}: {spec.label} is not a readable Parquet file or "
                              f"folder ({first})") from None
        columns = df.columns
        if "__row" in columns:
            raise SourceError(f"{spec.name}: {spec.label} has a column named __row, which "
                              "crmkit uses for the row number; rename it")
        nested = [f.name for f in df.schema.fields
                  if isinstance(f.dataType, (ArrayType, MapType, StructType))]
        meta = df.select("*", F.col("_metadata.file_path").alias("__file"),
                         F.col("_metadata.row_index").alias("__index"))
        if len(listing(location, self.config.spark)) <= 1:
            row = F.col("__index") + 1
        else:  # a folder of parts: rows continue from the previous file's last
            counts = dict(meta.groupBy("__file").count().collect())
            offsets, total = {}, 0
            for f in sorted(counts):
                offsets[f], total = total, total + counts[f]
            row = F.col("__index") + 1 + F.create_map(
                *itertools.chain.from_iterable((F.lit(f), F.lit(o)) for f, o in offsets.items())
            )[F.col("__file")]
        staged = meta.select(row.cast("bigint").alias("__row"),
                             *(F.col(f"`{c}`") for c in columns))
        return staged, nested

    def _mark_orphans(self, df, ref: Orphan, mark: str):
        """``df`` with ``mark``: true where ``ref.column`` names a key the parent's kept
        rows lack (NULL references are no orphans)."""
        from pyspark.sql import functions as F

        keys = self.spark.table(self.loaded[ref.parent]).select(
            F.col(f"`{ref.parent_key}`").alias("__parent_key")).distinct()
        joined = df.join(keys, F.col(f"`{ref.column}`") == F.col("__parent_key"), "left")
        return joined.withColumn(mark, F.col(f"`{ref.column}`").isNotNull()
                                 & F.col("__parent_key").isNull()).drop("__parent_key")

    def _materialize(self, df, view: str):
        """Write ``df`` to the scratch folder and read it back as ``view``: the audit's
        queries read it several times and must not run the checks again."""
        path = f"{self.scratch}/{view}"
        df.write.mode("overwrite").parquet(path)
        out = self.spark.read.schema(df.schema).parquet(path).cache()
        out.createOrReplaceTempView(view)
        self._cached.append(out)
        return out

    def _rewrite(self, name: str, select: str, rates_table: str | None) -> None:
        """scored_<name> replaced by ``select`` (DuckDB SQL over it, per row: a currency
        conversion), with the dated rates as a side table when it reads them."""
        side = {}
        if rates_table:
            side[rates_table] = self.local.execute(
                f"SELECT * FROM {rates_table}").fetch_arrow_table()
        view = f"scored_{name}"
        rewritten = rowwise(self.spark.table(view), select.replace(view, "batch"), side)
        self._materialize(rewritten, f"{view}_converted")
        self.spark.table(f"{view}_converted").createOrReplaceTempView(view)

    def _join_lookups(self, spec: TableConfig, staged):
        """The stage with the lookups' columns, the joined columns and the lookups' audit
        records: each lookup file read and checked on the driver (crmkit.ingest.lookups,
        as on DuckDB), joined to the rows on the workers."""
        tables = _SparkTables(self, staged, f"lookup_stage_{spec.name}")
        _, joined, records = join_lookups(self.local, spec, f"lookup_stage_{spec.name}",
                                          self.config.source, self.tmp, tables=tables)
        return tables.frame, joined, records

    def _rejects_of(self, name: str) -> str:
        return f"{self.work}/{REJECTS}/table_name={name}"

    # -- the whole ingest ------------------------------------------------------------------
    def drop(self, name: str) -> None:
        remove(f"{self.work}/{name}", self.config.spark)
        remove(self._rejects_of(name), self.config.spark)
        self.spark.catalog.dropTempView(f"kept_{name}")
        self.loaded.pop(name, None)

    def derive_customers(self) -> dict:
        from crmkit.ingest import derived_customers, derived_customers_record

        select, columns = derived_customers(self.spark.table("kept_orders").columns,
                                            "kept_orders")
        self.spark.sql(spark_sql(select)).write.mode("overwrite").parquet(
            f"{self.work}/customers")
        n = self.spark.read.parquet(f"{self.work}/customers").count()
        return derived_customers_record(n, columns)

    def finish(self) -> None:
        """Nothing left to write: each table wrote its rejects (Spark writes an empty
        table's schema too, so ``rejects`` reads even with no rejected row)."""

    def location(self) -> dict:
        return {"tables_location": self.final if is_uri(self.final) else TABLES_FOLDER}

    def commit(self, folder: Path) -> None:
        """Put the new tables where the old ones were; the DuckDB files of an earlier
        ingest into the same folder go."""
        settings = self.config.spark
        old = f"{self.base}/previous"
        if exists(self.final, settings):
            rename(self.final, old, settings)
        rename(self.work, self.final, settings)
        remove(old, settings)
        from crmkit.warehouse import DB_FILE, REJECTS_FILE

        for stale in (DB_FILE, REJECTS_FILE):
            (folder / stale).unlink(missing_ok=True)


class _SparkTables:
    """The staged table on Spark, for crmkit.ingest.lookups: its columns, the lookup join
    (the lookup's SQL per batch, with the lookup table sent along), the audit's counts."""

    def __init__(self, loader: SparkLoader, frame, view: str):
        self.loader, self.frame = loader, frame
        self.sql = loader.sql
        frame.createOrReplaceTempView(view)

    def columns(self, staged: str) -> list[str]:
        return [c for c in self.frame.columns if c != "__row"]

    def join(self, select: Callable[[str], str], staged: str, lookup: str) -> str:
        side = {lookup: self.loader.local.execute(f"SELECT * FROM {lookup}").fetch_arrow_table()}
        out = f"{staged}_j"
        self.frame = self.loader._materialize(rowwise(self.frame, select("batch"), side), out)
        self.loader.spark.catalog.dropTempView(staged)
        return out

    def drop_columns(self, view: str, columns: list[str]) -> None:
        self.frame = self.frame.drop(*columns)
        self.frame.createOrReplaceTempView(view)

    def rename(self, view: str, name: str) -> str:
        self.loader.spark.catalog.dropTempView(view)
        self.frame.createOrReplaceTempView(name)
        return name
