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
    "tickets": {"no_customer": "customer_id IS NULL"},
    "surveys": {"anonymous": "customer_id IS NULL"},
    "leads": {},
}

# How CRM exports spell an order status -> canonical status.
STATUS_SYNONYMS: dict[str, str] = {
    "completed": "completed", "complete": "completed", "paid": "completed",
    "closed": "completed", "shipped": "completed", "delivered": "completed",
    "fulfilled": "completed", "won": "completed", "ok": "completed",
    "cancelled": "cancelled", "canceled": "cancelled", "void": "cancelled",
    "voided": "cancelled", "cancel": "cancelled",
    "returned": "returned", "return": "returned", "refunded": "returned",
    "refund": "returned", "credit": "returned", "credit note": "returned",
}

TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0", "won")
FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0", "lost")

# Tried after ISO 8601 when a table sets no date_format: unambiguous layouts only
# (day/month order is never guessed: 03/04/2025 needs a date_format).
DEFAULT_DATE_FORMATS = ("%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d",
                        "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y年%m月%d日")
