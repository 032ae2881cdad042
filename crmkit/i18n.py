"""Languages and locales: the words of a report, and how its numbers, money and dates read.

Text
    Every text a reader sees is written in English in the code, wrapped in :func:`tr`
    (translated where it is used) or :func:`N_` (marked where it is defined, translated
    later with ``tr(value)``: module constants, KPI definitions, outlines). The English
    text is the message id; the other languages live in gettext catalogs,
    ``crmkit/locales/<language>.po``, read with Babel (no compile step, so editing a
    ``.po`` file is all a translation change takes). Adding a language is adding a
    catalog: ``python -m crmkit.i18n init de`` writes ``de.po`` with every message,
    ``python -m crmkit.i18n check de`` lists the ones still untranslated, and
    ``tests/test_i18n.py`` fails while any is. Placeholders (``{value}``) must be the same
    in a message and its translation.

Numbers, money and dates
    :func:`number`, :func:`percent`, :func:`money`, :func:`compact`, :func:`date` and
    :func:`month` format with Babel in the active locale: ``en`` -> ``en_001``
    (international English: 1 Apr 2025, €3.74M, US$ for dollars), ``zh`` ->
    ``zh_Hans_CN`` (2025年4月1日, ¥374.48万); ``locale:`` in a config picks another
    (``en_US`` writes Apr 1, 2025 and $; ``en_GB``, ``zh_TW`` ...). Money carries the
    report currency when the config names one (``currency: EUR`` -> €3,744,814.68), and
    none otherwise, as the data may hold several. A Chinese reader counts large amounts in 万 and 亿, so in a
    ``zh`` locale money of 10,000 or more reads compact in sentences (¥374.48万); English
    keeps the full figure and compacts only on cards and chart axes.

The active language is set per report (:func:`activate` in ``open_report``;
:func:`using` around a redraw) and read by every function here, so sections, charts and
tables need no language argument.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import math
import os
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError, dates, numbers

LOCALES_DIR = Path(__file__).with_name("locales")
SOURCE_LANGUAGE = "en"
# The locale a language formats in unless the config names one.
DEFAULT_LOCALES = {"en": "en_001", "zh": "zh_Hans_CN"}
# Languages that group large numbers by 10^4 (万, 亿): money compacts from this amount.
WAN_LANGUAGES = {"zh", "ja"}
WAN = 10_000
MISSING_LOG_ENV = "CRMKIT_I18N_MISSING"  # a file that collects untranslated messages
CONTEXT_SEPARATOR = "\x04"  # gettext's: a message in a context is "context\x04message"


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs where it is defined; translate it with tr()."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark ``message`` in ``context`` (see :func:`ptr`); translate it with ptr()."""
    return message


@dataclass(frozen=True)
class Setting:
    language: str
    locale: Locale
    currency: str | None = None


def languages() -> list[str]:
    """The languages a report can be written in: English and one per catalog."""
    return [SOURCE_LANGUAGE, *sorted(p.stem for p in LOCALES_DIR.glob("*.po"))]


def setting(language: str | None = None, locale: str | None = None,
            currency: str | None = None) -> Setting:
    """The language, locale and currency of a report; a ValueError names a bad one."""
    language = (language or SOURCE_LANGUAGE).strip()
    if "_" in language or "-" in language:  # "zh_CN", "zh-CN": a locale given as language
        locale = locale or language.replace("-", "_")
        language = language.replace("-", "_").split("_")[0]
    language = language.lower()
    if language not in languages():
        raise ValueError(f"language {language!r} has no catalog; choose one of "
                         f"{', '.join(languages())} (catalogs are crmkit/locales/*.po)")
    try:
        parsed = Locale.parse(locale or DEFAULT_LOCALES.get(language, language))
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"locale {locale!r} is not a locale Babel knows; use a code such "
                         "as en_GB, en_US, zh_CN or zh_TW") from None
    return Setting(language, parsed, currency.upper() if currency else None)


_active: contextvars.ContextVar[Setting] = contextvars.ContextVar(
    "crmkit_language", default=Setting(SOURCE_LANGUAGE,
                                       Locale.parse(DEFAULT_LOCALES[SOURCE_LANGUAGE])))


def current() -> Setting:
    return _active.get()


def activate(language: str | None = None, locale: str | None = None,
             currency: str | None = None) -> Setting:
    """Make a language, locale and currency the active ones (a report's kernel)."""
    chosen = setting(language, locale, currency)
    _active.set(chosen)
    return chosen


@contextlib.contextmanager
def using(language: str | Setting | None = None, locale: str | None = None,
          currency: str | None = None):
    """The block runs in a language (a Setting or the arguments of :func:`setting`)."""
    chosen = language if isinstance(language, Setting) else setting(language, locale,
                                                                     currency)
    token = _active.set(chosen)
    try:
        yield chosen
    finally:
        _active.reset(token)


# -- text ---------------------------------------------------------------------------
@lru_cache(maxsize=None)
def catalog(language: str) -> dict[str, str | tuple[str, ...]]:
    """The translations of a language's catalog: message id -> text (plural: a tuple)."""
    from babel.messages.pofile import read_po

    path = LOCALES_DIR / f"{language}.po"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        po = read_po(f, locale=language)
    found: dict[str, str | tuple[str, ...]] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if message.context:
            key = f"{message.context}{CONTEXT_SEPARATOR}{key}"
        if isinstance(message.string, tuple):
            if all(message.string):
                found[key] = tuple(message.string)
        elif message.string:
            found[key] = message.string
    return found


def _missing(message: str, language: str) -> None:
    log = os.environ.get(MISSING_LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{language}\t{message!r}\n")


def tr(message: str) -> str:
    """``message`` in the active language (the English text itself in English)."""
    language = _active.get().language
    if language == SOURCE_LANGUAGE or not message:
        return message
    text = catalog(language).get(message)
    if text is None:
        _missing(message, language)
        return message
    return text[0] if isinstance(text, tuple) else text


def ptr(context: str, message: str) -> str:
    """``message`` in the active language as meant in ``context`` (gettext's pgettext):
    one English word may need two translations (customers, a column: 客户数; a noun in a
    sentence: 客户)."""
    language = _active.get().language
    if language == SOURCE_LANGUAGE or not message:
        return message
    key = f"{context}{CONTEXT_SEPARATOR}{message}"
    text = catalog(language).get(key)
    if text is None:
        _missing(key.replace(CONTEXT_SEPARATOR, "|"), language)
        return message
    return text[0] if isinstance(text, tuple) else text


def ntr(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message for ``n`` in the active language."""
    language = _active.get().language
    if language != SOURCE_LANGUAGE:
        text = catalog(language).get(singular)
        if text is None:
            _missing(singular, language)
        else:
            forms = text if isinstance(text, tuple) else (text,)
            index = _active.get().locale.plural_form(abs(n)) if len(forms) > 1 else "one"
            order = ["zero", "one", "two", "few", "many", "other"]
            return forms[min(order.index(index) if index in order else -1, len(forms) - 1)]
    return singular if n == 1 else plural


# Han characters and full-width punctuation: no space is written between two of them.
_CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff01-\uff60]) "
                      r"(?=[\u3000-\u303f\u4e00-\u9fff\uff01-\uff60])")


def tidy(text: str) -> str:
    """Text as the active language spaces it. A Chinese template keeps a space beside a
    placeholder, as Chinese typesetting puts one between Han characters and Latin letters
    or digits ("为 3.74%"); where the value is Chinese too ("华南 的"), no space belongs
    there, and it is taken out. English text is returned as it is."""
    if _active.get().language not in WAN_LANGUAGES:
        return text
    return _CJK_GAP.sub("", text)


def sentences(*parts: str) -> str:
    """Sentences one after the other: a space after an English one, none after a Chinese
    full stop (。！？)."""
    out = ""
    for part in filter(None, parts):
        out += part if not out or out.endswith(("。", "！", "？")) else " " + part
    return out


def placeholders(text: str) -> set[str]:
    """The ``{names}`` of a message (a translation must keep them)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return set()


# -- numbers, money and dates -------------------------------------------------------
def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def missing() -> str:
    return tr("n/a")


def number(value, digits: int = 0) -> str:
    """1,234 / 1,234.5 (``digits`` decimals) in the active locale."""
    if not _finite(value):
        return missing()
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return numbers.format_decimal(value, pattern, locale=current().locale)


def signed(value, digits: int = 0) -> str:
    """+12 / -3 / +0: the sign always written, as ``f"{value:+.0f}"`` does."""
    if not _finite(value):
        return missing()
    return ("-" if float(value) < 0 else "+") + number(abs(value), digits)


def percent(value, digits: int = 1) -> str:
    """0.1234 -> 12.3%."""
    if not _finite(value):
        return missing()
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return numbers.format_percent(value, pattern, locale=current().locale)


def compact(value, digits: int = 2) -> str:
    """3.74M / 374.48万 / 3.74亿: a number shortened the locale's way."""
    if not _finite(value):
        return missing()
    return numbers.format_compact_decimal(value, locale=current().locale,
                                          fraction_digits=digits)


def money(value, *, compact_form: bool | None = None, digits: int = 2,
          currency: str | None = None) -> str:
    """An amount with the report currency when one is set: €3,744,814.68; compact
    (€3.74M, ¥374.48万) when ``compact_form``, or by default in a 万 language from 10,000."""
    if not _finite(value):
        return missing()
    setting_ = current()
    currency = currency or setting_.currency
    if compact_form is None:
        compact_form = setting_.language in WAN_LANGUAGES and abs(value) >= WAN
    if compact_form and abs(value) >= (WAN if setting_.language in WAN_LANGUAGES else 1000):
        if currency:
            return numbers.format_compact_currency(value, currency, locale=setting_.locale,
                                                   fraction_digits=digits)
        return numbers.format_compact_decimal(value, locale=setting_.locale,
                                              fraction_digits=digits)
    if currency:
        # The locale's currency pattern (¤#,##0.00, #,##0.00 ¤ ...) with `digits` decimals.
        pattern = re.sub(r"0\.0+", "0" + ("." + "0" * digits if digits else ""),
                         setting_.locale.currency_formats["standard"].pattern)
        return numbers.format_currency(value, currency, pattern, locale=setting_.locale,
                                       currency_digits=False)
    return number(value, digits)


def _as_date(value):
    if isinstance(value, _dt.datetime):
        return value.date()
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    if isinstance(value, str):
        return _dt.date.fromisoformat(value[:10])
    return value


def date(value, form: str = "medium") -> str:
    """Apr 1, 2025 (en) / 1 Apr 2025 (en_GB) / 2025年4月1日 (zh)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing()
    try:
        import pandas as pd

        if pd.isna(value):
            return missing()
    except (TypeError, ValueError):
        pass
    return dates.format_date(_as_date(value), form, locale=current().locale)


def month(value) -> str:
    """Apr 2025 / 2025年4月."""
    return dates.format_skeleton("yMMM", _as_date(value), locale=current().locale)


def quarter(value) -> str:
    """Q2 2025 / 2025年第2季度."""
    return dates.format_skeleton("yQQQ", _as_date(value), locale=current().locale)


def list_text(items) -> str:
    """"a, b and c" / "a、b和c"."""
    from babel.lists import format_list

    return format_list([str(i) for i in items], locale=current().locale)


# -- catalogs: extract, check, add ---------------------------------------------------
KEYWORDS = {"tr": None, "N_": None, "ntr": (1, 2), "ptr": ((1, "c"), 2), "NP_": ((1, "c"), 2)}


def extracted() -> dict[str, list[str]]:
    """Every message the code marks: id -> where (file:line)."""
    from babel.messages.extract import extract_from_dir

    package = Path(__file__).parent
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            package, method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=(), strip_comment_tags=True):
        key = message[0] if isinstance(message, tuple) else message
        if key and context:
            key = f"{context}{CONTEXT_SEPARATOR}{key}"
        if key:
            found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def _plurals() -> dict[str, str]:
    from babel.messages.extract import extract_from_dir

    plural = {}
    for _f, _l, message, _c, _x in extract_from_dir(
            Path(__file__).parent, method_map=[("**.py", "python")],
            keywords={"ntr": (1, 2)}, comment_tags=()):
        if isinstance(message, tuple):
            plural[message[0]] = message[1]
    return plural


def untranslated(language: str) -> list[str]:
    have = catalog(language)
    return [m for m in extracted() if m not in have]


def write_catalog(language: str, translations: dict[str, str], *,
                  prune: bool = False) -> Path:
    """Write ``locales/<language>.po``: every extracted message, with ``translations``
    (id -> text) and the catalog's existing translations; translations of messages the
    code no longer marks are kept unless ``prune``."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog.cache_clear()
    have = {**catalog(language), **translations}
    found = extracted()
    kept = {} if prune else {m: t for m, t in have.items() if m not in found}
    plurals = _plurals()
    po = Catalog(locale=language, project="crmkit", charset="utf-8")
    for key, text in kept.items():
        context, _sep, message = key.rpartition(CONTEXT_SEPARATOR)
        po.add(message, text[0] if isinstance(text, tuple) else text,
               context=context or None)
    for key, where in sorted(found.items()):
        text = have.get(key, "")
        context, _sep, message = key.rpartition(CONTEXT_SEPARATOR)
        locations = [(w.rsplit(":", 1)[0], int(w.rsplit(":", 1)[1])) for w in where]
        if message in plurals:
            po.add((message, plurals[message]),
                   text if isinstance(text, tuple) else (text,), locations=locations,
                   context=context or None)
        else:
            po.add(message, text[0] if isinstance(text, tuple) else text,
                   locations=locations, context=context or None)
    LOCALES_DIR.mkdir(exist_ok=True)
    path = LOCALES_DIR / f"{language}.po"
    with path.open("wb") as f:
        write_po(f, po, width=0, sort_output=True, include_previous=False)
    catalog.cache_clear()
    return path


def _main(argv: list[str] | None = None) -> int:
    import argparse
    import fcntl
    import json
    import sys

    parser = argparse.ArgumentParser(prog="python -m crmkit.i18n",
                                     description="crmkit's message catalogs")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="write a new language's catalog").add_argument("language")
    sub.add_parser("update", help="rewrite every catalog with the code's messages, "
                   "dropping translations of messages the code no longer has")
    check = sub.add_parser("check", help="list the untranslated messages")
    check.add_argument("language", nargs="?")
    add = sub.add_parser("add", help="add translations from a JSON file {english: text}")
    add.add_argument("language")
    add.add_argument("json_file")
    args = parser.parse_args(argv)
    if args.command in ("init", "update", "add"):
        LOCALES_DIR.mkdir(exist_ok=True)
        with open(LOCALES_DIR / ".lock", "w") as lock:  # helpers may add at once
            fcntl.flock(lock, fcntl.LOCK_EX)
            if args.command == "init":
                print(write_catalog(args.language, {}))
            elif args.command == "update":
                for language in languages()[1:]:
                    print(write_catalog(language, {}, prune=True))
            else:
                added = json.loads(Path(args.json_file).read_text(encoding="utf-8"))
                # "context|message" keys for messages in a context (ptr)
                added = {k.replace("|", CONTEXT_SEPARATOR, 1) if "|" in k and
                         k.split("|", 1)[0].isidentifier() else k: v
                         for k, v in added.items()}
                print(write_catalog(args.language, added))
        return 0
    status = 0
    for language in [args.language] if args.language else languages()[1:]:
        for message in untranslated(language):
            print(f"{language}: {message!r}")
            status = 1
        for message, text in catalog(language).items():
            text = text[0] if isinstance(text, tuple) else text
            if placeholders(message) != placeholders(text):
                print(f"{language}: placeholders differ: {message!r} -> {text!r}")
                status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(_main())
