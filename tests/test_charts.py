"""Charts, checked through the matplotlib objects they draw (no image comparison)."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import json
import pandas as pd
import pytest
from matplotlib import cbook, font_manager
from matplotlib import colors as mcolors
from matplotlib import dates as mdates

from crmkit import charts, i18n
from crmkit.metrics.results import Rate, rate_frame
from tests.conftest import ROOT

CHINESE = "华东地区收入"  # "East China revenue"
ROOT_CONFTEST = Path(__file__).parent / "conftest.py"


@pytest.fixture
def need(pytestconfig):
    """tests/conftest.py's ``need`` (skip, or fail under CI=true), asked of pytest.

    Not ``from conftest import need``: every conftest.py outside a package is imported as
    the module "conftest" and in a full run tests/metrics/conftest.py wins that name.
    """
    for plugin in pytestconfig.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if path and Path(path).exists() and Path(path).samefile(ROOT_CONFTEST):
            return plugin.need
    raise LookupError(f"{ROOT_CONFTEST} is not loaded")


@pytest.fixture(autouse=True)
def _restore_theme():
    """Each test's theme changes are undone, and each test sees the one-time warnings.
    English: a report opened in another language before (open_report activates its
    language) does not carry over."""
    charts._WARNED.clear()
    with mpl.rc_context(), i18n.using("en"):
        yield
    charts._WARNED.clear()


def draw_without_warnings(fig) -> None:
    """Render to PNG with every warning an error: a missing glyph fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png")


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def ticklabels(labels) -> list[str]:
    return [t.get_text() for t in labels]


def title_of(ax) -> str:
    """The title wherever the theme put it (the report theme puts it on the left)."""
    return "".join(ax.get_title(loc=loc) for loc in ("left", "center", "right"))


def color_of(patch) -> str:
    return mcolors.to_hex(patch.get_facecolor())


# -- theme and fonts ---------------------------------------------------------------------

def test_import_changes_no_global_state():
    # In a fresh interpreter: reloading the module here would replace its classes
    # (Chart, Panel) under the other tests' feet.
    code = ("import matplotlib as mpl; before = dict(mpl.rcParams); import crmkit.charts; "
            "changed = [k for k, v in mpl.rcParams.items() if before[k] != v]; "
            "assert not changed, changed")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_use_theme_sets_report_rc():
    charts.use_theme()
    assert tuple(mpl.rcParams["figure.figsize"]) == charts.FIGSIZE
    assert mpl.rcParams["axes.grid"] is True
    cycle = [mcolors.to_hex(c["color"]) for c in mpl.rcParams["axes.prop_cycle"]]
    assert cycle == charts.PALETTE


def test_use_theme_rejects_unknown_language():
    with pytest.raises(ValueError, match="Unknown language 'fr'.*en, zh"):
        charts.use_theme("fr")


def test_chinese_theme_selects_a_cjk_font_that_has_the_glyphs(need):
    family = charts.cjk_font()
    need(family is not None, "a CJK font (Debian: fonts-noto-cjk)")
    assert charts.use_theme("zh") == family
    assert mpl.rcParams["font.family"][0] == family
    path = font_manager.findfont(font_manager.FontProperties(family=family),
                                 fallback_to_default=False)
    font = font_manager.get_font(path)
    assert "CJK" in font.family_name or family in font.family_name
    assert all(font.get_char_index(ord(ch)) for ch in CHINESE)

    frame = pd.DataFrame({"地区": ["华东", "华南", "$5 礼品卡"], "收入": [300.0, 200.0, 100.0]})
    ax = charts.bar(frame, x="收入", y="地区", title=CHINESE)
    assert title_of(ax) == CHINESE
    draw_without_warnings(ax.figure)


def test_english_theme_still_renders_chinese_names(need):
    family = charts.cjk_font()
    need(family is not None, "a CJK font (Debian: fonts-noto-cjk)")
    charts.use_theme("en")
    assert mpl.rcParams["font.family"] == ["sans-serif", family]  # Latin font first
    frame = pd.DataFrame({"region": ["华东", "West"], "revenue": [2.0, 1.0]})
    draw_without_warnings(charts.bar(frame, x="revenue", y="region").figure)


def test_cjk_font_installed_after_matplotlibs_cache_is_found(monkeypatch, need):
    need(charts.cjk_font() is not None, "a CJK font (Debian: fonts-noto-cjk)")
    # matplotlib's cached font list predates the install: it has no CJK entry.
    stale = [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    assert charts.cjk_font() is not None


def test_missing_cjk_font_is_warned_once(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda *args, **kwargs: None)
    with pytest.warns(charts.CJKFontWarning, match="No CJK font found.*fonts-noto-cjk"):
        assert charts.use_theme("zh") is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        charts.use_theme("zh")  # said once is enough


def test_chinese_data_without_a_cjk_font_selected_warns():
    mpl.rcParams["font.family"] = ["DejaVu Sans"]
    frame = pd.DataFrame({"region": ["华东"], "revenue": [1.0]})
    with pytest.warns(charts.CJKFontWarning, match="use_theme|No CJK font"):
        charts.bar(frame, x="revenue", y="region")


def test_latin_data_is_not_checked_for_fonts():
    mpl.rcParams["font.family"] = ["DejaVu Sans"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        charts.bar(pd.DataFrame({"region": ["East"], "revenue": [1.0]}), x="revenue",
                   y="region")


# -- formatting --------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (0, "0"), (0.5, "0.5"), (12.25, "12.25"), (1234, "1,234"), (-1500, "-1,500"),
    (999_999, "999,999"), (1_200_000, "1.2M"), (1_234_567, "1.23M"), (2e9, "2B"),
    (np.nan, ""),
])
def test_compact_number(value, text):
    assert charts.compact_number(value) == text


def test_compact_formatter_uses_one_unit_per_axis():
    formatter = charts.CompactFormatter()
    assert formatter.format_ticks([0, 500_000, 1_000_000, 1_500_000]) == [
        "0", "0.5M", "1M", "1.5M"]
    assert formatter.format_ticks([0, 2_500, 5_000]) == ["0", "2,500", "5,000"]


@pytest.mark.parametrize("unit, value, text", [
    ("currency", 1_234_567.0, "1.23M"), ("currency", 1234.4, "1,234"),
    ("count", 1234.0, "1,234"), ("percent", 0.1234, "12.3%"), ("nps", 12.0, "+12"),
    ("score", 4.213, "4.21"), ("currency", np.nan, ""),
])
def test_value_text(unit, value, text):
    assert charts.value_text(value, unit) == text


def test_plain_text_escapes_dollars_so_no_mathtext():
    text = charts.plain_text("$5 and $10 gift cards")
    assert text == r"\$5 and \$10 gift cards"
    assert not cbook.is_math_text(text)
    assert charts.plain_text(None) == "(blank)"


# -- axes handling -----------------------------------------------------------------------

SALES = pd.DataFrame({
    "product": ["Widget", "$5 gift card", "Gadget", "Gizmo"],
    "revenue": [560_000.0, 12_000.0, 1_500_000.0, 3_000.0],
    "share": [0.2684, 0.0058, 0.7244, 0.0014],
})


def test_chart_draws_on_given_axes_and_sets_only_its_title():
    fig, (left, right) = plt.subplots(1, 2)
    ax = charts.bar(SALES, x="revenue", y="product", ax=right, title="Revenue")
    assert ax is right
    assert title_of(right) == "Revenue" and title_of(left) == ""
    assert fig._suptitle is None and len(left.patches) == 0


def test_chart_without_axes_uses_current_or_new_figure():
    ax = charts.trend(pd.DataFrame({"period": pd.date_range("2025-01-01", periods=3,
                                                            freq="MS"),
                                    "revenue": [1.0, 2.0, 3.0]}), x="period", y="revenue")
    assert tuple(ax.figure.get_size_inches()) == charts.FIGSIZE
    fig, existing = plt.subplots()
    assert charts.bar(SALES, x="revenue", y="product") is existing


def test_missing_column_names_the_option():
    with pytest.raises(ValueError, match="Could not interpret value `revenu` for `x`"):
        charts.bar(SALES, x="revenu", y="product")
    with pytest.raises(TypeError, match="`data` must be a pandas DataFrame"):
        charts.bar([1, 2], x="revenue", y="product")


def test_duplicate_categories_are_refused():
    twice = pd.concat([SALES, SALES.head(1)])
    with pytest.raises(ValueError, match="more than one row for 'Widget'.*aggregate first"):
        charts.bar(twice, x="revenue", y="product")


# -- chart by chart ----------------------------------------------------------------------

def test_bar_sorts_labels_and_escapes_dollars():
    ax = charts.bar(SALES, x="revenue", y="product", share="share", alpha=0.5)
    assert [p.get_width() for p in ax.patches] == [1_500_000.0, 560_000.0, 12_000.0, 3_000.0]
    assert ticklabels(ax.get_yticklabels()) == ["Gadget", "Widget", r"\$5 gift card", "Gizmo"]
    assert not any(cbook.is_math_text(t) for t in ticklabels(ax.get_yticklabels()))
    assert texts(ax) == ["1.5M (72.4%)", "560,000 (26.8%)", "12,000 (0.6%)", "3,000 (0.1%)"]
    assert ax.yaxis_inverted()  # largest on top
    assert all(p.get_alpha() == 0.5 for p in ax.patches)  # kwargs reach barh
    assert isinstance(ax.xaxis.get_major_formatter(), charts.CompactFormatter)
    draw_without_warnings(ax.figure)


def test_bar_top_sums_the_rest_into_other():
    ax = charts.bar(SALES, x="revenue", y="product", share="share", top=2)
    assert [p.get_width() for p in ax.patches] == [1_500_000.0, 560_000.0, 15_000.0]
    assert ticklabels(ax.get_yticklabels())[-1] == "Other"
    assert texts(ax)[-1] == "15,000 (0.7%)"


def test_trend_draws_a_line_per_group_and_dashed_previous_year():
    periods = pd.date_range("2025-01-01", periods=4, freq="MS")
    now = pd.DataFrame({"period": list(periods) * 2, "region": ["East"] * 4 + ["West"] * 4,
                        "revenue": [10.0, 20.0, 30.0, 40.0, 5.0, 6.0, 7.0, 8.0]})
    before = now.assign(period=now["period"] - pd.DateOffset(years=1),
                        revenue=now["revenue"] / 2)
    ax = charts.trend(now, x="period", y="revenue", hue="region", previous=before)
    assert len(ax.lines) == 4
    east, west, east_before, west_before = ax.lines
    assert list(east.get_ydata()) == [10.0, 20.0, 30.0, 40.0]
    assert list(west_before.get_ydata()) == [2.5, 3.0, 3.5, 4.0]
    assert east_before.get_linestyle() == "--" and east.get_linestyle() == "-"
    assert east_before.get_color() == east.get_color() != west.get_color()
    # the previous year sits over the months it compares with
    np.testing.assert_array_equal(mdates.date2num(east_before.get_xdata()),
                                  mdates.date2num(east.get_xdata()))
    assert ticklabels(ax.get_legend().get_texts()) == [
        "East", "West", "East, previous year", "West, previous year"]
    assert ax.get_ylim()[0] == 0


def test_leaderboard_orders_by_attainment_and_marks_targets():
    reps = pd.DataFrame({"sales_rep": ["Ann", "Bob", "Cid", "Dee"],
                         "revenue": [120_000.0, 90_000.0, 50_000.0, 70_000.0],
                         "target": [100_000.0, 100_000.0, np.nan, 80_000.0]})
    ax = charts.leaderboard(reps)
    assert ticklabels(ax.get_yticklabels()) == ["Ann", "Bob", "Dee", "Cid"]
    assert [p.get_width() for p in ax.patches] == [120_000.0, 90_000.0, 70_000.0, 50_000.0]
    assert texts(ax) == ["120.0%", "90.0%", "87.5%", "no target"]
    targets = [segment[0][0] for segment in ax.collections[0].get_segments()]
    assert targets == [100_000.0, 100_000.0, 80_000.0]
    assert [color_of(p) for p in ax.patches] == [
        charts.MET_COLOR, charts.MISSED_COLOR, charts.MISSED_COLOR, charts.MUTED_COLOR]


def test_funnel_centres_bars_and_labels_share_of_first_stage():
    stages = pd.DataFrame({"stage": ["Leads", "Qualified", "Won"], "count": [500, 300, 117]})
    ax = charts.funnel(stages)
    assert [p.get_width() for p in ax.patches] == [500, 300, 117]
    assert [p.get_x() for p in ax.patches] == [-250, -150, -58.5]
    assert texts(ax) == ["500 (100.0%)", "300 (60.0%)", "117 (23.4%)"]
    assert ticklabels(ax.get_yticklabels()) == ["Leads", "Qualified", "Won"]


def test_heatmap_cohorts_annotates_observed_cells_only():
    from crmkit.models.segments import cohort_retention

    orders = pd.DataFrame({
        "customer_id": [1, 1, 1, 2, 2, 3, 4, 4],
        "order_date": pd.to_datetime(["2025-01-05", "2025-02-03", "2025-03-09", "2025-01-20",
                                      "2025-03-01", "2025-02-11", "2025-02-15",
                                      "2025-03-30"]),
    })
    cohorts = cohort_retention(orders)
    ax = charts.heatmap_cohorts(cohorts)
    values = cohorts.retention.to_numpy(dtype=float)
    observed = {(float(c), float(r)) for r, c in zip(*np.nonzero(np.isfinite(values)))}
    assert {t.get_position() for t in ax.texts} == observed
    assert len(ax.texts) == 5  # 3 + 2 cells observed, the NaN corner stays blank
    assert texts(ax) == ["100%", "50%", "100%", "100%", "50%"]
    assert ticklabels(ax.get_yticklabels()) == ["2025-01  n=2", "2025-02  n=2"]
    assert ticklabels(ax.get_xticklabels()) == ["0", "1", "2"]


def test_survival_draws_steps_with_bands():
    curves = pd.DataFrame({
        "group": ["basic"] * 3 + ["pro"] * 3,
        "time": [0.0, 2.0, 5.0] * 2,
        "survival": [1.0, 0.8, 0.5, 1.0, 0.9, 0.85],
        "ci_lower": [1.0, 0.6, 0.3, 1.0, 0.8, 0.7],
        "ci_upper": [1.0, 0.9, 0.7, 1.0, 0.95, 0.93],
    })
    ax = charts.survival(curves)
    assert len(ax.lines) == 2
    assert all(line.get_drawstyle() == "steps-post" for line in ax.lines)
    assert list(ax.lines[1].get_ydata()) == [1.0, 0.9, 0.85]
    assert len(ax.collections) == 2  # one confidence band per group
    assert ticklabels(ax.get_legend().get_texts()) == ["basic", "pro"]
    assert isinstance(ax.yaxis.get_major_formatter(), mpl.ticker.PercentFormatter)


def test_distribution_colours_nps_bands_and_fills_the_scale():
    rng = np.random.default_rng(3)
    responses = pd.DataFrame({"nps": rng.choice([0, 3, 6, 7, 9, 10], size=60)})
    ax = charts.distribution(responses, x="nps", y=None, scale="nps")
    counts = responses["nps"].value_counts()
    assert [p.get_height() for p in ax.patches] == [counts.get(s, 0) for s in range(11)]
    assert ticklabels(ax.get_xticklabels()) == [str(s) for s in range(11)]
    colours = [color_of(p) for p in ax.patches]
    assert colours == ([charts.NPS_COLORS["detractor"]] * 7 + [charts.NPS_COLORS["passive"]] * 2
                       + [charts.NPS_COLORS["promoter"]] * 2)
    assert texts(ax) == [f"{counts.get(s, 0):,}" for s in range(11)]


def test_distribution_of_csat_shares():
    shares = pd.DataFrame({"score": [1.0, 2.0, 4.0, 5.0], "value": [0.1, 0.2, 0.3, 0.4]})
    ax = charts.distribution(shares, scale="csat")
    assert [p.get_height() for p in ax.patches] == [0.1, 0.2, 0.0, 0.3, 0.4]
    assert ticklabels(ax.get_xticklabels()) == ["1", "2", "3", "4", "5"]
    assert texts(ax) == ["10.0%", "20.0%", "0.0%", "30.0%", "40.0%"]
    with pytest.raises(ValueError, match="outside the csat scale"):
        charts.distribution(shares.assign(score=[0.0, 2.0, 4.0, 5.0]), scale="csat")


def test_cluster_profile_annotates_means():
    profile = pd.DataFrame({"n_customers": [3, 2, 1], "share": [0.5, 1 / 3, 1 / 6],
                            "frequency": [1.0, 4.0, 9.5], "monetary": [50.0, 1_200.0, 2e6]},
                           index=pd.Index([0, 1, 2], name="cluster"))
    ax = charts.cluster_profile(profile)
    assert texts(ax) == ["1", "50", "4", "1,200", "9.5", "2M"]
    assert ticklabels(ax.get_yticklabels()) == [
        "Cluster 0 (3, 50.0%)", "Cluster 1 (2, 33.3%)", "Cluster 2 (1, 16.7%)"]
    assert ticklabels(ax.get_xticklabels()) == ["Frequency", "Monetary"]


def test_silhouette_marks_the_chosen_k():
    table = pd.DataFrame({"silhouette": [0.31, 0.42, 0.38], "inertia": [9.0, 6.0, 5.0],
                          "chosen": [False, True, False]},
                         index=pd.Index([2, 3, 4], name="k"))
    ax = charts.silhouette(table)
    assert list(ax.lines[0].get_ydata()) == [0.31, 0.42, 0.38]
    assert list(ax.lines[1].get_xdata()) == [3]
    assert texts(ax) == ["k = 3 (chosen)"]


def test_rate_bars_show_intervals_and_mark_too_few():
    counts = pd.DataFrame({"region": ["East", "North", "South"], "won": [40, 5, 30],
                           "leads": [200, 12, 150]})
    frame = rate_frame(counts, "won", "leads")
    overall = Rate.from_counts(75, 362)
    ax = charts.rate_bars(frame, x="region", reference=overall)
    bars = ax.patches
    assert [b.get_height() for b in bars] == pytest.approx(list(frame["value"]))
    assert texts(ax) == ["20.0%", "too few\n(n=12)", "20.0%"]
    assert bars[1].get_hatch() == charts.TOO_FEW_HATCH and bars[0].get_hatch() is None
    assert color_of(bars[1]) == charts.MUTED_COLOR and color_of(bars[0]) == charts.MAIN_COLOR
    (errors,) = [c for c in ax.collections if isinstance(c, mpl.collections.LineCollection)]
    ends = np.array([(seg[0][1], seg[1][1]) for seg in errors.get_segments()])
    np.testing.assert_allclose(ends, frame[["ci_low", "ci_high"]].to_numpy())
    assert ticklabels(ax.get_legend().get_texts()) == ["Overall 20.7%"]
    assert isinstance(ax.yaxis.get_major_formatter(), mpl.ticker.PercentFormatter)
    draw_without_warnings(ax.figure)
    # with a title the overall is named there, not in a legend over the bar labels
    titled = charts.rate_bars(frame, x="region", reference=overall, title="Won by region",
                              ax=plt.figure().add_subplot())
    assert titled.get_legend() is None
    assert titled.get_title(loc=mpl.rcParams["axes.titlelocation"]) == \
        "Won by region (dashed: overall 20.7%)"


def test_figure_png_draws_at_figure_size_wraps_long_titles_and_closes():
    import io

    from PIL import Image

    charts.use_theme()
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    right.set_title("A title far too long to fit over half of an eight inch wide figure")
    left.set_title("Short")
    png = charts.figure_png(fig)
    image = Image.open(io.BytesIO(png))
    assert image.size == (800, 300) and image.mode == "RGB"
    assert "\n" in right.get_title(loc="left") and left.get_title(loc="left") == "Short"
    assert not plt.fignum_exists(fig.number)


def test_a_missing_group_is_never_drawn():
    from crmkit import vegalite

    frame = pd.DataFrame({"region": ["East", None, " ", "West"],
                          "revenue": [10.0, 99.0, 5.0, 4.0]})
    bars, labels = charts.bar_frame(frame, x="revenue", y="region")
    assert bars["region"].tolist() == ["East", "West"]
    spec = vegalite.bar(frame, x="revenue", y="region")
    assert "(blank)" not in json.dumps(spec) and "East" in json.dumps(spec)
