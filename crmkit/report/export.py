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
import unicodedata
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
    parameters, imports). With ``resources["crmkit"]["title_from_heading"]`` the leading
    ``# Title`` line of the notebook's first text is dropped and the header shows it as
    its title: the first markdown cell, or the first Markdown output (a report notebook's
    ``report.text(...)`` cell, which writes it in the report's language).

    In a page not in English, ``**bold**`` and ``*italic*`` that CommonMark would leave
    open around Chinese text are closed: it does not close ``**流失定义：**客户`` (a
    delimiter between full-width punctuation and a letter is not "flanking"), so the
    asterisks would show; the punctuation moves outside, ``**流失定义**：客户``.
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
        header = resources.get("crmkit", {})
        if not str(header.get("language") or "en").lower().startswith("en"):
            _cjk_emphasis(nb)
        if header.get("title_from_heading"):
            title = _drop_title_heading(nb)
            if title:
                header["title"] = title
        return nb, resources


_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_EMPHASIS = [re.compile(r"(?<![\\*])(\*\*)(?![\s*])([^\n]+?)(?<![\s\\*])\*\*(?!\*)"),
             re.compile(r"(?<![\\*])(\*)(?![\s*])([^\n*]+?)(?<![\s\\*])\*(?!\*)")]


def _punctuation(char: str) -> bool:
    return bool(char) and unicodedata.category(char)[0] in "PS"


def _loose(char: str) -> bool:
    """Whether a delimiter next to ``char`` may open or close emphasis whatever the
    other side holds: the text's edge, a space or punctuation."""
    return not char or char.isspace() or _punctuation(char)


def _cjk_markdown(markdown: str) -> str:
    """Emphasis around Chinese text that CommonMark would leave open, closed: the
    punctuation at its inner edge (``**流失定义：**客户``) moves outside the delimiters
    (``**流失定义**：客户``), where a Chinese reader expects it too. Emphasis
    CommonMark closes anyway is left as it is; an escaped ``\\*`` is no delimiter."""
    if not _CJK.search(markdown):
        return markdown

    def fix(match: re.Match) -> str:
        marks, inner = match.group(1), match.group(2)
        before = match.string[match.start() - 1] if match.start() else ""
        after = match.string[match.end()] if match.end() < len(match.string) else ""
        # One character out is enough: the delimiter then has punctuation on its outer
        # side, and (）：) keeps its closing bracket with the text it closes.
        lead = trail = ""
        if not _loose(before) and len(inner) > 1 and _punctuation(inner[0]):
            lead, inner = inner[0], inner[1:]
        if not _loose(after) and len(inner) > 1 and _punctuation(inner[-1]):
            trail, inner = inner[-1], inner[:-1]
        return f"{lead}{marks}{inner}{marks}{trail}"

    for pattern in _EMPHASIS:
        markdown = pattern.sub(fix, markdown)
    return markdown


def _cjk_emphasis(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _cjk_markdown(cell.source)
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown")
            if text is not None:
                text = "".join(text) if isinstance(text, list) else text
                output.data["text/markdown"] = _cjk_markdown(text)


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


_TITLE_LINE = re.compile(r"#\s+(.+?)\s*#*\s*$")


def _split_title(markdown: str) -> tuple[str | None, str]:
    """(the ``# Title`` a markdown text starts with, the rest) or (None, the text)."""
    lines = markdown.lstrip("\n").split("\n")
    match = _TITLE_LINE.match(lines[0]) if lines else None
    if not match:
        return None, markdown
    return match.group(1), "\n".join(lines[1:]).strip("\n")


def _drop_title_heading(nb) -> str | None:
    """Drop the ``# Title`` line the notebook's first text starts with (a markdown cell's
    source, or a code cell's first Markdown output); return the title, or None."""
    title = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            title, cell.source = _split_title(cell.source)
            break
        text_outputs = [o for o in cell.get("outputs", []) if "text/markdown" in o.get("data", {})]
        if cell.cell_type == "code" and text_outputs:
            output = text_outputs[0]
            markdown = output.data["text/markdown"]
            markdown = "".join(markdown) if isinstance(markdown, list) else markdown
            title, rest = _split_title(markdown)
            if title is not None:
                if rest.strip():
                    output.data["text/markdown"] = rest
                    output.data.pop("text/plain", None)  # the repr of the whole text
                else:
                    cell.outputs = [o for o in cell.outputs if o is not output]
            break
    nb.cells = [c for c in nb.cells
                if not (c.cell_type == "markdown" and not c.source.strip())
                and not (c.cell_type == "code" and not c.get("outputs"))]
    return title


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
    ``language`` (the page's ``lang``: en, zh-CN), ``version``, ``title_from_heading``
    and ``contents`` (the table of contents' heading, "Contents" by default); all plain
    text, escaped here.
    ``folder``: where the notebook lives, for images its markdown links to. Raises
    ValueError when the page would load anything (see check_self_contained).
    """
    resources = {"crmkit": dict(header)}
    if folder is not None:
        resources["metadata"] = {"path": str(folder)}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    page = add_toc(body, label=header.get("contents") or "Contents")
    problems = check_self_contained(page)
    if problems:
        raise ValueError("the report would load external content or run scripts: "
                         + "; ".join(problems[:5]))
    return page


# -- table of contents ----------------------------------------------------------------------

_HEADING = re.compile(r'<h([1-3]) id="([^"]*)">(.*?)</h\1>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def add_toc(page: str, *, min_headings: int = 2, label: str = "Contents") -> str:
    """Fill the TOC placeholder from the page's h1-h3 headings (those with an id).

    Heading ids are made unique (nbconvert gives two "Summary" headings the same id) so
    every entry jumps to its own heading. Fewer than ``min_headings``: no TOC. ``label``:
    its heading, in the report's language.
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
    label = html.escape(label)
    toc = (f'<nav class="crmkit-toc" aria-label="{label}">\n<h2>{label}</h2>\n<ol>\n{items}'
           '\n</ol>\n</nav>')
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
