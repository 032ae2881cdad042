"""The KPI cards at the top of every report: which KPIs each report shows on each shape of
data, their values against the KPIs computed directly, the HTML a reader sees (escaped,
no nan or None), and the cards in the batch display and in the live filter panel."""

from __future__ import annotations

import re

import pytest
from IPython.core.formatters import DisplayFormatter

from crmkit.ingest import ingest, resolve_config
from crmkit.metrics import Filters, Measure, get_metric
from crmkit.metrics.scorecard import headline_result
from crmkit.sections import REPORTS, open_report, report_module
from crmkit.sections.base import Report, Text
from crmkit.sections.cards import KpiCards, KpiLine, kpi_cards, value_text
from crmkit.sections.notebooks import notebook
from crmkit.sections.widgets import FilterPanel, filter_options
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SHAPES = {"b2b": ROOT / "data" / "sample-b2b",
          "subscription": ROOT / "data" / "sample-subscription"}
NOISE = re.compile(r"\b(nan|NaN|None|inf)\b|\(blank\)|Traceback")
# report -> shape -> the KPIs of its cards (the first five it names that the data has)
EXPECTED = {
    "sales_performance": {
        "retail": ["revenue", "orders", "average_order_value"],
        "b2b": ["bookings", "win_rate", "open_pipeline", "average_deal_size"],
        "subscription": []},
    "customer_behaviour": {
        "retail": ["new_customers", "repeat_customer_rate", "loyalty", "average_clv"],
        "b2b": ["bookings", "win_rate", "average_deal_size"],
        "subscription": []},
    "satisfaction": {
        "retail": ["csat", "nps", "complaint_rate", "complaints_followed_up"],
        "b2b": ["csat", "complaint_rate", "complaints_followed_up"],
        "subscription": ["csat", "nps", "complaint_rate", "complaints_followed_up",
                         "customer_satisfaction"]},
    "churn": {
        "retail": ["churn_rate", "retention_rate", "new_customers"],
        "b2b": [],  # no churn dates and no orders: nothing to measure churn on
        "subscription": ["snapshot_churn_rate", "revenue_at_risk"]},
    "campaigns": {
        "retail": ["campaign_cost", "campaign_roi", "cost_per_acquisition", "conversion_rate"],
        "b2b": ["campaign_cost", "campaign_roi", "cost_per_acquisition", "conversion_rate"],
        "subscription": []},  # no campaigns
}


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory, sample_warehouse) -> dict[str, str]:
    folders = {"retail": str(sample_warehouse)}
    for shape, source in SHAPES.items():
        folder = tmp_path_factory.mktemp(f"cards-{shape}")
        ingest(resolve_config(source=source), folder)
        folders[shape] = str(folder)
    return folders


@pytest.fixture(scope="module")
def cards(warehouses) -> dict[tuple[str, str], tuple]:
    """(report, shape) -> (the report, its cards section's outputs)."""
    out = {}
    for name in EXPECTED:
        for shape, folder in warehouses.items():
            report = open_report(name, warehouse=folder)
            out[name, shape] = report, report.outputs("cards")
    return out


def shown(outputs) -> list[str]:
    return [line.name for card in outputs if isinstance(card, KpiCards)
            for line in card.lines]


@pytest.mark.parametrize("name", list(EXPECTED))
@pytest.mark.parametrize("shape", ["retail", "b2b", "subscription"])
def test_each_report_shows_the_headline_kpis_its_data_supports(cards, name, shape):
    _, outputs = cards[name, shape]
    assert shown(outputs) == EXPECTED[name][shape]
    (output,) = outputs
    if not EXPECTED[name][shape]:  # none of its KPIs: one line says so
        assert isinstance(output, Text) and "are not available" in output.markdown
    else:
        assert isinstance(output, KpiCards)


# Every report has cards under its summary heading.
CARD_REPORTS = ("kpi_scorecard", "sales_performance", "customer_behaviour", "satisfaction",
                "churn", "campaigns")


def test_every_report_places_the_cards_under_its_summary_heading():
    assert set(CARD_REPORTS) <= set(REPORTS)
    for name in CARD_REPORTS:
        outline = report_module(name).OUTLINE
        assert ("cards", "## Summary of findings") in outline, name
        i = outline.index(("cards", "## Summary of findings"))
        assert outline[i + 1] == ("summary", None), name
        cells = [c for c in notebook(name)["cells"]]
        sources = ["".join(c["source"]) for c in cells]
        at = sources.index('report.show("cards")')
        assert sources[at - 1] == "report.text('## Summary of findings')"
        assert sources[at + 1] == 'report.show("summary")'


def direct(report, name: str, filters: Filters):
    return headline_result(name, get_metric(name)(report.wh, filters))


@pytest.mark.parametrize(("name", "shape"), [(n, s) for n in EXPECTED for s in EXPECTED[n]
                                             if EXPECTED[n][s]])
def test_card_values_are_the_kpis_computed_directly(cards, name, shape):
    report, (card,) = cards[name, shape]
    html = card.to_html()
    for line in card.lines:
        now = direct(report, line.name, report.filters)
        assert line.value == pytest.approx(now.value, rel=1e-12), line.name
        if line.too_few:
            assert "too few to say" in html
        else:
            assert value_text(now.value, line.unit, compact=True) in html, line.name
        if line.periodic and line.previous is not None:
            before = direct(report, line.name, report.filters.previous_period())
            assert line.previous == pytest.approx(before.value, rel=1e-12)
    assert not NOISE.search(re.sub(r"base64,[^'\"]+", "", html)), html[:500]
    assert html.count("<img") == sum(1 for line in card.lines
                                     if line.trend is not None
                                     and line.trend["value"].notna().sum() >= 2)


def test_a_card_reads_value_change_target_status_and_trend(cards):
    report, (card,) = cards["sales_performance", "retail"]
    html = card.to_html()
    revenue = card.lines[0]
    assert revenue.name == "revenue" and revenue.target is not None  # the targets table
    assert "Net revenue" in html and "vs previous period" in html and "vs last year" in html
    assert f"Target {value_text(revenue.target, 'currency', compact=True)}" in html
    assert revenue.status in ("on track", "at risk", "off track")
    assert f"crmkit-kpi-{revenue.status.replace(' ', '-')}" in html
    alt = re.search(r"alt='([^']*)'", html).group(1)
    assert alt.startswith("Net revenue, 10 periods:")  # Q3 2022 - Q4 2022 precede the data
    # a snapshot's cards have no period to compare with
    _, (snapshot,) = cards["churn", "subscription"]
    assert "as of the data" in snapshot.to_html()
    assert "vs previous period" not in snapshot.to_html()


def test_the_cards_escape_text_and_leave_out_what_is_missing():
    line = KpiLine(name="revenue", title="<script>alert(1)</script> & co", area="sales",
                   unit="currency", better="higher",
                   result=Measure(1234.5, "currency", 3), previous=None, change=None)
    html = KpiCards([line]).to_html()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" \
        in html
    assert "1,234" in html and "vs previous period" not in html and "<img" not in html
    assert not NOISE.search(html)


def test_the_cards_reach_the_batch_display_and_the_live_panel(cards, warehouses,
                                                               monkeypatch):
    _, (card,) = cards["sales_performance", "retail"]
    data, _ = DisplayFormatter().format(card)
    assert data["text/html"] == card.to_html()  # what display() puts in the notebook

    shown_objects = []
    monkeypatch.setattr("IPython.display.display",
                        lambda *objs, **kw: shown_objects.extend(objs))
    report = open_report("sales_performance", warehouse=warehouses["retail"])
    panel = FilterPanel(report, options=filter_options(report.wh), debounce=0.02)
    report.panel = panel
    report.show("cards")
    (output,) = panel.views["cards"].outputs
    assert "crmkit-kpi-card" in output["data"]["text/html"]

    panel.dimension_widgets["region"].value = "East"
    panel.wait()
    east = Filters(start=report.filters.start, end=report.filters.end, region="East")
    revenue = get_metric("revenue")(report.wh, east)
    (output,) = panel.views["cards"].outputs
    assert value_text(revenue.value, "currency", compact=True) in output["data"]["text/html"]
    drawn = []
    original = Report.outputs_and_breakdown
    monkeypatch.setattr(Report, "outputs_and_breakdown",
                        lambda self, section: drawn.append(section) or original(self, section))
    panel.breakdown.value = "channel"  # the cards do not read the breakdown: kept
    panel.wait()
    assert drawn == [] and list(panel.views["cards"].outputs) == [output]
    panel.close()


def test_no_cards_when_the_data_supports_none_of_the_kpis(cards):
    report, _ = cards["sales_performance", "subscription"]
    (line,) = kpi_cards(report, ("bookings", "revenue"))
    assert line.markdown == ("*The headline KPIs (Bookings \\(won deal value\\), Net "
                             "revenue) are not available for this data and period.*")


def test_the_sparkline_draws_the_periods_with_a_value_in_their_place():
    import numpy as np
    import pandas as pd

    from crmkit.charts import sparkline, sparkline_frame

    trend = pd.DataFrame({"period": pd.date_range("2024-01-01", periods=6, freq="QS"),
                          "value": [np.nan, 3.0, 5.0, np.nan, 4.0, 6.0]})
    points = sparkline_frame(trend.iloc[::-1])  # any order in: time order out
    assert points["value"].tolist() == [3.0, 5.0, 4.0, 6.0]
    assert points["position"].tolist() == [1, 2, 4, 5]  # the missing period keeps its place
    ax = sparkline(trend)
    line, last = ax.get_lines()
    assert line.get_xdata().tolist() == [1, 2, 4, 5]
    assert line.get_ydata().tolist() == [3.0, 5.0, 4.0, 6.0]
    assert (last.get_xdata().tolist(), last.get_ydata().tolist()) == ([5], [6.0])
    assert not ax.axison and ax.get_ylim()[0] < 3.0 < 6.0 < ax.get_ylim()[1]
