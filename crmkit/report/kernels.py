"""The kernel a report runs on: always ipykernel on this interpreter.

Used by ``crmkit render`` (crmkit.report.execute) and ``crmkit dashboard`` (Voilà's
``kernel_spec_manager_class``). Imports nothing heavy (no papermill, no nbconvert), so
a render worker can start its kernel before it imports those (:func:`prestart_kernel`).

Kernels kept for the next report
    A render worker thread keeps its kernel from one report to the next: importing
    pandas, ibis, matplotlib and seaborn costs ~1.5 s in a new kernel, as much as a
    report's own work, and the next report of the same worker finds them imported. Only
    reports without secrets share (secrets reach a kernel through its environment at
    start), and a kernel whose report failed is shut down, not reused. Every report's
    parameters cell binds every name the report uses, so nothing of the previous report
    is read.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets import default

from crmkit.report.mode import BATCH_ENV

KERNEL_NAME = "python3"
# One BLAS/OpenMP thread per kernel: reports run side by side, one per core, and threads
# that spin-wait for a busy core slow the small numeric fits many-fold.
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# What a report kernel imports before its first report: pyplot and every report module of
# crmkit.sections.REPORTS (binding no name in the report's namespace).
WARM_UP = ("for _m in ['matplotlib.pyplot', *__import__('crmkit.sections').sections.REPORTS"
           ".values()]:\n"
           "    __import__('importlib').import_module(_m)\n"
           "del _m")
WARM_UP_TIMEOUT = 120  # seconds to wait for a started kernel's imports


class ThisPythonKernelSpecs(KernelSpecManager):
    """Every kernel name resolves to ipykernel on ``sys.executable``.

    A user-level ``python3`` kernelspec (``~/.local/share/jupyter/kernels``, a conda
    base, a ``JUPYTER_PATH`` entry) would otherwise win over the venv's and run reports
    on another Python with other package versions.
    """

    def get_kernel_spec(self, kernel_name: str):
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict

        return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())


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


def kernel_manager_for(extra_env: dict[str, str]) -> type[ReportKernelManager]:
    return type("ReportKernelManager", (ReportKernelManager,), {"extra_env": dict(extra_env)})


def batch_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A report kernel's environment additions: batch mode (the report prints its filters
    instead of drawing widgets, crmkit.report.mode), one numeric thread, ``extra``."""
    return {BATCH_ENV: "1", **SINGLE_THREADED, **(extra or {})}


# -- the kernel a worker thread keeps -------------------------------------------------------

_kept = threading.local()  # .kernel = (cwd, kernel manager, warm-up client or None)


def prestart_kernel(cwd: Path) -> None:
    """Start this thread's kept kernel for reports in ``cwd`` and have it import what the
    reports use, without waiting: the kernel boots and imports (~1.5 s) on another core
    while this thread imports papermill and nbconvert."""
    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_core.utils import run_sync

    if kept_kernel(cwd, wait=False) is not None:
        return
    km = kernel_manager_for(batch_env())(kernel_name=KERNEL_NAME)
    try:
        run_sync(km.start_kernel)(cwd=str(cwd))
        client = BlockingKernelClient()
        client.load_connection_info(km.get_connection_info())
        client.start_channels()
        msg_id = client.execute(WARM_UP, silent=True, store_history=False)
    except Exception:  # papermill starts a kernel itself and reports what goes wrong
        shutdown(km)
        return
    _kept.kernel = (cwd, km, (client, msg_id))


def kept_kernel(cwd: Path, *, wait: bool = True):
    """The kernel this thread kept for ``cwd`` (None: papermill starts a new one). A
    prestarted kernel is handed over once its imports are done (``wait``)."""
    held = getattr(_kept, "kernel", None)
    if held is None:
        return None
    kept_cwd, km, warming = held
    if kept_cwd != cwd or not km.has_kernel:
        release_kernel()
        return None
    if wait and warming is not None:
        client, msg_id = warming
        try:
            while client.get_shell_msg(timeout=WARM_UP_TIMEOUT)["parent_header"].get(
                    "msg_id") != msg_id:
                pass
        except Exception:  # no reply in time: nbclient's own start-up check decides
            pass
        finally:
            client.stop_channels()
        _kept.kernel = (kept_cwd, km, None)
    return km


def keep_for_next(cwd: Path, km) -> None:
    """Keep ``km`` for this thread's next report in ``cwd``."""
    _kept.kernel = (cwd, km, None)


def release_kernel() -> None:
    """Shut down the kernel this thread kept, if any (a worker calls this when done)."""
    held = getattr(_kept, "kernel", None)
    _kept.kernel = None
    if held is not None:
        if held[2] is not None:
            held[2][0].stop_channels()
        shutdown(held[1])


def shutdown(km) -> None:
    """Stop kernel ``km`` now (a report failed on it, or its worker is done)."""
    from jupyter_core.utils import run_sync

    held = getattr(_kept, "kernel", None)
    if held is not None and held[1] is km:
        _kept.kernel = None
    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # already dead: nothing left to stop
        pass
