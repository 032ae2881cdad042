"""One filter object for every KPI, set from notebook parameters or widgets.

The period
    ``start`` and ``end`` are calendar dates and both are **inclusive**:
    ``Filters(start="2025-01-01", end="2025-03-31")`` is the first quarter, through the
    last second of 31 March. Internally a row is in the period when
    ``start <= date < end + 1 day``. Times of day given with ``start``/``end`` are dropped.
    Either bound may be None (open-ended).

Which date each table is filtered on (:data:`PERIOD_COLUMNS`)
    orders.order_date, leads.created_date, tickets.opened_at, surveys.date,
    campaigns.start_date (campaigns that started in the period), opportunities.close_date
    (deals closed in the period: bookings, win rate, sales cycle). ``customers`` (the
    customer base) and ``targets`` (prorated over the period) are not cut by date here;
    nor is the open pipeline (the deals open now, whatever their expected close date),
    and the opportunity funnel cuts deals on created_date instead: both take
    ``apply_filters(..., period=False)``. The KPIs that do so say how the period applies.

How a filter reaches a table (one rule, :func:`apply_filters`)
    1. The table's own column for that filter (:data:`FILTER_COLUMNS`): ``region`` is
       orders.region / customers.region / targets.region, ``segment`` is
       customers.segment, ``channel`` the sales channel orders.channel, ``category`` is
       on orders, ``product`` on orders and opportunities, ``sales_rep`` is
       orders.sales_rep, leads.owner, opportunities.owner (deal owner), targets.owner and
       customers.owner (account owner). An entry of ``attributes`` matches the column of
       exactly that name.
    2. Otherwise, when the table has ``customer_id`` and the customers table has the
       column: rows whose customer matches (a semi-join; rows without a customer drop out).
       ``region`` and ``segment`` reach opportunities (and leads) this way.
    3. Otherwise the filter does not apply to that table; :func:`unapplied_filters` names
       those, and KPIs put them in their ``note``. (Ticket and campaign ``channel`` columns
       are contact and marketing channels, not the sales channel, so ``channel`` does not
       filter them.)

Each filter value is a single value, a list of values (any of them), or None (no filter).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import ibis
import pandas as pd

from crmkit import i18n
from crmkit.exceptions import ParameterError
from crmkit.i18n import tr
from crmkit.labels import either, filter_label, series, table_label
from crmkit.metrics.results import MetricUnavailable

DIMENSIONS = ("region", "segment", "channel", "category", "product", "sales_rep")

# filter name -> {table: column}; tables not listed reach the filter through customers.
FILTER_COLUMNS: dict[str, dict[str, str]] = {
    "region": {"orders": "region", "customers": "region", "targets": "region"},
    "segment": {"customers": "segment"},
    "channel": {"orders": "channel"},
    "category": {"orders": "category"},
    "product": {"orders": "product", "opportunities": "product"},
    "sales_rep": {"orders": "sales_rep", "leads": "owner", "opportunities": "owner",
                  "targets": "owner", "customers": "owner"},
}

# table -> the date column the period cuts on.
PERIOD_COLUMNS = {
    "orders": "order_date",
    "leads": "created_date",
    "tickets": "opened_at",
    "surveys": "date",
    "campaigns": "start_date",
    "opportunities": "close_date",
}

DAY = pd.Timedelta(days=1)


def _to_date(value, key: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (str, date, datetime, pd.Timestamp)):
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError) as err:
            raise ParameterError(
                f"`{key}` must be a date like 2025-01-31, got {value!r}") from err
        if stamp is pd.NaT:
            return None
        return stamp.tz_localize(None).normalize() if stamp.tzinfo else stamp.normalize()
    raise ParameterError(f"`{key}` must be a date like 2025-01-31, got {value!r}")


def _to_values(value, key: str):
    """None / a scalar / a tuple of values. Strings with commas are split (CLI params)."""
    if value is None:
        return None
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        parts = [p for p in parts if p]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else tuple(parts)
    if isinstance(value, (list, tuple, set, frozenset, pd.Index, pd.Series)):
        items = tuple(v for v in value if v is not None and v != "")
        if isinstance(value, (set, frozenset)):
            items = tuple(sorted(items, key=str))
        if not items:
            return None
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        raise ParameterError(f"`{key}` must be a value or a list of values, not a dict")
    return value


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


@dataclass(frozen=True)
class Filters:
    """The period and the slice of the data a KPI looks at.

    start, end
        First and last day of the period, both inclusive (None: open-ended).
    region, segment, channel, category, product, sales_rep
        A value, a list of values, or None.
    attributes
        ``{column: value or list}`` for any other column (extra source columns kept as
        attributes, or canonical columns such as ``country``), matched by exact name.
    """

    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    region: object = None
    segment: object = None
    channel: object = None
    category: object = None
    product: object = None
    sales_rep: object = None
    attributes: dict = field(default_factory=dict)

    def __post_init__(self):
        set_ = object.__setattr__  # normalise inputs on a frozen instance
        set_(self, "start", _to_date(self.start, "start"))
        set_(self, "end", _to_date(self.end, "end"))
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ParameterError(
                f"the period ends ({self.end:%Y-%m-%d}) before it starts "
                f"({self.start:%Y-%m-%d}); swap `start` and `end`")
        for name in DIMENSIONS:
            set_(self, name, _to_values(getattr(self, name), name))
        attrs = self.attributes or {}
        if not isinstance(attrs, dict):
            raise ParameterError(
                f"`attributes` must be a dict of column -> value(s), got {attrs!r}")
        clean = {}
        for column, value in attrs.items():
            if column in DIMENSIONS or column in ("start", "end"):
                raise ParameterError(
                    f"`attributes` has {column!r}; set it as the `{column}` filter instead")
            value = _to_values(value, f"attributes[{column!r}]")
            if value is not None:
                clean[str(column)] = value
        set_(self, "attributes", dict(sorted(clean.items())))

    def __hash__(self):
        return hash((self.start, self.end, *(getattr(self, d) for d in DIMENSIONS),
                     tuple(self.attributes.items())))

    # -- the period ---------------------------------------------------------------------
    @property
    def end_exclusive(self) -> pd.Timestamp | None:
        """The first instant after the period (``end`` + 1 day), or None."""
        return None if self.end is None else self.end + DAY

    @property
    def days(self) -> int | None:
        """Length of the period in days, or None when open-ended."""
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).days + 1

    def _whole_months(self) -> int | None:
        """Number of calendar months the period spans exactly, else None."""
        if self.start is None or self.end is None:
            return None
        if self.start.day != 1 or self.end_exclusive.day != 1:
            return None
        after = self.end_exclusive
        return (after.year - self.start.year) * 12 + after.month - self.start.month

    def _need_period(self, what: str) -> None:
        if self.start is None or self.end is None:
            raise ParameterError(f"{what} needs a period with both `start` and `end`")

    def previous_period(self) -> Filters:
        """The period of the same length just before this one, other filters unchanged.

        Whole calendar months shift by months (Q2 -> Q1, March -> February); any other
        period shifts by its length in days.
        """
        self._need_period("previous_period()")
        months = self._whole_months()
        if months:
            start = self.start - pd.DateOffset(months=months)
        else:
            start = self.start - pd.Timedelta(days=self.days)
        return replace(self, start=start, end=self.start - DAY)

    def same_period_last_year(self) -> Filters:
        """This period one year earlier (whole months stay whole: Feb 2024 ends on the 29th)."""
        self._need_period("same_period_last_year()")
        if self._whole_months():
            start = self.start - pd.DateOffset(years=1)
            end = self.end_exclusive - pd.DateOffset(years=1) - DAY
        else:
            start = self.start - pd.DateOffset(years=1)
            end = self.end - pd.DateOffset(years=1)
        return replace(self, start=start, end=end)

    def with_period(self, start=None, end=None) -> Filters:
        """The same slice over another period."""
        return replace(self, start=start, end=end)

    # -- parameters ---------------------------------------------------------------------
    @classmethod
    def from_params(cls, params: dict) -> Filters:
        """Filters from notebook parameters / widget values.

        Reads ``start``, ``end``, the dimension names, ``attributes`` (a dict or a JSON
        object string) and ``attr_<column>`` keys; other keys (title, language ...) are
        ignored, so a notebook's whole parameter dict can be passed. Empty strings and
        empty lists mean "no filter"; a string with commas is a list (``"East,West"``).
        """
        if not isinstance(params, dict):
            raise ParameterError(f"filter parameters must be a dict, got {type(params).__name__}")
        attrs = params.get("attributes") or {}
        if isinstance(attrs, str):
            try:
                attrs = json.loads(attrs)
            except json.JSONDecodeError as err:
                raise ParameterError(
                    f"`attributes` must be a JSON object like {{\"contract\": \"Two year\"}}, "
                    f"got {attrs!r}") from err
        attrs = dict(attrs)
        for key, value in params.items():
            if key.startswith("attr_") and len(key) > 5:
                attrs[key[5:]] = value
        return cls(start=params.get("start"), end=params.get("end"),
                   **{d: params.get(d) for d in DIMENSIONS}, attributes=attrs)

    def to_params(self) -> dict:
        """The set filters as plain parameters (dates as ISO text, lists as lists)."""
        out = {}
        if self.start is not None:
            out["start"] = self.start.strftime("%Y-%m-%d")
        if self.end is not None:
            out["end"] = self.end.strftime("%Y-%m-%d")
        for name in DIMENSIONS:
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value) if isinstance(value, tuple) else value
        if self.attributes:
            out["attributes"] = {k: list(v) if isinstance(v, tuple) else v
                                 for k, v in self.attributes.items()}
        return out

    def conditions(self) -> dict:
        """Every set dimension and attribute as ``{name: value or tuple}``."""
        out = {d: getattr(self, d) for d in DIMENSIONS if getattr(self, d) is not None}
        out.update(self.attributes)
        return out

    def describe(self) -> str:
        """The filters in words, in the active language (crmkit.i18n): "1 Jan 2025 – 31 Mar
        2025; region: East or West" (2025年1月1日 – 2025年3月31日；地区：华东或华西)."""
        parts = []
        if self.start is not None and self.end is not None:
            parts.append(tr("{start} – {end}").format(start=i18n.date(self.start),
                                                      end=i18n.date(self.end)))
        elif self.start is not None:
            parts.append(tr("from {start}").format(start=i18n.date(self.start)))
        elif self.end is not None:
            parts.append(tr("up to {end}").format(end=i18n.date(self.end)))
        for name, value in self.conditions().items():
            parts.append(tr("{name}: {values}").format(
                name=filter_label(name), values=either(_as_tuple(value))))
        return series(parts, semicolons=True) if parts else tr("all data, no filters")


# -- applying filters ------------------------------------------------------------------
def _own_column(name: str, table: str, columns) -> str | None:
    if name in FILTER_COLUMNS:
        col = FILTER_COLUMNS[name].get(table)
        return col if col in columns else None
    return name if name in columns else None


def _customer_column(wh, name: str, table: str, columns) -> str | None:
    """The customers column reached through ``customer_id`` for filter ``name``, if any."""
    if table == "customers" or "customer_id" not in columns or not wh.has("customers"):
        return None
    col = FILTER_COLUMNS[name].get("customers") if name in FILTER_COLUMNS else name
    return col if col and col in wh.table("customers").columns else None


def _match(column: ibis.Column, value) -> ibis.BooleanColumn:
    values = [_coerce(v, column) for v in _as_tuple(value)]
    return column == values[0] if len(values) == 1 else column.isin(values)


def _coerce(value, column: ibis.Column):
    """A filter value in the column's type: text columns compare as text."""
    dtype = column.type()
    if dtype.is_string():
        return str(value)
    if dtype.is_boolean() and isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "y", "1")
    if dtype.is_numeric() and isinstance(value, str):
        try:
            return float(value)
        except ValueError as err:
            raise ParameterError(
                f"filter value {value!r} is not a number, but {column.get_name()} is") from err
    if dtype.is_timestamp() or dtype.is_date():
        return pd.Timestamp(value)
    return value


def apply_filters(wh, table: str, filters: Filters | None, *,
                  period: bool = True) -> ibis.Table:
    """``table`` of warehouse ``wh`` cut to ``filters`` (see the module docstring).

    ``period=False`` leaves the date range out (KPIs that look back before the period).
    Returns an ibis table expression; nothing is executed.
    """
    if filters is None:
        return wh.table(table)
    return wh.expression(("filtered", table, filters, period),
                         lambda: _filtered(wh, table, filters, period))


def _filtered(wh, table: str, filters: Filters, period: bool) -> ibis.Table:
    t = wh.table(table)
    columns = t.columns
    # One filter of all conditions: ibis compiles one predicate list faster than a chain
    # of filters it has to merge.
    conditions = []
    if period and table in PERIOD_COLUMNS and PERIOD_COLUMNS[table] in columns:
        conditions += period_conditions(t, PERIOD_COLUMNS[table], filters)
    customer_conditions = []
    for name, value in filters.conditions().items():
        own = _own_column(name, table, columns)
        if own is not None:
            conditions.append(_match(t[own], value))
            continue
        via = _customer_column(wh, name, table, columns)
        if via is not None:
            customer_conditions.append(_match(wh.table("customers")[via], value))
    if customer_conditions:
        chosen = wh.table("customers").filter(*customer_conditions).customer_id
        conditions.append(t.customer_id.isin(chosen))
    return t.filter(*conditions) if conditions else t


def period_conditions(t: ibis.Table, column: str, filters: Filters) -> list:
    """Conditions: ``column`` falls in the filters' period (start <= d < end + 1 day)."""
    conditions = []
    if filters.start is not None:
        conditions.append(t[column] >= filters.start.to_pydatetime())
    if filters.end is not None:
        conditions.append(t[column] < filters.end_exclusive.to_pydatetime())
    return conditions


def cut_period(t: ibis.Table, column: str, filters: Filters) -> ibis.Table:
    """Rows of ``t`` whose ``column`` falls in the filters' period (start <= d < end + 1 day)."""
    conditions = period_conditions(t, column, filters)
    return t.filter(*conditions) if conditions else t


def unapplied_filters(wh, table: str, filters: Filters | None, *,
                      period: bool = True) -> list[str]:
    """Names of the set filters that cannot reach ``table`` (rule 3 of the module doc).

    With ``period=True`` a set period on a table without its date column is listed too.
    """
    if filters is None or not wh.has(table):
        return []
    columns = wh.table(table).columns
    out = []
    if (period and (filters.start is not None or filters.end is not None)
            and table in PERIOD_COLUMNS and PERIOD_COLUMNS[table] not in columns):
        out.append("period")
    for name in filters.conditions():
        if _own_column(name, table, columns) is None and \
                _customer_column(wh, name, table, columns) is None:
            out.append(name)
    return out


def with_breakdown(wh, table: str, t: ibis.Table, by) -> tuple[ibis.Table, list[str]]:
    """``t`` with the ``by`` columns available, and ``by`` as a list.

    A ``by`` column is the table's own column of that name or, failing that, the
    customers column of that name joined on ``customer_id`` (NULL for rows without a
    customer). Raises MetricUnavailable naming the columns there are when neither has it.
    """
    by = breakdown_list(by)
    missing = [c for c in by if c not in t.columns]
    if not missing:
        return t, by
    reachable = ("customer_id" in t.columns and table != "customers"
                 and wh.has("customers"))
    customer_cols = wh.table("customers").columns if reachable else ()
    for col in missing:
        if col not in customer_cols:
            have = series(sorted(set(t.columns) | set(customer_cols)))
            template = (tr("cannot break {table} down by {column}: no such column in "
                           "{table} or customers (columns: {columns})") if reachable else
                        tr("cannot break {table} down by {column}: no such column in {table} "
                           "(columns: {columns})"))
            raise MetricUnavailable(template.format(table=table_label(table),
                                                    column=repr(col), columns=have))
    customers = wh.table("customers").select("customer_id", *missing)
    joined = t.left_join(customers, "customer_id")
    return joined.select(*t.columns, *missing), by


def breakdown_list(by) -> list[str]:
    """``by`` (None, a column, or columns) as a list of column names."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)
