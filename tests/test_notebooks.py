"""The four report notebooks, executed for real on data/sample and checked as HTML: in
the markup and in headless Chromium with the network closed."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from crmkit.sections import REPORTS
from crmkit.sections.notebooks import notebook_text
from tests.conftest import ROOT
from tests.report.test_browser import open_offline

pytestmark = pytest.mark.slow
NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """All four reports rendered by the real command, in parallel, into one folder."""
    out = tmp_path_factory.mktemp("reports")
    done = subprocess.run(
        [sys.executable, "-m", "crmkit", "render", "--out", str(out), "--jobs", "2"],
        capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return out, done.stdout


@pytest.mark.parametrize("name", list(REPORTS))
def test_committed_notebook_is_generated_and_has_no_outputs(name):
    path = NOTEBOOKS / f"{name}.ipynb"
    assert path.read_text(encoding="utf-8") == notebook_text(name), \
        f"{path} differs from its outline: run `python -m crmkit.sections`"
    cells = json.loads(path.read_text())["cells"]
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("name", list(REPORTS))
def test_report_html_has_structure_and_no_code_or_noise(rendered, name):
    out, _ = rendered
    html = (out / f"{name}.html").read_text(encoding="utf-8")
    for heading in ("Summary of findings", "Conclusions and recommendations", "Appendix",
                    "KPI definitions", "Data audit", "Lineage"):
        assert heading in html, heading
    assert "Every input row is accounted for." in html
    assert "<img" in html and "data:image/png;base64," in html
    for noise in ("report.show", "open_report(", "Traceback", "Warning:", "warnings.warn",
                  "DeprecationWarning", "FutureWarning", "jp-InputArea-editor"):
        assert noise not in html, noise
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(https?:)?//""", html)
    assert external == [], external
    assert "<script" not in html.replace("&lt;script", "")
    executed = json.loads((out / "_executed" / f"{name}.ipynb").read_text())
    stderr = [o.get("text") for c in executed["cells"] for o in c.get("outputs", [])
              if o.get("name") == "stderr"]
    assert stderr == [], stderr
    # batch mode: the filters as text, no widget (crmkit.report.mode)
    assert "Period and filters:" in html
    widgets = [o for c in executed["cells"] for o in c.get("outputs", [])
               if any("jupyter.widget" in m for m in o.get("data", {}))]
    assert widgets == [] and "widgets" not in executed["metadata"]


def test_index_lists_every_report(rendered):
    out, stdout = rendered
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in REPORTS:
        assert f"{name}.html" in index
    assert "2025-04-01" in index  # the default period is the last full quarter


def test_reports_render_offline_in_chromium(rendered, browser):
    out, _ = rendered
    for name in [*REPORTS, "index"]:
        path = out / f"{name}.html"
        page, requests, console = open_offline(browser, path)
        assert requests == [path.resolve().as_uri()], (name, requests)
        assert [c for c in console if c[0] in ("error", "pageerror", "dialog")] == [], \
            (name, console)
        if name != "index":
            assert page.locator("img").count() >= 2, name
            broken = page.evaluate(
                "Array.from(document.images).filter(i => !i.naturalWidth).length")
            assert broken == 0, name
        page.close()
