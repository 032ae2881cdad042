"""Lookups: files joined to a table by a key, adding columns (agent -> manager and office,
product -> series and list price, account -> sector, owner id -> name).

The joined columns become source columns of the table's stage: the config maps them to
canonical columns by name (``owner: Name``) or they are kept as attributes. A lookup never
adds or drops a row: a key that is repeated in the lookup file stops ingest, and rows whose
key finds no match keep empty joined columns and are counted in the audit, per lookup, with
the most frequent unmatched keys.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from crmkit.config import Lookup, TableConfig, source_kind
from crmkit.exceptions import ConfigError, SchemaError
from crmkit.ingest.readers import literal, quote, stage

UNMATCHED_SHOWN = 5  # unmatched keys listed in the audit, most frequent first


def _key(expr: str, lookup: Lookup, null_values: list[str]) -> str:
    text = f"nullif(trim(CAST({expr} AS VARCHAR)), '')"
    if null_values:
        text = (f"CASE WHEN {text} IN ({', '.join(literal(v) for v in null_values)}) "
                f"THEN NULL ELSE {text} END")
    if lookup.match == "loose":
        return f"nullif(regexp_replace(lower({text}), '[^0-9a-z\u0080-\uffff]', '', 'g'), '')"
    return text


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "__row"]


class _DuckDBTables:
    """The staged table in ``con`` itself (the DuckDB engine)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = self.sql = con

    def columns(self, staged: str) -> list[str]:
        return _columns(self.con, staged)

    def join(self, select: Callable[[str], str], staged: str, lookup: str) -> str:
        out = f"{staged}_j"
        self.con.execute(f"CREATE TABLE {out} AS {select(staged)}")
        self.con.execute(f"DROP TABLE {staged}")
        return out

    def drop_columns(self, table: str, columns: list[str]) -> None:
        for column in columns:
            self.con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

    def rename(self, table: str, name: str) -> str:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {table}")
        self.con.execute(f"DROP TABLE {table}")
        return name


def join_lookups(con: duckdb.DuckDBPyConnection, spec: TableConfig, staged: str, source: str,
                 tmp_dir, tables=None) -> tuple[str, dict[str, str], list[dict]]:
    """Join the table's lookups to its stage; return the new stage, the joined columns
    (column -> lookup name) and one audit record per lookup.

    The lookup files are read and checked in ``con``; the stage is in ``con`` too, unless
    ``tables`` holds it (Spark: crmkit.ingest.spark), which then runs the join (the SQL of
    :func:`_join_select`, per row) and the audit's counts."""
    tables = tables or _DuckDBTables(con)
    joined: dict[str, str] = {}
    records = []
    for i, lookup in enumerate(spec.lookups):
        where = f"tables.{spec.name}.lookups[{i}] ({lookup.label})"
        lspec = TableConfig(
            name=f"{spec.name}_lookup{i}", file=lookup.file, table=lookup.table,
            sheet=lookup.read.get("sheet"), format=lookup.read.get("format"),
            encodings=_list(lookup.read.get("encoding", "utf-8")),
            encoding=_list(lookup.read.get("encoding", "utf-8"))[0],
            delimiter=lookup.read.get("delimiter"), quote=lookup.read.get("quote") or '"',
            skip_rows=lookup.read.get("skip_rows") or 0,
            null_values=_list(lookup.read.get("null_values", [])))
        if lspec.file is not None and lspec.format is None:
            from crmkit.config import file_format
            lspec.format = file_format(lspec.file)
        lookup_source = str(lookup.file) if lookup.file is not None else source
        if lookup.file is None and source_kind(source) not in ("duckdb", "postgresql"):
            raise ConfigError(f"{where}: `table` names a database table; this source is "
                              "files: give `file`")
        ltable = stage(con, lspec, lookup_source, tmp_dir)
        lcolumns = _columns(con, ltable)
        stage_columns = tables.columns(staged)
        key = spec.columns[lookup.key].column if lookup.key in spec.columns and \
            spec.columns[lookup.key].column else lookup.key
        if key not in stage_columns:
            raise SchemaError(f"{where}: key {lookup.key!r} is not a column of {spec.label}; "
                              f"columns found: {', '.join(stage_columns)}")
        if lookup.on not in lcolumns:
            raise SchemaError(f"{where}: `on` {lookup.on!r} is not a column of "
                              f"{lookup.label}; columns found: {', '.join(lcolumns)}")
        wanted = lookup.columns or {c: c for c in lcolumns if c != lookup.on}
        absent = [c for c in wanted.values() if c not in lcolumns]
        if absent:
            raise SchemaError(f"{where}: {', '.join(map(repr, absent))} not in "
                              f"{lookup.label}; columns found: {', '.join(lcolumns)}")
        lkey = _key(quote(lookup.on), lookup, lspec.null_values)
        picked = 0
        if lookup.pick is not None:
            ltable, picked = _pick(con, ltable, lkey, lookup, lcolumns, where)
        repeated = con.execute(
            f"SELECT k, count(*) FROM (SELECT {lkey} AS k FROM {ltable}) WHERE k IS NOT NULL "
            f"GROUP BY k HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT 5").fetchall()
        if repeated:
            keys = ", ".join(f"{k!r} ({n} rows)" for k, n in repeated)
            raise SchemaError(f"{where}: {lookup.on} repeats {keys}; a lookup needs one row "
                              "per key (a join would duplicate the table's rows); to keep one "
                              "of them, set `pick: {first: COLUMN}` or `pick: {last: COLUMN}`")
        taken = set(stage_columns) | set(joined)
        names = {}
        for new, lcol in wanted.items():
            name = new
            if name in taken:
                name = f"{lookup.name}_{new}"
                while name in taken:
                    name += "_"
            names[name] = lcol
            taken.add(name)
        skey = _key(f"s.{quote(key)}", lookup, spec.null_values)
        picks = ", ".join(f"l.{quote(lcol)} AS {quote(name)}" for name, lcol in names.items())

        def select(relation: str) -> str:  # per row: the lookup's keys are unique
            return (f"SELECT s.*, {picks}, (l.__k IS NOT NULL) AS __lk_match, {skey} AS "
                    f"__lk_key FROM {relation} AS s LEFT JOIN (SELECT {lkey} AS __k, * FROM "
                    f"{ltable}) AS l ON {skey} = l.__k")

        out = tables.join(select, staged, ltable)
        matched, unmatched, no_key = tables.sql.execute(
            f"SELECT count(*) FILTER (WHERE __lk_match), count(*) FILTER (WHERE NOT __lk_match "
            f"AND __lk_key IS NOT NULL), count(*) FILTER (WHERE __lk_key IS NULL) FROM {out}"
        ).fetchone()
        keys = dict(tables.sql.execute(
            f"SELECT {quote(key)}, count(*) FROM {out} WHERE NOT __lk_match AND __lk_key IS "
            f"NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {UNMATCHED_SHOWN}").fetchall())
        tables.drop_columns(out, ["__lk_match", "__lk_key"])
        con.execute(f"DROP TABLE {ltable}")
        staged = out
        for name in names:
            joined[name] = lookup.name
        records.append({"name": lookup.name, "input": lookup.label, "key": lookup.key,
                        "on": lookup.on, "match": lookup.match,
                        "columns": names, "matched": matched, "unmatched": unmatched,
                        "rows_without_key": no_key,
                        **({"pick": {lookup.pick[0]: lookup.pick[1]}, "rows_left_out": picked}
                           if lookup.pick else {}),
                        "unmatched_keys": {str(k): n for k, n in keys.items()}})
    if spec.lookups:
        staged = tables.rename(staged, f"stage_{spec.name}")
    return staged, joined, records


def _pick(con, ltable: str, lkey: str, lookup: Lookup, lcolumns: list[str],
          where: str) -> tuple[str, int]:
    """The lookup with one row per key: the first or last by the ``pick`` column (read as a
    timestamp where it is one, else as text; ties and missing values by file order).
    Returns the new table and how many rows were left out."""
    which, column = lookup.pick
    if column not in lcolumns:
        raise SchemaError(f"{where}.pick: {column!r} is not a column of {lookup.label}; "
                          f"columns found: {', '.join(lcolumns)}")
    order = "ASC" if which == "first" else "DESC"
    c = quote(column)
    out = f"{ltable}_picked"
    con.execute(
        f"CREATE TABLE {out} AS SELECT * EXCLUDE (__pick) FROM (SELECT *, row_number() OVER "
        f"(PARTITION BY {lkey} ORDER BY TRY_CAST({c} AS TIMESTAMP) {order} NULLS LAST, "
        f"CAST({c} AS VARCHAR) {order} NULLS LAST, __row) AS __pick FROM {ltable}) "
        f"WHERE __pick = 1 OR {lkey} IS NULL")
    before = con.execute(f"SELECT count(*) FROM {ltable}").fetchone()[0]
    after = con.execute(f"SELECT count(*) FROM {out}").fetchone()[0]
    con.execute(f"DROP TABLE {ltable}")
    return out, before - after


def _list(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
