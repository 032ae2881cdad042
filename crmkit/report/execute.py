"""Execute one report notebook with papermill, in this process, on this Python.

Importing this module imports papermill (~0.5 s; see crmkit.report.imports for the
grammar it skips), so ``crmkit.report.render`` imports it only when something has to
run. Safe to call from several threads at once: each thread has its own kernels and
event loop (with ``keep_kernel`` a thread keeps one kernel for its next report), and
nothing here changes the process's working directory or environment.

The main path reads top to bottom: inject parameters -> execute -> (on error: the
executed notebook with papermill's error markers) -> redact secrets -> return.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmkit.report.imports import without_iri_grammar

with without_iri_grammar():
    import nbformat
    from papermill import execute_notebook
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.exceptions import PapermillExecutionError
    from papermill.iorw import papermill_io

from crmkit.report.kernels import (
    KERNEL_NAME,
    batch_env,
    keep_for_next,
    kept_kernel,
    kernel_manager_for,
    shutdown,
)
from crmkit.report.parameters import REDACTED

INJECTED_TAG = "injected-parameters"
SECRET_ENV_PREFIX = "CRMKIT_SECRET_"


# -- papermill writes the executed notebook here, never to disk ------------------------------

class _MemoryNotebooks:
    """A papermill I/O handler keeping notebooks in memory, so that an executed notebook
    with unredacted outputs never touches the disk (papermill writes it when it is done,
    and with its error markers when a cell failed)."""

    scheme = "crmkit-memory://"

    def __init__(self):
        self._store: dict[str, str] = {}
        self._lock = threading.Lock()

    def new_path(self) -> str:
        return f"{self.scheme}{uuid.uuid4().hex}.ipynb"

    def write(self, buf: str, path: str) -> None:
        with self._lock:
            self._store[path] = buf

    def read(self, path: str) -> str:
        with self._lock:
            return self._store[path]

    def pop(self, path: str) -> str | None:
        with self._lock:
            return self._store.pop(path, None)

    def listdir(self, path):
        raise NotImplementedError

    def pretty_path(self, path: str) -> str:
        return path


_memory = _MemoryNotebooks()
papermill_io.register(_memory.scheme, _memory)


# -- the executed part of a notebook that did not finish -------------------------------------

class _KeepPartialEngine(NBClientEngine):
    """papermill's nbclient engine that attaches the notebook executed so far to the error
    when execution stops without a cell error (a cell timeout, the kernel died), as
    ``err.crmkit_notebook``. Asking papermill to save after every cell would do the same
    at the cost of a full serialization and validation of the notebook per cell."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        try:
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
        except Exception as err:
            err.crmkit_notebook = nb_man.nb
            raise


ENGINE = "crmkit"
papermill_engines.register(ENGINE, _KeepPartialEngine)


# -- parameters ----------------------------------------------------------------------------

def secret_env_name(name: str) -> str:
    return SECRET_ENV_PREFIX + re.sub(r"\W", "_", name).upper()


def _python_literal(value: Any) -> str:
    if isinstance(value, dt.date):
        return f"__import__('datetime').date({value.year}, {value.month}, {value.day})"
    if isinstance(value, list):
        return "[" + ", ".join(_python_literal(v) for v in value) + "]"
    return repr(value)


def injected_source(values: dict[str, Any], secrets: dict[str, Any]) -> str:
    """The code of the injected-parameters cell.

    ``values`` are written as Python literals. ``secrets`` (name -> redacted text) are
    read from the kernel's environment, so the notebook holds the redacted text only.
    """
    lines = ["# Parameters (injected by crmkit render)"]
    for name, value in values.items():
        lines.append(f"{name} = {_python_literal(value)}")
    for name, shown in secrets.items():
        comment = f"secret, passed by environment: {shown}".replace("\n", " ")
        lines.append(f"{name} = __import__('os').environ[{secret_env_name(name)!r}]  # {comment}")
    return "\n".join(lines)


def inject_parameters(nb, values: dict[str, Any], secrets: dict[str, Any], shown: dict[str, Any]):
    """``nb`` with an ``injected-parameters`` cell after its ``parameters`` cell.

    Same placement as papermill's (a previous injected cell is replaced); papermill's own
    injection is not used because it records the raw values, secrets included, in the
    notebook's metadata. ``shown`` (redacted values) goes to ``metadata.papermill``.
    """
    cells = [c for c in nb.cells if INJECTED_TAG not in c.metadata.get("tags", [])]
    at = next((i + 1 for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])), 0)
    if values or secrets:
        cell = nbformat.v4.new_code_cell(injected_source(values, secrets))
        cell.metadata["tags"] = [INJECTED_TAG]
        cells.insert(at, cell)
    nb.cells = cells
    nb.metadata.setdefault("papermill", {})["parameters"] = json.loads(json.dumps(shown, default=str))
    return nb


# -- secrets out of the executed notebook -------------------------------------------------

def redact_notebook(nb, secret_texts: list[str]):
    """``nb`` with every occurrence of each secret text replaced by ``***``.

    Works on the notebook's JSON so it reaches every output, traceback and metadata
    field; also replaces the JSON- and HTML-escaped forms of each text.
    """
    if not secret_texts:
        return nb
    text = json.dumps(nb)
    for secret in secret_texts:
        for form in {secret, html.escape(secret), html.escape(secret, quote=False)}:
            text = text.replace(json.dumps(form)[1:-1], REDACTED)
    return nbformat.from_dict(json.loads(text))


# -- execution -----------------------------------------------------------------------------

@dataclass
class Executed:
    """The executed notebook (secrets redacted) and, when a cell failed, the error."""

    nb: Any
    error: PapermillExecutionError | None = None


def execute(notebook: Path, *, values: dict[str, Any], secrets: dict[str, str],
            shown: dict[str, Any], secret_texts: list[str], cwd: Path,
            timeout: int | None = None, start_timeout: int = 120,
            keep_kernel: bool = False) -> Executed:
    """Run ``notebook`` with papermill in-process and return the executed notebook.

    ``values`` are injected as literals, ``secrets`` (name -> real value) through the
    kernel's environment. A failing cell does not raise: the result carries papermill's
    PapermillExecutionError and the notebook with its error markers. Any other error (a
    cell timed out, the kernel died) raises, with the notebook executed so far, redacted,
    as ``exc.crmkit_notebook`` when there is one.
    """
    nb = nbformat.read(notebook, as_version=4)
    nb = inject_parameters(nb, values, {k: shown.get(k, REDACTED) for k in secrets}, shown)
    kernel_manager = kernel_manager_for(batch_env(
        {secret_env_name(k): v for k, v in secrets.items()}))
    keep = keep_kernel and not secrets
    km = kept_kernel(cwd) if keep else None
    if keep and km is None:
        km = kernel_manager(kernel_name=KERNEL_NAME)  # started by nbclient, kept after
    out = _memory.new_path()
    try:
        executed = execute_notebook(
            nb, out,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            # No save after every cell (a full serialization and validation of the growing
            # notebook each time, ~1/3 of the parent's work): a failing cell's notebook is
            # written, with papermill's error markers, before papermill raises, and the
            # engine attaches the executed part to any other error.
            request_save_on_cell_execute=False,
            engine_name=ENGINE,
            start_timeout=start_timeout,
            execution_timeout=timeout,
            kernel_manager_class=kernel_manager,
            km=km,
            resources={"metadata": {"path": str(cwd)}},
        )
        if keep:
            keep_for_next(cwd, km)
        return Executed(_finish(executed, notebook, secret_texts))
    except PapermillExecutionError as err:
        if keep:
            shutdown(km)
        failed = nbformat.reads(_memory.read(out), as_version=4)
        return Executed(_finish(failed, notebook, secret_texts), err)
    except Exception as err:
        if keep:
            shutdown(km)
        partial = getattr(err, "crmkit_notebook", None)
        if partial is not None:
            err.crmkit_notebook = redact_notebook(partial, secret_texts)
        raise
    finally:
        _memory.pop(out)


def _finish(nb, notebook: Path, secret_texts: list[str]):
    # papermill records the input "path", here the notebook object itself; keep the path.
    nb.metadata.papermill["input_path"] = str(notebook)
    nb.metadata.papermill["output_path"] = None
    return redact_notebook(nb, secret_texts)


def write_notebook_text(nb) -> str:
    return nbformat.writes(nb)
