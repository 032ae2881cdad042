"""A render worker keeps its kernel for its next report (imports paid once), except
across secrets and after a failure; no kernel outlives the batch."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from crmkit.exceptions import RenderError
from crmkit.report import render


def write_notebook(folder, name, body, parameters='token: str = ""  # a secret when set'):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"),
                nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, folder / f"{name}.ipynb")


def printed(path) -> str:
    nb = json.loads(path.read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))


def kernel_pid(out, name) -> int:
    return int(printed(out / "_executed" / f"{name}.ipynb").split("pid=")[1].split()[0])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def notebooks(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    for name in ("a_first", "b_second", "c_third"):
        write_notebook(folder, name, "import os\nprint(f'pid={os.getpid()}')")
    return folder


def test_one_worker_reuses_its_kernel_and_stops_it(notebooks, tmp_path):
    out = tmp_path / "out"
    render(None, out_dir=out, notebooks_dir=notebooks, jobs=1)
    pids = {kernel_pid(out, n) for n in ("a_first", "b_second", "c_third")}
    assert len(pids) == 1
    assert not alive(pids.pop())


def test_secrets_get_a_fresh_kernel(notebooks, tmp_path):
    out = tmp_path / "out"
    render(None, out_dir=out, notebooks_dir=notebooks, jobs=1,
           params={"token": "s3cret-value-123"})
    pids = [kernel_pid(out, n) for n in ("a_first", "b_second", "c_third")]
    assert len(set(pids)) == 3


def test_a_failed_report_does_not_pass_its_kernel_on(notebooks, tmp_path):
    write_notebook(notebooks, "b_second", "import os\nprint(f'pid={os.getpid()}')\n"
                                          "raise ValueError('broken on purpose')")
    out = tmp_path / "out"
    with pytest.raises(RenderError):
        render(None, out_dir=out, notebooks_dir=notebooks, jobs=1)
    failed_pid = int(printed(out / "_failed" / "b_second.ipynb").split("pid=")[1].split()[0])
    assert kernel_pid(out, "a_first") == failed_pid
    assert kernel_pid(out, "c_third") != failed_pid


def test_the_first_report_runs_on_a_warmed_kernel(tmp_path):
    """The worker starts its kernel before importing papermill and has it import the
    report modules; the warm-up binds no name in the report's namespace."""
    folder = tmp_path / "nb"
    folder.mkdir()
    write_notebook(folder, "warm", "import sys\n"
                                   "print('warm', 'crmkit.sections.sales' in sys.modules, "
                                   "'_m' in dir())")
    out = tmp_path / "out"
    render(None, out_dir=out, notebooks_dir=folder, jobs=1)
    assert "warm True False" in printed(out / "_executed" / "warm.ipynb")


def test_the_notebook_stack_imports_without_the_iri_grammar():
    """crmkit.report.imports: rendering skips rfc3987-syntax's grammar, notebooks still
    validate, and the package stays importable afterwards."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import crmkit.report.execute, crmkit.report.export\n"
        "assert 'rfc3987_syntax' not in sys.modules\n"
        "import nbformat\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
        "nbformat.validate(nb)\n"
        "bad = nbformat.from_dict({**nb, 'cells': [{'cell_type': 'code', 'source': '1',"
        " 'metadata': {}}]})  # no outputs\n"
        "try:\n"
        "    nbformat.validate(bad)\n"
        "except nbformat.ValidationError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('an invalid notebook passed')\n"
        "import rfc3987_syntax\n"
        "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
