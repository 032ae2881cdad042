"""`crmkit dashboard` for real: Voilà on a free port, Debian's Chromium driven by
Playwright, the network beyond 127.0.0.1 closed. A filter change must redraw the KPIs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from crmkit.metrics import Filters, get_metric
from crmkit.charts import value_text
from crmkit.metrics.results import format_value
from crmkit.sections import REPORTS
from crmkit.sections.base import default_period
from crmkit.warehouse import Warehouse
from tests.conftest import ROOT, _free_port, need

pytestmark = pytest.mark.slow
PAGE_TIMEOUT = 120_000  # ms: a dashboard executes its whole notebook before it shows


@pytest.fixture(scope="module")
def dashboard():
    """The base URL of `crmkit dashboard` serving notebooks/, stopped afterwards."""
    try:
        import voila  # noqa: F401
    except ImportError:
        voila = None
    need(voila is not None, "the voila package")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "CRMKIT_BATCH"}
    server = subprocess.Popen(
        [sys.executable, "-m", "crmkit", "dashboard", "--port", str(port), "--no-browser"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # its own process group: the kernels stop with it
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the dashboard did not start:\n{server.stdout.read()}",
                                pytrace=False)
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(20)


def offline_page(browser, base: str):
    """A page that may reach ``base`` only; (page, blocked requests, console problems)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    blocked, problems = [], []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    local = (base, base.replace("http://", "ws://"), "data:", "blob:")

    def route(r):
        if r.request.url.startswith(local):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return page, blocked, problems


def test_landing_page_lists_the_reports(dashboard, browser):
    page, blocked, problems = offline_page(browser, dashboard)
    try:
        page.goto(dashboard + "/", wait_until="load")
        links = page.locator("ul.crmkit-reports a")
        names = {links.nth(i).get_attribute("href").rsplit("/", 1)[-1]
                 for i in range(links.count())}
        assert names == {f"{name}.ipynb" for name in REPORTS}
        assert "Sales performance" in page.locator("ul.crmkit-reports").inner_text()
        assert blocked == [] and problems == []
    finally:
        page.close()


def test_region_change_redraws_the_kpis(dashboard, browser, sample_warehouse):
    wh = Warehouse.open(sample_warehouse)
    start, end = default_period(wh)
    east = get_metric("revenue")(wh, Filters(start=start, end=end, region="East"))
    wh.close()

    page, blocked, problems = offline_page(browser, dashboard)
    try:
        page.goto(dashboard + "/", wait_until="load")
        page.get_by_role("link", name="Sales performance").click()
        page.wait_for_selector(".crmkit-filter-panel", timeout=PAGE_TIMEOUT)
        revenue = page.locator("li", has_text="Net revenue was").first
        before = revenue.inner_text(timeout=PAGE_TIMEOUT)
        assert "render sales_performance --param start=" in \
            page.locator(".crmkit-command").inner_text()
        html = page.content()
        for code in ("report.filter_panel()", "report.show(", "open_report(", "start: str"):
            assert code not in html, code  # a dashboard shows no code

        page.get_by_label("Region", exact=True).select_option("East")
        page.wait_for_function(
            """before => [...document.querySelectorAll('li')].some(
                   li => li.innerText.startsWith('Net revenue was') && li.innerText !== before)""",
            arg=before, timeout=60_000)
        after = revenue.inner_text()
        assert format_value(east.value, "currency") in after, (before, after)
        # the charts are drawn by the browser (Vega-Lite, SVG) and follow the filter: the
        # region breakdown has East alone, labelled with its revenue
        label = f"{value_text(east.value, 'currency')} (100.0%)"
        page.wait_for_function(
            """label => [...document.querySelectorAll('.vega-embed svg text')].some(
                   t => t.textContent === label)""", arg=label, timeout=60_000)
        assert page.locator(".vega-embed svg").count() >= 5
        page.wait_for_selector(".crmkit-status-idle:has-text('up to date')", timeout=60_000)
        assert "--param region=East" in page.locator(".crmkit-command").inner_text()
        scope = page.locator("p", has_text="Period and filters:").first.inner_text()
        assert "region: East" in scope, scope
        assert blocked == [], blocked
        assert problems == [], problems
    finally:
        page.close()


def test_a_preset_reaches_the_dashboards_kernels(tmp_path):
    """`crmkit dashboard --source DIR --preset salesforce`: the kernels read DIR the same way."""
    from crmkit.dashboard import prepare_environment
    from crmkit.report.mode import PRESET_ENV, SOURCE_ENV

    environ = {PRESET_ENV: "stale"}
    prepare_environment(environ, source=str(tmp_path), preset="salesforce")
    assert environ[SOURCE_ENV] == str(tmp_path.resolve())
    assert environ[PRESET_ENV] == "salesforce"
    prepare_environment(environ, source=str(tmp_path))
    assert PRESET_ENV not in environ


def test_dashboard_preset_needs_a_source():
    done = subprocess.run([sys.executable, "-m", "crmkit", "dashboard", "--preset",
                           "salesforce", "--no-browser"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "--preset reads a --source folder" in done.stderr and "Traceback" not in done.stderr
