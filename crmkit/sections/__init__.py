"""Report sections: the layer the report notebooks call (one crmkit call per cell).

    from crmkit.sections import open_report
    report = open_report("churn", start="2025-01-01", end="2025-03-31", region="East")
    report.show("summary")

Each report is a module with ``TITLE``, ``OUTLINE`` (the notebook's headings and sections,
in order), ``SECTIONS`` (name -> function) and, optionally, ``SHAPES`` (section -> the
table it reads, for sections of one shape of data: a B2B pipeline's bookings, a retail
shop's revenue; left out, heading and all, when the data has none of that table). ``python -m crmkit.sections`` writes
``notebooks/<report>.ipynb`` from the outlines.
"""

from __future__ import annotations

import importlib

from crmkit.exceptions import ParameterError
from crmkit.sections.base import Report, Table, Text

REPORTS = {
    "kpi_scorecard": "crmkit.sections.scorecard",  # first: the page a manager opens first
    "sales_performance": "crmkit.sections.sales",
    "customer_behaviour": "crmkit.sections.behaviour",
    "satisfaction": "crmkit.sections.satisfaction",
    "churn": "crmkit.sections.churn",
    "campaigns": "crmkit.sections.campaigns",
}

__all__ = ["REPORTS", "Report", "Table", "Text", "open_report", "report_module"]


def report_module(name: str):
    if name not in REPORTS:
        raise ParameterError(f"unknown report {name!r}; reports are {', '.join(REPORTS)}")
    return importlib.import_module(REPORTS[name])


def open_report(name: str, **params) -> Report:
    """Open report ``name`` on the filters given as notebook parameters (see
    :func:`crmkit.sections.base.open_report`)."""
    from crmkit.sections.base import open_report as _open

    module = report_module(name)
    return _open(name, title=module.TITLE, sections=module.SECTIONS,
                 shaped=shaped_sections(module), **params)


def shaped_sections(module) -> dict[str, tuple[str, str]]:
    """section -> (table, heading) for the sections of one shape of data: a module's
    ``SHAPES`` (section -> the table it reads) with their headings from ``OUTLINE``."""
    shapes = getattr(module, "SHAPES", {})
    headings = {entry[0]: entry[1] for entry in module.OUTLINE if isinstance(entry, tuple)}
    return {section: (table, headings[section]) for section, table in shapes.items()}
