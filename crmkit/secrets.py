"""Credentials in connection strings: found and masked one way everywhere (ingest messages
and the audit, warehouse folder names, report parameters, HTML, kept notebooks).

A credential is the password of a URL's user info (``user:secret@host``, also when the
password holds an unencoded ``@``: the user info runs to the authority's last ``@``), a
query parameter named like a credential (``?password=``, ``pass``, ``sslpassword``,
``token``, ``secret``, ``api_key`` ...), or an environment-style ``PGPASSWORD=...``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

REDACTED = "***"
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
_SECRET_KEYS = r"(?:password|passwd|pass|pwd|sslpassword|token|secret|api_?key|access_?key)"
_QUERY_SECRET = re.compile(rf"([?&;]{_SECRET_KEYS}=)([^&;#\s]*)", re.IGNORECASE)
_ENV_SECRET = re.compile(r"\b(PG(?:PASSWORD|PASS)=)(\S+)", re.IGNORECASE)


def _userinfo_password(text: str) -> tuple[int, int] | None:
    """(start, end) of the password in ``scheme://user:password@host``, if any."""
    scheme = _SCHEME.search(text)
    if not scheme:
        return None
    start = scheme.end()
    authority_end = len(text)
    for stop in "/?#":
        at = text.find(stop, start)
        if at != -1:
            authority_end = min(authority_end, at)
    last_at = text.rfind("@", start, authority_end)
    if last_at == -1:
        # An unencoded "/" in the password ends the authority early: look further.
        last_at = text.find("@", start)
        if last_at == -1 or any(c.isspace() for c in text[start:last_at]):
            return None
    colon = text.find(":", start, last_at)
    return (colon + 1, last_at) if colon != -1 and colon + 1 <= last_at else None


def url_secrets(text: str) -> list[str]:
    """Every credential a connection string carries (as written, and URL-decoded)."""
    if not isinstance(text, str):
        return []
    found = []
    span = _userinfo_password(text)
    if span and span[1] > span[0]:
        found.append(text[span[0]:span[1]])
    found += [m.group(2) for m in _QUERY_SECRET.finditer(text) if m.group(2)]
    found += [m.group(2) for m in _ENV_SECRET.finditer(text)]
    out = set(found) | {unquote(s) for s in found}
    return sorted((s for s in out if s and s != REDACTED), key=len, reverse=True)


def has_secret(text: str) -> bool:
    return bool(url_secrets(text))


def redact_url(text: str) -> str:
    """Every credential of a connection string masked:
    postgresql://user:secret@host/db?sslpassword=x -> postgresql://user:***@host/db?sslpassword=***."""
    if not isinstance(text, str):
        return text
    span = _userinfo_password(text)
    if span and span[1] > span[0]:
        text = text[:span[0]] + REDACTED + text[span[1]:]
    text = _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, text)
    return _ENV_SECRET.sub(lambda m: m.group(1) + REDACTED, text)


def safe_name(text: str) -> str:
    """A name for a folder or file from a connection string: no credential, no query."""
    text = redact_url(text).split("?", 1)[0]
    return re.sub(r"[^0-9A-Za-z._\-]+", "_", text.rstrip("/").rsplit("/", 1)[-1]) or "source"
