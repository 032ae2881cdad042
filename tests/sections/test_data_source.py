"""The data an interactive notebook reads when its parameters name none: the bundled
sample, or CRMKIT_SOURCE / CRMKIT_CONFIG, which `crmkit dashboard --source` sets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crmkit.dashboard import prepare_environment
from crmkit.sample import write_sample
from crmkit.sections import open_report
from crmkit.sections.widgets import report_command
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def other_source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("other-crm")
    write_sample(folder, customers=150, seed=7)
    return folder


def test_a_notebook_reads_the_source_of_the_environment(other_source, monkeypatch, tmp_path):
    monkeypatch.setenv("CRMKIT_SOURCE", str(other_source))
    monkeypatch.setattr("crmkit.ingest.DEFAULT_WAREHOUSE_ROOT", tmp_path / "warehouses")
    report = open_report("sales_performance")
    assert report.wh.audit["source"] == str(other_source)
    assert report.params["source"] == str(other_source)
    assert f"--source {other_source}" in report_command(report)
    # a source given as a parameter still wins
    sample = open_report("sales_performance", source=str(ROOT / "data" / "sample"))
    assert sample.wh.audit["tables"]["orders"]["rows_in"] == 26_094


def test_the_dashboard_points_its_kernels_at_the_data(tmp_path):
    env = {"CRMKIT_BATCH": "1", "CRMKIT_CONFIG": "stale.yaml"}
    prepare_environment(env, source="data/sample")  # relative to where the command ran
    assert env["CRMKIT_SOURCE"] == str((Path.cwd() / "data" / "sample").resolve())
    assert "CRMKIT_CONFIG" not in env and "CRMKIT_BATCH" not in env
    prepare_environment(env, source="postgresql://crm@db.example/crm")
    assert env["CRMKIT_SOURCE"] == "postgresql://crm@db.example/crm"
    prepare_environment(env)
    assert "CRMKIT_SOURCE" not in env


def test_a_dashboard_on_missing_data_stops_with_one_message(tmp_path):
    missing = tmp_path / "no-such-folder"
    done = subprocess.run([sys.executable, "-m", "crmkit", "dashboard", "--source",
                           str(missing), "--no-browser", "--port", "1"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2
    assert str(missing) in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
