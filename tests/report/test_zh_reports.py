"""Every report rendered with ``--param language=zh``, on the Chinese sample (``crmkit sample
--language zh``, ``currency: CNY``) and on data/sample, reads as Chinese: the page says
``<html lang="zh-CN">`` and its visible text has no word of three or more Latin letters but
data values, currency codes and the acronyms of tests/test_i18n.py.

What counts as a data value: every string value and column name of the input CSVs and of
the ingested warehouse tables, the input files' names, paths and sha256 digests (the audit
and lineage show them), the source, config and warehouse paths and the notebook a report
was rendered from. A word is judged with the token it is part of (letters, digits and
``. / @ ' - _`` joined, so ``customers.csv``, ``caigou.2@huaxin-keji.example`` and
``customer_id`` are one token each): the token must be one of the data's own tokens, a file
name, a hex digest or a canonical ``table.column``; otherwise each of its runs of 3+ letters
must be an acronym or a three-letter currency code (``UTC`` and ``CRM`` pass as such too),
or the product's name, ``crmkit``. Text in ``<code>`` and ``<pre>`` is code the reader
types (settings, commands), kept as written in any language.

These fail while messages are untranslated (``python -m crmkit.i18n check zh``); the
failure lists each English word with the text around it.
"""

from __future__ import annotations

import csv
import html
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from crmkit.schema import TABLES
from tests.test_i18n import ACRONYMS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
REPORTS = ("kpi_scorecard", "sales_performance", "customer_behaviour", "satisfaction", "churn",
           "campaigns")
PAGES = (*REPORTS, "index")
DATA_SETS = ("zh_sample", "sample")
# The product's own name, as the header and lineage give it ("由 crmkit 0.1.0 生成").
NAMES = frozenset({"crmkit"})
FILE_NAME = re.compile(r"[\w.-]+\.(csv|tsv|txt|gz|parquet|pq|xlsx|xlsm|xls|json|yaml|yml|ipynb"
                       r"|html|duckdb|po)", re.I)
HEX = re.compile(r"[0-9a-f]{12,}")
# A canonical column named with its table (customers.satisfaction), as messages about the
# data model name it.
SCHEMA_COLUMNS = frozenset(f"{t.name}.{c.name}" for t in TABLES.values() for c in t.columns)
TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./@'\-]*")
LETTERS = re.compile(r"[A-Za-z]{3,}")
CONTEXT = 60  # characters shown either side of an English word

pytestmark = pytest.mark.slow


def tokens(text: str) -> list[str]:
    return [t.rstrip("./@'-") for t in TOKEN.findall(text)]


def reader_text(page: str) -> str:
    """What a reader sees: the page's text without markup, styles, scripts or images, and
    without code (<code>, <pre>: settings and commands typed as they are)."""
    page = re.sub(r"<(style|script|code|pre)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def render(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmkit", "render", "--out", str(out),
                           "--param", "language=zh", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=1800)


# --- what the data says ----------------------------------------------------------------------

def csv_strings(folder: Path) -> set[str]:
    values = set()
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.reader(f):
                values.update(row)
        values.update({path.name, str(path)})
    return values


def warehouse_strings(folder: Path) -> set[str]:
    """String values and column names of the warehouse's canonical tables, and the input
    files, paths and digests of its audit."""
    from crmkit.warehouse import Warehouse

    values = set()
    wh = Warehouse.open(folder)
    try:
        for name in wh.tables():
            frame = wh.table(name).execute()
            values.update(map(str, frame.columns))
            for column in frame.columns:
                if frame[column].dtype == object or str(frame[column].dtype) in ("string",
                                                                                 "str"):
                    values.update(map(str, frame[column].dropna().unique()))
    finally:
        wh.con.disconnect()
    audit = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
    for key in ("source", "config", "fingerprint"):
        if isinstance(audit.get(key), str):
            values.add(audit[key])
    for table in audit.get("tables", {}).values():
        for key in ("input", "file", "sha256"):
            if isinstance(table.get(key), str):
                values.add(table[key])
        values.update(map(str, table.get("columns", {}).keys()))
        values.update(str(v) for v in table.get("columns", {}).values() if isinstance(v, str))
    values.update({str(folder), folder.name})
    return values


def data_tokens(strings: set[str]) -> frozenset[str]:
    return frozenset(t for s in strings for t in tokens(s) if LETTERS.search(t))


def english_words(text: str, data: frozenset[str]) -> Counter:
    """Tokens of the text holding a word of 3+ Latin letters that is none of the allowed."""
    found = Counter()
    for token in tokens(text):
        if not LETTERS.search(token) or token in data or token in NAMES:
            continue
        if FILE_NAME.fullmatch(token) or HEX.fullmatch(token) or token in SCHEMA_COLUMNS:
            continue
        words = LETTERS.findall(token)
        if all(w in ACRONYMS or re.fullmatch(r"[A-Z]{3}", w) for w in words):
            continue
        found[token] += 1
    return found


def described(found: Counter, text: str) -> str:
    lines = []
    for token, count in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])):
        at = re.search(rf"(?<![A-Za-z0-9_]){re.escape(token)}(?![A-Za-z0-9_])", text)
        start = at.start() if at else 0
        context = text[max(0, start - CONTEXT): start + len(token) + CONTEXT]
        lines.append(f"  {token!r} ×{count}: …{context}…")
    return "\n".join(lines)


# --- renders, once per data set --------------------------------------------------------------

@pytest.fixture(scope="module")
def zh_sample(tmp_path_factory) -> Path:
    """The Chinese sample as `crmkit sample --language zh` writes it, with a config that
    says its amounts are yuan (examples/sample_zh.yaml)."""
    from crmkit.sample import write_sample

    folder = tmp_path_factory.mktemp("zh-sample")
    write_sample(folder / "sample-zh", language="zh")
    config = folder / "sample_zh.yaml"
    config.write_text(yaml.safe_dump({"source": "sample-zh", "warehouse": "warehouse",
                                      "currency": "CNY"}), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, zh_sample):
    """data set -> (output folder, the command's result, the data's tokens)."""
    done = {}

    def get(name: str):
        if name not in done:
            out = tmp_path_factory.mktemp(f"zh-{name}")
            if name == "zh_sample":
                result = render(out, "--config", str(zh_sample))
                inputs = zh_sample.parent / "sample-zh"
                strings = {str(zh_sample), zh_sample.name}
            else:
                result = render(out)  # data/sample, the default source
                inputs, strings = SAMPLE, {"data/sample"}
            strings |= csv_strings(inputs) | {str(inputs), str(out)}
            manifest = out / "manifest.json"
            if manifest.exists():
                for report in json.loads(manifest.read_text("utf-8"))["reports"].values():
                    strings.add(str(report.get("source", "")))
                    strings.update(str(v) for v in report.get("parameters", {}).values())
                    warehouse = report.get("parameters", {}).get("warehouse")
                    if warehouse and Path(warehouse).is_dir():
                        strings |= warehouse_strings(Path(warehouse))
            strings.update(f"notebooks/{r}.ipynb" for r in REPORTS)
            strings.update(str(ROOT / "notebooks" / f"{r}.ipynb") for r in REPORTS)
            done[name] = (out, result, data_tokens(strings))
        return done[name]

    return get


def page_of(rendered, data_set: str, page: str) -> tuple[str, frozenset[str]]:
    out, result, data = rendered(data_set)
    path = out / f"{page}.html"
    if not path.exists():
        pytest.fail(f"{page}.html was not rendered on {data_set} (exit {result.returncode}):\n"
                    + (result.stdout + result.stderr)[-3000:], pytrace=False)
    return path.read_text(encoding="utf-8"), data


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("data_set", DATA_SETS)
def test_chinese_report_says_it_is_chinese(rendered, data_set, page):
    html_page, _ = page_of(rendered, data_set, page)
    tag = re.search(r"<html\b[^>]*>", html_page)
    assert tag and re.search(r'\blang="zh-CN"', tag.group(0)), (
        f"{page}.html on {data_set}: {tag.group(0) if tag else 'no <html> tag'}; "
        'expected <html lang="zh-CN">')


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("data_set", DATA_SETS)
def test_chinese_report_has_no_english_words(rendered, data_set, page):
    html_page, data = page_of(rendered, data_set, page)
    text = reader_text(html_page)
    found = english_words(text, data)
    assert not found, (
        f"{page}.html on {data_set} (language=zh): {len(found)} English words that are not "
        f"data values, currency codes or {', '.join(sorted(ACRONYMS))}:\n"
        + described(found, text))


def test_the_word_check_tells_data_from_english():
    data = data_tokens({"Online", "customers.csv", "caigou.2@huaxin-keji.example",
                        "Service quality", "follow_up", "O'Brien & Sons Ltd"})
    text = ("净收入为 ¥374.48万，Online 渠道领先；customers.csv 共 2,000 行；"
            "sha256 726a97a2e95cf9571e537d9ae0b5c200c7fe771accf16548d3bbb1cb53a61cee；"
            "O'Brien & Sons Ltd、Service quality、follow_up；CSAT 与 NPS，金额单位 CNY，"
            "UTC；made by crmkit 0.1.0；2026-12-06T21:55:52+00:00；orders.csv。")
    assert set(english_words(text, data)) == {"sha256", "made"}
    assert set(english_words("Net revenue was up; follow up; Service", data)) == {
        "Net", "revenue", "was", "follow"}
    assert reader_text('<p>设置 <code>targets: {x: 1}</code> 即可</p>') == " 设置 即可 "
