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


# The tables whose dates set a report's default period, first found first: the orders of
# a retail data set, else the closed deals of a pipeline, else service and survey dates.
# A customer snapshot alone has no period.
PERIOD_TABLES = ("orders", "opportunities", "tickets", "surveys", "leads")


def audited_quarter(audit: dict) -> tuple[date, date] | None:
    """The last full quarter of the data an ingest audit records (the date range of the
    first of :data:`PERIOD_TABLES` that has one), or None when none has."""
    for table in PERIOD_TABLES:
        try:
            last = audit["tables"][table]["date_range"]["max"]
        except (KeyError, TypeError):
            continue
        if last:
            return last_full_quarter(date.fromisoformat(last[:10]))
    return None
