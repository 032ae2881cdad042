"""Write the report notebooks from the report outlines: ``python -m crmkit.sections``.

The committed notebooks are generated, so they stay alike (one parameters cell, the
filter panel, one ``report.show`` per section) and a test checks they match their
outlines. An analyst's own notebook can use the same calls; it need not be generated.
``report.filter_panel()`` draws the live filters in JupyterLab and Voilà and prints the
applied filters under ``crmkit render`` (see crmkit.report.mode).
"""

from __future__ import annotations

import json
from pathlib import Path

from crmkit.i18n import N_

PARAMETERS = '''\
start: str = ""  # first day of the period (YYYY-MM-DD); empty: the last full quarter in the data
end: str = ""  # last day of the period, inclusive; empty: the last full quarter in the data
region: str = ""  # filter: a region, or several as "East,West"; empty for all
segment: str = ""  # filter: customer segment
channel: str = ""  # filter: sales channel
category: str = ""  # filter: product category
product: str = ""  # filter: product
sales_rep: str = ""  # filter: sales rep
attributes: str = ""  # filter on attribute columns, JSON: {"contract": "Two year"}; empty for none
by: str = ""  # breakdown for charts: region, segment, channel or any attribute column
language: str = "en"  # report language: en or zh (a catalog in crmkit/locales); zh_TW etc. pick the locale
source: str = ""  # data folder, .duckdb file or postgresql:// URL; empty: data/sample
config: str = ""  # crmkit config file (instead of source)
warehouse: str = ""  # set by crmkit render: the ingested warehouse folder'''

OPEN = '''\
from crmkit.sections import open_report

report = open_report(
    "{name}", warehouse=warehouse, source=source, config=config, by=by, language=language,
    start=start, end=end, region=region, segment=segment, channel=channel,
    category=category, product=product, sales_rep=sales_rep, attributes=attributes,
)'''

# Every report's appendix; report.text shows each heading in the report's language.
APPENDIX = [
    N_("## Appendix"),
    ("appendix_definitions", N_("### KPI definitions")),
    ("appendix_parameters", N_("### Parameters")),
    ("appendix_audit", N_("### Data audit\n\nEvery input row is kept, kept with a flag, or "
                          "quarantined with a reason; the counts reconcile per table.")),
    ("appendix_lineage", N_("### Lineage")),
]


def _cell(kind: str, source: str, **metadata) -> dict:
    cell = {"cell_type": kind, "id": "", "metadata": metadata,
            "source": source.splitlines(True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _text_cell(markdown: str) -> dict:
    return _cell("code", f"report.text({markdown!r})", tags=["remove-input"])


def notebook(name: str) -> dict:
    """The notebook of report ``name`` as nbformat 4 JSON (no outputs)."""
    from crmkit.sections import REPORTS, report_module

    module = report_module(name)
    intro, *outline = module.OUTLINE
    # The report's own text (title, introduction, headings) is shown by report.text in
    # the report's language (crmkit.i18n), so it is code, its input hidden in a report.
    cells = [_cell("code", PARAMETERS, tags=["parameters"]),
             _cell("code", OPEN.format(name=name), tags=["remove-input"]),
             _text_cell(intro),
             _cell("code", "report.filter_panel()")]
    shaped = getattr(module, "SHAPES", {})
    # A report's own appendix entries (its module's APPENDIX) follow the appendix heading.
    appendix = [APPENDIX[0], *getattr(module, "APPENDIX", []), *APPENDIX[1:]]
    for entry in [*outline, *appendix]:
        if isinstance(entry, str):
            cells.append(_text_cell(entry))
        else:
            section, heading = entry
            # A shaped section shows its heading only with data; a None heading: the
            # section has none of its own (it follows the previous heading, or shows its
            # own when it has something to show).
            if section not in shaped and heading:
                cells.append(_text_cell(heading))
            cells.append(_cell("code", f'report.show("{section}")'))
    for i, cell in enumerate(cells):
        cell["id"] = f"{name}-{i:02d}"  # stable ids: regenerating changes nothing
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                        "name": "python3"},
                         "language_info": {"name": "python"},
                         # order: the report's place on the index page (REPORTS' order)
                         "crmkit": {"title": module.TITLE, "order": list(REPORTS).index(name)}}}


def notebook_text(name: str) -> str:
    return json.dumps(notebook(name), indent=1, ensure_ascii=False) + "\n"


def write_notebooks(folder: str | Path) -> list[Path]:
    from crmkit.sections import REPORTS

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in REPORTS:
        path = folder / f"{name}.ipynb"
        path.write_text(notebook_text(name), encoding="utf-8")
        written.append(path)
    return written
