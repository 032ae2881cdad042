"""Safe markdown from data: values from the data are text, never markup.

A customer called ``<script>alert(1)</script>`` or ``**VIP**`` must show as those characters
in a report. pandas escapes DataFrame HTML already (``to_html(escape=True)`` is the
default; a ``Styler`` does NOT escape unless ``.format(escape="html")``); markdown built
from data goes through here::

    markdown("Top customer: **{name}** ({revenue:,.0f} EUR)", name=top.name, revenue=top.revenue)

The template is trusted (written in the notebook); every substituted value is formatted
with its format spec, then escaped.
"""

from __future__ import annotations

import re
import string

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that can
# start or end markup, plus `$` (nbconvert reads $...$ as math).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")


def escape_markdown(value: object) -> str:
    """``value`` as markdown that renders as exactly its text, on one line."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


class _EscapingFormatter(string.Formatter):
    def format_field(self, value, format_spec):
        return escape_markdown(super().format_field(value, format_spec))


def format_markdown(template: str, /, **values: object) -> str:
    """``template.format(**values)`` with every value escaped (see :func:`escape_markdown`)."""
    return _EscapingFormatter().format(template, **values)


def markdown(template: str, /, **values: object):
    """An ``IPython.display.Markdown`` of :func:`format_markdown`; display it in a notebook."""
    from IPython.display import Markdown

    return Markdown(format_markdown(template, **values))
