"""Business rules of ingest, as data a caller can read or override.

Quarantine reasons are short stable labels (``missing order_id``, ``unparseable
order_date``, ``duplicate order_id`` ...) so the audit can count them; the offending row is
kept, whole and as it came, in the rejects table and file.
"""

# Flags: a row is kept but marked; the audit counts each flag. SQL over canonical columns.
FLAG_RULES: dict[str, dict[str, str]] = {
    "orders": {
        "return": "status = 'returned'",
        "cancelled": "status = 'cancelled'",
        "no_customer": "customer_id IS NULL",
    },
    "opportunities": {
        "no_created_date": "created_date IS NULL",
        "no_customer": "customer_id IS NULL",
        # A deal closed before it was created: a date typed wrongly, or read with the wrong
        # day/month order (date_format).
        "closed_before_created": "close_date < created_date",
    },
    "tickets": {"no_customer": "customer_id IS NULL"},
    "surveys": {"anonymous": "customer_id IS NULL"},
    "leads": {},
}

# Parent tables whose unknown references are kept with a flag rather than quarantined:
# a sale or deal attributed to a campaign the export lacks is still a sale.
FLAGGED_REFERENCES = {"campaigns": "unknown_campaign"}

# How CRMs name the outcome of a deal, and the stages that close one (compared in lower
# case, trimmed). Any other stage of an opportunity is open.
OUTCOME_SYNONYMS: dict[str, str] = {
    "open": "open", "in progress": "open", "pipeline": "open",
    "won": "won", "win": "won", "closed won": "won", "closedwon": "won",
    "closed - won": "won", "closed/won": "won", "赢单": "won", "成交": "won",
    "lost": "lost", "lose": "lost", "closed lost": "lost", "closedlost": "lost",
    "closed - lost": "lost", "closed/lost": "lost", "输单": "lost", "丢单": "lost",
}
WON_STAGES = tuple(k for k, v in OUTCOME_SYNONYMS.items() if v == "won")
LOST_STAGES = tuple(k for k, v in OUTCOME_SYNONYMS.items() if v == "lost")

# Customer statuses that mean the customer has left (lower case): `churned` is derived
# from `status` with these when the source has no churn flag.
CHURNED_STATUSES = ("churned", "churn", "cancelled", "canceled", "lost", "former",
                    "inactive", "closed", "terminated", "left", "流失", "已流失")

# A month in days, for tenures given in days and dates derived from a tenure in months
# that is not whole.
DAYS_PER_MONTH = 30.4375

# How CRM exports spell an order status -> canonical status.
STATUS_SYNONYMS: dict[str, str] = {
    "completed": "completed", "complete": "completed", "paid": "completed",
    "closed": "completed", "shipped": "completed", "delivered": "completed",
    "fulfilled": "completed", "won": "completed", "ok": "completed",
    "closed won": "completed",
    "cancelled": "cancelled", "canceled": "cancelled", "void": "cancelled",
    "voided": "cancelled", "cancel": "cancelled",
    "returned": "returned", "return": "returned", "refunded": "returned",
    "refund": "returned", "credit": "returned", "credit note": "returned",
}

TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0", "won", "closed won", "是")
FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0", "lost", "closed lost", "否")

# Tried after ISO 8601 when a table sets no date_format: unambiguous layouts only
# (day/month order is never guessed: 03/04/2025 needs a date_format).
DEFAULT_DATE_FORMATS = ("%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d",
                        "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y年%m月%d日")

# A UTC offset at the end of a time: Z, UTC, GMT, +02:00, -0500, +05, +05:53:28 (an old
# local mean time, as PostgreSQL prints it). A time of day must come before it, so that
# a date alone (2025-03-01, whose "-01" would pass for an offset) is never read as zoned.
UTC_OFFSET = r"\s*([zZ]|UTC|GMT|[+-][0-9]{2}(:?[0-9]{2}){0,2})$"
ZONED_TIME = r"[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?" + UTC_OFFSET

# Plausible values: a number that is not finite or beyond this magnitude is a data error
# (an "inf" export) and is quarantined with the reason instead of breaking every total it
# would enter. Dates outside the config's `plausible_dates` (crmkit.config.PlausibleDates:
# 1900-01-01 to ten years after the ingest) are quarantined the same way.
MAX_MAGNITUDE = 1e15
