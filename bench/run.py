"""`make bench`: every benchmark, figures printed. Speed is measured here, not asserted in
tests. Pick some with `make bench BENCH_ARGS="--only ingest --orders 1000000"`; the
filter panel on other reports with `BENCH_ARGS="--only widgets --report churn"`. Spark
local[2] against DuckDB on 10 and 50 million orders (not run by default: it takes long)
with `BENCH_ARGS="--only spark"`."""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHES = ("ingest", "metrics", "render", "widgets")
OPTIONAL = ("spark",)  # run only when named with --only
SIZES = [1_000_000, 10_000_000]  # --orders of the others when not given


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHES + OPTIONAL, default=list(BENCHES))
    parser.add_argument("--orders", type=int, nargs="+", default=None,
                        help="order counts for the ingest, KPI, filter-panel and Spark "
                             "benchmarks (default 1 and 10 million; Spark: 10 and 50 million)")
    parser.add_argument("--report", nargs="+", default=["sales_performance"],
                        help="reports the filter-panel benchmark opens, the first the "
                             "Spark one (default: sales_performance)")
    args = parser.parse_args()
    sizes = args.orders or SIZES
    import os

    print(f"crmkit benchmarks on {platform.node()}: {os.cpu_count()} cores, "
          f"Python {platform.python_version()}", flush=True)
    for name in args.only:
        started = time.perf_counter()
        print(f"\n== {name}", flush=True)
        if name == "ingest":
            import bench_ingest

            bench_ingest.run(sizes)
        elif name == "metrics":
            import bench_metrics

            bench_metrics.run(sizes)
        elif name == "render":
            import bench_render

            bench_render.run()
        elif name == "widgets":
            import bench_widgets

            # The smallest size only (1 million by default): a panel's redraw is ibis and
            # matplotlib overhead more than data, and a second 10-million data set costs minutes.
            bench_widgets.run(sorted(sizes)[:1], args.report)
        elif name == "spark":
            import bench_spark

            # One report: the first named (default sales_performance).
            bench_spark.run(args.orders or bench_spark.SIZES, args.report[0])
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
