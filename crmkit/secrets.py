"""Credentials in connection strings: found and masked one way everywhere (ingest messages
and the audit, warehouse folder names, report parameters, HTML, kept notebooks).

A credential is the password of a URL's user info (``user:secret@host``, also when the
password holds an unencoded ``@``: the user info runs to the authority's last ``@``), a
query parameter named like a credential (``?password=``, ``pass``, ``sslpassword``,
``token``, ``secret``, ``api_key`` ...), or an environment-style ``PGPASSWORD=...``.
Query and environment credentials are masked first, so that an ``@`` inside one
(``?password=ab@cd``) is never taken for the end of a user info.

What reaches the user's screen passes :func:`scrub` at the command line's edge as well:
a message from a library (libpq reads ``user:ab@cd@host`` as host ``cd@host`` and says
so) may quote part of a credential in a form no pattern recognises.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote

REDACTED = "***"
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
_SECRET_KEYS = r"(?:password|passwd|pass|pwd|sslpassword|token|secret|api_?key|access_?key)"
_QUERY_SECRET = re.compile(rf"([?&;]{_SECRET_KEYS}=)([^&;#\s]*)", re.IGNORECASE)
_ENV_SECRET = re.compile(r"\b(PG(?:PASSWORD|PASS)=)(\S+)", re.IGNORECASE)
# A parameter or setting named like this holds a secret whatever its value looks like.
SECRET_NAME = re.compile(r"password|passwd|secret|token|credential|api_?key", re.IGNORECASE)


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
        first_at = text.find("@", start)
        if first_at == -1 or any(c.isspace() for c in text[start:first_at]):
            return None
        host_end = min([i for i in (text.find(c, first_at) for c in "/?#") if i != -1]
                       or [len(text)])
        last_at = text.rfind("@", first_at, host_end)
    colon = text.find(":", start, last_at)
    return (colon + 1, last_at) if colon != -1 and colon + 1 <= last_at else None


def _mask_query_and_env(text: str) -> str:
    text = _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, text)
    return _ENV_SECRET.sub(lambda m: m.group(1) + REDACTED, text)


def url_secrets(text: str) -> list[str]:
    """Every credential a connection string carries: as written, URL-decoded, and the
    pieces of one that holds an ``@`` (a parser that splits there may quote a piece)."""
    if not isinstance(text, str):
        return []
    found = [m.group(2) for m in _QUERY_SECRET.finditer(text) if m.group(2)]
    found += [m.group(2) for m in _ENV_SECRET.finditer(text)]
    masked = _mask_query_and_env(text)
    span = _userinfo_password(masked)
    if span and span[1] > span[0]:
        found.append(masked[span[0]:span[1]])
    out = set(found) | {unquote(s) for s in found}
    out |= {piece for s in list(out) if "@" in s for piece in s.split("@") if len(piece) >= 4}
    return sorted((s for s in out if s and s != REDACTED), key=len, reverse=True)


def has_secret(text: str) -> bool:
    return bool(url_secrets(text))


def redact_url(text: str) -> str:
    """Every credential of a connection string masked:
    postgresql://user:secret@host/db?sslpassword=x -> postgresql://user:***@host/db?sslpassword=***."""
    if not isinstance(text, str):
        return text
    text = _mask_query_and_env(text)
    span = _userinfo_password(text)
    if span and span[1] > span[0]:
        text = text[:span[0]] + REDACTED + text[span[1]:]
    return text


def unencoded_at(url: str) -> bool:
    """True when the password of ``url``'s user info holds a bare ``@``
    (``user:ab@cd@host``): PostgreSQL's parser ends the password at the first one."""
    if not isinstance(url, str):
        return False
    masked = _mask_query_and_env(url)
    span = _userinfo_password(masked)
    return bool(span) and "@" in masked[span[0]:span[1]]


def scrub(text: str, secrets) -> str:
    """``text`` with every one of ``secrets`` (see :func:`url_secrets`) and every
    credential of a URL in it masked: for messages about a connection string."""
    for secret in sorted({s for s in secrets if s and s != REDACTED}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return redact_url(text)


def safe_name(text: str) -> str:
    """A name for a folder or file from a connection string: no credential, no query."""
    text = redact_url(text).split("?", 1)[0]
    return re.sub(r"[^0-9A-Za-z._\-]+", "_", text.rstrip("/").rsplit("/", 1)[-1]) or "source"


def secrets_in(*texts: str) -> list[str]:
    """Every credential of every connection string in ``texts`` (each line of each text
    is read on its own: a config file's text can be given whole), longest first."""
    found = {s for text in texts if isinstance(text, str)
             for line in text.splitlines() for s in url_secrets(line)}
    return sorted(found, key=len, reverse=True)


def command_secrets(args, environ=None) -> list[str]:
    """The credentials a ``crmkit`` command line carries, to :func:`scrub` from all it
    prints: ``--source``, ``--param`` values, the lines of the ``--config`` file, and a
    ``PGPASSWORD`` in the environment (libpq reads it; a message may quote it)."""
    environ = os.environ if environ is None else environ
    params = getattr(args, "param", None) or []
    texts = [getattr(args, "source", None) or "", *params]
    named = {value for name, _, value in (p.partition("=") for p in params)
             if SECRET_NAME.search(name) and len(value) >= 3}
    config = getattr(args, "config", None)
    if config:
        try:
            with open(config, encoding="utf-8", errors="replace") as handle:
                texts.append(handle.read(1 << 20))
        except OSError:
            pass
    if environ.get("PGPASSWORD"):
        texts.append(f"PGPASSWORD={environ['PGPASSWORD']}")
    return sorted(set(secrets_in(*texts)) | named, key=len, reverse=True)
