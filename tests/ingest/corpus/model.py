"""The parts of a corpus case: what to build, what to run, what to expect."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

# An expected word: one string, or a tuple of alternatives (any one of them will do).
Word = Union[str, tuple[str, ...]]


@dataclass(frozen=True)
class Loaded:
    """Ingest succeeds; ``table``'s audit record has exactly these counts."""

    rows_in: int
    kept: int
    flagged: int = 0
    quarantined: int = 0
    table: str = "orders"
    reasons: dict[str, int] | None = None  # the audit's reasons, exactly, when given
    flags: dict[str, int] | None = None    # the audit's flags, exactly, when given
    rows: tuple[str, list] | None = None   # (SQL on the warehouse, the rows it returns)


@dataclass(frozen=True)
class Quarantined:
    """Ingest succeeds and ``reason`` (a label, or a pattern a label must match) counts
    ``count`` rows of ``table``; with ``rows_in``, the table read that many rows."""

    reason: str | re.Pattern
    count: int
    table: str = "orders"
    rows_in: int | None = None


@dataclass(frozen=True)
class Exit2:
    """Ingest stops with a CrmkitError whose message holds every word (case ignored) and
    none of ``absent`` (a password, a wrong hint)."""

    words: tuple[Word, ...]
    absent: tuple[str, ...] = ()


Outcome = Union[Loaded, Quarantined, Exit2]


@dataclass(frozen=True)
class Run:
    """What to ingest: a config file or a source (folder, file, .duckdb, URL), and the
    warehouse folder when the case is about it."""

    config: Path | None = None
    source: str | Path | None = None
    warehouse: Path | None = None


class Ctx:
    """A case's folder (``src`` holds its input files) and, on demand, the PostgreSQL
    database the corpus shares."""

    def __init__(self, tmp: Path, postgres: Callable[[], str] | None = None):
        self.tmp = tmp
        self.src = tmp / "src"
        self._postgres = postgres

    @property
    def postgres(self) -> str:
        """``postgresql://user:pw@host:port/db`` of the corpus database (postgres.SETUP's
        tables; test_corpus.py's ``corpus_database`` fixture makes it)."""
        if self._postgres is None:
            raise RuntimeError("this case needs PostgreSQL; mark it needs='postgres'")
        return self._postgres()

    def write(self, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
        self.src.mkdir(parents=True, exist_ok=True)
        path = self.src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
        return path

    def config(self, body: str, source: str | None = "src") -> Run:
        """A crm.yaml beside ``src``: ``source:`` (unless None), then ``body`` (dedented)."""
        self.src.mkdir(parents=True, exist_ok=True)
        text = (f"source: {source}\n" if source is not None else "") + textwrap.dedent(body)
        path = self.tmp / "crm.yaml"
        path.write_text(text, encoding="utf-8")
        return Run(config=path)


Builder = Callable[[Ctx], Run]


@dataclass(frozen=True)
class Case:
    """One bad input and what an analyst should get from it.

    ``kind``: csv, excel, parquet, duckdb, postgresql or config. ``needs``: ``postgres``
    (the shared server) or ``non-root`` (file permissions mean nothing to root).
    ``issue``: the issue 13 class it reproduces, or why the case is here.
    """

    id: str
    kind: str
    build: Builder
    expect: Outcome
    issue: str = ""
    needs: str | None = None
    cli: bool = False  # also run through `crmkit ingest` in a subprocess


def files(*named: tuple[str, str | bytes], config: str | None = None,
          encoding: str = "utf-8") -> Builder:
    """A builder writing text (or bytes) files into src, then either a config (``config``:
    the YAML after ``source: src``) or nothing (the source is the src folder)."""

    def build(ctx: Ctx) -> Run:
        for name, data in named:
            ctx.write(name, data, encoding)
        if config is not None:
            return ctx.config(config)
        return Run(source=ctx.src)

    return build


def orders_csv(text: str, config: str | None = None, name: str = "orders.csv",
               encoding: str = "utf-8") -> Builder:
    """The common case: one orders file, read by name or through a config."""
    return files((name, text), config=config, encoding=encoding)


H = "order_id,order_date,amount\n"
# Queries on the warehouse that Loaded cases compare: the kept orders, in source order.
ORDER_AMOUNTS = "SELECT order_id, amount FROM orders ORDER BY source_row"
ORDER_DATES = ("SELECT order_id, strftime(order_date, '%Y-%m-%d %H:%M') FROM orders "
               "ORDER BY source_row")


def order_rows(n: int, start: int = 1) -> str:
    """``n`` valid order lines, ids from ``start``."""
    return "".join(f"{i},2024-01-{i % 28 + 1:02d},{i % 97 + 1}.50\n"
                   for i in range(start, start + n))
