"""The kpi_scorecard report on the retail, B2B and subscription samples: its KPI list against
the registry and the tables the data has, its values against the KPIs computed directly,
the status rules and targets of a config, and what a reader sees (no nan, None or inf).

The expected list is built here from the registry's results and the ingest audit, not
from the code under test's own checks."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from crmkit.exceptions import ConfigError
from crmkit.ingest import ingest, resolve_config
from crmkit.metrics import Filters, NotAvailable, get_metric
from crmkit.metrics import scorecard as sc
from crmkit.metrics.scorecard import SCORECARD, SCORECARD_KPIS, headline_result
from crmkit.sections import open_report, scorecard
from crmkit.sections.base import Table, Text
from crmkit.sections.cards import KpiCards, KpiTable, value_text
from crmkit.shapes import is_snapshot
from tests.conftest import ROOT, SAMPLE

pytestmark = pytest.mark.slow

SAMPLES = {"retail": SAMPLE, "b2b": ROOT / "data" / "sample-b2b",
           "subscription": ROOT / "data" / "sample-subscription"}
NOISE = re.compile(r"\b(nan|NaN|None|inf)\b|\(blank\)|Traceback")


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory, sample_warehouse) -> dict[str, str]:
    folders = {"retail": str(sample_warehouse)}
    for shape in ("b2b", "subscription"):
        folder = tmp_path_factory.mktemp(f"scorecard-{shape}")
        ingest(resolve_config(source=SAMPLES[shape]), folder)
        folders[shape] = str(folder)
    return folders


@pytest.fixture(scope="module")
def reports(warehouses):
    return {shape: open_report("kpi_scorecard", warehouse=folder)
            for shape, folder in warehouses.items()}


def lines_of(report):
    return scorecard._lines(report)


def _rows(audit: dict, table: str) -> int:
    record = audit["tables"].get(table)
    return record["kept"] + record["flagged"] if record else 0


def expected_shown(report) -> list[str]:
    """The scorecard KPIs the data supports, from the registry and the audit: the KPI gives
    a value (a frame-valued one, its one number) and fits the data's shape."""
    wh = report.wh
    snapshot = is_snapshot(wh.audit)
    customers = wh.table("customers").to_pandas() if wh.has("customers") else pd.DataFrame()
    churn_dates = "churn_date" in customers and customers["churn_date"].notna().any()
    out = []
    for kpi in SCORECARD:
        if (kpi.shape == "snapshot" and not snapshot) or (kpi.shape == "dated" and snapshot) \
                or (kpi.shape == "inactivity" and churn_dates):
            continue
        result = get_metric(kpi.name)(wh, report.filters)
        if isinstance(result, NotAvailable):
            continue
        result = headline_result(kpi.name, result)
        if isinstance(result, NotAvailable) or not math.isfinite(result.value):
            continue
        out.append(kpi.name)
    return out


# -- which KPIs ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", list(SAMPLES))
def test_the_kpi_list_is_what_the_registry_and_the_tables_support(reports, shape):
    report = reports[shape]
    lines = lines_of(report)
    shown = [line.name for line in lines.shown]
    assert shown == expected_shown(report)
    # every scorecard KPI is either shown or listed with its reason, never both
    left = {x["name"]: x["reason"] for x in lines.left_out}
    assert set(shown) | set(left) == set(SCORECARD_KPIS) and not set(shown) & set(left)
    assert all(reason for reason in left.values())
    # no KPI shown whose tables the data lacks
    audit = report.wh.audit
    for name in shown:
        for need in get_metric(name).needs:
            assert any(_rows(audit, alt.partition(".")[0]) > 0 for alt in need.split("|")), \
                (name, need)
    for kpi in SCORECARD:
        empty = [need for need in get_metric(kpi.name).needs
                 if all(_rows(audit, alt.partition(".")[0]) == 0 for alt in need.split("|"))]
        if empty:
            assert kpi.name in left, kpi.name
    # the area tables show exactly these KPIs, under their area's heading
    for area in sc.AREAS:
        outputs = report.outputs(area)
        in_area = [line for line in lines.shown if line.area == area]
        if not in_area:
            assert outputs == []
            continue
        assert outputs[0].markdown == f"## {sc.AREAS[area]}"
        assert [line.name for line in outputs[1].lines] == [line.name for line in in_area]


def test_each_shape_shows_its_own_kpis(reports):
    def names(shape):
        return {line.name for line in lines_of(reports[shape]).shown}

    assert {"revenue", "orders", "average_order_value", "churn_rate", "nps"} <= names("retail")
    assert not names("retail") & {"bookings", "win_rate", "snapshot_churn_rate",
                                  "inactivity_churn_rate"}
    assert {"bookings", "win_rate", "average_deal_size", "open_pipeline",
            "sales_cycle"} <= names("b2b")
    assert not names("b2b") & {"revenue", "orders", "churn_rate"}
    assert {"snapshot_churn_rate", "revenue_at_risk", "customer_satisfaction", "csat",
            "nps"} <= names("subscription")
    # a snapshot's churn dates are its snapshot date: no churn rate over a period
    assert not names("subscription") & {"churn_rate", "retention_rate", "revenue"}
    left = {x["name"]: x["reason"] for x in lines_of(reports["subscription"]).left_out}
    assert "snapshot date" in left["churn_rate"]
    # left out for the shape, not for want of orders: the KPI itself computes
    subscription = reports["subscription"]
    assert get_metric("churn_rate")(subscription.wh, subscription.filters).denominator > 0
    assert left["bookings"] == "needs opportunities"


# -- values -----------------------------------------------------------------------------------

def direct(report, name: str, filters: Filters):
    return headline_result(name, get_metric(name)(report.wh, filters))


def change(value, before, unit):
    if unit in ("percent", "nps"):
        return value - before
    return (value - before) / abs(before)


@pytest.mark.parametrize("shape", list(SAMPLES))
def test_values_and_changes_are_the_kpis_computed_directly(reports, shape):
    report = reports[shape]
    f = report.filters
    for line in lines_of(report).shown:
        now = direct(report, line.name, f)
        assert line.value == pytest.approx(now.value, rel=1e-12), line.name
        assert line.unit == get_metric(line.name).unit
        if not line.periodic:
            assert line.previous is None and line.trend is None
            continue
        before = direct(report, line.name, f.previous_period())
        year = direct(report, line.name, f.same_period_last_year())
        for got, base, moved in ((line.previous, before, line.change),
                                 (line.last_year, year, line.change_last_year)):
            if isinstance(base, NotAvailable) or not math.isfinite(base.value):
                assert got is None and moved is None, line.name
                continue
            assert got == pytest.approx(base.value, rel=1e-12), line.name
            if base.value:
                assert moved == pytest.approx(change(now.value, base.value, line.unit)), \
                    line.name
        # the trend ends with this period's value (unless too few to say) and holds the
        # previous period's
        trend = line.trend.set_index("period")["value"]
        assert len(trend) == 12 and trend.index[-1] == f.start
        if not line.too_few:
            assert trend.iloc[-1] == pytest.approx(line.value)
        if line.previous is not None and pd.notna(trend.iloc[-2]):
            assert trend.iloc[-2] == pytest.approx(line.previous)


def test_no_trend_point_before_the_data_begins(reports):
    report = reports["retail"]  # orders from January 2023; the report is Q2 2025
    line = next(x for x in lines_of(report).shown if x.name == "revenue")
    trend = line.trend.set_index("period")["value"]
    assert trend[trend.index < pd.Timestamp("2023-01-01")].isna().all()
    assert trend[trend.index >= pd.Timestamp("2023-01-01")].notna().all()
    q1 = direct(report, "revenue", Filters(start="2023-01-01", end="2023-03-31"))
    assert trend[pd.Timestamp("2023-01-01")] == pytest.approx(q1.value)


def test_the_table_shows_the_values_and_targets(reports):
    report = reports["retail"]
    html = report.outputs("sales")[1].to_html()
    revenue = direct(report, "revenue", report.filters)
    assert value_text(revenue.value, "currency") in html
    # revenue's target: the reps' targets of the period, as quota attainment prorates them
    quota = get_metric("quota_attainment")(report.wh, report.filters)
    line = next(x for x in lines_of(report).shown if x.name == "revenue")
    assert line.target == pytest.approx(quota["target"].sum())
    assert line.target_source == "targets table" and line.basis == "target"
    assert value_text(line.target, "currency") in html
    assert line.status == sc.kpi_status(revenue.value, line.target)


# -- status rules and targets from a config --------------------------------------------------

def configured(tmp_path, warehouse: str, text: str):
    path = tmp_path / "crm.yaml"
    path.write_text(f"source: {SAMPLE}\n{text}", encoding="utf-8")
    return open_report("kpi_scorecard", warehouse=warehouse, config=str(path))


def line_of(report, name: str):
    return next(x for x in lines_of(report).shown if x.name == name)


def test_a_config_sets_targets_and_the_status_rules(tmp_path, warehouses):
    folder = warehouses["retail"]
    base = line_of(open_report("kpi_scorecard", warehouse=folder), "revenue")
    target = base.value / 0.95  # 95% of target: at risk by default (at_risk 0.9)
    report = configured(tmp_path, folder, f"targets: {{revenue: {target}, nps: 40}}\n")
    line = line_of(report, "revenue")
    assert (line.target, line.target_source, line.status) == (target, "config", "at risk")
    assert line.reached == pytest.approx(0.95)
    nps = line_of(report, "nps")  # NPS +1 against 40: far short, outside its interval
    assert (nps.target, nps.status) == (40, "off track")

    stricter = configured(tmp_path, folder,
                          f"targets: {{revenue: {target}}}\nscorecard: {{at_risk: 0.97}}\n")
    assert line_of(stricter, "revenue").status == "off track"
    own = configured(tmp_path, folder, f"targets: {{revenue: {target}}}\n"
                                       "scorecard: {kpis: {revenue: {on_track: 0.94}}}\n")
    assert line_of(own, "revenue").status == "on track"
    assert line_of(own, "orders").status == base_status(folder, "orders")
    # without_target: none -> a KPI without a target has no status
    none = configured(tmp_path, folder, "scorecard: {without_target: none}\n")
    assert line_of(none, "orders").status is None
    assert line_of(none, "revenue").status is not None  # the targets table still applies
    # the appendix prints the rules in force and the targets
    shown = "\n".join(o.to_html() if isinstance(o, Table) else o.markdown
                      for o in own.outputs("appendix_rules")).replace("\\", "")
    assert "crm.yaml" in shown and "0.94" in shown and "revenue" in shown


def base_status(folder: str, name: str):
    return line_of(open_report("kpi_scorecard", warehouse=folder), name).status


def test_a_target_per_year_counts_pro_rata(tmp_path, warehouses):
    report = configured(tmp_path, warehouses["retail"],
                        "targets: {orders: {value: 12000, per: year}, win_rate: 0.3}\n")
    assert line_of(report, "orders").target == pytest.approx(3000)  # a quarter: 3 months
    f = Filters(start="2025-04-01", end="2025-04-15")
    assert sc.config_target({"value": 365.25, "per": "year"}, "count", f) == pytest.approx(15)
    assert sc.config_target({"value": 0.3, "per": "year"}, "percent", f) == 0.3  # a level


@pytest.mark.parametrize(("text", "message"), [
    ("targets: {revenu: 10}\n", "no scorecard KPI named revenu"),
    ("targets: {revenue: lots}\n", "is not a number"),
    ("targets: {revenue: {value: 10, per: week}}\n", "per: month | quarter | year"),
    ("scorecard: {at_risk: high}\n", "scorecard.at_risk"),
    ("scorecard: {on_track: 0.8, at_risk: 0.9}\n", "must not be above"),
    ("scorecard: {amber: 0.9}\n", "unknown rule"),
    ("scorecard: {kpis: {nps: {kpis: {}}}}\n", "unknown rule"),
])
def test_a_wrong_setting_stops_with_a_message(tmp_path, warehouses, text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        configured(tmp_path, warehouses["retail"], text)


def test_the_status_rules():
    assert sc.kpi_status(95, 100) == "at risk"
    assert sc.kpi_status(100, 100) == "on track"
    assert sc.kpi_status(89, 100) == "off track"
    assert sc.kpi_status(89, 100, rules={"at_risk": 0.85}) == "at risk"
    # lower is better: reference / value
    assert sc.kpi_status(0.05, 0.046, better="lower") == "at risk"
    assert sc.kpi_status(0.04, 0.045, better="lower") == "on track"
    # NPS on points: 10 points short of 40 is 1 - 10/100
    assert sc.attainment(30, 40, points=100) == pytest.approx(0.9)
    assert sc.kpi_status(2, 10, points=100) == "at risk"  # 8 points short
    assert sc.kpi_status(-5, 10, points=100) == "off track"  # 15 points short
    # the reference inside the interval: never off track; on track against a past value
    assert sc.kpi_status(0.2, 0.3, interval=(0.1, 0.35)) == "at risk"
    assert sc.kpi_status(0.2, 0.3, interval=(0.1, 0.35), within_interval="on track") == \
        "on track"
    assert sc.kpi_status(0.2, 0.3, too_few=True) is None
    assert sc.kpi_status(0.2, None) is None


# -- what a reader sees ---------------------------------------------------------------------------

def shown_text(outputs) -> str:
    return "\n".join(o.markdown if isinstance(o, Text) else o.to_html() for o in outputs)


@pytest.mark.parametrize("shape", list(SAMPLES))
def test_every_section_reads_without_noise(reports, shape):
    report = reports[shape]
    for section in report.sections:
        outputs = report.outputs(section)
        assert all(isinstance(o, (Text, Table, KpiCards, KpiTable)) for o in outputs), section
        text = shown_text(outputs)
        assert not NOISE.search(re.sub(r"base64,[^'\"]+", "", text)), (section, text[:300])
    summary = shown_text(report.outputs("summary"))
    assert f"{len(lines_of(report).shown)} KPIs shown" in summary
    assert report.outputs("conclusions")


def test_the_appendix_lists_what_is_not_shown_and_defines_only_what_is(reports):
    report = reports["b2b"]
    lines = lines_of(report)
    table = report.outputs("appendix_not_shown")[0].frame
    assert list(table["KPI"]) == [x["title"] for x in lines.left_out]
    assert "needs orders" in set(table["why not shown"])
    report.outputs("sales")  # every section asked its KPIs before the definitions
    defined = set(report.outputs("appendix_definitions")[0].frame["title"])
    assert {line.title for line in lines.shown} <= defined
    assert not defined & {x["title"] for x in lines.left_out}
    assert {"Status", "Change vs previous period"} <= defined


def test_the_headline_cards_are_the_first_five_supported(reports):
    (cards,) = reports["retail"].outputs("cards")
    assert [line.name for line in cards.lines] == ["revenue", "orders", "nps", "csat",
                                                   "churn_rate"]
    (cards,) = reports["subscription"].outputs("cards")
    assert [line.name for line in cards.lines] == ["nps", "csat", "snapshot_churn_rate",
                                                   "revenue_at_risk"]
    assert "as of the data" in cards.to_html()
