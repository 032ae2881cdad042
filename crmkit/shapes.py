"""Which reports a loaded data set can feed, from its audit.

A data set comes in one of three shapes, or several at once: retail order lines (orders),
a B2B pipeline (opportunities) and a subscription snapshot (customers with a churn flag or
status). Each report needs one of them; `crmkit ingest` prints this after loading, and
`crmkit render` lists a report the data cannot feed as not applicable instead of running it.
Standard library and crmkit.i18n only: the render command reads it on its fast, cached
path. A reason a report does not apply is English, marked for the catalogs: the render
shows it translated (``tr(reason)``).
"""

from __future__ import annotations

from crmkit.i18n import N_


def _rows(audit: dict, table: str) -> int:
    record = audit.get("tables", {}).get(table)
    return (record["kept"] + record["flagged"]) if record else 0


def _has(audit: dict, table: str, *columns: str) -> bool:
    record = audit.get("tables", {}).get(table) or {}
    known = set(record.get("columns", {})) | set(record.get("derived", {}))
    return _rows(audit, table) > 0 and all(c in known for c in columns)


def is_snapshot(audit: dict) -> bool:
    """A subscription snapshot: customers with a churn flag (or status or churn date) and
    no orders to infer churn from."""
    return _rows(audit, "orders") == 0 and any(
        _has(audit, "customers", c) for c in ("churned", "status", "churn_date"))


def has_shape(audit: dict, shape: str) -> bool:
    """Whether the data has ``shape``: a table's name (it has rows), or ``snapshot``."""
    return is_snapshot(audit) if shape == "snapshot" else _rows(audit, shape) > 0


def reports_fed(audit: dict) -> dict[str, dict]:
    """report -> {"feeds": bool, "because": what it reads, or what it needs}.

    What each report reads is what its sections compute today: the retail reports read
    orders. A shape a report does not read yet is named in the reason, so that a user
    sees what is missing rather than a report of zeros.
    """
    orders = _rows(audit, "orders") > 0
    deals = _rows(audit, "opportunities") > 0
    snapshot = any(_has(audit, "customers", c) for c in ("churned", "status", "churn_date"))
    feedback = [t for t in ("surveys", "tickets") if _rows(audit, t) > 0]
    out = {}
    dated = [t for t in ("orders", "opportunities", "leads", "tickets", "surveys", "campaigns")
             if _rows(audit, t) > 0]
    out["kpi_scorecard"] = (
        (True, "the KPIs of " + ", ".join(dated + (["the customer snapshot"] if snapshot and
                                                   not orders else [])))
        if dated or snapshot else (False, N_("needs orders, opportunities, or a "
                                             "customer snapshot")))
    out["sales_performance"] = (
        (True, " and ".join(t for t, has in (("orders", orders), ("opportunities", deals))
                            if has)) if orders or deals else
        (False, N_("needs orders or opportunities")))
    accounts = _has(audit, "opportunities", "customer_id")
    out["customer_behaviour"] = (
        (True, " and ".join(what for what, has in (("orders per customer", orders),
                                                   ("won and open deals per account",
                                                    accounts)) if has))
        if orders or accounts else
        (False, N_("needs orders, or opportunities with their accounts")))
    scores = _has(audit, "customers", "satisfaction")
    heard = [*feedback, *(["customers' satisfaction scores"] if scores else [])]
    out["satisfaction"] = (
        (True, " and ".join(["orders", *feedback])) if orders and feedback else
        (False, N_("needs surveys or tickets")) if orders else
        (True, ", ".join(heard)) if heard else
        (False, N_("needs surveys, tickets or customers' satisfaction scores")))
    tenure = _has(audit, "customers", "churned") and _has(audit, "customers", "tenure_months")
    out["churn"] = (
        (True, "orders and customers") if orders else
        (True, "customers' churn flag and tenure (a snapshot)") if snapshot and tenure else
        (False, N_("needs customers' tenure with their churn flag")) if snapshot else
        (False, N_("needs orders, or customers with a churn flag and tenure")))
    credited = [what for what, has in (("leads", _has(audit, "leads", "campaign_id")),
                                       ("deals", _has(audit, "opportunities", "campaign_id")),
                                       ("orders", _has(audit, "orders", "campaign_id")))
                if has]
    out["campaigns"] = (
        (True, "campaigns" + (f" and the {', '.join(credited)} that name them"
                              if credited else "")) if _rows(audit, "campaigns") > 0 else
        (False, N_("needs campaigns")))
    return {name: {"feeds": feeds, "because": why} for name, (feeds, why) in out.items()}


# -- parameters against the data ------------------------------------------------------------
BOOKKEEPING_COLUMNS = ("source_row", "flags")
FILTER_DIMENSIONS = ("region", "segment", "channel", "category", "product", "sales_rep")
# A filter's column as a message names it.
FILTER_WORDS = {"region": N_("region"), "segment": N_("segment"), "channel": N_("channel"),
                "category": N_("category"), "product": N_("product"),
                "sales_rep": N_("sales rep")}


def data_columns(audit: dict) -> dict[str, set[str]]:
    """table -> the columns that hold data (mapped, derived or kept as attributes), from an
    ingest audit; a canonical column the source did not have is left out (it is empty)."""
    out = {}
    for table, record in (audit.get("tables") or {}).items():
        if not record.get("kept", 0) + record.get("flagged", 0):
            continue
        out[table] = (set(record.get("columns") or {}) | set(record.get("derived") or {})
                      | set(record.get("attributes") or {})) - set(BOOKKEEPING_COLUMNS)
    return out


def check_data_parameters(audit: dict, params: dict,
                          filter_columns: dict[str, dict[str, str]]) -> None:
    """Stop, naming the parameter and the valid columns, when ``by``, an ``attributes``
    key or a filter names a column the data does not have. A value that matches no row
    is not an error (the report's header says so). ``filter_columns``: filter -> {table:
    column}, as crmkit.metrics.filters reads them."""
    import json

    from crmkit.exceptions import ParameterError
    from crmkit.i18n import tr

    columns = data_columns(audit)
    if not columns:
        return
    every = sorted(set().union(*columns.values()))
    groups = ", ".join(_group_columns(audit, columns))
    by = str(params.get("by") or "").strip()
    if by and by not in every:
        raise ParameterError(tr("by={value}: the data has no column {value}; columns to "
                                "break down by: {columns}").format(value=repr(by),
                                                                   columns=groups))
    attributes = params.get("attributes") or {}
    if isinstance(attributes, str) and attributes.strip():
        try:
            attributes = json.loads(attributes)
        except json.JSONDecodeError:
            return  # the filters say what is wrong with the JSON itself
    keys = list(attributes) if isinstance(attributes, dict) else []
    keys += [k[5:] for k in params if k.startswith("attr_") and params[k] not in ("", None)]
    for key in keys:
        if key not in every:
            raise ParameterError(tr("attributes: the data has no column {column}; columns "
                                    "to filter on: {columns}").format(column=repr(key),
                                                                      columns=groups))
    for dim in FILTER_DIMENSIONS:
        if str(params.get(dim) or "").strip() == "":
            continue
        readers = {**{t: dim for t in columns}, **filter_columns.get(dim, {})}
        if not any(col in columns.get(table, ()) for table, col in readers.items()):
            have = [d for d in FILTER_DIMENSIONS
                    if any(c in columns.get(t, ())
                           for t, c in {**{t: d for t in columns},
                                        **filter_columns.get(d, {})}.items())]
            raise ParameterError(
                tr("{name}={value}: the data has no {column} column to filter on; filters "
                   "that apply: {filters}; attributes to filter on: {columns}").format(
                    name=dim, value=repr(params[dim]), column=tr(FILTER_WORDS.get(dim, dim.replace("_", " "))),
                    filters=", ".join(have) or tr("none"), columns=groups))


def _group_columns(audit: dict, columns: dict[str, set[str]]) -> list[str]:
    """The columns that name groups (categories, flags and text attributes), not ids,
    dates or amounts: what a reader breaks a report down by."""
    from crmkit.schema import TABLES

    out = set()
    for table, names in columns.items():
        record = audit["tables"][table]
        numeric = set(record.get("attribute_types") or {})
        attributes = set(record.get("attributes") or {})
        for name in names:
            if name in attributes:
                if name not in numeric:
                    out.add(name)
            elif table in TABLES and TABLES[table].canonical_name(name) and \
                    TABLES[table].column(name).kind in ("category", "bool"):
                out.add(name)
    return sorted(out)
