"""The bad-input corpus (tests/ingest/corpus, issue 13): every case gives its outcome.

Each case runs in-process (crmkit.ingest.ingest): only crmkit's own errors may escape, and
anything else is the traceback a user would have seen. The cases marked ``cli`` also run
through ``crmkit ingest`` in a subprocess: exit 0 or 2, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from crmkit.exceptions import CrmkitError
from crmkit.ingest import ingest, resolve_config
from crmkit.warehouse import AUDIT_FILE
from tests.ingest.corpus import CASES, postgres
from tests.ingest.corpus.model import Case, Ctx, Exit2, Loaded, Quarantined, Run
from tests.ingest.test_ingest import cli, query

# Never in a message: a traceback, or an ingest's internal work folder.
NEVER = ("Traceback", ".ingest-")


@pytest.fixture(scope="module")
def corpus_database(request):
    """The URL of a database of the session's PostgreSQL server holding the corpus tables
    (postgres.SETUP), made once for the module's cases and dropped after them."""
    import psycopg

    server = request.getfixturevalue("postgres_url")
    url = urlparse(server)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {postgres.DATABASE}")
        admin.execute(f"CREATE DATABASE {postgres.DATABASE}")
    corpus = urlunparse(url._replace(path=f"/{postgres.DATABASE}"))
    with psycopg.connect(corpus, autocommit=True) as conn:
        for statement in postgres.SETUP:
            conn.execute(statement)
    yield corpus
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {postgres.DATABASE} WITH (FORCE)")


def _context(case: Case, tmp_path: Path, request) -> Ctx:
    if case.needs == "postgres":
        url = request.getfixturevalue("corpus_database")
        return Ctx(tmp_path, lambda: url)
    return Ctx(tmp_path)


def _about(case: Case) -> str:
    """What a failure report says besides the mismatch: the case and the issue."""
    notes = [f"case {case.id} ({case.kind})"]
    if case.issue:
        notes.append(f"why: {case.issue}")
    return "; ".join(notes)


def _ingest(case: Case, run: Run, tmp_path: Path) -> tuple[dict | None, str | None, Path]:
    """(audit, None) when ingest succeeds, (None, message) when it stops with crmkit's own
    error; any other exception fails the case as the traceback it would print."""
    warehouse = run.warehouse or tmp_path / "wh"
    try:
        audit = ingest(resolve_config(run.config, run.source), warehouse, force=True)
    except CrmkitError as exc:
        return None, str(exc), warehouse
    except Exception as exc:  # noqa: BLE001 - the point is to name it
        pytest.fail(f"{_about(case)}\nexpected {_describe(case.expect)}, got a traceback: "
                    f"{type(exc).__name__}: {exc}", pytrace=False)
    return audit, None, warehouse


def _describe(expect) -> str:
    if isinstance(expect, Loaded):
        return (f"loaded {expect.table} ({expect.rows_in} in, {expect.kept} kept, "
                f"{expect.flagged} flagged, {expect.quarantined} quarantined)")
    if isinstance(expect, Quarantined):
        reason = getattr(expect.reason, "pattern", expect.reason)
        return f"{expect.table}: {expect.count} quarantined as {reason!r}"
    return f"exit 2 with {list(expect.words)}"


def _has(message: str, word) -> bool:
    options = word if isinstance(word, tuple) else (word,)
    return any(option.lower() in message.lower() for option in options)


def check_message(case: Case, message: str) -> None:
    """An Exit2 case's message: every word, none of the absent ones, no traceback."""
    expect = case.expect
    missing = [w for w in expect.words if not _has(message, w)]
    present = [w for w in (*expect.absent, *NEVER) if w in message]
    assert not missing and not present, (
        f"{_about(case)}\nmessage: {message}\nlacks: {missing}\nmust not hold: {present}")


def check_audit(case: Case, audit: dict, warehouse: Path) -> None:
    """A Loaded or Quarantined case's audit: counts, reasons, flags, rows; the audit on
    disk says the same."""
    expect = case.expect
    record = audit["tables"].get(expect.table)
    assert record is not None, f"{_about(case)}\nno {expect.table} in {sorted(audit['tables'])}"
    counts = (record["rows_in"], record["kept"], record["flagged"], record["quarantined"])
    got = (f"counts {counts}, reasons {record['reasons']}, flags {record['flags']}")
    if isinstance(expect, Loaded):
        assert counts == (expect.rows_in, expect.kept, expect.flagged, expect.quarantined), \
            f"{_about(case)}\nexpected {_describe(expect)}; got {got}"
        if expect.reasons is not None:
            assert record["reasons"] == expect.reasons, f"{_about(case)}\n{got}"
        if expect.flags is not None:
            assert record["flags"] == expect.flags, f"{_about(case)}\n{got}"
    else:
        if isinstance(expect.reason, re.Pattern):
            labels = [k for k in record["reasons"] if expect.reason.fullmatch(k)]
        else:
            labels = [k for k in record["reasons"] if k == expect.reason]
        assert labels and sum(record["reasons"][k] for k in labels) == expect.count, \
            f"{_about(case)}\nexpected {_describe(expect)}; got {got}"
        if expect.rows_in is not None:
            assert record["rows_in"] == expect.rows_in, f"{_about(case)}\n{got}"
    assert audit["reconciled"] is True, f"{_about(case)}\nthe counts do not reconcile: {got}"
    on_disk = json.loads((warehouse / AUDIT_FILE).read_text())["tables"][expect.table]
    assert (on_disk["rows_in"], on_disk["kept"], on_disk["flagged"],
            on_disk["quarantined"]) == counts
    if isinstance(expect, Loaded) and expect.rows is not None:
        sql, rows = expect.rows
        assert query(warehouse, sql) == rows, f"{_about(case)}\n{sql}"


def _as_a_user(case: Case, run: Run, tmp_path: Path) -> None:
    """A file-permission case under root: crmkit runs in a process without the
    capabilities by which root passes every chmod, so the permissions apply as they would
    to the files' owner (tests.report.test_render_hardening.as_a_user)."""
    from tests.report.test_render_hardening import as_a_user

    what = ["--config", str(run.config)] if run.config else ["--source", str(run.source)]
    done = as_a_user([sys.executable, "-m", "crmkit", "ingest", *what, "--warehouse",
                      str(run.warehouse or tmp_path / "wh"), "--force"], tmp_path)
    assert "Traceback" not in done.stderr, f"{_about(case)}\n{done.stderr}"
    assert done.returncode == 2, f"{_about(case)}\nexit {done.returncode}\n{done.stdout}"
    check_message(case, done.stderr)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_its_outcome(case, tmp_path, request):
    run = case.build(_context(case, tmp_path, request))
    if case.needs == "non-root" and os.geteuid() == 0:
        assert isinstance(case.expect, Exit2), case.id
        return _as_a_user(case, run, tmp_path)
    audit, message, warehouse = _ingest(case, run, tmp_path)
    if isinstance(case.expect, Exit2):
        assert message is not None, (
            f"{_about(case)}\nexpected {_describe(case.expect)}; ingest succeeded: "
            + "; ".join(f"{n} {r['rows_in']} in, {r['kept']} kept, {r['flagged']} flagged, "
                        f"{r['quarantined']} quarantined {r['reasons']}"
                        for n, r in audit["tables"].items()))
        check_message(case, message)
    else:
        assert audit is not None, f"{_about(case)}\nexpected {_describe(case.expect)}; " \
                                  f"got exit 2: {message}"
        check_audit(case, audit, warehouse)


CLI_CASES = [c for c in CASES if c.cli]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_cli_exits_0_or_2_without_a_traceback(case, tmp_path, request):
    run = case.build(_context(case, tmp_path, request))
    what = ["--config", str(run.config)] if run.config else ["--source", str(run.source)]
    done = cli("ingest", *what, "--warehouse", str(run.warehouse or tmp_path / "wh"),
               "--force")
    printed = done.stdout + done.stderr
    assert "Traceback" not in printed, f"{_about(case)}\n{done.stderr}"
    if isinstance(case.expect, Exit2):
        assert done.returncode == 2, f"{_about(case)}\nexit {done.returncode}\n{printed}"
        check_message(case, done.stderr)
        assert not [w for w in case.expect.absent if w in done.stdout]
    else:
        assert done.returncode == 0, f"{_about(case)}\nexit {done.returncode}\n{printed}"
        assert "every row accounted for" in done.stdout


def test_the_corpus_covers_every_kind_of_input():
    kinds = {c.kind for c in CASES}
    assert kinds == {"csv", "excel", "parquet", "duckdb", "postgresql", "config"}
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 110


@pytest.mark.parametrize("url", [
    f"postgresql://127.0.0.1:5432/crm?user=u&password={postgres.QUERY_PASSWORD}",
    f"postgresql://crm:{postgres.QUERY_PASSWORD}@127.0.0.1:5432/crm",
    f"postgresql://crm:p@{postgres.QUERY_PASSWORD}@127.0.0.1:5432/crm",
])
def test_no_credential_in_the_default_warehouse_name(url):
    from crmkit.ingest import default_warehouse

    try:
        name = default_warehouse(resolve_config(source=url)).name
    except CrmkitError as exc:  # a password with a bare @ is refused before anything
        assert "%40" in str(exc) and postgres.QUERY_PASSWORD not in str(exc)
        return
    assert postgres.QUERY_PASSWORD not in name and "password" not in name, name
