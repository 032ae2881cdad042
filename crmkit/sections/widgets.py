"""The filter panel: live filters at the top of a report notebook (JupyterLab, Voilà).

    report.filter_panel()        # what the notebooks call; batch runs print the filters
    panel = FilterPanel(report)  # the same by hand (tests, benchmarks); panel.widget

The panel sets the one :class:`crmkit.metrics.Filters` the batch parameters set, from its
widgets: the period, region, segment, channel, category, sales rep, the breakdown ``by``
and a dropdown per attribute column with few values; the options come from the data, the
initial values from the report's parameters. Filters without a widget (product, attribute
columns with many values) keep their parameter values. The panel prints the
``crmkit render`` command that renders the same view as HTML.

A change redraws, in place, every section shown through :meth:`FilterPanel.show` (which
``report.show`` calls once the panel is up), and the notebook's ``report`` follows the
panel (its ``filters``, ``params`` and ``by``), so a cell run afterwards sees the same view.

Staying responsive
    - Debounce: the first change after a quiet spell applies at once; a change within
      ``debounce`` seconds of the previous one is gathered with the next ones and applied
      ``debounce`` after the last (typing a date, clicking down a list).
    - The redraw runs on one worker thread, never in the widget's event handler: the
      panel keeps taking changes and says "working…". A redraw a newer change supersedes
      stops at the next section.
    - Sections are redrawn in the order shown, each as soon as it is ready. Each
      section's outputs are kept per (section, filters, breakdown), so going back to a
      view is immediate, and the report caches KPIs per filter set. A section that did
      not read the breakdown while it was drawn is kept for every breakdown: changing
      the breakdown redraws only the sections that use it.

One computation at a time: the worker and :meth:`show` share a lock, because neither a
warehouse connection nor matplotlib's pyplot may be used from two threads at once.

The panel speaks the report's language (``report.words``, crmkit.i18n): its labels,
options, status and messages, also on the worker thread, which does not inherit the
notebook's active language.
"""

from __future__ import annotations

import html
import re
import shlex
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from crmkit import i18n
from crmkit.exceptions import CrmkitError
from crmkit.i18n import N_, tr
from crmkit.kept import Kept
from crmkit.metrics import Filters
from crmkit.metrics.filters import DIMENSIONS, FILTER_COLUMNS
from crmkit.metrics.selection import date_span, distinct_values
from crmkit.sections.base import Report, Table, Text, figure_output, filter_params_text
from crmkit.secrets import redact_url

# dimension -> label (translated where shown); product has too many values for a
# dropdown (its parameter applies).
PANEL_DIMENSIONS = {"region": N_("Region"), "segment": N_("Segment"), "channel": N_("Channel"),
                    "category": N_("Category"), "sales_rep": N_("Sales rep")}
ATTRIBUTE_TABLES = ("orders", "customers")  # where attribute columns are offered from
MAX_OPTIONS = 200  # a dimension with more distinct values gets no dropdown
MAX_ATTRIBUTE_VALUES = 30  # an attribute column with more values gets no dropdown
DEBOUNCE_SECONDS = 0.25
SECTIONS_KEPT = 256  # rendered section outputs kept for going back to a view (LRU)
ALL = ""  # a dropdown's "no filter" value
ANY_BREAKDOWN = object()  # the key of a section drawn without reading the breakdown
SAMPLE_SOURCE = "data/sample"  # open_report's name for the bundled sample: no --source


# -- options from the data ---------------------------------------------------------------

@dataclass(frozen=True)
class FilterOptions:
    """What the panel offers: the values of each dimension and attribute column (sorted),
    and the first and last order day."""

    dimensions: dict[str, tuple] = field(default_factory=dict)
    attributes: dict[str, tuple] = field(default_factory=dict)
    first_day: date | None = None
    last_day: date | None = None

    @property
    def breakdowns(self) -> list[str]:
        """Columns offered as the breakdown ``by``."""
        return [*self.dimensions, *self.attributes]


def filter_options(wh, *, max_options: int = MAX_OPTIONS,
                   max_attribute_values: int = MAX_ATTRIBUTE_VALUES) -> FilterOptions:
    """The distinct values the filters can take in warehouse ``wh``.

    A dimension's values are those of every column it filters (region: orders.region and
    customers.region, see crmkit.metrics.filters.FILTER_COLUMNS); it is left out with no
    value or more than ``max_options``. Attribute columns of orders and customers are
    offered with 2 to ``max_attribute_values`` values. Nulls and empty text are no option.
    """
    dimensions = {}
    for name in PANEL_DIMENSIONS:
        values: set = set()
        for table, column in FILTER_COLUMNS[name].items():
            if wh.has(table) and column in wh.table(table).columns:
                values |= distinct_values(wh, table, column, max_options + 1)
        if 0 < len(values) <= max_options:
            dimensions[name] = _sorted(values)
    attributes = {}
    for table in ATTRIBUTE_TABLES:
        if not wh.has(table):
            continue
        for column in wh.attributes(table):
            if column in attributes or column in DIMENSIONS or column in ("start", "end"):
                continue
            values = distinct_values(wh, table, column, max_attribute_values + 1)
            if 2 <= len(values) <= max_attribute_values:
                attributes[column] = _sorted(values)
    first, last = _order_days(wh)
    return FilterOptions(dimensions, attributes, first, last)




def _sorted(values) -> tuple:
    try:
        return tuple(sorted(values))
    except TypeError:  # mixed types
        return tuple(sorted(values, key=str))


def _order_days(wh) -> tuple[date | None, date | None]:
    """First and last order day: from the ingest audit, else from the orders."""
    recorded = wh.audit.get("tables", {}).get("orders", {}).get("date_range") or {}
    if recorded.get("min") and recorded.get("max"):
        return (pd.Timestamp(recorded["min"]).date(), pd.Timestamp(recorded["max"]).date())
    if not wh.has("orders"):
        return None, None
    return date_span(wh, "orders", "order_date")


# -- the command that renders a view ------------------------------------------------------

def render_command(report: str, filters: Filters, *, by: str | None = None,
                   params: dict | None = None) -> str:
    """The ``crmkit render`` command line that renders ``report`` on these filters.

    Every set filter becomes a ``--param`` (the period always: the HTML then shows this
    view even after more data arrives). ``params`` (a report's parameters) add the data
    (``--config`` or ``--source``; none for the bundled sample; ``--param warehouse=``
    for a report opened on a warehouse folder) and the language when not English.
    """
    params = params or {}
    words = ["crmkit", "render", report]
    if params.get("config"):
        words += ["--config", str(params["config"])]
    elif params.get("source") and params["source"] != SAMPLE_SOURCE:
        # a database password never shows in the panel: give it through PGPASSWORD
        words += ["--source", redact_url(str(params["source"]))]
    elif params.get("warehouse"):
        words += ["--param", f"warehouse={params['warehouse']}"]
    for name, value in filter_params_text(filters).items():
        if value:
            words += ["--param", f"{name}={value}"]
    if by:
        words += ["--param", f"by={by}"]
    if params.get("language") not in (None, "", "en"):
        words += ["--param", f"language={params['language']}"]
    return shlex.join(words)


def report_command(report: Report) -> str:
    """:func:`render_command` for ``report`` as it stands."""
    params = dict(report.params)
    if not params.get("source") and not params.get("config"):
        params["warehouse"] = report.wh.location
    return render_command(report.name, report.filters, by=report.by, params=params)


# -- section outputs as notebook outputs ----------------------------------------------------

def mime_output(item, *, language: str = "en") -> dict | None:
    """One section output (Text, Table, Chart, Figure, anything IPython can display) as a
    ``display_data`` output for an ``ipywidgets.Output``. A Chart becomes a Vega-Lite
    spec the browser draws (:mod:`crmkit.vegalite`), a Figure (or a Chart of a kind
    without a spec builder) a PNG; a Figure is closed."""
    from matplotlib.figure import Figure

    from crmkit import vegalite
    from crmkit.charts import Chart

    if item is None:
        return None
    metadata = {}
    if isinstance(item, Text):
        data = {"text/markdown": item.markdown, "text/plain": item.markdown}
    elif isinstance(item, Table):
        data = {"text/html": item.to_html(), "text/plain": item.caption or "(table)"}
    elif isinstance(item, Chart) and vegalite.supports(item):
        data, metadata = vegalite.mime_bundle(item, language=language)
    elif isinstance(item, (Figure, Chart)):
        data = figure_output(item)
    else:
        from IPython.core.formatters import DisplayFormatter

        data, _ = DisplayFormatter().format(item)
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def _error_output(section: str, err: Exception) -> dict:
    text = "*" + tr("The section {section} could not be drawn for these filters: "
                    "{error}").format(section=section, error=f"{type(err).__name__}: {err}") + "*"
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/markdown": text.replace("<", "&lt;"), "text/plain": text}}


# -- the panel --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Redraw:
    """One finished redraw: the view, the seconds from the change to the whole report
    redrawn, and to each section redrawn (``drawn``, in the order they were drawn); the
    sections that could not be drawn (``failed``)."""

    filters: Filters
    by: str | None
    seconds: float
    drawn: dict[str, float]
    failed: tuple[str, ...] = ()


class FilterPanel:
    """The filter widgets of one report and the sections they redraw (see the module doc).

    ``widget`` is what a notebook displays. ``dimension_widgets`` (dimension -> Dropdown),
    ``attribute_widgets`` (column -> Dropdown), ``start``, ``end`` (DatePicker) and
    ``breakdown`` (Dropdown) are the controls; ``status`` says "working…" while a redraw
    runs; ``command_text`` is the matching ``crmkit render`` command. ``redraws`` lists
    the finished redraws (:class:`Redraw`, with timings); :meth:`wait` blocks until the
    panel is idle.
    """

    def __init__(self, report: Report, *, options: FilterOptions | None = None,
                 debounce: float = DEBOUNCE_SECONDS):
        self.report = report
        self.options = filter_options(report.wh) if options is None else options
        self.debounce = debounce
        self.views: dict = {}  # section -> the ipywidgets.Output it is drawn in
        self.redraws: list[Redraw] = []
        self._fixed = report.filters  # the filters without a widget come from here
        self._lock = threading.RLock()  # one computation at a time (warehouse, pyplot)
        self._state = threading.Lock()  # the generation counter and the debounce timer
        self._generation = 0
        self._changed_at = 0.0
        self._last_change = float("-inf")
        self._timer: threading.Timer | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmkit-panel")
        self._rendered = Kept(SECTIONS_KEPT)
        self._build()

    @property
    def words(self) -> i18n.Setting:
        """The language, locale and currency of the report (crmkit.i18n)."""
        return getattr(self.report, "words", None) or i18n.current()

    # -- widgets ----------------------------------------------------------------------
    def _build(self) -> None:
        with i18n.using(self.words):
            self._build_widgets()

    def _build_widgets(self) -> None:
        import ipywidgets as w

        filters, options = self.report.filters, self.options
        style = {"description_width": "initial"}
        limits = {k: v for k, v in (("min", options.first_day), ("max", options.last_day)) if v}
        self.start = w.DatePicker(description=tr("From"), value=_day(filters.start),
                                  style=style, **limits)
        self.end = w.DatePicker(description=tr("To"), value=_day(filters.end), style=style,
                                **limits)
        self.dimension_widgets = {
            name: _dropdown(tr(label), options.dimensions[name], getattr(filters, name), style)
            for name, label in PANEL_DIMENSIONS.items() if name in options.dimensions}
        self.attribute_widgets = {
            column: _dropdown(column.replace("_", " ").capitalize(), values,
                              filters.attributes.get(column), style)
            for column, values in options.attributes.items()}
        breakdowns = [(tr("none"), ALL)] + [
            (tr(PANEL_DIMENSIONS[c]) if c in PANEL_DIMENSIONS else c.replace("_", " "), c)
            for c in options.breakdowns]
        if self.report.by and self.report.by not in options.breakdowns:
            breakdowns.append((self.report.by, self.report.by))
        self.breakdown = w.Dropdown(description=tr("Breakdown"), options=breakdowns,
                                    value=self.report.by or ALL, style=style)
        self.status = w.HTML(value=_status(tr("ready")))
        self.command = w.HTML(value=_command_html(report_command(self.report)))

        def row(children):
            return w.Box(children, layout=w.Layout(flex_flow="row wrap",
                                                   grid_gap="4px 16px", align_items="center"))

        rows = [row([self.start, self.end, self.breakdown, self.status]),
                row(list(self.dimension_widgets.values()))]
        if self.attribute_widgets:
            rows.append(row(list(self.attribute_widgets.values())))
        rows.append(self.command)
        self.widget = w.VBox(rows, layout=w.Layout(border="1px solid #d0d7de",
                                                   padding="8px 12px", margin="0 0 12px 0"))
        self.widget.add_class("crmkit-filter-panel")
        for control in self.controls:
            control.observe(self._on_change, names="value")

    @property
    def controls(self) -> list:
        return [self.start, self.end, self.breakdown, *self.dimension_widgets.values(),
                *self.attribute_widgets.values()]

    @property
    def command_text(self) -> str:
        """The ``crmkit render`` command for the panel's current view."""
        found = _COMMAND_CODE.search(self.command.value)
        return html.unescape(found.group(1)) if found else ""

    def current(self) -> tuple[Filters, str | None]:
        """The filters and breakdown the widgets set (ParameterError when they are not
        valid, e.g. a period that ends before it starts). An empty date is the first or
        last order day."""
        params = self._fixed.to_params()
        params["start"] = self.start.value or self.options.first_day
        params["end"] = self.end.value or self.options.last_day
        for name, widget in self.dimension_widgets.items():
            params[name] = _param(widget.value)
        attributes = dict(params.get("attributes", {}))
        for column, widget in self.attribute_widgets.items():
            value = _param(widget.value)
            if value is None:
                attributes.pop(column, None)
            else:
                attributes[column] = value
        params["attributes"] = attributes
        return Filters.from_params(params), self.breakdown.value or None

    # -- sections -----------------------------------------------------------------------
    def show(self, section: str) -> None:
        """Display ``section`` in an Output widget the panel redraws. Showing a section
        again moves the live view to the new output (re-running a cell)."""
        import ipywidgets as w
        from IPython.display import display

        output = w.Output()
        output.outputs, _ = self._section_outputs(self.report, section)
        self.views[section] = output
        display(output)

    def _section_outputs(self, report: Report, section: str) -> tuple[tuple, Exception | None]:
        with self._lock:
            # A section drawn without reading the breakdown is kept for every breakdown.
            for key in ((section, report.filters, ANY_BREAKDOWN),
                        (section, report.filters, report.by)):
                kept = self._rendered.get(key)
                if kept is not None:
                    return kept, None
            try:
                drawn, read_by = report.outputs_and_breakdown(section)
                with i18n.using(self.words):
                    outputs = tuple(o for o in (mime_output(d, language=report.language)
                                                for d in drawn) if o)
            except Exception as err:  # the panel outlives a failing section; it says why
                with i18n.using(self.words):
                    return (_error_output(section, err),), err
            key = (section, report.filters, report.by if read_by else ANY_BREAKDOWN)
            self._rendered[key] = outputs
            return outputs, None

    # -- changes ------------------------------------------------------------------------
    def _on_change(self, change=None) -> None:
        now = time.perf_counter()
        with self._state:
            self._generation += 1
            generation = self._generation
            self._changed_at = now
            quiet = now - self._last_change >= self.debounce
            self._last_change = now
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not quiet:
                self._timer = threading.Timer(self.debounce, self._submit, args=(generation,))
                self._timer.daemon = True
                self._timer.start()
        with i18n.using(self.words):
            self.status.value = _status(tr("working…"), busy=True)
        if quiet:
            self._submit(generation)

    def _submit(self, generation: int) -> None:
        if generation == self._generation:
            self._worker.submit(self._redraw, generation)

    def _redraw(self, generation: int) -> None:
        with i18n.using(self.words):  # the worker thread: the report's language
            try:
                self._draw(generation)
            except Exception as err:  # on the worker thread nobody would see it: say it
                self.status.value = _status(f"{type(err).__name__}: {err}", error=True)

    def _draw(self, generation: int) -> None:
        if generation != self._generation:
            return  # a newer change is on its way
        try:
            filters, by = self.current()
        except CrmkitError as err:
            self.status.value = _status(str(err), error=True)
            return
        with self._lock:  # the notebook's report follows the panel
            view = self.report.with_filters(filters, by=by)
            self.report.filters, self.report.params, self.report.by = \
                view.filters, view.params, view.by
        self.command.value = _command_html(report_command(view))
        sections = list(self.views.items())
        failed, drawn = [], {}
        for done, (section, output) in enumerate(sections):
            if generation != self._generation:
                return
            self.status.value = _status(tr("working… {done}/{total} sections").format(
                done=done, total=len(sections)), busy=True)
            output.outputs, error = self._section_outputs(view, section)
            drawn[section] = time.perf_counter() - self._changed_at
            if error is not None:
                failed.append(section)
        if generation != self._generation:
            return
        elapsed = time.perf_counter() - self._changed_at
        self.redraws.append(Redraw(filters, by, elapsed, drawn, tuple(failed)))
        if failed:
            self.status.value = _status(tr("{n} section(s) could not be drawn: {sections}").format(
                n=len(failed), sections=", ".join(failed)), error=True)
        else:
            self.status.value = _status(tr("up to date ({seconds} s)").format(
                seconds=i18n.number(elapsed, 2)))

    def wait(self, timeout: float = 120) -> None:
        """Block until no change is pending and the last redraw has finished."""
        deadline = time.monotonic() + timeout
        while True:
            with self._state:
                timer, generation = self._timer, self._generation
            if timer is not None:
                timer.join(max(0.0, deadline - time.monotonic()))
            self._worker.submit(lambda: None).result(max(0.0, deadline - time.monotonic()))
            with self._state:
                if self._generation == generation and (self._timer is None
                                                       or not self._timer.is_alive()):
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(tr("the filter panel was still busy after {seconds} s")
                                   .format(seconds=timeout))

    def close(self) -> None:
        """Stop the worker and close the widgets (the report shows static outputs again)."""
        with self._state:
            if self._timer is not None:
                self._timer.cancel()
            self._generation += 1
        self._worker.shutdown(wait=True)
        for output in self.views.values():
            output.close()
        for control in self.controls:
            control.close()
        self.widget.close()
        if self.report.panel is self:
            self.report.panel = None


def _day(stamp) -> date | None:
    return None if stamp is None else pd.Timestamp(stamp).date()


def _param(value):
    if isinstance(value, str) and value == ALL:
        return None
    return list(value) if isinstance(value, tuple) else value


def _dropdown(label: str, values: tuple, current, style):
    import ipywidgets as w

    from babel.lists import format_list

    options = [(tr("All"), ALL)] + [(str(v), v) for v in values]
    if isinstance(current, tuple):  # several values from a parameter: one entry for them
        options.append((format_list([str(v) for v in current], style="or",
                                    locale=i18n.current().locale), current))
    elif current is not None and current not in values:  # a parameter value not in the data
        options.append((str(current), current))
    return w.Dropdown(description=label, options=options,
                      value=ALL if current is None else current, style=style)


def _status(text: str, *, busy: bool = False, error: bool = False) -> str:
    kind = "error" if error else ("busy" if busy else "idle")
    color = {"error": "#b42318", "busy": "#9a6700", "idle": "#57606a"}[kind]
    return (f'<span class="crmkit-status crmkit-status-{kind}" style="color:{color}">'
            f"{html.escape(text)}</span>")


_COMMAND_CODE = re.compile(r"<code>(.*)</code>", re.DOTALL)


def _command_html(command: str) -> str:
    return ('<div class="crmkit-command" style="font-size:90%;color:#57606a">'
            + html.escape(tr("Render this view as HTML:"), quote=False) + " <code>"
            + html.escape(command, quote=False) + "</code></div>")
