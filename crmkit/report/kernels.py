"""The kernel a report runs on: always ipykernel on this interpreter.

Used by ``crmkit render`` (crmkit.report.execute) and ``crmkit dashboard`` (Voilà's
``kernel_spec_manager_class``). Imports nothing heavy.
"""

from __future__ import annotations

from jupyter_client.kernelspec import KernelSpecManager


class ThisPythonKernelSpecs(KernelSpecManager):
    """Every kernel name resolves to ipykernel on ``sys.executable``.

    A user-level ``python3`` kernelspec (``~/.local/share/jupyter/kernels``, a conda
    base, a ``JUPYTER_PATH`` entry) would otherwise win over the venv's and run reports
    on another Python with other package versions.
    """

    def get_kernel_spec(self, kernel_name: str):
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict

        return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())
