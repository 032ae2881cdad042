"""The language of a render, and how its header and index read dates, periods and times.

A render speaks the language its ``language`` parameter (or ``lang``) names, English by
default: ``crmkit render --param language=zh`` writes each report's header, the index
page, the progress lines and the error messages in Chinese (crmkit.i18n's catalogs). A
report itself speaks the language of its own parameters (a batch over ``language=en``
and ``language=zh`` writes one header in each); the index page and the messages speak
the first language given.

English keeps the ISO dates and times its headers always had (``2025-04-01 to
2025-06-30``, ``2025-07-02 14:03 CEST``); another language writes them as its locale
does, through Babel (``2025年4月1日至2025年6月30日``, ``2025年7月2日 14:03 UTC``).

Importing this module imports Babel, not pandas or nbconvert: the cached path stays fast.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from crmkit import i18n
from crmkit.exceptions import ParameterError
from crmkit.i18n import N_, tr

LANGUAGE_PARAMETERS = ("language", "lang")
# The report parameters a header, footer or index names: English shows the parameter's
# name (what --param takes), another language the reader's word for it. A parameter not
# listed (a notebook's own) is shown by its name.
PARAMETER_LABELS = {
    "start": N_("start"), "end": N_("end"), "region": N_("region"),
    "segment": N_("segment"), "channel": N_("channel"), "category": N_("category"),
    "product": N_("product"), "sales_rep": N_("sales_rep"), "attributes": N_("attributes"),
    "by": N_("by"), "language": N_("language"), "lang": N_("lang"),
    "source": N_("source"), "config": N_("config"), "warehouse": N_("warehouse"),
}


def language_of(name: str, value: Any) -> i18n.Setting:
    """The language (and locale) a ``language``/``lang`` parameter names; a
    ParameterError naming the parameter and the languages there are otherwise."""
    try:
        return i18n.setting(str(value))
    except ValueError as err:
        raise ParameterError(tr("parameter {name}: {error}").format(name=name, error=err)) \
            from None


def render_language(params: dict | Iterable[dict] | None) -> i18n.Setting:
    """The language of a render: the first ``language`` (or ``lang``) parameter given in
    ``params`` (one dict or a list of them), else English."""
    sets = [params or {}] if isinstance(params, dict) or params is None else list(params)
    for given in sets:
        for name in LANGUAGE_PARAMETERS:
            value = given.get(name)
            if value not in (None, ""):
                return language_of(name, value)
    return i18n.setting()


def lenient_language(params: dict | Iterable[dict] | None) -> i18n.Setting:
    """:func:`render_language`, or English when the parameter names no language (the
    parameter check says so, in English)."""
    try:
        return render_language(params)
    except ParameterError:
        return i18n.setting()


def html_lang(setting: i18n.Setting | None = None) -> str:
    """The ``lang`` attribute of a page: en, zh-CN, zh-TW, en-GB (a numeric region, as
    English's default ``en_001``, is left out)."""
    locale = (setting or i18n.current()).locale
    region = locale.territory
    return f"{locale.language}-{region}" if region and not region.isdigit() else locale.language


def _english() -> bool:
    return i18n.current().language == i18n.SOURCE_LANGUAGE


def day_text(value: Any) -> str:
    """A day of a period: ``2025-04-01`` in English, the locale's date otherwise
    (``2025年4月1日``). Text that is not an ISO date is left as it is."""
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    if _english():
        return text
    try:
        return i18n.date(dt.date.fromisoformat(text[:10]))
    except ValueError:
        return text


def period_text(start: Any, end: Any) -> str:
    """``2025-04-01 to 2025-06-30`` / ``from ...`` / ``until ...``; empty without dates."""
    if start and end:
        return tr("{start} to {end}").format(start=day_text(start), end=day_text(end))
    if start:
        return tr("from {start}").format(start=day_text(start))
    if end:
        return tr("until {end}").format(end=day_text(end))
    return ""


def time_text(moment: dt.datetime) -> str:
    """When a report was generated: ``2025-07-02 14:03 CEST`` in English, the locale's
    date and time otherwise (``2025年7月2日 14:03 UTC``)."""
    if _english():
        return moment.strftime("%Y-%m-%d %H:%M %Z").strip()
    from babel import dates

    locale = i18n.current().locale
    day = dates.format_date(moment.date(), "long", locale=locale)
    time = dates.format_time(moment, "short", tzinfo=moment.tzinfo, locale=locale)
    pattern = str(locale.datetime_formats.get("medium", "{1} {0}"))
    text = pattern.replace("{1}", day).replace("{0}", time)
    if moment.tzinfo is not None:
        text += " " + dates.format_datetime(moment, "z", tzinfo=moment.tzinfo, locale=locale)
    return text.strip()


def stored_time_text(iso: str) -> str:
    """:func:`time_text` of an ISO timestamp from the manifest (the text itself when it
    does not parse)."""
    try:
        return time_text(dt.datetime.fromisoformat(iso))
    except (TypeError, ValueError):
        return str(iso or "")


def parameter_label(name: str) -> str:
    """A parameter's name as the active language shows it (English: the name itself)."""
    return tr(PARAMETER_LABELS[name]) if name in PARAMETER_LABELS else name


def facts_list(pairs: Iterable[tuple[str, Any]]) -> str:
    """``region = East; segment = SMB``: parameters and their values, each ``name =
    value``, named (:func:`parameter_label`) and punctuated in the active language."""
    return tr("; ").join(tr("{name} = {value}").format(name=parameter_label(name), value=value)
                         for name, value in pairs)
