"""The customer_behaviour report on B2B pipelines (data/sample-b2b and the Maven pipeline):
the account sections replace the retail ones, every section returns outputs, nothing false
(nan, None, (blank)) reaches the reader, and the summary's numbers are pandas' on the CSVs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from crmkit import vegalite
from crmkit.charts import Chart
from crmkit.ingest import ingest, resolve_config
from crmkit.sections import behaviour, open_report
from crmkit.sections.base import Table, Text

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
SAMPLE_B2B = ROOT / "data" / "sample-b2b"

pytestmark = pytest.mark.slow

ACCOUNT_SECTIONS = ("accounts", "new_and_repeat_accounts", "account_attributes",
                    "open_deal_accounts")
RETAIL_SECTIONS = ("customer_mix", "rfm", "clusters", "cohorts", "loyalty", "customer_value")
FALSE_WORDS = ("nan", "NaN", "None", "(blank)", "inf")


def _need(path: Path) -> None:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing (CI needs ../shared beside the checkout)")
        pytest.skip(f"{path} not here")


@pytest.fixture(scope="module")
def b2b_folder(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("b2b-behaviour") / "wh"
    ingest(resolve_config(source=SAMPLE_B2B), folder)
    return str(folder)


@pytest.fixture(scope="module")
def maven_folder(tmp_path_factory) -> str:
    _need(SHARED / "maven_crm_pipeline")
    folder = tmp_path_factory.mktemp("maven-behaviour") / "wh"
    ingest(resolve_config(ROOT / "examples" / "maven_pipeline.yaml"), folder)
    return str(folder)


def _text(outputs: list) -> str:
    return "\n".join(o.markdown for o in outputs if isinstance(o, Text))


def _shown(output) -> str:
    """What a reader sees of one output: Markdown, a table's HTML, a chart's titles and
    labels (from its panels' options and data)."""
    if isinstance(output, Text):
        return output.markdown
    if isinstance(output, Table):
        return output.to_html()
    words = []
    for panel in output.panels:
        words += [str(v) for v in panel.options.values() if isinstance(v, str)]
        data = panel.data
        if isinstance(data, pd.DataFrame):
            words += [str(v) for c in data.columns if data[c].dtype == object
                      for v in data[c]]
    return "\n".join(words)


def assert_truthful(text: str, where: str) -> None:
    for word in FALSE_WORDS:
        assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text), (where, word)


def assert_report_reads(report) -> None:
    """Every section returns report outputs; the retail ones are left out, the account ones
    are there with their heading; every chart draws (matplotlib and Vega-Lite)."""
    for name in RETAIL_SECTIONS:
        assert report.outputs(name) == [], name
    headings = {entry[0]: entry[1] for entry in behaviour.OUTLINE[1:]}
    for name in ("summary", *ACCOUNT_SECTIONS, "conclusions", "scope",
                 "appendix_definitions"):
        outputs = report.outputs(name)
        assert outputs, name
        assert all(isinstance(o, (Text, Table, Chart)) for o in outputs), name
        if name in ACCOUNT_SECTIONS:
            assert outputs[0].markdown == headings[name]
        for output in outputs:
            assert_truthful(_shown(output), name)
            if isinstance(output, Chart):
                assert isinstance(output.figure(), Figure)
                assert vegalite.spec(output)
    assert "not available" not in _text(report.outputs("summary"))


# -- data/sample-b2b ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def b2b(b2b_folder):
    return open_report("customer_behaviour", warehouse=b2b_folder)  # the last quarter, Q4 2025


def test_b2b_every_section_reads_as_accounts(b2b):
    assert_report_reads(b2b)
    assert any(isinstance(o, Chart) for name in ACCOUNT_SECTIONS
               for o in b2b.outputs(name)), "the account sections draw charts"


def test_b2b_summary_numbers_match_pandas(b2b):
    deals = pd.read_csv(SAMPLE_B2B / "opportunities.csv", parse_dates=["close_date"])
    won = deals[(deals["outcome"] == "won") & deals["customer_id"].notna()]
    first = won.groupby("customer_id")["close_date"].min()
    quarter = won[won["close_date"].between("2025-10-01", "2025-12-31")]
    winners = quarter["customer_id"].unique()
    new = int((first[winners] >= pd.Timestamp("2025-10-01")).sum())
    open_ = deals[deals["outcome"] == "open"]
    open_accounts = set(open_["customer_id"].dropna())
    never = open_accounts - set(won["customer_id"])
    text = _text(b2b.outputs("summary"))
    assert (f"Of the {len(winners)} accounts that won a deal in the period, {new} won for "
            f"the first time") in text
    assert (f"{len(never)} of the {len(open_accounts)} accounts with deals open now have "
            "not won a deal yet") in text
    assert f"5 of {len(open_)} open deals have no account" in _text(
        b2b.outputs("open_deal_accounts"))


def test_b2b_attributes_break_down_by_industry_and_size(b2b):
    captions = [o.caption for o in b2b.outputs("account_attributes") if isinstance(o, Table)]
    assert captions[0].startswith("By industry:") and captions[1].startswith(
        "By employees band:")
    groups = [o.frame for o in b2b.outputs("account_attributes") if isinstance(o, Table)]
    assert not any(g.iloc[:, 0].isna().any() for g in groups)


def test_b2b_by_comes_first(b2b_folder):
    by_type = open_report("customer_behaviour", warehouse=b2b_folder, by="type")
    captions = [o.caption for o in by_type.outputs("account_attributes")
                if isinstance(o, Table)]
    assert captions[0].startswith("By type:")
    assert_report_reads(by_type)


def test_b2b_filters_narrow_the_accounts(b2b, b2b_folder):
    emea = open_report("customer_behaviour", warehouse=b2b_folder, region="EMEA")
    assert_report_reads(emea)
    assert _text(emea.outputs("summary")) != _text(b2b.outputs("summary"))


def test_b2b_whole_history_cannot_tell_new_from_repeat(b2b_folder):
    report = open_report("customer_behaviour", warehouse=b2b_folder, start="2023-01-01",
                         end="2025-12-31")
    text = _text(report.outputs("new_and_repeat_accounts"))
    assert "no won deal is on record before the period start" in text
    assert "had won before" not in _text(report.outputs("conclusions"))


# -- the Maven pipeline ------------------------------------------------------------------
@pytest.fixture(scope="module")
def maven(maven_folder):
    return open_report("customer_behaviour", warehouse=maven_folder)  # Q4 2017


def test_maven_every_section_reads_as_accounts(maven):
    assert_report_reads(maven)
    text = _text(maven.outputs("open_deal_accounts"))
    assert "Every one of the 85 accounts with deals open now has won a deal before." in text
    assert "1,425 of 2,089 open deals have no account" in text


def test_maven_attributes_are_sector_and_size(maven):
    captions = [o.caption for o in maven.outputs("account_attributes") if isinstance(o, Table)]
    assert [c.split(":")[0] for c in captions] == ["By employees band", "By segment"]
    # 14 of 15 offices hold one account: a list, not a breakdown
    assert "country (15 values)" in _text(maven.outputs("account_attributes"))


def test_maven_whole_history(maven_folder):
    report = open_report("customer_behaviour", warehouse=maven_folder, start="2016-10-01",
                         end="2017-12-31")
    assert_report_reads(report)
    assert "85 accounts won deals in the period" in _text(report.outputs("summary"))


def test_maven_a_number_without_bands_says_why(maven_folder):
    report = open_report("customer_behaviour", warehouse=maven_folder, by="customer_revenue")
    text = _text(report.outputs("account_attributes"))
    assert "Not broken down: customer revenue (" in text and "is a number" in text
    assert_report_reads(report)
