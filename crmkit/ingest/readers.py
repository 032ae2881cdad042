"""Stage one source table into DuckDB as it is, with a 1-based ``source_row``.

Every source ends as a DuckDB table ``stage_<name>``: CSV through DuckDB's reader (all
columns as text, so nothing is lost to type sniffing), Parquet and DuckDB tables as typed,
Excel through pandas, PostgreSQL through ``COPY ... TO STDOUT`` into a temporary CSV. Memory
stays bounded by DuckDB's ``memory_limit``; large inputs spill to the warehouse's temp folder.

A CSV file is read with one dialect from its first line to its last, whatever its length.
(DuckDB's sniffer decides from a sample of about 20,000 rows; a quoted line break or an
extra field past it once split a row in two or lost a value without a word.) The rules:

- Quotes: values are quoted with ``"`` (``quote:`` sets another character) and a quote
  inside a quoted value is written twice (RFC 4180): ``"He said ""hi"" twice"`` reads
  ``He said "hi" twice``. A quoted value may hold delimiters and line breaks anywhere in the file.
  A quote never closed, or text after a value's closing quote, stops ingest with the line.
- Delimiter: ``delimiter:`` when set, a tab for ``.tsv``; else whichever of ``,`` ``;`` tab
  ``|`` splits the first lines (up to 1 MB) into the most rows of one width, read with the
  quotes above, so that a ``;`` in a quoted name or an apostrophe (``'t Hoekje``) cannot
  mislead it. Lines anywhere in the file that split into that width with another of them (two
  exports pasted into one file) stop ingest, naming the lines that use each.
- Header: the first line after ``skip_rows:`` lines (an export's title lines). A first line
  with one field above lines with more stops ingest, with the ``skip_rows`` that skips it.
  Names are trimmed; an empty one becomes ``column<i>`` and a repeated one gets ``_1``,
  ``_2`` ... (DuckDB's names, as before), unless the table reads that name (two ``amount``
  columns stop ingest: which is the amount?).
- A row with fewer fields than the header is kept, its missing last fields empty: exports
  often leave trailing empty fields out. The row's other checks still apply.
- A row with more fields than the header cannot be split into the header's columns without
  guessing which value is extra. Extra fields that are all empty (a trailing delimiter) are
  dropped. Otherwise the row is staged with its columns empty and ``UNREADABLE`` saying why
  ("7 fields where the header has 6"), ``UNREADABLE_LINE`` holding its line number and text,
  so that ingest quarantines it, counts it and keeps its text in the rejects. (Its key is
  empty, so it is quarantined even where crmkit.ingest.clean does not read UNREADABLE.) Up
  to ``EXTRA_FIELDS`` extra fields are read so; a row with more stops ingest with its line.
- Blank lines are no rows. Lines may end with ``\\n`` or ``\\r\\n``, mixed in one file (a
  copy with ``\\n`` is read then: a ``\\r\\n`` inside a quoted value becomes ``\\n``). A
  ``\\r`` alone in a value that is not quoted stops ingest: DuckDB may end a row there.
- A UTF-16 file with its byte-order mark is read as UTF-16; a workbook, Parquet or gzip file
  named ``.csv`` stops ingest saying what it is.

Excel sheets follow the same header rules (and ``skip_rows``); their blank rows are no rows.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import shutil
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from crmkit.config import TableConfig, source_kind
from crmkit.exceptions import ConfigError, SourceError
from crmkit.schema import TABLES
from crmkit.secrets import redact_url, scrub, url_secrets

# DuckDB reads these itself; anything else is transcoded to UTF-8 first.  (DuckDB's own
# `encodings` extension would need a download at run time, which this kit must not do.)
NATIVE_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8",
                    "utf_8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1",
                    "latin1": "latin-1", "iso-8859-1": "latin-1"}
ENCODING_HINT = ("set `encoding:` for this table in the config (common exports: utf-8, "
                 "utf-8-sig, gbk, gb18030, cp1252, latin-1)")

# The delimiters a CSV file is tried with, in order of preference on a tie.
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
HEAD_BYTES = 1 << 20  # the start of a file that decides its delimiter and header ...
HEAD_RECORDS = 500    # ... up to this many rows of it
EXTRA_FIELDS = 4      # fields beyond the header a row may have and still be quarantined
LONGEST_ROW = 64_000_000  # bytes; DuckDB's default limit (2 MB) is read past when needed
# Columns of a staged row that could not be split into the header's columns: why, and
# "line <n>: <its text>". NULL in every other row; present only when such a row exists.
UNREADABLE = "__unreadable"
UNREADABLE_LINE = "__unreadable_line"
SHOWN = 5  # lines a message lists


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def stage(con: duckdb.DuckDBPyConnection, spec: TableConfig, source: str,
          tmp_dir: Path) -> str:
    """Create ``stage_<name>`` from the source; return its name."""
    name = f"stage_{spec.name}"
    kind = source_kind(source)
    _check_settings_apply(spec, "database" if kind in ("postgresql", "duckdb") else spec.format)
    try:
        if kind == "postgresql":
            # COPY's own CSV: comma, double quote, header first, UTF-8.
            copied = _postgres_to_csv(source, spec, tmp_dir)
            return _stage_csv(con, name, copied, replace(
                spec, delimiter=",", quote='"', skip_rows=0, encoding="utf-8",
                encodings=["utf-8"]), tmp_dir, transcode=False)
        if kind == "duckdb":
            select = _duckdb_select(con, source, spec)
        else:
            path = _table_file(spec)
            if spec.format == "csv":
                return _stage_csv(con, name, path, spec, tmp_dir, transcode=True)
            select = _file_select(path, spec, tmp_dir)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT row_number() OVER () AS __row, "
                    f"* FROM ({select})")
        return name
    except (EOFError, OSError) as exc:  # a truncated .gz, a file that vanished
        raise SourceError(f"{spec.name}: could not read {spec.label} to its end "
                          f"({type(exc).__name__}: {exc}); is the file whole?") from None
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        raise _read_error(spec, exc, tmp_dir) from None
    except duckdb.Error as exc:  # DuckDB raises some CSV errors as its base class
        if not str(exc).startswith("CSV Error"):
            raise
        raise _read_error(spec, exc, tmp_dir) from None


def _check_settings_apply(spec: TableConfig, fmt: str | None) -> None:
    """Stop at a reading setting this kind of source has no use for: it would not take
    effect, and the user would not know."""
    where = f"tables.{spec.name}" if spec.name in TABLES else "a lookup"
    what = {"database": "a database table", "csv": "a CSV file", "parquet": "a Parquet file",
            "excel": "an Excel workbook"}.get(fmt, "in no format crmkit reads")
    if spec.sheet is not None and fmt != "excel":
        raise ConfigError(f"{where}.sheet: {spec.label} is {what}, not an Excel workbook: it "
                          "has no sheets. Remove `sheet:`, or set `format: excel` if it is one")
    if spec.skip_rows and fmt not in ("csv", "excel"):
        raise ConfigError(f"{where}.skip_rows: {spec.label} is {what}; skip_rows skips lines "
                          "above the header of a CSV file or an Excel sheet. Remove it")
    if spec.quote != '"' and fmt != "csv":
        raise ConfigError(f"{where}.quote: {spec.label} is {what}; quote applies to CSV files. "
                          "Remove it")


def _read_error(spec: TableConfig, exc: Exception, tmp_dir: Path) -> SourceError:
    text = str(exc)
    if "unicode" in text.lower() or "utf" in text.lower() or "encoding" in text.lower():
        return SourceError(f"{spec.name}: could not read {spec.label} as {spec.encoding}: it "
                           f"has bytes that are not {spec.encoding}. {ENCODING_HINT}.")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    # Never the work folder's copy of a file: the user knows the file by its name.
    first = re.sub(re.escape(str(tmp_dir)) + r"[^\s'\"]*", spec.label, first)
    return SourceError(f"{spec.name}: could not read {spec.label}: {first}")


def _table_file(spec: TableConfig) -> Path:
    path = spec.file
    if path is None or not path.exists():
        raise SourceError(f"{spec.name}: file not found: {path}")
    if path.is_dir():
        raise SourceError(f"{spec.name}: {path} is a folder; name a file")
    if path.stat().st_size == 0:
        raise SourceError(f"{spec.name}: {path.name} is empty (0 bytes); expected a header "
                          "row and data")
    return path


def _file_select(path: Path, spec: TableConfig, tmp_dir: Path) -> str:
    if spec.format == "parquet":
        try:
            types = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))})"
                               ).fetchall()
        except duckdb.Error as exc:
            raise SourceError(f"{spec.name}: {path.name} is not a readable Parquet file "
                              f"({str(exc).splitlines()[0]})") from None
        nested = [name for name, kind, *_ in types
                  if kind.endswith("]") or kind.startswith(("STRUCT", "MAP", "UNION"))]
        return json_text_select(nested, f"read_parquet({literal(str(path))})")
    if spec.format == "excel":
        return _excel_select(path, spec, tmp_dir)
    raise SourceError(f"{spec.name}: cannot tell the format of {path.name}; set `format:` "
                      "to csv, parquet or excel")


def json_text_select(nested: list[str], relation: str) -> str:
    """SELECT every column of ``relation``, a list or struct column (tags, an address) as
    its JSON text, as Parquet's nested columns are kept (on DuckDB and on Spark)."""
    replaced = ", ".join(f"CAST(to_json({quote(c)}) AS VARCHAR) AS {quote(c)}" for c in nested)
    return f"SELECT * {f'REPLACE ({replaced}) ' if nested else ''}FROM {relation}"


# -- CSV ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dialect:
    """How every line of one CSV file is split, decided once from the start of the file."""

    delimiter: str
    quote: str
    columns: tuple[str, ...]
    skipped: int = 0  # lines above the header (skip_rows), for line numbers in messages

    def reader(self, lines):
        return csv.reader(lines, delimiter=self.delimiter, quotechar=self.quote,
                          doublequote=True, strict=False)

    def joined(self, fields) -> str:
        """A row's fields written back as one line (for the rejects)."""
        out = io.StringIO()
        csv.writer(out, delimiter=self.delimiter, quotechar=self.quote, doublequote=True,
                   lineterminator="\n").writerow(fields)
        return out.getvalue()[:-1]


def _stage_csv(con: duckdb.DuckDBPyConnection, name: str, path: Path, spec: TableConfig,
               tmp_dir: Path, transcode: bool) -> str:
    """Stage a CSV file read with one dialect throughout (see the module's docstring)."""
    path = _utf8(path, spec, tmp_dir, transcode)
    if spec.skip_rows:
        path = _without_preamble(path, spec, tmp_dir)
    dialect = _dialect(path, spec)
    _check_carriage_returns(path, spec, dialect)
    path = _read_whole_file(con, name, path, spec, dialect, tmp_dir)
    _check_rejects(con, name, path, spec, dialect)
    _check_delimiter_rows(con, name, path, spec, dialect)
    _stage_extra_fields(con, name, path, spec, dialect)
    return name


def _read_whole_file(con: duckdb.DuckDBPyConnection, name: str, path: Path,
                     spec: TableConfig, dialect: Dialect, tmp_dir: Path) -> Path:
    """Read the file into ``name``; return the file read (a copy, when its line ends are
    mixed: DuckDB stops at \\r\\n and \\n in one file, two exports pasted together)."""
    try:
        _read_into(con, name, path, dialect)
    except duckdb.Error as exc:
        if "invalid state" not in str(exc):
            raise
        path = _one_line_end(path, spec, tmp_dir)
        try:
            _read_into(con, name, path, dialect)
        except duckdb.Error as again:
            if "invalid state" not in str(again):
                raise
            raise _bare_carriage_return(path, spec, dialect) or SourceError(
                f"{spec.name}: {spec.label} could not be read: DuckDB's CSV reader stopped "
                "(its line ends?); save it again as UTF-8 CSV") from None
    if longest := _longest_rejected_row(con, name):  # a long text: again, with room for it
        _read_into(con, name, path, dialect, max_line_size=min(LONGEST_ROW, 2 * longest))
    return path


def _utf8(path: Path, spec: TableConfig, tmp_dir: Path, transcode: bool) -> Path:
    """The file itself when it is UTF-8, else a UTF-8 copy in ``tmp_dir``."""
    for name in spec.encodings or [spec.encoding]:
        try:
            codecs.lookup(name)
        except LookupError:
            raise SourceError(f"{spec.name}: unknown encoding {name!r}; "
                              f"{ENCODING_HINT}") from None
    if not transcode:
        return path
    with _open_binary(path) as fh:
        start = fh.read(8)
    _check_not_binary(start, spec)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and \
            NATIVE_ENCODINGS.get(spec.encoding.lower()) == "utf-8" and len(spec.encodings) <= 1:
        spec = replace(spec, encoding="utf-16", encodings=["utf-16"])  # its BOM says so
    if len(spec.encodings) > 1:
        spec = _pick_encoding(path, spec)
    if NATIVE_ENCODINGS.get(spec.encoding.lower()) != "utf-8":
        return _transcode(path, spec, tmp_dir)
    _check_utf8_start(path, spec)
    return path


def _longest_rejected_row(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """The size in bytes of the longest row DuckDB's line limit (2 MB) rejected, or 0."""
    return con.execute(
        f"SELECT coalesce(max(TRY_CAST(regexp_extract(error_message, 'Actual Size: ?([0-9]+)', "
        f"1) AS BIGINT)), 0) FROM __rejects_{name} WHERE error_type = 'LINE SIZE OVER MAXIMUM'"
    ).fetchone()[0]


# What a file starts with when it is no text: what it is, its name's ending, its `format`.
BINARY_MAGIC = {b"PK\x03\x04": ("an Excel workbook (or another zip file)", ".xlsx", "excel"),
                b"\xd0\xcf\x11\xe0": ("an old Excel workbook", ".xls", "excel"),
                b"PAR1": ("a Parquet file", ".parquet", "parquet"),
                b"\x1f\x8b": ("gzip-compressed", ".csv.gz", None)}


def _check_not_binary(start: bytes, spec: TableConfig) -> None:
    """Stop when a file named as CSV is a workbook, Parquet or gzip: say what it is."""
    for magic, (what, suffix, fmt) in BINARY_MAGIC.items():
        if start.startswith(magic):
            where = f"tables.{spec.name}" if spec.name in TABLES else "the lookup"
            fix = f", or set `format: {fmt}` for {where}" if fmt else ""
            raise SourceError(f"{spec.name}: {spec.label} is not CSV text: it is {what}. "
                              f"Rename it to end in {suffix}{fix}.")


def _read_into(con: duckdb.DuckDBPyConnection, name: str, path: Path, dialect: Dialect,
               max_line_size: int | None = None) -> None:
    """``name`` from the whole file, every column text, ``EXTRA_FIELDS`` more columns for
    rows longer than the header; lines DuckDB cannot read go to its rejects table."""
    extra = [f"__extra_{i}" for i in range(1, EXTRA_FIELDS + 1)]
    columns = ", ".join(f"{literal(c)}: 'VARCHAR'" for c in (*dialect.columns, *extra))
    rejects = f"__rejects_{name}"
    options = ", ".join([
        f"delim = {literal(dialect.delimiter)}", f"quote = {literal(dialect.quote)}",
        f"escape = {literal(dialect.quote)}", "header = true", "auto_detect = false",
        f"columns = {{{columns}}}", "null_padding = true", "strict_mode = true",
        "store_rejects = true", f"rejects_table = {literal(rejects)}",
        f"rejects_scan = {literal(rejects + '_scan')}"]
        # Each thread's buffer holds 16 such rows by default: 16 of 64 MB would not fit.
        + ([f"max_line_size = {max_line_size}", f"buffer_size = {2 * max_line_size}"]
           if max_line_size else []))
    select = (f"SELECT row_number() OVER () AS __row, * FROM read_csv("
              f"{literal(str(path))}, {options}")
    for parallel in ("", ", parallel = false"):
        con.execute(f"DROP TABLE IF EXISTS {rejects}; DROP TABLE IF EXISTS {rejects}_scan")
        try:
            con.execute(f"CREATE OR REPLACE TABLE {name} AS {select}{parallel})")
            return
        except duckdb.Error as exc:
            # Padding short rows and quoted line breaks are read by one thread only.
            if parallel or "parallel=false" not in str(exc):
                raise


def _check_rejects(con: duckdb.DuckDBPyConnection, name: str, path: Path,
                   spec: TableConfig, dialect: Dialect) -> None:
    """Stop, naming the lines, when DuckDB could not read some: a quote never closed, text
    after a closing quote, a row far longer than the header, bytes that are not UTF-8."""
    rejects = f"__rejects_{name}"
    found = con.execute(
        f"SELECT line, arg_min(error_type, byte_position), max(TRY_CAST(regexp_extract("
        f"error_message, 'Found: ([0-9]+)', 1) AS INTEGER)) FROM {rejects} GROUP BY line "
        f"ORDER BY line").fetchall()
    con.execute(f"DROP TABLE {rejects}; DROP TABLE {rejects}_scan")
    if not found:
        return
    width = len(dialect.columns)
    kind = found[0][1]
    if kind in ("INVALID ENCODING", "INVALID UNICODE"):
        raise SourceError(f"{spec.name}: could not read {spec.label} as {spec.encoding}: it "
                          f"has bytes that are not {spec.encoding} on "
                          f"{_line_list(path, dialect, [r[0] for r in found])}. "
                          f"{ENCODING_HINT}.")
    records = _records_in_file(path, dialect, records={r[0] for r in found[:SHOWN]})
    line, _, text = records.get(found[0][0], (found[0][0] + dialect.skipped, [], ""))
    shown = _shown(text)
    where = f"{spec.name}: {spec.label} line {line}"
    more = f" ({len(found) - 1:,} more lines like it)" if len(found) > 1 else ""
    if kind == "TOO MANY COLUMNS":
        fields = found[0][2] or width + EXTRA_FIELDS + 1
        raise SourceError(
            f"{where} has {fields} fields where the header has {width}{more}: {shown}. Quote "
            f"each value that holds {_named(dialect.delimiter)} with {dialect.quote}, or "
            "remove the extra fields.")
    if kind == "UNQUOTED VALUE" and text.count(dialect.quote) % 2 and _reaches_end(path, text):
        raise SourceError(
            f"{where} opens a quoted value ({dialect.quote}) that is never closed: the rest "
            f"of the file would be one value: {shown}. Close the quote; a quote inside a "
            f"value is written twice ({dialect.quote * 2}).")
    if kind == "UNQUOTED VALUE":
        raise SourceError(
            f"{where} has text after the closing quote of a value{more}: {shown}. Quote the "
            f"whole value and write each quote inside it twice "
            f"({dialect.quote}12{dialect.quote * 2} pizza{dialect.quote}).")
    if kind == "LINE SIZE OVER MAXIMUM":
        raise SourceError(f"{where} is a row over {LONGEST_ROW // 10**6} MB long{more}: is a "
                          f"quote never closed?")
    raise SourceError(f"{where} could not be read ({kind.lower()}){more}: {shown}")


def _check_delimiter_rows(con: duckdb.DuckDBPyConnection, name: str, path: Path,
                          spec: TableConfig, dialect: Dialect) -> None:
    """Stop when rows read short split into the header's width with another delimiter.

    Rows whose last column is empty, whose first value holds another delimiter and whose
    values hold it once per column less one are candidates; the file is read again (in
    Python) only when there are some, to check their lines as written.
    """
    width = len(dialect.columns)
    others = [d for d in DELIMITERS if d not in (dialect.delimiter, dialect.quote)]
    if width < 3 or not others:  # two columns: a short row with one `;` proves nothing
        return
    first, last = quote(dialect.columns[0]), quote(dialect.columns[-1])
    joined = f"concat_ws({literal(dialect.delimiter)}, " + \
        ", ".join(quote(c) for c in dialect.columns) + ")"
    near = " OR ".join(f"contains({first}, {literal(d)})" for d in others)
    exact = " OR ".join(f"length(t) - length(replace(t, {literal(d)}, '')) = {width - 1}"
                        for d in others)
    candidates = [r[0] for r in con.execute(
        f"SELECT __row FROM (SELECT __row, {joined} AS t FROM {name} WHERE {last} IS NULL "
        f"AND ({near})) WHERE {exact} ORDER BY __row").fetchall()]
    if not candidates:
        return
    found = _records_in_file(path, dialect, rows=set(candidates[:100]))
    mixed: dict[str, list[int]] = {d: [] for d in others}
    for row in candidates[:100]:
        line, fields, text = found.get(row, (0, [], ""))
        if 0 < len(fields) < width:
            for other in others:
                if len(next(csv.reader([text], delimiter=other, quotechar=dialect.quote),
                            [])) == width:
                    mixed[other].append(line)
                    break
    other = max(mixed, key=lambda d: len(mixed[d]))
    if mixed[other]:
        raise _mixed_delimiters(spec, dialect.delimiter, other, mixed[other][:SHOWN],
                                max(len(mixed[other]), len(candidates)), whole_file=True)


def _stage_extra_fields(con: duckdb.DuckDBPyConnection, name: str, path: Path,
                        spec: TableConfig, dialect: Dialect) -> None:
    """Rows with values beyond the header's columns become unreadable rows (their columns
    empty, the reason and their text in UNREADABLE and UNREADABLE_LINE); then the extra
    columns go."""
    extra = [f"__extra_{i}" for i in range(1, EXTRA_FIELDS + 1)]
    longer = " OR ".join(f"nullif(trim({c}), '') IS NOT NULL" for c in extra)
    rows = [r[0] for r in con.execute(
        f"SELECT __row FROM {name} WHERE {longer} ORDER BY __row").fetchall()]
    if rows:
        width = len(dialect.columns)
        found = _records_in_file(path, dialect, rows=set(rows))
        if spec.name not in TABLES:  # a lookup's row cannot be quarantined: it has no audit
            line, fields = found[rows[0]][:2] if rows[0] in found else (None, [])
            raise SourceError(
                f"{spec.name}: {spec.label} line {line} has {len(fields)} fields where the "
                f"header has {width}: {_shown(dialect.joined(fields))}. Quote each value "
                f"that holds {_named(dialect.delimiter)} with {dialect.quote}.")
        marks = []
        for row in rows:
            line, fields, _ = found.get(row, (None, [], ""))
            fields = _without_trailing_empty(fields)
            marks.append((row, f"{len(fields)} fields where the header has {width}",
                          f"line {line}: {dialect.joined(fields)}"))
        con.execute(f"ALTER TABLE {name} ADD COLUMN {UNREADABLE} VARCHAR; "
                    f"ALTER TABLE {name} ADD COLUMN {UNREADABLE_LINE} VARCHAR; "
                    f"CREATE TEMP TABLE __unreadable_{name} (row BIGINT, reason VARCHAR, "
                    f"line VARCHAR)")
        con.executemany(f"INSERT INTO __unreadable_{name} VALUES (?, ?, ?)", marks)
        emptied = ", ".join(f"{quote(c)} = NULL" for c in dialect.columns)
        con.execute(f"UPDATE {name} SET {emptied}, {UNREADABLE} = u.reason, "
                    f"{UNREADABLE_LINE} = u.line FROM __unreadable_{name} u "
                    f"WHERE {name}.__row = u.row; DROP TABLE __unreadable_{name}")
    for column in extra:
        con.execute(f"ALTER TABLE {name} DROP COLUMN {column}")


def _without_trailing_empty(fields: list[str]) -> list[str]:
    while fields and not fields[-1].strip():
        fields = fields[:-1]
    return fields


# -- the dialect, from the start of the file ----------------------------------------------


def _dialect(path: Path, spec: TableConfig) -> Dialect:
    text, whole = _head(path)
    quote_char = spec.quote
    tsv = (spec.file or path).name.lower().endswith((".tsv", ".tsv.gz"))
    delimiter = spec.delimiter or ("\t" if tsv else None)
    counts = {d: _records(text, d, quote_char, whole) for d in DELIMITERS if d != quote_char}
    if delimiter is None:
        delimiter = max(counts, key=lambda d: _fit(counts[d]))
    records = counts.get(delimiter) or _records(text, delimiter, quote_char, whole)
    if not records or (len(records) == 1 and not any(f.strip() for f in records[0][1])):
        raise SourceError(f"{spec.name}: {spec.label} has no header row (only empty lines"
                          f"{' after skip_rows' if spec.skip_rows else ''})")
    widths = [len(fields) for _, fields in records]
    width = Counter(widths[1:] or widths).most_common(1)[0][0]  # most rows'
    for expected in dict.fromkeys((widths[0], width)):  # the header's, or most rows'
        _check_mixed_head(spec, records, counts, delimiter, expected, whole)
    _check_preamble(spec, records, width, offset=spec.skip_rows)
    _check_repeated_names(spec, records[0][1])
    return Dialect(delimiter, quote_char, _column_names(records[0][1]), spec.skip_rows)


def _head(path: Path) -> tuple[str, bool]:
    """The first HEAD_BYTES of a UTF-8 file as text, and whether that is all of it."""
    with _open_binary(path) as fh:
        data = fh.read(HEAD_BYTES + 1)
    whole = len(data) <= HEAD_BYTES
    text = data[:HEAD_BYTES].decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff"), whole


def _records(text: str, delimiter: str, quote_char: str, whole: bool
             ) -> list[tuple[int, list[str]]]:
    """(first line, fields) of the head's records read with this delimiter; blank lines are
    no records, and a record the head may have cut is left out."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        quotechar=quote_char, doublequote=True, strict=False)
    out, line, complete = [], 1, whole
    try:
        for fields in reader:
            if fields:
                out.append((line, fields))
            line = reader.line_num + 1
            if len(out) > HEAD_RECORDS:
                complete = False
                break
    except csv.Error:  # a value over csv's field limit: decide from the rows before it
        complete = False
    return out if complete or len(out) < 2 else out[:-1]


def _fit(records: list[tuple[int, list[str]]]) -> tuple:
    """How well a delimiter splits the head: into more than one column, the header as wide
    as most rows, most rows of one width."""
    if not records:
        return (False, False, 0, 0)
    width, rows = Counter(len(f) for _, f in records).most_common(1)[0]
    return (width > 1, len(records[0][1]) == width, rows, width)


def _check_mixed_head(spec: TableConfig, records, counts: dict, delimiter: str, width: int,
                      whole: bool) -> None:
    """Stop when lines of the head that do not split into ``width`` fields do with another
    delimiter (a short row with one `;` in its value proves nothing: from 3 fields on)."""
    if width < 3:
        return
    odd = {line for line, fields in records if len(fields) != width}
    for other, other_records in counts.items():
        if other == delimiter or not odd:
            continue
        theirs = [line for line, fields in other_records
                  if line in odd and len(fields) == width]
        if theirs:
            raise _mixed_delimiters(spec, delimiter, other, theirs[:SHOWN], len(theirs),
                                    whole_file=whole,
                                    ours_lines=[ln for ln, f in records if len(f) == width])


def _mixed_delimiters(spec: TableConfig, ours: str, other: str, lines: list[int], count: int,
                      whole_file: bool, ours_lines: list[int] | None = None) -> SourceError:
    """The message for a file whose lines use two delimiters: which lines use which."""
    where = f"tables.{spec.name}" if spec.name in TABLES else "the lookup"
    mine = f"lines {_ranges(ours_lines)}" if ours_lines else "its header and other lines"
    theirs = f"line{'s' if count > 1 else ''} {_ranges(lines)}" + \
        (f" and {count - len(lines):,} more" if count > len(lines) else "")
    return SourceError(
        f"{spec.name}: {spec.label} mixes delimiters: {mine} use {_named(ours)} but "
        f"{theirs} use{'s' if count == 1 else ''} {_named(other)}"
        f"{'' if whole_file else ' (in its first lines)'}. The delimiter is inconsistent: "
        f"crmkit reads a file with one delimiter (`delimiter:` for {where} sets it). Save "
        f"the file again with one delimiter, or fix those lines.")


def _check_preamble(spec: TableConfig, records, width: int, word: str = "line",
                    offset: int = 0) -> None:
    """Stop when the header is not the first line: lines of one field (an export's title)
    above a line with the columns, with the ``skip_rows`` that skips them. ``records`` are
    (line, fields), the lines counted from ``offset`` (the lines skipped already)."""
    first = records[0][1]
    if len(first) >= width or width < 2:
        return
    names = _expected_names(spec)

    def named(fields) -> bool:
        return any(_normalized(f) in names for f in fields)

    below = [(line, f) for line, f in records[1:50]
             if len(f) == width and sum(1 for v in f if v.strip()) >= 2]
    if not below or not (len(first) == 1 or (not named(first) and any(named(f) for _, f in
                                                                          below))):
        return
    line, header = next(((ln, f) for ln, f in below if named(f)), below[0])
    above = line - records[0][0]
    where = f"tables.{spec.name}" if spec.name in TABLES else "the lookup"
    raise SourceError(
        f"{spec.name}: {spec.label} has {above} {word}{'s' if above > 1 else ''} above its "
        f"header ({word} {records[0][0] + offset}: {_shown(','.join(first))}); the columns "
        f"({_shown(', '.join(header), 80)}) are on {word} {line + offset}. Set "
        f"`skip_rows: {line + offset - 1}` for {where} in a config.")


def _check_repeated_names(spec: TableConfig, header: list) -> None:
    """Stop when the header names a column the table reads twice (which is the amount?);
    another repeated name is numbered (``note``, ``note_1``)."""
    expected = _expected_names(spec)
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(header, 1):
        key = str(name).strip().lower()
        if key and _normalized(key) in expected:
            seen.setdefault(key, []).append(i)
    for key, where in seen.items():
        if len(where) > 1:
            name = str(header[where[0] - 1]).strip()
            raise SourceError(
                f"{spec.name}: {spec.label} has a column named {name!r} {len(where)} times "
                f"(columns {', '.join(map(str, where[:-1]))} and {where[-1]}): which one is "
                f"{name}? Rename or remove the repeated one in the file.")


def _expected_names(spec: TableConfig) -> set[str]:
    """Column names the table's header is likely to have, normalized: canonical names and
    aliases, and the source columns the config maps."""
    names = set()
    if spec.name in TABLES:
        for col in TABLES[spec.name].columns:
            names.update((col.name, *col.aliases))
    for col_spec in spec.columns.values():
        names.update(c for c in (col_spec.column, *col_spec.alternatives) if c)
    return {_normalized(n) for n in names}


def _normalized(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def _column_names(fields: list[str]) -> tuple[str, ...]:
    """The header's names as DuckDB gives them: trimmed, ``column<i>`` for an empty one,
    ``_1``, ``_2`` ... after a repeated one (ignoring case, as SQL does)."""
    digits = len(str(len(fields) - 1))
    taken = {"__row", UNREADABLE, UNREADABLE_LINE,
             *(f"__extra_{i}" for i in range(1, EXTRA_FIELDS + 1))}
    names, repeats = [], Counter()
    for i, field in enumerate(fields):
        base = field.replace("\x00", "").strip() or f"column{i:0{digits}d}"
        name = base
        while name.lower() in taken:
            repeats[base.lower()] += 1
            name = f"{base}_{repeats[base.lower()]}"
        taken.add(name.lower())
        names.append(name)
    return tuple(names)


# -- lines of the file, for messages (only read when something is wrong) ------------------


def _records_in_file(path: Path, dialect: Dialect, *, records: set[int] = frozenset(),
                     rows: set[int] = frozenset()) -> dict[int, tuple[int, list[str], str]]:
    """(line, fields, text) of the file's records by number (1 the header, a blank line
    counted: DuckDB's numbering of the lines it rejects) or of data rows by ``__row``."""
    out: dict[int, tuple[int, list[str], str]] = {}
    wanted = len(records) + len(rows)
    with _open_text(path) as fh, _long_values():
        lines = _Recorder(fh)
        reader = dialect.reader(lines)
        record = row = 0
        line = 1 + dialect.skipped
        while len(out) < wanted:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error:  # a value over LONGEST_ROW: lines after it are unknown
                break
            text = lines.take().rstrip("\r\n")
            record += 1
            if record in records:
                out[record] = (line, fields, text)
            if fields and record > 1:  # a data row: DuckDB skips blank lines
                row += 1
                if row in rows:
                    out[row] = (line, fields, text)
            line = dialect.skipped + reader.line_num + 1
    return out


@contextmanager
def _long_values():
    """Python's csv stops at a value over 128 KB; a CRM's notes may be longer. (Its limit is
    the process's: set for the read, then put back.)"""
    limit = csv.field_size_limit(LONGEST_ROW)
    try:
        yield
    finally:
        csv.field_size_limit(limit)


class _Recorder:
    """The lines a csv reader takes from a file, kept until ``take``: a record's text."""

    def __init__(self, fh):
        self.fh, self.taken = fh, []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.fh)
        self.taken.append(line)
        return line

    def take(self) -> str:
        text, self.taken = "".join(self.taken), []
        return text


def _line_list(path: Path, dialect: Dialect, records: list[int]) -> str:
    found = _records_in_file(path, dialect, records=set(records[:SHOWN]))
    lines = [found[r][0] for r in records[:SHOWN] if r in found]
    more = f" and {len(records) - SHOWN:,} more" if len(records) > SHOWN else ""
    return f"line{'s' if len(records) > 1 else ''} {_ranges(lines)}{more}"


def _reaches_end(path: Path, text: str) -> bool:
    """Whether a record's text runs to the end of the file (a quote never closed)."""
    tail = text.rstrip("\r\n")[-200:].encode("utf-8", errors="replace")
    end = b""
    with _open_binary(path) as fh:
        while chunk := fh.read(1 << 20):
            end = (end + chunk)[-len(tail) - 16:]
    return bool(tail) and end.rstrip(b"\r\n").endswith(tail)


def _ranges(lines: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    spans: list[list[int]] = []
    for n in sorted(set(lines)):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in spans)


def _named(delimiter: str) -> str:
    return f"{delimiter!r} ({DELIMITERS[delimiter]})" if delimiter in DELIMITERS \
        else repr(delimiter)


def _shown(text: str, most: int = 60) -> str:
    text = text.replace("\x00", "\\x00")
    return repr(text if len(text) <= most else text[:most] + " ...")


def _check_carriage_returns(path: Path, spec: TableConfig, dialect: Dialect) -> None:
    """Stop at a carriage return (\\r) that ends no line, in a value that is not quoted:
    DuckDB may take it for a line end and split the row in two without a word.

    The bytes are counted first (fast); the file is parsed only when it has such a \\r,
    which a quoted value may hold. A file whose lines all end with \\r (old Mac) is left to
    DuckDB."""
    bare, newline, after_cr = 0, False, False
    with _open_binary(path) as fh:
        while chunk := fh.read(1 << 22):
            if after_cr and not chunk.startswith(b"\n"):
                bare += 1
            if b"\r" in chunk:  # most files have none: one fast look per 4 MB
                bare += chunk.count(b"\r") - chunk.count(b"\r\n") - chunk.endswith(b"\r")
                newline = newline or b"\n" in chunk
            after_cr = chunk.endswith(b"\r")
    if not bare or not newline:
        return
    error = _bare_carriage_return(path, spec, dialect)
    if error is not None:
        raise error


def _bare_carriage_return(path: Path, spec: TableConfig, dialect: Dialect
                          ) -> SourceError | None:
    """The message for the first \\r in a value that is not quoted, if there is one."""
    with _open_binary(path) as fh, _long_values():
        lines = _Recorder(line.decode("utf-8", errors="replace") for line in fh)  # at \\n
        reader = dialect.reader(lines)
        line = 1
        while True:
            try:
                if next(reader, None) is None:
                    return None
            except csv.Error as exc:  # a \\r, then more of the value: Python's csv stops
                if "new-line" not in str(exc):
                    return None
                at = reader.line_num
                break
            text = lines.take()
            body = text.removesuffix("\n").removesuffix("\r")  # the record's own line end
            if "\r" in body and (offset := _unquoted_carriage_return(body, dialect)) >= 0:
                at = line + body[:offset].count("\n")
                break
            line = reader.line_num + 1
    return SourceError(f"{spec.name}: {spec.label} line {at + dialect.skipped} has a carriage "
                       "return (\\r) inside a value that is not quoted; quote that value, or "
                       "remove the character")


def _unquoted_carriage_return(record: str, dialect: Dialect) -> int:
    """Where in one record's text a \\r outside quotes and before no \\n is, or -1."""
    quoted, field_start, i = False, True, 0
    while i < len(record):
        ch = record[i]
        if quoted:
            if ch == dialect.quote:
                if record[i + 1:i + 2] == dialect.quote:
                    i += 1  # a doubled quote inside the value
                else:
                    quoted = False
        elif ch == dialect.quote and field_start:
            quoted = True
        elif ch == "\r" and record[i + 1:i + 2] != "\n":
            return i
        field_start = not quoted and ch == dialect.delimiter
        i += 1
    return -1


# -- copies of the file: without its preamble, with one line end, in UTF-8 ------------------


def _without_preamble(path: Path, spec: TableConfig, tmp_dir: Path) -> Path:
    """A copy without the ``skip_rows`` lines above the header. (DuckDB's own ``skip``
    counts a quote in a title line as opening a value, and then reads no row at all.)"""
    out = tmp_dir / f"{spec.name}.body.csv"
    with _open_binary(path) as src, open(out, "wb") as dst:
        for _ in range(spec.skip_rows):
            if not src.readline():
                raise SourceError(f"{spec.name}: skip_rows: {spec.skip_rows} skips every line "
                                  f"of {spec.label}; set the number of lines above its header")
        shutil.copyfileobj(src, dst, 1 << 20)
    return out


def _one_line_end(path: Path, spec: TableConfig, tmp_dir: Path) -> Path:
    out = tmp_dir / f"{spec.name}.lf.csv"
    with _open_binary(path) as src, open(out, "wb") as dst:
        carry = b""
        while chunk := src.read(1 << 20):
            chunk = carry + chunk
            carry = b"\r" if chunk.endswith(b"\r") else b""
            dst.write(chunk[:-1].replace(b"\r\n", b"\n") if carry
                      else chunk.replace(b"\r\n", b"\n"))
        dst.write(carry)
    return out


def _pick_encoding(path: Path, spec: TableConfig) -> TableConfig:
    """The first of the table's encodings that decodes the whole file (an export that is
    UTF-8 in one org and Windows-1252 in another)."""
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


def _open_text(path: Path):
    return io.TextIOWrapper(_open_binary(path), encoding="utf-8-sig", errors="replace",
                            newline="")


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


# -- Excel --------------------------------------------------------------------------------

# What a workbook starts with: .xlsx/.xlsm are zip files, .xls an OLE2 compound file.
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def _excel_select(path: Path, spec: TableConfig, tmp_dir: Path) -> str:
    """The sheet as Parquet in ``tmp_dir`` (every value text), selected from there."""
    import pandas as pd

    where = f"tables.{spec.name}" if spec.name in TABLES else "the lookup"
    with open(path, "rb") as fh:
        start = fh.read(4096)
    if not start.startswith(WORKBOOK_MAGIC):
        looks = "text (a CSV file?)" if _looks_like_text(start) else "neither"
        raise SourceError(
            f"{spec.name}: {path.name} is not an Excel workbook: its content looks like "
            f"{looks}. Rename it to .csv, or set `format: csv` for {where}.")
    try:
        book = pd.ExcelFile(path)
    except ImportError as exc:  # .xls needs xlrd
        raise SourceError(f"{spec.name}: {path.name} needs a package crmkit does not install "
                          f"({exc}); save the workbook as .xlsx") from None
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise SourceError(f"{spec.name}: {path.name} is not a readable Excel workbook "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
                          ) from None
    listed = ", ".join(str(s) for s in book.sheet_names)
    sheet = _sheet(spec, book.sheet_names, where)
    try:
        frame = pd.read_excel(book, sheet_name=sheet, dtype=str, header=None,
                              skiprows=spec.skip_rows or None)
    except Exception as exc:
        raise SourceError(f"{spec.name}: sheet {sheet!r} of {path.name} could not be read "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
                          ) from None
    frame = frame.dropna(how="all")  # blank rows are no rows, as blank lines in a CSV file
    if frame.empty:
        which = "the first sheet" if spec.sheet is None else f"sheet {sheet!r}"
        raise SourceError(f"{spec.name}: {which} of {path.name} is empty"
                          f"{' after skip_rows' if spec.skip_rows else ''}; it has sheets "
                          f"{listed}: set `sheet:` for {where} to the one with the data")
    rows = [[("" if pd.isna(v) else str(v)) for v in row] for row in frame.head(50).itertuples(
        index=False)]
    records = [(int(i) + 1 + spec.skip_rows, _without_trailing_empty(r))
               for i, r in zip(frame.index[:50], rows)]
    _check_preamble(spec, records, Counter(len(f) for _, f in records[1:] or records)
                    .most_common(1)[0][0], word="row")
    header = rows[0]
    _check_repeated_names(spec, header)
    frame = frame.iloc[1:]
    frame.columns = _column_names(header)
    out = tmp_dir / f"{spec.name}.xlsx.parquet"
    frame.to_parquet(out, index=False)
    return f"SELECT * FROM read_parquet({literal(str(out))})"


def _sheet(spec: TableConfig, sheets: list, where: str):
    """The ``sheet:`` setting as pandas takes it (a name, or a position from 0)."""
    sheet = spec.sheet if spec.sheet is not None else 0
    listed = ", ".join(str(s) for s in sheets)
    if isinstance(sheet, str) and sheet in sheets:
        return sheet
    if isinstance(sheet, int) and not isinstance(sheet, bool) and 0 <= sheet < len(sheets):
        return sheet
    if isinstance(sheet, (str, int)) and not isinstance(sheet, bool):
        raise SourceError(f"{spec.name}: {spec.label} has no sheet {sheet!r}; it has sheets "
                          f"{listed}: set `sheet:` for {where} to one of them (or its "
                          "position, 0 for the first)")
    raise ConfigError(f"{where}.sheet: {sheet!r}; name a sheet of {spec.label} ({listed}) "
                      "or give its position, 0 for the first")


def _looks_like_text(start: bytes) -> bool:
    try:
        text = start.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(start) - 4:
            return False
        text = start[:exc.start].decode("utf-8")
    return not any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f")


# -- databases ----------------------------------------------------------------------------


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
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' UNION "
        "SELECT view_name FROM duckdb_views() WHERE database_name = 'src' AND NOT internal"
    ).fetchall()}
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
                return {r[0] for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM "
                    "duckdb_views() WHERE NOT internal").fetchall()}
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
        raise SourceError(f"cannot connect to PostgreSQL at {redact_url(url)}: "
                          f"{scrub(reason, url_secrets(url))}") from None
    except psycopg.ProgrammingError as exc:  # a URL libpq cannot parse (?token=, a bad port)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "malformed"
        raise SourceError(f"cannot connect to PostgreSQL at {redact_url(url)}: the URL is not "
                          f"one PostgreSQL reads ({scrub(reason, url_secrets(url))}); see "
                          "https://www.postgresql.org/docs/current/libpq-connect.html for "
                          "its parameters") from None


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
