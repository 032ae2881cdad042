"""The satisfaction report's sections on data/sample, against plain pandas written out here.

The pandas side reads the definitions from the section and KPI docstrings and shares no
code with crmkit. Sections are computed once per module (the report caches its numbers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from crmkit.charts import Chart
from crmkit.metrics import Filters
from crmkit.metrics.results import wilson_interval
from crmkit.sections import open_report
from crmkit.sections import satisfaction as sat
from crmkit.sections.base import Report, Table, Text
from crmkit.sections.cards import KpiCards
from crmkit.warehouse import Warehouse
from tests.conftest import SAMPLE

START, END = pd.Timestamp("2025-01-01"), pd.Timestamp("2025-06-30")
AFTER = END + pd.Timedelta(days=1)
PERIOD = {"start": "2025-01-01", "end": "2025-06-30"}
# Sections and the kinds of output each must give on the full sample.
EXPECTED = {
    "cards": {KpiCards},
    "summary": {Text},
    "levels": {Text, Figure},
    "trend": {Text, Figure, Table},
    "where_worse": {Text, Figure, Table},
    "complaints": {Text, Figure},
    "resolution": {Text, Figure, Table},
    "repeat_and_churn": {Text, Figure, Table},
    "conclusions": {Text},
}


# -- fixtures ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    dates = {"customers": ["signup_date", "churn_date"], "orders": ["order_date"],
             "tickets": ["opened_at", "closed_at"], "surveys": ["date"]}
    return {name: pd.read_csv(SAMPLE / f"{name}.csv", parse_dates=cols)
            for name, cols in dates.items()}


@pytest.fixture(scope="module")
def report(sample_warehouse) -> Report:
    return open_report("satisfaction", warehouse=str(sample_warehouse), **PERIOD)


@pytest.fixture(scope="module")
def outputs(report) -> dict[str, list]:
    return {name: report.outputs(name) for name in EXPECTED}


def plain(outputs: list) -> str:
    """The Markdown of a section's texts with the escaping backslashes removed."""
    return "\n".join(o.markdown for o in outputs if isinstance(o, Text)).replace("\\", "")


def in_period(dates: pd.Series) -> pd.Series:
    return (dates >= START) & (dates < AFTER)


def kinds(outputs: list) -> set:
    return {Figure if isinstance(o, (Figure, Chart)) else type(o) for o in outputs}


# -- structure ---------------------------------------------------------------------------

def test_outline_names_every_report_section():
    outlined = [entry[0] for entry in sat.OUTLINE[1:]]
    assert outlined == list(EXPECTED)
    assert set(outlined) <= set(sat.SECTIONS)
    assert sat.OUTLINE[0].startswith("# Customer satisfaction\n\n")


@pytest.mark.parametrize("section", list(EXPECTED))
def test_section_gives_its_output_types(outputs, section):
    got = outputs[section]
    assert got, f"{section} gave no output"
    assert kinds(got) == EXPECTED[section]
    for item in got:
        if isinstance(item, Table):
            assert len(item.frame) <= 20  # short tables
            item.to_html()  # every format applies


# -- numbers against pandas --------------------------------------------------------------

def test_summary_numbers_match_pandas(outputs, data):
    text = plain(outputs["summary"])
    s = data["surveys"][in_period(data["surveys"]["date"])]
    n, mean, sd = len(s), s["csat"].mean(), s["csat"].std()
    half = 1.959963984540054 * sd / np.sqrt(n)
    assert f"CSAT was {mean:.2f} (95% CI {mean - half:.2f}–{mean + half:.2f}; {n:,} " \
           f"responses)" in text
    assert f"S / M was {mean / 5:.1%}" in text
    nps = 100 * ((s["nps"] >= 9).mean() - (s["nps"] <= 6).mean())
    assert f"NPS was {nps:+.0f} from {n:,} responses" in text

    c = data["customers"]
    base = c[(c["signup_date"] < AFTER) & (c["churn_date"].isna() | (c["churn_date"] >= START))]
    t = data["tickets"][in_period(data["tickets"]["opened_at"])]
    for label, kind in (("Complaint rate", "complaint"), ("Follow-up rate", "follow_up")):
        k = base["customer_id"].isin(t.loc[t["type"] == kind, "customer_id"]).sum()
        assert f"{label} was {k / len(base):.1%} ({k:,} of {len(base):,};" in text

    # The lowest-CSAT region, named with its own mean.
    region = s.merge(c[["customer_id", "region"]], on="customer_id")
    by_region = region.groupby("region")["csat"].mean()
    assert f"CSAT was lowest for {by_region.idxmin()}: {by_region.min():.2f}" in text


def pandas_outcomes(data, customers=None) -> pd.DataFrame:
    """Surveyed customers by band: customers, repeat, churn_base, churned."""
    s = data["surveys"][in_period(data["surveys"]["date"])]
    if customers is not None:
        s = s[s["customer_id"].isin(customers)]
    per = s.groupby("customer_id").agg(csat=("csat", "mean"), first=("date", "min"))
    per["band"] = np.select([per["csat"] < 2.5, per["csat"] < 3.5],
                            ["low (1-2)", "mid (3)"], "high (4-5)")
    o = data["orders"]
    o = o[in_period(o["order_date"]) & (o["status"] == "completed")]
    per["orders"] = o.groupby("customer_id").size().reindex(per.index).fillna(0)
    churn = data["customers"].set_index("customer_id")["churn_date"].reindex(per.index)
    at_risk = churn.isna() | (churn >= per["first"])
    per["repeat"] = per["orders"] >= 2
    per["churn_base"] = at_risk
    per["churned"] = at_risk & in_period(churn)
    frame = per.groupby("band").agg(customers=("csat", "size"), repeat=("repeat", "sum"),
                                    churn_base=("churn_base", "sum"),
                                    churned=("churned", "sum"))
    return frame.reindex(["low (1-2)", "mid (3)", "high (4-5)"]).astype("int64") \
        .reset_index()


def test_satisfaction_outcomes_match_pandas(report, outputs, data):
    expected = pandas_outcomes(data)
    pd.testing.assert_frame_equal(sat.satisfaction_outcomes(report), expected,
                                  check_dtype=False)
    text = plain(outputs["repeat_and_churn"])
    high, low = expected.iloc[-1], expected.iloc[0]
    assert f"({high['repeat']} of {high['customers']};" in text
    assert f"({low['repeat']} of {low['customers']};" in text
    lo_hi, hi_lo = wilson_interval(low["repeat"], low["customers"])[1], \
        wilson_interval(high["repeat"], high["customers"])[0]
    overlap = "intervals overlap" if hi_lo <= lo_hi else "intervals do not overlap"
    assert overlap in text.split("\n")[0]
    assert "association, not an effect" in text


def test_scores_by_category_match_pandas(report, data):
    """Category CSAT: responses of customers who bought in the category in the period."""
    s = data["surveys"][in_period(data["surveys"]["date"])]
    o = data["orders"]
    o = o[in_period(o["order_date"]) & (o["status"] == "completed")]
    bought = o[["customer_id", "category"]].drop_duplicates()
    expected = s.merge(bought, on="customer_id").groupby("category")["csat"] \
        .agg(["mean", "size"])
    got = sat.scores_by(report, "category")["csat"].set_index("category")
    np.testing.assert_allclose(got["value"], expected["mean"])
    assert got["n"].tolist() == expected["size"].tolist()


def test_resolution_and_complaints_match_pandas(report, outputs, data):
    t = data["tickets"]
    period = t[in_period(t["opened_at"])]
    hours = (period["closed_at"] - period["opened_at"]).dt.total_seconds() / 3600
    got = sat.resolution_times(report).set_index("type")
    expected = hours.groupby(period["type"]).quantile([0.5, 0.9]).unstack()
    np.testing.assert_allclose(got.loc[expected.index, "median_hours"], expected[0.5])
    np.testing.assert_allclose(got.loc[expected.index, "p90_hours"], expected[0.9])
    still_open = period["closed_at"].isna().sum()
    assert got.loc["all types", "numerator"] == still_open
    assert f"({still_open} of {len(period):,};" in plain(outputs["resolution"])

    complaints = period[(period["type"] == "complaint")]
    first = complaints.groupby("customer_id")["opened_at"].min()
    follow = t[t["type"] == "follow_up"].merge(first.rename("first").reset_index(),
                                               on="customer_id")
    window = (follow["opened_at"] >= follow["first"]) & \
        (follow["opened_at"] < follow["first"] + pd.Timedelta(days=30))
    followed = follow.loc[window, "customer_id"].nunique()
    rate = sat.complaints_followed_up(report)
    assert (rate.numerator, rate.denominator) == (followed, len(first))
    top = complaints["reason"].value_counts()
    assert f"{top.index[0]} led with {top.iloc[0] / len(complaints):.1%}" in \
        plain(outputs["complaints"])


def test_trend_covers_context_months(report, data):
    monthly = sat.monthly_scores(report)
    csat = monthly["csat"]
    assert csat["month"].min() == pd.Timestamp("2024-01-01")
    assert csat["month"].max() == pd.Timestamp("2025-06-01")
    s = data["surveys"]
    s = s[(s["date"] >= "2024-01-01") & (s["date"] < AFTER)]
    counts = s.groupby(s["date"].dt.to_period("M").dt.start_time).size()
    assert csat["n"].tolist() == counts.tolist()
    assert (csat["too_few"] == (csat["n"] < 30)).all()


# -- filters and breakdowns --------------------------------------------------------------

def test_region_filter_changes_numbers(sample_warehouse, report, data):
    south = open_report("satisfaction", warehouse=str(sample_warehouse), region="South",
                        **PERIOD)
    assert south.kpi("csat").value != report.kpi("csat").value
    c = data["customers"]
    ids = c.loc[c["region"] == "South", "customer_id"]
    expected = pandas_outcomes(data, customers=ids)
    pd.testing.assert_frame_equal(sat.satisfaction_outcomes(south), expected,
                                  check_dtype=False)
    text = plain(south.outputs("summary"))
    s = data["surveys"]
    s = s[in_period(s["date"]) & s["customer_id"].isin(ids)]
    assert f"CSAT was {s['csat'].mean():.2f}" in text
    # A filtered dimension has one group left: it is not compared with itself.
    worse = south.outputs("where_worse")
    assert "By region" not in plain(worse)


def test_breakdown_by_segment(sample_warehouse):
    by = open_report("satisfaction", warehouse=str(sample_warehouse), by="segment", **PERIOD)
    levels = by.outputs("levels")
    table = next(o for o in levels if isinstance(o, Table))
    assert sorted(table.frame["group"]) == ["Consumer", "Enterprise", "SMB"]
    trend = [o for o in by.outputs("trend") if isinstance(o, Table)][0]
    assert {"Consumer", "Enterprise", "SMB"} <= set(trend.frame.columns)
    assert any(isinstance(o, (Figure, Chart)) for o in by.outputs("complaints"))


def test_breakdown_the_scores_cannot_reach_falls_back(sample_warehouse):
    """by=category: surveys and customers have no category; the trend is drawn overall
    with one line saying so, complaint rates say they count customers."""
    by = open_report("satisfaction", warehouse=str(sample_warehouse), by="category", **PERIOD)
    trend = by.outputs("trend")
    assert any(isinstance(o, (Figure, Chart)) for o in trend)
    assert "cannot be broken down by category" in plain(trend)
    assert "not a customers column" in plain(by.outputs("complaints"))
    levels = [o for o in by.outputs("levels") if isinstance(o, Table)]
    assert len(levels[0].frame) == 6  # the six categories, through purchases


# -- missing data and escaping -----------------------------------------------------------

@pytest.mark.parametrize("start, end", [("2023-01-01", "2023-01-31"),
                                        ("2030-01-01", "2030-03-31")])
def test_small_and_empty_periods(sample_warehouse, start, end):
    """A first month with small groups and zero churn (a 0% rate with its interval), and
    a period without any data: every section still gives outputs, no error."""
    small = open_report("satisfaction", warehouse=str(sample_warehouse), start=start,
                        end=end)
    got = {section: small.outputs(section) for section in EXPECTED}
    assert all(got.values())
    if start.startswith("2030"):
        assert "No survey scores" in plain(got["trend"])
        assert "No tickets were opened" in plain(got["resolution"])
        assert "No surveyed customer" in plain(got["repeat_and_churn"])
    else:
        assert "Too few customers" in plain(got["repeat_and_churn"])



def test_warehouse_without_tickets_or_surveys(tmp_path):
    from crmkit.ingest import ingest, resolve_config

    source = tmp_path / "source"
    source.mkdir()
    (source / "orders.csv").write_bytes((SAMPLE / "orders.csv").read_bytes())
    ingest(resolve_config(source=source), tmp_path / "wh")
    bare = open_report("satisfaction", warehouse=str(tmp_path / "wh"), **PERIOD)
    for section in EXPECTED:
        got = bare.outputs(section)
        assert got and all(isinstance(o, Text) for o in got), section
        if section != "conclusions":
            assert "not available" in plain(got), section
    assert "No recommendations" in plain(bare.outputs("conclusions"))


def test_data_text_is_escaped(data):
    """Region and complaint-reason names from the data show as text, never markup."""
    frames = {k: v.copy() for k, v in data.items()}
    region = "*South* <b>x</b>"
    reason = "Rude [staff](http://x) <script>"
    frames["customers"]["region"] = frames["customers"]["region"].replace("South", region)
    frames["orders"]["region"] = frames["orders"]["region"].replace("South", region)
    tickets = frames["tickets"]
    tickets["reason"] = tickets["reason"].replace("Rude staff", reason)
    wh = Warehouse.from_frames(frames)
    report = Report("satisfaction", sat.TITLE, wh, Filters(**PERIOD), {}, sat.SECTIONS)
    markdown = "\n".join(o.markdown for section in ("summary", "where_worse", "complaints",
                                                   "conclusions")
                         for o in report.outputs(section) if isinstance(o, Text))
    assert "<script>" not in markdown and "<b>" not in markdown
    assert "&lt;script&gt;" in markdown
    assert r"\*South\* &lt;b&gt;x&lt;/b&gt;" in markdown
    assert r"\[staff\]\(http" in markdown
