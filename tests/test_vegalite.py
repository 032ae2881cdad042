"""The filter panel's charts as Vega-Lite specs: the same bars, order and labels as the
report's PNG charts, valid JSON, and one spec per Chart."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from crmkit import charts, i18n, vegalite
from crmkit.metrics.results import Rate


@pytest.fixture(autouse=True)
def _english():
    """Specs in English, whatever language a report opened before activated."""
    with i18n.using("en"):
        yield


def layer_values(spec: dict) -> list[dict]:
    return spec["data"]["values"]


def as_json(spec: dict) -> dict:
    # allow_nan=False: NaN is not JSON; a browser would reject the whole output
    return json.loads(json.dumps(spec, allow_nan=False))


REGIONS = pd.DataFrame({"region": ["West", "East", "$5 store", "North"],
                        "revenue": [200.0, 1_500_000.0, 50.0, np.nan],
                        "share": [0.1, 0.85, 0.05, np.nan]})


def test_bar_has_the_png_order_and_labels():
    spec = vegalite.bar(REGIONS, x="revenue", y="region", share="share")
    frame, labels = charts.bar_frame(REGIONS, x="revenue", y="region", share="share")
    rows = layer_values(as_json(spec))
    assert [r["name"] for r in rows] == list(frame["region"]) == \
        ["East", "West", "$5 store", "North"]
    assert [r["label"] for r in rows] == labels
    assert rows[0]["label"] == "1.5M (85.0%)"
    assert rows[-1]["value"] is None  # a missing value is JSON null, not NaN


def test_bar_top_sums_the_rest_into_other():
    spec = vegalite.bar(REGIONS.dropna(), x="revenue", y="region", share="share", top=1)
    rows = layer_values(spec)
    assert [r["name"] for r in rows] == ["East", charts.CHART_TEXT["en"]["other"]]
    assert rows[1]["value"] == pytest.approx(250.0)
    # the scale leaves room past the longest bar for its label
    domain = spec["encoding"]["x"]["scale"]["domain"]
    assert domain[0] == 0 and domain[1] > 1_500_000


def test_leaderboard_orders_by_attainment_and_marks_the_target():
    quota = pd.DataFrame({"sales_rep": ["Ann", "Bob", "Cy"], "revenue": [90.0, 120.0, 50.0],
                          "target": [100.0, 100.0, np.nan]})
    spec = as_json(vegalite.leaderboard(quota))
    rows = layer_values(spec)
    assert [r["name"] for r in rows] == ["Bob", "Ann", "Cy"]
    assert [r["label"] for r in rows] == ["120.0%", "90.0%", "no target"]
    assert [r["status"] for r in rows] == ["met", "below target", "no target"]
    assert rows[2]["target"] is None
    assert [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
            for layer in spec["layer"]] == ["bar", "tick", "text"]


def test_funnel_labels_share_of_the_first_stage():
    stages = pd.DataFrame({"stage": ["Created", "Won"], "leads": [200, 50]})
    rows = layer_values(vegalite.funnel(stages, count="leads"))
    assert [r["label"] for r in rows] == ["200 (100.0%)", "50 (25.0%)"]
    assert rows[1]["left"] == -25.0 and rows[1]["right"] == 25.0


def test_rate_bars_label_too_few_on_two_lines_and_name_the_overall_rate():
    rates = pd.DataFrame({"source": ["Email", "Events", "Fax"], "numerator": [40, 2, 0],
                          "denominator": [100, 12, 0], "value": [0.4, 1 / 6, np.nan],
                          "ci_low": [0.31, 0.05, np.nan], "ci_high": [0.5, 0.45, np.nan],
                          "too_few": [False, True, True]})
    overall = Rate(value=0.38, numerator=42, denominator=112, ci_low=0.3, ci_high=0.47,
                   too_few=False)
    spec = as_json(vegalite.rate_bars(rates, x="source", reference=overall,
                                      title="Conversion by source"))
    rows = layer_values(spec)
    assert [r["label"] for r in rows] == ["40.0%", "too few\n(n=12)", "no data"]
    assert (rows[1]["first_line"], rows[1]["last_line"]) == ("too few", "(n=12)")
    assert (rows[0]["first_line"], rows[0]["last_line"]) == ("", "40.0%")
    assert rows[2]["value"] is None and rows[2]["anchor"] == 0.0
    assert " ".join(spec["title"]["text"]) == "Conversion by source (dashed: overall 38.0%)"
    reference = spec["layer"][-1]
    assert reference["data"]["values"] == [{"level": 0.38}] and "x" not in reference["encoding"]


def test_trend_dashes_last_year_moved_forward_a_year():
    months = pd.to_datetime(["2025-04-01", "2025-05-01"])
    current = pd.DataFrame({"period": months, "revenue": [10.0, 12.0]})
    before = pd.DataFrame({"period": months - pd.DateOffset(years=1), "revenue": [8.0, 9.0]})
    spec = as_json(vegalite.trend(current, x="period", y="revenue", previous=before))
    rows = layer_values(spec)
    assert [(r["x"], r["y"], r["kind"]) for r in rows] == [
        ("2025-04-01", 10.0, "current"), ("2025-05-01", 12.0, "current"),
        ("2025-04-01", 8.0, "previous year"), ("2025-05-01", 9.0, "previous year")]
    (line,) = [layer for layer in spec["layer"] if layer["mark"]["type"] == "line"]
    assert line["encoding"]["y"]["scale"]["zero"] is True


def test_survival_draws_steps_and_bands_per_group():
    curves = pd.DataFrame({"group": ["a", "a", "b", "b"], "time": [0, 3, 0, 3],
                           "survival": [1.0, 0.8, 1.0, 0.6], "ci_lower": [1, 0.7, 1, 0.5],
                           "ci_upper": [1, 0.9, 1, 0.7]})
    spec = as_json(vegalite.survival(curves))
    assert [layer["mark"]["interpolate"] for layer in spec["layer"]] == ["step-after"] * 2
    assert {r["series"] for r in layer_values(spec)} == {"a", "b"}


def test_a_chart_of_panels_is_one_spec_side_by_side_and_fits_the_output_area():
    chart = charts.Chart((charts.panel("bar", REGIONS, x="revenue", y="region", title="A"),
                          None,
                          charts.panel("bar", REGIONS, x="revenue", y="region", title="B")),
                         size=(15, 3.6))
    spec = as_json(vegalite.spec(chart))
    assert spec["$schema"].endswith("vega-lite/v5.json")
    assert [view["title"]["text"] for view in spec["hconcat"]] == [["A"], ["B"]]
    assert sum(view["width"] for view in spec["hconcat"]) <= vegalite.MAX_WIDTH
    assert spec["config"]["range"]["category"] == charts.PALETTE
    data, metadata = vegalite.mime_bundle(chart)
    assert data[vegalite.MIME] == vegalite.spec(chart)
    assert metadata[vegalite.MIME]["embed_options"]["actions"] is False


def test_the_same_chart_drawn_by_matplotlib_keeps_the_empty_slot():
    chart = charts.Chart((charts.panel("bar", REGIONS, x="revenue", y="region"), None),
                         size=(10, 3))
    fig = chart.figure()
    try:
        assert [ax.get_visible() for ax in fig.axes] == [True, False]
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert labels == ["East", "West", r"\$5 store", "North"]
        assert tuple(fig.get_size_inches()) == (10, 3)
        assert repr(chart) == "Chart(bar, -; 10x3 in)"  # not the data frames
        bundle = chart._repr_mimebundle_()  # a notebook cell shows the PNG
        assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_every_chart_kind_has_a_builder():
    assert set(vegalite.BUILDERS) == set(charts.CHARTS)
    assert vegalite.supports(charts.chart("bar", REGIONS, x="revenue", y="region"))
    assert not vegalite.supports(charts.chart("sankey", REGIONS))  # drawn as a PNG


@pytest.mark.parametrize("by", ["", "segment"])
def test_every_chart_of_the_reports_draws_both_ways(sample_warehouse, by):
    """Each Chart a report section returns draws with matplotlib (the report's PNG) and,
    for the kinds with a builder, as a Vega-Lite spec that is valid JSON with data."""
    import matplotlib.pyplot as plt

    from crmkit.sections import REPORTS, open_report

    kinds = set()
    for name in REPORTS:
        report = open_report(name, warehouse=str(sample_warehouse), by=by)
        for section in report.sections:
            for item in report.outputs(section):
                if not isinstance(item, charts.Chart):
                    continue
                plt.close(item.figure())
                kinds |= {p.kind for p in item.panels if p is not None}
                if vegalite.supports(item):
                    spec = as_json(vegalite.spec(item))
                    views = [spec] if "data" in spec or "layer" in spec else [
                        v for row in spec.get("vconcat", [spec]) for v in
                        row.get("hconcat", [row])]
                    assert views and all(v["data"]["values"] for v in views), (name, section)
    assert kinds == set(charts.CHARTS)  # every kind is used by some report
