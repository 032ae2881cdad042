"""Charts in Chinese: texts from the catalog, numbers and months by Babel (万, 亿, 2025年4月),
a CJK font that has every glyph, CJK-aware label widths; English charts unchanged."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.text import Text

from crmkit import charts, i18n, vegalite
from crmkit.metrics.results import Rate, rate_frame
from tests.conftest import ROOT

ROOT_CONFTEST = Path(__file__).parent / "conftest.py"

REGIONS = pd.DataFrame({"region": ["华东地区", "华南地区", "West", "西北（新疆、甘肃）"],
                        "revenue": [3_744_814.68, 1_250_000.0, 374_481_468.0, 8_000.0],
                        "share": [0.0098, 0.0033, 0.9867, 0.00002]})


@pytest.fixture
def need(pytestconfig):
    """tests/conftest.py's ``need`` (see tests/test_charts.py)."""
    for plugin in pytestconfig.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if path and Path(path).exists() and Path(path).samefile(ROOT_CONFTEST):
            return plugin.need
    raise LookupError(f"{ROOT_CONFTEST} is not loaded")


@pytest.fixture(autouse=True)
def _restore():
    """Theme, warnings and language (open_report activates the report's) undone."""
    charts._WARNED.clear()
    with mpl.rc_context(), i18n.using("en"):
        yield
    plt.close("all")
    charts._WARNED.clear()


@pytest.fixture
def zh():
    with i18n.using("zh") as words:
        yield words


def ticklabels(labels) -> list[str]:
    return [t.get_text() for t in labels]


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _font_covers(family: str, props: font_manager.FontProperties, ch: str) -> bool:
    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family, weight=props.get_weight(),
                                        style=props.get_style()),
            fallback_to_default=False)
    except ValueError:
        return False
    return bool(font_manager.get_font(path).get_char_index(ord(ch)))


def assert_every_glyph_drawn(fig) -> None:
    """Draw ``fig`` with every warning an error (matplotlib warns "Glyph ... missing from
    font(s)" for a box it draws), then check each visible text's characters against the
    fonts of its own family chain: some font of the chain has a glyph for each."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png")
    missing = []
    for text in fig.findobj(Text):
        content = text.get_text()
        if not text.get_visible() or not content:
            continue
        props = text.get_fontproperties()
        for ch in set(content) - set(" \n\\$"):
            if not any(_font_covers(f, props, ch) for f in props.get_family()):
                missing.append((content, ch))
    assert not missing, missing


# -- fonts -------------------------------------------------------------------------------

def test_chinese_chart_draws_every_glyph_with_a_cjk_font(need, zh):
    family = charts.cjk_font()
    need(family is not None, "a CJK font (Debian: fonts-noto-cjk)")
    charts.use_theme("zh")
    path = font_manager.findfont(font_manager.FontProperties(family=family),
                                 fallback_to_default=False)
    font = font_manager.get_font(path)
    assert all(font.get_char_index(ord(ch)) for ch in "华东地区收入其他万亿年月（）：，")
    ax = charts.bar(REGIONS, x="revenue", y="region", share="share", top=3,
                    title="各地区净收入")
    assert ticklabels(ax.get_yticklabels())[-1] == "其他"
    assert_every_glyph_drawn(ax.figure)


def test_chart_in_chinese_draws_with_the_cjk_font_first_whatever_the_theme(need, zh):
    family = charts.cjk_font()
    need(family is not None, "a CJK font (Debian: fonts-noto-cjk)")
    chart = charts.chart("bar", REGIONS, x="revenue", y="region", title="各地区净收入")
    charts.use_theme("en")  # another report, in English, was opened since
    with i18n.using("en"):
        fig = chart.figure()
        labels = fig.axes[0].get_yticklabels()
        assert labels[0].get_fontproperties().get_family()[0] == family
        with charts.drawing(chart.words):
            assert_every_glyph_drawn(fig)


def test_english_chart_with_chinese_data_draws_them_with_a_fallback_font(need):
    family = charts.cjk_font()
    need(family is not None, "a CJK font (Debian: fonts-noto-cjk)")
    mpl.rcParams["font.family"] = ["DejaVu Sans"]  # no theme: the chart brings the font
    chart = charts.chart("bar", REGIONS, x="revenue", y="region", title="Revenue")
    assert chart.words.language == "en"
    with charts.drawing(chart.words):
        assert mpl.rcParams["font.family"] == ["DejaVu Sans", family]  # Latin first
        fig = chart.figure()
        assert ticklabels(fig.axes[0].get_yticklabels())[0] == "West"
        assert_every_glyph_drawn(fig)
    # the PNG a report embeds draws the same way
    png = chart._repr_mimebundle_()["image/png"]
    assert png


def test_without_any_cjk_font_the_error_names_the_debian_package(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda *a, **k: None)
    monkeypatch.setattr(charts, "_NO_CJK_AT", set())
    with pytest.warns(charts.CJKFontWarning, match="fonts-noto-cjk"):
        charts.use_theme("zh")
    assert charts.font_families("zh") is None


def test_vega_lite_font_list_has_the_cjk_font(need):
    family = charts.cjk_font()
    need(family is not None, "a CJK font (Debian: fonts-noto-cjk)")
    fonts = vegalite.config("zh")["font"]
    assert fonts.split(", ")[0] == family and "Microsoft YaHei" in fonts
    assert fonts.endswith("sans-serif")
    english = vegalite.config("en")["font"]
    assert english.startswith(vegalite.LATIN_FONTS) and english.endswith(family)


# -- numbers and dates -------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (0, "0"), (0.5, "0.5"), (12.25, "12.25"), (1234, "1,234"), (9_999, "9,999"),
    (12_000, "1.2万"), (3_744_814.68, "374.48万"), (374_481_468, "3.74亿"), (-15_000, "-1.5万"),
    (np.nan, ""),
])
def test_compact_number_in_chinese(zh, value, text):
    assert charts.compact_number(value) == text


def test_english_compact_number_is_unchanged():
    assert charts.compact_number(3_744_814.68) == "3.74M"
    with i18n.using("zh"):
        assert charts.compact_number(3_744_814.68) == "374.48万"
    assert charts.compact_number(3_744_814.68) == "3.74M"


def test_axis_ticks_use_one_unit_per_axis_in_chinese(zh):
    formatter = charts.CompactFormatter()
    assert formatter.format_ticks([0, 500_000, 1_000_000, 1_500_000]) == [
        "0", "50万", "100万", "150万"]
    assert formatter.format_ticks([0, 5_000, 10_000, 15_000]) == [
        "0", "0.5万", "1万", "1.5万"]
    assert formatter.format_ticks([0, 2_500, 5_000]) == ["0", "2,500", "5,000"]
    assert formatter.format_ticks([0, 2e8, 4e8]) == ["0", "2亿", "4亿"]


def test_formatters_keep_the_language_they_were_made_in():
    with i18n.using("zh"):
        money = charts.value_formatter("currency")
        percent = charts.value_formatter("percent")
        nps = charts.value_formatter("nps")
    # drawn later, with English active: still Chinese
    assert money.format_ticks([0, 1e8, 2e8]) == ["0", "1亿", "2亿"]
    assert isinstance(percent, mpl.ticker.PercentFormatter)
    percent.axis = None
    assert percent.format_pct(0.125, 0.1) == "12.5%"  # decimals as the range needs
    assert percent.format_pct(0.125, 1.0) == "12%"
    assert nps(20) == "+20" and nps(-5) == "-5"


def test_value_labels_in_chinese(zh):
    assert charts.value_text(3_744_814.68, "currency") == "374.48万"
    assert charts.value_text(0.1234, "percent") == "12.3%"
    frame, labels = charts.bar_frame(REGIONS, x="revenue", y="region", share="share")
    assert labels[0] == "3.74亿（98.7%）"
    assert labels[1] == "374.48万（1.0%）"
    assert charts.funnel_text(117, 500) == "117（23.4%）"
    assert charts.attainment_text(np.nan) == "无目标"
    assert charts.rate_text(0.2, True, 1234) == "样本过少\n（n=1,234）"
    assert charts.rate_text(np.nan, False, 0) == "无数据"


def test_month_ticks_in_chinese_and_english():
    months = pd.date_range("2024-11-01", periods=4, freq="MS")
    with i18n.using("zh"):
        assert charts.date_tick_labels(months) == ["2024年11月", "12月", "2025年1月", "2月"]
        assert charts.date_tick_labels(pd.to_datetime(["2024-01-01", "2025-01-01"])) == [
            "2024年", "2025年"]
        assert charts.date_tick_labels(pd.to_datetime(["2025-04-01", "2025-04-15"])) == [
            "2025年4月1日", "4月15日"]
    assert charts.date_tick_labels(months) == ["Nov 2024", "Dec", "Jan 2025", "Feb"]


def test_trend_in_chinese_labels_months_and_values_the_chinese_way():
    periods = pd.date_range("2025-04-01", periods=3, freq="MS")
    frame = pd.DataFrame({"period": periods, "revenue": [1_300_000.0, 1_320_000.0, 1_130_000.0]})
    with i18n.using("zh"):
        chart = charts.chart("trend", frame, x="period", y="revenue",
                             previous=frame.assign(period=periods - pd.DateOffset(years=1)))
    fig = chart.figure()  # drawn with English active: the chart keeps its language
    ax = fig.axes[0]
    fig.canvas.draw()
    assert ticklabels(ax.get_xticklabels()) == ["2025年4月", "5月", "6月"]
    values = [t for t in ticklabels(ax.get_yticklabels()) if t]
    assert values[0] == "0" and all(v.endswith("万") for v in values[1:])
    legend = ticklabels(ax.get_legend().get_texts())
    assert legend[1].endswith("（去年同期）")


def test_chinese_cohorts_and_clusters():
    from crmkit.models.segments import cohort_retention

    orders = pd.DataFrame({
        "customer_id": [1, 1, 2, 3],
        "order_date": pd.to_datetime(["2025-01-05", "2025-02-03", "2025-01-20", "2025-02-11"]),
    })
    with i18n.using("zh"):
        values, columns, cohorts = charts.cohort_frame(cohort_retention(orders))
        assert cohorts == ["2025年1月（2 位客户）", "2025年2月（1 位客户）"]
        profile = pd.DataFrame({"n_customers": [1200], "share": [0.5], "spend": [39_300.0]},
                               index=pd.Index([0], name="cluster"))
        z, means, features, names = charts.cluster_profile_frame(profile)
        assert names == ["簇 0（1,200 位客户，50.0%）"]
        assert charts.axis_title("silhouette") == "轮廓系数"
    assert charts.axis_title("silhouette") == "Silhouette"


def test_every_text_the_charts_write_has_a_chinese_translation():
    catalog = i18n.catalog("zh")
    english = list(charts.CHART_TEXT["en"].values()) + list(charts._CHART_COLUMNS.values())
    missing = [m for m in english if m not in catalog]
    assert not missing, missing
    with i18n.using("zh"):
        words = [charts.chart_text(k) for k in charts.CHART_TEXT["en"]]
    # no English word of three letters or more left (k, n are the statistics' own letters)
    import re

    assert not [w for w in words if re.search(r"[A-Za-z]{3,}", re.sub(r"{\w+}", "", w))]


# -- label widths ------------------------------------------------------------------------

def test_display_width_counts_cjk_double():
    assert charts.display_width("West") == 4
    assert charts.display_width("华东地区") == 8
    assert charts.display_width("Cafe\u0301") == 4  # a combining accent takes no column
    assert charts.display_width("（）") == 4  # full-width brackets


def test_shorten_label_by_display_width_never_splits_a_character():
    latin = "International Business Machines Corporation Ltd"
    assert charts.shorten_label("East") == "East"
    short = charts.shorten_label(latin, 30)
    assert short.endswith("…") and charts.display_width(short) <= 30
    assert short == "International Business Machin…"
    chinese = "华东地区重点客户上海浦东新区分公司第一事业部"  # 22 characters, 44 columns
    cut = charts.shorten_label(chinese, 30)
    assert cut == "华东地区重点客户上海浦东新区…"  # 14 characters + … : 29 columns
    assert charts.display_width(cut) <= 30
    accented = "e\u0301" * 20
    assert charts.shorten_label(accented, 10) == "e\u0301" * 9 + "…"
    family = "👨\u200d👩\u200d👧" * 12  # joined emoji: one character each
    cut = charts.shorten_label(family, 10)
    assert cut.endswith("…") and cut[:-1].count("👨") == len(charts._clusters(cut[:-1]))
    assert all(c == "👨\u200d👩\u200d👧" for c in charts._clusters(cut[:-1]))
    pair = "\ud83d\ude00" * 50  # a surrogate pair (text decoded with surrogatepass)
    assert charts.shorten_label(pair, 10).count("\ud83d") == charts.shorten_label(
        pair, 10).count("\ude00")


def test_long_chinese_category_names_are_shortened_on_the_axis_only(zh):
    long_name = "华东地区重点客户上海浦东新区分公司第一事业部"
    frame = pd.DataFrame({"customer": [long_name, "华南"], "revenue": [2.0, 1.0]})
    charts.use_theme("zh")
    ax = charts.bar(frame, x="revenue", y="customer")
    shown = ticklabels(ax.get_yticklabels())[0]
    assert shown.endswith("…") and charts.display_width(shown) <= charts.LABEL_WIDTH
    # the frame (and the Vega-Lite spec's data, its tooltips) keep the full name
    assert vegalite.bar(frame, x="revenue", y="customer")["data"]["values"][0]["name"] == \
        long_name


def test_chinese_x_labels_slant_by_width_not_length(zh):
    rates = rate_frame(pd.DataFrame({"region": ["华东地区", "西北地区甘肃"], "won": [4, 5],
                                     "leads": [40, 50]}), "won", "leads")
    charts.use_theme("zh")
    ax = charts.rate_bars(rates, x="region")
    assert ax.get_xticklabels()[0].get_rotation() == 30  # 12 columns > 10


def test_wrap_text_breaks_chinese_between_characters():
    text = "按线索来源的转化率（95% 置信区间）虚线为整体转化率"
    lines = charts.wrap_text(text, 20).split("\n")
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(charts.display_width(line) <= 20 for line in lines)
    assert not any(line[0] in "，。）" for line in lines)
    assert charts.wrap_text("a b c", 80) == "a b c"


def test_title_with_overall_in_chinese_needs_no_space(zh):
    assert charts.title_with_overall("转化率", "28.1%") == "转化率（虚线：整体 28.1%）"


# -- Vega-Lite ---------------------------------------------------------------------------

def test_vega_lite_spec_is_in_the_charts_language():
    quota = pd.DataFrame({"sales_rep": ["王伟", "李娜", "张敏"],
                          "revenue": [900_000.0, 1_200_000.0, 500_000.0],
                          "target": [1_000_000.0, 1_000_000.0, np.nan]})
    with i18n.using("zh"):
        chart = charts.chart("leaderboard", quota, title="净收入与目标对比")
    spec = json.loads(json.dumps(vegalite.spec(chart), ensure_ascii=False))
    rows = spec["data"]["values"]
    assert [r["status"] for r in rows] == ["达成目标", "未达目标", "无目标"]
    assert [r["label"] for r in rows] == ["120.0%", "90.0%", "无目标"]
    bar = spec["layer"][0]["encoding"]
    assert bar["color"]["scale"]["domain"] == ["达成目标", "未达目标", "无目标"]
    assert "万" in bar["x"]["axis"]["labelExpr"] and "亿" in bar["x"]["axis"]["labelExpr"]
    assert [t["title"] for t in bar["tooltip"]][-2:] == ["目标", "目标完成率"]


def test_vega_lite_months_are_the_pngs_labels():
    periods = pd.date_range("2025-04-01", periods=3, freq="MS")
    frame = pd.DataFrame({"period": periods, "revenue": [1.0, 2.0, 3.0]})
    with i18n.using("zh"):
        spec = vegalite.trend(frame, x="period", y="revenue",
                              previous=frame.assign(period=periods - pd.DateOffset(years=1)))
    (line,) = [layer for layer in spec["layer"] if layer["mark"]["type"] == "line"]
    axis = line["encoding"]["x"]["axis"]
    assert axis["values"] == [{"year": 2025, "month": m, "date": 1, "utc": True}
                              for m in (4, 5, 6)]
    assert '"2025-04-01": "2025年4月"' in axis["labelExpr"]
    assert '"2025-05-01": "5月"' in axis["labelExpr"]
    assert {r["kind"] for r in spec["data"]["values"]} == {"本期", "去年同期"}
    # English keeps its own axis
    english = vegalite.trend(frame, x="period", y="revenue")
    (line,) = [layer for layer in english["layer"] if layer["mark"]["type"] == "line"]
    assert line["encoding"]["x"]["axis"]["labelExpr"] == "utcFormat(datum.value, '%b %Y')"


def test_vega_lite_value_axis_english_is_unchanged():
    assert vegalite.value_axis("currency")["labelExpr"].startswith(
        "abs(datum.value) >= 1000 ? replace(format(datum.value, '.3~s'), 'G', 'B')")
    with i18n.using("zh"):
        expression = vegalite.value_axis("currency")["labelExpr"]
    assert "/ 10000, ',.2~f') + \"万\"" in expression
    assert "/ 100000000, ',.2~f') + \"亿\"" in expression


@pytest.mark.parametrize("report", ["sales_performance", "customer_behaviour"])
def test_a_chinese_reports_charts_draw_every_glyph(sample_warehouse, need, report):
    need(charts.cjk_font() is not None, "a CJK font (Debian: fonts-noto-cjk)")
    from crmkit.sections import open_report

    r = open_report(report, warehouse=str(sample_warehouse), language="zh")
    drawn = 0
    for section in r.sections:
        for item in r.outputs(section):
            if isinstance(item, charts.Chart):
                assert item.words.language == "zh"
                with charts.drawing(item.words):
                    fig = item.figure()
                    assert_every_glyph_drawn(fig)
                plt.close(fig)
                drawn += 1
    assert drawn
