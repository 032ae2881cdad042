"""Rendering N report notebooks: crmkit in-process (papermill API, threads) vs the naive loop.

    python bench/bench_render.py [--n 4] [--jobs J] [--notebooks DIR]

The naive loop is what a Makefile would do per notebook: ``papermill in.ipynb out.ipynb``
then ``jupyter nbconvert --to html --no-input out.ipynb``, each a new process. crmkit runs
``crmkit.report.render`` in one process: papermill and nbconvert imported once, J kernels
at once. Every variant runs in a fresh process so that its import costs count. By default
the notebooks are the four real reports on data/sample; ``--small`` uses the report tests'
small notebooks (tests/report/notebooks), copied to reach N.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_NOTEBOOKS = ROOT / "tests" / "report" / "notebooks"
REPORTS = ROOT / "notebooks"  # the four real reports on data/sample
SMALL = ("overview", "minimal")  # the tests' notebooks that succeed
BIN = Path(sys.executable).parent

IN_PROCESS = """
import sys
from crmkit.report import render
render(sys.argv[1].split(','), out_dir=sys.argv[2], notebooks_dir=sys.argv[3], jobs=int(sys.argv[4]),
       force=True)
"""


def _notebooks(folder: Path, n: int, source: Path | None) -> list[str]:
    """N notebooks in ``folder``: the real reports, or copies of the small test notebooks."""
    folder.mkdir(parents=True)
    if source is not None:
        names = sorted(p.stem for p in source.glob("*.ipynb") if not p.name.startswith(("_", ".")))[:n]
        for name in names:
            shutil.copy(source / f"{name}.ipynb", folder / f"{name}.ipynb")
        return names
    names = []
    for i in range(n):
        base = SMALL[i % len(SMALL)]
        name = f"{base}_{i + 1}"
        shutil.copy(TEST_NOTEBOOKS / f"{base}.ipynb", folder / f"{name}.ipynb")
        names.append(name)
    return names


def _timed(cmd: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def naive_loop(names: list[str], notebooks: Path, out: Path) -> float:
    out.mkdir(parents=True)
    total = 0.0
    for name in names:
        executed = out / f"{name}.ipynb"
        total += _timed([str(BIN / "papermill"), "--no-progress-bar", str(notebooks / f"{name}.ipynb"),
                         str(executed)], cwd=notebooks)
        total += _timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                         str(executed)], cwd=out)
    return total


def in_process(names: list[str], notebooks: Path, out: Path, jobs: int) -> float:
    return _timed([sys.executable, "-c", IN_PROCESS, ",".join(names), str(out), str(notebooks),
                   str(jobs)], cwd=ROOT)


def run(n: int = 4, jobs: int | None = None, notebooks: Path | None = REPORTS
        ) -> dict[str, float]:
    jobs = jobs or os.cpu_count() or 1
    if notebooks is not None:
        # Both sides read the same cached warehouse; ingest once before timing either.
        from crmkit.ingest import ensure_warehouse

        ensure_warehouse(source=ROOT / "data" / "sample")
    with tempfile.TemporaryDirectory(prefix="crmkit-bench-") as tmp:
        tmp = Path(tmp)
        names = _notebooks(tmp / "notebooks", n, notebooks)
        n = len(names)
        print(f"   {n} notebooks ({', '.join(names)}), {os.cpu_count()} cores", flush=True)
        naive = naive_loop(names, tmp / "notebooks", tmp / "naive")
        print(f"   naive loop (papermill CLI + nbconvert CLI per notebook): {naive:6.1f} s "
              f"({naive / n:.1f} s per notebook)", flush=True)
        sequential = in_process(names, tmp / "notebooks", tmp / "seq", 1)
        print(f"   crmkit render, in-process, --jobs 1:                   {sequential:6.1f} s "
              f"(x{naive / sequential:.1f})", flush=True)
        parallel = in_process(names, tmp / "notebooks", tmp / "par", jobs)
        print(f"   crmkit render, in-process, --jobs {jobs}:                   {parallel:6.1f} s "
              f"(x{naive / parallel:.1f})", flush=True)
    print(f"   speed-up over the naive loop: x{naive / parallel:.1f}", flush=True)
    return {"naive": naive, "sequential": sequential, "parallel": parallel}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4, help="number of notebooks (default 4)")
    parser.add_argument("--jobs", type=int, help="kernels at once (default: CPU count)")
    parser.add_argument("--notebooks", type=Path, default=REPORTS,
                        help="folder of report notebooks (default: notebooks/)")
    parser.add_argument("--small", action="store_true",
                        help="the report tests' small notebooks instead")
    args = parser.parse_args()
    run(args.n, args.jobs, None if args.small else args.notebooks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
