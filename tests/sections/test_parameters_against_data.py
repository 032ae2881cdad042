"""Parameters that name nothing fail before anything runs; a value matching no row is said."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crmkit.exceptions import ParameterError
from crmkit.sections import open_report

ROOT = Path(__file__).resolve().parents[2]


def crmkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmkit", *args], capture_output=True,
                          text=True, cwd=ROOT)


@pytest.mark.parametrize("param,message", [
    ("by=no_such_column", "by='no_such_column': the data has no column 'no_such_column'; "
                          "columns to break down by: acquisition_channel, category, channel"),
    ('attributes={"contrakt": "Two year"}', "attributes: the data has no column 'contrakt'; "
                                             "columns to filter on: acquisition_channel"),
])
def test_render_stops_naming_the_parameter_and_the_columns(tmp_path, param, message):
    out = tmp_path / "reports"
    done = crmkit("render", "sales_performance", "--param", param, "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()  # nothing written


def test_a_filter_on_a_column_the_data_lacks_stops(sample_warehouse):
    with pytest.raises(ParameterError, match="attributes: the data has no column 'contract'"):
        open_report("churn", warehouse=str(sample_warehouse), attributes='{"contract": "x"}')
    with pytest.raises(ParameterError, match="by='contract_type': the data has no column"):
        open_report("churn", warehouse=str(sample_warehouse), by="contract_type")


def test_a_value_that_matches_no_row_is_said_in_the_scope_line(sample_warehouse):
    report = open_report("sales_performance", warehouse=str(sample_warehouse), region="Nord")
    (line,) = report.outputs("scope")
    assert "region = Nord\\: no rows." in line.markdown  # Markdown-escaped colon
    report = open_report("sales_performance", warehouse=str(sample_warehouse), region="East")
    assert "no rows" not in report.outputs("scope")[0].markdown
