"""Export an executed notebook to one self-contained HTML file with crmkit's template.

The HTML has no code, no prompts, no stderr, warnings or tracebacks, a header (title,
period, filters, data source, generation time), a table of contents from the markdown
headings, print CSS, images as data URIs, and nothing that makes the browser fetch
anything: :func:`check_self_contained` refuses a page that would.

Importing this module imports nbconvert (~2 s); ``crmkit.report.render`` imports it only
when something has to be rendered.
"""

from __future__ import annotations

import html
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

from crmkit.report.imports import without_iri_grammar

with without_iri_grammar():
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import Preprocessor

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "crmkit"
TOC_PLACEHOLDER = "<!--crmkit:toc-->"
# Output types a report never shows: scripts cannot run under the page's CSP, widgets
# have no kernel to talk to. Their text/plain fallback (a repr) is no better.
HIDDEN_MIMETYPES = ("application/javascript", "application/vnd.jupyter.widget-view+json",
                    "application/vnd.jupyter.widget-state+json")
ERROR_MARKER_TAG = "papermill-error-cell-tag"


class ReportPreprocessor(Preprocessor):
    """Make an executed notebook read as a report.

    Drops stderr streams (warnings, logging, progress bars), error outputs, JavaScript
    and widget outputs, papermill's error markers, cells tagged ``remove-cell`` and outputs
    of cells tagged ``remove-output``; then code cells left with no output (the
    parameters, imports). With ``resources["crmkit"]["title_from_heading"]`` the first
    markdown cell's leading ``# Title`` line is dropped: the header shows it.
    """

    def preprocess(self, nb, resources):
        cells = []
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if "remove-cell" in tags or ERROR_MARKER_TAG in tags:
                continue
            if cell.cell_type == "code":
                cell.outputs = [] if "remove-output" in tags else _report_outputs(cell.outputs)
                if not cell.outputs:
                    continue
            cells.append(cell)
        nb.cells = cells
        nb.metadata.pop("widgets", None)
        if resources.get("crmkit", {}).get("title_from_heading"):
            _drop_title_heading(nb)
        return nb, resources


def _report_outputs(outputs):
    kept = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "error" or (kind == "stream" and output.get("name") != "stdout"):
            continue
        if kind in ("display_data", "execute_result"):
            if "application/vnd.jupyter.widget-view+json" in output.data:
                continue  # its text/plain fallback is a repr: "IntSlider(value=3)"
            for mimetype in HIDDEN_MIMETYPES:
                output.data.pop(mimetype, None)
            if not output.data:
                continue
        kept.append(output)
    return kept


def _drop_title_heading(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.lstrip("\n").split("\n")
        if lines and re.match(r"#\s", lines[0]):
            cell.source = "\n".join(lines[1:]).strip("\n")
        break
    nb.cells = [c for c in nb.cells if not (c.cell_type == "markdown" and not c.source.strip())]


# -- export --------------------------------------------------------------------------------

_local = threading.local()


def _exporter() -> HTMLExporter:
    # One exporter per thread: building one compiles the template (~0.1 s); jinja
    # environments are not documented as thread-safe.
    exporter = getattr(_local, "exporter", None)
    if exporter is None:
        exporter = HTMLExporter(
            template_name=TEMPLATE_NAME,
            extra_template_basedirs=[str(TEMPLATES)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            embed_images=True,  # markdown ![logo](logo.png) becomes a data: URI
            anchor_link_text="¶",
        )
        exporter.register_preprocessor(ReportPreprocessor(), enabled=True)
        _local.exporter = exporter
    return exporter


def export_html(nb, header: dict, *, folder: str | Path | None = None) -> str:
    """The report page for executed notebook ``nb``.

    ``header`` holds ``title``, ``kicker``, ``facts`` (label, value pairs), ``footer``,
    ``language``, ``version``, ``title_from_heading``; all plain text, escaped here.
    ``folder``: where the notebook lives, for images its markdown links to. Raises
    ValueError when the page would load anything (see check_self_contained).
    """
    resources = {"crmkit": header}
    if folder is not None:
        resources["metadata"] = {"path": str(folder)}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    page = add_toc(body)
    problems = check_self_contained(page)
    if problems:
        raise ValueError("the report would load external content or run scripts: "
                         + "; ".join(problems[:5]))
    return page


# -- table of contents ----------------------------------------------------------------------

_HEADING = re.compile(r'<h([1-3]) id="([^"]*)">(.*?)</h\1>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def add_toc(page: str, *, min_headings: int = 2) -> str:
    """Fill the TOC placeholder from the page's h1-h3 headings (those with an id).

    Heading ids are made unique (nbconvert gives two "Summary" headings the same id) so
    every entry jumps to its own heading. Fewer than ``min_headings``: no TOC.
    """
    entries, seen = [], {}

    def unique(match: re.Match) -> str:
        level, hid, inner = match.group(1), match.group(2), match.group(3)
        count = seen.get(hid, 0)
        seen[hid] = count + 1
        if count:
            new = f"{hid}-{count + 1}"
            inner = inner.replace(f'href="#{hid}"', f'href="#{new}"')
            hid = new
        text = html.unescape(_TAG.sub("", inner)).replace("¶", "").strip()
        entries.append((int(level), hid, text))
        return f'<h{level} id="{hid}">{inner}</h{level}>'

    head, sep, body = page.partition(TOC_PLACEHOLDER)
    if not sep:
        return page
    body = _HEADING.sub(unique, body)
    if len(entries) < min_headings:
        return head + body
    top = min(level for level, _, _ in entries)
    items = "\n".join(
        f'<li class="crmkit-toc-{min(level - top + 2, 3)}"><a href="#{hid}">{html.escape(text)}</a></li>'
        for level, hid, text in entries)
    toc = f'<nav class="crmkit-toc" aria-label="Contents">\n<h2>Contents</h2>\n<ol>\n{items}\n</ol>\n</nav>'
    return head + toc + body


# -- nothing fetched, nothing run ------------------------------------------------------------

_FETCHING_TAGS = {"script", "iframe", "frame", "object", "embed", "link", "base", "applet",
                  "audio", "video", "source", "track", "portal"}
_URL_ATTRS = {"src", "srcset", "data", "poster", "background", "action", "formaction", "xlink:href"}
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*(?!data:)([^'\")\s]+)|@import", re.IGNORECASE)


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        if tag in _FETCHING_TAGS:
            self.problems.append(f"<{tag}> element")
        if tag == "meta" and any(k == "http-equiv" and (v or "").lower() == "refresh" for k, v in attrs):
            self.problems.append("<meta http-equiv=refresh>")
        for name, value in attrs:
            value = (value or "").strip()
            if name in _URL_ATTRS and value and not value.lower().startswith("data:"):
                self.problems.append(f"<{tag} {name}={value[:60]!r}>")
            elif name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            elif name == "style" and _CSS_URL.search(value):
                self.problems.append(f"<{tag} style> loads {_CSS_URL.search(value).group(0)[:60]!r}")
            elif name == "href" and value.lower().startswith("javascript:"):
                self.problems.append(f"<{tag} href=javascript:...>")
            elif name == "href" and tag in ("image", "use", "feimage") and value \
                    and not value.startswith(("#", "data:")):
                self.problems.append(f"<{tag} href={value[:60]!r}>")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style and _CSS_URL.search(data):
            self.problems.append(f"<style> loads {_CSS_URL.search(data).group(0)[:60]!r}")


def check_self_contained(page: str) -> list[str]:
    """What in ``page`` would fetch a resource or run a script; empty when nothing would.

    Links (``<a href>``) are allowed: following one is the reader's choice.
    """
    checker = _Checker()
    checker.feed(page)
    checker.close()
    return checker.problems
