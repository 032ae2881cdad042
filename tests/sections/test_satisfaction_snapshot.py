"""The satisfaction report on a subscription snapshot without orders (data/sample-subscription),
against plain pandas on its CSV files; and on the retail sample, that nothing of it shows.

The pandas side reads the definitions from the KPI formulas and shares no code with crmkit.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from crmkit import vegalite
from crmkit.charts import Chart
from crmkit.metrics.results import Z95, wilson_interval
from crmkit.sections import open_report
from crmkit.sections import satisfaction as sat
from crmkit.sections.base import Table, Text
from tests.conftest import ROOT

SUBSCRIPTION = ROOT / "data" / "sample-subscription"
# The default period: the last full quarter of the data (its tickets and surveys end with
# 2025).
START, AFTER = pd.Timestamp("2025-10-01"), pd.Timestamp("2026-01-01")
SECTIONS = [entry[0] for entry in sat.OUTLINE[1:]] + [
    "scope", "appendix_definitions", "appendix_parameters", "appendix_audit",
    "appendix_lineage"]
NOISE = re.compile(r"\b(nan|NaN|None|n/a)\b|\(blank\)")
# A count of nothing shown as a finding: "0 customers", "0 of 0".
ZERO = re.compile(r"(?<![\d,.])0 (customers|responses)\b|\bof 0\b")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from crmkit.ingest import ingest, resolve_config

    folder = tmp_path_factory.mktemp("subscription-warehouse")
    ingest(resolve_config(source=SUBSCRIPTION), folder)
    return folder


@pytest.fixture(scope="module")
def report(warehouse):
    return open_report("satisfaction", warehouse=str(warehouse))


@pytest.fixture(scope="module")
def outputs(report) -> dict[str, list]:
    return {name: report.outputs(name) for name in SECTIONS}


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    frames = {name: pd.read_csv(SUBSCRIPTION / f"{name}.csv")
              for name in ("customers", "tickets", "surveys")}
    frames["customers"]["churned"] = frames["customers"]["churned"].eq("Yes")
    frames["tickets"]["opened_at"] = pd.to_datetime(frames["tickets"]["opened_at"])
    frames["surveys"]["date"] = pd.to_datetime(frames["surveys"]["date"])
    return frames


def plain(outputs: list) -> str:
    """The Markdown of a section's texts with the escaping backslashes removed."""
    return "\n".join(o.markdown for o in outputs if isinstance(o, Text)).replace("\\", "")


def shown(outputs: list) -> str:
    """What a reader sees of a section's texts and tables."""
    return "\n".join(o.markdown if isinstance(o, Text) else o.to_html()
                     for o in outputs if isinstance(o, (Text, Table)))


def in_period(dates: pd.Series) -> pd.Series:
    return (dates >= START) & (dates < AFTER)


# -- every section ---------------------------------------------------------------------------

def test_the_sample_is_a_snapshot_in_the_last_quarter(report):
    assert report.has_shape("snapshot") and not report.has_shape("orders")
    assert (report.filters.start, report.filters.end) == (START, AFTER - pd.Timedelta(days=1))


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_gives_outputs_a_reader_can_trust(outputs, section):
    got = outputs[section]
    assert got, f"{section} gave no output"
    for item in got:
        if isinstance(item, Chart):
            item.figure()  # drawn by matplotlib ...
            vegalite.spec(item)  # ... and as Vega-Lite
    text = shown(got)
    assert not NOISE.search(text), NOISE.search(text)
    assert not ZERO.search(text), ZERO.search(text)


def test_what_needs_orders_is_said_once_and_not_shown(outputs):
    summary = plain(outputs["summary"])
    assert summary.startswith("*This data has no orders:")
    assert "Repeat buying and scores by product category need orders" in summary
    everything = "\n".join(plain(outputs[s]) for s in SECTIONS)
    assert "bought twice" not in everything and "category" not in plain(
        outputs["where_worse"])
    assert "Repeat buying needs orders" in plain(outputs["repeat_and_churn"])


# -- numbers against pandas ------------------------------------------------------------------

def test_survey_scores_match_pandas(outputs, data):
    s = data["surveys"][in_period(data["surveys"]["date"])]
    n, mean, sd = len(s), s["csat"].mean(), s["csat"].std()
    half = Z95 * sd / np.sqrt(n)
    text = plain(outputs["summary"])
    assert f"Average CSAT was {mean:.2f} (95% CI {mean - half:.2f}–{mean + half:.2f}; " \
           f"{n:,} responses)" in text
    nps = 100 * ((s["nps"] >= 9).mean() - (s["nps"] <= 6).mean())
    assert f"NPS was {nps:+.0f} from {n:,} responses" in text
    assert f"Promoters (9-10): {(s['nps'] >= 9).sum()} of {n}" in plain(outputs["levels"])


def test_complaint_and_follow_up_rates_count_the_snapshots_customers(report, outputs, data):
    """Denominator: every customer of customers.csv (churned too); numerator: those of them
    with a ticket of that type opened in the period."""
    c, t = data["customers"], data["tickets"]
    t = t[in_period(t["opened_at"])]
    text = plain(outputs["complaints"])
    for label, kind in (("Complaint rate", "complaint"), ("Follow-up rate", "follow_up")):
        k = c["customer_id"].isin(t.loc[t["type"] == kind, "customer_id"]).sum()
        low, high = wilson_interval(k, len(c))
        assert f"{label} was {k / len(c):.1%} ({k:,} of {len(c):,}; 95% CI {low:.1%}–" \
               f"{high:.1%})" in text
    by = report.kpi("complaint_rate", by="contract").set_index("contract")
    complained = c["customer_id"].isin(t.loc[t["type"] == "complaint", "customer_id"])
    expected = complained.groupby(c["contract"]).agg(["sum", "size"])
    assert by["numerator"].tolist() == expected["sum"].tolist()
    assert by["denominator"].tolist() == expected["size"].tolist()


def test_customers_own_score_matches_pandas(report, outputs, data):
    score = data["customers"]["satisfaction"]
    n, mean, sd = score.notna().sum(), score.mean(), score.std()
    half = Z95 * sd / np.sqrt(n)
    sentence = f"{mean:.2f} (95% CI {mean - half:.2f}–{mean + half:.2f}; {n:,} customers " \
               f"with a score)"
    assert f"The mean of the customers' own satisfaction score was {sentence}" in \
        plain(outputs["summary"])
    levels = plain(outputs["levels"])
    assert f"Its mean was {sentence}" in levels
    assert f"{score.isna().sum()} of the {len(score):,} customers selected have no score" \
        in levels
    shares = report.kpi("customer_satisfaction_distribution").set_index("score")["value"]
    pd.testing.assert_series_equal(shares, score.value_counts(normalize=True).sort_index(),
                                   check_names=False)


def test_customers_own_score_by_region_names_the_lowest(outputs, data):
    c = data["customers"]
    by = c.groupby("region")["satisfaction"].agg(["mean", "std", "count"])
    overall = c["satisfaction"].mean()
    low = by["mean"].idxmin()
    half = Z95 * by.loc[low, "std"] / np.sqrt(by.loc[low, "count"])
    significant = by.loc[low, "mean"] + half < overall
    text = plain(outputs["where_worse"])
    assert f"By region, the customers' own satisfaction score was lowest for {low}: " \
           f"{by.loc[low, 'mean']:.2f} (95% CI {by.loc[low, 'mean'] - half:.2f}" in text
    assert ("significantly below the overall" if significant else "may be chance") in text
    table = [o for o in outputs["where_worse"] if isinstance(o, Table)][-1].frame
    regions = table[table["dimension"] == "region"].set_index("group")
    np.testing.assert_allclose(regions["score"], by["mean"])
    assert regions["customers"].tolist() == by["count"].tolist()


def test_churn_by_satisfaction_level_matches_pandas(report, outputs, data):
    c = data["customers"]
    per = c.groupby("satisfaction")["churned"].agg(["sum", "size"])
    got = sat.churn_by_score(report)
    assert got["score"].tolist() == ["1", "2", "3", "4", "5"]
    assert got["numerator"].tolist() == per["sum"].tolist()
    assert got["denominator"].tolist() == per["size"].tolist()
    assert got.attrs["without_group"] == c["satisfaction"].isna().sum()
    text = plain(outputs["repeat_and_churn"])
    overall = c["churned"]
    assert f"Churn as of the snapshot was {overall.mean():.1%} ({overall.sum()} of " \
           f"{len(c):,};" in text
    # Unhappy customers leave more: the lowest score against the highest, in words.
    (k1, n1), (k5, n5) = per.loc[1.0], per.loc[5.0]
    assert f"{k5 / n5:.1%} of customers whose own satisfaction score was 5 churned " \
           f"({k5} of {n5};" in text
    assert f"against {k1 / n1:.1%} of those whose own satisfaction score was 1 " \
           f"({k1} of {n1};" in text
    separate = wilson_interval(k5, n5)[1] < wilson_interval(k1, n1)[0]
    assert ("intervals do not overlap" if separate else "intervals overlap") in text
    assert "association, not an effect" in text
    assert "Customers whose own satisfaction score was 1 churned" in \
        plain(outputs["conclusions"])


# -- other selections and other data ---------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"region": "South"}, {"by": "contract"}, {"attributes": '{"contract": "Two year"}'},
    {"start": "2025-01-01", "end": "2025-01-31", "segment": "Enterprise"},
    {"start": "2030-01-01", "end": "2030-03-31"}])
def test_other_selections_give_every_section_without_noise(warehouse, params):
    other = open_report("satisfaction", warehouse=str(warehouse), **params)
    for section in SECTIONS:
        got = other.outputs(section)
        assert got, section
        text = shown(got)
        assert not NOISE.search(text), (section, NOISE.search(text))
        assert not ZERO.search(text), section


def test_a_period_the_tickets_do_not_cover_has_no_complaint_rate(warehouse):
    later = open_report("satisfaction", warehouse=str(warehouse), start="2030-01-01",
                        end="2030-03-31")
    text = plain(later.outputs("complaints"))
    assert "not available" in text and "0.0%" not in text


def test_customers_without_churn_flag_or_orders(tmp_path, data):
    """Customers with their own score and surveys, no churn flag, no orders: churn and
    buying say what they need; the score is still reported."""
    from crmkit.ingest import ingest, resolve_config

    source = tmp_path / "source"
    source.mkdir()
    data["customers"].drop(columns=["churned", "churn_reason", "tenure_months"]).to_csv(
        source / "customers.csv", index=False)
    (source / "surveys.csv").write_bytes((SUBSCRIPTION / "surveys.csv").read_bytes())
    ingest(resolve_config(source=source), tmp_path / "wh")
    other = open_report("satisfaction", warehouse=str(tmp_path / "wh"))
    assert not other.has_shape("snapshot")
    for section in SECTIONS:
        assert other.outputs(section), section
        assert not NOISE.search(shown(other.outputs(section))), section
    assert "churn needs orders or customers with a churn flag" in \
        plain(other.outputs("repeat_and_churn"))
    assert "Complaint rate is not available (needs tickets)" in \
        plain(other.outputs("summary"))
    assert "customers' own satisfaction score" in plain(other.outputs("levels"))


def test_the_retail_report_shows_none_of_it(sample_warehouse):
    retail = open_report("satisfaction", warehouse=str(sample_warehouse),
                         start="2025-01-01", end="2025-06-30")
    text = "\n".join(plain(retail.outputs(s)) for s in SECTIONS)
    assert "own satisfaction score" not in text and "has no orders" not in text
    assert not {"customer_satisfaction", "customer_satisfaction_distribution",
                "snapshot_churn_rate"} & set(retail.used_metrics)
