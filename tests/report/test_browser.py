"""Open rendered reports in headless Chromium with the network closed."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def open_offline(browser, path: Path):
    """Load ``path`` with every non-file request blocked; returns (page, requests, console)."""
    page = browser.new_page()
    requests, console = [], []
    page.on("console", lambda msg: console.append((msg.type, msg.text)))
    page.on("pageerror", lambda exc: console.append(("pageerror", str(exc))))
    page.on("dialog", lambda dialog: console.append(("dialog", dialog.message)))

    def route(r):
        requests.append(r.request.url)
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # late requests (fonts, lazy scripts) would show by now
    return page, requests, console


@pytest.mark.parametrize("name", ["overview", "index"])
def test_report_renders_offline_without_errors(browser, batch, name):
    path = batch.out / f"{name}.html"
    page, requests, console = open_offline(browser, path)
    try:
        assert requests == [path.resolve().as_uri()]
        assert [c for c in console if c[0] in ("error", "pageerror", "warning", "dialog")] == []
        if name == "overview":
            assert page.locator("h1.crmkit-title").inner_text() == "Overview"
            assert page.locator("nav.crmkit-toc a").count() == 4
            image = page.locator("img").first
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
            assert "<script>alert(1)</script>" in page.locator("table.dataframe").inner_text()
    finally:
        page.close()


def test_print_layout_keeps_content(browser, batch):
    page, _, _ = open_offline(browser, batch.out / "overview.html")
    try:
        page.emulate_media(media="print")
        assert page.locator("table.dataframe").is_visible()
        assert page.locator("a.anchor-link").first.is_hidden()
    finally:
        page.close()
