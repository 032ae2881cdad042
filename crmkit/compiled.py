"""SQL compiled once per query shape: the same KPI query for another region or period is
the SQL compiled before, with other values filled in.

ibis compiles every expression from scratch, 7-13 ms for a KPI query: longer than DuckDB
takes to run it on a million orders. The queries of a report differ between views in their
text and date/time literals only (filter values, period bounds). So a query's *shape* is
the expression with each distinct non-null text, date and timestamp literal replaced by a
numbered slot; a shape is compiled once, the slots rendered as placeholders, and each call
fills in its literals as ibis itself renders them. Equal literals are one node in ibis,
so a shape also says which literals are equal.

The SQL is meant to be ibis' own, character for character: a slot is rendered as ibis
renders the literal it stands for. Where ibis looks at a literal while compiling, it is an
integer (an offset, a length; never a slot) or a constant sort key (none in crmkit's
queries). With ``CRMKIT_CHECK_SQL=1`` in the environment (the test suite sets it, so every
query of every test is compared) each call also compiles with ibis and raises if the SQL
differs; a shape that cannot be compiled with slots is compiled by ibis every time. Calls with
``params`` or ``pretty`` go to ibis directly. (Hand-written because ibis has no prepared
or cached compilation; its scalar parameters are substituted as literals before
compiling.)
"""

from __future__ import annotations

import itertools
import os
import re
import threading

import ibis
import ibis.expr.datashape as ds
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import sqlglot as sg
import sqlglot.expressions as sge

from crmkit.kept import Kept

SHAPES_KEPT = 1024  # compiled shapes kept per connection (LRU)
NODES_KEPT = 200_000  # numbered sub-shapes (see shape_key) before the numbering restarts
LITERALS_KEPT = 4096  # rendered literals kept per connection (LRU)
CHECK_ENV = "CRMKIT_CHECK_SQL"  # set: every call is checked against ibis' compilation
_SLOT = "crmkit_slot_{}"
_IBIS = object()  # a shape ibis compiles itself


class TemplateSlot(ops.Value):
    """A literal taken out of a query shape, filled in per call."""

    index: int
    dtype: dt.DataType
    shape = ds.scalar


def _slotted(literal: ops.Literal) -> bool:
    dtype = literal.dtype
    return literal.value is not None and (dtype.is_string() or dtype.is_date()
                                          or dtype.is_timestamp())


def shape_key(op: ops.Node, numbers: dict, ids) -> tuple[int, list[ops.Literal]]:
    """The number of ``op``'s shape, and its slotted literals in slot order.

    Each node's shape (its type, its arguments with every node among them replaced by
    that node's shape number, a slotted literal by ("slot", its index, its type)) is
    numbered once in ``numbers``, new numbers taken from ``ids`` (an itertools.count:
    never reused). Equal shapes get equal numbers; a dict lookup of a flat tuple per
    node instead of rebuilding the expression with slots (ibis' replace: ~1.6 ms for a
    KPI query, this ~0.1 ms).
    """
    literals: dict[ops.Literal, int] = {}
    seen: dict[int, int] = {}  # id(node) -> number, for nodes shared within the query

    def visit(x):
        if isinstance(x, ops.Node):
            number = seen.get(id(x))
            if number is None:
                if isinstance(x, ops.Literal) and _slotted(x):
                    sub = ("slot", literals.setdefault(x, len(literals)), x.dtype)
                else:
                    sub = (type(x), *map(visit, x.__args__))
                number = numbers.get(sub)
                if number is None:
                    number = numbers.setdefault(sub, next(ids))
                seen[id(x)] = number
            return number
        if isinstance(x, tuple):
            return tuple(map(visit, x))
        if isinstance(x, dict):
            return tuple((name, visit(value)) for name, value in x.items())
        return x

    return visit(op), list(literals)


def install(con) -> CompiledQueries | None:
    """Make ``con.compile`` (an ibis SQL backend) reuse compiled query shapes; the
    :class:`CompiledQueries` (the one already installed, if any), or None for a backend
    that does not compile to SQL."""
    current = getattr(getattr(con, "compile", None), "__self__", None)
    if isinstance(current, CompiledQueries):
        return current
    if not hasattr(con, "compiler") or not hasattr(con, "dialect"):
        return None
    queries = CompiledQueries(con)
    con.compile = queries.compile
    return queries


class CompiledQueries:
    """``compile`` for an ibis SQL backend that reuses the SQL of earlier query shapes.

        queries = CompiledQueries(con)
        con.compile = queries.compile   # what crmkit.warehouse.Warehouse does

    ``hits``, ``compiled`` and ``by_ibis`` count calls filled from a kept shape, shapes
    compiled, and calls ibis compiled (shapes that cannot be compiled with slots).
    """

    def __init__(self, con, *, kept: int = SHAPES_KEPT):
        self.con = con
        self.ibis_compile = con.compile  # the backend's own, bound before it is replaced
        base = type(con.compiler)
        slots = type("SlotCompiler", (base,), {
            "visit_TemplateSlot": lambda self, op, *, index, dtype:
                sge.Placeholder(this=_SLOT.format(index))})
        self._slot_compiler = slots()
        self._shapes = Kept(kept)
        self._numbers: dict = {}  # sub-shape -> number (shape_key)
        self._ids = itertools.count()
        self._literals = Kept(LITERALS_KEPT)
        self._lock = threading.Lock()
        self.hits = self.compiled = self.by_ibis = 0

    def compile(self, expr, /, *, limit=None, params=None, pretty: bool = False) -> str:
        """The SQL of ``expr``, as ``con.compile`` gives it."""
        if params or pretty:
            return self.ibis_compile(expr, limit=limit, params=params, pretty=pretty)
        table = expr.as_table()
        if limit == "default":
            limit = ibis.options.sql.default_limit
        if limit is not None:
            table = table.limit(limit)
        op = table.op()
        if len(self._numbers) > NODES_KEPT:
            with self._lock:  # numbers are never reused: keys made before stay distinct
                self._numbers = {}
                self._shapes.clear()
        try:
            shape, literals = shape_key(op, self._numbers, self._ids)
        except TypeError:  # an argument that cannot be a dict key: ibis compiles
            self.by_ibis += 1
            return self.ibis_compile(expr, limit=limit)
        with self._lock:
            template = self._shapes.get(shape)
        if template is _IBIS:
            self.by_ibis += 1
            return self.ibis_compile(expr, limit=limit)
        if template is not None:
            self.hits += 1
            sql = self._fill(template, literals)
        else:
            try:
                slotted = op.replace({lit: TemplateSlot(i, lit.dtype)
                                      for i, lit in enumerate(literals)}) if literals else op
                template = self._template(slotted, len(literals))
                sql = self._fill(template, literals)
            except Exception:  # a shape the slots cannot express: ibis compiles it
                with self._lock:
                    self._shapes[shape] = _IBIS
                self.by_ibis += 1
                return self.ibis_compile(expr, limit=limit)
            with self._lock:
                self._shapes[shape] = template
            self.compiled += 1
        if os.environ.get(CHECK_ENV):
            expected = self.ibis_compile(expr, limit=limit)
            if sql != expected:
                raise AssertionError(f"SQL from a kept query shape differs from ibis':\n"
                                     f"{sql}\n!=\n{expected}")
        return sql

    def _template(self, shape, slots: int) -> tuple[str, tuple | None]:
        """The shape's SQL with a placeholder per slot, and what finds them (a pattern and
        placeholder -> slot number), or None without slots."""
        query = self._slot_compiler.to_sqlglot(shape.to_expr())
        text = query.sql(dialect=self.con.dialect, copy=False,
                         unsupported_level=sg.ErrorLevel.RAISE)
        tokens = {sge.Placeholder(this=_SLOT.format(i)).sql(dialect=self.con.dialect): i
                  for i in range(slots)}
        if not tokens:
            return text, None
        pattern = re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len,
                                                                    reverse=True)))
        return text, (pattern, tokens)

    def _render(self, literal: ops.Literal) -> str:
        """A literal as ibis renders it in SQL; kept, as a view's filter values and period
        bounds recur in most of its queries."""
        with self._lock:
            text = self._literals.get(literal)
        if text is None:
            text = self.con.compiler.visit_node(literal, value=literal.value,
                                                dtype=literal.dtype).sql(dialect=self.con.dialect)
            with self._lock:
                self._literals[literal] = text
        return text

    def _fill(self, template, literals) -> str:
        text, slots = template
        if slots is None:
            return text
        pattern, tokens = slots
        rendered = [self._render(lit) for lit in literals]
        # one pass: text filled in is never searched again
        return pattern.sub(lambda m: rendered[tokens[m.group(0)]], text)
