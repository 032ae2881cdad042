import importlib
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crmkit import i18n
from crmkit.exceptions import ConfigError, ParameterError, RenderError
from crmkit.report import render
from crmkit.report.files import write_atomic

from .conftest import NOTEBOOKS, PASSWORD, SECRET_URL, URL_PASSWORD


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self, page: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


# -- the HTML ------------------------------------------------------------------------------

def test_report_has_no_code_prompts_or_stderr(batch):
    page = batch.html("overview")
    assert "jp-InputArea" not in page and "jp-InputPrompt" not in page and "highlight" not in page
    for code in ("import matplotlib", "pd.DataFrame(", "warnings.warn(", "plt.subplots", "customers.head"):
        assert code not in page
    assert not re.search(r"(In|Out)&nbsp;\[", page)
    assert "CRMKIT-WARNING-TEXT" not in page and "CRMKIT-STDERR-TEXT" not in page
    assert "UserWarning" not in page and "Traceback" not in page
    assert "application/vnd.jupyter.stderr" not in page
    # stdout stays: it is report text
    assert "Period 2025-01-01 to 2025-03-31; region East" in page


def test_report_fetches_nothing_and_embeds_the_plot(batch):
    page = batch.html("overview")
    tags = Tags(page).tags
    assert not [t for t, _ in tags if t in ("script", "link", "iframe")]
    for tag, attrs in tags:
        for name in ("src", "href"):
            assert not (attrs.get(name) or "").startswith(("http:", "https:", "//")), (tag, attrs)
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,iVBOR")
    assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", page)
    assert "Content-Security-Policy" in page and "@media print" in page


def test_data_text_is_escaped(batch):
    page = batch.html("overview")
    assert "<script>alert(1)</script>" not in page
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page  # the DataFrame
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong> with $200" in page  # markdown()


def test_header_and_table_of_contents(batch):
    page = batch.html("overview")
    header = page[page.index('<header class="crmkit-header">'):page.index("</header>")]
    assert '<h1 class="crmkit-title">Overview</h1>' in header
    assert "<dt>Period</dt><dd>2025-01-01 to 2025-03-31</dd>" in header
    assert "<dt>Filters</dt><dd>region = East</dd>" in header
    assert "<dt>Data source</dt><dd>postgresql://analyst:***@db.example/crm</dd>" in header
    assert re.search(r"<dt>Generated</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d", header)
    toc = page[page.index('<nav class="crmkit-toc"'):page.index("</nav>")]
    assert re.findall(r'href="#([^"]+)">([^<]+)<', toc) == [
        ("Revenue-by-month", "Revenue by month"), ("Top-customers", "Top customers"),
        ("Table", "Table"), ("Narrative", "Narrative")]
    for anchor in ("Revenue-by-month", "Top-customers", "Table", "Narrative"):
        assert f'id="{anchor}"' in page
    # the title heading moved to the header, it is not repeated in the body
    assert page.count("<h1") == 1


# -- secrets ---------------------------------------------------------------------------------

def test_secrets_never_written(batch):
    written = files_under(batch.out)
    assert {p.name for p in written} >= {"overview.html", "overview.ipynb", "failing.ipynb",
                                         "manifest.json", "index.html"}
    for path in written:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in (URL_PASSWORD, PASSWORD, SECRET_URL):
            assert secret not in text, f"{secret} in {path}"
    assert URL_PASSWORD not in str(batch.error) and PASSWORD not in str(batch.error)


def test_secret_reaches_the_kernel_through_the_environment(batch):
    page = batch.html("overview")
    assert f"database URL length: {len(SECRET_URL)}" in page  # the kernel had the real URL
    assert "database URL: ***" in page  # and printing it shows the redacted text
    executed = json.loads((batch.out / "_executed" / "overview.ipynb").read_text())
    injected = next(c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    source = "".join(injected["source"])
    assert "region = 'East'" in source
    assert "os').environ['CRMKIT_SECRET_DB_URL']" in source
    assert "postgresql://analyst:***@db.example/crm" in source
    assert executed["metadata"]["papermill"]["parameters"]["db_url"] == "postgresql://analyst:***@db.example/crm"


def test_executed_notebook_keeps_stderr_for_the_analyst(batch):
    executed = (batch.out / "_executed" / "overview.ipynb").read_text()
    assert "CRMKIT-STDERR-TEXT" in executed


# -- failures --------------------------------------------------------------------------------

def test_failing_report_is_kept_and_others_render(batch):
    assert (batch.out / "overview.html").exists() and (batch.out / "minimal.html").exists()
    assert not (batch.out / "failing.html").exists()
    (failure,) = batch.error.failures
    assert failure.name == "failing" and failure.cell == 4
    assert failure.cell_source.startswith('raise ValueError(f"boom')
    assert failure.error == "ValueError: boom: could not log in with ***"
    kept = batch.out / "_failed" / "failing.ipynb"
    assert failure.notebook == kept and kept.exists()
    cells = json.loads(kept.read_text())["cells"]
    assert any(o.get("ename") == "ValueError" for c in cells for o in c.get("outputs", []))
    message = str(batch.error)
    assert "1 of 3 reports failed" in message and str(kept) in message and "cell 4" in message
    assert [r.name for r in batch.error.results] == ["overview", "minimal"]


def test_a_timed_out_report_keeps_what_it_executed(tmp_path):
    """A cell timeout is no cell error: the notebook executed so far is still kept (with
    the secret redacted), though papermill does not save after every cell."""
    import nbformat

    folder = tmp_path / "nb"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('password = ""', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print('before the wait', password)"),
                nbformat.v4.new_code_cell("import time\ntime.sleep(30)")]
    nbformat.write(nb, folder / "slow.ipynb")
    with pytest.raises(RenderError) as caught:
        render(None, out_dir=tmp_path / "out", notebooks_dir=folder, jobs=1, timeout=2,
               params={"password": "hunter2-secret"})
    (failure,) = caught.value.failures
    assert failure.error.startswith("CellTimeoutError")
    kept = tmp_path / "out" / "_failed" / "slow.ipynb"
    assert failure.notebook == kept and kept.exists()
    text = kept.read_text()
    assert "before the wait ***" in text and "hunter2-secret" not in text


def test_progress_events(batch):
    kinds = {(e.name, e.kind) for e in batch.events}
    assert kinds == {(n, "started") for n in ("overview", "minimal", "failing")} | {
        ("overview", "finished"), ("minimal", "finished"), ("failing", "failed")}
    ends = [e for e in batch.events if e.kind != "started"]
    assert [e.done for e in ends] == [1, 2, 3] and all(e.total == 3 for e in ends)
    assert all(e.elapsed > 0 for e in ends)
    assert next(e for e in ends if e.name == "minimal").ignored == ("db_url", "db_password")


def test_failure_keeps_the_previous_html(batch, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(batch.out, out)
    before = (out / "minimal.html").read_bytes()
    with pytest.raises(RenderError, match=r"minimal: RuntimeError: asked to fail in cell 4"):
        render(["minimal"], params={"region": "fail"}, out_dir=out, notebooks_dir=NOTEBOOKS,
               data_checksum="sample-v1")
    assert (out / "minimal.html").read_bytes() == before
    assert (out / "_failed" / "minimal.ipynb").exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    entry = json.loads((out / "manifest.json").read_text())["reports"]["minimal"]
    assert "asked to fail" in entry["last_failure"]["error"]
    assert "Last render failed" in (out / "index.html").read_text()
    # back to the parameters of the HTML on disk: up to date, the failure note goes
    (result,) = render(["minimal"], params={"region": "East"}, out_dir=out, notebooks_dir=NOTEBOOKS,
                       data_checksum="sample-v1")
    assert result.cached and "Last render failed" not in (out / "index.html").read_text()


# -- parameters are checked before anything runs ---------------------------------------------------

@pytest.mark.parametrize("params, expected", [
    ({"start": "2025-13-01"}, r"parameter 'start' of report 'overview'.*YYYY-MM-DD"),
    ({"regoin": "East"}, r"unknown parameter 'regoin'.*overview: start, end, region"),
])
def test_bad_parameter_leaves_reports_untouched(batch, tmp_path, params, expected):
    out = tmp_path / "reports"
    shutil.copytree(batch.out, out)
    before = {p: p.read_bytes() for p in files_under(out)}
    with pytest.raises(ParameterError, match=expected):
        render(["overview", "minimal"], params=params, out_dir=out, notebooks_dir=NOTEBOOKS)
    assert {p: p.read_bytes() for p in files_under(out)} == before


def test_unknown_report_lists_available():
    with pytest.raises(ConfigError, match=r"unknown report 'churn'.*failing, minimal, overview"):
        render(["churn"], notebooks_dir=NOTEBOOKS)


# -- cache -----------------------------------------------------------------------------------

def test_unchanged_reports_are_not_rendered_again(batch):
    before = {n: (batch.out / f"{n}.html").stat().st_mtime_ns for n in ("overview", "minimal")}
    events = []
    results = render(["overview", "minimal"], params={"region": "East", "db_url": SECRET_URL},
                     out_dir=batch.out, notebooks_dir=NOTEBOOKS, progress=events.append,
                     data_checksum="sample-v1")
    assert [(r.name, r.cached) for r in results] == [("overview", True), ("minimal", True)]
    assert [e.kind for e in events] == ["cached", "cached"]
    assert before == {n: (batch.out / f"{n}.html").stat().st_mtime_ns for n in ("overview", "minimal")}


def test_cache_key_covers_notebook_params_data_and_version(monkeypatch):
    module = importlib.import_module("crmkit.report.render")  # the attribute is the function

    def key(**changes):
        job = module._plan(["minimal"], changes.pop("params", {}), NOTEBOOKS, {})[0]
        if "notebook_sha" in changes:
            job.notebook_sha = changes.pop("notebook_sha")
        return module._cache_key(job, changes.get("data", "d1"), None, "t1")

    base = key()
    assert key() == base
    assert key(params={"region": "West"}) != base
    assert key(data="d2") != base
    assert key(notebook_sha="other") != base
    monkeypatch.setattr(module, "__version__", "9.9.9")
    assert key() != base


def test_cached_run_imports_nothing_heavy(batch):
    script = (
        "import sys, time\n"
        "from crmkit.report import render\n"
        f"r = render(['overview', 'minimal'], params={{'region': 'East', 'db_url': {SECRET_URL!r}}}, "
        f"out_dir={str(batch.out)!r}, notebooks_dir={str(NOTEBOOKS)!r}, data_checksum='sample-v1')\n"
        "assert all(x.cached for x in r), r\n"
        "print(sorted(m for m in ('papermill', 'nbformat', 'nbconvert', 'nbclient', 'jupyter_client') "
        "if m in sys.modules))\n")
    # What keeps a cached run fast is what it does not import; its time is measured by
    # `make bench BENCH_ARGS="--only render"`, not asserted here.
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- manifest and index ------------------------------------------------------------------------

def test_manifest_and_index(batch):
    manifest = json.loads((batch.out / "manifest.json").read_text())
    assert set(manifest["reports"]) == {"overview", "minimal"}
    entry = manifest["reports"]["overview"]
    assert entry["title"] == "Overview" and entry["html"] == "overview.html"
    assert entry["period"] == "2025-01-01 to 2025-03-31"
    assert entry["parameters"] == {"region": "East", "db_url": "postgresql://analyst:***@db.example/crm"}
    index = (batch.out / "index.html").read_text()
    assert '<a href="overview.html">' in index and '<a href="minimal.html">' in index
    assert "Minimal report" in index and "failing.html" not in index
    assert "<script" not in index and "Content-Security-Policy" in index


# -- the kernel is this Python -------------------------------------------------------------------

def test_kernel_runs_on_this_python(batch):
    assert f"KERNEL-EXECUTABLE={sys.executable}\n" in batch.html("minimal")


def test_kernel_ignores_a_user_python3_kernelspec(tmp_path, monkeypatch):
    decoy = tmp_path / "jupyter" / "kernels" / "python3"
    decoy.mkdir(parents=True)
    (decoy / "kernel.json").write_text(json.dumps(
        {"argv": ["/bin/false", "{connection_file}"], "display_name": "decoy", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    from jupyter_client.kernelspec import KernelSpecManager

    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == "/bin/false"  # the decoy is live
    render(["minimal"], params={"label": "decoy"}, out_dir=tmp_path / "out", notebooks_dir=NOTEBOOKS)
    assert f"KERNEL-EXECUTABLE={sys.executable}\n" in (tmp_path / "out" / "minimal.html").read_text()


# -- batches over parameter sets -----------------------------------------------------------------

def test_batch_over_regions_names_outputs_and_groups_index(tmp_path):
    events = []
    results = render(["minimal"], params=[{"region": "East"}, {"region": "West/North"}],
                     out_dir=tmp_path, notebooks_dir=NOTEBOOKS, progress=events.append)
    names = [r.name for r in results]
    assert names == ["minimal--region=East", "minimal--region=West_North"]
    assert "REGION=East" in (tmp_path / "minimal--region=East.html").read_text()
    assert "REGION=West/North" in (tmp_path / "minimal--region=West_North.html").read_text()
    index = (tmp_path / "index.html").read_text()
    section = index[index.index('<section id="minimal">'):index.index("</section>")]
    assert section.count("<tr>") == 3  # header + one row per region
    assert "region = West/North" in section


# -- atomic writes -------------------------------------------------------------------------------

def test_write_atomic_replaces_whole_file(tmp_path):
    target = tmp_path / "report.html"
    write_atomic(target, "old")
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_write_atomic_failure_leaves_old_file_and_no_partial(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_text("old report")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "half a report \ud800 and the rest")  # fails mid-write
    assert target.read_text() == "old report"

    def no_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", no_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new report")
    assert target.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# -- the render's language -------------------------------------------------------------------

def language_notebook(folder: Path) -> Path:
    """A report notebook as crmkit.sections writes them: parameters, then its own text
    shown by ``report.text("...")`` (Markdown in the report's language; here a stand-in
    with its own two-word catalog)."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["crmkit"] = {"title": "Churn and retention"}
    zh = {"# Churn and retention\n\nWho leaves.": "# 流失与留存\n\n哪些客户流失。",
          "## Summary of findings": "## 主要发现", "## Appendix": "## 附录"}
    text = lambda message: nbformat.v4.new_code_cell(  # noqa: E731
        f"report.text({message!r})", metadata={"tags": ["remove-input"]})
    nb.cells = [
        nbformat.v4.new_code_cell('start: str = "2025-01-01"\nend: str = "2025-03-31"\n'
                                  'region: str = ""  # filter: a region\n'
                                  'language: str = "en"  # report language',
                                  metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "from IPython.display import Markdown, display\n\n"
            "class Report:\n"
            "    def text(self, message):\n"
            f"        words = {zh!r} if language.startswith('zh') else {{}}\n"
            "        display(Markdown(words.get(message, message)))\n\n"
            "report = Report()", metadata={"tags": ["remove-input"]}),
        text("# Churn and retention\n\nWho leaves."),
        text("## Summary of findings"),
        nbformat.v4.new_code_cell('print("body")'),
        text("## Appendix"),
    ]
    nbformat.write(nb, folder / "churn.ipynb")
    return folder


def test_a_render_in_chinese(tmp_path):
    """``lang=zh`` (``language``'s other name): the header, footer, table of contents and
    index page in Chinese; the title from the report's own (translated) text."""
    notebooks = language_notebook(tmp_path / "nb")
    events = []
    render(None, params={"lang": "zh", "region": "East"}, out_dir=tmp_path / "out",
           notebooks_dir=notebooks, progress=events.append)
    page = (tmp_path / "out" / "churn.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    header = page[page.index('<header class="crmkit-header">'):page.index("</header>")]
    assert '<h1 class="crmkit-title">流失与留存</h1>' in header and page.count("<h1") == 1
    assert "<dt>期间</dt><dd>2025年1月1日至2025年3月31日</dd>" in header
    assert "<dt>筛选</dt><dd>地区：East</dd>" in header
    assert "<dt>数据来源</dt><dd>以笔记本中的设置为准</dd>" in header
    assert re.search(r"<dt>生成时间</dt><dd>\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", header)
    assert '<p class="crmkit-kicker">客户管理报告</p>' in header
    assert '<h2>目录</h2>' in page and "哪些客户流失。" in page and "# 流失与留存" not in page
    footer = page[page.index('<footer class="crmkit-footer">'):]
    assert "由 crmkit" in footer and "参数：地区：East；语言：zh。" in footer
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in index and "<h1>报告</h1>" in index
    assert "<th>文件</th><th>期间</th><th>参数</th><th>数据</th><th>生成时间</th>" in index
    assert "2025年1月1日至2025年3月31日" in index and "地区：East；语言：zh" in index
    # the manifest stays English: an English render's index reads it as before
    entry = json.loads((tmp_path / "out" / "manifest.json").read_text())["reports"]["churn"]
    assert entry["title"] == "Churn and retention"
    assert entry["period"] == "2025-01-01 to 2025-03-31" and entry["language"] == "zh"
    assert [e.kind for e in events] == ["started", "finished"]


def test_render_messages_follow_the_language(tmp_path, capsys):
    from crmkit.report import RenderEvent
    from crmkit.report.cli import print_progress

    notebooks = language_notebook(tmp_path / "nb")
    with pytest.raises(ParameterError, match=r"^报告 'churn' 的参数 'start'：应为 YYYY-MM-DD"):
        render(None, params={"language": "zh", "start": "2025-13-01"}, out_dir=tmp_path / "o",
               notebooks_dir=notebooks)
    with pytest.raises(ParameterError, match=r"parameter language: language 'xx' has no catalog"):
        render(None, params={"language": "xx"}, out_dir=tmp_path / "o", notebooks_dir=notebooks)
    with i18n.using("zh"):
        print_progress(RenderEvent("finished", "churn", "churn", 1, 2, 1, 6.12))
        print_progress(RenderEvent("cached", "churn", "churn", 1, 2, 2, 0.0))
    assert capsys.readouterr().out == "[1/2] churn … 完成，用时 6.1 秒\n[2/2] churn … 已是最新\n"


def test_english_render_of_the_same_notebook_is_english(tmp_path):
    notebooks = language_notebook(tmp_path / "nb")
    render(None, params={"region": "East"}, out_dir=tmp_path / "out", notebooks_dir=notebooks)
    page = (tmp_path / "out" / "churn.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    assert '<h1 class="crmkit-title">Churn and retention</h1>' in page and page.count("<h1") == 1
    assert "<dt>Period</dt><dd>2025-01-01 to 2025-03-31</dd>" in page
    assert "<dt>Filters</dt><dd>region = East</dd>" in page and "Who leaves." in page
    assert '<nav class="crmkit-toc" aria-label="Contents">' in page


def test_index_in_chinese_translates_titles_and_reasons():
    from crmkit.report.index import index_page

    entry = {"report": "churn", "title": "Churn and retention", "html": "churn.html",
             "period": "2025-04-01 to 2025-06-30", "period_range": ["2025-04-01", "2025-06-30"],
             "parameters": {"region": "East"}, "generated_at": "2025-07-02T14:03:00+00:00",
             "generated_at_text": "2025-07-02 14:03 UTC",
             "last_failure": {"at": "2025-07-03T09:00:00+00:00", "error": "ValueError: x"}}
    groups = {"churn": [("churn", entry)]}
    reasons = {"campaigns": {"reason": "needs campaigns", "source": "data/sample"}}
    english = index_page(groups, version="1", not_applicable=reasons)
    assert '<html lang="en">' in english and "<td>2025-04-01 to 2025-06-30</td>" in english
    assert "needs campaigns" in english and "2025-07-02 14:03 UTC" in english
    with i18n.using("zh"):
        chinese = index_page(groups, version="1", not_applicable=reasons)
    assert '<html lang="zh-CN">' in chinese and "<h2>不适用于此数据的报告</h2>" in chinese
    assert "<td>需要营销活动</td>" in chinese and "<td>2025年4月1日至2025年6月30日</td>" in chinese
    assert "2025年7月2日 14:03 UTC" in chinese and "地区：East" in chinese
    assert "最近一次生成于 2025年7月3日 09:00 UTC 失败：ValueError: x。" in chinese


@pytest.mark.parametrize("language, lang", [("en", "en"), ("zh", "zh-CN"), ("zh_TW", "zh-TW"),
                                            ("en_GB", "en-GB")])
def test_html_lang_from_the_locale(language, lang):
    from crmkit.report.language import html_lang

    assert html_lang(i18n.setting(language)) == lang
