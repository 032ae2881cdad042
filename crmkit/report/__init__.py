"""Render report notebooks to self-contained HTML (papermill + nbconvert, in-process).

Importing this package is cheap: papermill and nbconvert are imported only when a
notebook actually has to be executed or exported.
"""

from crmkit.report.markup import escape_markdown, format_markdown, markdown
from crmkit.report.parameters import ParameterSpec, read_parameters, validate
from crmkit.report.render import (
    RenderEvent,
    RenderFailure,
    RenderResult,
    available_reports,
    render,
)

__all__ = [
    "ParameterSpec",
    "RenderEvent",
    "RenderFailure",
    "RenderResult",
    "available_reports",
    "escape_markdown",
    "format_markdown",
    "markdown",
    "read_parameters",
    "render",
    "validate",
]
