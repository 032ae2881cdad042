"""Filter panel: from a filter change to the report redrawn, on generated orders (e.g. 1
million).

    python bench/bench_widgets.py --orders 1000000 [--report sales_performance ...]

Uses the generated data (parquet) and warehouse of bench_ingest, cached under
.crmkit/bench/. Builds the report's filter panel in this process (the widgets run without
a browser; sending the outputs to one is not timed), shows every section of the notebook,
then changes one control at a time through views not seen before (region, segment,
channel, category, sales rep, period, breakdown), waiting for each redraw. Per change it
times: the "working…" indicator (the event handler's own time), the first data section
redrawn (the summary) and the whole report, from the change on. Then it undoes and redoes
the last change (views drawn before: their outputs are kept). Prints p50 and p95, and each
section's p50.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import bench_ingest
import numpy as np

CHANGES = 12  # changes to unseen views per report
REVISITS = 6  # changes back to views drawn before


def changes(panel) -> list[tuple[object, object]]:
    """(widget, value) pairs, each giving a view not drawn before."""
    dims = panel.dimension_widgets
    steps = []

    def values(name, n):
        return [v for _, v in dims[name].options if v != ""][:n] if name in dims else []

    for region in values("region", 2):
        steps.append((dims["region"], region))
    for segment in values("segment", 2):
        steps.append((dims["segment"], segment))
    for channel in values("channel", 2):
        steps.append((dims["channel"], channel))
    if "region" in dims:
        steps.append((dims["region"], ""))
    for category in values("category", 1):
        steps.append((dims["category"], category))
    for rep in values("sales_rep", 1):
        steps.append((dims["sales_rep"], rep))
    steps.append((panel.start, _months_earlier(panel.start.value, 3)))
    breakdown = [v for _, v in panel.breakdown.options if v]
    if breakdown:
        steps.append((panel.breakdown, breakdown[0]))
    if "segment" in dims:
        steps.append((dims["segment"], ""))
    return steps[:CHANGES]


def _months_earlier(day, months: int):
    import pandas as pd

    return (pd.Timestamp(day) - pd.DateOffset(months=months)).date()


_last_change: dict[int, float] = {}  # panel id -> when the bench last changed it


def change(panel, widget, value) -> tuple[float, object]:
    """Set ``widget`` to ``value``; (seconds the event handler took, the finished Redraw).

    Waits first until the previous change is ``debounce`` old, as a person's next click
    is: a change sooner than that is gathered with the next ones (debounce), not timed."""
    time.sleep(max(0.0, panel.debounce - (time.perf_counter() - _last_change.get(id(panel), 0))))
    _last_change[id(panel)] = time.perf_counter()
    before = len(panel.redraws)
    began = time.perf_counter()
    widget.value = value
    handler = time.perf_counter() - began
    panel.wait()
    if len(panel.redraws) == before:
        raise RuntimeError(f"no redraw after setting {widget.description} to {value!r}: "
                           f"{panel.status.value}")
    return handler, panel.redraws[-1]


def bench_report(report_name: str, folder: Path, orders: int) -> dict:
    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    from crmkit.sections import open_report, report_module
    from crmkit.sections.notebooks import APPENDIX
    from crmkit.sections.widgets import FilterPanel

    IPython.display.display = lambda *args, **kwargs: None  # no frontend: draw nothing
    began = time.perf_counter()
    report = open_report(report_name, warehouse=str(folder))
    panel = FilterPanel(report)
    report.panel = panel
    built = time.perf_counter() - began
    outline = [e[0] for e in [*report_module(report_name).OUTLINE, *APPENDIX]
               if not isinstance(e, str)]
    began = time.perf_counter()
    for section in ["scope", *outline]:
        report.show(section)
    first_draw = time.perf_counter() - began
    first_data = outline[0]

    fresh, handlers, known_shapes = [], [], []
    compiled = report.wh.compiled
    for widget, value in changes(panel):
        before = widget.value
        shapes = compiled.compiled if compiled is not None else None
        handler, redraw = change(panel, widget, value)
        handlers.append(handler)
        fresh.append(redraw)
        # every query of the view compiled from a kept shape (crmkit.compiled): another
        # value of filters set before
        known_shapes.append(shapes is not None and compiled.compiled == shapes)
    revisits = []
    for _ in range(REVISITS // 2):  # undo and redo the last change: both views were drawn
        revisits.append(change(panel, widget, before)[1])
        revisits.append(change(panel, widget, value)[1])
    panel.close()
    report.wh.close()
    result = {"report": report_name, "orders": orders, "built": built,
              "first_draw": first_draw, "first_data": first_data, "fresh": fresh,
              "revisits": revisits, "handlers": handlers, "known_shapes": known_shapes}
    _print(result)
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _print(r: dict) -> None:
    fresh, revisits = r["fresh"], r["revisits"]
    whole = [d.seconds for d in fresh]
    summary = [d.drawn[r["first_data"]] for d in fresh if r["first_data"] in d.drawn]
    back = [d.seconds for d in revisits]
    print(f"  {r['report']} on {r['orders']:,} orders: panel built in {_ms(r['built'])}, "
          f"report first drawn in {_ms(r['first_draw'])}", flush=True)
    print(f"    filter change -> 'working…' shown   p50 {_ms(np.percentile(r['handlers'], 50)):>9}"
          f"   p95 {_ms(np.percentile(r['handlers'], 95)):>9}   ({len(r['handlers'])} changes)")
    print(f"    filter change -> {r['first_data']} redrawn"
          f"{' ' * max(0, 17 - len(r['first_data']))}p50 {_ms(np.percentile(summary, 50)):>9}"
          f"   p95 {_ms(np.percentile(summary, 95)):>9}   (new views)")
    print(f"    filter change -> whole report redrawn p50 {_ms(np.percentile(whole, 50)):>9}"
          f"   p95 {_ms(np.percentile(whole, 95)):>9}   (new views)")
    for known, what in ((True, "other values of filters set before"),
                        (False, "a new combination of filters")):
        times = [d.seconds for d, k in zip(fresh, r["known_shapes"]) if k == known]
        if times:
            print(f"      of which {what}: p50 {_ms(np.percentile(times, 50))}, "
                  f"p95 {_ms(np.percentile(times, 95))} ({len(times)} changes)")
    print(f"    filter change -> whole report redrawn p50 {_ms(np.percentile(back, 50)):>9}"
          f"   p95 {_ms(np.percentile(back, 95)):>9}   (views seen before: {len(back)})")
    sections = list(fresh[0].drawn)
    costs = {s: [] for s in sections}
    for redraw in fresh:
        previous = 0.0
        for section in sections:
            costs[section].append(redraw.drawn[section] - previous)
            previous = redraw.drawn[section]
    print("    per section, new views (p50): " + ", ".join(
        f"{s} {_ms(statistics.median(v))}" for s, v in costs.items()), flush=True)
    failed = sorted({s for d in fresh + revisits for s in d.failed})
    if failed:
        print(f"    sections that failed on some view (timed as drawn): {', '.join(failed)}")


def run(sizes: list[int], reports: list[str] | None = None) -> list[dict]:
    results = []
    for orders in sizes:
        folder = bench_ingest.warehouse_for(orders, "parquet")
        for name in reports or ["sales_performance"]:
            results.append(bench_report(name, folder, orders))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--report", nargs="+", default=["sales_performance"])
    args = parser.parse_args()
    run(args.orders, args.report)
