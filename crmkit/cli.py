"""The ``crmkit`` command: sample, ingest, schema, render, dashboard.

User mistakes (a missing file, a bad column, a wrong parameter) are CrmkitError: printed as
one clear message with exit status 2, never a traceback. Anything else is a bug and keeps
its traceback. Whatever is printed has the command line's credentials masked
(crmkit.secrets.command_secrets): a library's message may quote a connection string.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from crmkit import __version__
from crmkit.exceptions import CrmkitError
from crmkit.secrets import command_secrets, redact_url, scrub, unencoded_at


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


SAMPLE_SHAPES = ("retail", "b2b", "subscription")  # the shapes of CRM data `sample` writes


def cmd_sample(args) -> int:
    from crmkit.sample import write_sample
    from crmkit.sample_b2b import write_b2b_sample
    from crmkit.sample_subscription import write_subscription_sample

    write = {"retail": write_sample, "b2b": write_b2b_sample,
             "subscription": write_subscription_sample}[args.shape]
    size = {} if args.customers is None else {"customers": args.customers}  # shape's default
    if args.language != "en":
        from crmkit.exceptions import ConfigError

        if args.shape != "retail":
            raise ConfigError(f"--language {args.language} writes the retail shape only; "
                              f"leave out --shape {args.shape}")
        size["language"] = args.language
    started = time.perf_counter()
    counts = write(args.out, seed=args.seed, fmt=args.format, progress=_say, **size)
    for table, n in counts.items():
        print(f"{table:<13} {n:>12,} rows")
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_ingest(args) -> int:
    from crmkit.exceptions import ConfigError
    from crmkit.ingest import default_warehouse, format_audit, ingest, resolve_config

    if args.preset and not args.source:
        raise ConfigError("--preset reads a --source folder (a CRM's export); with a config, "
                          "write `preset:` in it")
    if args.source and unencoded_at(args.source):
        raise ConfigError(f"--source {redact_url(args.source)}: the password holds a bare "
                          "'@', which PostgreSQL takes for the end of the password; write "
                          "each '@' in it as %40")
    secrets = command_secrets(args)
    config = resolve_config(args.config, args.source, args.preset)
    folder = Path(args.warehouse) if args.warehouse else default_warehouse(config)
    audit = ingest(config, folder, force=args.force,
                   progress=lambda message: _say(scrub(message, secrets)))
    print(scrub(format_audit(audit), secrets))
    print(f"warehouse: {folder}")
    if any(r["quarantined"] for r in audit["tables"].values()):
        if audit.get("engine") == "spark":
            from crmkit.warehouse import spark_tables_location

            rejects = f"{spark_tables_location(folder, audit)}/rejects (Parquet)"
        else:
            rejects = folder / "rejects.csv"
        print(f"quarantined rows with their reasons: {rejects}")
    return 0 if audit.get("reconciled") else 1


def cmd_schema(args) -> int:
    from crmkit.schema import data_model_markdown

    print(data_model_markdown())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmkit", description="CRM reporting: ingest, KPIs, notebook reports.")
    parser.add_argument("--version", action="version", version=f"crmkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("sample", help="write a synthetic CRM data set: retail orders, a B2B "
                       "pipeline or a subscription snapshot")
    p.add_argument("--out", required=True, help="folder to write")
    p.add_argument("--shape", choices=SAMPLE_SHAPES, default="retail",
                   help="retail: customers, orders, leads ... (the default); b2b: accounts, "
                        "opportunities, leads, campaigns, cases, targets; subscription: a "
                        "customer snapshot with tickets and surveys")
    p.add_argument("--customers", type=int, default=None, help="number of customers "
                   "(accounts for b2b; default: retail 2000, b2b 300, subscription 3000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--language", choices=("en", "zh"), default="en",
                   help="language of the data's words (retail shape): zh writes Chinese "
                        "customers, regions, products, channels ..., amounts in yuan (the "
                        "same numbers as en; crmkit/sample_zh.py)")
    p.set_defaults(run=cmd_sample)

    p = sub.add_parser("ingest", help="validate, clean and load a source into the warehouse")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="YAML config mapping your columns (see README)")
    src.add_argument("--source", help="folder of canonical files, a .duckdb file, or a "
                     "postgresql:// URL")
    p.add_argument("--preset", metavar="CRM", help="read --source as this CRM's standard "
                   "export, no config needed (salesforce, hubspot)")
    p.add_argument("--warehouse", help="warehouse folder (default .crmkit/<source>)")
    p.add_argument("--force", action="store_true", help="ingest even if sources are unchanged")
    p.set_defaults(run=cmd_ingest)

    p = sub.add_parser("schema", help="print the data model (canonical tables and columns)")
    p.set_defaults(run=cmd_schema)

    try:
        from crmkit.report.cli import add_render_parser
    except ImportError:  # the report layer is optional while it is being built
        pass
    else:
        add_render_parser(sub)
    from crmkit.dashboard import add_dashboard_parser

    add_dashboard_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CrmkitError as exc:
        _say(f"crmkit {args.command}: error: {scrub(str(exc), command_secrets(args))}")
        return 2
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except Exception:  # a bug: its traceback stays, without the credentials it may quote
        import traceback

        _say(scrub(traceback.format_exc(), command_secrets(args)).rstrip())
        return 1


if __name__ == "__main__":
    sys.exit(main())
