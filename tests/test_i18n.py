"""crmkit.i18n: every message the code marks is translated into Chinese, with the same
placeholders and no English left in it; adding a language is adding a catalog; numbers,
money and dates read the locale's way (Babel)."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from babel import Locale

from crmkit import i18n

# Words of Latin letters a Chinese text may keep: the acronyms a Chinese analyst writes as
# they are. tests/report/test_zh_reports.py checks the rendered reports with the same list.
ACRONYMS = frozenset({"CSAT", "NPS", "RFM", "CLV", "CAC", "ROI", "KPI", "AOV"})
# What is not prose and stays as written in any language: placeholders, code spans,
# HTML tags and entities, link targets, command lines (options with their metavars,
# NAME=VALUE arguments, crmkit's commands, chmod/rm), dotted and snake_case identifiers
# (settings, columns, modules), date formats, printf-style fields.
CODE = re.compile(
    r"(?:--[A-Za-z][\w-]*|\{option\})\s+[A-Z][A-Z_]*\b"  # --source DIR
    r"|\{[^{}]*\}"  # {value}, {value:,.0f}
    r"|`[^`]*`"  # `encoding: gbk`
    r"|<[^>]*>|&#?\w+;"  # <b>, &nbsp;
    r"|\]\([^)]*\)"  # a Markdown link's target
    r"|(?<![\w-])--[A-Za-z][\w-]*"  # --source
    r"|\b[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_.:/{}+-]+"  # start=2025-01-01, NAME=VALUE
    r"|\bpython -m [\w.]+|\bcrmkit(?:\s+(?:render|ingest|sample|schema|dashboard))?\b"
    r"|\b(?:chmod|rm)\s+[\w+-]+"  # chmod u+w, rm
    r"|\bYYYY-MM-DD(?: HH:MM(?::SS)?)?"
    r"|(?:\*|\b[\w-]+)\.(?:csv|tsv|txt|gz|parquet|xlsx|xls|json|yaml|yml|ipynb|html|duckdb"
    r"|po)\b"  # rejects.csv, *.ipynb
    r"|\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b"  # crmkit.models.RFM_SEGMENTS
    r"|\b[A-Za-z0-9]*_\w*"  # customer_id, as_of
    r"|%\(\w+\)[sd]")
# Names of software and formats, written as they are in any language; they occur in
# command-line messages only (a render's parameter errors), never in a report's text.
PROPER_NAMES = frozenset({"PostgreSQL", "JSON"})
LATIN_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")


def latin_words(text: str, allowed=ACRONYMS) -> list[str]:
    """The words of three or more Latin letters in ``text`` that are not code or allowed."""
    return [w for w in LATIN_WORD.findall(CODE.sub(" ", text)) if w not in allowed]


def forms(text) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


@pytest.fixture(scope="module")
def marked() -> dict[str, list[str]]:
    return i18n.extracted()


# --- the Chinese catalog ---------------------------------------------------------------------

def test_every_marked_message_has_a_chinese_translation(marked):
    i18n.catalog.cache_clear()
    missing = i18n.untranslated("zh")
    shown = "\n".join(f"  {m!r}  ({', '.join(marked.get(m, [])[:2])})" for m in missing[:40])
    assert missing == [], (f"{len(missing)} of {len(marked)} messages have no zh translation "
                           f"(python -m crmkit.i18n check zh):\n{shown}")


def test_translations_keep_the_placeholders():
    wrong = []
    for message, text in i18n.catalog("zh").items():
        for form in forms(text):
            if i18n.placeholders(form) != i18n.placeholders(message):
                wrong.append(f"  {message!r} -> {form!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_translations_have_no_english_words():
    found = []
    for message, text in i18n.catalog("zh").items():
        for form in forms(text):
            words = latin_words(form, ACRONYMS | PROPER_NAMES)
            if words:
                found.append(f"  {sorted(set(words))} in {form!r} (for {message!r})")
    assert not found, (f"{len(found)} translations keep English words (allowed: "
                       f"{', '.join(sorted(ACRONYMS))}, placeholders, code):\n"
                       + "\n".join(found[:60]))


def test_no_message_is_marked_inside_an_f_string():
    """Babel's extractor reads an f-string as one string token: a ``tr("File")`` inside
    ``f"<th>{tr('File')}</th>"`` is never extracted, so it has no translation and shows in
    English. Marking calls stay outside f-strings."""
    import tokenize
    from pathlib import Path

    marking = re.compile(r"\b(?:tr|ptr|ntr|N_|NP_)\(\s*['\"]")
    found = []
    for path in sorted(Path(i18n.__file__).parent.rglob("*.py")):
        with path.open("rb") as f:
            for token in tokenize.tokenize(f.readline):
                prefix = re.match(r"[A-Za-z]*", token.string).group().lower()
                if token.type == tokenize.STRING and "f" in prefix and \
                        marking.search(token.string):
                    found.append(f"  {path.name}:{token.start[0]}: {token.string[:80]}")
    assert not found, "marked messages inside f-strings:\n" + "\n".join(found)


def test_translations_close_their_emphasis():
    """Bold and italic in a translation close under CommonMark (as JupyterLab, Voilà and
    nbconvert render it): ``**定义：**客户`` leaves its asterisks on the page, because a
    closing delimiter after full-width punctuation must be followed by a space or
    punctuation; ``**定义**：客户`` closes."""
    import mistune

    render = mistune.create_markdown()
    open_ = []
    for message, text in i18n.catalog("zh").items():
        for form in forms(text):
            if "*" not in form or "*.ipynb" in form:
                continue
            filled = re.sub(r"\{[^{}]*\}", "数据", form)
            shown = re.sub(r"<[^>]+>", "", render(filled))
            if "*" in shown:
                open_.append(f"  {form!r}")
    assert not open_, "emphasis left open:\n" + "\n".join(open_)
    assert "*" in re.sub(r"<[^>]+>", "", render("**定义：**客户"))  # the check can fail


def test_the_english_word_check_sees_words_not_code():
    assert latin_words("净收入为 {value}，比上一期 up 4.7%。") == []
    assert latin_words("Net revenue 净收入") == ["Net", "revenue"]
    assert latin_words("客单价 (AOV) 与 NPS、CSAT") == []
    assert latin_words("在配置中设置 `encoding: gbk`，或使用 --source 与 customer_id") == []
    assert latin_words("数据只需指定一次（crmkit render --source 或 --config）") == []
    assert latin_words("见 crmkit.models.RFM_SEGMENTS；**重点**") == []
    assert latin_words("95% CI 区间 for AUC") == ["for", "AUC"]
    assert latin_words("格式应为 NAME=VALUE，例如 --param start=2025-01-01") == []
    assert latin_words("请用 {option} DIR 或 --source DATA 指定；日期格式 YYYY-MM-DD") == []
    assert latin_words("请使其可写（chmod u+w {place}）或删除（rm {path}）") == []
    assert latin_words("{folder} 中没有报告笔记本（*.ipynb），见 rejects.csv") == []


# --- a third language is a catalog -----------------------------------------------------------

@pytest.fixture
def locales(tmp_path, monkeypatch, marked):
    """crmkit/locales copied to a temporary folder, which crmkit.i18n reads instead (and
    the messages of the code as they were when the module's tests began)."""
    copy = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, copy, ignore=shutil.ignore_patterns(".lock"))
    monkeypatch.setattr(i18n, "LOCALES_DIR", copy)
    monkeypatch.setattr(i18n, "extracted", lambda: marked)
    i18n.catalog.cache_clear()
    yield copy
    i18n.catalog.cache_clear()


def test_a_new_language_is_a_catalog(locales, marked):
    assert "de" not in i18n.languages()
    with pytest.raises(ValueError, match="no catalog"):
        i18n.setting("de")
    some = sorted(m for m in marked if not i18n.placeholders(m))[:3]
    path = i18n.write_catalog("de", {some[0]: "Erste Übersetzung", some[1]: "Zweite"})
    assert path == locales / "de.po" and path.exists()
    assert "de" in i18n.languages() and "zh" in i18n.languages()
    with i18n.using("de"):
        assert i18n.tr(some[0]) == "Erste Übersetzung"
        assert i18n.tr(some[1]) == "Zweite"
        assert i18n.tr(some[2]) == some[2]  # untranslated: the English text
        assert i18n.date(dt.date(2025, 4, 1)) == "01.04.2025"
    assert some[2] in i18n.untranslated("de") and some[0] not in i18n.untranslated("de")
    # a later write keeps earlier translations
    i18n.write_catalog("de", {some[2]: "Dritte"})
    with i18n.using("de"):
        assert [i18n.tr(m) for m in some] == ["Erste Übersetzung", "Zweite", "Dritte"]
    assert i18n.tr(some[0]) == some[0]  # English stays English


def test_a_made_up_language_needs_its_catalog_and_a_locale(locales, capsys):
    """Adding a language as the README says: init, check, translate, check again."""
    assert i18n._main(["init", "xx"]) == 0
    assert "xx" in i18n.languages()
    assert i18n._main(["check", "xx"]) == 1
    assert "xx: " in capsys.readouterr().out
    marked, plurals = i18n.extracted(), i18n._plurals()
    plurals = {m: p for m, p in plurals.items() if m in marked}
    # a plural message takes its forms (two for a language Babel does not know)
    translations = {m: (f"«{m}»", f"«{plurals[m]}»") if m in plurals else f"«{m}»"
                    for m in marked}
    i18n.write_catalog("xx", translations)
    assert i18n.untranslated("xx") == []
    assert i18n._main(["check", "xx"]) == 0
    # Babel has no data for a made-up language: the config names the locale it formats in
    with pytest.raises(ValueError, match="locale"):
        i18n.setting("xx")
    with i18n.using("xx", locale="en_001"):
        message = next(iter(marked))
        assert i18n.tr(message) == f"«{message}»"
        assert i18n.number(1234.5, 1) == "1,234.5"
    bad = {m: "{nope}" for m in marked if i18n.placeholders(m)}
    if bad:
        i18n.write_catalog("xx", bad)
        assert i18n._main(["check", "xx"]) == 1
        assert "placeholders differ" in capsys.readouterr().out


# --- numbers, money and dates ----------------------------------------------------------------

APRIL_FIRST = dt.date(2025, 4, 1)


def test_english_formats_are_the_old_ones():
    with i18n.using("en"):
        assert i18n.money(3_744_814.68) == "3,744,814.68"  # no currency configured
        assert i18n.number(1234.5, 2) == "1,234.50" and i18n.number(1234) == "1,234"
        assert i18n.percent(0.1234) == "12.3%"
        assert i18n.signed(3) == "+3" and i18n.signed(-3) == "-3"
        assert i18n.date(APRIL_FIRST) == "1 Apr 2025"
        assert i18n.month(APRIL_FIRST) == "Apr 2025"
        assert i18n.compact(3_744_814.68) == "3.74M"
        assert i18n.list_text(["a", "b", "c"]) == "a, b and c"
        assert i18n.tr("Net revenue") == "Net revenue"
    with i18n.using("en", currency="EUR"):
        assert i18n.money(3_744_814.68) == "€3,744,814.68"
        assert i18n.money(3_744_814.68, compact_form=True) == "€3.74M"
        assert i18n.money(1234.5) == "€1,234.50"


def test_chinese_formats_count_in_wan_and_yi():
    with i18n.using("zh", currency="CNY"):
        assert i18n.money(3_744_814.68) == "¥374.48万"
        assert i18n.money(374_481_468.0) == "¥3.74亿"
        assert i18n.money(3_744_814.68, compact_form=False) == "¥3,744,814.68"
        assert i18n.money(1234.5) == "¥1,234.50"  # under 10,000: in full
        assert i18n.compact(374_481_468) == "3.74亿"
        assert i18n.date(APRIL_FIRST) == "2025年4月1日"
        assert i18n.month(APRIL_FIRST) == "2025年4月"
        assert i18n.quarter(APRIL_FIRST) == "2025年第2季度"
        assert i18n.percent(0.1234) == "12.3%"
        assert i18n.list_text(["华东", "华北", "华南"]) == "华东、华北和华南"
    with i18n.using("zh"):
        assert i18n.money(3_744_814.68) == "374.48万"  # no currency configured


def test_a_locale_overrides_the_language_default():
    with i18n.using("en", locale="en_US"):
        assert i18n.date(APRIL_FIRST) == "Apr 1, 2025"
    with i18n.using("en", locale="en_GB"):
        assert i18n.date(APRIL_FIRST) == "1 Apr 2025"
    with i18n.using("zh", locale="zh_TW", currency="CNY"):
        assert i18n.money(3_744_814.68) == "CN¥374.48萬"
    chosen = i18n.setting("zh-CN")
    assert chosen.language == "zh" and chosen.locale == Locale.parse("zh_CN")
    with pytest.raises(ValueError, match="not a locale"):
        i18n.setting("en", locale="xx_YY")
    assert i18n.current().language == "en"  # using() restores the language


def test_config_locale_is_checked(tmp_path):
    from crmkit.config import read_report_settings
    from crmkit.exceptions import ConfigError

    config = tmp_path / "crmkit.yaml"
    config.write_text("source: .\nlocale: en-US\ncurrency: cny\n", encoding="utf-8")
    settings = read_report_settings(config)
    assert settings["locale"] == "en_US" and settings["currency"] == "CNY"
    config.write_text("source: .\nlocale: english\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="locale 'english'"):
        read_report_settings(config)


def test_chinese_text_has_no_space_between_two_han_characters():
    # a template's space beside a placeholder stays before digits and Latin letters, and
    # goes where the value is Chinese too
    with i18n.using("zh"):
        assert i18n.tidy("按地区看，华南 的 CSAT 最低：3.74，华南 或 华北。") == \
            "按地区看，华南的 CSAT 最低：3.74，华南或华北。"
    with i18n.using("en"):
        assert i18n.tidy("East or West") == "East or West"
