"""What a report notebook calls: one report object, one section per cell.

    report = open_report("sales_performance", warehouse=warehouse, start=start, end=end,
                         region=region, segment=segment, ...)
    report.show("summary")
    report.show("revenue_over_time")

A section is a function ``section(report) -> list`` of outputs: :class:`Text` (Markdown
whose data-derived parts are already escaped), a chart (a :class:`crmkit.charts.Chart`,
drawn as a PNG in a report and by the browser in the filter panel, or a matplotlib
Figure), or a :class:`Table`.
The report computes every number through :meth:`Report.kpi` (cached per filter set, and
recorded so the appendix prints the definitions of exactly the KPIs shown). Sections never
read files or globals: the same call redraws them for other filters (the widget panel).

Interactive or batch (:mod:`crmkit.report.mode`): ``report.filter_panel()`` shows the
filter panel of :mod:`crmkit.sections.widgets` in JupyterLab and Voilà, after which every
``report.show`` draws into a widget the panel redraws; under ``crmkit render`` it prints
the applied filters and ``report.show`` displays plain outputs.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

import crmkit
from crmkit import i18n
from crmkit.exceptions import ParameterError
from crmkit.i18n import N_, tr
from crmkit.kept import Kept
from crmkit.labels import either, field_label, filter_label, series, table_label
from crmkit.metrics import Filters, NotAvailable, get_metric, metric_definitions
from crmkit.metrics.results import reason_text
from crmkit.periods import audited_quarter, last_full_quarter
from crmkit.report.markup import escape_markdown
from crmkit.report.mode import CONFIG_ENV, PRESET_ENV, SOURCE_ENV
from crmkit.warehouse import Warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = PROJECT_ROOT / "data" / "sample"
FILTER_PARAMS = ("start", "end", "region", "segment", "channel", "category", "product",
                 "sales_rep", "attributes")
_SAME = object()
VALUES_KEPT = 4096  # KPI results and memos a report keeps (LRU): an exploring session's views


@dataclass
class Text:
    """Markdown for the report; build it with :func:`crmkit.report.markup.format_markdown`
    or the :mod:`crmkit.narrative` sentences, which escape what came from the data."""

    markdown: str


@dataclass
class Table:
    """A small table for the reader: ``formats`` maps a column to a unit (currency, count,
    percent, score, nps, date), a format string such as ``"{:.1f}"``, or ``"flag:WORDS"``
    for a true/false column (WORDS where true, blank where false)."""

    frame: pd.DataFrame
    formats: dict = field(default_factory=dict)
    caption: str | None = None

    def to_html(self) -> str:
        from crmkit.labels import column_label
        from crmkit.metrics.results import format_value

        shown = self.frame.copy()
        for column, fmt in self.formats.items():
            if column not in shown:
                continue
            if fmt == "date":
                shown[column] = shown[column].map(
                    lambda v: "" if pd.isna(v) else i18n.date(v))
            elif fmt.startswith("flag:"):  # a true/false column: its words, or nothing
                shown[column] = shown[column].map(
                    lambda v, w=i18n.tr(fmt[5:]): w if pd.notna(v) and bool(v) else "")
            elif "{" in fmt:
                shown[column] = shown[column].map(
                    lambda v, f=fmt: "" if pd.isna(v) else f.format(v))
            else:  # a table gives money in full (a sentence may give it compact)
                shown[column] = shown[column].map(
                    lambda v, u=fmt: "" if pd.isna(v) else format_value(v, u, compact=False))
        # A missing value is blank, whatever its type (pandas writes None as "None").
        shown = shown.astype(object).where(shown.notna(), "")
        shown.columns = [column_label(c) for c in shown.columns]
        # escape=True: names from the data (a customer called <script>...) stay text.
        table = shown.to_html(index=False, escape=True, border=0, na_rep="",
                              classes="crmkit-table")
        if self.caption:
            table = f"<p class='crmkit-caption'>{html.escape(self.caption)}</p>" + table
        return table

    def _repr_html_(self) -> str:
        return self.to_html()


Section = Callable[["Report"], list]


@dataclass
class Report:
    """A report's data, filters and sections; see :func:`open_report`."""

    name: str
    title: str
    wh: Warehouse
    filters: Filters
    params: dict
    sections: dict[str, Section]
    by: str | None = None
    language: str = "en"
    used_metrics: list[str] = field(default_factory=list)
    # Sections of one shape of data: section -> (shape, its heading); a shape is a table
    # it reads or "snapshot". Such a section is left out, heading and all, when the data
    # lacks that shape (a pipeline's bookings in a retail data set); it shows its own
    # heading otherwise.
    shaped: dict[str, tuple[str, str]] = field(default_factory=dict)
    _cache: dict = field(default_factory=lambda: Kept(VALUES_KEPT), repr=False)
    panel: object = field(default=None, repr=False, compare=False)  # the live FilterPanel
    _by_read: bool = field(default=False, repr=False, compare=False)
    # What the config gives the reports (see report_settings): targets and status rules.
    settings: dict = field(default_factory=dict, repr=False, compare=False)
    # The language, locale and currency every text and number is written in (crmkit.i18n).
    words: i18n.Setting = field(default_factory=i18n.current, repr=False, compare=False)

    def __getattribute__(self, name: str):
        # Whether a section read the breakdown, itself or in the parameters (see
        # outputs_and_breakdown): the panel keeps a section that did not for every one.
        if name in ("by", "params"):
            object.__setattr__(self, "_by_read", True)
        return object.__getattribute__(self, name)

    # -- numbers --------------------------------------------------------------------
    def kpi(self, name: str, filters: Filters | None = None, **options):
        """A registered KPI on ``filters`` (default: the report's), computed once, and
        recorded: the appendix defines it."""
        value = self.computed(name, filters, **options)
        self.record(name)
        return value

    def computed(self, name: str, filters: Filters | None = None, **options):
        """:meth:`kpi` without recording it, for a KPI that may not be shown (a KPI card
        the data may not support): :meth:`record` it when it is."""
        filters = self.filters if filters is None else filters
        key = (name, filters, tuple(sorted(options.items())))
        value = self._cache.get(key, _SAME)
        if value is _SAME:
            value = self._cache[key] = get_metric(name)(self.wh, filters, **options)
        return value

    def record(self, name: str) -> None:
        """Note that KPI ``name`` is shown, for the appendix's definitions."""
        if name not in self.used_metrics:
            self.used_metrics.append(name)

    def has(self, table: str) -> bool:
        return self.wh.has(table)

    def has_rows(self, table: str) -> bool:
        """Whether the data has rows of ``table`` (from the ingest audit when there is one)."""
        record = self.wh.audit.get("tables", {}).get(table)
        if record is not None:
            return record["kept"] + record["flagged"] > 0
        if not self.wh.audit.get("tables"):  # a warehouse not written by crmkit ingest
            from crmkit.metrics.selection import table_rows

            return self.wh.has(table) and table_rows(self.wh, table) > 0
        return False

    def has_shape(self, shape: str) -> bool:
        """Whether the data has ``shape``: a table with rows, or ``snapshot`` (customers
        with a churn flag and no orders; see crmkit.shapes)."""
        from crmkit.shapes import has_shape

        if shape != "snapshot":
            return self.has_rows(shape)
        return has_shape(self.wh.audit, shape) if self.wh.audit.get("tables") else False

    def memo(self, key, compute: Callable[[], object], *, breakdown: bool = True):
        """A value computed once per filter set and breakdown (models, joined frames);
        ``breakdown=False``: once per filter set, for a value that does not depend on the
        breakdown (the panel then keeps its sections for every breakdown)."""
        full = ("memo", key, self.filters, self.by if breakdown else None)
        value = self._cache.get(full, _SAME)
        if value is _SAME:
            value = self._cache[full] = compute()
        return value

    def with_filters(self, filters: Filters, *, by=_SAME) -> Report:
        """The same report on other filters (the widget panel redraws through this), and
        on another breakdown when ``by`` is given (None or "" for none). Caches are shared."""
        by = self.by if by is _SAME else (by or None)
        kept = {k: v for k, v in self.params.items()
                if k not in FILTER_PARAMS and not k.startswith("attr_")}
        return Report(self.name, self.title, self.wh, filters,
                      {**kept, **filter_params_text(filters), "by": by or ""}, self.sections,
                      by, self.language, self.used_metrics, self.shaped, self._cache,
                      settings=self.settings, words=self.words)

    # -- display --------------------------------------------------------------------
    def outputs(self, section: str) -> list:
        """The outputs of one section (a list of Text, Chart or Figure, Table)."""
        try:
            fn = self.sections[section]
        except KeyError:
            raise ParameterError(f"report {self.name} has no section {section!r}; it has: "
                                 f"{', '.join(self.sections)}") from None
        with i18n.using(self.words):
            if section not in self.shaped:
                outputs = fn(self)
            elif not self.has_shape(self.shaped[section][0]):
                return []
            else:
                outputs = [Text(i18n.tr(self.shaped[section][1])), *fn(self)]
            return [Text(i18n.tidy(o.markdown)) if isinstance(o, Text) else o
                    for o in outputs]

    def outputs_and_breakdown(self, section: str) -> tuple[list, bool]:
        """The outputs of one section, and whether computing them read ``by`` or the
        parameters (if not, they are the same under any breakdown)."""
        self._by_read = False
        outputs = self.outputs(section)
        return outputs, self._by_read

    def show(self, section: str) -> None:
        """Display one section in the notebook; live (redrawn on a filter change) once the
        filter panel is shown."""
        if self.panel is not None:
            self.panel.show(section)
        else:
            display_outputs(self.outputs(section))

    def text(self, markdown: str) -> None:
        """Display the notebook's own text (a heading, an introduction) in the report's
        language: ``markdown`` is the English message, looked up in the catalogs."""
        from IPython.display import Markdown, display

        with i18n.using(self.words):
            display(Markdown(i18n.tr(markdown)))

    def filter_panel(self) -> None:
        """The filters at the top of a report notebook.

        Interactive (JupyterLab, Voilà; see :mod:`crmkit.report.mode`): the filter panel,
        then the scope line; from here on every :meth:`show` is redrawn when a filter
        changes, and this report follows the panel's filters. Batch (``crmkit render``,
        a script): the scope line only, the applied filters as text; no widget is made.
        """
        from crmkit.report.mode import is_interactive

        if is_interactive():
            from IPython.display import display

            from crmkit.sections.widgets import FilterPanel

            self.panel = FilterPanel(self)
            display(self.panel.widget)
        self.show("scope")


def filter_params_text(filters: Filters) -> dict[str, str]:
    """Every filter parameter as the text a notebook parameter takes ("" when unset):
    ``{"start": "2025-04-01", ..., "region": "East,West", "attributes": '{"plan": "Pro"}'}``."""
    import json

    given = filters.to_params()
    out = {}
    for name in FILTER_PARAMS:
        value = given.get(name)
        if name == "attributes":
            out[name] = json.dumps(value, ensure_ascii=False, default=str) if value else ""
        elif isinstance(value, list):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = "" if value is None else str(value)
    return out


def display_outputs(outputs: list) -> None:
    from IPython.display import HTML, Markdown, display
    from matplotlib.figure import Figure

    from crmkit.charts import Chart

    for item in outputs:
        if isinstance(item, Text):
            display(Markdown(item.markdown))
        elif isinstance(item, Table):
            display(HTML(item.to_html()))
        elif isinstance(item, (Figure, Chart)):
            display(figure_output(item), raw=True)
        elif item is not None:
            display(item)


def figure_output(fig) -> dict:
    """A Figure (or a :class:`crmkit.charts.Chart`, drawn) as a display mime bundle (PNG
    drawn once, see crmkit.charts.figure_png); the figure is closed."""
    import base64

    from crmkit.charts import Chart, figure_png

    if isinstance(fig, Chart):
        return fig._repr_mimebundle_()
    return {"image/png": base64.b64encode(figure_png(fig)).decode("ascii"),
            "text/plain": "(chart)"}


# -- opening a report -------------------------------------------------------------------

def default_period(wh: Warehouse) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The last full calendar quarter the data covers (see crmkit.periods); (None, None)
    for data with no dates to cut a period from (a customer snapshot alone)."""
    period = audited_quarter(wh.audit)
    if period is None and not wh.audit.get("tables") and wh.has("orders"):
        # A warehouse not written by crmkit ingest: ask the data.
        from crmkit.metrics.selection import date_span

        last = date_span(wh, "orders", "order_date")[1]
        period = last_full_quarter(last) if last is not None else None
    if period is None:
        return None, None
    return pd.Timestamp(period[0]), pd.Timestamp(period[1])


def open_warehouse(warehouse: str = "", source: str = "", config: str = "",
                   preset: str = "") -> Warehouse:
    """The warehouse a report reads: a given folder, else the source (read as a CRM's
    export when ``preset`` names one) or config ingested into its cached warehouse, else
    the bundled sample."""
    if warehouse:
        return Warehouse.open(warehouse)
    from crmkit.ingest import ensure_warehouse

    folder = ensure_warehouse(config=config or None,
                              source=None if config else (source or DEFAULT_SOURCE),
                              preset=(preset or None) if source and not config else None)
    return Warehouse.open(folder)


def open_report(name: str, *, title: str, sections: dict[str, Section],
                warehouse: str = "", source: str = "", config: str = "", by: str = "",
                language: str = "en", shaped: dict[str, tuple[str, str]] | None = None,
                **params) -> Report:
    """A report on the filters given as notebook parameters.

    The data: ``warehouse`` (an ingested folder), else ``source`` or ``config``, else the
    ``CRMKIT_SOURCE`` / ``CRMKIT_CONFIG`` environment variables, else the bundled sample.

    ``params``: start and end (ISO dates, empty: the last full quarter in the data),
    region, segment, channel, category, product, sales_rep (a value, ``"A,B"`` or empty
    for all), ``attributes`` (attribute column -> value(s), as a dict or JSON text such as
    ``'{"contract": "Two year"}'``) and ``attr_<column>`` for any attribute column.
    """
    from crmkit.charts import use_theme

    preset = ""
    if not (warehouse or source or config):
        source, config = os.environ.get(SOURCE_ENV, ""), os.environ.get(CONFIG_ENV, "")
        preset = os.environ.get(PRESET_ENV, "")
    wh = open_warehouse(warehouse, source, config, preset)
    filter_params = {k: v for k, v in params.items()
                     if k in FILTER_PARAMS or k.startswith("attr_")}
    unknown = set(params) - set(filter_params)
    if unknown:
        raise ParameterError(f"unknown report parameter(s) {sorted(unknown)}; filters are "
                             f"{', '.join(FILTER_PARAMS)} and attr_<column>")
    from crmkit.metrics.filters import FILTER_COLUMNS
    from crmkit.shapes import check_data_parameters

    check_data_parameters(wh.audit, {**filter_params, "by": by}, FILTER_COLUMNS)
    if not filter_params.get("start") or not filter_params.get("end"):
        start, end = default_period(wh)
        if start is not None:
            filter_params["start"] = filter_params.get("start") or start.strftime("%Y-%m-%d")
            filter_params["end"] = filter_params.get("end") or end.strftime("%Y-%m-%d")
    filters = Filters.from_params(filter_params)
    settings = report_settings(config, wh)
    try:
        words = i18n.activate(language, settings.get("locale"), settings.get("currency"))
    except ValueError as exc:
        raise ParameterError(f"parameter language: {exc}") from None
    use_theme(words.language)
    return Report(name=name, title=title, wh=wh, filters=filters,
                  params={"source": source or ("" if config or warehouse else "data/sample"),
                          "config": config, "by": by, "language": language,
                          **filter_params},
                  sections=sections, by=by or None, language=words.language,
                  shaped=dict(shaped or {}), settings=settings, words=words)


def report_settings(config: str, wh: Warehouse) -> dict:
    """What a config gives the reports, checked: ``targets`` (KPI -> target), ``rules``
    (the scorecard's status rules over their defaults) and ``config`` (the file read).
    The config is the one given, else the one the warehouse was ingested with (its audit
    names it; a relative name is looked up from here, then from the project). Without
    one, no targets and the default rules; ``missing`` names a config that was not found.
    """
    from crmkit.config import read_report_settings
    from crmkit.metrics.scorecard import check_targets, status_rules

    name = config or wh.audit.get("config") or ""
    found, settings = None, {"targets": {}, "scorecard": {}, "locale": None, "currency": None}
    if name:
        path = Path(name)
        candidates = [path] if path.is_absolute() else [Path.cwd() / path, PROJECT_ROOT / path]
        found = next((p for p in candidates if p.is_file()), None)
        if found is not None:
            settings = read_report_settings(found)
    check_targets(settings["targets"])
    # Money carries the currency the config names, or the one ingest converted every
    # amount into; none otherwise (a data set may hold several), as docs/config.md says.
    money = wh.audit.get("currency") or {}
    currency = settings.get("currency") or (money.get("report") if money.get("converted")
                                            else None)
    out = {"targets": settings["targets"], "rules": status_rules(settings["scorecard"]),
           "config": name if found is not None else "", "locale": settings.get("locale"),
           "currency": currency}
    if name and found is None:
        out["missing"] = name
    return out


# -- sections every report has ------------------------------------------------------------

def shown_source(report: Report) -> str:
    """The data source as a reader knows it: relative to the project when inside it."""
    source = report.wh.audit.get("source", report.wh.location)
    try:
        return str(Path(source).relative_to(PROJECT_ROOT))
    except ValueError:
        return source


def moment(value: datetime | str | None) -> str:
    """A time (UTC) as a reader reads it: English keeps 2025-04-01 12:34 UTC; another
    language its locale's date and time (Babel): 2025年4月1日 12:34:56 UTC. An ingest
    audit's ISO text is shown as it is in English."""
    from babel import dates

    if value is None or value == "":
        return i18n.missing()
    english = i18n.current().language == i18n.SOURCE_LANGUAGE
    if isinstance(value, str):
        if english:
            return value
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    locale = i18n.current().locale
    if english:
        return dates.format_datetime(value, "yyyy-MM-dd HH:mm 'UTC'", tzinfo=timezone.utc,
                                     locale=locale)
    return tr("{moment} UTC").format(moment=dates.format_datetime(
        value, "medium", tzinfo=timezone.utc, locale=locale))


def scope(report: Report) -> list:
    """One line: the period, the filters and the data the report rests on; a filter value
    that matches no row is said ("region = Nord: no rows")."""
    audit = report.wh.audit
    empty = ""
    if report.filters.conditions():
        selected = report.kpi("selected_rows")
        if not isinstance(selected, NotAvailable) and \
                selected.loc[selected["filter"] == "all", "rows"].iloc[0] == 0:
            none = selected[(selected["filter"] != "all") & (selected["rows"] == 0)]
            conditions = report.filters.conditions()
            said = [tr("{name} = {values}: no rows").format(
                        name=filter_label(name), values=either(_values(conditions[name])))
                    for name in none["filter"]]
            empty = " " + tr("**{what}.**").format(what=escape_markdown(
                series(said, semicolons=True) if said
                else tr("these filters together match no rows")))
    return [Text(tr("**Period and filters:** {filters}. **Data:** {source}, ingested "
                    "{ingested}.").format(
        filters=escape_markdown(report.filters.describe()),
        source=escape_markdown(shown_source(report)),
        ingested=escape_markdown(moment(audit.get("generated_at")))) + empty)]


def _values(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def appendix_definitions(report: Report) -> list:
    """The written definition of every KPI this report used."""
    table = metric_definitions()
    used = [m for m in report.used_metrics if m in set(table["name"])]
    table = table.set_index("name").loc[used].reset_index() if used else table.iloc[0:0]
    keep = [c for c in ("title", "formula", "unit", "grain") if c in table]
    from crmkit.sections import REPORTS, report_module

    own = getattr(report_module(report.name), "DEFINITIONS", []) \
        if report.name in REPORTS else []
    # A figure of one shape of data (an entry's "shape") is defined only where it is shown.
    own = [d for d in own if "shape" not in d or report.has_shape(d["shape"])]
    # An entry's title with values in it: its "message" (N_) formatted with its "values".
    own = [{**d, "title": tr(d["message"]).format(**d.get("values", {}))}
           if "message" in d else d for d in own]
    table = pd.concat([table[keep], pd.DataFrame(own, columns=keep)], ignore_index=True)
    # Titles, formulas and grains are catalog messages (N_ in the KPI modules); units are
    # code words (UNITS).
    for column in ("title", "formula", "unit", "grain"):
        if column in table:
            table[column] = [reason_text(v) if isinstance(v, str) else v
                             for v in table[column]]
    return [Table(table, caption=tr("Definitions of the KPIs and figures in this report"))]


# The units of the KPIs (crmkit.metrics, the reports' DEFINITIONS), as the definitions
# table shows them: code words, translated.
UNITS = (N_("coefficient"), N_("count"), N_("currency"), N_("customers"), N_("days"),
         N_("hours"), N_("months"), N_("nps"), N_("percent"), N_("probability"),
         N_("purchases per customer per month"), N_("ratio"), N_("score"),
         N_("percent / points"))


def appendix_parameters(report: Report) -> list:
    """The parameters this report was rendered with (secrets are never shown)."""
    from crmkit.report.parameters import redact

    rows = []
    for name, value in report.params.items():
        shown = redact(name, value)  # the value itself unless it is a secret
        if name == "by" and shown:  # a column: a canonical one by its name for the reader
            shown = field_label(shown)
        rows.append({"parameter": parameter_label(name),
                     "value": "" if shown in (None, "") else str(shown)})
    return [Table(pd.DataFrame(rows), caption=tr("Parameters"))]


# A report's parameters (notebook parameters, crmkit render --param): code words a reader
# sees translated; English shows the name itself.
PARAMETERS = {"source": N_("source"), "config": N_("config"), "by": N_("by"),
              "language": N_("language"), "start": N_("start"), "end": N_("end"),
              "region": N_("region"), "segment": N_("segment"), "channel": N_("channel"),
              "category": N_("category"), "product": N_("product"),
              "sales_rep": N_("sales_rep"), "attributes": N_("attributes")}


def parameter_label(name: str) -> str:
    """A parameter's name for the reader: ``sales_rep`` (English), 销售代表;
    ``attr_contract``: 属性 contract."""
    if name in PARAMETERS:
        return tr(PARAMETERS[name])
    if name.startswith("attr_") and len(name) > 5:
        return tr("attr_{column}").format(column=name[5:])
    return name


def appendix_audit(report: Report) -> list:
    """Ingest accounting: every input row kept, flagged or quarantined, and why."""
    tables = report.wh.audit.get("tables", {})
    if not tables:
        return [Text(tr("No ingest audit is recorded for this warehouse."))]
    rows, reasons = [], []
    for name, r in tables.items():
        totals = r.get("control_totals") or {}
        # Amounts in several currencies that were not converted are totalled per currency,
        # never as one sum: one row per currency.
        parts = totals.get("by_currency") or ({totals.get("currency") or "": totals}
                                              if "in" in totals else {"": {}})
        for currency, part in parts.items():
            rows.append({"table": name, "input": r.get("input", ""), "rows_in": r["rows_in"],
                         "kept": r["kept"], "flagged": r["flagged"],
                         "quarantined": r["quarantined"], "currency": currency,
                         "amount_in": part.get("in"),
                         "amount_kept_and_flagged": (part["kept"] + part["flagged"])
                         if part else None})
        for kind, counts, words in ((N_("flag"), r.get("flags", {}), flag_text),
                                    (N_("quarantine"), r.get("reasons", {}), audit_reason)):
            for reason, n in counts.items():
                reasons.append({"table": table_label(name), "kind": tr(kind),
                                "reason": words(reason), "rows": n})
    for row in rows:
        row["table"] = table_label(row["table"])
    out = [Table(pd.DataFrame(rows), {"rows_in": "count", "kept": "count", "flagged": "count",
                                      "quarantined": "count", "amount_in": "currency",
                                      "amount_kept_and_flagged": "currency"},
                 caption=tr("Rows in = kept + flagged + quarantined, per table"))]
    if reasons:
        out.append(Table(pd.DataFrame(reasons), {"rows": "count"},
                         caption=tr("Flags and quarantine reasons")))
    verdict = (tr("Every input row is accounted for.") if report.wh.audit.get("reconciled")
               else tr("**The ingest counts do not reconcile**: see audit.json."))
    out.append(Text(verdict))
    return out


# The flags ingest sets (crmkit.ingest.rules: FLAG_RULES, FLAGGED_REFERENCES): code words,
# translated; a config rule's own flag is the user's text, shown as it is.
FLAGS = {"return": N_("return"), "cancelled": N_("cancelled"),
         "no_customer": N_("no_customer"), "no_created_date": N_("no_created_date"),
         "closed_before_created": N_("closed_before_created"), "anonymous": N_("anonymous"),
         "unknown_campaign": N_("unknown_campaign")}

# The quarantine reasons ingest writes (crmkit.ingest.clean build_table and _bounds,
# crmkit.ingest.readers for a row with extra fields), as patterns -> the reader's words;
# the column in a reason is named by crmkit.labels.field_label. A config rule's own reason
# is the user's text, shown as it is.
_COLUMN = r"(?P<column>[^\s]+)"
REASONS = [(re.compile(pattern), message) for pattern, message in (
    (r"(?P<fields>\d+) fields where the header has (?P<width>\d+)",
     N_("{fields} fields where the header has {width}")),
    (r"currency not a currency code", N_("currency not a currency code")),
    (r"unknown status", N_("unknown status")),
    (r"unknown outcome", N_("unknown outcome")),
    (r"negative amount on a non-return", N_("negative amount on a non-return")),
    (r"exact duplicate row", N_("exact duplicate row")),
    (r"unparseable " + _COLUMN, N_("unparseable {column}")),
    (r"missing " + _COLUMN, N_("missing {column}")),
    (_COLUMN + r" not a finite number", N_("{column} not a finite number")),
    (_COLUMN + r" not a whole number", N_("{column} not a whole number")),
    (_COLUMN + r" out of range", N_("{column} out of range")),
    (_COLUMN + r" not above (?P<value>[^\s]+)", N_("{column} not above {value}")),
    (_COLUMN + r" not below (?P<value>[^\s]+)", N_("{column} not below {value}")),
    (_COLUMN + r" below (?P<value>[^\s]+)", N_("{column} below {value}")),
    (_COLUMN + r" above (?P<value>[^\s]+)", N_("{column} above {value}")),
    (r"duplicate (?P<columns>.+)", N_("duplicate {columns}")),
    (r"unknown " + _COLUMN, N_("unknown {column}")),
)]


def flag_text(flag: str) -> str:
    """An ingest flag (``no_customer``) in the active language."""
    return tr(FLAGS[flag]) if flag in FLAGS else flag


def audit_reason(reason: str) -> str:
    """An ingest quarantine reason (``missing customer_id``) in the active language; the
    columns in it named by crmkit.labels.field_label; a reason of the user's as it is."""
    for pattern, message in REASONS:
        found = pattern.fullmatch(reason)
        if found is None:
            continue
        values = found.groupdict()
        if "column" in values:
            values["column"] = field_label(values["column"])
        if "columns" in values:
            values["columns"] = series(field_label(c) for c in values["columns"].split(", "))
        return tr(message).format(**values)
    return reason


def appendix_lineage(report: Report) -> list:
    """Where the numbers come from: input checksums, versions, generation time."""
    audit = report.wh.audit
    rows = [{"item": tr("crmkit version"), "value": crmkit.__version__},
            {"item": tr("report generated"), "value": moment(datetime.now(timezone.utc))},
            {"item": tr("data ingested"), "value": moment(audit.get("generated_at"))},
            {"item": tr("source"), "value": shown_source(report)}]
    if audit.get("timezone"):
        rows.append({"item": tr("time zone (times with an offset converted to it)"),
                     "value": audit["timezone"]})
    dates = audit.get("plausible_dates") or {}
    if dates.get("earliest") and dates.get("latest"):
        rows.append({"item": tr("plausible dates (others quarantined)"),
                     "value": tr("{earliest} to {latest}").format(
                         earliest=dates["earliest"], latest=dates["latest"])})
    for name, r in audit.get("tables", {}).items():
        if r.get("sha256"):
            rows.append({"item": tr("{table} input sha256").format(table=table_label(name)),
                         "value": r["sha256"]})
    return [Table(pd.DataFrame(rows), caption=tr("Lineage"))]


COMMON_SECTIONS: dict[str, Section] = {
    "scope": scope,
    "appendix_definitions": appendix_definitions,
    "appendix_parameters": appendix_parameters,
    "appendix_audit": appendix_audit,
    "appendix_lineage": appendix_lineage,
}


def not_available(report: Report, what: str, result: NotAvailable) -> list:
    """The one line a section shows when its data is missing."""
    return [Text(tr("*{what} is not available for this data ({reason}).*").format(
        what=escape_markdown(reason_text(what)),
        reason=escape_markdown(reason_text(result.reason))))]
