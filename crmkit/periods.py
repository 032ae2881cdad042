"""Default report periods (standard library only: `crmkit render` uses this on its fast,
cached path)."""

from __future__ import annotations

from datetime import date, timedelta


def last_full_quarter(last: date) -> tuple[date, date]:
    """The last calendar quarter that ``last`` (the newest data) covers completely: the
    quarter ending on ``last`` if it is a quarter's last day, else the one before."""
    first_month = 3 * ((last.month - 1) // 3) + 1
    quarter_start = date(last.year, first_month, 1)
    next_start = date(last.year + (first_month == 10), (first_month + 2) % 12 + 1, 1)
    if last == next_start - timedelta(days=1):
        return quarter_start, last
    end = quarter_start - timedelta(days=1)
    return date(end.year, end.month - 2, 1), end


def audited_quarter(audit: dict) -> tuple[date, date] | None:
    """The last full quarter of the orders an ingest audit records (its order date
    range), or None when the audit has no such range."""
    try:
        last = audit["tables"]["orders"]["date_range"]["max"]
    except (KeyError, TypeError):
        return None
    return last_full_quarter(date.fromisoformat(last[:10])) if last else None
