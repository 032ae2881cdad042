"""Every report that applies renders on each shape of data, with the reference figures of
../shared/data/README.md in the HTML, nothing false in it, and the others listed as not
applicable with the reason."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
REPORTS = ("kpi_scorecard", "sales_performance", "customer_behaviour", "satisfaction", "churn",
           "campaigns")

pytestmark = pytest.mark.slow


def render(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmkit", "render", "--out", str(out), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)


def reader_text(page: str) -> str:
    """What a reader sees: the page's text without markup, styles or images."""
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def assert_truthful(text: str) -> None:
    for word in ("nan", "NaN", "None", "(blank)", "inf"):
        assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text), word
    assert "Traceback" not in text and "Warning" not in text
    assert not re.search(r"(?<![\d,.])0 of 0\b", text), "a rate over a zero denominator"


# Every report on each data set, rendered once: data set -> the command's arguments.
DATA_SETS = {
    "retail": (),
    "b2b": ("--source", "data/sample-b2b"),
    "subscription": ("--source", "data/sample-subscription"),
    "maven": ("--config", "examples/maven_pipeline.yaml",
              "--param", "start=2016-10-01", "--param", "end=2017-12-31"),
    "telco": ("--config", "examples/telco_churn.yaml"),
}
SHARED_SETS = {"maven": "maven_crm_pipeline", "telco": "telco_churn"}


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """data set -> (output folder, the command's result), rendered on first use."""
    done: dict[str, tuple[Path, subprocess.CompletedProcess]] = {}

    def get(name: str) -> tuple[Path, subprocess.CompletedProcess]:
        if name not in done:
            out = tmp_path_factory.mktemp(name)
            done[name] = (out, render(out, *DATA_SETS[name]))
        return done[name]

    return get


def page(rendered, name: str, report: str) -> str:
    out, done = rendered(name)
    assert done.returncode == 0, done.stdout + done.stderr
    return reader_text((out / f"{report}.html").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", list(DATA_SETS))
def test_every_report_renders_or_is_listed_not_applicable(rendered, need, name):
    if name in SHARED_SETS:
        need((SHARED / SHARED_SETS[name]).is_dir(), f"../shared/data/{SHARED_SETS[name]}")
    out, done = rendered(name)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    skipped = manifest.get("not_applicable", {})
    for report in REPORTS:
        html_file = out / f"{report}.html"
        assert html_file.exists() != (report in skipped), report
        if html_file.exists():
            assert_truthful(reader_text(html_file.read_text(encoding="utf-8")))
        else:
            assert skipped[report]["reason"].startswith("needs "), skipped[report]


def test_maven_pipeline_sales_report(rendered, need):
    need((SHARED / "maven_crm_pipeline").is_dir(), "../shared/data/maven_crm_pipeline")
    text = page(rendered, "maven", "sales_performance")
    # The reference figures: 4,238 won deals worth 10,005,534; win rate 63.2% (of 6,711).
    # the config's `currency: USD` is on every amount (en_001 writes US$)
    assert "Bookings (won deal value) were US$10,005,534.00 from 4,238 won deals." in text
    assert "The win rate (won / closed deals) was 63.2% (4,238 of 6,711;" in text
    assert "2,089 deals are open; they carry no amount yet" in text
    for heading in ("Bookings over time", "Win rate", "Open pipeline", "Opportunity funnel",
                    "Deal owners against target"):
        assert heading in text
    # Retail sections are left out for a pipeline, not shown as zeros.
    assert "Revenue over time" not in text and "Net revenue" not in text
    out, _ = rendered("maven")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["not_applicable"]) == {"satisfaction", "churn", "campaigns"}
    assert "Not applicable to this data" in (out / "index.html").read_text(encoding="utf-8")
    accounts = page(rendered, "maven", "customer_behaviour")
    assert "85 accounts won deals in the period" in accounts


def test_b2b_sample_sales_report(rendered):
    text = page(rendered, "b2b", "sales_performance")
    assert re.search(r"The win rate \(won / closed deals\) was \d+\.\d% \([\d,]+ of [\d,]+; "
                     r"95% CI", text)
    assert re.search(r"[\d,]+ deals are open, worth [\d,]+\.\d\d \([\d,]+\.\d\d weighted", text)
    assert "Deal owners against target" in text and "Lead funnel and conversion" in text


def test_retail_sample_keeps_its_sections_and_no_pipeline_ones(rendered):
    text = page(rendered, "retail", "sales_performance")
    assert "Revenue over time" in text and "Net revenue" in text
    assert "Bookings over time" not in text and "Open pipeline" not in text


def test_telco_snapshot_churn_report(rendered, need):
    need((SHARED / "telco_churn").is_dir(), "../shared/data/telco_churn")
    text = page(rendered, "telco", "churn")
    # The reference figures of ../shared/data/README.md.
    assert "Churn was 26.5% (1,869 of 7,043;" in text
    assert re.search(r"Month-to-month 1,655 3,875 42\.7%", text)
    assert re.search(r"One year 166 1,473 11\.3%", text)
    assert re.search(r"Two year 48 1,695 2\.8%", text)
    assert "84.3% at 12 months, 78.9% at 24 months" in text
    assert re.search(r"out-of-sample AUC 0\.8\d", text)
    # A snapshot has no periods: nothing is compared with a previous one, and the
    # order-based sections are left out.
    assert "previous period" not in text and "percentage points" not in text
    assert "Churn and retention over time" not in text
    out, _ = rendered("telco")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["not_applicable"]) == {"sales_performance", "customer_behaviour",
                                               "satisfaction", "campaigns"}


def test_subscription_sample_churn_report_leaves_out_reasons_that_cannot_be_won_back(rendered):
    text = page(rendered, "subscription", "churn")
    match = re.search(r"([\d,]+) left for reasons that cannot \(([^)]*)\)", text)
    assert match and match.group(1) != "0"
    assert "Deceased" in match.group(2) and "Moved away" in match.group(2)
    assert "Who churns" in text and "How long customers stay" in text


def test_salesforce_export_by_preset_never_adds_up_two_currencies(tmp_path):
    from tests.ingest.crm_exports import write_salesforce_export

    converted = write_salesforce_export(tmp_path / "sf")
    done = render(tmp_path / "out", "sales_performance", "--source", str(converted.folder),
                  "--preset", "salesforce", "--param", "start=2020-01-01",
                  "--param", "end=2026-12-31")
    assert done.returncode == 0, done.stdout + done.stderr
    text = reader_text((tmp_path / "out" / "sales_performance.html").read_text("utf-8"))
    assert_truthful(text)
    # converted into the corporate currency, whose code is on every amount
    assert re.search(r"Bookings \(won deal value\) were US\$[\d,]+\.\d\d from \d+ won deals", text)

    apart = write_salesforce_export(tmp_path / "sf2", currency_table=False)
    (apart.folder / "DatedConversionRate.csv").unlink(missing_ok=True)
    done = render(tmp_path / "out2", "sales_performance", "--source", str(apart.folder),
                  "--preset", "salesforce", "--param", "start=2020-01-01",
                  "--param", "end=2026-12-31")
    assert done.returncode == 0, done.stdout + done.stderr
    text = reader_text((tmp_path / "out2" / "sales_performance.html").read_text("utf-8"))
    assert_truthful(text)
    assert "Bookings (won deal value) were" not in text
    assert "amounts in EUR, USD and no exchange rates: money is not added up" in text
    # Counts and rates are not money: they are still given.
    assert re.search(r"The win rate \(won / closed deals\)(: too few to say| was \d+\.\d%)",
                     text)
    assert "Opportunity funnel" in text


@pytest.mark.parametrize("name", ["retail", "b2b"])
def test_index_opens_with_the_scorecard_and_lists_six_reports(rendered, name):
    out, done = rendered(name)
    assert done.returncode == 0, done.stdout + done.stderr
    index = (out / "index.html").read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([a-z_]+)">', index)
    assert sections[0] == "kpi_scorecard", sections
    assert set(sections) == {"kpi_scorecard", "sales_performance", "customer_behaviour",
                             "satisfaction", "churn", "campaigns"} - (
        {"churn"} if name == "b2b" else set())


def test_campaigns_report_on_retail_and_b2b(rendered):
    retail = page(rendered, "retail", "campaigns")
    assert re.search(r"\d+ campaigns? started in the period, with [\d,]+ leads; (it|they) cost "
                     r"[\d,]+\.\d\d; [\d,]+\.\d\d of revenue is attributed", retail)
    assert "net revenue of the orders that name it" in retail
    b2b = page(rendered, "b2b", "campaigns")
    assert "its conversions are the won deals among them" in b2b
    assert "This is an association, not the campaigns' effect" in b2b
    for text in (retail, b2b):
        for heading in ("Campaigns", "Channels", "Cost and return over time",
                        "How campaigns are credited", "Conclusions and recommendations"):
            assert heading in text


def test_campaigns_report_on_a_salesforce_export(tmp_path):
    """Campaign rows of a Salesforce export: the planned ones (budget only) are costed by
    their budget, won opportunities' Primary Campaign Source credits the campaign, and a
    lead its first campaign membership (the touch that counts is said)."""
    from tests.ingest.crm_exports import write_salesforce_export

    export = write_salesforce_export(tmp_path / "sf")
    done = render(tmp_path / "out", "campaigns", "--source", str(export.folder),
                  "--preset", "salesforce", "--param", "start=2020-01-01",
                  "--param", "end=2026-12-31")
    assert done.returncode == 0, done.stdout + done.stderr
    text = reader_text((tmp_path / "out" / "campaigns.html").read_text("utf-8"))
    assert_truthful(text)
    assert re.search(r"[\d,]+ campaigns started in the period", text)
    assert "Primary Campaign Source" in text
    assert ("its first touch, the campaign membership of CampaignMember.csv with the "
            "earliest CreatedDate") in text
    assert re.search(r"Leads from a campaign converted at \d+\.\d%|Too few leads to compare",
                     text)


def test_campaigns_report_never_adds_up_two_currencies(tmp_path):
    """Opportunities in EUR and USD without exchange rates: the campaigns' costs, leads and
    deals are given, their attributed revenue and ROI are not (ROI is a percent, so the
    registry's money guard does not reach it)."""
    from tests.ingest.crm_exports import write_salesforce_export

    apart = write_salesforce_export(tmp_path / "sf", currency_table=False)
    (apart.folder / "DatedConversionRate.csv").unlink(missing_ok=True)
    done = render(tmp_path / "out", "campaigns", "--source", str(apart.folder),
                  "--preset", "salesforce", "--param", "start=2020-01-01",
                  "--param", "end=2026-12-31")
    assert done.returncode == 0, done.stdout + done.stderr
    text = reader_text((tmp_path / "out" / "campaigns.html").read_text("utf-8"))
    assert_truthful(text)
    assert "of revenue is attributed" not in text and "Highest ROI" not in text
    assert "attributed revenue is not added up across currencies" in text
    assert re.search(r"[\d,]+ campaigns started in the period", text)


def test_subscription_sample_satisfaction_report(rendered):
    text = page(rendered, "subscription", "satisfaction")
    assert not re.search(r"(?<![\d,.])0 customers", text)
    # Churn set against the customers' own score, and the snapshot's customers as the base
    # of the complaint rate.
    assert re.search(r"Churn as of the snapshot was 24\.2% \(363 of 1,500;", text)
    assert re.search(r"Complaint rate was [\d.]+% \(\d+ of 1,500;", text)
    assert "Repeat buying needs orders, which this data does not have." in text
