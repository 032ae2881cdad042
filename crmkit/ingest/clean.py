"""From a staged source table to a canonical table plus its rejects, in one SQL pass.

    stage_<t>  (__row, source columns as they came)
      -> parsed:  canonical columns typed (id, date, number ...), derivations, status rules
      -> reasons: first failed rule per row (missing, unparseable, out of range ...)
      -> dupes:   duplicate keys (or exact duplicate rows) among otherwise valid rows
      -> orphans: references to a parent table's kept keys
      -> <t> (kept and flagged rows) and rejects (quarantined rows, raw record as JSON)

Everything runs inside DuckDB, so memory is bounded by its limit, not by the input size.
The SQL is planned once (:func:`plan_table`) in three steps: the row checks, the
duplicates, the orphans and flags. :func:`build_table` runs them as one DuckDB statement;
on Spark (crmkit.ingest.spark) the same SQL runs the row checks in DuckDB inside Spark's
workers, batch by batch, and Spark finds duplicates and orphans across the whole table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

import duckdb

from crmkit.config import STATUS_TABLES, ColumnSpec, TableConfig, Test
from crmkit.exceptions import ConfigError, SchemaError
from crmkit.ingest.readers import UNREADABLE, UNREADABLE_LINE, literal, quote
from crmkit.ingest.rules import (CHURNED_STATUSES, DAYS_PER_MONTH, DEFAULT_DATE_FORMATS,
                                 FALSE_WORDS, FLAG_RULES, FLAGGED_REFERENCES, LOST_STAGES,
                                 MAX_MAGNITUDE, OUTCOME_SYNONYMS, STATUS_SYNONYMS, TRUE_WORDS,
                                 UTC_OFFSET, WON_STAGES, ZONED_TIME)
from crmkit.schema import DERIVED_NAMES, TABLES, Column, Table
from crmkit.warehouse import BOOKKEEPING

# The prefix an attribute gets when its name is taken (`revenue` -> `customer_revenue`).
SINGULAR = {"customers": "customer", "orders": "order", "leads": "lead",
            "opportunities": "opportunity", "campaigns": "campaign", "tickets": "ticket",
            "surveys": "survey", "targets": "target"}


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
    specs: dict[str, ColumnSpec] = field(default_factory=dict)  # canonical -> how it is read
    renamed: dict[str, str] = field(default_factory=dict)  # attribute -> why it was renamed
    absent: list[str] = field(default_factory=list)  # optional mappings the source lacks

    @property
    def present(self) -> set[str]:
        return set(self.specs) | set(self.derive)


def map_columns(spec: TableConfig, source_columns: list[str],
                joined: dict[str, str] | None = None) -> Mapping:
    """Resolve the config's mapping against the columns found; raise SchemaError if a
    mapped or required column is missing.

    ``joined`` names the columns a lookup added (column -> lookup name): they are mapped
    only when the config names them, never by their name alone (a user file's ``Name``
    is not the deal's name).
    """
    table = TABLES[spec.name]
    joined = joined or {}
    found = [c for c in source_columns if c != "__row"]
    specs: dict[str, ColumnSpec] = {}
    absent: list[str] = []
    for canonical, col_spec in spec.columns.items():
        names = col_spec.alternatives or (col_spec.column,)
        if col_spec.optional and col_spec.column is not None and \
                not any(c in found for c in names):
            absent.append(canonical)
            continue
        if col_spec.alternatives:
            there = tuple(c for c in col_spec.alternatives if c in found)
            if not there:
                raise SchemaError(
                    f"{spec.name}: the config maps {canonical} to columns "
                    f"{', '.join(map(repr, col_spec.alternatives))}, none of which "
                    f"{spec.label} has. Columns found: {', '.join(found)}")
            col_spec = replace(col_spec, column=there[0], alternatives=there)
        elif col_spec.column is not None and col_spec.column not in found:
            raise SchemaError(
                f"{spec.name}: the config (or its preset) maps {canonical} to column "
                f"{col_spec.column!r}, which {spec.label} does not have. Columns found: "
                f"{', '.join(found)}. Map {canonical} to one of them under "
                f"tables.{spec.name}.columns, or write {{column: ..., optional: true}}.")
        specs[canonical] = col_spec
    used = {c for s in specs.values() for c in (s.alternatives or (s.column,)) if c is not None}
    by_norm: dict[str, str] = {}
    for src in found:
        if src not in joined:
            by_norm.setdefault(normalized(src), src)
    for col in table.columns:
        if col.name in specs or col.name in spec.derive or col.computed or col.name in absent:
            continue
        for name in (col.name, *col.aliases):
            src = by_norm.get(normalized(name))
            if src is not None and src not in used:
                specs[col.name] = ColumnSpec(column=src)
                used.add(src)
                break
    derivable = dict(spec.derive)
    if spec.name == "orders" and "amount" not in specs and "amount" not in derivable \
            and {"quantity", "unit_price"} <= set(specs):
        derivable["amount"] = "quantity * unit_price"
    if len(found) == 1:
        for mark, label in ((",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if mark in found[0]:
                raise SchemaError(
                    f"{spec.name}: {spec.label} was read as one column ({found[0][:60]!r}); "
                    f"it looks {label}-separated: set `delimiter: {mark!r}` for "
                    f"tables.{spec.name} in a config")
    missing = [c for c in table.required if c not in specs and c not in derivable]
    if missing:
        hint = (" (or map quantity and unit_price to derive it)"
                if missing == ["amount"] else "")
        raise SchemaError(
            f"{spec.name}: required column {', '.join(missing)} not found in "
            f"{spec.label}{hint}. Columns found: {', '.join(found) or 'none'}. "
            f"Rename the column or map it under tables.{spec.name}.columns in a config.")
    reserved = set(table.column_names) | set(BOOKKEEPING) | set(DERIVED_NAMES)
    attributes: dict[str, str] = {}
    renamed: dict[str, str] = {}
    for src in found:
        if src in used:
            continue
        base = snake(src)
        name = base
        if name in reserved or name in attributes:
            prefix = joined.get(src) or SINGULAR[spec.name]
            name = f"{prefix}_{base}"
            while name in reserved or name in attributes:
                name += "_"
            why = ("a column crmkit computes" if base in DERIVED_NAMES
                   else "a canonical column" if base in table.column_names
                   else "another attribute")
            renamed[name] = f"{src} -> {name} ({base} is {why})"
        attributes[name] = src
    columns = {c: s.column for c, s in specs.items() if s.column is not None}
    return Mapping(columns, attributes, derivable, specs, renamed, absent)


def _text(raw: str) -> str:
    return f"nullif(trim(CAST({raw} AS VARCHAR)), '')"


def _number(raw: str, spec: TableConfig) -> str:
    v = f"trim(CAST({raw} AS VARCHAR))"
    if spec.thousands:
        v = f"replace({v}, {literal(spec.thousands)}, '')"
    if spec.decimal != ".":
        v = f"replace({v}, {literal(spec.decimal)}, '.')"
    return f"TRY_CAST({v} AS DOUBLE)"


def _words(words) -> str:
    return ", ".join(literal(w) for w in words)


def parse_expression(col: Column, raw: str, spec: TableConfig) -> str:
    """SQL turning a raw source value into the canonical kind; NULL when it cannot."""
    text = _text(raw)
    if col.kind == "id":
        # 17850.0 (an id exported through a float column) is the id 17850.
        return rf"regexp_replace({text}, '^(-?[0-9]+)\.0+$', '\1')"
    if col.kind in ("text", "category"):
        return text
    if col.kind == "date":
        return _timestamp(text, spec)
    if col.kind in ("number", "integer"):
        return _number(raw, spec)
    if col.kind == "bool":
        return (f"CASE WHEN lower({text}) IN ({_words(TRUE_WORDS)}) THEN true "
                f"WHEN lower({text}) IN ({_words(FALSE_WORDS)}) THEN false END")
    raise AssertionError(col.kind)


def _timestamp(text: str, spec: TableConfig) -> str:
    """SQL reading a date or time as a naive TIMESTAMP in the config's time zone.

    One rule for every reader: a time with a UTC offset (``10:00+02:00``, ``10:00Z``,
    ``10:00 -0500``, ``+05``; PostgreSQL's and DuckDB's timestamptz as text,
    ``08:00:00+00``) is converted to ``spec.timezone``; a time without one, and a date
    alone, is taken as already in that zone and kept as it is. The part before the offset
    is read as ISO 8601 or with the table's date formats; a format with ``%z`` reads its
    own offset.
    """
    formats = list(spec.date_format) or list(DEFAULT_DATE_FORMATS)
    plain = [f for f in formats if "%z" not in f and "%Z" not in f]
    zoned = [f for f in formats if f not in plain]

    def strptime(value: str, fmts: list[str]) -> str:
        return f"try_strptime({value}, [{', '.join(literal(f) for f in fmts)}])"

    def local(instant: str) -> str:  # a TIMESTAMPTZ -> the wall-clock time in the zone
        if spec.timezone == "UTC":  # the same, without ICU's per-row zone lookup
            return f"make_timestamp(epoch_us({instant}))"
        return f"timezone({literal(spec.timezone)}, {instant})"

    # DuckDB reads the common offsets itself (+02:00, +0530, +05, Z, UTC), and the rest once
    # written its way (no space before the offset, seconds in the time, an upper-case Z).
    # Only a date format before the offset is left to arithmetic: slower, so tried last.
    spaced = f"regexp_replace(upper({text}), '\\s+([-+][0-9]|Z$)', '\\1')"
    written = f"regexp_replace({spaced}, '([ T][0-9]{{1,2}}:[0-9]{{2}})([-+Z])', '\\1:00\\2')"
    offset = f"regexp_extract({text}, {literal(UTC_OFFSET)}, 1)"
    hhmmss = f"rpad(substr(replace({offset}, ':', ''), 2), 6, '0')"
    seconds = (f"CASE WHEN upper({offset}) IN ('Z', 'UTC', 'GMT') THEN 0 ELSE "
               f"(CASE WHEN starts_with({offset}, '-') THEN -1 ELSE 1 END) * "
               f"(CAST(substr({hhmmss}, 1, 2) AS INTEGER) * 3600 + "
               f"CAST(substr({hhmmss}, 3, 2) AS INTEGER) * 60 + "
               f"CAST(substr({hhmmss}, 5, 2) AS INTEGER)) END")
    stamp = f"regexp_replace({text}, {literal(UTC_OFFSET)}, '')"
    wall = f"coalesce(TRY_CAST({stamp} AS TIMESTAMP), {strptime(stamp, plain)})" if plain \
        else f"TRY_CAST({stamp} AS TIMESTAMP)"
    instant = [f"TRY_CAST({text} AS TIMESTAMPTZ)", f"TRY_CAST({written} AS TIMESTAMPTZ)",
               f"timezone('UTC', {wall} - to_seconds({seconds}))"]
    without = [f"TRY_CAST({text} AS TIMESTAMP)"] + ([strptime(text, plain)] if plain else [])
    if zoned:
        instant.append(strptime(text, zoned))
        without.append(local(strptime(text, zoned)))
    # A zone by name (2025-03-01 08:00 Europe/Berlin), which only TIMESTAMPTZ reads.
    without.append(local(f"TRY_CAST({text} AS TIMESTAMPTZ)"))
    return (f"CASE WHEN regexp_matches({text}, {literal(ZONED_TIME)}) "
            f"THEN {local('coalesce(' + ', '.join(instant) + ')')} "
            f"ELSE coalesce({', '.join(without)}) END")


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
            canonical = table.canonical_name(name)
            if canonical is None:
                raise ConfigError(f"{table.name}.derive.{target}: {name!r} is not a canonical "
                                  f"column; valid: {', '.join(table.column_names)}")
            out.append(quote(canonical))
        else:
            out.append(number or op)
        pos = m.end()
    return f"round({' '.join(out)}, 6)"


class Columns:
    """The staged source's columns by their SQL alias: ``__v<i>`` (the value, placeholders
    read as missing) and ``__src<i>`` (as it came, for the rejects record)."""

    def __init__(self, names: list[str], joined: dict[str, str], null_values: bool = False):
        self.names = names
        self.joined = joined
        self.raw_alias = {c: f"__src{i}" for i, c in enumerate(names)}
        # Without placeholders to read as missing, the value is the raw column itself:
        # one copy of each column less to carry through the query.
        self.alias = {c: f"__v{i}" for i, c in enumerate(names)} if null_values \
            else dict(self.raw_alias)

    def value(self, column: str) -> str:
        return self.alias[column]


def _mapped_text(col_spec: ColumnSpec, cols: Columns) -> str:
    """The source text a canonical column is parsed from: the column's value through its
    value map, or a constant."""
    if col_spec.is_constant:
        return "NULL" if col_spec.constant is None else literal(col_spec.constant)
    text = _text(cols.value(col_spec.column))
    if len(col_spec.alternatives) > 1:
        text = f"coalesce({', '.join(_text(cols.value(c)) for c in col_spec.alternatives)})"
    if not col_spec.values:
        return text
    exact = " ".join(f"WHEN {text} = {literal(k)} THEN {_value(v)}"
                     for k, v in col_spec.values.items())
    loose = " ".join(f"WHEN lower({text}) = {literal(k.lower())} THEN {_value(v)}"
                     for k, v in col_spec.values.items())
    other = literal(col_spec.default) if col_spec.has_default and col_spec.default is not None \
        else ("NULL" if col_spec.has_default else text)
    return f"CASE WHEN {text} IS NULL THEN NULL {exact} {loose} ELSE {other} END"


def _value(v) -> str:
    return "CAST(NULL AS VARCHAR)" if v is None else literal(v)


def test_sql(test: Test, text: str) -> str:
    """SQL for a rule's test over a column's trimmed source text."""
    arg = test.arg
    if test.ignore_case and test.op != "negative":
        text = f"lower({text})"
        arg = [a.lower() for a in arg] if isinstance(arg, list) else str(arg).lower()
    if test.op == "equals":
        return f"coalesce({text} = {literal(arg)}, false)"
    if test.op == "in":
        return f"coalesce({text} IN ({_words(arg)}), false)"
    if test.op == "startswith":
        return f"coalesce(starts_with({text}, {literal(arg)}), false)"
    if test.op == "matches":
        pattern = f"(?i){arg}" if test.ignore_case else arg
        return f"coalesce(regexp_full_match({text}, {literal(pattern)}), false)"
    return f"coalesce(TRY_CAST({text} AS DOUBLE) < 0, false)"


def _rule_text(column: str, mapping: Mapping, cols: Columns, spec: TableConfig,
               where: str, optional: bool) -> str | None:
    """The source text a rule tests: a canonical column's source, or a source column."""
    col_spec = mapping.specs.get(column)
    if col_spec is not None:
        return _mapped_text(col_spec, cols) if col_spec.is_constant else \
            _text(cols.value(col_spec.column))
    if column in cols.alias:
        return _text(cols.value(column))
    if optional:
        return None
    raise SchemaError(f"{spec.name}.{where}: no column {column!r} in {spec.label}; columns "
                      f"found: {', '.join(c for c in cols.names)}")


@dataclass
class Built:
    """What build_table made of a table, for the audit."""

    mapping: Mapping
    derived: dict[str, str] = field(default_factory=dict)  # canonical -> how it was derived
    skipped_rules: list[str] = field(default_factory=list)  # optional rules with no column
    value_maps: dict[str, str] = field(default_factory=dict)
    snapshot_date: str | None = None
    # reason -> what it means and the setting that moves it ("before 1900-01-01 or ..."):
    # the reason itself stays a short label the audit counts.
    reason_details: dict[str, str] = field(default_factory=dict)


def _tested_rules(spec: TableConfig, mapping: Mapping, cols: Columns, built: Built
                  ) -> list[tuple]:
    """(rule, SQL condition) for each rule with a test whose column the source has; an
    optional rule without its column is noted in ``built.skipped_rules``."""
    out = []
    for rule in (r for r in spec.rules if not r.is_range):
        text = _rule_text(rule.column, mapping, cols, spec, f"rules.{rule.column}",
                          rule.optional)
        if text is None:
            built.skipped_rules.append(f"rules.{rule.column}: no column {rule.column!r}")
            continue
        out.append((rule, test_sql(rule.test, text)))
    return out


def _status_expression(spec: TableConfig, mapping: Mapping, cols: Columns,
                       built: Built) -> str | None:
    """The table's status: status rules first (in order), then the mapped status (orders:
    normalised to completed / cancelled / returned, '?<value>' when unknown)."""
    cases = []
    for i, rule in enumerate(spec.status_rules):
        text = _rule_text(rule.test.column, mapping, cols, spec, f"status_rules[{i}]",
                          rule.test.optional)
        if text is None:
            built.skipped_rules.append(f"status_rules[{i}]: no column {rule.test.column!r}")
            continue
        cases.append(f"WHEN {test_sql(rule.test, text)} THEN {literal(rule.status)}")
    given = None
    if "status" in mapping.specs:
        raw = _mapped_text(mapping.specs["status"], cols)
        if spec.name == "orders":
            synonyms = " ".join(f"WHEN {literal(k)} THEN {literal(v)}"
                                for k, v in STATUS_SYNONYMS.items())
            given = f"CASE lower({raw}) {synonyms} ELSE '?' || lower({raw}) END"
        else:
            given = raw
    if spec.name == "orders":
        default = f"coalesce({given}, 'completed')" if given else "'completed'"
    elif spec.name == "customers" and cases and given is None:
        # Status rules without a status column: a customer no rule marks is active.
        default = "'active'"
    else:
        default = given or "CAST(NULL AS VARCHAR)"
        if not cases and given is None:
            return None
    return f"CASE {' '.join(cases)} ELSE {default} END" if cases else default


def _outcome_expression(present: set[str], stage_text: str | None, outcome_text: str | None
                        ) -> tuple[str | None, str | None]:
    """(SQL for an opportunity's outcome, how it was derived) from what the source has."""
    if outcome_text is not None:
        synonyms = " ".join(f"WHEN {literal(k)} THEN {literal(v)}"
                            for k, v in OUTCOME_SYNONYMS.items())
        return f"CASE lower({outcome_text}) {synonyms} ELSE '?' || {outcome_text} END", None
    if "won" in present:
        closed = ("WHEN closed THEN 'lost' WHEN NOT closed THEN 'open'"
                  if "closed" in present else "WHEN NOT won THEN 'lost'")
        how = "from won and closed" if "closed" in present else \
            "from won (true: won, false: lost, empty: open)"
        return f"CASE WHEN won THEN 'won' {closed} ELSE 'open' END", how
    if stage_text is not None:
        return (f"CASE WHEN stage IS NULL THEN NULL "
                f"WHEN lower(stage) IN ({_words(WON_STAGES)}) THEN 'won' "
                f"WHEN lower(stage) IN ({_words(LOST_STAGES)}) THEN 'lost' ELSE 'open' END",
                "from the stage (Won / Closed Won: won; Lost / Closed Lost: lost; "
                "other stages: open)")
    if "closed" in present:
        return "CASE WHEN NOT closed THEN 'open' END", "from closed (closed deals: unknown)"
    return None, None


def _shape(spec: TableConfig, present: set[str], mapping: Mapping, built: Built
           ) -> list[str]:
    """Columns derived from others, per table shape: an opportunity's outcome, won and
    stage order; a lead's converted date; a snapshot customer's status, churn flag and
    dates. Each returns as ``expr AS name`` for a REPLACE or an addition."""
    out: list[tuple[str, str, str]] = []  # (name, expression, how)
    if spec.name == "opportunities":
        outcome_text = "outcome" if "outcome" in present else None
        expr, how = _outcome_expression(present, "stage" if "stage" in present else None,
                                        outcome_text)
        if expr is not None:
            out.append(("outcome", expr, how))
            present.add("outcome")
        if "won" not in present and expr is not None:
            out.append(("won", "CASE WHEN outcome = 'won' THEN true WHEN outcome = 'lost' "
                        "THEN false END", "from outcome"))
        if "closed" not in present and expr is not None:
            out.append(("closed", "outcome IN ('won', 'lost')", "from outcome"))
        if spec.stages:
            if "stage" not in present:
                raise ConfigError(f"{spec.name}.stages: the table has no stage column; map "
                                  "`stage` under columns")
            cases = " ".join(f"WHEN stage = {literal(s)} THEN {i}"
                             for i, s in enumerate(spec.stages, 1))
            out.append(("stage_order", f"CASE {cases} END",
                        "from the config's stages: " + ", ".join(spec.stages)))
    elif spec.name == "leads":
        if "converted" not in present and "converted_date" in present:
            out.append(("converted", "converted_date IS NOT NULL",
                        "converted when a converted date is given"))
            present.add("converted")
        if "converted_date" not in present and {"closed_date", "converted"} <= present:
            out.append(("converted_date", "CASE WHEN converted THEN closed_date END",
                        "closed_date of converted leads"))
        if spec.stages:
            if "stage" not in present:
                raise ConfigError(f"{spec.name}.stages: the table has no stage column; map "
                                  "`stage` under columns")
    elif spec.name == "customers":
        if "churned" not in present:
            if "status" in present:
                out.append(("churned", f"CASE WHEN status IS NULL THEN NULL ELSE lower(status) "
                            f"IN ({_words(CHURNED_STATUSES)}) END",
                            "from status (" + ", ".join(CHURNED_STATUSES[:4]) + " ...)"))
                present.add("churned")
            elif "churn_date" in present:
                out.append(("churned", "churn_date IS NOT NULL", "customers with a churn date"))
                present.add("churned")
        if "status" not in present and "churned" in present:
            out.append(("status", "CASE WHEN churned THEN 'churned' WHEN NOT churned "
                        "THEN 'active' END", "from churned"))
        if "tenure_months" not in present and "tenure_days" in present:
            out.append(("tenure_months", f"tenure_days / {DAYS_PER_MONTH}",
                        f"tenure_days / {DAYS_PER_MONTH} (days in a month)"))
            present.add("tenure_months")
        if "signup_date" not in present and "tenure_months" in present:
            snapshot = spec.snapshot_date or dt.date.today()
            built.snapshot_date = snapshot.isoformat()
            s = f"DATE {literal(snapshot.isoformat())}"
            by_days = "tenure_days" in present
            out.append((
                "signup_date",
                f"CAST({s} - to_days(CAST(round(tenure_days) AS INTEGER)) AS TIMESTAMP)"
                if by_days else
                f"CAST(CASE WHEN tenure_months = round(tenure_months) "
                f"THEN {s} - to_months(CAST(tenure_months AS INTEGER)) "
                f"ELSE {s} - to_days(CAST(round(tenure_months * {DAYS_PER_MONTH}) AS INTEGER)) "
                f"END AS TIMESTAMP)",
                f"snapshot date {snapshot.isoformat()} minus "
                f"{'tenure_days' if by_days else 'tenure_months'}"))
            if "churn_date" not in present and "churned" in present:
                out.append(("churn_date", f"CASE WHEN churned THEN CAST({s} AS TIMESTAMP) END",
                            f"snapshot date {snapshot.isoformat()} for churned customers"))
    for name, _expr, how in out:
        if how is not None:  # None: a mapped column normalised, not derived
            built.derived[name] = how
    return [f"{expr} AS {quote(name)}" for name, expr, _how in out]


def _range_checks(table: Table, spec: TableConfig, present: set[str], mapping: Mapping,
                  cols: Columns, built: Built) -> list[tuple[str, str]]:
    """Out-of-range quarantine checks: the schema's ranges, overridden or added by rules."""
    ranges = {r.column: r for r in spec.rules if r.is_range}
    checks = []
    for col in table.columns:
        if col.name not in present or col.kind not in ("number", "integer"):
            continue
        rule = ranges.pop(col.name, None)
        low = rule.min if rule and rule.min is not None else col.min
        high = rule.max if rule and rule.max is not None else col.max
        checks += _bounds(quote(col.name), col.name, low, high,
                          bool(rule and rule.exclusive))
    for column, rule in ranges.items():
        if column in table.column_names:
            if table.column(column).kind not in ("number", "integer"):
                raise ConfigError(f"{spec.name}.rules.{column}: a range applies to numbers; "
                                  f"{column} is {table.column(column).kind}")
            if rule.optional:
                built.skipped_rules.append(f"rules.{column}: not in the source")
                continue
            raise SchemaError(f"{spec.name}.rules.{column}: {spec.label} has no {column}")
        text = _rule_text(column, mapping, cols, spec, f"rules.{column}", rule.optional)
        if text is None:
            built.skipped_rules.append(f"rules.{column}: no column {column!r}")
            continue
        checks += _bounds(_number(text, spec), column, rule.min, rule.max, rule.exclusive)
    return checks


def _bounds(value: str, name: str, low, high, exclusive: bool) -> list[tuple[str, str]]:
    checks = []
    if low is not None:
        op, word = ("<=", "not above") if exclusive else ("<", "below")
        checks.append((f"{value} {op} {float(low)!r}", f"{name} {word} {low:g}"))
    if high is not None:
        op, word = (">=", "not below") if exclusive else (">", "above")
        checks.append((f"{value} {op} {float(high)!r}", f"{name} {word} {high:g}"))
    return checks


def _null_values(expr: str, spec: TableConfig) -> str:
    """The value, or NULL when it is one of the table's placeholders (compared trimmed)."""
    if not spec.null_values:
        return expr
    nulls = _words(dict.fromkeys(v.strip() for v in spec.null_values))
    return (f"CASE WHEN trim(CAST({expr} AS VARCHAR)) IN ({nulls}) "
            f"THEN NULL ELSE {expr} END")


def build_table(con: duckdb.DuckDBPyConnection, spec: TableConfig, stage: str,
                parents: dict[str, str], joined: dict[str, str] | None = None) -> Built:
    """Create ``scored_<t>`` from ``stage``: canonical columns, attributes, ``__reason``
    (NULL for kept rows), ``flags`` and ``__record`` (the raw row as JSON).

    ``parents`` maps each table already loaded to its qualified SQL name; references to
    it are checked (orphans are quarantined). ``joined`` names the columns lookups added
    to the stage (column -> lookup name).
    """
    source_columns = [r[0] for r in con.execute(f"DESCRIBE {stage}").fetchall()]
    plan = plan_table(spec, source_columns, parents, joined)

    def orphan(ref: Orphan) -> str:
        c = quote(ref.column)
        return (f"{c} IS NOT NULL AND {c} NOT IN (SELECT {quote(ref.parent_key)} FROM "
                f"{parents[ref.parent]})")

    con.execute(f"""
    CREATE OR REPLACE TABLE scored_{spec.name} AS
    WITH {plan.checked(stage)}, deduped AS (
        SELECT *, {plan.duplicate} AS __reason2 FROM checked
    ), {plan.judged("deduped", orphan)}
    """)
    _check_value_maps(con, spec, stage, plan.built.mapping)
    if spec.stages:
        _check_stages(con, spec)
    return plan.built


@dataclass(frozen=True)
class Orphan:
    """A reference to a parent table already loaded: ``column`` -> ``parent.parent_key``.
    A row naming a key the parent lacks is quarantined with ``reason``, or kept with
    ``flag`` (FLAGGED_REFERENCES)."""

    column: str
    parent: str
    parent_key: str
    reason: str | None = None
    flag: str | None = None


@dataclass
class TablePlan:
    """The SQL that turns a staged table into its scored rows, in three steps that an
    engine can run where it suits it (DuckDB: one statement, :func:`build_table`; Spark:
    the row checks per batch in DuckDB, the duplicates and orphans across the table,
    crmkit.ingest.spark):

    - :meth:`checked`: CTEs from the staged rows to ``checked``: typed canonical columns,
      attributes, the first failed row rule (``__reason1``);
    - :attr:`duplicate`: the duplicate-key (or row) reason over ``checked``, a window;
    - :meth:`judged`: the final reason (the row's, the duplicate's ``__reason2``, an
      orphan's), the flags and the raw record of quarantined rows: the scored table.
    """

    built: Built
    base: list[str]
    parsed: list[str]
    derived: list[str]
    shaped_sql: str
    signed: list[str]
    reason_sql: str
    duplicate: str
    orphans: list[Orphan]
    flag_parts: list[str]
    typed: list[str]
    attrs: list[str]
    record: str

    def checked(self, stage: str) -> str:
        """``base AS (...), ..., checked AS (...)`` from the relation ``stage``."""
        def select_list(*parts):
            return ", ".join(p for part in parts for p in part)

        return f"""base AS (
        SELECT __row, {select_list(self.base)} FROM {stage}
    ), parsed AS (
        SELECT __row, {select_list(self.parsed)}
        FROM base
    ), derived AS (
        SELECT * {', ' + ', '.join(self.derived) if self.derived else ''} FROM parsed
    ), shaped AS (
        {self.shaped_sql}
    ), signed AS (
        SELECT * {'REPLACE (' + ', '.join(self.signed) + ')' if self.signed else ''} FROM shaped
    ), checked AS (
        SELECT *, {self.reason_sql} AS __reason1 FROM signed
    )"""

    def judged(self, deduped: str, orphan: Callable[[Orphan], str]) -> str:
        """``judged AS (...) SELECT <the scored columns> FROM judged`` from the relation
        ``deduped`` (``checked`` with ``__reason2``); ``orphan`` writes the SQL that is
        true for a row whose reference its parent lacks."""
        cases = [f"WHEN {orphan(o)} THEN {literal(o.reason)}" for o in self.orphans
                 if o.reason]
        orphan_sql = f"CASE {' '.join(cases)} END" if cases else "NULL"
        parts = self.flag_parts + [f"CASE WHEN {orphan(o)} THEN {literal(o.flag)} END"
                                   for o in self.orphans if o.flag]
        flags_sql = (f"nullif(concat_ws(';', {', '.join(parts)}), '')" if parts
                     else "CAST(NULL AS VARCHAR)")
        return f"""judged AS (
        SELECT *, coalesce(__reason1, __reason2, {orphan_sql}) AS __reason FROM {deduped}
    )
    SELECT {', '.join([*self.typed, *self.attrs])},
           __row AS source_row,
           CASE WHEN __reason IS NULL THEN {flags_sql} END AS flags,
           __reason,
           CASE WHEN __reason IS NOT NULL THEN {self.record} END AS __record
    FROM judged
    """


def plan_table(spec: TableConfig, source_columns: list[str], parents: Collection[str],
               joined: dict[str, str] | None = None) -> TablePlan:
    """The SQL (DuckDB's) that scores a staged table with columns ``source_columns``
    (``__row`` among them), checking references to the tables in ``parents`` (loaded
    before); raise ConfigError or SchemaError for what the config and columns cannot
    do, before any SQL runs."""
    table = TABLES[spec.name]
    joined = joined or {}
    # Rows the CSV reader could not split into the header's columns (more fields than it
    # has): quarantined with the reader's reason, their line kept as their record.
    unreadable = [c for c in (UNREADABLE, UNREADABLE_LINE) if c in source_columns]
    source_columns = [c for c in source_columns if c not in unreadable]
    raw_columns = [c for c in source_columns if c != "__row"]
    mapping = map_columns(spec, source_columns, joined)
    built = Built(mapping)
    cols = Columns(raw_columns, joined, bool(spec.null_values))
    # Built (and so checked) before any SQL runs.
    derived = [f"{derive_expression(table, t, e)} AS {quote(t)}"
               for t, e in mapping.derive.items()]
    for canonical, col_spec in mapping.specs.items():
        if col_spec.values:
            built.value_maps[canonical] = col_spec.column
            _check_map_targets(spec, table.column(canonical), col_spec)

    parsed, present_raw, checked = [], [], set()
    status_tables = STATUS_TABLES
    for col in table.columns:
        col_spec = mapping.specs.get(col.name)
        if col_spec is None or (col.name == "status" and spec.name in status_tables):
            continue  # status: set by _status_expression
        text = _mapped_text(col_spec, cols)
        checked.add(col.name)
        parsed.append(f"{parse_expression(col, text, spec)} AS {quote(col.name)}")
        present_raw.append(f"{text} IS NOT NULL AS {quote('__has_' + col.name)}")
    present = mapping.present
    if spec.name in status_tables:
        status = _status_expression(spec, mapping, cols, built)
        if status is not None:
            parsed.append(f"{status} AS status")
            present.add("status")
        else:
            present.discard("status")
    status_parsed = "status" in present and spec.name in status_tables
    shaped = _shape(spec, present, mapping, built)
    present |= set(built.derived) | {e.rsplit(" AS ", 1)[1].strip('"') for e in shaped}

    # Returns carry negative amounts and quantities, whatever sign the export used.
    signed = []
    if spec.name == "orders":
        for c in ("amount", "quantity"):
            if c in present:
                signed.append(f"CASE WHEN status = 'returned' THEN -abs({quote(c)}) "
                              f"ELSE {quote(c)} END AS {quote(c)}")

    tested = _tested_rules(spec, mapping, cols, built)
    reasons = [(cond, rule.quarantine) for rule, cond in tested if rule.quarantine]
    for col in table.columns:
        if col.name not in present:
            continue
        c = quote(col.name)
        if col.name in checked:
            has = quote("__has_" + col.name)
            reasons.append((f"{has} AND {c} IS NULL", f"unparseable {col.name}"))
        if col.required:
            reasons.append((f"{c} IS NULL", f"missing {col.name}"))
        if col.name == "currency":  # an ISO 4217 code; "dollars" or "$" cannot be converted
            reasons.append((f"{c} IS NOT NULL AND NOT regexp_full_match(trim(CAST({c} AS "
                            f"VARCHAR)), '[A-Za-z]{{3}}')", "currency not a currency code"))
        if col.kind in ("number", "integer"):
            reasons.append((f"NOT isfinite({c}) OR abs({c}) > {MAX_MAGNITUDE!r}",
                            f"{col.name} not a finite number"))
        if col.kind == "integer":
            reasons.append((f"{c} <> round({c})", f"{col.name} not a whole number"))
        if col.kind == "date":
            plausible = spec.plausible_dates
            label = f"{col.name} out of range"
            reasons.append((f"{c} < TIMESTAMP {literal(plausible.earliest.isoformat())} OR "
                            f"{c} >= TIMESTAMP {literal(plausible.last().isoformat())} "
                            "+ INTERVAL 1 DAY", label))
            built.reason_details[label] = f"{plausible.describe()} (setting plausible_dates)"
    reasons += _range_checks(table, spec, present, mapping, cols, built)
    if spec.name == "orders":
        reasons.append(("starts_with(status, '?')", "unknown status"))
        reasons.append(("amount < 0 AND status <> 'returned'",
                        "negative amount on a non-return"))
    if spec.name == "opportunities" and "outcome" in present:
        reasons.append(("starts_with(outcome, '?')", "unknown outcome"))
    reason_sql = "CASE " + " ".join(f"WHEN {cond} THEN {literal(label)}"
                                    for cond, label in reasons) + " END" if reasons else "NULL"

    if spec.unique == "row":
        partition = ", ".join(cols.raw_alias[c] for c in raw_columns if c not in joined)
        dup_label = "exact duplicate row"
    else:
        partition = ", ".join(quote(k) for k in table.key)
        dup_label = f"duplicate {', '.join(table.key)}"
    dup_sql = (f"CASE WHEN __reason1 IS NULL AND row_number() OVER (PARTITION BY "
               f"__reason1 IS NULL, {partition} ORDER BY __row) > 1 THEN {literal(dup_label)} END")

    # A reference to a customer that does not exist is quarantined (whose sale is it?);
    # one to a campaign that does not exist only loses the attribution: kept, flagged.
    orphans = []
    for col in table.columns:
        if not col.references or col.name not in present:
            continue
        parent, parent_key = col.references.split(".")
        if parent in parents and parent != spec.name:
            orphans.append(Orphan(col.name, parent, parent_key,
                                  flag=FLAGGED_REFERENCES.get(parent),
                                  reason=None if parent in FLAGGED_REFERENCES
                                  else f"unknown {col.name}"))

    flag_rules = dict(FLAG_RULES.get(spec.name, {}))
    # A flag applies when every canonical column its rule names is present in the source.
    flag_parts = [f"CASE WHEN {cond} THEN {literal(flag)} END" for flag, cond in flag_rules.items()
                  if all(word in present for word in re.findall(r"[a-z_]+", cond)
                         if word in table.column_names)]
    flag_parts += [f"CASE WHEN {cond} THEN {literal(rule.flag)} END"
                   for rule, cond in tested if rule.flag]

    # Every canonical column exists in the warehouse; one the source lacks is NULL.
    # amount_original is the amount as read; ingest converts `amount` afterwards when it
    # has exchange rates (crmkit.ingest.currency).
    source_of = {c.name: c.name for c in table.columns if c.name in present}
    if "amount_original" in table.column_names and "amount" in present:
        source_of["amount_original"] = "amount"
    typed = [f"CAST({quote(source_of[c.name]) if c.name in source_of else 'NULL'} AS "
             f"{c.sql_type}) AS {quote(c.name)}" for c in table.columns]
    base = [f"{quote(c)} AS {cols.raw_alias[c]}" for c in raw_columns]
    if spec.null_values:
        base += [f"{_null_values(quote(c), spec)} AS {cols.alias[c]}" for c in raw_columns]
    record = "to_json(struct_pack(" + ", ".join(
        f"{quote(c)} := {cols.raw_alias[c]}" for c in raw_columns if c not in joined) + "))"
    # Attributes: blank is missing, as in canonical columns; text stays text here (ingest
    # types an all-numeric attribute afterwards, see crmkit.ingest).
    attrs = [f"CASE WHEN trim(CAST({cols.alias[src]} AS VARCHAR)) = '' THEN NULL "
             f"ELSE {cols.alias[src]} END AS {quote(name)}"
             for name, src in mapping.attributes.items()]
    carried = list(dict.fromkeys([*cols.raw_alias.values(), *cols.alias.values()]))
    base += unreadable
    carried += unreadable
    if unreadable:
        reason_sql = f"coalesce({UNREADABLE}, {reason_sql})"
        record = (f"CASE WHEN {UNREADABLE} IS NOT NULL THEN to_json(struct_pack(line := "
                  f"{UNREADABLE_LINE})) ELSE {record} END")
    # Columns the `derived` step has: a shaped column replaces one of these or is added.
    existing = checked | set(mapping.derive) | ({"status"} if status_parsed else set())
    return TablePlan(
        built=built, base=base, parsed=[*parsed, *present_raw, *carried], derived=derived,
        shaped_sql=_shaped_select(shaped, "derived", existing), signed=signed,
        reason_sql=reason_sql, duplicate=dup_sql, orphans=orphans, flag_parts=flag_parts,
        typed=typed, attrs=attrs, record=record)


def _shaped_select(shaped: list[str], source: str, existing: set[str]) -> str:
    """Shaped columns applied one after another (a later one may read an earlier one:
    won reads outcome), each replacing a column of that name or adding it."""
    sql = f"SELECT * FROM {source}"
    existing = set(existing)
    for i, expr in enumerate(shaped):
        name = expr.rsplit(" AS ", 1)[1].strip('"')
        if name in existing:
            sql = f"SELECT * REPLACE ({expr}) FROM ({sql}) AS s{i}"
        else:
            sql = f"SELECT *, {expr} FROM ({sql}) AS s{i}"
            existing.add(name)
    return sql


def _allowed_values(spec: TableConfig, col: Column) -> tuple[str, ...] | None:
    """The values a canonical column can take (lower case), when it is a closed set."""
    if col.kind == "bool":
        return (*TRUE_WORDS, *FALSE_WORDS)
    if spec.name == "opportunities" and col.name == "outcome":
        return tuple(OUTCOME_SYNONYMS)
    if spec.name == "orders" and col.name == "status":
        return tuple(STATUS_SYNONYMS)
    return None


def _check_map_targets(spec: TableConfig, col: Column, col_spec: ColumnSpec) -> None:
    """A value map's targets (and default) must be values the column can hold: a typo
    there would quarantine, or silently mislabel, every row it maps."""
    where = f"tables.{spec.name}.columns.{col.name}"
    targets = [(f"values.{k}", v) for k, v in col_spec.values.items() if v is not None]
    if col_spec.has_default and col_spec.default is not None:
        targets.append(("default", col_spec.default))
    allowed = _allowed_values(spec, col)
    for at, value in targets:
        if allowed is not None and value.lower() not in allowed:
            shown = ("true, false (or yes, no ...)" if col.kind == "bool"
                     else ", ".join(col.values or sorted(set(allowed))))
            raise ConfigError(f"{where}.{at}: {value!r} is not a value {col.name} can take; "
                              f"use one of {shown}, or null")
        if col.kind in ("number", "integer"):
            try:
                float(value)
            except ValueError:
                raise ConfigError(f"{where}.{at}: {value!r} is not a number") from None


def _check_value_maps(con: duckdb.DuckDBPyConnection, spec: TableConfig, stage: str,
                      mapping: Mapping) -> None:
    """A value map key that matches no value, while the column has values the map does not
    name, is a typo: stop and list the values found."""
    for canonical, col_spec in mapping.specs.items():
        if not col_spec.values or col_spec.has_default:
            continue
        found = dict(con.execute(
            f"SELECT v, count(*) FROM (SELECT {_null_values(_text(quote(col_spec.column)), spec)}"
            f" AS v FROM {stage}) WHERE v IS NOT NULL GROUP BY v ORDER BY 2 DESC, 1 LIMIT 1000"
        ).fetchall())
        keys = {k.lower() for k in col_spec.values}
        unused = [k for k in col_spec.values
                  if k not in found and k.lower() not in {f.lower() for f in found}]
        unnamed = {v: n for v, n in found.items() if v.lower() not in keys}
        if unused and unnamed:
            listed = ", ".join(f"{v!r} ({n:,} rows)" for v, n in list(unnamed.items())[:10])
            raise ConfigError(
                f"tables.{spec.name}.columns.{canonical}.values: {', '.join(map(repr, unused))} "
                f"matches no value of {col_spec.column!r}, which has values the map does not "
                f"name: {listed}. Values found: {', '.join(map(repr, list(found)[:30]))}")


def _check_stages(con: duckdb.DuckDBPyConnection, spec: TableConfig) -> None:
    """Every stage in the data is listed in the config's `stages` (a stage left out, or
    misspelt, would drop out of the funnel's order). Listed stages the data lacks are fine:
    a pipeline may have stages no deal is in today."""
    found = dict(con.execute(
        f"SELECT stage, count(*) FROM scored_{spec.name} WHERE stage IS NOT NULL "
        f"GROUP BY 1 ORDER BY 2 DESC").fetchall())
    unlisted = {s: n for s, n in found.items() if s not in spec.stages}
    if unlisted:
        listed = ", ".join(f"{s!r} ({n:,} rows)" for s, n in unlisted.items())
        raise ConfigError(f"tables.{spec.name}.stages does not list {listed}; stages in the "
                          f"data: {', '.join(map(repr, found))}")
