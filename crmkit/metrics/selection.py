"""How much of the data the filters select: the rows a report's filters leave, per table.

A filter value that matches nothing is not an error (a region that had no sales this
quarter is a fact); the report's scope line says which filter left no rows.
"""

from __future__ import annotations

import pandas as pd

from crmkit.i18n import N_
from crmkit.metrics.derived import execute
from crmkit.metrics.filters import Filters, apply_filters
from crmkit.metrics.registry import metric

# The tables whose rows a report is about, first present first.
MAIN_TABLES = ("orders", "opportunities", "customers")


@metric(name="selected_rows", title=N_("Rows the filters select"), unit="count",
        grain=N_("all"), needs=("orders|opportunities|customers",), returns="frame",
        formula=N_("rows of the main table (orders, else opportunities, else customers) "
                   "that match every filter, the period aside; and, per filter alone, the "
                   "rows it matches"))
def selected_rows(wh, filters) -> pd.DataFrame:
    """filter -> rows: one row per filter condition (its rows alone) and one named "all"
    (every condition together), on the first of :data:`MAIN_TABLES` the data has."""
    table = next(t for t in MAIN_TABLES if wh.has(t))
    rows = [{"filter": "all", "table": table,
             "rows": int(execute(apply_filters(wh, table, filters, period=False).count()))}]
    for name, value in filters.conditions().items():
        one = Filters(attributes={name: value}) if name in filters.attributes else \
            Filters(**{name: value})
        rows.append({"filter": name, "table": table,
                     "rows": int(execute(apply_filters(wh, table, one, period=False).count()))})
    return pd.DataFrame(rows)


# -- what the filter panel offers (queries the sections layer does not make itself) ---------
def distinct_values(wh, table: str, column: str, limit: int) -> set:
    """Up to ``limit`` distinct non-empty values of ``table.column`` (the panel's choices)."""
    t = wh.table(table)
    values = execute(t.filter(t[column].notnull()).select(column).distinct().limit(limit))
    return {v.item() if hasattr(v, "item") else v for v in values[column].tolist() if v != ""}


def date_span(wh, table: str, column: str) -> tuple:
    """First and last day of ``table.column`` (None, None when it has no dates)."""
    dates = wh.table(table)[column]
    first, last = execute(dates.min()), execute(dates.max())
    return (None if pd.isna(first) else pd.Timestamp(first).date(),
            None if pd.isna(last) else pd.Timestamp(last).date())


def table_rows(wh, table: str) -> int:
    """Rows of ``table`` (a warehouse without an ingest audit to read them from)."""
    return int(execute(wh.table(table).count()))
