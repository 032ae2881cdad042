"""From a staged source table to a canonical table plus its rejects, in one SQL pass.

    stage_<t>  (__row, source columns as they came)
      -> parsed:  canonical columns typed (id, date, number ...), derivations, status rules
      -> reasons: first failed rule per row (missing, unparseable, out of range ...)
      -> dupes:   duplicate keys (or exact duplicate rows) among otherwise valid rows
      -> orphans: references to a parent table's kept keys
      -> <t> (kept and flagged rows) and rejects (quarantined rows, raw record as JSON)

Everything runs inside DuckDB, so memory is bounded by its limit, not by the input size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from crmkit.config import TableConfig
from crmkit.exceptions import ConfigError, SchemaError
from crmkit.ingest.readers import literal, quote
from crmkit.ingest.rules import (DEFAULT_DATE_FORMATS, FALSE_WORDS, FLAG_RULES,
                                 STATUS_SYNONYMS, TRUE_WORDS)
from crmkit.schema import TABLES, Column, Table
from crmkit.warehouse import BOOKKEEPING


def normalized(name: str) -> str:
    """'Customer ID', 'customerId', 'customer_id' -> 'customerid'."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def snake(name: str) -> str:
    """'StockCode' -> 'stock_code', 'Contract Type' -> 'contract_type'."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    s = re.sub(r"[^0-9A-Za-z\u0080-\uffff]+", "_", s).strip("_").lower()
    return s or "column"


@dataclass
class Mapping:
    """Which source column feeds each canonical column, and which become attributes."""

    columns: dict[str, str]      # canonical -> source column
    attributes: dict[str, str]   # attribute name -> source column
    derive: dict[str, str]       # canonical -> expression over canonical columns


def map_columns(spec: TableConfig, source_columns: list[str]) -> Mapping:
    """Resolve the config's mapping against the columns found; raise SchemaError if a
    required column is missing."""
    table = TABLES[spec.name]
    found = [c for c in source_columns if c != "__row"]
    columns: dict[str, str] = {}
    for canonical, src in spec.columns.items():
        if src not in found:
            raise SchemaError(
                f"{spec.name}: the config maps {canonical} to column {src!r}, which "
                f"{spec.label} does not have. Columns found: {', '.join(found)}")
        columns[canonical] = src
    used = set(columns.values())
    by_norm = {}
    for src in found:
        by_norm.setdefault(normalized(src), src)
    for col in table.columns:
        if col.name in columns or col.name in spec.derive:
            continue
        src = by_norm.get(normalized(col.name))
        if src is not None and src not in used:
            columns[col.name] = src
            used.add(src)
    derivable = dict(spec.derive)
    if spec.name == "orders" and "amount" not in columns and "amount" not in derivable \
            and {"quantity", "unit_price"} <= set(columns):
        derivable["amount"] = "quantity * unit_price"
    missing = [c for c in table.required if c not in columns and c not in derivable]
    if missing:
        hint = (" (or map quantity and unit_price to derive it)"
                if missing == ["amount"] else "")
        raise SchemaError(
            f"{spec.name}: required column {', '.join(missing)} not found in "
            f"{spec.label}{hint}. Columns found: {', '.join(found) or 'none'}. "
            f"Rename the column or map it under tables.{spec.name}.columns in a config.")
    reserved = set(table.column_names) | set(BOOKKEEPING)
    attributes: dict[str, str] = {}
    for src in found:
        if src in used:
            continue
        name = snake(src)
        if name in reserved or name in attributes:
            name = f"attr_{name}"
        while name in reserved or name in attributes:
            name += "_"
        attributes[name] = src
    return Mapping(columns, attributes, derivable)


def _text(raw: str) -> str:
    return f"nullif(trim(CAST({raw} AS VARCHAR)), '')"


def _number(raw: str, spec: TableConfig) -> str:
    v = f"trim(CAST({raw} AS VARCHAR))"
    if spec.thousands:
        v = f"replace({v}, {literal(spec.thousands)}, '')"
    if spec.decimal != ".":
        v = f"replace({v}, {literal(spec.decimal)}, '.')"
    return f"TRY_CAST({v} AS DOUBLE)"


def parse_expression(col: Column, raw: str, spec: TableConfig) -> str:
    """SQL turning a raw source value into the canonical kind; NULL when it cannot."""
    text = _text(raw)
    if col.kind == "id":
        # 17850.0 (an id exported through a float column) is the id 17850.
        return rf"regexp_replace({text}, '^(-?[0-9]+)\.0+$', '\1')"
    if col.kind in ("text", "category"):
        return text
    if col.kind == "date":
        formats = list(spec.date_format) or list(DEFAULT_DATE_FORMATS)
        fmt_list = "[" + ", ".join(literal(f) for f in formats) + "]"
        return f"coalesce(TRY_CAST({text} AS TIMESTAMP), try_strptime({text}, {fmt_list}))"
    if col.kind in ("number", "integer"):
        return _number(raw, spec)
    if col.kind == "bool":
        t = ", ".join(literal(w) for w in TRUE_WORDS)
        f = ", ".join(literal(w) for w in FALSE_WORDS)
        return (f"CASE WHEN lower({text}) IN ({t}) THEN true "
                f"WHEN lower({text}) IN ({f}) THEN false END")
    raise AssertionError(col.kind)


_DERIVE_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z_0-9]*)|([0-9]+(?:\.[0-9]+)?)|([-+*/()]))")


def derive_expression(table: Table, target: str, expression: str) -> str:
    """'quantity * unit_price' -> SQL over the parsed canonical columns (checked)."""
    out, pos = [], 0
    expression = expression.strip()
    while pos < len(expression):
        m = _DERIVE_TOKEN.match(expression, pos)
        if not m or m.end() == pos:
            raise ConfigError(f"{table.name}.derive.{target}: cannot read {expression!r} at "
                              f"{expression[pos:]!r}; use arithmetic (+ - * /) over columns")
        name, number, op = m.groups()
        if name is not None:
            if name not in table.column_names:
                raise ConfigError(f"{table.name}.derive.{target}: {name!r} is not a canonical "
                                  f"column; valid: {', '.join(table.column_names)}")
            out.append(quote(name))
        else:
            out.append(number or op)
        pos = m.end()
    return f"round({' '.join(out)}, 6)"


def _status_condition(rule: dict, mapping: Mapping) -> str:
    column = str(rule["column"])
    src = mapping.columns.get(column, column)
    raw = _text(quote(src))
    if "startswith" in rule:
        return f"starts_with({raw}, {literal(rule['startswith'])})"
    if "equals" in rule:
        return f"{raw} = {literal(rule['equals'])}"
    if "in" in rule:
        return f"{raw} IN ({', '.join(literal(v) for v in rule['in'])})"
    return f"TRY_CAST({raw} AS DOUBLE) < 0"


def _status_expression(spec: TableConfig, mapping: Mapping, source_columns: list[str]) -> str:
    for rule in spec.status_rules:
        column = str(rule["column"])
        if column not in mapping.columns and column not in source_columns:
            raise SchemaError(f"{spec.name}.status_rules: no column {column!r} in "
                              f"{spec.label}; columns found: {', '.join(source_columns)}")
        if rule["status"] not in TABLES["orders"].column("status").values:
            raise ConfigError(f"{spec.name}.status_rules: status {rule['status']!r}; use one "
                              f"of {', '.join(TABLES['orders'].column('status').values)}")
    cases = [f"WHEN {_status_condition(r, mapping)} THEN {literal(r['status'])}"
             for r in spec.status_rules]
    if "status" in mapping.columns:
        synonyms = " ".join(f"WHEN {literal(k)} THEN {literal(v)}"
                            for k, v in STATUS_SYNONYMS.items())
        raw = f"lower({_text(quote(mapping.columns['status']))})"
        given = f"CASE {raw} WHEN NULL THEN NULL {synonyms} ELSE '?' || {raw} END"
        default = f"coalesce({given}, 'completed')"
    else:
        default = "'completed'"
    return f"CASE {' '.join(cases)} ELSE {default} END" if cases else default


def _range_checks(table: Table, spec: TableConfig, present: set[str]) -> list[tuple[str, str]]:
    checks = []
    for col in table.columns:
        if col.name not in present or col.kind not in ("number", "integer"):
            continue
        rule = spec.rules.get(col.name, {})
        low = rule.get("min", col.min)
        high = rule.get("max", col.max)
        exclusive = bool(rule.get("exclusive", False))
        c = quote(col.name)
        if low is not None:
            op, word = ("<=", "not above") if exclusive else ("<", "below")
            checks.append((f"{c} {op} {float(low)!r}", f"{col.name} {word} {low:g}"))
        if high is not None:
            op, word = (">=", "not below") if exclusive else (">", "above")
            checks.append((f"{c} {op} {float(high)!r}", f"{col.name} {word} {high:g}"))
    return checks


def build_table(con: duckdb.DuckDBPyConnection, spec: TableConfig, stage: str,
                parents: dict[str, str]) -> Mapping:
    """Create ``scored_<t>`` from ``stage``: canonical columns, attributes, ``__reason``
    (NULL for kept rows), ``flags`` and ``__record`` (the raw row as JSON).

    ``parents`` maps each table already loaded to its qualified SQL name; references to
    it are checked (orphans are quarantined).
    """
    table = TABLES[spec.name]
    source_columns = [r[0] for r in con.execute(f"DESCRIBE {stage}").fetchall()]
    raw_columns = [c for c in source_columns if c != "__row"]
    mapping = map_columns(spec, source_columns)
    # Built (and so checked) before any SQL runs.
    derived = [f"{derive_expression(table, t, e)} AS {quote(t)}"
               for t, e in mapping.derive.items()]

    parsed, present_raw, checked = [], [], set()
    for col in table.columns:
        if col.name in mapping.columns:
            raw = quote(mapping.columns[col.name])
            if col.name == "status" and spec.name == "orders":
                continue  # normalised by _status_expression, checked as "unknown status"
            checked.add(col.name)
            parsed.append(f"{parse_expression(col, raw, spec)} AS {quote(col.name)}")
            present_raw.append(f"{_text(raw)} IS NOT NULL AS {quote('__has_' + col.name)}")
    if spec.name == "orders":
        parsed.append(f"{_status_expression(spec, mapping, raw_columns)} AS status")
    present = set(mapping.columns) | set(mapping.derive)
    if spec.name == "orders":
        present.add("status")

    # Returns carry negative amounts and quantities, whatever sign the export used.
    signed = []
    if spec.name == "orders":
        for c in ("amount", "quantity"):
            if c in present:
                signed.append(f"CASE WHEN status = 'returned' THEN -abs({quote(c)}) "
                              f"ELSE {quote(c)} END AS {quote(c)}")

    reasons = []
    for col in table.columns:
        if col.name not in present:
            continue
        c = quote(col.name)
        if col.name in checked:
            has = quote("__has_" + col.name)
            reasons.append((f"{has} AND {c} IS NULL", f"unparseable {col.name}"))
        if col.required:
            reasons.append((f"{c} IS NULL", f"missing {col.name}"))
        if col.kind == "integer":
            reasons.append((f"{c} <> round({c})", f"{col.name} not a whole number"))
    reasons += _range_checks(table, spec, present)
    if spec.name == "orders":
        reasons.append(("starts_with(status, '?')", "unknown status"))
        reasons.append(("amount < 0 AND status <> 'returned'",
                        "negative amount on a non-return"))
    reason_sql = "CASE " + " ".join(f"WHEN {cond} THEN {literal(label)}"
                                    for cond, label in reasons) + " END" if reasons else "NULL"

    if spec.unique == "row":
        partition = ", ".join(f"__src_{i}" for i in range(len(raw_columns)))
        dup_label = "exact duplicate row"
    else:
        partition = ", ".join(quote(k) for k in table.key)
        dup_label = f"duplicate {', '.join(table.key)}"
    dup_sql = (f"CASE WHEN __reason1 IS NULL AND row_number() OVER (PARTITION BY "
               f"__reason1 IS NULL, {partition} ORDER BY __row) > 1 THEN {literal(dup_label)} END")

    orphan_cases = []
    for col in table.columns:
        if not col.references or col.name not in present:
            continue
        parent, parent_key = col.references.split(".")
        if parent in parents and parent != spec.name:
            c = quote(col.name)
            orphan_cases.append(
                f"WHEN {c} IS NOT NULL AND {c} NOT IN (SELECT {quote(parent_key)} FROM "
                f"{parents[parent]}) THEN {literal('unknown ' + col.name)}")
    orphan_sql = f"CASE {' '.join(orphan_cases)} END" if orphan_cases else "NULL"

    flag_rules = FLAG_RULES.get(spec.name, {})
    # A flag applies when every canonical column its rule names is present in the source.
    flag_parts = [f"CASE WHEN {cond} THEN {literal(flag)} END" for flag, cond in flag_rules.items()
                  if all(word in present for word in re.findall(r"[a-z_]+", cond)
                         if word in table.column_names)]
    flags_sql = (f"nullif(concat_ws(';', {', '.join(flag_parts)}), '')" if flag_parts
                 else "CAST(NULL AS VARCHAR)")

    # Every canonical column exists in the warehouse; one the source lacks is NULL.
    typed = [f"CAST({quote(c.name) if c.name in present else 'NULL'} AS {c.sql_type}) "
             f"AS {quote(c.name)}" for c in table.columns]
    # Raw source columns travel as __src_<i>: their names may equal canonical ones.
    alias = {c: f"__src_{i}" for i, c in enumerate(raw_columns)}
    raw_select = [f"{quote(c)} AS {alias[c]}" for c in raw_columns]
    record = "to_json(struct_pack(" + ", ".join(
        f"{quote(c)} := {alias[c]}" for c in raw_columns) + "))"
    attrs = [f"{alias[src]} AS {quote(name)}" for name, src in mapping.attributes.items()]

    def select_list(*parts):
        return ", ".join(p for part in parts for p in part)

    sql = f"""
    CREATE OR REPLACE TABLE scored_{spec.name} AS
    WITH parsed AS (
        SELECT __row, {select_list(parsed, present_raw, raw_select)}
        FROM {stage}
    ), derived AS (
        SELECT * {', ' + ', '.join(derived) if derived else ''} FROM parsed
    ), signed AS (
        SELECT * {'REPLACE (' + ', '.join(signed) + ')' if signed else ''} FROM derived
    ), checked AS (
        SELECT *, {reason_sql} AS __reason1 FROM signed
    ), deduped AS (
        SELECT *, {dup_sql} AS __reason2 FROM checked
    ), judged AS (
        SELECT *, coalesce(__reason1, __reason2, {orphan_sql}) AS __reason FROM deduped
    )
    SELECT {select_list(typed, attrs)},
           __row AS source_row,
           CASE WHEN __reason IS NULL THEN {flags_sql} END AS flags,
           __reason,
           CASE WHEN __reason IS NOT NULL THEN {record} END AS __record
    FROM judged
    """
    con.execute(sql)
    return mapping
