"""The bad-input corpus (issue 13): inputs a careless or hostile user gives crmkit, each with
the outcome an analyst should get.

A case is a short id, a builder that writes the input files (and a config) into a fresh
folder, and one expected outcome:

- ``Loaded``: ingest succeeds with these exact counts (rows_in, kept, flagged,
  quarantined) for one table, optionally the reasons, flags and a query's rows;
- ``Quarantined``: ingest succeeds and the named reason counts this many rows;
- ``Exit2``: ingest stops with crmkit's own error (``crmkit ingest`` exits 2) and a message
  that holds every given word: the file, column or setting, and a few words of the fix.
  Never a traceback, never an internal ``.ingest-*`` path.

The cases live in one module per kind of input (``text_files``, ``binary_files``,
``postgres``, ``configs``); ``CASES`` is all of them, in that order.
``tests/ingest/test_corpus.py`` runs them.
"""

from __future__ import annotations

from tests.ingest.corpus import binary_files, configs, postgres, text_files
from tests.ingest.corpus.model import Case, Exit2, Loaded, Quarantined

__all__ = ["CASES", "Case", "Exit2", "Loaded", "Quarantined"]

CASES: list[Case] = [*text_files.CASES, *binary_files.CASES, *postgres.CASES,
                     *configs.CASES]
