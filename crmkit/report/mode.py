"""Batch or interactive: whether a report notebook has a person at the other end.

A report notebook runs in one of two modes, and shows filters accordingly:

interactive
    JupyterLab (``make lab``) or Voilà (``make dashboard``): a kernel whose frontend draws
    widgets. ``report.filter_panel()`` shows the filter panel and sections redraw live.
batch
    ``crmkit render``: papermill executes the notebook and the HTML is read by someone
    with no kernel behind the page. The applied filters are printed as text and no widget
    is created, so none can reach the HTML.

How the mode is decided (:func:`is_interactive`): ``crmkit render`` starts every kernel
with the environment variable ``CRMKIT_BATCH=1`` (see ``crmkit.report.execute``); a
kernel with it is batch. So is any code not running in an IPython kernel (a plain Python
script, a test): nothing there could draw a widget. Everything else is interactive.
A notebook run by hand with ``papermill`` or ``jupyter nbconvert --execute`` is
interactive unless ``CRMKIT_BATCH=1`` is exported first.

The data an interactive notebook reads when its parameters name none comes from the
environment too: ``CRMKIT_SOURCE`` (read as ``CRMKIT_PRESET`` says, if set) or
``CRMKIT_CONFIG`` (``crmkit dashboard --source`` sets them for its kernels; export one
before ``make lab``), else the bundled sample.

This module imports nothing heavy: ``crmkit.report.execute`` reads :data:`BATCH_ENV`
while the render process has not loaded pandas or ibis.
"""

from __future__ import annotations

import os

BATCH_ENV = "CRMKIT_BATCH"
SOURCE_ENV, CONFIG_ENV = "CRMKIT_SOURCE", "CRMKIT_CONFIG"  # a notebook's default data
PRESET_ENV = "CRMKIT_PRESET"  # how CRMKIT_SOURCE is read (a CRM's export: salesforce ...)
_TRUE = ("1", "true", "yes", "on")


def is_batch() -> bool:
    """True when ``CRMKIT_BATCH`` is set to 1/true/yes/on (``crmkit render``'s kernels)."""
    return os.environ.get(BATCH_ENV, "").strip().lower() in _TRUE


def in_kernel() -> bool:
    """True inside an IPython kernel (JupyterLab, Voilà, papermill), false in a script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def is_interactive() -> bool:
    """True when widgets can be drawn and someone may change them (see the module doc)."""
    return not is_batch() and in_kernel()
