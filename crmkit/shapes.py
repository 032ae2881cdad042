"""Which reports a loaded data set can feed, from its audit.

A data set comes in one of three shapes, or several at once: retail order lines (orders),
a B2B pipeline (opportunities) and a subscription snapshot (customers with a churn flag or
status). Each report needs one of them; `crmkit ingest` prints this after loading, and
`crmkit render` lists a report the data cannot feed as not applicable instead of running it.
Standard library only: the render command reads it on its fast, cached path.
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
    out["sales_performance"] = (
        (True, " and ".join(t for t, has in (("orders", orders), ("opportunities", deals))
                            if has)) if orders or deals else
        (False, "needs orders or opportunities"))
    out["customer_behaviour"] = (
        (True, "orders per customer") if orders else
        (False, "needs orders; accounts' won deals are not reported yet") if deals else
        (False, "needs orders"))
    out["satisfaction"] = (
        (True, " and ".join(["orders", *feedback])) if orders and feedback else
        (False, "needs surveys or tickets") if orders else
        (False, "needs orders with surveys or tickets; satisfaction without orders is not "
                "reported yet") if feedback else
        (False, "needs orders with surveys or tickets"))
    out["churn"] = (
        (True, "orders and customers") if orders else
        (False, "needs orders; churn from a customer snapshot's churn flag is not reported "
                "yet") if snapshot else
        (False, "needs orders, or customers with a churn flag"))
    return {name: {"feeds": feeds, "because": why} for name, (feeds, why) in out.items()}
