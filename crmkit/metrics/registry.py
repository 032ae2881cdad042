"""The KPI catalogue: each KPI's contract (name, formula, unit, grain, tables) and function.

``@metric(...)`` registers a KPI function and guards it: when a table or column in
``needs`` is missing, or the function raises :class:`MetricUnavailable`, the call returns
:class:`NotAvailable` with the reason instead of raising. The catalogue is filled once, at
import, by the decorators in the KPI modules; nothing changes it afterwards.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, replace
from typing import Callable

import pandas as pd

from crmkit.i18n import tr
from crmkit.labels import either, field_label, need_label, series, table_label
from crmkit.metrics.filters import Filters, unapplied_filters
from crmkit.metrics.results import (Measure, MetricUnavailable, NotAvailable, Nps, Rate,
                                    reason_text)

# Returns: what a call gives with by=None ("measure", "rate", "nps", "frame").
RETURNS = ("measure", "rate", "nps", "frame")


@dataclass(frozen=True)
class Metric:
    """One KPI's contract.

    ``needs`` holds "table" or "table.column" entries, all required; an entry
    "a.x|b.x" is met by either alternative.
    """

    name: str
    title: str
    formula: str
    unit: str
    grain: str
    needs: tuple[str, ...]
    returns: str
    function: Callable
    breakdown: bool

    def missing(self, wh) -> list[str]:
        """The entries of ``needs`` that the warehouse lacks, as a text names them
        (:func:`needs_text` says them)."""
        out = []
        for need in self.needs:
            alternatives = need.split("|")
            if any(_present(wh, alt) for alt in alternatives):
                continue
            table = need.partition(".")[0]
            # "needs tickets" reads better than "needs tickets.type" when the table is absent.
            out.append(table_label(table) if len(alternatives) == 1 and not wh.has(table)
                       else either(need_label(alt) for alt in alternatives))
        return list(dict.fromkeys(out))

    def empty_tables(self, wh) -> str | None:
        """Why a KPI cannot be computed: a table it needs was loaded with no rows (an
        export's empty Case file). A rate over nothing would read as 0%."""
        tables = wh.audit.get("tables", {}) if isinstance(getattr(wh, "audit", None),
                                                          dict) else {}
        for need in self.needs:
            records = [tables.get(alt.partition(".")[0]) for alt in need.split("|")]
            if all(r is not None and r["kept"] + r["flagged"] == 0 for r in records):
                table = need.split("|")[0].partition(".")[0]
                source = records[0].get("input") or table
                return tr("needs {table} data: {source} has no rows").format(
                    table=table_label(table), source=source)
        return None

    def mixed_currencies(self, wh) -> str | None:
        """Why a money KPI cannot be computed: a table it reads holds amounts in several
        currencies that ingest could not convert (no rates). Money is never added up
        across currencies; counts and rates are still given by the KPIs that are not money."""
        if self.unit != "currency":
            return None
        for need in self.needs:
            for alt in need.split("|"):
                currencies = unconverted_currencies(wh, alt.partition(".")[0])
                if currencies:
                    return tr("amounts in {currencies} and no exchange rates: money is not "
                              "added up across currencies; set `rates:` and `currency:` in "
                              "a config").format(currencies=series(currencies))
        return None

    def __call__(self, wh, filters: Filters | None = None, **options):
        return self.function(wh, filters, **options)


def needs_text(missing: list[str]) -> str:
    """"needs tickets", "needs customers.churn_date or orders.x": what :meth:`Metric.missing`
    found lacking, in the active language."""
    return tr("needs {what}").format(what=series(missing))


def unconverted_currencies(wh, table: str) -> list[str]:
    """The currencies of ``table``'s amounts when there are several and ingest had no rates
    to convert them (totalled per currency in its audit); [] otherwise."""
    audit = getattr(wh, "audit", None)
    tables = audit.get("tables", {}) if isinstance(audit, dict) else {}
    record = tables.get(table) or {}
    currencies = record.get("currencies") or []
    totals = record.get("control_totals") or {}
    return list(currencies) if len(currencies) > 1 and "by_currency" in totals else []


def _present(wh, need: str) -> bool:
    table, _, column = need.partition(".")
    return wh.has(table) and (not column or column in wh.table(table).columns)


_METRICS: dict[str, Metric] = {}


def metric(*, name: str, title: str, formula: str, unit: str, grain: str,
           needs: tuple[str, ...] = ("orders",), returns: str = "measure"):
    """Register the decorated KPI ``f(wh, filters, **options)`` under ``name``.

    The wrapped function accepts ``filters=None`` (no filters), checks ``needs`` first,
    and notes in its result which set filters could not reach the tables it reads.
    """
    if returns not in RETURNS:
        raise ValueError(f"metric {name}: returns must be one of {RETURNS}, got {returns!r}")

    def register(func):
        if name in _METRICS:
            raise ValueError(f"metric {name!r} is registered twice")

        @functools.wraps(func)
        def guarded(wh, filters: Filters | None = None, **options):
            filters = filters if filters is not None else Filters()
            missing = entry.missing(wh)
            if missing:
                return NotAvailable(needs_text(missing), name)
            empty = entry.empty_tables(wh)
            if empty:
                return NotAvailable(empty, name)
            mixed = entry.mixed_currencies(wh)
            if mixed:
                return NotAvailable(mixed, name)
            try:
                result = func(wh, filters, **options)
            except MetricUnavailable as why:
                return NotAvailable(str(why), name)
            return _with_note(result, _filter_note(wh, entry.needs, filters))

        entry = Metric(name=name, title=title, formula=formula, unit=unit, grain=grain,
                       needs=tuple(needs), returns=returns, function=guarded,
                       breakdown="by" in inspect.signature(func).parameters)
        _METRICS[name] = entry
        guarded.metric = entry
        return guarded

    return register


def _filter_note(wh, needs, filters: Filters) -> str:
    tables = dict.fromkeys(alt.partition(".")[0] for n in needs for alt in n.split("|"))
    parts = []
    for table in tables:
        skipped = unapplied_filters(wh, table, filters)
        if skipped:
            parts.append(tr("{filters} not applied to {table}").format(
                filters=series(field_label(name) for name in skipped),
                table=table_label(table)))
    return series(parts, semicolons=True)


def _with_note(result, note: str):
    if not note:
        return result
    if isinstance(result, (Measure, Rate, Nps)):
        # The KPI's own note (a catalog message) in the language of the filters' note.
        return replace(result, note=series((p for p in (reason_text(result.note), note) if p),
                                           semicolons=True))
    if isinstance(result, pd.DataFrame):  # keep the KPI's own note, as for the results above
        own = reason_text(result.attrs.get("note", ""))
        result.attrs["note"] = series((p for p in (own, note) if p), semicolons=True)
    return result


def get_metric(name: str) -> Metric:
    """The registered KPI ``name``."""
    _load()
    try:
        return _METRICS[name]
    except KeyError:
        raise KeyError(f"no KPI named {name!r}; known: {', '.join(sorted(_METRICS))}") from None


def metrics() -> list[Metric]:
    """Every registered KPI, in registration order."""
    _load()
    return list(_METRICS.values())


def metric_definitions() -> pd.DataFrame:
    """The KPI definitions for a report appendix.

    Columns: name, title, formula, unit, grain, needs, returns, breakdown.
    """
    rows = [{"name": m.name, "title": m.title, "formula": m.formula, "unit": m.unit,
             "grain": m.grain, "needs": ", ".join(m.needs), "returns": m.returns,
             "breakdown": m.breakdown} for m in metrics()]
    return pd.DataFrame(rows, columns=["name", "title", "formula", "unit", "grain", "needs",
                                       "returns", "breakdown"])


def _load() -> None:
    # The KPI modules register themselves on import; importing the package imports them.
    import crmkit.metrics  # noqa: F401
