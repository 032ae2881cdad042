"""Importing the notebook stack without a grammar nobody here uses.

nbformat validates notebooks with jsonschema, and jsonschema, when the package
``rfc3987-syntax`` is installed (jupyter-events, under JupyterLab and Voilà, asks for it),
builds that package's Lark grammar for its "iri" format check as it is imported: ~1.3 s
of the ~1.4 s that ``import nbformat`` takes, paid by every ``crmkit render``. The notebook
schemas have no "iri" field, so :func:`without_iri_grammar` hides the package while the
stack is imported; jsonschema then leaves that one format unchecked, as it does when the
package is not installed. A process that has imported jsonschema already is left alone.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

GRAMMAR_MODULE = "rfc3987_syntax"


@contextmanager
def without_iri_grammar() -> Iterator[None]:
    if "jsonschema" in sys.modules or GRAMMAR_MODULE in sys.modules:
        yield
        return
    sys.modules[GRAMMAR_MODULE] = None  # "import rfc3987_syntax" raises ImportError
    try:
        yield
    finally:
        if GRAMMAR_MODULE in sys.modules and sys.modules[GRAMMAR_MODULE] is None:
            del sys.modules[GRAMMAR_MODULE]
