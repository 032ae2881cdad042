"""Passwords in connection URLs: found and masked one way everywhere (ingest messages and
the audit, report parameters, HTML, kept notebooks)."""

from __future__ import annotations

import re

# scheme://user:password@host...  (the password is group 2)
SECRET_URL = re.compile(r"^([a-z][a-z0-9+.\-]*://[^/:@\s]*:)([^@\s]+)(@)", re.IGNORECASE)
REDACTED = "***"


def redact_url(text: str) -> str:
    """postgresql://user:secret@host/db -> postgresql://user:***@host/db; other text as is."""
    return SECRET_URL.sub(lambda m: m.group(1) + REDACTED + m.group(3), text, count=1)
