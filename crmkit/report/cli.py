"""``crmkit render``: the report subcommand, for crmkit.cli to wire in.

    crmkit render [REPORT ...] [--config FILE | --source PATH] [--param NAME=VALUE ...]
                  [--out DIR] [--jobs N] [--notebooks DIR] [--timeout S] [--force] [--list]

Repeating ``--param`` with the same name renders once per value (``--param region=East
--param region=West`` -> ``churn--region=East.html``, ``churn--region=West.html``); two
repeated names give every combination. A list parameter takes ``a,b,c`` in one value.

The parameters that name the data (``source``, ``config``, ``warehouse``) choose it as
the options do: see :func:`choose_data`. Nothing the command prints carries a
credential of the command line (:func:`crmkit.secrets.command_secrets`).

What the command prints (progress, the summary, errors) is in the render's language:
``--param language=zh`` (or ``lang``) prints Chinese (crmkit.report.language).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from pathlib import Path

from crmkit import i18n
from crmkit.exceptions import ConfigError, CrmkitError, ParameterError, RenderError
from crmkit.i18n import tr
from crmkit.secrets import command_secrets, redact_url, scrub, unencoded_at

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = PROJECT_ROOT / "data" / "sample"
# Files in a warehouse folder that are not data (DuckDB's write-ahead log, locks).
_NOT_DATA = (".wal", ".lock", ".tmp")
# Report parameters that name the data (crmkit/sections/notebooks.py declares them).
DATA_PARAMETERS = ("source", "config", "warehouse")


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
    """Run ``crmkit render``; 0 on success, 1 when a report failed, 2 for bad input.
    Everything it prints is in the render's language (``--param language=``)."""
    with i18n.using(_language(args)):
        try:
            return _run(args)
        except RenderError as err:
            _print_error(err, args)
            return 1
        except CrmkitError as err:
            _print_error(err, args)
            return 2


def _language(args: argparse.Namespace) -> i18n.Setting:
    """The language the ``--param language=`` (or ``lang=``) of the command names;
    English when none does (a language without a catalog is reported by the parameter
    check, in English)."""
    from crmkit.report.language import lenient_language

    given = {}
    for item in getattr(args, "param", None) or []:
        name, sep, value = item.partition("=")
        if sep and name.strip() not in given:
            given[name.strip()] = value
    return lenient_language(given)


def _print_error(err: Exception, args: argparse.Namespace) -> None:
    message = scrub(str(err), command_secrets(args))
    print(tr("crmkit render: error: {message}").format(message=message), file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from crmkit.report.render import (
        available_reports,
        check_output_folder,
        check_parameters,
        default_notebooks_dir,
        render,
    )

    notebooks = Path(args.notebooks) if args.notebooks else default_notebooks_dir()
    if args.list:
        return _list_reports(args.reports, notebooks)
    if args.jobs is not None and args.jobs < 1:
        raise ParameterError(tr("--jobs must be at least 1, got {jobs}").format(jobs=args.jobs))
    param_sets = parse_params(args.param)
    began = time.perf_counter()

    names = args.reports or available_reports(notebooks)
    check_parameters(args.reports or None, param_sets, notebooks_dir=notebooks)  # before ingest
    (kind, named, given), param_sets = choose_data(args, param_sets)
    if args.preset and kind != "source":
        raise ConfigError(tr("--preset reads a --source folder (a CRM's export); with a "
                             "config, write `preset:` in it"))
    takes_data = _takes_warehouse(names, notebooks)
    if kind and not takes_data:
        raise ParameterError(tr(
            "{given} names the data, but no report here ({reports}) declares a `warehouse` "
            "parameter to receive it, so its numbers would come from elsewhere; render "
            "reports that take the data, or leave the data out").format(
                given=given, reports=", ".join(names)))
    warehouse, source_text = ingested_warehouse(named) if kind == "warehouse" else (None, None)
    check_output_folder(args.out, keep=False)  # before the ingest: a wrong --out stops at once
    context, checksum = {}, None
    not_applicable: dict[str, str] = {}
    if takes_data:
        if warehouse is None:
            warehouse = _warehouse(named if kind == "config" else None,
                                   named if kind == "source" else None, args.preset)
            source_text = named or _shown_path(DEFAULT_SOURCE)
        context["warehouse"] = str(Path(warehouse).resolve())
        checksum = warehouse_checksum(warehouse)
        if not any({"start", "end"} & set(p) for p in param_sets):
            context.update(default_period(warehouse))
        check_against_data(warehouse, param_sets)  # before anything is written
        not_applicable = reports_not_fed(warehouse, names)
        for name, why in not_applicable.items():
            print("  " + tr("{name}: not applicable to this data ({why})").format(
                name=name, why=tr(why)), flush=True)

    print(tr("Rendering {n} report(s) into {folder}/").format(
        n=len(names) - len(not_applicable), folder=args.out), flush=True)
    results = render(args.reports or None, params=param_sets, out_dir=args.out, jobs=args.jobs,
                     notebooks_dir=notebooks, progress=print_progress, data_checksum=checksum,
                     source=source_text, context=context, force=args.force, timeout=args.timeout,
                     not_applicable=not_applicable)
    fresh = sum(not r.cached for r in results)
    print(tr("{fresh} rendered, {cached} up to date, in {seconds} s; index: {index}").format(
        fresh=fresh, cached=len(results) - fresh,
        seconds=i18n.number(time.perf_counter() - began, 1),
        index=Path(args.out) / "index.html"))
    return 0


def parse_params(items: list[str]) -> list[dict[str, str]]:
    """``["region=East", "region=West", "start=2025-01-01"]`` -> one dict per combination."""
    values: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(tr("--param {item}: expected NAME=VALUE, e.g. --param "
                                    "start=2025-01-01").format(item=repr(item)))
        if value not in values.setdefault(name, []):
            values[name].append(value)
    names = list(values)
    return [dict(zip(names, combo)) for combo in itertools.product(*(values[n] for n in names))]


def choose_data(args: argparse.Namespace, param_sets: list[dict[str, str]]
                ) -> tuple[tuple[str | None, str | None, str], list[dict[str, str]]]:
    """The data this run reads, from ``--config``/``--source`` and the report parameters
    that name data, and the parameter sets without those parameters.

    Returns ``((kind, value, as given), param_sets)``: kind ``"config"``, ``"source"``,
    ``"warehouse"`` (an ingested warehouse folder, read as it is) or None for the bundled
    sample. ``--param source=X`` reads X exactly as ``--source X`` does (ingested,
    checked, cached, named in the header), ``--param config=F`` as ``--config F``.

    Why drive rather than refuse: the reports declare these parameters (``--list``
    shows them, the live filter panel writes ``--param warehouse=``), so a user who
    gives what a report declares gets that data, and no second spelling has to be
    learnt from an error. What is refused (exit 2) is what would leave the header naming
    one data set and the numbers coming from another: two different data named at once
    (``--source A --param source=B``), several values for one (a parameter batch renders
    one data set), and a password with a bare ``@`` that PostgreSQL would split.
    """
    named: list[tuple[str, str, str]] = []  # (kind, value, as given)
    for kind in ("config", "source"):
        value = getattr(args, kind, None)
        if value:
            named.append((kind, value, f"--{kind} {redact_url(value)}"))
    for kind in DATA_PARAMETERS:
        values = list(dict.fromkeys(p[kind] for p in param_sets if kind in p))
        if len(values) > 1:
            raise ParameterError(tr(
                "--param {name} is given {n} values ({values}); one run reads one data set: "
                "run crmkit render once per {name}").format(
                    name=kind, n=len(values),
                    values=", ".join(redact_url(v) or repr(v) for v in values)))
        if values and values[0]:
            named.append((kind, values[0], f"--param {kind}={redact_url(values[0])}"))
    if len({(kind, value) for kind, value, _ in named}) > 1:
        raise ParameterError(tr("{given} name different data; name the data once (--source "
                                "PATH, or --config FILE)").format(
            given=i18n.list_text(g for *_, g in named)))
    kind, value, given = named[0] if named else (None, None, "")
    if value and unencoded_at(value):
        raise ConfigError(tr("{given}: the password holds a bare '@', which PostgreSQL takes "
                             "for the end of the password; write each '@' in it as %40").format(
                                 given=given))
    stripped = []
    for params in param_sets:
        rest = {k: v for k, v in params.items() if k not in DATA_PARAMETERS}
        if rest not in stripped:
            stripped.append(rest)
    return (kind, value, given), stripped


def ingested_warehouse(folder: str) -> tuple[Path, str]:
    """The warehouse folder ``--param warehouse=`` names, read as it is (no ingest), and
    the data it holds as the header names it (its audit's source, credentials masked)."""
    path = Path(folder)
    try:
        audit = json.loads((path / "audit.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ParameterError(tr(
            "--param warehouse={folder}: no ingested warehouse there (no readable audit.json); "
            "ingest it first (crmkit ingest --source DATA --warehouse {folder}) or name the "
            "data with --source").format(folder=folder)) from None
    source = str(audit.get("source") or path.resolve())
    return path, redact_url(source if "://" in source else _shown_path(Path(source)))


def _takes_warehouse(names: list[str], notebooks: Path) -> bool:
    from crmkit.report.parameters import read_parameters

    return any("warehouse" in read_parameters(notebooks / f"{name}.ipynb")
               for name in names if (notebooks / f"{name}.ipynb").exists())


def _warehouse(config: str | None, source: str | None, preset: str | None = None) -> Path:
    """The warehouse folder for the data source, ingested when the source changed; its
    messages printed with the source's credentials masked.

    With neither ``--config`` nor ``--source``: the project's ``data/sample``.
    """
    from crmkit.ingest import ensure_warehouse

    if config is None and source is None:
        source = str(DEFAULT_SOURCE)
    secrets = command_secrets(argparse.Namespace(source=source, config=config))
    return Path(ensure_warehouse(
        config=config, source=source, preset=preset,
        progress=lambda message: print("  " + tr("ingest: {message}").format(
            message=scrub(message, secrets)), flush=True)))


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
    """One line per event, in the active language: ``[2/4] churn … done in 6.1 s``."""
    count = f"[{event.done}/{event.total}]"
    seconds = i18n.number(event.elapsed or 0, 1)
    if event.kind == "started":
        count = " " * len(count)
        line = (tr("{count} {name} … started (does not take: {parameters})").format(
                    count=count, name=event.name, parameters=", ".join(event.ignored))
                if event.ignored else
                tr("{count} {name} … started").format(count=count, name=event.name))
    elif event.kind == "cached":
        line = tr("{count} {name} … up to date").format(count=count, name=event.name)
    elif event.kind == "finished":
        line = tr("{count} {name} … done in {seconds} s").format(
            count=count, name=event.name, seconds=seconds)
    else:
        line = tr("{count} {name} … FAILED after {seconds} s: {message}").format(
            count=count, name=event.name, seconds=seconds, message=event.message)
    print(line, flush=True)


def _list_reports(names: list[str], folder: Path) -> int:
    from crmkit.report.parameters import read_parameters
    from crmkit.report.render import available_reports

    for name in names or available_reports(folder):
        path = folder / f"{name}.ipynb"
        if not path.exists():
            raise ConfigError(tr("unknown report {name}; available: {reports}").format(
                name=repr(name), reports=", ".join(available_reports(folder))))
        print(name)
        for spec in read_parameters(path).values():
            print(f"    --param {spec.describe()}")
    return 0
