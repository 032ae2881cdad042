"""Property: whatever text an orders file holds, written as CSV by Python's csv module,
`crmkit ingest` exits 0 or 2 (never a traceback), and on exit 0 every row written is a row
in: ``rows_in`` equals the number of data rows (issue 13).

Values mix quotes, the four delimiters crmkit detects, line breaks, apostrophes ('t Hoekje),
NUL characters, long fields and unicode; files use one of the four delimiters, either line
end, and minimal or full quoting. Ingest runs in-process (crmkit's own errors are the exit 2
the CLI prints); one example also goes through the CLI.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from crmkit.exceptions import CrmkitError
from crmkit.ingest import ingest, resolve_config
from tests.ingest.test_ingest import cli

HEADER = ["order_id", "order_date", "amount", "customer_id", "note"]
ODD = ['"', "'", ",", ";", "\t", "|", "\n", "\r", "\r\n", "\x00", " ", "'t Hoekje",
       '""', "é", "北京", "\u2028", "\ufeff"]

piece = st.sampled_from(ODD) | st.text(st.characters(codec="utf-8"), max_size=3)
text = st.lists(piece, max_size=6).map("".join)
long_text = st.builds(lambda s, n: s * n, st.lists(piece, min_size=1, max_size=3).map("".join),
                      st.integers(1000, 20000))
note = st.one_of(text, text, text, long_text)
order_id = st.one_of(st.integers(1, 10**6).map(str), text)
order_date = st.one_of(st.dates().map(str), text)
amount = st.one_of(st.decimals(-10**6, 10**6, places=2, allow_nan=False).map(str), text)
row = st.tuples(order_id, order_date, amount, st.sampled_from(["", "c1", "c2"]), note)


def write_orders(rows: list, delimiter: str, lineterminator: str, quoting: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator,
                        quoting=quoting)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


def ingest_text(folder: Path, content: str) -> dict | None:
    """The audit, or None when ingest stopped with crmkit's own message (exit 2)."""
    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "orders.csv").write_text(content, encoding="utf-8", newline="")
    try:
        return ingest(resolve_config(source=src), folder / "wh", force=True)
    except CrmkitError as exc:
        event(f"exit 2: {str(exc).split(':')[1].strip()[:40]}")  # --hypothesis-show-statistics
        return None


# Each example writes a file and runs a whole ingest: ~50 of them take about a minute here.
@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows=st.lists(row, min_size=1, max_size=30),
       delimiter=st.sampled_from([",", ";", "\t", "|"]),
       lineterminator=st.sampled_from(["\n", "\r\n"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
@example(rows=[("1", "2024-01-01", "3", "c1", 'He said "hi"'),
               ("2", "2024-01-02", "4", "", "'t Hoekje; \x00 line\nbreak")],
         delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
def test_any_text_is_read_row_for_row_or_stops_with_a_message(rows, delimiter,
                                                             lineterminator, quoting):
    folder = Path(tempfile.mkdtemp(prefix="crmkit-csv-property-"))
    try:
        audit = ingest_text(folder, write_orders(rows, delimiter, lineterminator, quoting))
        if audit is not None:
            orders = audit["tables"]["orders"]
            assert orders["rows_in"] == len(rows), orders
            assert audit["reconciled"] is True
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_cli_prints_the_counts_of_such_a_file_without_a_traceback(tmp_path):
    rows = [(str(i), "2024-01-01", "3", "c1", 'a "quoted", \x00 multi\nline; note | \t x')
            for i in range(1, 41)]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "orders.csv").write_text(write_orders(rows, "|", "\r\n",
                                                              csv.QUOTE_MINIMAL),
                                                 encoding="utf-8", newline="")
    done = cli("ingest", "--source", str(tmp_path / "src"), "--warehouse", str(tmp_path / "wh"))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "every row accounted for" in done.stdout
