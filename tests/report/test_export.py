import html
import re

import pytest
from nbconvert.filters.markdown import markdown2html
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from crmkit.report.export import ReportPreprocessor, add_toc, check_self_contained, export_html
from crmkit.report.markup import escape_markdown, format_markdown

HEADER = {"title": "T", "kicker": "k", "facts": [("Period", "p")], "footer": "f",
          "language": "en", "version": "0", "title_from_heading": True}


def executed(*cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def code(*outputs, tags=()):
    cell = new_code_cell("x = 1", outputs=list(outputs))
    cell.metadata["tags"] = list(tags)
    return cell


def test_preprocessor_keeps_only_what_a_reader_should_see():
    nb = executed(
        new_markdown_cell("# Title\n\nIntro."),
        code(),  # parameters, imports: no output
        code(new_output("stream", name="stderr", text="UserWarning: careful\n"),
             new_output("stream", name="stdout", text="kept\n")),
        code(new_output("error", ename="ValueError", evalue="x", traceback=["Traceback ..."])),
        code(new_output("display_data", data={"application/javascript": "alert(1)", "text/plain": "<JS>"})),
        code(new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "1"},
                                               "text/plain": "IntSlider(value=3)"})),
        code(new_output("stream", name="stdout", text="hidden\n"), tags=["remove-output"]),
        code(new_output("stream", name="stdout", text="gone\n"), tags=["remove-cell"]),
    )
    nb, _ = ReportPreprocessor().preprocess(nb, {"crmkit": {"title_from_heading": True}})
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[0].source == "Intro."
    assert [o.text for o in nb.cells[1].outputs] == ["kept\n"]
    assert nb.cells[2].outputs[0].data == {"text/plain": "<JS>"}
    assert "widgets" not in nb.metadata


def test_export_refuses_a_page_that_would_fetch():
    nb = executed(code(new_output("display_data", data={
        "text/html": '<img src="https://tracker.example/pixel.png">', "text/plain": "img"})))
    with pytest.raises(ValueError, match=r"external content.*<img src='https://tracker.example/pixel.png'>"):
        export_html(nb, HEADER)


def test_export_is_script_free_and_escapes_header():
    nb = executed(new_markdown_cell("## A\n\ntext"), new_markdown_cell("## B"))
    page = export_html(nb, {**HEADER, "title": "<b>Q1</b>", "facts": [("Filters", "name = <x>")]})
    assert "<script" not in page and check_self_contained(page) == []
    assert "<title>&lt;b&gt;Q1&lt;/b&gt;</title>" in page and "<dd>name = &lt;x&gt;</dd>" in page


@pytest.mark.parametrize("html, problem", [
    ('<script>alert(1)</script>', "<script> element"),
    ('<script src="https://cdn.example/require.js"></script>', "<script> element"),
    ('<link rel="stylesheet" href="https://fonts.example/css">', "<link> element"),
    ('<iframe src="data:text/html,x"></iframe>', "<iframe> element"),
    ('<img src="//cdn.example/x.png">', "<img src='//cdn.example/x.png'>"),
    ('<img src="x.png">', "<img src='x.png'>"),
    ('<div style="background: url(https://x.example/a.png)">', "<div style> loads"),
    ('<style>@import "https://x.example/a.css";</style>', "<style> loads"),
    ('<a href="javascript:alert(1)">x</a>', "href=javascript"),
    ('<div onclick="alert(1)">x</div>', "onclick"),
    ('<svg><image href="https://x.example/a.png"/></svg>', "<image href="),
])
def test_check_self_contained_finds_fetches_and_scripts(html, problem):
    problems = check_self_contained(html)
    assert problems and problem in problems[0]


def test_check_self_contained_allows_links_and_data_uris():
    assert check_self_contained(
        '<a href="https://example.org/docs">docs</a><a href="#s">s</a>'
        '<img src="data:image/png;base64,AAAA"><style>.x { background: url(data:image/png;base64,AA) }</style>') == []


def test_toc_is_built_from_headings_with_unique_ids():
    page = ('<head></head><!--crmkit:toc--><main>'
            '<h2 id="Summary">Summary<a class="anchor-link" href="#Summary">¶</a></h2>'
            '<h3 id="Sales-&amp;-returns">Sales &amp; returns<a class="anchor-link" href="#Sales-&amp;-returns">¶</a></h3>'
            '<h2 id="Summary">Summary<a class="anchor-link" href="#Summary">¶</a></h2></main>')
    out = add_toc(page)
    assert '<a href="#Summary">Summary</a>' in out
    assert '<a href="#Sales-&amp;-returns">Sales &amp; returns</a>' in out
    assert '<a href="#Summary-2">Summary</a>' in out
    assert '<h2 id="Summary-2">Summary<a class="anchor-link" href="#Summary-2">' in out
    assert 'class="crmkit-toc-3"' in out


def test_toc_skipped_with_one_heading():
    page = '<!--crmkit:toc--><h2 id="Only">Only</h2>'
    assert add_toc(page) == '<h2 id="Only">Only</h2>'


# -- markup --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "<script>alert(1)</script>", "**VIP** _x_ `y`", "[click](http://evil.example)", "# not a heading",
    "a & b < c > d", "$5 and $6", "1. first", "- item", "back\\slash", "|a|b|", "![i](x.png)",
])
def test_escaped_markdown_renders_as_its_text(value):
    rendered = markdown2html(format_markdown("Name: {v}", v=value))
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()
    assert text == f"Name: {value}"
    assert "<script" not in rendered and "<a " not in rendered and "<img" not in rendered


def test_format_markdown_applies_format_specs_then_escapes():
    assert format_markdown("**{name}** {revenue:,.0f}", name="A*B", revenue=12345.6) == r"**A\*B** 12,346"
    assert escape_markdown("line\nbreak") == "line break"



def test_markdown_images_are_embedded(tmp_path):
    (tmp_path / "logo.png").write_bytes(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"))
    page = export_html(executed(new_markdown_cell("## Logo\n\n![logo](logo.png)")), HEADER, folder=tmp_path)
    assert '<img alt="logo" src="data:image/png;base64,iVBOR' in page
    with pytest.raises(ValueError, match="missing.png"):
        export_html(executed(new_markdown_cell("![x](missing.png)")), HEADER, folder=tmp_path)


# -- the title and the text of a report notebook (report.text cells) -----------------------

def markdown_output(text):
    return new_output("display_data", data={"text/markdown": text,
                                            "text/plain": "<IPython.core.display.Markdown object>"})


def test_title_is_taken_from_the_first_markdown_output():
    """A report notebook shows its title and intro with report.text: a code cell whose
    first Markdown output starts with the title, in the report's language."""
    nb = executed(
        code(),  # parameters
        code(markdown_output("# 流失与留存\n\n有多少客户流失。"), tags=["remove-input"]),
        code(markdown_output("## 主要发现")),
        code(markdown_output("## 附录")),
    )
    header = {**HEADER, "title": "Churn and retention", "language": "zh-CN"}
    page = export_html(nb, header)
    assert '<h1 class="crmkit-title">流失与留存</h1>' in page
    assert "<title>流失与留存</title>" in page and page.count("<h1") == 1
    assert "有多少客户流失。" in page and "# 流失与留存" not in page
    assert header["title"] == "Churn and retention"  # the caller's header is not changed


def test_a_title_alone_leaves_no_empty_cell():
    nb = executed(code(markdown_output("# Only a title")), code(markdown_output("## A")))
    nb, resources = ReportPreprocessor().preprocess(nb, {"crmkit": {"title_from_heading": True}})
    assert resources["crmkit"]["title"] == "Only a title"
    assert [c.outputs[0].data["text/markdown"] for c in nb.cells] == ["## A"]


def test_heading_kept_without_title_from_heading():
    nb = executed(code(markdown_output("# Kept\n\ntext")))
    nb, resources = ReportPreprocessor().preprocess(nb, {"crmkit": {"title_from_heading": False}})
    assert nb.cells[0].outputs[0].data["text/markdown"] == "# Kept\n\ntext"
    assert "title" not in resources["crmkit"]


def test_table_of_contents_heading_in_the_reports_language():
    nb = executed(code(markdown_output("## 主要发现")), code(markdown_output("## 附录")))
    page = export_html(nb, {**HEADER, "language": "zh-CN", "contents": "目录"})
    assert '<nav class="crmkit-toc" aria-label="目录">\n<h2>目录</h2>' in page
    assert '<html lang="zh-CN">' in page


def test_chinese_emphasis_is_closed():
    """CommonMark leaves ``**流失定义：**客户`` open (the closing ** sits between
    full-width punctuation and a letter): in a Chinese page the punctuation moves out of
    the emphasis. English pages are left to the markdown renderer."""
    nb = executed(code(markdown_output(
        "**流失定义（合同制）：**客户离开，客户**（合同制）**定义；说明*注：样本少。*后 \\*\\*VIP\\*\\*")))
    page = export_html(nb, {**HEADER, "language": "zh-CN"})
    assert "<strong>流失定义（合同制）</strong>：客户离开" in page
    assert "客户（<strong>合同制</strong>）定义" in page and "说明<em>注：样本少</em>。后" in page
    assert "**VIP**" in page  # escaped asterisks are text
    english = export_html(executed(code(markdown_output("**Period:** x"))), HEADER)
    assert "<strong>Period:</strong> x" in english


def test_page_styles_chinese_with_system_fonts_and_print_rules():
    page = export_html(executed(code(markdown_output("text"))), {**HEADER, "language": "zh-CN"})
    for rule in ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei"',
                 "line-break: strict", "word-break: normal", "overflow-wrap: anywhere",
                 "tr, .crmkit-facts div { break-inside: avoid"):
        assert rule in page, rule
    assert "@font-face" not in page and check_self_contained(page) == []
