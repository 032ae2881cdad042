"""``make dashboard`` / ``crmkit dashboard``: the report notebooks as code-free dashboards.

    crmkit dashboard [--port 8866] [--source PATH | --config FILE] [--notebooks DIR]
                     [--no-browser]

Voilà serves the report notebooks on 127.0.0.1 only: its landing page lists the reports,
each opens as a dashboard (markdown and outputs, no code) with the live filter panel of
crmkit.sections.widgets. Every page runs its own kernel on this Python, interactive (the
batch switch ``CRMKIT_BATCH`` is removed from the server's environment).

Voilà runs with crmkit's template (``share/voila/templates/crmkit``): Voilà's lab template
minus the Font Awesome stylesheets it links from cdn.jsdelivr.net, and a landing page
of our own; so a dashboard loads nothing from the network and works offline. The
reports read the bundled sample, or the data of ``--source`` / ``--config``: it is
ingested (when changed) before the server starts, so a mistake in it stops the command
with one message, and the kernels find it through ``CRMKIT_SOURCE`` / ``CRMKIT_CONFIG``.
The period starts at the last full quarter; the panel changes the filters, not the data.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from crmkit.report.mode import BATCH_ENV, CONFIG_ENV, PRESET_ENV, SOURCE_ENV

TEMPLATE = "crmkit"
DATA_DIR = Path(__file__).parent / "share"  # a Jupyter data dir holding voila/templates/crmkit
DEFAULT_PORT = 8866


def voila_argv(notebooks: str | Path, *, port: int = DEFAULT_PORT,
               open_browser: bool = True) -> list[str]:
    """Voilà's command-line arguments for serving ``notebooks``."""
    argv = [str(notebooks), f"--port={port}", "--Voila.ip=127.0.0.1",
            "--Voila.port_retries=0",  # the port asked for, or an error: never another one
            f"--template={TEMPLATE}", "--theme=light", "--classic-tree",
            "--show_tracebacks=True",  # local use: a failing section says why
            "--VoilaConfiguration.kernel_spec_manager_class="
            "crmkit.report.kernels.ThisPythonKernelSpecs"]
    if not open_browser:
        argv.append("--no-browser")
    return argv


def prepare_environment(environ=os.environ, *, source: str | None = None,
                        config: str | None = None, preset: str | None = None) -> None:
    """Put crmkit's template on Voilà's search path, make kernels interactive and point
    them at the data (``source`` or ``config``; neither: the bundled sample)."""
    paths = [str(DATA_DIR), *[p for p in environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]]
    environ["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    environ.pop(BATCH_ENV, None)
    environ.pop(PRESET_ENV, None)
    if preset and source:
        environ[PRESET_ENV] = preset
    for name, value in ((SOURCE_ENV, source), (CONFIG_ENV, config)):
        environ.pop(name, None)
        if value:  # a path relative to where the command ran, not to notebooks/
            from crmkit.config import source_kind

            environ[name] = value if source_kind(value) == "postgresql" \
                else str(Path(value).resolve())


def serve(notebooks: str | Path | None = None, *, port: int = DEFAULT_PORT,
          open_browser: bool = True, source: str | None = None,
          config: str | None = None, preset: str | None = None) -> int:
    """Run Voilà on ``notebooks`` (default: the project's notebooks/) until interrupted,
    the reports reading ``source`` or ``config`` (ingested first) or the bundled sample."""
    from crmkit.exceptions import ConfigError
    from crmkit.report.render import default_notebooks_dir

    folder = Path(notebooks) if notebooks else default_notebooks_dir()
    if not folder.is_dir():
        raise ConfigError(f"no notebook folder at {folder}; pass --notebooks DIR")
    if source or config:
        from crmkit.ingest import ensure_warehouse
        from crmkit.secrets import command_secrets, scrub

        secrets = command_secrets(argparse.Namespace(source=source, config=config))
        ensure_warehouse(config=config, source=None if config else source,
                         preset=preset if source and not config else None,
                         progress=lambda line: print(scrub(line, secrets), flush=True))
    prepare_environment(source=source, config=config, preset=preset)
    from voila.app import Voila

    Voila.launch_instance(argv=voila_argv(folder, port=port, open_browser=open_browser))
    return 0


def _preset(args) -> str | None:
    from crmkit.exceptions import ConfigError

    if args.preset and not args.source:
        raise ConfigError("--preset reads a --source folder (a CRM's export); with a config, "
                          "write `preset:` in it")
    return args.preset


def add_dashboard_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``dashboard`` subcommand to an argparse ``subparsers``."""
    parser = subparsers.add_parser(
        "dashboard", help="serve the reports as live dashboards (Voilà, localhost)",
        description="Serve the report notebooks as code-free dashboards with live filters, "
                    "on 127.0.0.1, with a landing page listing the reports.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT})")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--source", metavar="PATH",
                      help="data folder, .duckdb file or postgresql:// URL "
                           "(default: the bundled sample)")
    data.add_argument("--config", metavar="FILE", help="crmkit config file (instead of --source)")
    parser.add_argument("--preset", metavar="CRM",
                        help="read --source as this CRM's standard export (salesforce, hubspot)")
    parser.add_argument("--notebooks", metavar="DIR",
                        help="folder of report notebooks (default: the project's notebooks/)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.set_defaults(run=lambda args: serve(args.notebooks, port=args.port,
                                               open_browser=not args.no_browser,
                                               source=args.source, config=args.config,
                                               preset=_preset(args)))
    return parser
