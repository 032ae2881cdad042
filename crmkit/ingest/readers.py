"""Stage one source table into DuckDB as it is, with a 1-based ``source_row``.

Every source ends as a DuckDB table ``stage_<name>``: CSV through DuckDB's reader (all
columns as text, so nothing is lost to type sniffing), Parquet and DuckDB tables as typed,
Excel through pandas, PostgreSQL through ``COPY ... TO STDOUT`` into a temporary CSV. Memory
stays bounded by DuckDB's ``memory_limit``; large inputs spill to the warehouse's temp folder.
"""

from __future__ import annotations

import codecs
import gzip
import tempfile
from pathlib import Path

import duckdb

from crmkit.config import TableConfig, source_kind
from crmkit.exceptions import SourceError
from crmkit.secrets import redact_url

# DuckDB reads these itself; anything else is transcoded to UTF-8 first.  (DuckDB's own
# `encodings` extension would need a download at run time, which this kit must not do.)
NATIVE_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8",
                    "utf_8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1",
                    "latin1": "latin-1", "iso-8859-1": "latin-1"}
ENCODING_HINT = ("set `encoding:` for this table in the config (common exports: utf-8, "
                 "utf-8-sig, gbk, gb18030, cp1252, latin-1)")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def stage(con: duckdb.DuckDBPyConnection, spec: TableConfig, source: str,
          tmp_dir: Path) -> str:
    """Create ``stage_<name>`` from the source; return its name."""
    name = f"stage_{spec.name}"
    kind = source_kind(source)
    create = f"CREATE OR REPLACE TABLE {name} AS SELECT row_number() OVER () AS __row, * FROM "
    try:
        if kind == "postgresql":
            relation = _postgres_to_csv(source, spec, tmp_dir)
            select = _csv_select(relation, spec, tmp_dir, transcode=False)
        elif kind == "duckdb":
            select = _duckdb_select(con, source, spec)
        else:
            select = _file_select(spec, tmp_dir)
        return _create_stage(con, create, select, name)
    except (EOFError, OSError) as exc:  # a truncated .gz, a file that vanished
        raise SourceError(f"{spec.name}: could not read {spec.label} to its end "
                          f"({type(exc).__name__}: {exc}); is the file whole?") from None
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        raise _read_error(spec, exc) from None


def _create_stage(con, create: str, select: str, name: str) -> str:
    try:
        con.execute(f"{create}({select})")
    except duckdb.Error as exc:
        # Text fields with line breaks inside quotes (a CRM's descriptions and comments)
        # are read by DuckDB's single-threaded scanner only.
        if "parallel=false" not in str(exc) or not select.endswith(")"):
            raise
        con.execute(f"{create}({select[:-1]}, parallel = false))")
    return name


def _read_error(spec: TableConfig, exc: Exception) -> SourceError:
    text = str(exc)
    if "unicode" in text.lower() or "utf" in text.lower() or "encoding" in text.lower():
        return SourceError(f"{spec.name}: could not read {spec.label} as {spec.encoding}: it "
                           f"has bytes that are not {spec.encoding}. {ENCODING_HINT}.")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return SourceError(f"{spec.name}: could not read {spec.label}: {first}")


def _file_select(spec: TableConfig, tmp_dir: Path) -> str:
    path = spec.file
    if path is None or not path.exists():
        raise SourceError(f"{spec.name}: file not found: {path}")
    if path.is_dir():
        raise SourceError(f"{spec.name}: {path} is a folder; name a file")
    if path.stat().st_size == 0:
        raise SourceError(f"{spec.name}: {path.name} is empty (0 bytes); expected a header "
                          "row and data")
    if spec.format == "csv":
        return _csv_select(path, spec, tmp_dir, transcode=True)
    if spec.format == "parquet":
        try:
            duckdb.sql(f"SELECT * FROM read_parquet({literal(str(path))}) LIMIT 0")
        except duckdb.Error as exc:
            raise SourceError(f"{spec.name}: {path.name} is not a readable Parquet file "
                              f"({str(exc).splitlines()[0]})") from None
        return f"SELECT * FROM read_parquet({literal(str(path))})"
    if spec.format == "excel":
        return _excel_select(path, spec, tmp_dir)
    raise SourceError(f"{spec.name}: cannot tell the format of {path.name}; set `format:` "
                      "to csv, parquet or excel")


def _csv_select(path: Path, spec: TableConfig, tmp_dir: Path, transcode: bool) -> str:
    for name in spec.encodings or [spec.encoding]:
        try:
            codecs.lookup(name)
        except LookupError:
            raise SourceError(f"{spec.name}: unknown encoding {name!r}; "
                              f"{ENCODING_HINT}") from None
    if transcode and len(spec.encodings) > 1:
        spec = _pick_encoding(path, spec)
    encoding = spec.encoding.lower()
    if transcode and NATIVE_ENCODINGS.get(encoding) != "utf-8":
        path = _transcode(path, spec, tmp_dir)
    elif transcode:
        _check_utf8_start(path, spec)
    # Fields are quoted with " and a quote inside one is written twice (RFC 4180, as CRMs
    # export them): set, not sniffed, so a name such as 't Hoekje cannot pass for a quote
    # character and DuckDB keeps no doubled quotes.
    options = ["header = true", "all_varchar = true", "auto_detect = true",
               "null_padding = true", "strict_mode = false", "quote = '\"'", "escape = '\"'"]
    if spec.delimiter:
        options.append(f"delim = {literal(spec.delimiter)}")
    elif path.name.lower().endswith((".tsv", ".tsv.gz")):
        options.append("delim = '\t'")
    return f"SELECT * FROM read_csv({literal(str(path))}, {', '.join(options)})"


def _pick_encoding(path: Path, spec: TableConfig) -> TableConfig:
    """The first of the table's encodings that decodes the whole file (an export that is
    UTF-8 in one org and Windows-1252 in another)."""
    from dataclasses import replace

    for name in spec.encodings:
        decoder = codecs.getincrementaldecoder(name)(errors="strict")
        try:
            with _open_binary(path) as fh:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeError:  # a bad byte, or a UTF-16/32 file without its BOM
            continue
        return replace(spec, encoding=name, encodings=[name])
    raise SourceError(f"{spec.name}: {spec.label} is none of the encodings "
                      f"{', '.join(spec.encodings)}; {ENCODING_HINT}.")


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _check_utf8_start(path: Path, spec: TableConfig) -> None:
    """Fail early, with the fix, when a 'UTF-8' file is really GBK or Windows-1252.

    DuckDB also rejects bad bytes later in the file; this only makes the common case (an
    export in the local code page) say what to do before any work is done.
    """
    with _open_binary(path) as fh:
        head = fh.read(1 << 20)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the 1 MB boundary
            line = head[:exc.start].count(b"\n") + 1
            raise SourceError(
                f"{spec.name}: {spec.label} is not valid {spec.encoding} (byte "
                f"0x{head[exc.start]:02x} on line {line}); {ENCODING_HINT}.") from None


def _transcode(path: Path, spec: TableConfig, tmp_dir: Path) -> Path:
    """Stream a non-UTF-8 file into a UTF-8 copy, 1 MB at a time."""
    out = tmp_dir / f"{spec.name}.utf8.csv"
    decoder = codecs.getincrementaldecoder(spec.encoding)(errors="strict")
    try:
        return _transcode_into(path, out, spec, decoder)
    except UnicodeError as exc:  # not a bad byte (those are named below): a missing BOM
        raise SourceError(f"{spec.name}: {spec.label} cannot be read as {spec.encoding} "
                          f"({exc}); {ENCODING_HINT}.") from None


def _transcode_into(path: Path, out: Path, spec: TableConfig, decoder) -> Path:
    line, offset = 1, 0
    with _open_binary(path) as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(1 << 20):
            try:
                dst.write(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                line += chunk[:exc.start].count(b"\n")
                raise SourceError(
                    f"{spec.name}: {spec.label} is not valid {spec.encoding} (byte "
                    f"0x{chunk[exc.start]:02x} at offset {offset + exc.start}, line {line}); "
                    f"{ENCODING_HINT}.") from None
            line += chunk.count(b"\n")
            offset += len(chunk)
        dst.write(decoder.decode(b"", final=True))
    return out


def _excel_select(path: Path, spec: TableConfig, tmp_dir: Path) -> str:
    import pandas as pd

    try:
        frame = pd.read_excel(path, sheet_name=spec.sheet if spec.sheet is not None else 0,
                              dtype=str)
    except ValueError as exc:  # a missing sheet, or not an Excel file at all
        raise SourceError(f"{spec.name}: {path.name} could not be read as Excel: {exc}"
                          ) from None
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise SourceError(f"{spec.name}: {path.name} is not a readable Excel file "
                          f"({type(exc).__name__}: {exc})") from None
    out = tmp_dir / f"{spec.name}.xlsx.parquet"
    frame.to_parquet(out, index=False)
    return f"SELECT * FROM read_parquet({literal(str(out))})"


def _duckdb_select(con: duckdb.DuckDBPyConnection, source: str, spec: TableConfig) -> str:
    if not Path(source).exists():
        raise SourceError(f"source database not found: {source}")
    attached = {row[0] for row in con.execute("SELECT database_name FROM duckdb_databases()")
                .fetchall()}
    if "src" not in attached:
        try:
            con.execute(f"ATTACH {literal(source)} AS src (READ_ONLY)")
        except duckdb.Error as exc:
            raise SourceError(f"cannot open {source} as a DuckDB database: "
                              f"{str(exc).splitlines()[0]}") from None
    tables = {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()}
    if spec.table not in tables:
        raise SourceError(f"{spec.name}: no table {spec.table!r} in {source}; it has: "
                          f"{', '.join(sorted(tables)) or 'no tables'}")
    return f"SELECT * FROM src.{quote(spec.table)}"


def database_tables(source: str) -> set[str]:
    """Names of the tables a DuckDB file or PostgreSQL database holds."""
    if source_kind(source) == "duckdb":
        if not Path(source).exists():
            raise SourceError(f"source database not found: {source}")
        try:
            with duckdb.connect(source, read_only=True) as con:
                return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()")
                        .fetchall()}
        except duckdb.Error as exc:
            raise SourceError(f"cannot open {source} as a DuckDB database "
                              f"({str(exc).splitlines()[0]}); is it a DuckDB file of a "
                              f"compatible version, and whole?") from None
    with _pg_connect(source) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE "
                            "table_schema = current_schema()").fetchall()
    return {r[0] for r in rows}


def _pg_connect(url: str):
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=10)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "no answer"
        raise SourceError(f"cannot connect to PostgreSQL at {redact_url(url)}: {reason}") from None


def _postgres_to_csv(url: str, spec: TableConfig, tmp_dir: Path) -> Path:
    from psycopg import sql

    out = tmp_dir / f"{spec.name}.pg.csv"
    with _pg_connect(url) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (spec.table,)).fetchone()[0]
        if exists is None:
            raise SourceError(f"{spec.name}: no table {spec.table!r} in {redact_url(url)}")
        query = sql.SQL("COPY (SELECT * FROM {}) TO STDOUT WITH (FORMAT csv, HEADER)").format(
            sql.Identifier(*spec.table.split(".")))
        with conn.cursor() as cur, open(out, "wb") as fh, cur.copy(query) as copy:
            for block in copy:
                fh.write(block)
    return out



def new_tmp_dir(parent: Path) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".ingest-", dir=parent))
