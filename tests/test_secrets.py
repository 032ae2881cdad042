"""Every form of credential in a connection string is found and masked."""

import subprocess
import sys

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
])
def test_each_form_of_credential_is_masked(url, secret):
    assert has_secret(url)
    assert secret in url_secrets(url)
    shown = redact_url(url)
    assert secret not in shown and REDACTED in shown
    assert secret not in safe_name(url) and "?" not in safe_name(url)


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
