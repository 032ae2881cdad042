"""Execute one report notebook with papermill, in this process, on this Python.

Importing this module imports papermill (~2 s: nbformat -> jsonschema -> rfc3987_syntax
builds a grammar at import), so ``crmkit.report.render`` imports it only when something
has to run. Safe to call from several threads at once: each thread has its own kernels
and event loop (with ``keep_kernel`` a thread keeps one kernel for its next report), and
nothing here changes the process's working directory or environment.

The main path reads top to bottom: inject parameters -> execute -> (on error: the
executed notebook with papermill's error markers) -> redact secrets -> return.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from papermill import execute_notebook
from papermill.exceptions import PapermillExecutionError
from papermill.iorw import papermill_io
from traitlets import default

from crmkit.report.kernels import ThisPythonKernelSpecs
from crmkit.report.mode import BATCH_ENV
from crmkit.report.parameters import REDACTED

KERNEL_NAME = "python3"
INJECTED_TAG = "injected-parameters"
SECRET_ENV_PREFIX = "CRMKIT_SECRET_"


# -- the kernel: always this interpreter ---------------------------------------------------

class ReportKernelManager(AsyncKernelManager):
    """A kernel manager on this Python that adds ``extra_env`` to the kernel's environment.

    ``extra_env`` is set on a per-run subclass (see :func:`kernel_manager_for`): nbclient
    instantiates the class itself, and the environment must not be the process's
    ``os.environ``, which every concurrently starting kernel would see.
    """

    extra_env: dict[str, str] = {}

    @default("kernel_spec_manager")
    def _this_python_specs(self):
        return ThisPythonKernelSpecs(data_dir=self.data_dir)

    @default("transport_encryption")
    def _encrypt_when_possible(self):
        # ipykernel >= 7.4 warns on stderr about plain TCP; CurveZMQ keys silence it
        # and keep report data (and the secrets in the environment) off the wire.
        import zmq

        return "auto" if zmq.has("curve") else "disabled"

    async def start_kernel(self, **kw: Any) -> None:
        env = dict(kw.pop("env", None) or os.environ)
        env.update(self.extra_env)
        await super().start_kernel(env=env, **kw)


SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def kernel_manager_for(extra_env: dict[str, str]) -> type[ReportKernelManager]:
    return type("ReportKernelManager", (ReportKernelManager,), {"extra_env": dict(extra_env)})


# -- papermill writes the executed notebook here, never to disk ------------------------------

class _MemoryNotebooks:
    """A papermill I/O handler keeping notebooks in memory, so that an executed notebook
    with unredacted outputs never touches the disk (papermill saves on every cell)."""

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


# A kernel kept by a worker thread for its next report: (cwd, kernel manager). Importing
# pandas, ibis, matplotlib and seaborn costs a report ~2 s in a new kernel, about a third
# of its run; the next report of the same worker finds them imported. Only reports
# without secrets share (secrets reach a kernel through its environment at start), and
# a kernel whose report failed is shut down, not reused. Every report's parameters cell
# binds every name the report uses, so nothing of the previous report is read.
_kept = threading.local()


def release_kernel() -> None:
    """Shut down the kernel this thread kept, if any (a worker calls this when done)."""
    held = getattr(_kept, "kernel", None)
    _kept.kernel = None
    if held is not None:
        _shutdown(held[1])


def _shutdown(km) -> None:
    from jupyter_core.utils import run_sync

    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # already dead: nothing left to stop
        pass


def _kept_kernel(cwd: Path):
    """The kernel this thread kept for ``cwd`` (None: papermill starts a new one)."""
    held = getattr(_kept, "kernel", None)
    if held is None:
        return None
    if held[0] == cwd and held[1].has_kernel:
        return held[1]
    release_kernel()
    return None


def execute(notebook: Path, *, values: dict[str, Any], secrets: dict[str, str],
            shown: dict[str, Any], secret_texts: list[str], cwd: Path,
            timeout: int | None = None, start_timeout: int = 120,
            keep_kernel: bool = False) -> Executed:
    """Run ``notebook`` with papermill in-process and return the executed notebook.

    ``values`` are injected as literals, ``secrets`` (name -> real value) through the
    kernel's environment. A failing cell does not raise: the result carries papermill's
    PapermillExecutionError and the notebook with its error markers. Any other error
    (kernel died, timeout) raises, after the notebook executed so far has been redacted
    into ``exc.crmkit_notebook`` when there is one.
    """
    nb = nbformat.read(notebook, as_version=4)
    nb = inject_parameters(nb, values, {k: shown.get(k, REDACTED) for k in secrets}, shown)
    # BATCH_ENV: the report prints its filters instead of drawing widgets (crmkit.report.mode).
    # One BLAS/OpenMP thread per kernel: reports run side by side, one per core, and
    # threads that spin-wait for a busy core slow the small numeric fits many-fold.
    kernel_manager = kernel_manager_for({BATCH_ENV: "1", **SINGLE_THREADED,
                                         **{secret_env_name(k): v for k, v in secrets.items()}})
    keep = keep_kernel and not secrets
    km = _kept_kernel(cwd) if keep else None
    if keep and km is None:
        km = kernel_manager(kernel_name=KERNEL_NAME)  # started by nbclient, kept after
    out = _memory.new_path()
    try:
        executed = execute_notebook(
            nb, out,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            request_save_on_cell_execute=True,
            start_timeout=start_timeout,
            execution_timeout=timeout,
            kernel_manager_class=kernel_manager,
            km=km,
            resources={"metadata": {"path": str(cwd)}},
        )
        if keep:
            _kept.kernel = (cwd, km)
        return Executed(_finish(executed, notebook, secret_texts))
    except PapermillExecutionError as err:
        if keep:
            _kept.kernel = None
            _shutdown(km)
        failed = nbformat.reads(_memory.read(out), as_version=4)
        return Executed(_finish(failed, notebook, secret_texts), err)
    except Exception as err:
        if keep:
            _kept.kernel = None
            _shutdown(km)
        partial = _memory.pop(out)
        if partial is not None:
            err.crmkit_notebook = redact_notebook(nbformat.reads(partial, as_version=4), secret_texts)
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
