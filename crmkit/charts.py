"""Report charts: one theme for every report, and one function per chart the reports draw.

Every chart is ``name(data, *, columns..., ax=None, title=None, **kwargs) -> Axes``, in the
manner of seaborn: a small computed frame in (a KPI or model result, never raw data),
keyword-only options, ``ax=None`` meaning the current axes (a new figure of a report size
when there is none), the Axes returned. Charts load no data, compute no KPI and never touch
``plt.title`` or other global state; ``**kwargs`` go to the matplotlib call that draws the
marks (``ax.plot``, ``ax.barh`` ...).

A section describes a figure as a :class:`Chart` of :class:`Panel` (a chart function's name,
data and options) rather than drawing it: :meth:`Chart.figure` draws it with these
functions for a report, :mod:`crmkit.vegalite` turns it into a spec the browser draws in
the live filter panel.

The theme is set by calling :func:`use_theme` once per notebook; importing this module
changes nothing.

Text that comes from data (a product, region or rep name) is drawn literally: ``$`` is
escaped (see :func:`plain_text`), so "$5 gift card" is not read as mathtext. Money axes
and labels use thousands separators and shorten millions (1,234 / 1.2M); rates are
fractions shown as percentages.

Languages: every text a chart writes itself (default axis titles, legend entries,
"Other", "target", value labels) is an English message translated with
:func:`crmkit.i18n.tr` into the active language, and numbers, percentages and months are
written by Babel in the active locale (en: 1.2M, Apr 2025; zh: 374.48万, 3.74亿,
2025年4月). A :class:`Chart` keeps the language it was described in and draws in it (its
tick formatters too, which run when the figure is drawn), whatever language is active
later. Chinese text needs a CJK font: :func:`use_theme` finds one (:func:`cjk_font`), and
a Chart in Chinese draws with it first; Chinese data in an English chart still draws, the
CJK font being a fallback after the Latin one. Category names are shortened by display
width (a CJK character counts two, :func:`shorten_label`).
"""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import dates as mdates
from matplotlib import font_manager, patches, ticker
from matplotlib.axes import Axes

from crmkit import i18n
from crmkit.i18n import N_, tr
from crmkit.metrics.satisfaction import CSAT_SCALE_MAX, DETRACTOR_MAX, PROMOTER_MIN
from crmkit.metrics.results import format_value

# -- theme -------------------------------------------------------------------------------

FIGSIZE = (8.0, 4.5)  # inches: fills the report column at a readable text size
FIG_WIDTH = FIGSIZE[0]

# seaborn's "colorblind" palette, spelled out so reports do not change if seaborn's does.
PALETTE = ["#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4",
           "#949494", "#ece133", "#56b4e9"]
MAIN_COLOR = PALETTE[0]
MET_COLOR = PALETTE[0]  # a rep at or above target
MISSED_COLOR = PALETTE[1]  # below target
MUTED_COLOR = "#bdbdbd"  # no target, too few to say
HIGHLIGHT_COLOR = "#eeeeee"  # a shaded stretch of time (the report period)
TOO_FEW_HATCH = "///"
NPS_COLORS = {"detractor": PALETTE[3], "passive": PALETTE[7], "promoter": PALETTE[2]}

REPORT_RC = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": 100,
    "savefig.dpi": 150,  # crisp when saved by hand; reports embed figure_png (figure.dpi)
    # Long category labels and outside legends are fitted by one tight layout pass at draw
    # time, so figures are drawn once (no bbox_inches="tight" pass, see figure_png).
    "figure.autolayout": True,
    "axes.titley": 1.0,  # a fixed title position: no search above the axes on every draw
    "axes.titlesize": "large",
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    # Plain "1e6" offset text instead of mathtext on axes a formatter does not cover.
    "axes.formatter.use_mathtext": False,
}

LANGUAGES = ("en", "zh")

# Families tried in order for Chinese text; the first one matplotlib knows wins. Simplified
# Chinese first (the report language), then the other Noto/Source Han regional variants,
# which cover the same common hanzi, then the usual OS fonts.
CJK_FONT_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR", "Source Han Sans",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC",
    "Hiragino Sans GB", "SimHei", "Heiti SC", "Arial Unicode MS",
)

# Han, kana, hangul, CJK punctuation and full-width forms.
_CJK_TEXT = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")

# Words the charts write themselves, as English messages (the catalogs' ids): read them
# through chart_text() / _TEXT, which translate into the active language
# (crmkit/locales/<language>.po).
CHART_TEXT = {
    "en": {
        "previous": N_("previous year"),
        "series_previous": N_("{series}, previous year"),  # a dashed line's legend entry
        "current": N_("current"),
        "interval": N_("95% CI"),
        "other": N_("Other"),
        "target": N_("Target"),
        "no_target": N_("no target"),
        "too_few": N_("too few\n(n={n})"),  # two lines: fits over a narrow bar
        "no_data": N_("no data"),
        "blank": N_("(blank)"),
        "cohort": N_("Cohort"),
        "cohort_size": N_("{cohort}  n={n}"),
        "periods": N_("Periods since first order"),
        "cluster": N_("Cluster {label}"),
        "cluster_size": N_("Cluster {label} ({n}, {share})"),
        "chosen": N_("k = {k} (chosen)"),
        "detractor": N_("Detractors (0-{max})"),
        "passive": N_("Passives"),
        "promoter": N_("Promoters ({min}-10)"),
        "responses": N_("Responses"),
        "share": N_("Share of responses"),
        "overall": N_("Overall {value}"),
        "dashed_overall": N_("(dashed: overall {value})"),
        "with_share": N_("{value} ({share})"),  # a bar's label: "1.2M (34.1%)"
        "met": N_("met"),
        "below_target": N_("below target"),
    },
}


def chart_text(key: str) -> str:
    """A text the charts write (a key of ``CHART_TEXT["en"]``) in the active language."""
    return tr(CHART_TEXT["en"][key])


class _ChartWords(Mapping):
    """``CHART_TEXT["en"]`` read in the active language: ``_TEXT["other"]`` -> "其他"."""

    def __getitem__(self, key: str) -> str:
        return chart_text(key)

    def __iter__(self):
        return iter(CHART_TEXT["en"])

    def __len__(self) -> int:
        return len(CHART_TEXT["en"])


_TEXT = _ChartWords()


def _english() -> bool:
    """Whether the active language is English, whose charts keep their own number formats
    (1,234 / 1.2M, one unit per axis) and matplotlib's date labels."""
    return i18n.current().language == i18n.SOURCE_LANGUAGE


class CJKFontWarning(UserWarning):
    """Warned when Chinese, Japanese or Korean text would be drawn as empty boxes."""


def cjk_font(preferences: Sequence[str] = CJK_FONT_FAMILIES) -> str | None:
    """The name of an installed font family that can draw Chinese, or None.

    Looks the names in ``preferences`` up in matplotlib's font list (Debian's
    fonts-noto-cjk gives "Noto Sans CJK SC"), then any family whose name says CJK, then any
    font whose character map has common hanzi (a sans-serif one first). Fonts installed
    after matplotlib cached its font list are found too: the system font directories are
    searched for files the cache does not know, which are added to matplotlib's font
    manager (that is the only side effect).
    """
    found = _find_family(preferences)
    if found is None and _add_uncached_system_fonts():
        found = _find_family(preferences)
    return found if found is not None else _font_with_hanzi()


def _find_family(preferences: Sequence[str]) -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in preferences:
        if name in installed:
            return name
    others = sorted(n for n in installed if "CJK" in n and "Mono" not in n)
    return others[0] if others else None


_HANZI_PROBE = "中文的"  # common hanzi every Chinese font has
_SCANNED: dict[int, str | None] = {}  # font list size -> the family found: scan once


def _covers(path: str, text: str) -> bool:
    try:
        font = font_manager.get_font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(ch)) for ch in text)


def _font_with_hanzi() -> str | None:
    """A family of matplotlib's font list whose font has hanzi (sans-serif and proportional
    first), or None; for fonts named neither in CJK_FONT_FAMILIES nor "CJK"."""
    entries = font_manager.fontManager.ttflist
    if len(entries) not in _SCANNED:
        def rank(entry) -> tuple:
            name = entry.name
            return (any(w in name for w in ("Serif", "Ming", "Song", "Sung")),
                    "Mono" in name, name)

        # "Last Resort" fonts map every character to a box: they "cover" everything.
        found = next((f.name for f in sorted(entries, key=rank)
                      if "Last Resort" not in f.name and _covers(f.fname, _HANZI_PROBE)),
                     None)
        _SCANNED[len(entries)] = found
    return _SCANNED[len(entries)]


def _add_uncached_system_fonts() -> bool:
    """Add system font files matplotlib's cached font list lacks; True if any were added."""
    known = {f.fname for f in font_manager.fontManager.ttflist}
    added = False
    for path in font_manager.findSystemFonts(fontext="ttf"):  # ttf, otf and ttc
        if path in known:
            continue
        try:
            font_manager.fontManager.addfont(path)
            added = True
        except (OSError, RuntimeError, ValueError):
            continue  # an unreadable font file is not ours to fix
    return added


_WARNED: set[str] = set()  # messages already shown: once per session, not once per chart


def _warn_cjk(message: str, *, stacklevel: int) -> None:
    if message in _WARNED:
        return
    _WARNED.add(message)
    warnings.warn(message, CJKFontWarning, stacklevel=stacklevel + 1)


_NO_CJK_FONT = (
    "No CJK font found, so Chinese text in charts will show as empty boxes. Install one "
    "(Debian/Ubuntu: apt-get install fonts-noto-cjk; conda: font-ttf-noto-cjk), then call "
    "crmkit.charts.use_theme('zh') again."
)


def use_theme(language: str = "en", *, font_scale: float = 1.0) -> str | None:
    """Set the report theme on matplotlib's rcParams: call once at the top of a notebook.

    seaborn's whitegrid style with :data:`PALETTE`, :data:`REPORT_RC` (figure size, title
    and grid) and fonts for ``language`` ("en" or "zh"). For "zh" a CJK font
    (:func:`cjk_font`) comes first so Chinese renders; for "en" an installed CJK font is a
    fallback after the Latin font, so a Chinese product name still renders. When "zh" is
    asked for and no CJK font exists, a :class:`CJKFontWarning` says so, once.

    Returns the CJK font family in use, or None.
    """
    if language not in LANGUAGES:
        raise ValueError(f"Unknown language {language!r} for the report theme; "
                         f"choose one of {', '.join(LANGUAGES)}.")
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE,
                  font_scale=font_scale, rc=REPORT_RC)
    family = cjk_font()
    if family is None:
        if language == "zh":
            _warn_cjk(_NO_CJK_FONT, stacklevel=2)
        return None
    # matplotlib falls back glyph by glyph along font.family (3.6+), so one list serves
    # both: Latin from the first font that has it, hanzi from the CJK font.
    mpl.rcParams["font.family"] = ([family, "sans-serif"] if language == "zh"
                                   else ["sans-serif", family])
    return family


_NO_CJK_AT: set[int] = set()  # sizes of matplotlib's font list at which none had CJK


def _chart_cjk_font() -> str | None:
    """:func:`cjk_font` for drawing a chart: a search that found no CJK font (which scans
    the system font folders) is not repeated for every chart, only when matplotlib's font
    list has changed (use_theme always searches again)."""
    if len(font_manager.fontManager.ttflist) in _NO_CJK_AT:
        return None
    family = cjk_font()
    if family is None:
        _NO_CJK_AT.add(len(font_manager.fontManager.ttflist))
    return family


def font_families(language: str) -> list[str] | None:
    """``font.family`` for a chart in ``language``: the current chain with the CJK font
    (:func:`cjk_font`) first for "zh", last (a fallback after the Latin fonts, for Chinese
    data in an English report) otherwise; None when no CJK font is installed. The theme's
    own chains (:func:`use_theme`) are left as they are."""
    family = _chart_cjk_font()
    if family is None:
        return None
    chain = [f for f in mpl.rcParams["font.family"] if f != family]
    return [family, *chain] if language == "zh" else [*chain, family]


@contextlib.contextmanager
def drawing(setting: i18n.Setting | str | None = None):
    """The block draws charts in a language: its words and formats (:func:`i18n.using`)
    and a font chain that draws its script (:func:`font_families`)."""
    with i18n.using(i18n.current() if setting is None else setting) as words:
        families = font_families(words.language)
        with mpl.rc_context({"font.family": families} if families else {}):
            yield words


def figure_png(fig) -> bytes:
    """``fig`` as PNG bytes at its own dpi, as reports and the filter panel embed it.

    One layout pass and one draw: the theme's ``figure.autolayout`` fits labels and
    legends as the figure is drawn. ``savefig`` would draw a figure with a layout engine
    twice, and the inline backend's ``bbox_inches="tight"`` once more; the draw is most of
    a chart's cost, so the figure is drawn here on an Agg canvas and the pixels encoded.
    The figure is closed (pyplot would keep it).
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    try:
        canvas = FigureCanvasAgg(fig)
        _wrap_titles(fig, canvas.get_renderer())
        canvas.draw()
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(),
                                 "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        # Opaque (the theme's figures are white): RGB, and light compression, which
        # encodes twice as fast as the default for files of the same size.
        image.convert("RGB").save(buffer, format="png", compress_level=3)
        return buffer.getvalue()
    finally:
        plt.close(fig)


def _wrap_titles(fig, renderer) -> None:
    """Break an axes title that is wider than its axes into lines (a tight layout fits a
    figure's labels, not a title running off the figure's right edge)."""
    import textwrap

    for ax in fig.axes:
        # The theme titles on the left; matplotlib keeps each location's title as its own
        # Text (no public accessor to the object itself).
        for title in (ax.title, getattr(ax, "_left_title", None),
                      getattr(ax, "_right_title", None)):
            text = title.get_text() if title is not None else ""
            if not text:
                continue
            width = title.get_window_extent(renderer).width
            if width <= ax.bbox.width:
                continue
            lines = text.split("\n")
            chars = max(12, int(max(map(display_width, lines)) * ax.bbox.width / width))
            title.set_text("\n".join(
                wrap_text(line, chars) if _CJK_TEXT.search(line) else textwrap.fill(line, chars)
                for line in lines))


_NO_LINE_START = set("，。、；：！？）》」』〉】,.;:!?)]}%")


def wrap_text(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` display columns (a CJK character
    two, :func:`display_width`): between words, and between CJK characters, which need no
    space to break at; never before closing punctuation (，。）) or inside a character."""
    tokens: list[str] = []  # words, single wide characters and spaces
    for cluster in _clusters(text):
        wide = display_width(cluster) == 2
        if cluster.isspace():
            tokens.append(" ")
        elif cluster in _NO_LINE_START and tokens and not tokens[-1].isspace():
            tokens[-1] += cluster  # stays with what it closes
        elif wide or not tokens or tokens[-1].isspace() or display_width(tokens[-1][-1]) == 2:
            tokens.append(cluster)
        else:
            tokens[-1] += cluster
    lines, line = [], ""
    for token in tokens:
        if token.isspace():
            if line:
                line += " "
            continue
        if line and display_width(line) + display_width(token) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return "\n".join(lines)


def title_with_overall(title: str, overall: str) -> str:
    """``title`` naming the overall value a dashed line marks, on a second line when the
    title is long (side-by-side panels' titles would run into each other)."""
    suffix = _TEXT["dashed_overall"].format(value=overall)
    last_line = title.split("\n")[-1]
    if display_width(last_line) + display_width(suffix) > 44:
        return f"{title}\n{suffix}"
    # "Won by region (dashed: ...)"; a full-width bracket (zh "（虚线：...）") needs no space
    return f"{title}{'' if display_width(suffix[:1]) == 2 else ' '}{suffix}"


def _cjk_renderable() -> bool:
    """Whether a font in the current ``font.family`` chain has CJK glyphs."""
    for family in mpl.rcParams["font.family"]:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=family),
                                         fallback_to_default=False)
        except ValueError:
            continue
        if font_manager.get_font(path).get_char_index(ord("中")):
            return True
    return False


def _check_glyphs(texts: Iterable[object]) -> None:
    """Warn once when data text is Chinese/Japanese/Korean and no selected font can draw it."""
    if not any(_CJK_TEXT.search(str(t)) for t in texts if t is not None):
        return
    if _cjk_renderable():
        return
    if cjk_font() is None:
        _warn_cjk(_NO_CJK_FONT, stacklevel=4)
    else:
        _warn_cjk("Chart text contains Chinese, Japanese or Korean characters but the "
                  "selected font cannot draw them; call crmkit.charts.use_theme('zh') "
                  "(or use_theme() for English reports) before drawing.", stacklevel=4)


# -- text and number formatting ----------------------------------------------------------

def label_text(value: object) -> str:
    """A value as a chart writes it: missing values (None, NaN) read "(blank)"."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return _TEXT["blank"]
    return str(value)


def display_width(text: str) -> int:
    """The columns ``text`` takes in a monospaced sense: a wide (CJK, full-width)
    character counts two, a combining mark or other zero-width character none, anything
    else one. A Latin text's width is its length."""
    width = 0
    for ch in str(text):
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _clusters(text: str) -> list[str]:
    """``text`` as characters the way a reader counts them: a base character with its
    combining marks, variation selectors and zero-width-joined followers, a surrogate
    pair, is one. Cutting between two of these never splits a character."""
    out: list[str] = []
    join_next = False
    for ch in text:
        attach = bool(out) and (
            join_next or unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me")
            or "\ufe00" <= ch <= "\ufe0f" or ch == "\u200d"
            or ("\udc00" <= ch <= "\udfff" and "\ud800" <= out[-1][-1] <= "\udbff"))
        if attach:
            out[-1] += ch
        else:
            out.append(ch)
        join_next = ch == "\u200d"
    return out


LABEL_WIDTH = 40  # display columns of a category name on an axis: 40 Latin, 20 CJK


def shorten_label(text: str, width: int = LABEL_WIDTH, *, ellipsis: str = "…") -> str:
    """``text`` cut to ``width`` display columns (:func:`display_width`, a CJK character
    counting two, so a 40-column limit keeps 40 Latin or 20 Chinese characters) with
    ``ellipsis``; a text that fits is returned as it is. The cut is between whole
    characters (:func:`_clusters`), trailing spaces dropped."""
    text = str(text)
    if display_width(text) <= width:
        return text
    room = width - display_width(ellipsis)
    kept, used = [], 0
    for cluster in _clusters(text):
        w = display_width(cluster)
        if used + w > room:
            break
        kept.append(cluster)
        used += w
    return "".join(kept).rstrip() + ellipsis


def plain_text(value: object) -> str:
    """``value`` as text matplotlib draws literally (:func:`label_text` with every ``$``
    escaped, so never mathtext). Do not combine with ``rcParams["text.parse_math"] =
    False``, which would then show the backslashes.
    """
    return label_text(value).replace("$", r"\$")


# The columns of the frames the chart functions take by default (survival's time and
# survival, silhouette's score), named as English axis titles name them.
_CHART_COLUMNS = {"time": N_("Time"), "survival": N_("Survival"),
                  "silhouette": N_("Silhouette")}


def axis_title(column: object) -> str:
    """A column name as an axis title: ``periods_since_first`` -> "Periods since first".
    In another language, a column :mod:`crmkit.labels` names reads its translated name
    (``revenue`` -> 收入); other columns are data (an attribute of the user's) and read as
    they are."""
    if not _english() and isinstance(column, str):
        from crmkit.labels import COLUMNS, column_label

        if column in _CHART_COLUMNS:
            return tr(_CHART_COLUMNS[column])
        if column in COLUMNS:
            return column_label(column)
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _axis_label(column: object) -> str:
    """:func:`axis_title` for matplotlib (see :func:`plain_text`)."""
    return plain_text(axis_title(column))


def reference_level(reference: object) -> float:
    """The value of a reference line: a Rate, Nps or Measure (its ``value``) or a number."""
    return float(getattr(reference, "value", reference))


# (limit, suffix) from largest: values at or above a limit are shown in its unit.
_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"))


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def compact_number(value: float, *, scale: tuple[float, str] | None = None) -> str:
    """A number for an axis or a label: 1,234 / 0.5 / 12,346 / 1.25M / 3B.

    Thousands separators below a million; millions, billions and trillions shortened with
    at most two decimals. ``scale`` forces one unit (``(1e6, "M")``) so every tick on an
    axis uses the same one. Non-finite values give "".

    In another language than English, Babel writes the number the active locale's way
    (:func:`crmkit.i18n.compact`): zh 1,234 / 1.2万 / 374.48万 / 3.74亿, the unit from the
    locale's short compact patterns; ``scale`` is then a (divisor, unit) of
    :func:`_local_scale`, e.g. ``(1e4, "万")``.
    """
    if value is None or not np.isfinite(value):
        return ""
    if value == 0:
        return "0"
    if not _english():
        return _local_compact(float(value), scale)
    if scale is None:
        scale = next(((lim, s) for lim, s in _SCALES if abs(value) >= lim), (1.0, ""))
    limit, suffix = scale
    if suffix:
        return _trim(f"{value / limit:,.2f}") + suffix
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return _trim(f"{value:,.2f}")


def _compact_patterns() -> dict:
    """The active locale's short compact decimal patterns: magnitude ("10000") ->
    NumberPattern ("0万")."""
    formats = i18n.current().locale.compact_decimal_formats["short"]
    return formats.get("other") or next(iter(formats.values()), {})


def _local_scale(top: float) -> tuple[float, str]:
    """(divisor, unit) in which the active locale shortens numbers as large as ``top``,
    from its compact patterns: zh 15,000 -> (1e4, "万"), 3.7e8 -> (1e8, "亿"), 5,000 ->
    (1, "") (no unit: zh does not shorten thousands)."""
    patterns = _compact_patterns()
    if not patterns or not np.isfinite(top) or top < 1:
        return (1.0, "")
    largest = max(len(k) - 1 for k in patterns)
    magnitude = 10 ** min(int(math.floor(math.log10(top))), largest)
    pattern = patterns.get(str(magnitude))
    zeros = pattern.pattern.count("0") if pattern is not None else 0
    unit = pattern.suffix[0] if pattern is not None else ""
    if not zeros or not unit.strip():
        return (1.0, "")
    return (float(magnitude) / 10 ** (zeros - 1), unit)


def _local_compact(value: float, scale: tuple[float, str] | None) -> str:
    """:func:`compact_number` in a language other than English (Babel, active locale)."""
    from babel import numbers

    locale = i18n.current().locale
    if scale is None:
        if _local_scale(abs(value))[1]:
            return i18n.compact(value)  # 374.48万, 3.74亿
        scale = (1.0, "")
    divisor, unit = scale
    if unit:
        return numbers.format_decimal(value / divisor, "#,##0.##", locale=locale) + unit
    return numbers.format_decimal(value, "#,##0" if abs(value) >= 1000 else "#,##0.##",
                                  locale=locale)


def _axis_scale(top: float) -> tuple[float, str]:
    """The one unit of an axis whose largest tick is ``top``."""
    if not _english():
        return _local_scale(top)
    return next(((lim, s) for lim, s in _SCALES if top >= lim), (1.0, ""))


class CompactFormatter(ticker.Formatter):
    """Tick labels by :func:`compact_number`, one unit (none, M, B, T; zh 万, 亿) for the
    whole axis. Formats in the language active when it was made: ticks are formatted when
    the figure is drawn, which may be after the report's language was active."""

    def __init__(self) -> None:
        self._scale: tuple[float, str] = (1.0, "")
        self._words = i18n.current()

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        finite = [abs(v) for v in locs if np.isfinite(v)]
        top = max(finite, default=0.0)
        with i18n.using(self._words):
            self._scale = _axis_scale(top)

    def __call__(self, x, pos=None) -> str:
        with i18n.using(self._words):
            return compact_number(x, scale=self._scale)


class LocalPercentFormatter(ticker.PercentFormatter):
    """matplotlib's PercentFormatter (as many decimals as the axis' range needs) with the
    text written by Babel in the language active when it was made (zh: 12.5%)."""

    def __init__(self, xmax: float = 1.0) -> None:
        super().__init__(xmax=xmax)
        self._words = i18n.current()

    def format_pct(self, x, display_range) -> str:
        scaled_range = self.convert_to_pct(display_range)
        decimals = (0 if scaled_range <= 0 else
                    min(5, max(0, math.ceil(2.0 - math.log10(2.0 * scaled_range)))))
        with i18n.using(self._words):
            return i18n.percent(self.convert_to_pct(x) / 100.0, decimals)


class LocalSignedFormatter(ticker.Formatter):
    """+20 / -5 / 0 (an NPS axis), by Babel in the language active when it was made."""

    def __init__(self) -> None:
        self._words = i18n.current()

    def __call__(self, x, pos=None) -> str:
        with i18n.using(self._words):
            return i18n.signed(x)


def value_formatter(unit: str) -> ticker.Formatter:
    """The tick formatter for a value axis in ``unit`` (the units of crmkit.metrics):
    percent -> 12.5%, nps -> +20, anything else -> :class:`CompactFormatter`. English
    keeps matplotlib's formatters; other languages write through Babel."""
    if unit == "percent":
        return ticker.PercentFormatter(xmax=1.0) if _english() else LocalPercentFormatter()
    if unit == "nps":
        return (ticker.FuncFormatter(lambda v, _pos: f"{v:+.0f}") if _english()
                else LocalSignedFormatter())
    return CompactFormatter()


def format_value_axis(ax: Axes, unit: str, *, axis: str = "y") -> Axes:
    """Format the ``axis`` ("x" or "y") of ``ax`` as values in ``unit``; returns ``ax``."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(value_formatter(unit))
    return ax


def value_text(value: float, unit: str) -> str:
    """A value label: currency 1,234 / 1.2M, count 1,234, percent 12.3%, nps +12,
    score 4.21; "" when missing."""
    if value is None or not np.isfinite(value):
        return ""
    if unit in ("count", "percent", "nps", "score"):
        return format_value(value, unit)
    return compact_number(value)  # money on a chart: 1.2M reads faster than 1,234,567.00


# -- shared plumbing ---------------------------------------------------------------------

def _get_axes(ax: Axes | None, size: tuple[float, float] = FIGSIZE) -> Axes:
    """``ax``, else the current axes, else the axes of a new figure of ``size``."""
    if ax is not None:
        return ax
    if plt.get_fignums():
        return plt.gca()
    return plt.figure(figsize=size).add_subplot()


def _check_columns(data: object, name: str = "data", **columns: object) -> None:
    """Raise when ``data`` is not a DataFrame or lacks a named column, naming the option."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`{name}` must be a pandas DataFrame, got {type(data).__name__}.")
    for option, column in columns.items():
        if column is not None and column not in data.columns:
            raise ValueError(
                f"Could not interpret value `{column}` for `{option}`. An entry with this "
                f"name does not appear in `{name}` (columns: {', '.join(map(str, data.columns))})."
            )


def _check_unique(data: pd.DataFrame, column: str, option: str, name: str = "data") -> None:
    """Charts draw one mark per category; aggregating is the caller's (the KPI's) job."""
    duplicated = data[column][data[column].duplicated()]
    if len(duplicated):
        raise ValueError(
            f"`{name}` has more than one row for {duplicated.iloc[0]!r} in `{column}` "
            f"(`{option}`); pass one row per category (aggregate first)."
        )


def _finish(ax: Axes, title: str | None, texts: Iterable[object] = ()) -> Axes:
    if title is not None:
        ax.set_title(plain_text(title))
    _check_glyphs([title, *texts])
    return ax


def _groups(data: pd.DataFrame, hue: str | None) -> list[tuple[object, pd.DataFrame]]:
    """The groups of ``hue`` in sorted order (the colours and legend follow it). Names sort
    by code point: Chinese names then come in Unicode order, not pinyin order; a pinyin
    sort would need a dependency (pypinyin or ICU) for a legend order, and a chart whose
    order means something (a ranking) keeps its frame's order instead."""
    if hue is None:
        return [(None, data)]
    return list(named(data, hue).groupby(hue, sort=True, observed=True))


def named(data: pd.DataFrame, column: str) -> pd.DataFrame:
    """The rows of ``data`` whose ``column`` names a group: a chart never draws a missing
    value (None, NaN, blank) as a bar, line or category of its own."""
    values = data[column]
    known = values.notna() & (values.astype(str).str.strip() != "")
    return data if known.all() else data[known]


def _time_values(values: pd.Series) -> pd.Series:
    """Periods as timestamps so matplotlib's date axis can place them."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.to_timestamp()
    return values


def _name(value: object) -> str:
    """A category's name (data: a product, region, rep) as an axis or legend draws it:
    :func:`label_text`, shortened to :data:`LABEL_WIDTH` display columns, ``$`` escaped."""
    return plain_text(shorten_label(label_text(value)))


def date_locator(times: pd.Series) -> mdates.DateLocator:
    """Where a date axis of ``times`` has its ticks: monthly points one tick per month (or
    per few months, never weekly ticks), anything else matplotlib's automatic choice. The
    Vega-Lite spec asks it for the same ticks (crmkit.vegalite.trend)."""
    if len(times) and (times.dt.day == 1).all() and times.nunique() <= 48:
        return mdates.MonthLocator(interval=max(1, -(-times.nunique() // 12)))
    return mdates.AutoDateLocator()


def date_tick_labels(ticks: Sequence) -> list[str]:
    """The labels of date ticks in the active locale, by Babel: month starts read as
    months, the year on the first tick and where it changes (zh 2025年11月, 12月,
    2026年1月; en Nov 2025, Dec, Jan 2026); ticks on 1 January only as years (2025年);
    other days as dates (2025年4月1日, 4月15日)."""
    from babel import dates as babel_dates

    days = [pd.Timestamp(t).date() for t in ticks]
    locale = i18n.current().locale

    def new_year(i: int) -> bool:
        return i == 0 or days[i].year != days[i - 1].year

    if all(d.day == 1 for d in days):
        if len(days) > 1 and all(d.month == 1 for d in days):
            return [babel_dates.format_skeleton("y", d, locale=locale) for d in days]
        return [i18n.month(d) if new_year(i) or d.month == 1
                else babel_dates.format_skeleton("MMM", d, locale=locale)
                for i, d in enumerate(days)]
    return [i18n.date(d) if new_year(i) else babel_dates.format_skeleton("MMMd", d,
                                                                          locale=locale)
            for i, d in enumerate(days)]


class LocalDateFormatter(ticker.Formatter):
    """Date tick labels by :func:`date_tick_labels` in the language active when it was
    made (matplotlib's ConciseDateFormatter writes English month names)."""

    def __init__(self) -> None:
        self._words = i18n.current()

    def format_ticks(self, values) -> list[str]:
        with i18n.using(self._words):
            return date_tick_labels([mdates.num2date(v) for v in values])

    def __call__(self, x, pos=None) -> str:
        with i18n.using(self._words):
            return i18n.date(mdates.num2date(x))


def _rotate_long_labels(ax: Axes, names: Sequence[str], *, longest: int = 10) -> None:
    """Slant x tick labels when one is wider than ``longest`` display columns (a CJK
    character counts two), so none overlap."""
    if max((display_width(n) for n in names), default=0) > longest:
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")


def _bar_height(n: int) -> float:
    """Figure height for ``n`` horizontal bars: readable labels, never a sliver."""
    return float(min(max(2.5, 0.4 * n + 1.2), 14.0))


# -- time series -------------------------------------------------------------------------

def trend(data: pd.DataFrame, *, x: str, y: str, hue: str | None = None,
          previous: pd.DataFrame | None = None,
          previous_offset: pd.DateOffset = pd.DateOffset(years=1),
          unit: str = "currency", band: tuple[str, str] | None = None,
          highlight: tuple | None = None, highlight_label: str | None = None,
          hollow: str | None = None, hollow_label: str | None = None,
          ylim: tuple[float, float] | None = None, ax: Axes | None = None,
          title: str | None = None, **kwargs) -> Axes:
    """Lines of ``y`` over time ``x``, one per ``hue`` group, e.g. revenue per month.

    ``data``: one row per ``x`` (and ``hue``) such as ``sales_over_time`` ->
    period, revenue, orders. ``previous``: the same columns for the comparison period
    (``sales_over_time`` over ``filters.same_period_last_year()``), drawn dashed in the
    group's colour and moved forward by ``previous_offset`` so each point sits over the
    period it compares with. The value axis is in ``unit`` and starts at 0 when no value is
    negative. ``band``: the (low, high) columns of an interval, shaded (without ``hue``).
    ``highlight``: (start, end) of a stretch of time shaded grey, e.g. the report period,
    named ``highlight_label`` in the legend. ``hollow``: a boolean column; its points are
    drawn hollow, named ``hollow_label`` (months with too few responses). ``ylim`` fixes
    the value axis. With any of the shaded or hollow marks the legend sits outside the
    axes. ``kwargs`` go to ``ax.plot``.
    """
    _check_columns(data, x=x, y=y, hue=hue, hollow=hollow)
    if band is not None:
        _check_columns(data, low=band[0], high=band[1])
    if previous is not None:
        _check_columns(previous, "previous", x=x, y=y, hue=hue)
    ax = _get_axes(ax)
    style = {"marker": "o", "markersize": 4, **kwargs}
    groups = _groups(data, hue)
    colors = dict(zip([key for key, _ in groups], sns.color_palette(PALETTE, len(groups))))
    for key, part in groups:
        part = part.sort_values(x)
        label = _name(key) if hue is not None else _axis_label(y)
        ax.plot(_time_values(part[x]), part[y], color=colors[key], label=label, **style)
    lowest = data[y].min()
    if previous is not None:
        for key, part in _groups(previous, hue):
            if key not in colors:
                continue  # a group with no current line has nothing to compare with
            part = part.sort_values(x)
            xs = _time_values(part[x])
            if pd.api.types.is_datetime64_any_dtype(xs):
                xs = xs + previous_offset
            base = _name(key) if hue is not None else _axis_label(y)
            ax.plot(xs, part[y], color=colors[key], linestyle="--", alpha=0.7,
                    label=_TEXT["series_previous"].format(series=base),
                    **{**style, "marker": None})
        lowest = min(lowest, previous[y].min())
    times = _time_values(data[x])
    if pd.api.types.is_datetime64_any_dtype(times):
        locator = date_locator(times)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator) if _english()
                                     else LocalDateFormatter())
    format_value_axis(ax, unit)
    if pd.notna(lowest) and lowest >= 0:
        ax.set_ylim(bottom=0)
    if band is not None and hue is None:
        ax.fill_between(_time_values(data[x]), data[band[0]], data[band[1]], color=MAIN_COLOR,
                        alpha=0.15, linewidth=0, label=_TEXT["interval"])
    if ylim is not None:
        ax.set_ylim(*ylim)
    if highlight is not None:
        ax.axvspan(highlight[0], highlight[1], color=HIGHLIGHT_COLOR, zorder=0,
                   label=highlight_label)
    few = data[data[hollow].astype(bool)] if hollow is not None else data.iloc[0:0]
    if len(few):
        ax.scatter(_time_values(few[x]), few[y], s=36, facecolor="white",
                   edgecolor="#555555", zorder=3, label=hollow_label)
    ax.set_xlabel("")
    ax.set_ylabel(_axis_label(y))
    legend_title = _axis_label(hue) if hue is not None else None
    if band is not None or highlight_label or hollow is not None:
        # outside the axes: inside it would sit on some point of a line
        ax.legend(title=legend_title, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  fontsize="small")
    elif hue is not None or previous is not None:
        ax.legend(title=legend_title)
    return _finish(ax, title, [key for key, _ in groups] if hue is not None else ())


# -- categories --------------------------------------------------------------------------

def bar_frame(data: pd.DataFrame, *, x: str, y: str, share: str | None = None,
              unit: str = "currency", sort: bool = True,
              top: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The bars :func:`bar` draws, in order (first on top), and their labels."""
    _check_columns(data, x=x, y=y, share=share)
    data = named(data, y)
    _check_unique(data, y, "y")
    frame = data[[y, x] + ([share] if share else [])].copy()
    if sort:
        frame = frame.sort_values(x, ascending=False, kind="stable")
    if top is not None and len(frame) > top:
        rest = frame.iloc[top:]
        other = {y: _TEXT["other"], x: rest[x].sum()}
        if share:
            other[share] = rest[share].sum()
        frame = pd.concat([frame.iloc[:top], pd.DataFrame([other])], ignore_index=True)
    labels = [value_text(v, unit) for v in frame[x].to_numpy(dtype=float)]
    if share:
        labels = [_TEXT["with_share"].format(value=text, share=i18n.percent(s))
                  if pd.notna(s) else text for text, s in zip(labels, frame[share])]
    return frame.reset_index(drop=True), labels


def bar(data: pd.DataFrame, *, x: str, y: str, share: str | None = None,
        unit: str = "currency", sort: bool = True, top: int | None = None,
        color: str | None = None, ax: Axes | None = None, title: str | None = None,
        **kwargs) -> Axes:
    """Horizontal bars of value ``x`` per category ``y``, largest on top, each labelled.

    ``data``: one row per category, e.g. ``revenue_distribution(by="region")`` ->
    region, revenue, share with ``x="revenue", y="region", share="share"``; labels then
    read "1.2M (34.1%)". ``sort=False`` keeps the frame's order (first on top). ``top``
    keeps the ``top`` largest and sums the rest into one "Other" bar (``x`` and ``share``
    summed). ``kwargs`` go to ``ax.barh``.
    """
    frame, labels = bar_frame(data, x=x, y=y, share=share, unit=unit, sort=sort, top=top)
    ax = _get_axes(ax, (FIG_WIDTH, _bar_height(len(frame))))
    positions = np.arange(len(frame))
    values = frame[x].to_numpy(dtype=float)
    bars = ax.barh(positions, values, color=color or MAIN_COLOR, **kwargs)
    ax.bar_label(bars, labels=labels, padding=3)
    ax.set_yticks(positions, labels=[_name(v) for v in frame[y]])
    ax.invert_yaxis()  # first row on top
    ax.margins(x=0.15)  # room for the labels
    format_value_axis(ax, unit, axis="x")
    ax.set_xlabel(_axis_label(x))
    ax.set_ylabel("")
    ax.grid(axis="y", visible=False)
    return _finish(ax, title, frame[y])


def leaderboard_frame(data: pd.DataFrame, *, rep: str = "sales_rep", actual: str = "revenue",
                      target: str = "target", attainment: str | None = None) -> pd.DataFrame:
    """The reps :func:`leaderboard` draws, in order (first on top): ``rep``, ``actual``,
    ``target`` and ``_attainment``."""
    _check_columns(data, rep=rep, actual=actual, target=target, attainment=attainment)
    data = named(data, rep)
    _check_unique(data, rep, "rep")
    frame = data[[rep, actual, target]].copy()
    goal = frame[target].astype(float)
    frame["_attainment"] = (data[attainment].astype(float) if attainment is not None
                            else frame[actual].astype(float) / goal.where(goal > 0))
    return frame.sort_values(["_attainment", actual], ascending=False, na_position="last",
                             kind="stable").reset_index(drop=True)


def attainment_text(share: float) -> str:
    """A leaderboard bar's label: "103.4%", or "no target"."""
    return _TEXT["no_target"] if pd.isna(share) else i18n.percent(share)


def leaderboard(data: pd.DataFrame, *, rep: str = "sales_rep", actual: str = "revenue",
                target: str = "target", attainment: str | None = None,
                unit: str = "currency", ax: Axes | None = None, title: str | None = None,
                **kwargs) -> Axes:
    """Sales reps' ``actual`` as horizontal bars with their ``target`` as a tick mark.

    ``data``: one row per rep, e.g. ``quota_attainment`` -> sales_rep, revenue, target,
    attainment. ``attainment``: the column of actual / target (fractions); None computes it
    from the two columns. Reps are ordered by attainment (highest on top, no target last,
    then by ``actual``); bars are blue at or above target, orange below, grey without a
    target, and labelled with the attainment ("103.4%") or "no target". ``kwargs`` go to
    ``ax.barh``.
    """
    frame = leaderboard_frame(data, rep=rep, actual=actual, target=target,
                              attainment=attainment)
    ax = _get_axes(ax, (FIG_WIDTH, _bar_height(len(frame))))
    positions = np.arange(len(frame))
    reached = frame["_attainment"]
    colors = np.where(reached.isna(), MUTED_COLOR,
                      np.where(reached >= 1, MET_COLOR, MISSED_COLOR)).tolist()
    ax.barh(positions, frame[actual].to_numpy(dtype=float), color=colors, **kwargs)
    has_target = frame[target].notna().to_numpy()
    ax.vlines(frame[target].to_numpy(dtype=float)[has_target], positions[has_target] - 0.4,
              positions[has_target] + 0.4, colors="#222222", linewidth=2.5,
              label=_TEXT["target"], zorder=3)
    for position, value, goal_value, share in zip(positions, frame[actual], frame[target],
                                                  reached):
        label = attainment_text(share)
        end = pd.Series([value, goal_value], dtype=float).max()  # past the bar and the tick
        end = 0.0 if pd.isna(end) else end
        ax.annotate(label, xy=(end, position), xytext=(5, 0), textcoords="offset points",
                    va="center", ha="left")
    ax.set_yticks(positions, labels=[_name(v) for v in frame[rep]])
    ax.invert_yaxis()
    ax.margins(x=0.12)
    format_value_axis(ax, unit, axis="x")
    ax.set_xlabel(_axis_label(actual))
    ax.set_ylabel("")
    ax.grid(axis="y", visible=False)
    if has_target.any():
        ax.legend(loc="lower right")
    return _finish(ax, title, frame[rep])


def funnel_text(count: float, first: float) -> str:
    """A funnel stage's label: "117 (23.4%)", the share of the ``first`` stage's count."""
    share = count / first if first else np.nan
    text = i18n.number(count)
    return (_TEXT["with_share"].format(value=text, share=i18n.percent(share))
            if np.isfinite(share) else text)


def funnel(data: pd.DataFrame, *, stage: str = "stage", count: str = "count",
           ax: Axes | None = None, title: str | None = None, **kwargs) -> Axes:
    """A funnel: one centred bar per ``stage`` in the frame's order (first on top), its
    width the ``count``, labelled "117 (23.4%)" with the share of the first stage.

    ``data``: one row per stage in funnel order, e.g. leads, qualified, proposal, won.
    ``kwargs`` go to ``ax.barh``.
    """
    _check_columns(data, stage=stage, count=count)
    _check_unique(data, stage, "stage")
    counts = data[count].to_numpy(dtype=float)
    ax = _get_axes(ax, (FIG_WIDTH, _bar_height(len(data))))
    positions = np.arange(len(data))
    ax.barh(positions, counts, left=-counts / 2, color=MAIN_COLOR, **kwargs)
    first = counts[0] if len(counts) else np.nan
    for position, value in zip(positions, counts):
        label = funnel_text(value, first)
        ax.text(0, position, label, ha="center", va="center", color="white",
                fontweight="bold")
    ax.set_yticks(positions, labels=[_name(v) for v in data[stage]])
    ax.invert_yaxis()
    ax.set_xticks([])  # widths are counts either side of 0; an axis would only confuse
    ax.grid(False)
    ax.spines[["bottom", "left"]].set_visible(False)
    return _finish(ax, title, data[stage])


# -- cohorts, survival, clusters ---------------------------------------------------------

def cohort_text(cohort: object) -> str:
    """A cohort's name: its period as text ("2025-01"); in another language than English
    a month or quarter the locale's way (2025年1月, 2025年第1季度)."""
    if not _english() and isinstance(cohort, pd.Period):
        start = cohort.start_time
        if cohort.freqstr.startswith("M"):
            return i18n.month(start)
        if cohort.freqstr.startswith("Q"):
            return i18n.quarter(start)
        if cohort.freqstr.startswith(("Y", "A")):
            return str(cohort.year)
        return i18n.date(start)
    return str(cohort)


def cohort_frame(retention, *, cohort_size: pd.Series | None = None
                 ) -> tuple[np.ndarray, list[str], list[str]]:
    """What :func:`heatmap_cohorts` draws: the retention values (rows = cohorts), the
    column names and the row names ("2025-01  n=120")."""
    if hasattr(retention, "retention"):
        if cohort_size is None:
            cohort_size = getattr(retention, "cohort_size", None)
        retention = retention.retention
    _check_columns(retention, "retention")
    cohorts = [cohort_text(c) for c in retention.index]
    if cohort_size is not None:
        sizes = pd.Series(cohort_size).reindex(retention.index)
        cohorts = [_TEXT["cohort_size"].format(cohort=c, n=i18n.number(s)) if pd.notna(s)
                   else c for c, s in zip(cohorts, sizes)]
    return (retention.to_numpy(dtype=float), [str(c) for c in retention.columns], cohorts)


def heatmap_cohorts(retention, *, cohort_size: pd.Series | None = None, cmap: str = "Blues",
                    colorbar: bool = True, ax: Axes | None = None, title: str | None = None,
                    **kwargs) -> Axes:
    """Cohort retention matrix: one row per acquisition cohort, one column per period since
    the first order, each observed cell coloured and annotated with its retention ("45%");
    unobserved (NaN) cells stay blank and unlabelled.

    ``retention``: a :class:`~crmkit.models.segments.CohortRetention` (its cohort sizes
    then label the rows) or its ``retention`` frame (fractions 0-1). ``cohort_size``
    overrides the row sizes. ``kwargs`` go to ``ax.imshow``.
    """
    values, columns, cohorts = cohort_frame(retention, cohort_size=cohort_size)
    n_rows, n_cols = values.shape
    size = (max(FIG_WIDTH, 0.55 * n_cols + 2.5), min(max(3.0, 0.35 * n_rows + 1.5), 16.0))
    ax = _get_axes(ax, size)
    # Unobserved cells: transparent, i.e. blank.
    palette = mpl.colormaps[cmap].with_extremes(bad=(0, 0, 0, 0))
    image = ax.imshow(np.ma.masked_invalid(values), cmap=palette, vmin=0, vmax=1,
                      aspect="auto", interpolation="nearest", **kwargs)
    fontsize = float(np.clip(110 / max(n_cols, 1), 6, 10))
    for row, col in zip(*np.nonzero(np.isfinite(values))):
        value = values[row, col]
        ax.text(col, row, i18n.percent(value, 0), ha="center", va="center", fontsize=fontsize,
                color="white" if value > 0.6 else "#222222")
    ax.set_xticks(range(n_cols), labels=[plain_text(c) for c in columns])
    ax.set_yticks(range(n_rows), labels=[plain_text(c) for c in cohorts])
    ax.set_xlabel(_TEXT["periods"])
    ax.set_ylabel(_TEXT["cohort"])
    ax.grid(False)
    ax.spines[:].set_visible(False)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, format=value_formatter("percent"),
                           fraction=0.04, pad=0.02)
    return _finish(ax, title)


def survival(curves: pd.DataFrame, *, group: str | None = "group", time: str = "time",
             value: str = "survival", ci_lower: str | None = "ci_lower",
             ci_upper: str | None = "ci_upper", ax: Axes | None = None,
             title: str | None = None, **kwargs) -> Axes:
    """Kaplan-Meier retention curves as steps, one per ``group``, with shaded intervals.

    ``curves``: ``survival_curves`` -> group, time, survival, ci_lower, ci_upper, ...
    ``group=None`` (or a single group) draws one curve without a legend; ``ci_lower`` /
    ``ci_upper`` None draws no band. The value axis is the share still retained (0-100%).
    ``kwargs`` go to ``ax.step``.
    """
    _check_columns(curves, "curves", group=group, time=time, value=value,
                   ci_lower=ci_lower, ci_upper=ci_upper)
    ax = _get_axes(ax)
    groups = _groups(curves, group)
    colors = sns.color_palette(PALETTE, len(groups))
    for (key, part), color in zip(groups, colors):
        part = part.sort_values(time, kind="stable")
        label = _name(key) if key is not None else _axis_label(value)
        ax.step(part[time], part[value], where="post", color=color, label=label, **kwargs)
        if ci_lower is not None and ci_upper is not None:
            ax.fill_between(part[time], part[ci_lower], part[ci_upper], step="post",
                            color=color, alpha=0.15, linewidth=0)
    ax.set_ylim(0, 1.02)
    format_value_axis(ax, "percent")
    ax.set_xlim(left=0)
    ax.set_xlabel(_axis_label(time))
    ax.set_ylabel(_axis_label(value))
    if len(groups) > 1:
        ax.legend()  # survival_curves names the column "group"; as a title it says nothing
    return _finish(ax, title, [key for key, _ in groups if key is not None])


def cluster_profile_frame(profile: pd.DataFrame, *, features: Sequence[str] | None = None
                          ) -> tuple[np.ndarray, pd.DataFrame, list[str], list[str]]:
    """What :func:`cluster_profile` draws: the standardised means (z), the means, the
    features and the row names ("Cluster 0 (412, 41.2%)")."""
    _check_columns(profile, "profile")
    if features is None:
        features = [c for c in profile.columns if c not in ("n_customers", "share")
                    and pd.api.types.is_numeric_dtype(profile[c])]
    else:
        _check_columns(profile, "profile", **{f"features[{i}]": f for i, f in enumerate(features)})
    means = profile[list(features)].astype(float)
    spread = means.std(ddof=0).replace(0, np.nan)
    z = ((means - means.mean()) / spread).fillna(0.0).to_numpy()
    labels = []
    for cluster, row in profile.iterrows():
        if "n_customers" in profile and "share" in profile:
            name = _TEXT["cluster_size"].format(label=cluster, n=i18n.number(row["n_customers"]),
                                                share=i18n.percent(row["share"]))
        else:
            name = _TEXT["cluster"].format(label=cluster)
        labels.append(name)
    return z, means, list(features), labels


def cluster_profile(profile: pd.DataFrame, *, features: Sequence[str] | None = None,
                    cmap: str = "RdBu_r", ax: Axes | None = None, title: str | None = None,
                    **kwargs) -> Axes:
    """Clusters (rows) by features (columns): each cell annotated with the cluster's mean and
    coloured by how far it lies from the other clusters (the feature's cluster means
    standardised, so money and counts share one colour scale; red high, blue low).

    ``profile``: ``BehaviourClusters.profile`` -> index cluster, n_customers, share, then
    the mean of each feature. ``features``: the columns to show (default: every numeric
    column but n_customers and share). Rows read "Cluster 0 (412, 41.2%)". ``kwargs`` go
    to ``ax.imshow``.
    """
    z, means, features, labels = cluster_profile_frame(profile, features=features)
    limit = max(1.0, float(np.abs(z).max()))
    n_rows, n_cols = z.shape
    ax = _get_axes(ax, (max(FIG_WIDTH, 1.3 * n_cols + 3), max(2.5, 0.55 * n_rows + 1.5)))
    ax.imshow(z, cmap=cmap, vmin=-limit, vmax=limit, aspect="auto", **kwargs)
    for row in range(n_rows):
        for col in range(n_cols):
            ax.text(col, row, compact_number(means.iat[row, col]), ha="center", va="center",
                    color="white" if abs(z[row, col]) > 0.6 * limit else "#222222")
    ax.set_yticks(range(n_rows), labels=[plain_text(label) for label in labels])
    names = [_axis_label(f) for f in features]
    ax.set_xticks(range(n_cols), labels=names)
    _rotate_long_labels(ax, names)
    ax.grid(False)
    ax.spines[:].set_visible(False)
    return _finish(ax, title)


def silhouette_frame(table: pd.DataFrame, *, k: str = "k", score: str = "silhouette",
                     chosen: str | None = "chosen") -> tuple[pd.DataFrame, np.ndarray]:
    """What :func:`silhouette` draws: the rows in order of ``k`` (a column, also when it
    was the index), and which row is the chosen k (the ``chosen`` column, else the highest
    score)."""
    if isinstance(table, pd.DataFrame) and k not in table.columns and table.index.name == k:
        table = table.reset_index()
    if chosen is not None and isinstance(table, pd.DataFrame) and chosen not in table.columns:
        chosen = None
    _check_columns(table, "table", k=k, score=score, chosen=chosen)
    frame = table.sort_values(k)
    if chosen is not None:
        return frame, frame[chosen].astype(bool).to_numpy()
    return frame, (frame.index == frame[score].idxmax())


def silhouette(table: pd.DataFrame, *, k: str = "k", score: str = "silhouette",
               chosen: str | None = "chosen", ax: Axes | None = None,
               title: str | None = None, **kwargs) -> Axes:
    """Silhouette score per candidate number of clusters, the chosen k marked and labelled.

    ``table``: ``BehaviourClusters.silhouette`` -> index k, silhouette, inertia, chosen
    (``k`` may be the index or a column). Without a ``chosen`` column the highest score is
    marked. ``kwargs`` go to ``ax.plot``.
    """
    frame, chosen_rows = silhouette_frame(table, k=k, score=score, chosen=chosen)
    ax = _get_axes(ax)
    ax.plot(frame[k], frame[score], marker="o", color=MAIN_COLOR, **kwargs)
    best = frame[chosen_rows]
    if len(best):
        best_k, best_score = best[k].iloc[0], best[score].iloc[0]
        ax.plot([best_k], [best_score], marker="o", markersize=12, linestyle="none",
                markerfacecolor="none", markeredgecolor=MISSED_COLOR, markeredgewidth=2)
        ax.annotate(_TEXT["chosen"].format(k=best_k), xy=(best_k, best_score),
                    xytext=(8, 8), textcoords="offset points")
        ax.margins(y=0.2)  # room above the best point for its label, clear of the title
        low, high = ax.get_ylim()
        ax.set_ylim(low, high + 0.15 * (high - low))
    ax.set_xticks(frame[k].to_numpy())
    ax.set_xlabel("k")
    ax.set_ylabel(_axis_label(score))
    return _finish(ax, title)


# -- scores and rates --------------------------------------------------------------------

NPS_BANDS = ("detractor", "passive", "promoter")


def nps_band_name(band: str) -> str:
    """An NPS group as a legend names it: "Detractors (0-6)", "Passives", ..."""
    return _TEXT[band].format(max=DETRACTOR_MAX, min=PROMOTER_MIN)


def nps_band(score: float) -> str:
    """A 0-10 score's NPS group: detractor, passive or promoter."""
    if score <= DETRACTOR_MAX:
        return "detractor"
    return "promoter" if score >= PROMOTER_MIN else "passive"


def distribution_frame(data: pd.DataFrame, *, x: str = "score", y: str | None = "value",
                       scale: str | None = None,
                       unit: str | None = None) -> tuple[pd.Series, str]:
    """The bars :func:`distribution` draws (score -> height, in score order) and their unit."""
    _check_columns(data, x=x, y=y)
    if scale not in (None, "csat", "nps"):
        raise ValueError(f"Unknown `scale` {scale!r}; use 'csat', 'nps' or None.")
    if y is None:
        heights = data[x].dropna().value_counts()
        unit = unit or "count"
    else:
        _check_unique(data, x, "x")
        heights = data.set_index(x)[y]
        unit = unit or "percent"
    scores = {"csat": range(1, int(CSAT_SCALE_MAX) + 1), "nps": range(0, 11)}.get(scale)
    if scores is not None:
        extra = sorted(set(heights.index) - set(scores))
        if extra:
            raise ValueError(f"Scores {extra} in `{x}` are outside the {scale} scale "
                             f"({scores.start}-{scores.stop - 1}).")
        heights = heights.reindex(list(scores), fill_value=0)
    else:
        heights = heights.sort_index()
    return heights, unit


def distribution(data: pd.DataFrame, *, x: str = "score", y: str | None = "value",
                 scale: str | None = None, unit: str | None = None,
                 names: dict | None = None, ax: Axes | None = None,
                 title: str | None = None, **kwargs) -> Axes:
    """A score distribution: one vertical bar per score, in score order, each labelled.

    ``data``: one row per score with its ``y`` (``csat_distribution`` -> score, value
    (share of responses), numerator ...), or with ``y=None`` one row per response whose
    ``x`` scores are counted. ``scale``: "csat" shows every score 1-5, "nps" every score
    0-10 with bars coloured detractor (0-6) / passive (7-8) / promoter (9-10), None only
    the scores present; absent scores are 0-high bars. ``unit``: of ``y`` (default
    percent; count when counting). ``names``: score -> the bar's name, e.g.
    ``{10: "10+"}``. ``kwargs`` go to ``ax.bar``.
    """
    heights, unit = distribution_frame(data, x=x, y=y, scale=scale, unit=unit)
    ax = _get_axes(ax)
    positions = np.arange(len(heights))
    if scale == "nps":
        bands = [nps_band(s) for s in heights.index]
        colors = [NPS_COLORS[b] for b in bands]
    else:
        colors = MAIN_COLOR
    bars = ax.bar(positions, heights.to_numpy(dtype=float), color=colors, **kwargs)
    ax.bar_label(bars, labels=[value_text(v, unit) for v in heights], padding=2)
    ax.set_xticks(positions, labels=[plain_text(t) for t in score_names(heights, names)])
    format_value_axis(ax, unit)
    ax.margins(y=0.12)
    ax.set_xlabel(_axis_label(x))
    ax.set_ylabel(_TEXT["responses"] if unit == "count" else _TEXT["share"])
    ax.grid(axis="x", visible=False)
    if scale == "nps":
        handles = [patches.Patch(color=NPS_COLORS[b], label=nps_band_name(b))
                   for b in NPS_BANDS]
        ax.legend(handles=handles, loc="upper left")
    return _finish(ax, title)


def score_names(heights: pd.Series, names: dict | None = None) -> list[str]:
    """The names of a distribution's bars: ``names`` where given, else the score."""
    names = names or {}
    return [str(names[s]) if s in names else score_text(s) for s in heights.index]


def score_text(score: object) -> str:
    """A score as a bar's name: 4, not 4.0."""
    # Scores arrive as floats from SQL (4.0); a scale of whole numbers reads 4.
    if isinstance(score, float) and score.is_integer():
        return str(int(score))
    return str(score)


def rate_text(value: float, too_few: bool, n: float) -> str:
    """A rate bar's label: "23.4%", "too few (n=12)" (two lines) or "no data"."""
    if not np.isfinite(value):
        return _TEXT["no_data"]
    if too_few:
        return _TEXT["too_few"].format(n=i18n.number(int(n)))
    return i18n.percent(value)


def rate_bars_frame(frame: pd.DataFrame, *, x: str, y: str = "value",
                    ci_low: str = "ci_low", ci_high: str = "ci_high",
                    numerator: str = "numerator", denominator: str = "denominator",
                    too_few: str = "too_few", sort: bool = False) -> tuple[pd.DataFrame, float]:
    """The bars :func:`rate_bars` draws, in order: the rows of ``frame`` with ``_value``,
    ``_low``, ``_high``, ``_few``, ``_label`` and ``_anchor`` (where the label sits: the
    interval's top, else the value, else 0); and the top of the value axis."""
    _check_columns(frame, "frame", x=x, y=y, ci_low=ci_low, ci_high=ci_high,
                   numerator=numerator, denominator=denominator, too_few=too_few)
    frame = named(frame, x)
    _check_unique(frame, x, "x", "frame")
    data = frame.sort_values(y, ascending=False, kind="stable") if sort else frame
    values = data[y].to_numpy(dtype=float)
    high = data[ci_high].to_numpy(dtype=float)
    few = data[too_few].fillna(True).to_numpy(dtype=bool)
    # Labels sit above the interval, which autoscaling ignores: leave room for them.
    tops = np.concatenate([high[np.isfinite(high)], values[np.isfinite(values)], [0.0]])
    headroom = 1.3 if few.any() else 1.15  # "too few (n=12)" takes two lines
    return data.assign(
        _value=values, _low=data[ci_low].to_numpy(dtype=float), _high=high, _few=few,
        _label=[rate_text(v, f, n) for v, f, n in zip(values, few, data[denominator])],
        _anchor=np.where(np.isfinite(high), high, np.where(np.isfinite(values), values, 0.0)),
    ), max(float(tops.max()) * headroom, 0.05)


def rate_bars(frame: pd.DataFrame, *, x: str, y: str = "value", ci_low: str = "ci_low",
              ci_high: str = "ci_high", numerator: str = "numerator",
              denominator: str = "denominator", too_few: str = "too_few",
              reference: object = None, sort: bool = False, ax: Axes | None = None,
              title: str | None = None, **kwargs) -> Axes:
    """A rate per category ``x`` as vertical bars with 95% (Wilson) error bars.

    ``frame``: a rate frame, the ``by`` column + numerator, denominator, value, ci_low,
    ci_high, too_few (any rate KPI with ``by=``). Bars are labelled "23.4%"; a ``too_few``
    bar is grey and hatched and labelled "too few (n=12)"; a category with no denominator
    has no bar and reads "no data". ``reference``: a Rate (or fraction) drawn as a dashed
    line, e.g. the overall rate, named in the title (in a legend when there is no title).
    ``sort`` orders bars by value, highest first. ``kwargs``
    go to ``ax.bar``.
    """
    data, top = rate_bars_frame(frame, x=x, y=y, ci_low=ci_low, ci_high=ci_high,
                                numerator=numerator, denominator=denominator,
                                too_few=too_few, sort=sort)
    values, low, high = (data[c].to_numpy() for c in ("_value", "_low", "_high"))
    few = data["_few"].to_numpy()
    ax = _get_axes(ax, (max(FIG_WIDTH, 0.9 * len(data) + 2), FIGSIZE[1]))
    positions = np.arange(len(data))
    colors = [MUTED_COLOR if f else MAIN_COLOR for f in few]
    bars = ax.bar(positions, values, color=colors, **kwargs)
    for patch, f in zip(bars, few):
        if f:
            patch.set_hatch(TOO_FEW_HATCH)
            patch.set_edgecolor("#7a7a7a")
    ax.errorbar(positions, values, yerr=[values - low, high - values], fmt="none",
                ecolor="#333333", capsize=4, linewidth=1)
    for position, label, anchor in zip(positions, data["_label"], data["_anchor"]):
        ax.annotate(label, xy=(position, anchor), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom")
    if reference is not None:
        level = reference_level(reference)
        ax.axhline(level, color="#555555", linestyle="--", linewidth=1,
                   label=_TEXT["overall"].format(value=i18n.percent(level)))
        if title is None:
            ax.legend(loc="upper right")
        else:  # named in the title: a legend inside the axes sits on some bar's label
            title = title_with_overall(title, i18n.percent(level))
    names = [_name(v) for v in data[x]]
    ax.set_xticks(positions, labels=names)
    _rotate_long_labels(ax, names)
    format_value_axis(ax, "percent")
    ax.set_ylim(0, top)
    ax.set_xlabel(_axis_label(x))
    ax.set_ylabel(_axis_label(y) if y != "value" else "")
    ax.grid(axis="x", visible=False)
    return _finish(ax, title, data[x])


def nps_text(value: float, too_few: bool, n: float) -> str:
    """An NPS bar's label: "+12", or "too few (n=12)" (two lines)."""
    return (_TEXT["too_few"].format(n=i18n.number(int(n))) if too_few
            else value_text(value, "nps"))


def nps_limits(low: np.ndarray, high: np.ndarray) -> tuple[float, float]:
    """The value axis of :func:`nps_bars`: the intervals and 0, with room for labels."""
    finite = np.concatenate([low[np.isfinite(low)], high[np.isfinite(high)], [0.0]])
    span = finite.max() - finite.min()
    return min(finite.min() - 0.08 * span, -5), max(finite.max() + 0.18 * span, 10)


def nps_bars_frame(frame: pd.DataFrame, *, x: str) -> pd.DataFrame:
    """The bars :func:`nps_bars` draws: the rows of ``frame`` with ``_value``, ``_low``,
    ``_high``, ``_few``, ``_label`` and ``_anchor`` (the interval's top, at least 0)."""
    _check_columns(frame, "frame", x=x, value="value", ci_low="ci_low", ci_high="ci_high",
                   n="n", too_few="too_few")
    frame = named(frame, x)
    values = frame["value"].to_numpy(dtype=float)
    high = frame["ci_high"].to_numpy(dtype=float)
    few = frame["too_few"].astype(bool).to_numpy()
    return frame.assign(
        _value=values, _low=frame["ci_low"].to_numpy(dtype=float), _high=high, _few=few,
        _label=[nps_text(v, f, n) for v, f, n in zip(values, few, frame["n"])],
        _anchor=np.maximum(np.where(np.isfinite(high), high, 0.0), 0.0))


def nps_bars(frame: pd.DataFrame, *, x: str, overall: object = None,
             ax: Axes | None = None, title: str | None = None, **kwargs) -> Axes:
    """NPS per group ``x`` as bars with 95% intervals, 0 marked and the ``overall`` NPS (an
    Nps or a number) dashed and named in the title; a ``too_few`` group's bar is grey
    and hatched. ``frame``: ``nps(by=...)`` -> x, value, ci_low, ci_high, n, too_few.
    (:func:`rate_bars` draws fractions as percentages; NPS has its own -100..100 scale.)
    ``kwargs`` go to ``ax.bar``.
    """
    data = nps_bars_frame(frame, x=x)
    values, low, high = (data[c].to_numpy() for c in ("_value", "_low", "_high"))
    few = data["_few"].to_numpy()
    ax = _get_axes(ax)
    positions = np.arange(len(frame))
    bars = ax.bar(positions, values, color=[MUTED_COLOR if f else MAIN_COLOR for f in few],
                  **kwargs)
    for patch, f in zip(bars, few):
        if f:
            patch.set_hatch(TOO_FEW_HATCH)
            patch.set_edgecolor("#7a7a7a")
    ax.errorbar(positions, values, yerr=[np.clip(values - low, 0, None),
                                         np.clip(high - values, 0, None)],
                fmt="none", ecolor="#333333", capsize=4, linewidth=1)
    for position, label, anchor in zip(positions, data["_label"], data["_anchor"]):
        ax.annotate(label, xy=(position, anchor), xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom")
    ax.axhline(0, color="#333333", linewidth=0.8)
    if overall is not None:
        level = reference_level(overall)
        ax.axhline(level, color="#555555", linestyle="--", linewidth=1)
        if title is not None:
            title = title_with_overall(title, value_text(level, "nps"))
    names = [_name(v) for v in frame[x]]
    ax.set_xticks(positions, labels=names)
    _rotate_long_labels(ax, names)
    format_value_axis(ax, "nps")
    ax.set_ylim(*nps_limits(low, high))
    ax.set_xlabel("")
    ax.grid(axis="x", visible=False)
    return _finish(ax, title, frame[x])


# -- sparklines ------------------------------------------------------------------------------

SPARKLINE_SIZE = (1.7, 0.45)  # inches: a KPI card's width, a line of text high
SPARKLINE_DPI = 200  # drawn at twice the report's dpi and shown at half: crisp on any screen


def sparkline_frame(data: pd.DataFrame, *, x: str = "period", y: str = "value"
                    ) -> pd.DataFrame:
    """The points :func:`sparkline` draws: ``x``, ``y`` and ``position`` (the period's
    place among all rows, so a period without a value leaves a gap) of the rows with a
    value, in time order."""
    _check_columns(data, x=x, y=y)
    ordered = data.sort_values(x, kind="stable")
    values = pd.to_numeric(ordered[y], errors="coerce").astype(float).to_numpy()
    frame = pd.DataFrame({x: ordered[x].to_numpy(), y: values,
                          "position": np.arange(len(ordered))})
    return frame[np.isfinite(values)].reset_index(drop=True)


def sparkline(data: pd.DataFrame, *, x: str = "period", y: str = "value",
              ax: Axes | None = None, color: str = MAIN_COLOR, **kwargs) -> Axes:
    """A KPI's trend in a line of text's height: the line of ``y`` over ``x`` with the
    last point marked, no axes, ticks or labels; the value axis spans the data (a
    sparkline shows the shape, its card the numbers). ``data``: one row per period, e.g.
    period (its start), value. ``kwargs`` go to ``ax.plot``.

    Not a :class:`Chart` kind: sparklines are drawn inside the KPI cards and the
    scorecard table (crmkit.sections.cards), HTML that the report and the live panel show
    alike, as these PNGs.
    """
    points = sparkline_frame(data, x=x, y=y)
    if ax is None:
        from matplotlib.figure import Figure

        # A Figure of its own, not pyplot's: many are drawn per report and none is shown.
        ax = Figure(figsize=SPARKLINE_SIZE, dpi=SPARKLINE_DPI, layout="none").add_axes(
            (0.03, 0.12, 0.94, 0.76))
    xs = points["position"].to_numpy()  # periods are evenly spaced: no date axis
    ax.plot(xs, points[y], color=color, linewidth=1.4, solid_capstyle="round", **kwargs)
    if len(points):
        ax.plot(xs[-1:], points[y].iloc[-1:], marker="o", markersize=3.5, color=color,
                linestyle="none")
        low, high = points[y].min(), points[y].max()
        pad = (high - low) * 0.12 or abs(high) * 0.05 or 1.0
        ax.set_ylim(low - pad, high + pad)
        ax.set_xlim(xs[0] - 0.3, max(xs[-1], xs[0] + 1) + 0.3)
    ax.set_axis_off()
    return ax


# -- charts as data ------------------------------------------------------------------------

@dataclass(frozen=True)
class Panel:
    """One chart of this module, not drawn yet: the function's name, its data, its options
    (``title`` included; no ``ax``)."""

    kind: str
    data: object
    options: dict = field(default_factory=dict)

    def split_options(self) -> tuple[dict, dict]:
        """(the chart function's options, the axis titles it replaces: ``xlabel`` /
        ``ylabel``, "" or None for none)."""
        options = dict(self.options)
        titles = {k: options.pop(k) for k in ("xlabel", "ylabel") if k in options}
        return options, titles


@dataclass(frozen=True, repr=False)
class Chart:
    """A figure of :class:`Panel` in a grid, ``columns`` wide (None: one row), described
    rather than drawn, so that each place draws it its own way: :meth:`figure` with
    matplotlib (reports, a PNG), :func:`crmkit.vegalite.spec` as a Vega-Lite spec the
    browser draws (the live filter panel, where a matplotlib draw costs far more than the
    numbers behind it). A ``None`` panel keeps its slot empty. ``size`` is the figure's
    size in inches, ``widths`` the columns' relative widths, ``sharex`` one x axis per
    column. A panel's ``xlabel`` / ``ylabel`` options replace its axis titles.

    ``words``: the language, locale and currency the chart is drawn in, by default those
    active when it was described (a report section runs in its report's language), so a
    chart drawn later, outside the section, still reads in the report's language and
    with a font for its script (:func:`drawing`)."""

    panels: tuple
    size: tuple[float, float] = FIGSIZE
    columns: int | None = None
    widths: tuple[float, ...] | None = None
    sharex: bool = False
    words: i18n.Setting = field(default_factory=i18n.current, compare=False)

    def __repr__(self) -> str:
        kinds = ", ".join(p.kind if p is not None else "-" for p in self.panels)
        return f"Chart({kinds}; {self.size[0]:g}x{self.size[1]:g} in)"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Shown in a notebook cell as the report shows it: a PNG."""
        import base64

        with drawing(self.words):  # ticks are formatted and glyphs found as it is drawn
            png = figure_png(self.figure())
        return {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": "(chart)"}

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the grid."""
        columns = self.columns or max(len(self.panels), 1)
        return -(-len(self.panels) // columns), columns

    def figure(self):
        """The matplotlib Figure, drawn by this module's chart functions in the chart's
        language (:attr:`words`)."""
        with drawing(self.words):
            return self._figure()

    def _figure(self):
        rows, columns = self.shape
        fig, axes = plt.subplots(rows, columns, figsize=self.size, squeeze=False,
                                 sharex=self.sharex,
                                 gridspec_kw={"width_ratios": list(self.widths)}
                                 if self.widths else None)
        for i, ax in enumerate(axes.flat):
            panel = self.panels[i] if i < len(self.panels) else None
            if panel is None:
                ax.set_visible(False)
                continue
            options, titles = panel.split_options()
            CHARTS[panel.kind](panel.data, ax=ax, **options)
            for key, text in titles.items():
                getattr(ax, f"set_{key}")(plain_text(text) if text else "")
        return fig


def chart(kind: str, data, *, size: tuple[float, float] = FIGSIZE, **options) -> Chart:
    """A :class:`Chart` of one panel: ``chart("bar", frame, x=..., y=..., size=(10, 4))``."""
    return Chart((Panel(kind, data, options),), size)


def panel(kind: str, data, **options) -> Panel:
    """One :class:`Panel` of a :class:`Chart` of several."""
    return Panel(kind, data, options)


CHARTS = {"trend": trend, "bar": bar, "leaderboard": leaderboard, "funnel": funnel,
          "survival": survival, "rate_bars": rate_bars, "heatmap_cohorts": heatmap_cohorts,
          "cluster_profile": cluster_profile, "silhouette": silhouette,
          "distribution": distribution, "nps_bars": nps_bars}
