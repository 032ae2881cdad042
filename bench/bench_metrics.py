"""The full KPI set (crmkit.metrics.kpi_set on DuckDB) vs plain pandas, e.g. 1 and 10
million orders.

    python bench/bench_metrics.py --orders 1000000 10000000

Uses the generated data and warehouse of bench_ingest (cached under .crmkit/bench/).
Each side runs in a fresh process that reports its own time and peak resident memory:
ibis compiles every KPI to SQL that DuckDB runs in the warehouse file; pandas first
loads the seven tables into memory (timed separately), then computes. The two sets of
numbers must agree.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import bench_ingest

PERIOD = ("2025-01-01", "2025-03-31")  # a quarter with a previous quarter and year in the data

IBIS_SIDE = """
import json, resource, sys, time
from crmkit.metrics import Filters, kpi_set
from crmkit.warehouse import Warehouse
wh = Warehouse.open(sys.argv[1])
t = time.perf_counter()
kpis = kpi_set(wh, Filters(start=sys.argv[2], end=sys.argv[3]))
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "values": dict(zip(kpis["name"], kpis["value"].astype(float)))}))
"""

PANDAS_SIDE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[4])
from pandas_reference import kpi_values
from crmkit.warehouse import Warehouse
wh = Warehouse.open(sys.argv[1])
t = time.perf_counter()
tables = {name: wh.table(name).to_pandas() for name in wh.tables()}
load = time.perf_counter() - t
t = time.perf_counter()
values = kpi_values(tables, start=sys.argv[2], end=sys.argv[3])
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "load_seconds": load,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "values": values}))
"""


def side(script: str, folder: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", script, str(folder), *PERIOD,
                          str(Path(__file__).resolve().parent)],
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"KPI benchmark on {folder} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def disagreements(a: dict, b: dict) -> list[str]:
    out = []
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name, math.nan), b.get(name, math.nan)
        if not (math.isclose(x, y, rel_tol=1e-6) or (math.isnan(x) and math.isnan(y))):
            out.append(f"{name}: {x} vs {y}")
    return out


def run(sizes: list[int]) -> list[dict]:
    results = []
    for orders in sizes:
        folder = bench_ingest.warehouse_for(orders, "csv")
        ibis_run = side(IBIS_SIDE, folder)
        pandas_run = side(PANDAS_SIDE, folder)
        differ = disagreements(ibis_run["values"], pandas_run["values"])
        results.append({"orders": orders, "ibis": ibis_run, "pandas": pandas_run,
                        "disagree": differ})
        print(f"  KPI set ({len(ibis_run['values'])} KPIs), {orders:>12,} orders: "
              f"ibis+DuckDB {ibis_run['seconds']:6.1f} s, peak {ibis_run['peak_mb']:,.0f} MB | "
              f"pandas {pandas_run['seconds']:6.1f} s + {pandas_run['load_seconds']:.1f} s "
              f"load, peak {pandas_run['peak_mb']:,.0f} MB"
              f"{'' if not differ else '  DISAGREE: ' + '; '.join(differ)}", flush=True)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000_000, 10_000_000])
    run(parser.parse_args().orders)
