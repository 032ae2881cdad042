"""Ingest time and peak memory on generated orders (CSV), e.g. 1 and 10 million.

    python bench/bench_ingest.py --orders 1000000 10000000

Each size is generated once (cached under .crmkit/bench/) with `crmkit sample`, then
ingested in a fresh process that reports its own peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".crmkit" / "bench"

INGEST = """
import json, resource, sys, time
from crmkit.ingest import ingest, resolve_config
t = time.perf_counter()
audit = ingest(resolve_config(source=sys.argv[1]), sys.argv[2], force=True)
print(json.dumps({"seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "orders": audit["tables"]["orders"]["rows_in"],
                  "reconciled": audit["reconciled"]}))
"""


def customers_for(orders: int) -> int:
    from crmkit.sample import ORDERS_PER_CUSTOMER

    return max(1, round(orders / ORDERS_PER_CUSTOMER))


def generated(orders: int, fmt: str) -> Path:
    folder = CACHE / f"{fmt}-{orders}"
    if not (folder / ".complete").exists():
        print(f"  generating about {orders:,} orders ({fmt}) ...", flush=True)
        subprocess.run([sys.executable, "-m", "crmkit", "sample", "--out", str(folder),
                        "--customers", str(customers_for(orders)), "--format", fmt,
                        "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
        (folder / ".complete").touch()
    return folder


def warehouse_for(orders: int, fmt: str = "csv") -> Path:
    """The ingested warehouse of about ``orders`` generated orders (``fmt`` files), (re)built
    when it is missing or cannot be opened (e.g. written by another DuckDB storage version)."""
    from crmkit.exceptions import WarehouseError
    from crmkit.warehouse import Warehouse

    folder = CACHE / f"wh-{fmt}-{orders}"
    try:
        Warehouse.open(folder).close()
    except WarehouseError:
        run([orders], fmt)
    return folder


def run(sizes: list[int], fmt: str = "csv") -> list[dict]:
    results = []
    for orders in sizes:
        source = generated(orders, fmt)
        out = subprocess.run([sys.executable, "-c", INGEST, str(source),
                              str(CACHE / f"wh-{fmt}-{orders}")],
                             check=True, capture_output=True, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        size_mb = sum(p.stat().st_size for p in source.iterdir()) / 1e6
        result.update(format=fmt, input_mb=round(size_mb))
        results.append(result)
        print(f"  ingest {result['orders']:>12,} orders ({fmt}, {size_mb:,.0f} MB, all seven "
              f"tables): {result['seconds']:7.1f} s, peak memory {result['peak_mb']:,.0f} MB"
              f"{'' if result['reconciled'] else '  (NOT RECONCILED)'}", flush=True)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--format", default="csv", choices=("csv", "parquet"))
    args = parser.parse_args()
    started = time.perf_counter()
    run(args.orders, args.format)
