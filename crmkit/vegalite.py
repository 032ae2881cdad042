"""The live filter panel's charts as Vega-Lite specs, drawn by the browser.

    spec(chart)           # a crmkit.charts.Chart -> a Vega-Lite v5 spec (a dict)
    mime_bundle(chart)    # the same as display data for JupyterLab / Voilà

Why: a filter change must redraw a report in a blink, and drawing a chart with matplotlib
costs ~100-200 ms (text layout and rasterising), many times what its numbers cost. A spec is
a few kB of JSON made in a few milliseconds; JupyterLab and Voilà draw it with the Vega
renderer they ship (offline: no script or style is fetched). Batch reports keep their PNGs
(:meth:`crmkit.charts.Chart.figure`): an HTML report carries no script.

One builder per chart function of :mod:`crmkit.charts`, with its options (matplotlib-only
keyword arguments aside): the same data preparation, order and labels
(:func:`crmkit.charts.bar_frame`, :func:`~crmkit.charts.rate_text`, ...), the same palette.
Written as plain dicts rather than with altair: a spec is a literal of a few lines, and
altair would add a dependency and a schema validation to every redraw.

Languages: a spec is built in the chart's language (:attr:`crmkit.charts.Chart.words`):
its texts are the PNG's (translated with :func:`crmkit.i18n.tr`), its value labels come
from the same frames, and in a language other than English the axes are labelled as the
PNG labels them: numbers with the locale's compact units (zh 50万, 1.2亿), months by Babel
(2025年4月, computed here: the spec carries the text). Its font list puts a CJK font
first for Chinese (and last, as a fallback, otherwise).
"""

from __future__ import annotations

import copy
import functools
import json
import math
from datetime import date, datetime

import numpy as np
import pandas as pd

from crmkit import charts, i18n
from crmkit.charts import axis_title, display_width, label_text
from crmkit.i18n import tr

MIME = "application/vnd.vegalite.v5+json"
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier, never fetched
PX = 100  # pixels per inch: as large as the PNG of the same chart (figure.dpi) ...
MAX_WIDTH = 1000  # ... but no wider than a notebook's output area (a PNG is scaled to fit)
LATIN_FONTS = "DejaVu Sans, Helvetica, Arial, sans-serif"
# Chinese fonts the browser may have (the spec is drawn on the reader's machine, whose
# fonts are not the server's): macOS, Windows, then Noto/Source Han on Linux.
CJK_FONTS = ("PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
             "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Micro Hei")
BAR_STEP = 22  # px per bar of a horizontal bar chart
# Embed options: no "..." menu (its "Open in Vega Editor" leaves for the internet); SVG,
# whose text is in the page (searchable, readable by a screen reader and by tests).
METADATA = {MIME: {"embed_options": {"actions": False, "renderer": "svg"}}}


# -- the whole chart ---------------------------------------------------------------------

def spec(chart: charts.Chart, *, language: str | None = None) -> dict:
    """``chart`` as one Vega-Lite spec: its panels in a grid as the PNG has them, in the
    chart's language (``language`` overrides the font list's language only)."""
    with i18n.using(chart.words):
        return _spec(chart, language or chart.words.language)


def _spec(chart: charts.Chart, language: str) -> dict:
    rows, columns = chart.shape
    px = min(PX, MAX_WIDTH / chart.size[0])
    widths = list(chart.widths or [1.0] * columns)
    height = chart.size[1] * px / rows
    grid = []
    for r in range(rows):
        views = []
        for c in range(columns):
            i = r * columns + c
            panel = chart.panels[i] if i < len(chart.panels) else None
            if panel is None:
                continue
            width = chart.size[0] * px * widths[c] / sum(widths)
            options, titles = panel.split_options()
            view = BUILDERS[panel.kind](panel.data, size=(width, height), **options)
            for key, text in titles.items():
                _axis_title(view, key[0], text or None)
            views.append(view)
        if views:
            grid.append(views[0] if len(views) == 1 else {"hconcat": views, "spacing": 40})
    top = grid[0] if len(grid) == 1 else {"vconcat": grid, "spacing": 24}
    if len(grid) > 1 or "hconcat" in top:  # each panel its own colours, as in the PNG
        top["resolve"] = {"scale": {"color": "independent"}}
    return {"$schema": SCHEMA, **top, "config": config(language)}


def _axis_title(view: dict, channel: str, title: str | None) -> None:
    """Set the title of the ``channel`` ("x" or "y") axis wherever ``view`` encodes it."""
    for part in [view, *view.get("layer", [])]:
        encoding = part.get("encoding", {}).get(channel)
        if encoding is not None and encoding.get("axis", {}) is not None:
            encoding.setdefault("axis", {})["title"] = title


def mime_bundle(chart: charts.Chart, *, language: str | None = None
                ) -> tuple[dict, dict]:
    """(data, metadata) of a ``display_data`` output drawing ``chart``."""
    return ({MIME: spec(chart, language=language), "text/plain": "(chart)"},
            copy.deepcopy(METADATA))


@functools.lru_cache(maxsize=None)
def _fonts(language: str) -> str:
    """The CSS font list of a chart: for Chinese the server's CJK font (as in the PNG) and
    the usual Chinese fonts of a reader's system before the Latin ones; otherwise the
    Latin fonts first and the server's CJK font last (Chinese data in an English report).
    Looked up once: without a CJK font, cjk_font() searches the system font folders."""
    cjk = charts.cjk_font()
    if language == "zh":
        chinese = [cjk] if cjk else []
        chinese += [f for f in CJK_FONTS if f not in chinese]
        return ", ".join(_css_family(f) for f in chinese) + ", " + LATIN_FONTS
    return ", ".join([LATIN_FONTS] + ([_css_family(cjk)] if cjk else []))


def _css_family(name: str) -> str:
    """A font family name as CSS takes it: quoted when it is not plain words."""
    return name if all(part.isidentifier() for part in name.split()) else f'"{name}"'


def config(language: str = "en") -> dict:
    """The report theme (crmkit.charts.use_theme) in Vega-Lite terms."""
    return {
        "font": _fonts(language),
        "view": {"stroke": None},
        "title": {"anchor": "start", "fontSize": 14, "fontWeight": "bold", "offset": 10,
                  "color": "#222222"},
        "axis": {"labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal",
                 "gridColor": "#e6e6e6", "domainColor": "#cccccc", "tickColor": "#cccccc",
                 "labelColor": "#333333", "titleColor": "#333333", "labelLimit": 220},
        "legend": {"labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal",
                   "labelLimit": 260},
        "range": {"category": charts.PALETTE},
        "text": {"fontSize": 11, "color": "#222222", "lineBreak": "\n"},
    }


# -- shared pieces ---------------------------------------------------------------------------

def _json(value):
    """A value as JSON takes it: None for missing, plain Python numbers, ISO dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, pd.Period):
        return value.start_time.strftime("%Y-%m-%d")
    return value


def _records(columns: dict) -> list[dict]:
    """Rows as JSON records from equally long columns: {"name": [...], "value": [...]}."""
    names = list(columns)
    return [{n: _json(v) for n, v in zip(names, row)}
            for row in zip(*(list(columns[n]) for n in names))]


def _title(title: str | None) -> dict:
    return {} if title is None else {"title": {"text": str(title).split("\n")}}


def value_axis(unit: str, title: str | None = None, ticks: int | None = None) -> dict:
    """An axis of values in ``unit`` labelled as crmkit.charts.value_formatter does:
    percent 12.5%, nps +20, amounts and counts 1,200 / 1.2M / 3B."""
    if unit == "percent":
        fmt = {"format": ".1~%"}
    elif unit == "nps":
        fmt = {"format": "+.0f"}
    elif i18n.current().language != i18n.SOURCE_LANGUAGE:
        fmt = {"labelExpr": compact_expression()}  # 5,000 / 2.5万 / 1.2亿
    else:  # 800 / 25k / 1.2M / 3B: SI prefixes, with B for billions as in the reports
        fmt = {"labelExpr": "abs(datum.value) >= 1000 ? replace(format(datum.value, '.3~s'), "
                            "'G', 'B') : format(datum.value, ',~r')"}
    return {**fmt, "title": title, **({"tickCount": ticks} if ticks else {})}


def compact_expression(value: str = "datum.value") -> str:
    """A Vega expression writing ``value`` in the active locale's compact units, those of
    the PNG's axes (:func:`crmkit.charts._local_scale`, from Babel's patterns): zh
    5,000 / 2.5万 / 374.48万 / 1.2亿 / 3万亿. Each tick takes the unit of its own size (the
    PNG's one unit per axis needs the axis' ticks, which Vega picks)."""
    units: list[tuple[float, float, str]] = []  # (from, divisor, unit), smallest first
    magnitude = 1
    for _ in range(20):
        magnitude *= 10
        divisor, unit = charts._local_scale(float(magnitude))
        if unit and (not units or units[-1][2] != unit):
            units.append((float(magnitude), divisor, unit))
    text = f"format({value}, ',~r')"
    for start, divisor, unit in units:
        text = (f"abs({value}) >= {start:.0f} ? format({value} / {divisor:.0f}, ',.2~f') + "
                f"{json.dumps(unit, ensure_ascii=False)} : {text}")
    return text


def _ticks(width: float) -> int:
    """Ticks on a value axis ``width`` px long: one per ~90 px, so labels never touch."""
    return max(2, int(width // 90))


def _room_for_labels(values, labels, width: float) -> dict:
    """A value scale from 0 that leaves room past the longest bar for its label."""
    finite = [v for v in values if v is not None]
    top, bottom = max([0.0, *finite]), min([0.0, *finite])
    label_px = 6.5 * max((display_width(t) for t in labels), default=0) + 8
    factor = width / max(width - label_px, width * 0.4)
    return {"domain": [bottom, top * factor if top > 0 else 1.0], "nice": False}


def _bar_height(n: int, height: float) -> dict | float:
    """A bar chart's height: a fixed step per bar (the PNG grows with the bars too)."""
    return {"step": BAR_STEP} if n else height


# -- one builder per chart of crmkit.charts -------------------------------------------------

def trend(data: pd.DataFrame, *, x: str, y: str, hue: str | None = None,
          previous: pd.DataFrame | None = None,
          previous_offset: pd.DateOffset = pd.DateOffset(years=1), unit: str = "currency",
          band: tuple[str, str] | None = None, highlight: tuple | None = None,
          highlight_label: str | None = None, hollow: str | None = None,
          hollow_label: str | None = None, ylim: tuple[float, float] | None = None,
          title: str | None = None, size=(800, 400), **_mpl) -> dict:
    """:func:`crmkit.charts.trend`: a line per group, the comparison period dashed, an
    interval shaded, a stretch of time shaded grey, some points hollow."""
    charts._check_columns(data, x=x, y=y, hue=hue, hollow=hollow)
    band = band if hue is None else None
    if band is not None:
        charts._check_columns(data, low=band[0], high=band[1])
    previous_text = charts.chart_text("previous")
    current_text = charts.chart_text("current")
    rows = []

    def add(key, part, times, kind: str, current: bool) -> None:
        none = [None] * len(part)
        rows.extend(_records({
            "series": [label_text(key) if hue else axis_title(y)] * len(part),
            "x": times, "y": part[y], "kind": [kind] * len(part),
            "low": part[band[0]] if band and current else none,
            "high": part[band[1]] if band and current else none,
            "hollow": part[hollow].astype(bool) if hollow and current
            else [False] * len(part)}))

    current = charts._groups(data, hue)
    for key, part in current:
        add(key, part, charts._time_values(part[x]), current_text, True)
    if previous is not None:
        charts._check_columns(previous, "previous", x=x, y=y, hue=hue)
        groups = [key for key, _ in current]
        for key, part in charts._groups(previous, hue):
            if key not in groups:
                continue
            times = charts._time_values(part[x])
            if pd.api.types.is_datetime64_any_dtype(times):
                times = times + previous_offset
            add(key, part, times, previous_text, False)
    values = pd.Series([r["y"] for r in rows], dtype=float)
    legend = hue is not None  # the title says which line is dashed
    temporal = pd.api.types.is_datetime64_any_dtype(charts._time_values(data[x]))
    months = charts._time_values(data[x]).nunique() if temporal else 0
    x_enc = ({"field": "x", "type": "temporal", "scale": {"type": "utc"},
              "axis": {"labelExpr": "utcFormat(datum.value, '%b %Y')", "title": None,
                       # one tick per month or per few months, as the PNG has
                       "tickCount": {"interval": "month",
                                     "step": max(1, -(-months // 12))}}}
             if temporal else {"field": "x", "type": "ordinal", "axis": {"title": None}})
    if temporal and i18n.current().language != i18n.SOURCE_LANGUAGE:
        # The PNG's ticks and labels (2025年4月, 5月 ...), written here by Babel.
        x_enc["axis"] = {"title": None, **date_axis(
            charts._time_values(data[x]), [r["x"] for r in rows])}
    y_scale = ({"domain": list(ylim)} if ylim is not None else
               {"zero": bool(values.min() >= 0) if values.notna().any() else True})
    y_enc = {"field": "y", "type": "quantitative", "scale": y_scale,
             "axis": value_axis(unit, axis_title(y))}
    layers = []
    if highlight is not None and temporal:
        layers.append({
            "data": {"values": [{"start": _json(highlight[0]), "end": _json(highlight[1]),
                                 "label": highlight_label or ""}]},
            "layer": [{"mark": {"type": "rect", "color": charts.HIGHLIGHT_COLOR},
                       "encoding": {"x": {**x_enc, "field": "start"},
                                    "x2": {"field": "end"}}},
                      {"mark": {"type": "text", "align": "left", "baseline": "top", "dx": 4,
                                "dy": 4, "color": "#57606a", "y": 0},
                       "encoding": {"x": {**x_enc, "field": "start"},
                                    "text": {"field": "label"}}}]})
    if band is not None:
        layers.append({"mark": {"type": "area", "opacity": 0.15, "color": charts.MAIN_COLOR},
                       "transform": [{"filter": "datum.low != null"}],
                       "encoding": {"x": x_enc, "y": {**y_enc, "field": "low"},
                                    "y2": {"field": "high"}}})
    line = {
        "mark": {"type": "line", "point": {"size": 25}, "strokeWidth": 1.8},
        "encoding": {
            "x": x_enc,
            "y": y_enc,
            "color": {"field": "series", "type": "nominal", "sort": None,
                      "legend": {"title": axis_title(hue) if hue else None} if legend else None},
            "strokeDash": {"field": "kind", "type": "nominal", "sort": None,
                           "scale": {"domain": [current_text, previous_text],
                                     "range": [[1, 0], [5, 3]]},
                           "legend": None},
            "opacity": {"condition": {"test": f"datum.kind === {_js_string(previous_text)}",
                                      "value": 0.7}, "value": 1},
            "tooltip": [{"field": "series", "title": axis_title(hue) if hue else tr("Series")},
                        {"field": "kind", "title": tr("Line")},
                        ({"field": "x", "type": "temporal", "title": tr("Period"),
                          "format": "%Y-%m-%d", "formatType": "utc"} if temporal
                         else {"field": "x", "title": tr("Period")}),
                        {"field": "y", "type": "quantitative", "title": axis_title(y),
                         "format": ".1%" if unit == "percent" else ",.2f"}],
        },
    }
    layers.append(line)
    if hollow is not None:
        layers.append({"mark": {"type": "point", "filled": True, "fill": "white",
                                "stroke": "#555555", "size": 60, "opacity": 1},
                       "transform": [{"filter": "datum.hollow"}],
                       "encoding": {"x": x_enc, "y": y_enc}})
    return {**_title(title), "width": size[0] - 160, "height": size[1] - 90,
            "data": {"values": rows}, "layer": layers}


def _js_string(text: str) -> str:
    """``text`` as a string literal of a Vega expression: 'previous year' (single quotes,
    as Vega's own examples write them; a quote or backslash in it escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def date_axis(times: pd.Series, shown) -> dict:
    """A temporal axis with the ticks the PNG has (:func:`crmkit.charts.date_locator` over
    the dates ``shown``) labelled by :func:`crmkit.charts.date_tick_labels` in the active
    locale: explicit tick ``values`` and a ``labelExpr`` looking each one's text up."""
    from matplotlib import dates as mdates

    stamps = pd.to_datetime(pd.Series([t for t in shown if t is not None]), utc=True)
    if stamps.empty:
        return {}
    locator = charts.date_locator(times)
    ticks = [pd.Timestamp(t) for t in mdates.num2date(
        locator.tick_values(stamps.min().to_pydatetime(), stamps.max().to_pydatetime()))]
    ticks = [t for t in ticks if stamps.min() <= t <= stamps.max()] or ticks
    labels = charts.date_tick_labels(ticks)
    lookup = ", ".join(f"{json.dumps(t.strftime('%Y-%m-%d'))}: "
                       f"{json.dumps(text, ensure_ascii=False)}"
                       for t, text in zip(ticks, labels))
    return {"values": [{"year": t.year, "month": t.month, "date": t.day, "utc": True}
                       for t in ticks],
            "labelExpr": f"{{{lookup}}}[utcFormat(datum.value, '%Y-%m-%d')] || "
                         "utcFormat(datum.value, '%Y-%m-%d')"}


def bar(data: pd.DataFrame, *, x: str, y: str, share: str | None = None,
        unit: str = "currency", sort: bool = True, top: int | None = None,
        color: str | None = None, title: str | None = None, size=(800, 450),
        **_mpl) -> dict:
    """:func:`crmkit.charts.bar`: horizontal bars, first on top, each labelled."""
    frame, labels = charts.bar_frame(data, x=x, y=y, share=share, unit=unit, sort=sort,
                                     top=top)
    rows = _records({"name": [label_text(v) for v in frame[y]], "value": frame[x],
                     "label": labels})
    width = max(size[0] - 130, 140)
    encoding = {"y": {"field": "name", "type": "nominal", "sort": None,
                      "axis": {"title": None}},
                "x": {"field": "value", "type": "quantitative",
                      "scale": _room_for_labels([r["value"] for r in rows], labels, width),
                      "axis": value_axis(unit, axis_title(x), _ticks(width))},
                "tooltip": [{"field": "name", "title": axis_title(y)},
                            {"field": "label", "title": axis_title(x)}]}
    return {
        **_title(title), "width": width,
        "height": _bar_height(len(rows), size[1]), "data": {"values": rows},
        "encoding": encoding,
        "layer": [{"mark": {"type": "bar", "color": color or charts.MAIN_COLOR}},
                  {"mark": {"type": "text", "align": "left", "dx": 3},
                   "encoding": {"text": {"field": "label"}}}],
    }


def leaderboard(data: pd.DataFrame, *, rep: str = "sales_rep", actual: str = "revenue",
                target: str = "target", attainment: str | None = None,
                unit: str = "currency", title: str | None = None, size=(800, 450),
                **_mpl) -> dict:
    """:func:`crmkit.charts.leaderboard`: actual as bars, the target as a tick."""
    frame = charts.leaderboard_frame(data, rep=rep, actual=actual, target=target,
                                     attainment=attainment)
    reached = frame["_attainment"]
    met, below, none = (charts.chart_text(k) for k in ("met", "below_target", "no_target"))
    status = np.where(reached.isna(), none, np.where(reached >= 1, met, below))
    ends = frame[[actual, target]].astype(float).max(axis=1).fillna(0.0)
    rows = _records({"name": [label_text(v) for v in frame[rep]], "actual": frame[actual],
                     "target": frame[target], "status": status, "end": ends,
                     "label": [charts.attainment_text(s) for s in reached]})
    y = {"field": "name", "type": "nominal", "sort": None, "axis": {"title": None}}
    width = max(size[0] - 150, 140)
    scale = _room_for_labels([r["end"] for r in rows], [r["label"] for r in rows], width)
    return {
        **_title(title), "width": width,
        "height": _bar_height(len(rows), size[1]), "data": {"values": rows},
        "encoding": {"y": y},
        "resolve": {"scale": {"x": "shared"}},
        "layer": [
            {"mark": "bar", "encoding": {
                "x": {"field": "actual", "type": "quantitative", "scale": scale,
                      "axis": value_axis(unit, axis_title(actual), _ticks(width))},
                "color": {"field": "status", "type": "nominal", "title": None,
                          "scale": {"domain": [met, below, none],
                                    "range": [charts.MET_COLOR, charts.MISSED_COLOR,
                                              charts.MUTED_COLOR]},
                          "legend": {"orient": "bottom"}},
                "tooltip": [{"field": "name", "title": axis_title(rep)},
                            {"field": "actual", "title": axis_title(actual), "format": ",.2f"},
                            {"field": "target", "title": charts.chart_text("target"),
                             "format": ",.2f"},
                            {"field": "label", "title": tr("Attainment")}]}},
            {"mark": {"type": "tick", "color": "#222222", "thickness": 2.5,
                      "orient": "vertical"},
             "encoding": {"x": {"field": "target", "type": "quantitative"}}},
            {"mark": {"type": "text", "align": "left", "dx": 5},
             "encoding": {"x": {"field": "end", "type": "quantitative"},
                          "text": {"field": "label"}}},
        ],
    }


def funnel(data: pd.DataFrame, *, stage: str = "stage", count: str = "count",
           title: str | None = None, size=(800, 450), **_mpl) -> dict:
    """:func:`crmkit.charts.funnel`: centred bars in funnel order, share of the first."""
    charts._check_columns(data, stage=stage, count=count)
    charts._check_unique(data, stage, "stage")
    counts = data[count].to_numpy(dtype=float)
    first = counts[0] if len(counts) else np.nan
    rows = _records({"name": [label_text(v) for v in data[stage]], "left": -counts / 2,
                     "right": counts / 2, "label": [charts.funnel_text(c, first)
                                                    for c in counts]})
    return {
        **_title(title), "width": max(size[0] - 200, 160),
        "height": _bar_height(len(rows), size[1]), "data": {"values": rows},
        "encoding": {"y": {"field": "name", "type": "nominal", "sort": None,
                           "axis": {"title": None, "domain": False, "ticks": False}}},
        "layer": [
            {"mark": {"type": "bar", "color": charts.MAIN_COLOR},
             "encoding": {"x": {"field": "left", "type": "quantitative", "axis": None},
                          "x2": {"field": "right"},
                          "tooltip": [{"field": "name", "title": axis_title(stage)},
                                      {"field": "label", "title": axis_title(count)}]}},
            {"mark": {"type": "text", "color": "white", "fontWeight": "bold"},
             "encoding": {"x": {"datum": 0, "type": "quantitative"},
                          "text": {"field": "label"}}},
        ],
    }


def rate_bars(frame: pd.DataFrame, *, x: str, y: str = "value", ci_low: str = "ci_low",
              ci_high: str = "ci_high", numerator: str = "numerator",
              denominator: str = "denominator", too_few: str = "too_few",
              reference: object = None, sort: bool = False, title: str | None = None,
              size=(800, 450), **_mpl) -> dict:
    """:func:`crmkit.charts.rate_bars`: a bar per category with its 95% interval, "too
    few" bars grey, the overall rate dashed and named in the title."""
    data, top = charts.rate_bars_frame(frame, x=x, y=y, ci_low=ci_low, ci_high=ci_high,
                                       numerator=numerator, denominator=denominator,
                                       too_few=too_few, sort=sort)
    level = None if reference is None else charts.reference_level(reference)
    if level is not None and title is not None:
        title = charts.title_with_overall(title, i18n.percent(level))
    return _interval_bars(
        data, x, counts={tr("Numerator"): numerator, tr("Denominator"): denominator},
        domain=[0, top], percent=True, level=level, title=title, size=size,
        axis=value_axis("percent", axis_title(y) if y != "value" else None),
        x_title=axis_title(x))


def nps_bars(frame: pd.DataFrame, *, x: str, overall: object = None,
             title: str | None = None, size=(800, 450), **_mpl) -> dict:
    """:func:`crmkit.charts.nps_bars`: NPS per group with its 95% interval, 0 marked, the
    overall NPS dashed and named in the title."""
    data = charts.nps_bars_frame(frame, x=x)
    level = None if overall is None else charts.reference_level(overall)
    if level is not None and title is not None:
        title = charts.title_with_overall(title, charts.value_text(level, "nps"))
    return _interval_bars(
        data, x, counts={charts.chart_text("responses"): "n"},
        domain=list(charts.nps_limits(data["_low"].to_numpy(), data["_high"].to_numpy())),
        axis=value_axis("nps"), percent=False, level=level, zero_line=True, x_title=None,
        title=title, size=size)


def _interval_bars(data: pd.DataFrame, x: str, *, counts: dict, domain: list, axis: dict,
                   percent: bool, level: float | None, x_title: str | None,
                   title: str | None, size, zero_line: bool = False) -> dict:
    """Vertical bars with their 95% intervals and labels above them ("too few" bars
    grey), a dashed reference ``level``: rate_bars and nps_bars, from their frames
    (:func:`crmkit.charts.rate_bars_frame`, :func:`~crmkit.charts.nps_bars_frame`).
    ``counts``: tooltip title -> column."""
    count_names = {name: f"count_{i}" for i, name in enumerate(counts)}
    rows = _records({"name": [label_text(v) for v in data[x]], "value": data["_value"],
                     "low": data["_low"], "high": data["_high"], "anchor": data["_anchor"],
                     "few": data["_few"], "label": data["_label"],
                     **{count_names[k]: data[c] for k, c in counts.items()}})
    for row in rows:  # "too few\n(n=12)": two lines, the last one just above the interval
        *first, row["last_line"] = row["label"].split("\n")
        row["first_line"] = "\n".join(first)
    value_format = ".1%" if percent else "+.0f"
    layers = [
        {"mark": "bar", "encoding": {
            "y": {"field": "value", "type": "quantitative",
                  "scale": {"domain": domain, "nice": False}, "axis": axis},
            "color": {"condition": {"test": "datum.few", "value": charts.MUTED_COLOR},
                      "value": charts.MAIN_COLOR},
            "tooltip": [{"field": "name", "title": x_title or tr("Group")},
                        {"field": "label", "title": tr("Value")},
                        *({"field": f, "title": k, "format": ",.0f"}
                          for k, f in count_names.items()),
                        {"field": "low", "title": tr("95% CI from"), "format": value_format},
                        {"field": "high", "title": tr("95% CI to"), "format": value_format}]}},
        {"mark": {"type": "rule", "color": "#333333"},
         "encoding": {"y": {"field": "low", "type": "quantitative"},
                      "y2": {"field": "high"}}},
        *({"mark": {"type": "text", "baseline": "bottom", "dy": dy},
           "encoding": {"y": {"field": "anchor", "type": "quantitative"},
                        "text": {"field": field}}}
          for field, dy in (("last_line", -3), ("first_line", -17))),
    ]
    names = [r["name"] for r in rows]
    slanted = max((display_width(n) for n in names), default=0) > 10
    x = {"field": "name", "type": "nominal", "sort": names,
         "axis": {"title": x_title, "labelAngle": -30 if slanted else 0}}
    for layer in layers:
        layer["encoding"]["x"] = x
    rules = ([(0.0, None)] if zero_line else []) + ([(level, [5, 3])] if level is not None
                                                     else [])
    for at, dash in rules:
        layers.append({"data": {"values": [{"level": at}]},
                       "mark": {"type": "rule", "color": "#555555" if dash else "#333333",
                                **({"strokeDash": dash} if dash else {})},
                       "encoding": {"y": {"field": "level", "type": "quantitative"}}})
    return {**_title(title), "width": max(size[0] - 120, 160), "height": size[1] - 120,
            "data": {"values": rows}, "layer": layers}


def distribution(data: pd.DataFrame, *, x: str = "score", y: str | None = "value",
                 scale: str | None = None, unit: str | None = None,
                 names: dict | None = None, title: str | None = None, size=(800, 450),
                 **_mpl) -> dict:
    """:func:`crmkit.charts.distribution`: a bar per score, NPS scores coloured by group."""
    heights, unit = charts.distribution_frame(data, x=x, y=y, scale=scale, unit=unit)
    text = charts._TEXT
    groups = [charts.nps_band(s) for s in heights.index] if scale == "nps" else None
    rows = _records({"name": charts.score_names(heights, names),
                     "value": heights.to_numpy(dtype=float),
                     "label": [charts.value_text(v, unit) for v in heights],
                     "group": ([charts.nps_band_name(g) for g in groups]
                               if groups else [None] * len(heights))})
    color = ({"field": "group", "type": "nominal", "sort": None, "title": None,
              "scale": {"domain": [charts.nps_band_name(b) for b in charts.NPS_BANDS],
                        "range": [charts.NPS_COLORS[b] for b in charts.NPS_BANDS]},
              "legend": {"orient": "bottom"}}
             if groups else {"value": charts.MAIN_COLOR})
    top = max([0.0, *[r["value"] for r in rows if r["value"] is not None]])
    return {
        **_title(title), "width": max(size[0] - 100, 140), "height": size[1] - 110,
        "data": {"values": rows},
        "encoding": {"x": {"field": "name", "type": "ordinal", "sort": None,
                           "axis": {"title": axis_title(x), "labelAngle": 0}},
                     "y": {"field": "value", "type": "quantitative",
                           "scale": {"domain": [0, top * 1.15 if top > 0 else 1]},
                           "axis": value_axis(unit, text["responses"] if unit == "count"
                                              else text["share"])}},
        "layer": [{"mark": "bar", "encoding": {
                      "color": color,
                      "tooltip": [{"field": "name", "title": axis_title(x)},
                                  {"field": "label", "title": tr("Value")}]}},
                  {"mark": {"type": "text", "baseline": "bottom", "dy": -2},
                   "encoding": {"text": {"field": "label"}}}],
    }


def survival(curves: pd.DataFrame, *, group: str | None = "group", time: str = "time",
             value: str = "survival", ci_lower: str | None = "ci_lower",
             ci_upper: str | None = "ci_upper", title: str | None = None, size=(800, 450),
             **_mpl) -> dict:
    """:func:`crmkit.charts.survival`: Kaplan-Meier steps per group with shaded bands."""
    charts._check_columns(curves, "curves", group=group, time=time, value=value,
                          ci_lower=ci_lower, ci_upper=ci_upper)
    groups = charts._groups(curves, group)
    parts = [part.sort_values(time, kind="stable").assign(
        _series=label_text(key) if key is not None else axis_title(value)) for key, part in groups]
    frame = pd.concat(parts, ignore_index=True) if parts else curves.assign(_series=[])
    band = ci_lower is not None and ci_upper is not None
    rows = _records({"series": frame["_series"], "time": frame[time], "value": frame[value],
                     "low": frame[ci_lower] if band else [None] * len(frame),
                     "high": frame[ci_upper] if band else [None] * len(frame)})
    color = {"field": "series", "type": "nominal", "sort": None,
             "legend": {"title": None} if len(groups) > 1 else None}
    x = {"field": "time", "type": "quantitative", "scale": {"domainMin": 0},
         "axis": {"title": axis_title(time)}}
    layers = []
    if band:
        layers.append({"mark": {"type": "area", "interpolate": "step-after", "opacity": 0.15},
                       "encoding": {"x": x, "y": {"field": "low", "type": "quantitative"},
                                    "y2": {"field": "high"}, "color": color}})
    layers.append({"mark": {"type": "line", "interpolate": "step-after"},
                   "encoding": {
                       "x": x, "color": color,
                       "y": {"field": "value", "type": "quantitative",
                             "scale": {"domain": [0, 1.02], "nice": False},
                             "axis": value_axis("percent", axis_title(value))},
                       "tooltip": [{"field": "series", "title": tr("Group")},
                                   {"field": "time", "title": axis_title(time)},
                                   {"field": "value", "title": axis_title(value),
                                    "format": ".1%"}]}})
    return {**_title(title), "width": size[0] - 180, "height": size[1] - 90,
            "data": {"values": rows}, "layer": layers}


def silhouette(table: pd.DataFrame, *, k: str = "k", score: str = "silhouette",
               chosen: str | None = "chosen", title: str | None = None, size=(400, 450),
               **_mpl) -> dict:
    """:func:`crmkit.charts.silhouette`: the score per k, the chosen k ringed and named."""
    frame, best = charts.silhouette_frame(table, k=k, score=score, chosen=chosen)
    rows = _records({"k": frame[k], "score": frame[score], "best": best,
                     "label": [charts.chart_text("chosen").format(k=v) if b else ""
                               for v, b in zip(frame[k], best)]})
    scores = [r["score"] for r in rows if r["score"] is not None] or [0.0]
    span = (max(scores) - min(scores)) or 0.1
    y = {"field": "score", "type": "quantitative", "axis": {"title": axis_title(score)},
         "scale": {"domain": [min(scores) - 0.2 * span, max(scores) + 0.45 * span],
                   "nice": False}}
    x = {"field": "k", "type": "quantitative", "axis": {"title": "k", "tickMinStep": 1}}
    return {
        **_title(title), "width": max(size[0] - 90, 120), "height": size[1] - 100,
        "data": {"values": rows}, "encoding": {"x": x, "y": y},
        "layer": [
            {"mark": {"type": "line", "point": True, "color": charts.MAIN_COLOR},
             "encoding": {"tooltip": [{"field": "k"}, {"field": "score", "format": ".3f"}]}},
            {"transform": [{"filter": "datum.best"}],
             "mark": {"type": "point", "size": 220, "strokeWidth": 2,
                      "color": charts.MISSED_COLOR}},
            {"transform": [{"filter": "datum.best"}],
             "mark": {"type": "text", "align": "left", "dx": 9, "dy": -9},
             "encoding": {"text": {"field": "label"}}},
        ],
    }


def _heatmap(rows: list[dict], *, x_title: str | None, y_title: str | None, scale: dict,
             columns: list[str], lines: list[str], title, size, dark_above: float,
             tooltip: list[dict]) -> dict:
    """Cells coloured by ``z`` and labelled with ``label`` (white on dark cells)."""
    return {
        **_title(title), "width": max(size[0] - 230, 160),
        "height": {"step": 24}, "data": {"values": rows},
        "encoding": {"x": {"field": "column", "type": "ordinal", "sort": columns,
                           "axis": {"title": x_title, "orient": "bottom",
                                    "labelAngle": -30 if max(map(display_width, columns),
                                                             default=0) > 12 else 0}},
                     "y": {"field": "row", "type": "ordinal", "sort": lines,
                           "axis": {"title": y_title}}},
        "layer": [
            {"mark": "rect", "encoding": {
                "color": {"field": "z", "type": "quantitative", "scale": scale,
                          "legend": None},
                "tooltip": tooltip}},
            {"mark": {"type": "text", "fontSize": 10},
             "encoding": {"text": {"field": "label"},
                          "color": {"condition": {"test": f"abs(datum.z) > {dark_above}",
                                                  "value": "white"},
                                    "value": "#222222"}}},
        ],
    }


def cluster_profile(profile: pd.DataFrame, *, features=None, title: str | None = None,
                    size=(800, 450), **_mpl) -> dict:
    """:func:`crmkit.charts.cluster_profile`: cluster means, coloured red high / blue low
    against the other clusters."""
    z, means, features, names = charts.cluster_profile_frame(profile, features=features)
    limit = max(1.0, float(np.abs(z).max())) if z.size else 1.0
    columns = [axis_title(f) for f in features]
    rows = [{"row": names[r], "column": columns[c], "z": _json(z[r, c]),
             "label": charts.compact_number(means.iat[r, c]),
             "mean": _json(means.iat[r, c])}
            for r in range(z.shape[0]) for c in range(z.shape[1])]
    return _heatmap(rows, x_title=None, y_title=None, columns=columns, lines=names,
                    scale={"scheme": "redblue", "reverse": True, "domain": [-limit, limit]},
                    dark_above=0.6 * limit, title=title, size=size,
                    tooltip=[{"field": "row", "title": tr("Cluster")},
                             {"field": "column", "title": tr("Feature")},
                             {"field": "label", "title": tr("Mean")}])


def heatmap_cohorts(retention, *, cohort_size: pd.Series | None = None,
                    title: str | None = None, size=(800, 450), **_mpl) -> dict:
    """:func:`crmkit.charts.heatmap_cohorts`: retention per cohort and month, blank where
    not observed."""
    values, columns, cohorts = charts.cohort_frame(retention, cohort_size=cohort_size)
    rows = [{"row": cohorts[r], "column": columns[c], "z": float(values[r, c]),
             "label": i18n.percent(values[r, c], 0)}
            for r in range(values.shape[0]) for c in range(values.shape[1])
            if np.isfinite(values[r, c])]
    text = charts._TEXT
    return _heatmap(rows, x_title=text["periods"], y_title=text["cohort"], columns=columns,
                    lines=cohorts, scale={"scheme": "blues", "domain": [0, 1]},
                    dark_above=0.6, title=title, size=size,
                    tooltip=[{"field": "row", "title": text["cohort"]},
                             {"field": "column", "title": text["periods"]},
                             {"field": "label", "title": tr("Retention")}])


BUILDERS = {"trend": trend, "bar": bar, "leaderboard": leaderboard, "funnel": funnel,
            "rate_bars": rate_bars, "survival": survival, "nps_bars": nps_bars,
            "distribution": distribution, "silhouette": silhouette,
            "cluster_profile": cluster_profile, "heatmap_cohorts": heatmap_cohorts}


def supports(chart: charts.Chart) -> bool:
    """Whether every panel of ``chart`` has a Vega-Lite builder."""
    return all(p is None or p.kind in BUILDERS for p in chart.panels)
