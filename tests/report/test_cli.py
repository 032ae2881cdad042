import argparse
import json

import pytest

from crmkit.exceptions import ParameterError
from crmkit.report import cli

from .conftest import NOTEBOOKS


def run(*argv) -> int:
    parser = argparse.ArgumentParser(prog="crmkit")
    cli.add_render_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["render", *argv])
    return args.run(args)


def test_parse_params_repeated_names_make_a_batch():
    assert cli.parse_params([]) == [{}]
    assert cli.parse_params(["start=2025-01-01", "region=East", "region=West", "q=a=b"]) == [
        {"start": "2025-01-01", "region": "East", "q": "a=b"},
        {"start": "2025-01-01", "region": "West", "q": "a=b"}]
    with pytest.raises(ParameterError, match="expected NAME=VALUE"):
        cli.parse_params(["region"])


def test_render_then_up_to_date(tmp_path, capsys):
    assert run("minimal", "--notebooks", str(NOTEBOOKS), "--out", str(tmp_path), "-p", "label=cli") == 0
    first = capsys.readouterr().out
    assert "minimal … started" in first
    assert "[1/1] minimal … done in" in first and "1 rendered, 0 up to date" in first
    assert run("minimal", "--notebooks", str(NOTEBOOKS), "--out", str(tmp_path), "-p", "label=cli") == 0
    assert "[1/1] minimal … up to date" in capsys.readouterr().out


def test_bad_parameter_exits_2_with_the_reason(tmp_path, capsys):
    code = run("minimal", "--notebooks", str(NOTEBOOKS), "--out", str(tmp_path), "-p", "regoin=East")
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'regoin'" in err and "minimal: region, label" in err
    assert not tmp_path.joinpath("minimal.html").exists()


def test_parameters_are_checked_before_the_data_is_ingested(tmp_path, capsys):
    """A bad parameter stops the command before any ingest: here the source does not even
    exist, and the message is about the parameter."""
    missing = tmp_path / "no-such-source"
    code = run("churn", "--source", str(missing), "--out", str(tmp_path / "out"),
               "-p", "start=not-a-date")
    assert code == 2
    captured = capsys.readouterr()
    assert "parameter 'start' of report 'churn'" in captured.err
    assert "ingest" not in captured.out and str(missing) not in captured.err


def test_failed_report_exits_1_and_says_where_the_notebook_is(tmp_path, capsys):
    assert run("failing", "--notebooks", str(NOTEBOOKS), "--out", str(tmp_path)) == 1
    captured = capsys.readouterr()
    assert "[1/1] failing … FAILED after" in captured.out
    assert str(tmp_path / "_failed" / "failing.ipynb") in captured.err


def test_list_prints_parameters(capsys):
    assert run("--list", "--notebooks", str(NOTEBOOKS)) == 0
    out = capsys.readouterr().out
    assert 'overview\n    --param start: date = "2025-01-01"  # inclusive' in out


def test_warehouse_is_offered_to_reports_that_take_it(tmp_path, monkeypatch, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    params = {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None,
              "outputs": [], "source": 'warehouse: str = ""  # warehouse folder'}
    show = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": 'print("WAREHOUSE=" + warehouse)'}
    nb = {"cells": [params, show], "metadata": {"kernelspec": {"name": "python3", "display_name": "P",
                                                                "language": "python"}},
          "nbformat": 4, "nbformat_minor": 4}
    (notebooks / "sales.ipynb").write_text(json.dumps(nb))
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    (warehouse / "audit.json").write_text(json.dumps({"fingerprint": "abc"}))
    seen = []
    monkeypatch.setattr(cli, "_warehouse", lambda config, source, preset=None: seen.append((config, source)) or warehouse)
    out = tmp_path / "out"
    assert run("--notebooks", str(notebooks), "--out", str(out), "--source", "data/x") == 0
    assert seen == [(None, "data/x")]
    assert f"WAREHOUSE={warehouse.resolve()}" in (out / "sales.html").read_text()
    assert "<dt>Data source</dt><dd>data/x</dd>" in (out / "sales.html").read_text()
    assert cli.warehouse_checksum(warehouse) == "fingerprint:abc"
    capsys.readouterr()


def test_reports_the_data_cannot_feed_are_listed_not_run(tmp_path, capsys):
    """A subscription snapshot with tickets and surveys, no orders: the scorecard, churn and
    satisfaction read it; the others are not run, none fails, and the index says why for
    each."""
    from pathlib import Path

    source = Path(__file__).resolve().parents[2] / "data" / "sample-subscription"
    assert run("--source", str(source), "--out", str(tmp_path / "out")) == 0
    out = capsys.readouterr().out
    assert "sales_performance: not applicable to this data (needs orders or " \
           "opportunities)" in out
    assert "Rendering 3 report(s)" in out
    index = (tmp_path / "out" / "index.html").read_text()
    assert "Not applicable to this data" in index
    for report in ("sales_performance", "customer_behaviour", "campaigns"):
        assert f"<tr><td>{report}</td><td>needs " in index
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert set(manifest["not_applicable"]) == {"sales_performance", "customer_behaviour",
                                               "campaigns"}
    assert sorted(p.name for p in (tmp_path / "out").glob("*.html")) == [
        "churn.html", "index.html", "kpi_scorecard.html", "satisfaction.html"]
