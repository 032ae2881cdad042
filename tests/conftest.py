"""Shared fixtures. Under CI=true nothing skips for want of a server, a browser or ../shared:
``need`` turns such a skip into a failure there."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
# Every query compiled from a kept shape is checked against ibis' own SQL (crmkit.compiled),
# here and in the kernels and subprocesses the tests start.
os.environ["CRMKIT_CHECK_SQL"] = "1"

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE = ROOT / "data" / "sample"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, what: str) -> None:
    """Skip the test when ``condition`` is false, except under CI, where it fails."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is missing", pytrace=False)
    pytest.skip(f"{what} is missing")


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, the real public data sets."""
    path = SHARED / "data"
    need(path.is_dir(), f"{path}")
    return path


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


# -- PostgreSQL server for cross-engine tests ------------------------------------------
# A throwaway server per test session: initdb into a temp dir, start on a free port on
# 127.0.0.1 (socket in the same dir), one database, stopped and removed at the end.
# Set CRMKIT_TEST_POSTGRES_URL to use an existing server instead (e.g. a CI service).
# postgres refuses to run as root, so as root the server runs as the `postgres` user.

import glob as _glob
import shutil as _shutil
import socket as _socket
import subprocess as _subprocess
import tempfile as _tempfile


def _postgres_bindir() -> Path | None:
    """The directory holding initdb/pg_ctl: on PATH, else Debian's newest install."""
    on_path = _shutil.which("initdb")
    if on_path and _shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent  # Debian links only some tools onto PATH
    candidates = sorted(_glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with _socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """``postgresql://user:pass@127.0.0.1:port/db`` of a PostgreSQL server for this session."""
    given = os.environ.get("CRMKIT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    bindir = _postgres_bindir()
    need(bindir is not None, "PostgreSQL server binaries (initdb, pg_ctl)")
    as_root = os.geteuid() == 0
    prefix = []
    if as_root:
        import pwd

        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            account = None
        need(account is not None and _shutil.which("runuser") is not None,
             "a `postgres` user and runuser (to run PostgreSQL as root)")
        prefix = ["runuser", "-u", "postgres", "--"]
    # Not pytest's tmp_path: its parents are private to the current user, and the
    # server may run as `postgres`.
    base = Path(_tempfile.mkdtemp(prefix="crmkit-pg-"))
    user, password, database = "crmkit", "crmkit", "crmkit_test"
    (base / "pw").write_text(password + "\n")
    if as_root:
        os.chown(base, account.pw_uid, account.pw_gid)
        os.chown(base / "pw", account.pw_uid, account.pw_gid)

    def run(*args):
        done = _subprocess.run([*prefix, *map(str, args)], capture_output=True, text=True,
                               timeout=120)
        if done.returncode:
            raise RuntimeError(f"{Path(str(args[0])).name} failed: {done.stderr or done.stdout}")
        return done

    data = base / "data"
    run(bindir / "initdb", "-D", data, "-U", user, f"--pwfile={base / 'pw'}",
        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
        "--no-sync")  # a throwaway server: skip the final fsync (seconds)
    started = False
    for _attempt in range(3):  # another process may take the free port before we bind it
        port = _free_port()
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} "
                   f"-c unix_socket_directories={base} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        try:
            run(bindir / "pg_ctl", "-D", data, "-l", base / "server.log", "-o", options,
                "-w", "-t", "60", "start")
            started = True
            break
        except RuntimeError:
            continue
    try:
        if not started:
            log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
            pytest.fail(f"PostgreSQL did not start; server log:\n{log}", pytrace=False)
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user=user, password=password,
                             dbname="postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {database}")
        yield f"postgresql://{user}:{password}@127.0.0.1:{port}/{database}"
    finally:
        if started:
            _subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                             "-w", "stop"], capture_output=True, timeout=60)
        _shutil.rmtree(base, ignore_errors=True)


# -- Spark for cross-engine tests ------------------------------------------------------
# One local Spark per test session (a process runs one Spark context), with every scratch
# folder (tables, local dir, Derby) under pytest's temp dir, never in the repository.

@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """A local SparkSession: 2 cores, UI off, UTC, nothing downloaded."""
    import importlib.util
    import sys

    from crmkit.spark import java

    need(importlib.util.find_spec("pyspark") is not None, "the pyspark package")
    need(java() is not None, "Java (for Spark)")
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers run this venv's Python
    scratch = tmp_path_factory.mktemp("spark")
    # Settings a session already running in the process keeps must be set on it too.
    runtime = {
        "spark.sql.session.timeZone": "UTC",
        # Small data: few shuffle partitions, no whole-stage code generation and no
        # adaptive re-planning (each costs more per query than it saves; ~20% of the time).
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.adaptive.enabled": "false",
        # Frames go to Spark through Arrow: without it a missing value of a pandas frame
        # arrives as the text 'NaN' or a float NaN, not NULL.
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
    }
    builder = (SparkSession.builder.master("local[2]").appName("crmkit-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.warehouse.dir", (scratch / "warehouse").as_uri())
               .config("spark.local.dir", str(scratch / "local"))
               .config("spark.driver.extraJavaOptions",
                       f"-Dderby.system.home={scratch / 'derby'}"))
    for key, value in runtime.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    for key, value in runtime.items():
        session.conf.set(key, value)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# ---------------------------------------------------------------------------------------
# The bundled sample, ingested once per test session.

@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory):
    """A warehouse folder with data/sample ingested (all seven tables)."""
    from crmkit.ingest import ingest, resolve_config

    need((SAMPLE / "orders.csv").exists(), "data/sample")
    folder = tmp_path_factory.mktemp("sample-warehouse")
    ingest(resolve_config(source=SAMPLE), folder)
    return folder


# ---------------------------------------------------------------------------------------
# Debian's Chromium, driven by Playwright (nothing downloads a browser).

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for one test module (module scope: Playwright's sync API keeps
    an event loop running, which must not outlive the module into notebook renders)."""
    import os

    need(CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK), f"chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    need(sync_playwright is not None, "the playwright package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
