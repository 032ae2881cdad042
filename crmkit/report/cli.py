"""``crmkit render``: the report subcommand, for crmkit.cli to wire in.

    crmkit render [REPORT ...] [--config FILE | --source PATH] [--param NAME=VALUE ...]
                  [--out DIR] [--jobs N] [--notebooks DIR] [--timeout S] [--force] [--list]

Repeating ``--param`` with the same name renders once per value (``--param region=East
--param region=West`` -> ``churn--region=East.html``, ``churn--region=West.html``); two
repeated names give every combination. A list parameter takes ``a,b,c`` in one value.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from pathlib import Path

from crmkit.exceptions import ConfigError, CrmkitError, ParameterError, RenderError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = PROJECT_ROOT / "data" / "sample"
# Files in a warehouse folder that are not data (DuckDB's write-ahead log, locks).
_NOT_DATA = (".wal", ".lock", ".tmp")


def add_render_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``render`` subcommand to an argparse ``subparsers``; returns its parser."""
    parser = subparsers.add_parser(
        "render",
        help="execute report notebooks and write self-contained HTML",
        description="Execute report notebooks (notebooks/*.ipynb) with their parameters and "
                    "write self-contained HTML reports, an index page and a manifest. "
                    "Reports whose notebook, parameters and data did not change are skipped.",
    )
    parser.add_argument("reports", nargs="*", metavar="REPORT",
                        help="report names (notebooks/REPORT.ipynb); default: all")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--config", metavar="FILE", help="crmkit config file naming the data source")
    source.add_argument("--source", metavar="PATH",
                        help="data folder, DuckDB file or database URL (default: data/sample)")
    parser.add_argument("--preset", metavar="CRM",
                        help="read --source as this CRM's standard export (salesforce, hubspot)")
    parser.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE",
                        help="report parameter; repeat a name to render once per value")
    parser.add_argument("--out", default="reports", metavar="DIR", help="output folder (default: reports)")
    parser.add_argument("--jobs", "-j", type=int, metavar="N",
                        help="notebooks executed at once (default: CPU count)")
    parser.add_argument("--notebooks", metavar="DIR",
                        help="folder of report notebooks (default: the project's notebooks/)")
    parser.add_argument("--timeout", type=int, metavar="SECONDS",
                        help="fail a report whose cell runs longer than this (default: no limit)")
    parser.add_argument("--force", action="store_true", help="render even reports that are up to date")
    parser.add_argument("--list", action="store_true", help="list the reports and their parameters")
    parser.set_defaults(run=run_render, func=run_render)
    return parser


def run_render(args: argparse.Namespace) -> int:
    """Run ``crmkit render``; 0 on success, 1 when a report failed, 2 for bad input."""
    try:
        return _run(args)
    except RenderError as err:
        print(f"crmkit render: error: {err}", file=sys.stderr)
        return 1
    except CrmkitError as err:
        print(f"crmkit render: error: {err}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from crmkit.report.render import (
        available_reports,
        check_parameters,
        default_notebooks_dir,
        render,
    )

    notebooks = Path(args.notebooks) if args.notebooks else default_notebooks_dir()
    if args.list:
        return _list_reports(args.reports, notebooks)
    if args.jobs is not None and args.jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {args.jobs}")
    param_sets = parse_params(args.param)
    began = time.perf_counter()

    names = args.reports or available_reports(notebooks)
    check_parameters(args.reports or None, param_sets, notebooks_dir=notebooks)  # before ingest
    if args.preset and not args.source:
        raise ConfigError("--preset reads a --source folder (a CRM's export); with a config, "
                          "write `preset:` in it")
    context, checksum, source_text = {}, None, args.config or args.source
    not_applicable: dict[str, str] = {}
    if args.config or args.source or _takes_warehouse(names, notebooks):
        warehouse = _warehouse(args.config, args.source, args.preset)
        context["warehouse"] = str(Path(warehouse).resolve())
        checksum = warehouse_checksum(warehouse)
        source_text = source_text or _shown_path(DEFAULT_SOURCE)
        if not any({"start", "end"} & set(p) for p in param_sets):
            context.update(default_period(warehouse))
        check_against_data(warehouse, param_sets)  # before anything is written
        not_applicable = reports_not_fed(warehouse, names)
        for name, why in not_applicable.items():
            print(f"  {name}: not applicable to this data ({why})", flush=True)

    print(f"Rendering {len(names) - len(not_applicable)} report(s) into {args.out}/",
          flush=True)
    results = render(args.reports or None, params=param_sets, out_dir=args.out, jobs=args.jobs,
                     notebooks_dir=notebooks, progress=print_progress, data_checksum=checksum,
                     source=source_text, context=context, force=args.force, timeout=args.timeout,
                     not_applicable=not_applicable)
    fresh = sum(not r.cached for r in results)
    print(f"{fresh} rendered, {len(results) - fresh} up to date, in "
          f"{time.perf_counter() - began:.1f} s; index: {Path(args.out) / 'index.html'}")
    return 0


def parse_params(items: list[str]) -> list[dict[str, str]]:
    """``["region=East", "region=West", "start=2025-01-01"]`` -> one dict per combination."""
    values: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(f"--param {item!r}: expected NAME=VALUE, e.g. --param start=2025-01-01")
        if value not in values.setdefault(name, []):
            values[name].append(value)
    names = list(values)
    return [dict(zip(names, combo)) for combo in itertools.product(*(values[n] for n in names))]


def _takes_warehouse(names: list[str], notebooks: Path) -> bool:
    from crmkit.report.parameters import read_parameters

    return any("warehouse" in read_parameters(notebooks / f"{name}.ipynb")
               for name in names if (notebooks / f"{name}.ipynb").exists())


def _warehouse(config: str | None, source: str | None, preset: str | None = None) -> Path:
    """The warehouse folder for the data source, ingested when the source changed.

    With neither ``--config`` nor ``--source``: the project's ``data/sample``.
    """
    from crmkit.ingest import ensure_warehouse

    if config is None and source is None:
        source = str(DEFAULT_SOURCE)
    return Path(ensure_warehouse(config=config, source=source, preset=preset,
                                 progress=lambda message: print(f"  ingest: {message}", flush=True)))


def check_against_data(warehouse: str | Path, param_sets: list[dict[str, str]]) -> None:
    """A `by`, `attributes` key or filter that names a column the data lacks stops here,
    naming the parameter and the columns there are (ParameterError, exit 2)."""
    from crmkit.shapes import FILTER_DIMENSIONS, check_data_parameters

    named = ("by", "attributes", *FILTER_DIMENSIONS)
    if not any(p.get(k) for p in param_sets for k in named) and \
            not any(k.startswith("attr_") for p in param_sets for k in p):
        return  # nothing to check: keep the common path free of the KPI modules
    try:
        audit = json.loads((Path(warehouse) / "audit.json").read_text())
    except (OSError, ValueError):
        return
    from crmkit.metrics.filters import FILTER_COLUMNS

    for params in param_sets:
        check_data_parameters(audit, params, FILTER_COLUMNS)


def reports_not_fed(warehouse: str | Path, names: list[str]) -> dict[str, str]:
    """report -> why the warehouse's data cannot feed it (from the ingest audit)."""
    try:
        audit = json.loads((Path(warehouse) / "audit.json").read_text())
    except (OSError, ValueError):
        return {}
    from crmkit.shapes import reports_fed  # standard library only: the cached path stays fast

    if not audit.get("tables"):
        return {}
    fed = reports_fed(audit)
    return {name: fed[name]["because"] for name in names
            if name in fed and not fed[name]["feeds"]}


def default_period(warehouse: str | Path) -> dict[str, str]:
    """``start`` and ``end`` of the last full quarter in the warehouse's orders (from its
    audit, so a cached run stays fast), so that the header names the period shown."""
    from crmkit.periods import audited_quarter

    try:
        audit = json.loads((Path(warehouse) / "audit.json").read_text())
    except (OSError, ValueError):
        return {}
    period = audited_quarter(audit)
    return {"start": period[0].isoformat(), "end": period[1].isoformat()} if period else {}


def warehouse_checksum(folder: str | Path) -> str:
    """What identifies the warehouse's data, for the render cache.

    The ingest fingerprint in ``audit.json`` when there is one (it covers the input
    checksums, the mapping and the crmkit version: cheap and stable across re-ingests),
    else a digest of the folder's data files.
    """
    folder = Path(folder)
    audit = folder / "audit.json"
    if audit.is_file():
        fingerprint = json.loads(audit.read_text(encoding="utf-8")).get("fingerprint")
        if fingerprint:
            return f"fingerprint:{fingerprint}"
    files = [folder] if folder.is_file() else sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.endswith(_NOT_DATA))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def print_progress(event) -> None:
    """One line per event: ``[2/4] churn … done in 6.1 s``."""
    count = f"[{event.done}/{event.total}]"
    if event.kind == "started":
        note = f" (does not take: {', '.join(event.ignored)})" if event.ignored else ""
        line = f"{' ' * len(count)} {event.name} … started{note}"
    elif event.kind == "cached":
        line = f"{count} {event.name} … up to date"
    elif event.kind == "finished":
        line = f"{count} {event.name} … done in {event.elapsed:.1f} s"
    else:
        line = f"{count} {event.name} … FAILED after {event.elapsed:.1f} s: {event.message}"
    print(line, flush=True)


def _list_reports(names: list[str], folder: Path) -> int:
    from crmkit.report.parameters import read_parameters
    from crmkit.report.render import available_reports

    for name in names or available_reports(folder):
        path = folder / f"{name}.ipynb"
        if not path.exists():
            raise ConfigError(f"unknown report {name!r}; available: {', '.join(available_reports(folder))}")
        print(name)
        for spec in read_parameters(path).values():
            print(f"    --param {spec.describe()}")
    return 0
