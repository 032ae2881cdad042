"""Which reports a loaded data set can feed, from its audit.

A data set comes in one of three shapes, or several at once: retail order lines (orders),
a B2B pipeline (opportunities) and a subscription snapshot (customers with a churn flag or
status). Each report needs one of them; `crmkit ingest` prints this after loading.
"""

from __future__ import annotations


def _rows(audit: dict, table: str) -> int:
    record = audit.get("tables", {}).get(table)
    return (record["kept"] + record["flagged"]) if record else 0


def _has(audit: dict, table: str, *columns: str) -> bool:
    record = audit.get("tables", {}).get(table) or {}
    known = set(record.get("columns", {})) | set(record.get("derived", {}))
    return _rows(audit, table) > 0 and all(c in known for c in columns)


def reports_fed(audit: dict) -> dict[str, dict]:
    """report -> {"feeds": bool, "because": what it reads, or what it needs}."""
    orders = _rows(audit, "orders") > 0
    deals = _rows(audit, "opportunities") > 0
    churn_flag = any(_has(audit, "customers", c) for c in ("churned", "status", "churn_date"))
    satisfaction = (_rows(audit, "surveys") > 0 or _rows(audit, "tickets") > 0
                    or _has(audit, "customers", "satisfaction"))
    out = {}
    out["sales_performance"] = (
        (True, "orders") if orders else
        (True, "opportunities (bookings, win rate, pipeline)") if deals else
        (False, "needs orders or opportunities"))
    out["customer_behaviour"] = (
        (True, "orders per customer") if orders else
        (True, "won opportunities per account") if deals and _has(audit, "opportunities",
                                                                   "customer_id") else
        (False, "needs orders, or opportunities with accounts"))
    sources = [t for t in ("surveys", "tickets") if _rows(audit, t) > 0]
    if _has(audit, "customers", "satisfaction"):
        sources.append("customers' satisfaction scores")
    out["satisfaction"] = ((True, ", ".join(sources)) if satisfaction else
                           (False, "needs surveys, tickets or a satisfaction score"))
    out["churn"] = (
        (True, "customers' churn flag or status") if churn_flag else
        (True, "orders (churn as inactivity)") if orders else
        (False, "needs customers with a churn flag, status or churn date, or orders"))
    return {name: {"feeds": feeds, "because": why} for name, (feeds, why) in out.items()}
