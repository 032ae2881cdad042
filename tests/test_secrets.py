"""Every form of credential in a connection string is found and masked."""

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest

from crmkit.secrets import REDACTED, has_secret, redact_url, safe_name, url_secrets


@pytest.mark.parametrize("url,secret", [
    ("postgresql://user:s3cret@host/db", "s3cret"),
    ("postgresql://user:p@ss@word@host:5432/db", "p@ss@word"),  # unencoded @
    ("postgresql://user:p%40ss@host/db", "p%40ss"),
    ("postgresql://host/crm?user=u&password=hunter2x", "hunter2x"),
    ("postgresql://host/crm?sslmode=require&sslpassword=k3y-pass", "k3y-pass"),
    ("postgresql://host/crm?token=abc123xyz", "abc123xyz"),
    ("postgres://u:pw1@h/d?api_key=zzz999", "zzz999"),
    ("PGPASSWORD=topsecret psql postgresql://host/db", "topsecret"),
    ("postgresql://h:5432/crm?user=u&password=ab12@cd34", "ab12@cd34"),  # "@" in the query
    ("postgresql://u:a/b@cd34@h/db", "a/b@cd34"),  # unencoded "/" and "@"
])
def test_each_form_of_credential_is_masked(url, secret):
    assert has_secret(url)
    assert secret in url_secrets(url)
    shown = redact_url(url)
    assert secret not in shown and REDACTED in shown
    assert secret not in safe_name(url) and "?" not in safe_name(url)
    for piece in (p for p in secret.split("@") if len(p) >= 4):  # nor a part of it
        assert piece not in shown and piece not in safe_name(url)


def test_messages_are_scrubbed_of_the_command_lines_credentials(tmp_path):
    """A library's message may quote a piece of a password (libpq takes `u:ab12@cd34@h`
    for host `cd34@h`): what the command line carries is masked wherever it appears."""
    from argparse import Namespace

    from crmkit.secrets import command_secrets, scrub, unencoded_at

    config = tmp_path / "crm.yaml"
    config.write_text("source: postgresql://h/crm?user=u&password=fromconfig9\n")
    args = Namespace(source="postgresql://u:ab12@cd34@h/db", config=str(config),
                     param=["db_password=hunter2x", "region=East"])
    found = command_secrets(args, environ={"PGPASSWORD": "envpw77"})
    assert {"ab12@cd34", "ab12", "cd34", "fromconfig9", "hunter2x", "envpw77"} <= set(found)
    message = ('failed to resolve host "cd34@h" for postgresql://u:ab12@cd34@h/db; '
               "password hunter2x, fromconfig9, envpw77; region East")
    assert scrub(message, found) == ('failed to resolve host "***@h" for '
                                     "postgresql://u:***@h/db; password ***, ***, ***; "
                                     "region East")
    assert unencoded_at(args.source) and not unencoded_at("postgresql://u:ab12%40cd34@h/db")
    assert not unencoded_at("postgresql://h/db?user=u&password=ab12@cd34")


def test_text_without_a_credential_is_left_alone():
    for text in ("postgresql://host/db", "postgresql://user@host/db", "data/sample",
                 "https://example.com/a?page=2"):
        assert not has_secret(text) and redact_url(text) == text


def test_an_unreachable_database_never_prints_its_password(tmp_path):
    url = "postgresql://127.0.0.1:1/crm?user=u&password=Zq9-leak-Check"
    done = subprocess.run([sys.executable, "-m", "crmkit", "ingest", "--source", url,
                           "--warehouse", str(tmp_path / "wh")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Zq9-leak-Check" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    written = [p for p in tmp_path.rglob("*")]
    assert not any("Zq9-leak-Check" in str(p) for p in written)


# -- end to end: a real PostgreSQL server, ingest and render, every byte written ----------
# Each form of a credential in a URL, with a role that has a password, through
# `crmkit ingest` and `crmkit render`: the passwords appear nowhere crmkit prints or
# writes (file and folder names and contents of the warehouses and the report folder).

PLAIN = "Vt5nQ8rLx2Kp"  # crm_plain's password
AT = "Lk9vQ2xW@mR7tZ4p"  # crm_at's password holds an "@"
SSL = "Sp3kY7wN4cJ9"  # an sslpassword: libpq takes it, no server needs it
NEVER_SHOWN = (PLAIN, AT, quote(AT, safe=""), *AT.split("@"), SSL)
# `crmkit` with its warehouses under a folder of the test (sys.argv[1]), not the project's.
RUN_CRMKIT = ("import sys; from pathlib import Path; import crmkit.ingest as ingest; "
              "ingest.DEFAULT_WAREHOUSE_ROOT = Path(sys.argv[1]); from crmkit.cli import main; "
              "sys.exit(main(sys.argv[2:]))")
URL_FORMS = {  # id (no secret in it: it names the test's folder) -> (URL, environment)
    "userinfo": ("postgresql://crm_plain:{PLAIN}@{host}/crm_secrets", {}),
    "query": ("postgresql://{host}/crm_secrets?user=crm_plain&password={PLAIN}"
              "&sslpassword={SSL}", {}),
    "userinfo-at-encoded": ("postgresql://crm_at:{AT_ENCODED}@{host}/crm_secrets", {}),
    "query-bare-at": ("postgresql://{host}/crm_secrets?user=crm_at&password={AT}", {}),
    "environment": ("postgresql://crm_plain@{host}/crm_secrets", {"PGPASSWORD": PLAIN}),
}


@pytest.fixture(scope="module")
def secret_database(postgres_url, tmp_path_factory):
    """host:port of the test server, with database crm_secrets readable by two roles
    with passwords, holding a small generated CRM (customers and orders); and its orders."""
    import psycopg

    from crmkit.sample import write_sample

    sample = tmp_path_factory.mktemp("secret-sample")
    counts = write_sample(sample, customers=80, seed=7)
    server = urlparse(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS crm_secrets")
        admin.execute("DROP ROLE IF EXISTS crm_plain")
        admin.execute("DROP ROLE IF EXISTS crm_at")
        admin.execute(f"CREATE ROLE crm_plain LOGIN PASSWORD '{PLAIN}'")
        admin.execute(f"CREATE ROLE crm_at LOGIN PASSWORD '{AT}'")
        admin.execute("CREATE DATABASE crm_secrets OWNER crm_plain")
    with psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/crm_secrets", autocommit=True) as db:
        for table in ("customers", "orders"):
            path = sample / f"{table}.csv"
            columns = path.read_text().splitlines()[0].split(",")
            db.execute(f"CREATE TABLE {table} ({', '.join(f'{c} text' for c in columns)})")
            with db.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER)") as copy:
                copy.write(path.read_bytes())
            db.execute(f"GRANT SELECT ON {table} TO crm_plain, crm_at")
    yield f"{server.hostname}:{server.port}", counts["orders"]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS crm_secrets WITH (FORCE)")
        admin.execute("DROP ROLE IF EXISTS crm_plain")
        admin.execute("DROP ROLE IF EXISTS crm_at")


def crmkit(warehouses: Path, *argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN_CRMKIT, str(warehouses), *argv],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def leaks(tree: Path, printed: str) -> list[str]:
    """Where any of NEVER_SHOWN appears: in ``printed``, or in the name or the bytes of
    anything under ``tree``."""
    found = [f"printed: {s}" for s in NEVER_SHOWN if s in printed]
    for path in sorted(tree.rglob("*")):
        name = str(path.relative_to(tree))
        found += [f"name {name}: {s}" for s in NEVER_SHOWN if s in name]
        if path.is_file():
            data = path.read_bytes()
            found += [f"in {name}: {s}" for s in NEVER_SHOWN if s.encode() in data]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("form", list(URL_FORMS))
def test_no_password_in_anything_ingest_and_render_print_or_write(secret_database, tmp_path,
                                                                 form):
    host, orders = secret_database
    pattern, env = URL_FORMS[form]
    url = pattern.format(host=host, PLAIN=PLAIN, SSL=SSL, AT=AT, AT_ENCODED=quote(AT, safe=""))
    warehouses, out = tmp_path / "warehouses", tmp_path / "out"

    ingested = crmkit(warehouses, "ingest", "--source", url, env=env)
    assert ingested.returncode == 0, redact_url(ingested.stderr)
    rendered = crmkit(warehouses, "render", "sales_performance", "--source", url,
                      "--out", str(out), "--jobs", "1", env=env)
    assert rendered.returncode == 0, redact_url(rendered.stderr)

    printed = ingested.stdout + ingested.stderr + rendered.stdout + rendered.stderr
    assert leaks(tmp_path, printed) == []
    # The report was rendered from this database (80 customers, not the sample's 2,000)
    # and names it, its credentials masked.
    (warehouse,) = warehouses.iterdir()
    audit = json.loads((warehouse / "audit.json").read_text())
    assert audit["source"] == redact_url(url) and warehouse.name.startswith("crm_secrets-")
    assert REDACTED in audit["source"] or form == "environment"
    assert audit["tables"]["orders"]["rows_in"] == orders
    page = (out / "sales_performance.html").read_text()
    assert f"<dt>Data source</dt><dd>{html.escape(redact_url(url))}</dd>" in page
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "table customers 80 " in text and f"table orders {orders:,} " in text
    assert {p.name for p in out.rglob("*") if p.is_file()} >= {
        "sales_performance.html", "sales_performance.ipynb", "manifest.json", "index.html"}


def test_a_bare_at_in_the_password_is_refused_without_showing_it(secret_database, tmp_path):
    """libpq ends the password at the first '@' and takes the rest for the host, then
    names that host in its error: crmkit stops before connecting, and says to write %40."""
    host, _ = secret_database
    url = f"postgresql://crm_at:{AT}@{host}/crm_secrets"
    warehouses, out = tmp_path / "warehouses", tmp_path / "out"
    for argv in (("ingest", "--source", url),
                 ("render", "sales_performance", "--source", url, "--out", str(out))):
        done = crmkit(warehouses, *argv)
        assert done.returncode == 2
        assert done.stderr == (
            f"crmkit {argv[0]}: error: --source {redact_url(url)}: the password holds a bare "
            "'@', which PostgreSQL takes for the end of the password; write each '@' in it "
            "as %40\n")
        assert leaks(tmp_path, done.stdout + done.stderr) == []
    assert not warehouses.exists() and not out.exists()


def test_a_bug_keeps_its_traceback_without_the_password(monkeypatch, capsys):
    from crmkit import cli

    def crash(args):
        raise RuntimeError(f"unexpected while reading {args.source}")

    monkeypatch.setattr(cli, "cmd_ingest", crash)  # build_parser binds it when main runs
    assert cli.main(["ingest", "--source", f"postgresql://u:{PLAIN}@h/db"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and PLAIN not in err
    assert "RuntimeError: unexpected while reading postgresql://u:***@h/db" in err
