"""`crmkit render` on careless input (issue 13): a parameter that names the data drives it
(or is refused), and an output folder that cannot take the reports is one message, exit 2,
with the reports already there left as they were."""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crmkit.exceptions import ConfigError, ParameterError
from crmkit.report import cli, render
from crmkit.report.files import locked

from .conftest import NOTEBOOKS

ORDERS = ("order_id,order_date,amount,customer_id\n"
          "A1,2025-01-05,10.5,c1\nA2,2025-02-06,20,c2\nA3,2025-03-07,30,c1\n")


def run(*argv) -> int:
    parser = argparse.ArgumentParser(prog="crmkit")
    cli.add_render_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["render", *argv])
    return args.run(args)


def header_source(page: str) -> str:
    return page.split("<dt>Data source</dt><dd>", 1)[1].split("</dd>", 1)[0]


# -- a parameter that names the data ------------------------------------------------------

@pytest.fixture
def data_notebook(tmp_path) -> Path:
    """A report notebook declaring the data parameters the project's reports declare, that
    prints which data the warehouse it received holds and how many orders."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    params = ('source: str = ""  # data folder or URL; empty: data/sample\n'
              'config: str = ""  # crmkit config file (instead of source)\n'
              'warehouse: str = ""  # set by crmkit render: the ingested warehouse folder')
    show = ("import json, pathlib\n"
            "audit = json.loads((pathlib.Path(warehouse) / 'audit.json').read_text())\n"
            "print('READ=' + audit['source'])\n"
            "print('ORDERS=' + str(audit['tables']['orders']['rows_in']))")
    cells = [{"cell_type": "code", "id": "parameters", "metadata": {"tags": ["parameters"]},
              "execution_count": None, "outputs": [], "source": params},
             {"cell_type": "code", "id": "show", "metadata": {}, "execution_count": None,
              "outputs": [], "source": show}]
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}}}
    (folder / "orders_seen.ipynb").write_text(json.dumps(nb))
    return folder


@pytest.fixture
def tiny_data(tmp_path, monkeypatch) -> Path:
    """Three orders in a folder of their own; warehouses go under tmp_path."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "orders.csv").write_text(ORDERS)
    monkeypatch.setattr("crmkit.ingest.DEFAULT_WAREHOUSE_ROOT", tmp_path / "warehouses")
    return folder


def test_param_source_reads_that_data_as_the_option_does(data_notebook, tiny_data, tmp_path,
                                                          capsys, monkeypatch):
    # crmkit's own code is part of the cache key; edits to it between the runs do not count
    monkeypatch.setattr(sys.modules["crmkit.report.render"], "_template_digest", lambda: "t")
    out = tmp_path / "out"
    assert run("--notebooks", str(data_notebook), "--out", str(out),
               "--param", f"source={tiny_data}") == 0
    page = (out / "orders_seen.html").read_text()
    assert header_source(page) == str(tiny_data)  # the header names the data ...
    assert f"READ={tiny_data.resolve()}" in page and "ORDERS=3" in page  # ... that was read
    ingested = [p.name.split("-")[0] for p in (tmp_path / "warehouses").iterdir()]
    assert ingested == ["tiny"]  # and not the sample as well
    capsys.readouterr()
    # The same run spelt with the option is the same report: nothing renders again.
    assert run("--notebooks", str(data_notebook), "--out", str(out),
               "--source", str(tiny_data)) == 0
    assert "[1/1] orders_seen … up to date" in capsys.readouterr().out


def test_param_warehouse_reads_that_warehouse_as_it_is(data_notebook, tiny_data, tmp_path,
                                                        monkeypatch):
    from crmkit.ingest import ingest, resolve_config

    warehouse = tmp_path / "wh"
    ingest(resolve_config(source=tiny_data), warehouse)
    monkeypatch.setattr(cli, "_warehouse", lambda *a, **k: pytest.fail("ingested again"))
    out = tmp_path / "out"
    assert run("--notebooks", str(data_notebook), "--out", str(out),
               "--param", f"warehouse={warehouse}") == 0
    page = (out / "orders_seen.html").read_text()
    assert header_source(page) == str(tiny_data) and "ORDERS=3" in page
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["reports"]["orders_seen"]["source"] == str(tiny_data)


@pytest.mark.parametrize("argv,message", [
    (["--source", "{tiny}", "--param", "source=elsewhere"],
     "--source {tiny} and --param source=elsewhere name different data; name the data once"),
    (["--param", "source={tiny}", "--param", "source=elsewhere"],
     "--param source is given 2 values ({tiny}, elsewhere); one run reads one data set"),
    (["--param", "config=my.yaml", "--param", "source={tiny}"],
     "--param source={tiny} and --param config=my.yaml name different data"),
    (["--param", "source=postgresql://crm:Hx4-pw@db.example/crm", "--source", "{tiny}"],
     "--source {tiny} and --param source=postgresql://crm:***@db.example/crm name "
     "different data"),
    (["--source", "postgresql://crm:ab@cd-Hx4@db.example/crm"],
     "--source postgresql://crm:***@db.example/crm: the password holds a bare '@'"),
    (["--param", "warehouse={tiny}"],
     "--param warehouse={tiny}: no ingested warehouse there"),
])
def test_data_named_twice_or_unusable_is_refused(data_notebook, tiny_data, tmp_path, capsys,
                                                 monkeypatch, argv, message):
    monkeypatch.setattr(cli, "_warehouse", lambda *a, **k: pytest.fail("ingested"))
    out = tmp_path / "out"
    argv = [a.replace("{tiny}", str(tiny_data)) for a in argv]
    assert run("--notebooks", str(data_notebook), "--out", str(out), *argv) == 2
    err = capsys.readouterr().err
    assert message.replace("{tiny}", str(tiny_data)) in err
    assert "Hx4" not in err and "Traceback" not in err
    assert not out.exists()


def test_data_for_reports_that_cannot_take_it_is_refused(tiny_data, tmp_path, capsys):
    """`minimal` has no `warehouse` parameter: --source would be named in its header while
    its numbers came from elsewhere."""
    out = tmp_path / "out"
    assert run("minimal", "--notebooks", str(NOTEBOOKS), "--out", str(out),
               "--source", str(tiny_data)) == 2
    err = capsys.readouterr().err
    assert f"--source {tiny_data} names the data, but no report here (minimal) declares a " \
           "`warehouse` parameter" in err
    assert not out.exists()


def test_render_refuses_a_parameter_naming_data_beside_the_chosen_data(data_notebook, tmp_path):
    with pytest.raises(ParameterError, match="parameter 'source' of report 'orders_seen' names "
                       "data, but the data is already chosen"):
        render(params={"source": "postgresql://u:pw-Hx4@h/db"}, notebooks_dir=data_notebook,
               out_dir=tmp_path / "out", context={"warehouse": str(tmp_path)})
    assert not (tmp_path / "out").exists()


# -- an output folder that cannot take the reports ------------------------------------------

@pytest.fixture
def chmod_tmp(tmp_path):
    """tmp_path, its folders made writable again at the end (the tests take that away)."""
    yield tmp_path
    for path in [tmp_path, *tmp_path.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


# Capabilities that let root pass file permission checks (linux/capability.h).
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
PR_CAPBSET_DROP = 24


def _without_root_overrides() -> None:
    """In the child before exec: drop the capabilities by which root ignores chmod from
    the bounding set, so the program it runs meets permissions as the files' owner."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def as_a_user(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``argv`` so that file permissions apply: as this user, or as root without the
    capabilities that pass every chmod (tests may run as root)."""
    drop = {"preexec_fn": _without_root_overrides} if os.geteuid() == 0 else {}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, **drop)


def crmkit_as_a_user(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m crmkit ARGV`` with file permissions applying (:func:`as_a_user`)."""
    return as_a_user([sys.executable, "-m", "crmkit", *argv], cwd)


def previous_reports(out: Path) -> dict[str, bytes]:
    """A report folder as a render leaves it: one HTML report and its manifest."""
    out.mkdir()
    (out / "minimal.html").write_text("<p>the previous report</p>")
    (out / "manifest.json").write_text('{"reports": {}}')
    return {p.name: p.read_bytes() for p in out.iterdir()}


def test_out_that_is_a_file(tmp_path, capsys):
    out = tmp_path / "reports.html"
    out.write_text("not a folder")
    assert run("minimal", "--notebooks", str(NOTEBOOKS), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert f"the output folder {out} is a file, not a folder; name a folder with --out DIR" in err
    assert out.read_text() == "not a folder"


def test_out_under_a_file(tmp_path, capsys):
    (tmp_path / "export.csv").write_text("a,b\n")
    out = tmp_path / "export.csv" / "reports"
    assert run("minimal", "--notebooks", str(NOTEBOOKS), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert f"cannot create the output folder {out}: {tmp_path / 'export.csv'} is a file" in err
    assert "Traceback" not in err


def test_out_folder_that_cannot_be_written(chmod_tmp):
    out = chmod_tmp / "reports"
    before = previous_reports(out)
    out.chmod(0o555)
    done = crmkit_as_a_user("render", "minimal", "--notebooks", str(NOTEBOOKS), "--out",
                            str(out), "--force", cwd=chmod_tmp)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"crmkit render: error: the folder {out} cannot be written (permission denied); make "
        f"it writable (chmod u+w {out}) or name another folder with --out DIR")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_out_folder_that_cannot_be_created(chmod_tmp):
    parent = chmod_tmp / "shared"
    parent.mkdir(mode=0o555)
    parent.chmod(0o555)
    done = crmkit_as_a_user("render", "minimal", "--notebooks", str(NOTEBOOKS), "--out",
                            str(parent / "reports"), cwd=chmod_tmp)
    assert done.returncode == 2, done.stderr
    assert f"cannot create the output folder {parent / 'reports'}: the folder {parent} cannot " \
           "be written (permission denied)" in done.stderr
    assert "Traceback" not in done.stderr and list(parent.iterdir()) == []


def test_lock_file_that_cannot_be_opened(chmod_tmp):
    out = chmod_tmp / "reports"
    before = previous_reports(out)
    lock = out / ".render.lock"
    lock.write_text("")
    lock.chmod(0)
    done = crmkit_as_a_user("render", "minimal", "--notebooks", str(NOTEBOOKS), "--out",
                            str(out), cwd=chmod_tmp)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"crmkit render: error: cannot open the lock file {lock} (permission denied): remove "
        f"it (rm {lock}) or give your user access to it, or name another folder with --out DIR")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p != lock} == before
    assert stat.S_IMODE(lock.stat().st_mode) == 0


def test_a_read_only_lock_file_still_locks(chmod_tmp):
    """A lock file made read-only (or another user's) serves: flock needs no write."""
    out = chmod_tmp / "reports"
    out.mkdir()
    lock = out / ".render.lock"
    lock.write_text("")
    lock.chmod(0o444)
    code = (f"from crmkit.report.files import locked\nwith locked({str(lock)!r}):\n"
            "    print('locked')")
    done = as_a_user([sys.executable, "-c", code], chmod_tmp)
    assert (done.returncode, done.stdout, done.stderr) == (0, "locked\n", "")


def test_lock_that_is_a_folder(tmp_path, capsys):
    out = tmp_path / "out"
    (out / ".render.lock").mkdir(parents=True)
    assert run("minimal", "--notebooks", str(NOTEBOOKS), "--out", str(out)) == 2
    assert f"{out / '.render.lock'} is a folder, where crmkit keeps its lock file; remove it" \
        in capsys.readouterr().err
    with pytest.raises(ConfigError, match="is a folder, where crmkit keeps its lock file"):
        with locked(out / ".render.lock"):
            pass


def test_the_output_folder_is_checked_before_the_data_is_ingested(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_warehouse", lambda *a, **k: pytest.fail("ingested"))
    out = tmp_path / "out"
    out.write_text("")
    assert run("churn", "--out", str(out)) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_a_killed_render_leaves_the_previous_reports(tmp_path):
    out = tmp_path / "out"
    assert run("minimal", "--notebooks", str(NOTEBOOKS), "--out", str(out), "-p", "label=a") == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    render_again = subprocess.Popen(
        [sys.executable, "-m", "crmkit", "render", "minimal", "--notebooks", str(NOTEBOOKS),
         "--out", str(out), "-p", "label=b"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    started = False
    for line in render_again.stdout:  # killed while it executes the report
        if "minimal … started" in line:
            started = True
            time.sleep(0.5)
            break
    if render_again.poll() is None:
        os.killpg(render_again.pid, signal.SIGKILL)
    render_again.wait(timeout=60)
    render_again.stdout.close()
    assert started and render_again.returncode == -signal.SIGKILL
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()
             and not p.name.endswith(".tmp")}
    assert after == before
    assert stat.S_ISREG((out / "minimal.html").stat().st_mode)
