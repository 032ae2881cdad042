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
REPORTS = ("sales_performance", "customer_behaviour", "satisfaction", "churn")

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


def test_maven_pipeline_sales_report(tmp_path, need):
    need((SHARED / "maven_crm_pipeline").is_dir(), "../shared/data/maven_crm_pipeline")
    out = tmp_path / "maven"
    done = render(out, "--config", "examples/maven_pipeline.yaml",
                  "--param", "start=2016-10-01", "--param", "end=2017-12-31")
    assert done.returncode == 0, done.stdout + done.stderr
    text = reader_text((out / "sales_performance.html").read_text(encoding="utf-8"))
    assert_truthful(text)
    # The reference figures: 4,238 won deals worth 10,005,534; win rate 63.2% (of 6,711).
    assert "Bookings (won deal value) were 10,005,534.00 from 4,238 won deals." in text
    assert "The win rate (won / closed deals) was 63.2% (4,238 of 6,711;" in text
    assert "2,089 deals are open; they carry no amount yet" in text
    for heading in ("Bookings over time", "Win rate", "Open pipeline", "Opportunity funnel",
                    "Deal owners against target"):
        assert heading in text
    # Retail sections are left out for a pipeline, not shown as zeros.
    assert "Revenue over time" not in text and "Net revenue" not in text
    index = (out / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["not_applicable"]) == {"satisfaction", "churn"}
    assert "Not applicable to this data" in index


def test_b2b_sample_sales_report(tmp_path, need):
    out = tmp_path / "b2b"
    done = render(out, "sales_performance", "--source", "data/sample-b2b")
    assert done.returncode == 0, done.stdout + done.stderr
    text = reader_text((out / "sales_performance.html").read_text(encoding="utf-8"))
    assert_truthful(text)
    assert re.search(r"The win rate \(won / closed deals\) was \d+\.\d% \([\d,]+ of [\d,]+; "
                     r"95% CI", text)
    assert re.search(r"[\d,]+ deals are open, worth [\d,]+\.\d\d \([\d,]+\.\d\d weighted", text)
    assert "Deal owners against target" in text and "Lead funnel and conversion" in text


def test_retail_sample_keeps_its_sections_and_no_pipeline_ones(tmp_path):
    out = tmp_path / "retail"
    done = render(out, "sales_performance")
    assert done.returncode == 0, done.stdout + done.stderr
    text = reader_text((out / "sales_performance.html").read_text(encoding="utf-8"))
    assert_truthful(text)
    assert "Revenue over time" in text and "Net revenue" in text
    assert "Bookings over time" not in text and "Open pipeline" not in text


def test_telco_snapshot_churn_report(tmp_path, need):
    need((SHARED / "telco_churn").is_dir(), "../shared/data/telco_churn")
    out = tmp_path / "telco"
    done = render(out, "--config", "examples/telco_churn.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    text = reader_text((out / "churn.html").read_text(encoding="utf-8"))
    assert_truthful(text)
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
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["not_applicable"]) == {"sales_performance", "customer_behaviour",
                                               "satisfaction"}


def test_subscription_sample_churn_report_leaves_out_reasons_that_cannot_be_won_back(tmp_path):
    out = tmp_path / "subscription"
    done = render(out, "churn", "--source", "data/sample-subscription")
    assert done.returncode == 0, done.stdout + done.stderr
    text = reader_text((out / "churn.html").read_text(encoding="utf-8"))
    assert_truthful(text)
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
    assert re.search(r"Bookings \(won deal value\) were [\d,]+\.\d\d from \d+ won deals", text)

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


def test_subscription_sample_satisfaction_report(tmp_path):
    out = tmp_path / "subscription-satisfaction"
    done = render(out, "satisfaction", "--source", "data/sample-subscription")
    assert done.returncode == 0, done.stdout + done.stderr
    text = reader_text((out / "satisfaction.html").read_text(encoding="utf-8"))
    assert_truthful(text)
    assert not re.search(r"(?<![\d,.])0 customers", text)
    # Churn set against the customers' own score, and the snapshot's customers as the base
    # of the complaint rate.
    assert re.search(r"Churn as of the snapshot was 24\.2% \(363 of 1,500;", text)
    assert re.search(r"Complaint rate was [\d.]+% \(\d+ of 1,500;", text)
    assert "Repeat buying needs orders, which this data does not have." in text
