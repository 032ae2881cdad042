"""The filter panel, driven programmatically: no browser, widgets without a frontend."""

from __future__ import annotations

import json
import shlex
import threading
import time

import ipywidgets
import pandas as pd
import pytest

from crmkit.metrics import Filters, get_metric
from crmkit.metrics.results import format_value
from crmkit.report.cli import parse_params
from crmkit.report.mode import BATCH_ENV, is_interactive
from crmkit.sections import open_report
from crmkit.sections.base import Report, Text
from crmkit.sections.widgets import (
    ALL,
    FilterPanel,
    filter_options,
    render_command,
)
from crmkit.warehouse import Warehouse
from tests.conftest import SAMPLE

START, END = "2025-04-01", "2025-06-30"
QUICK = 0.02  # debounce for tests that do not test it


@pytest.fixture
def displayed(monkeypatch):
    """What the notebook would show: every object passed to IPython's display."""
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    return shown


@pytest.fixture(scope="module")
def options(sample_warehouse):
    wh = Warehouse.open(sample_warehouse)
    yield filter_options(wh)
    wh.close()


@pytest.fixture
def sales(sample_warehouse):
    return open_report("sales_performance", warehouse=str(sample_warehouse), start=START,
                       end=END)


def live(report: Report, options=None, *, debounce: float = QUICK,
         sections=("scope", "summary")) -> FilterPanel:
    """A panel on ``report`` with ``sections`` shown, as report.filter_panel() makes it."""
    panel = FilterPanel(report, options=options, debounce=debounce)
    report.panel = panel
    for section in sections:
        report.show(section)
    return panel


def markdown(panel: FilterPanel, section: str) -> str:
    return "\n".join(o["data"]["text/markdown"] for o in panel.views[section].outputs
                     if "text/markdown" in o["data"])


def command_filters(command: str) -> Filters:
    """The Filters a `crmkit render` command sets, read back the way the CLI reads it."""
    words = shlex.split(command)
    params = [words[i + 1] for i, word in enumerate(words) if word == "--param"]
    (values,) = parse_params(params)
    return Filters.from_params(values)


# -- options and initial values --------------------------------------------------------

def test_options_come_from_the_data(options):
    orders = pd.read_csv(SAMPLE / "orders.csv")
    customers = pd.read_csv(SAMPLE / "customers.csv")
    assert options.dimensions["region"] == tuple(
        sorted(set(orders["region"].dropna()) | set(customers["region"].dropna())))
    assert options.dimensions["segment"] == tuple(sorted(customers["segment"].dropna().unique()))
    assert options.dimensions["channel"] == tuple(sorted(orders["channel"].dropna().unique()))
    assert options.dimensions["category"] == tuple(sorted(orders["category"].dropna().unique()))
    assert set(orders["sales_rep"].dropna()) <= set(options.dimensions["sales_rep"])
    assert "product" not in options.dimensions
    dates = pd.to_datetime(orders["order_date"])
    assert (options.first_day, options.last_day) == (dates.min().date(), dates.max().date())
    assert options.breakdowns[:2] == ["region", "segment"]


def test_initial_values_come_from_the_parameters(sample_warehouse, options):
    report = open_report("sales_performance", warehouse=str(sample_warehouse), start=START,
                         end=END, region="East,West", channel="Online", product="Monitor 27",
                         by="channel")
    panel = FilterPanel(report, options=options)
    assert (panel.start.value, panel.end.value) == (pd.Timestamp(START).date(),
                                                    pd.Timestamp(END).date())
    assert panel.dimension_widgets["region"].value == ("East", "West")
    assert panel.dimension_widgets["region"].label == "East or West"
    assert panel.dimension_widgets["channel"].value == "Online"
    assert panel.dimension_widgets["segment"].value == ALL
    assert panel.breakdown.value == "channel"
    filters, by = panel.current()
    assert filters == report.filters  # product has no widget: its parameter still applies
    assert by == "channel"
    assert command_filters(panel.command_text) == report.filters
    panel.close()


# -- a change redraws with the filtered numbers ------------------------------------------

def test_region_change_redraws_with_the_filtered_kpis(sales, options, displayed):
    panel = live(sales, options)
    assert [type(o).__name__ for o in displayed] == ["Output", "Output"]
    all_regions = markdown(panel, "summary")

    panel.dimension_widgets["region"].value = "East"
    panel.wait()

    east = Filters(start=START, end=END, region="East")
    revenue = get_metric("revenue")(sales.wh, east)
    orders = get_metric("orders")(sales.wh, east)
    summary = markdown(panel, "summary")
    assert summary != all_regions
    assert format_value(revenue.value, "currency") in summary
    assert format_value(orders.value, "count") in summary
    assert "region\\: East" in markdown(panel, "scope")
    assert len(panel.redraws) == 1 and panel.redraws[0].filters == east
    assert "up to date" in panel.status.value
    # the notebook's report follows the panel; params hold what a notebook parameter holds
    assert sales.filters == east and sales.params["region"] == "East"
    assert sales.kpi("revenue") == revenue
    assert panel.command_text == (
        f"crmkit render sales_performance --param warehouse={sales.wh.location} "
        "--param start=2025-04-01 --param end=2025-06-30 --param region=East")

    panel.dimension_widgets["region"].value = ALL
    panel.wait()
    assert markdown(panel, "summary") == all_regions
    assert sales.params["region"] == ""
    panel.close()


def test_charts_are_vega_lite_specs_of_the_filtered_kpis(sales, options, displayed):
    from crmkit import vegalite

    panel = live(sales, options, sections=("breakdowns", "leaderboard"))
    panel.dimension_widgets["channel"].value = "Online"
    panel.wait()

    online = Filters(start=START, end=END, channel="Online")
    (chart,) = [o for o in panel.views["breakdowns"].outputs if vegalite.MIME in o["data"]]
    assert "image/png" not in chart["data"]  # the browser draws it: no PNG made
    json.dumps(chart["data"], allow_nan=False)  # valid JSON, as the frontend gets it
    views = {v["title"]["text"][0]: v["data"]["values"]
             for v in chart["data"][vegalite.MIME]["hconcat"]}
    by_region = get_metric("revenue_distribution")(sales.wh, online, by="region")
    assert {r["name"]: r["value"] for r in views["By region"]} == pytest.approx(
        dict(zip(by_region["region"], by_region["revenue"])))
    assert [r["name"] for r in views["By channel"]] == ["Online"]
    quota = get_metric("quota_attainment")(sales.wh, online)
    (board,) = [o for o in panel.views["leaderboard"].outputs if vegalite.MIME in o["data"]]
    rows = board["data"][vegalite.MIME]["data"]["values"]
    assert {r["name"]: r["actual"] for r in rows} == pytest.approx(
        dict(zip(quota["sales_rep"], quota["revenue"])))
    panel.close()


def test_period_change_redraws(sales, options, displayed):
    panel = live(sales, options)
    panel.start.value = pd.Timestamp("2025-01-01").date()
    panel.wait()
    half = Filters(start="2025-01-01", end=END)
    revenue = get_metric("revenue")(sales.wh, half)
    assert format_value(revenue.value, "currency") in markdown(panel, "summary")
    assert "1 Jan 2025 – 30 Jun 2025" in markdown(panel, "scope")
    assert command_filters(panel.command_text) == half
    panel.close()


def test_a_cleared_date_is_the_first_order_day(sales, options, displayed):
    panel = live(sales, options, sections=("scope",))
    panel.start.value = None
    panel.wait()
    assert sales.filters.start == pd.Timestamp(options.first_day)
    assert f"--param start={options.first_day:%Y-%m-%d}" in panel.command_text
    panel.close()


def test_an_invalid_period_says_so_and_keeps_the_view(sales, options, displayed):
    panel = live(sales, options, sections=("scope",))
    before = markdown(panel, "scope")
    panel.end.value = pd.Timestamp("2025-01-01").date()  # before the start
    panel.wait()
    assert "crmkit-status-error" in panel.status.value
    assert "ends" in panel.status.value and "before it starts" in panel.status.value
    assert panel.redraws == [] and markdown(panel, "scope") == before
    assert sales.filters.end == pd.Timestamp(END)
    panel.close()


def test_breakdown_change_reaches_the_sections(sales, options, displayed):
    panel = live(sales, options, sections=("revenue_over_time",))
    panel.breakdown.value = "channel"
    panel.wait()
    assert sales.by == "channel" and sales.params["by"] == "channel"
    table = [o["data"]["text/html"] for o in panel.views["revenue_over_time"].outputs
             if "text/html" in o["data"]][0]
    assert "<th>channel</th>" in table
    assert panel.command_text.endswith("--param by=channel")
    panel.close()


def test_views_seen_before_are_not_recomputed(sales, options, displayed, monkeypatch):
    panel = live(sales, options)
    calls = []
    outputs = Report.outputs
    monkeypatch.setattr(Report, "outputs",
                        lambda self, section: calls.append(section) or outputs(self, section))
    for region in ("East", ALL, "East", ALL):
        panel.dimension_widgets["region"].value = region
        panel.wait()
    assert calls == ["scope", "summary"]  # East once; "All" was drawn when shown
    panel.close()


def test_showing_a_section_again_moves_its_live_view(sales, options, displayed):
    panel = live(sales, options, sections=("scope",))
    first = panel.views["scope"]
    sales.show("scope")  # the cell run again
    assert panel.views["scope"] is not first
    panel.dimension_widgets["segment"].value = "SMB"
    panel.wait()
    assert "segment\\: SMB" in markdown(panel, "scope")
    assert "segment" not in first.outputs[0]["data"]["text/markdown"]
    panel.close()


# -- attributes ----------------------------------------------------------------------------

@pytest.fixture
def small_warehouse():
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"],
        "order_date": pd.to_datetime(["2025-01-05", "2025-01-06", "2025-02-01", "2025-03-01"]),
        "amount": [100.0, 200.0, 50.0, 25.0], "customer_id": ["c1", "c2", "c1", "c3"],
        "region": ["East", "West", "East", "West"], "status": ["completed"] * 4,
        "plan": ["Pro", "Basic", "Pro", "Basic"],
        "order_note": [f"note {i}" for i in range(4)]})
    customers = pd.DataFrame({"customer_id": ["c1", "c2", "c3"],
                              "segment": ["SMB", "SMB", "Enterprise"],
                              "contract": ["Monthly", "Two year", "Monthly"]})
    return Warehouse.from_frames({"orders": orders, "customers": customers})


def revenue_section(report: Report) -> list:
    return [Text(f"revenue {report.kpi('revenue').value:.2f}; by {report.by}")]


def tiny_report(wh, sections=None, **filters) -> Report:
    filters = Filters(start="2025-01-01", end="2025-03-31", **filters)
    return Report("sales_performance", "Tiny", wh, filters,
                  {"source": "", "config": "", "by": "", "language": "en"},
                  sections or {"revenue": revenue_section})


def test_attribute_columns_get_a_dropdown_and_filter(small_warehouse, displayed):
    options = filter_options(small_warehouse, max_attribute_values=3)
    assert options.attributes == {"plan": ("Basic", "Pro"), "contract": ("Monthly", "Two year")}
    assert "order_note" not in options.attributes  # four values: more than 3
    assert options.breakdowns == ["region", "segment", "plan", "contract"]
    report = tiny_report(small_warehouse, attributes={"plan": "Pro"})
    panel = live(report, options, sections=("revenue",))
    assert panel.attribute_widgets["plan"].value == "Pro"
    assert markdown(panel, "revenue") == "revenue 150.00; by None"

    panel.attribute_widgets["plan"].value = ALL
    panel.attribute_widgets["contract"].value = "Monthly"
    panel.breakdown.value = "contract"
    panel.wait()
    assert report.filters.attributes == {"contract": "Monthly"}
    assert markdown(panel, "revenue") == "revenue 175.00; by contract"
    command = panel.command_text
    assert """--param 'attributes={"contract": "Monthly"}'""" in command
    assert command_filters(command) == report.filters
    assert f"--param warehouse={small_warehouse.location}" in command  # no source: the folder
    panel.close()


# -- the command ------------------------------------------------------------------------------

def test_render_command_names_source_filters_breakdown_and_language():
    filters = Filters(start="2025-01-01", end="2025-03-31", region=["East", "West"],
                      sales_rep="Łukasz Nowak", attributes={"contract": "Two year"})
    command = render_command("churn", filters, by="segment",
                             params={"source": "exports/my crm", "language": "zh"})
    assert command == (
        "crmkit render churn --source 'exports/my crm' --param start=2025-01-01 "
        "--param end=2025-03-31 --param region=East,West "
        "--param 'sales_rep=Łukasz Nowak' "
        """--param 'attributes={"contract": "Two year"}' --param by=segment """
        "--param language=zh")
    assert command_filters(command) == filters
    assert render_command("churn", Filters(), params={"source": "data/sample"}) == \
        "crmkit render churn"
    assert render_command("churn", Filters(), params={"config": "my.yaml",
                                                       "source": "x"}) == \
        "crmkit render churn --config my.yaml"


def test_the_command_parameters_are_the_notebook_parameters():
    from crmkit.report.parameters import read_parameters
    from tests.conftest import ROOT

    declared = read_parameters(ROOT / "notebooks" / "sales_performance.ipynb")
    filters = Filters(start="2025-01-01", end="2025-03-31", region="East", segment="SMB",
                      channel="Online", category="Devices", product="Monitor 27",
                      sales_rep="Mei Chen", attributes={"contract": "Two year"})
    command = render_command("sales_performance", filters, by="region",
                             params={"language": "zh"})
    words = shlex.split(command)
    names = [words[i + 1].partition("=")[0] for i, w in enumerate(words) if w == "--param"]
    assert set(names) <= set(declared)


# -- responsiveness ------------------------------------------------------------------------

def test_changes_in_quick_succession_are_debounced(small_warehouse, displayed):
    report = tiny_report(small_warehouse)
    panel = live(report, filter_options(small_warehouse), debounce=0.3,
                 sections=("revenue",))
    region = panel.dimension_widgets["region"]
    region.value = "East"  # after a quiet spell: applied at once
    region.value = "West"  # within 0.3 s of the previous change: gathered ...
    region.value = ALL
    region.value = "West"  # ... and applied 0.3 s after the last
    panel.wait()
    assert [r.filters.region for r in panel.redraws] in (["West"], ["East", "West"])
    assert panel.redraws[-1].seconds >= 0.3
    assert markdown(panel, "revenue") == "revenue 225.00; by None"
    panel.close()


def test_a_slow_section_never_blocks_the_panel(small_warehouse, displayed):
    release = threading.Event()

    def slow(report):
        if report.filters.region:  # the first draw is quick; a filtered one waits
            release.wait(10)
        return revenue_section(report)

    report = tiny_report(small_warehouse, {"slow": slow})
    panel = live(report, filter_options(small_warehouse), sections=("slow",))
    panel.dimension_widgets["region"].value = "East"
    # The event handler has returned (we are here) while the section cannot have finished:
    # it waits for `release`, set only below.
    assert not release.is_set()
    time.sleep(0.1)
    assert "working…" in panel.status.value
    panel.dimension_widgets["region"].value = "West"  # taken while the worker is busy
    assert "working…" in panel.status.value
    release.set()
    panel.wait()
    assert markdown(panel, "slow") == "revenue 225.00; by None"
    assert "up to date" in panel.status.value
    panel.close()


def test_a_failing_section_says_so_and_the_others_redraw(small_warehouse, displayed):
    def broken(report):
        if report.filters.region:
            raise ValueError("boom <b>")
        return [Text("fine")]

    report = tiny_report(small_warehouse, {"broken": broken, "revenue": revenue_section})
    panel = live(report, filter_options(small_warehouse), sections=("broken", "revenue"))
    panel.dimension_widgets["region"].value = "East"
    panel.wait()
    assert "ValueError: boom &lt;b>" in markdown(panel, "broken")
    assert markdown(panel, "revenue") == "revenue 150.00; by None"
    assert "could not be drawn: broken" in panel.status.value
    assert panel.redraws[-1].failed == ("broken",)
    panel.close()


# -- batch or interactive ---------------------------------------------------------------

@pytest.fixture
def constructed(monkeypatch):
    """Every widget constructed during the test."""
    made = []
    monkeypatch.setattr(ipywidgets.Widget, "_widget_construction_callback", made.append)
    return made


def test_batch_mode_prints_the_filters_and_creates_no_widget(sample_warehouse, monkeypatch,
                                                               displayed, constructed):
    monkeypatch.setattr("crmkit.report.mode.in_kernel", lambda: True)
    monkeypatch.setenv(BATCH_ENV, "1")
    assert not is_interactive()
    report = open_report("sales_performance", warehouse=str(sample_warehouse), start=START,
                         end=END, region="East")
    report.filter_panel()
    report.show("summary")
    assert constructed == [] and report.panel is None
    assert [type(o).__name__ for o in displayed[:2]] == ["Markdown", "Markdown"]
    assert "1 Apr 2025 – 30 Jun 2025; region\\: East" in displayed[0].data


def test_outside_a_kernel_is_batch_too(monkeypatch):
    monkeypatch.delenv(BATCH_ENV, raising=False)
    assert not is_interactive()  # pytest is no kernel


def test_interactive_mode_shows_the_panel(sample_warehouse, options, monkeypatch, displayed,
                                          constructed):
    monkeypatch.setattr("crmkit.report.mode.in_kernel", lambda: True)
    monkeypatch.delenv(BATCH_ENV, raising=False)
    monkeypatch.setattr("crmkit.sections.widgets.filter_options", lambda wh: options)
    report = open_report("sales_performance", warehouse=str(sample_warehouse), start=START,
                         end=END)
    report.filter_panel()
    assert isinstance(report.panel, FilterPanel)
    assert displayed[0] is report.panel.widget
    assert isinstance(displayed[1], ipywidgets.Output)  # the scope line, live
    assert constructed
    report.panel.close()
    assert report.panel is None


def test_crmkit_render_starts_kernels_in_batch_mode(tmp_path, monkeypatch):
    import nbformat

    from crmkit.report import execute

    seen = {}

    def fake_execute(nb, out, **kw):
        seen.update(kw["kernel_manager_class"].extra_env)
        return nb

    monkeypatch.setattr(execute, "execute_notebook", fake_execute)
    notebook = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), notebook)
    execute.execute(notebook, values={}, secrets={}, shown={}, secret_texts=[], cwd=tmp_path)
    assert seen[BATCH_ENV] == "1"


def test_with_filters_replaces_every_filter_parameter(sales):
    east = sales.with_filters(Filters(start=START, end=END, region="East",
                                      attributes={"plan": ["Pro", "Max"]}), by="segment")
    back = east.with_filters(Filters(start=START, end=END))
    assert east.params["region"] == "East" and east.params["by"] == "segment"
    assert json.loads(east.params["attributes"]) == {"plan": ["Pro", "Max"]}
    assert back.params["region"] == "" and back.params["attributes"] == ""
    assert back.by == "segment" and back.params["source"] == sales.params["source"]


def test_a_breakdown_change_redraws_only_the_sections_that_use_it(sales, options, displayed,
                                                                 monkeypatch):
    """Sections that did not read the breakdown (or the parameters) while drawn are kept
    for every breakdown; the others are redrawn."""
    panel = live(sales, options, sections=("summary", "revenue_over_time",
                                           "appendix_parameters"))
    summary = panel.views["summary"].outputs
    drawn = []
    original = Report.outputs_and_breakdown
    monkeypatch.setattr(Report, "outputs_and_breakdown",
                        lambda self, section: drawn.append(section) or original(self, section))
    panel.breakdown.value = "channel"
    panel.wait()
    assert drawn == ["revenue_over_time", "appendix_parameters"]
    assert panel.views["summary"].outputs == summary
    parameters = [o["data"]["text/html"] for o in panel.views["appendix_parameters"].outputs][0]
    assert "<td>by</td>" in parameters and "<td>channel</td>" in parameters
    panel.close()


def test_render_command_never_shows_a_database_password():
    command = render_command("churn", Filters(start="2025-01-01", end="2025-03-31"),
                             params={"source": "postgresql://crm:s3cr3t@db.example/crm"})
    assert "s3cr3t" not in command
    assert "postgresql://crm:***@db.example/crm" in command
