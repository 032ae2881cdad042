"""CSV and Excel reading (issue 13): one dialect for the whole file whatever its length, the
delimiter detected among , ; tab | without being fooled by the data, every row kept or
quarantined, and every file ingest cannot read named with its line and the fix."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from crmkit.exceptions import ConfigError, SchemaError, SourceError
from tests.ingest.test_ingest import cli, query, run_ingest, write

HEADER = "order_id,order_date,amount,customer_id,channel,note\n"
ROWS = 40_000
ODD_ROW = 30_000  # past DuckDB's sniffer sample (~20,480 rows)


def orders(odd: str | None = None, at: int = ODD_ROW, rows: int = ROWS) -> str:
    """An orders file of ``rows`` rows, row ``at`` replaced by ``odd``."""
    lines = [f"{i},2024-01-01,{i % 97}.5,C{i % 50},Web,note {i}\n" for i in range(1, rows + 1)]
    if odd is not None:
        lines[at - 1] = odd
    return HEADER + "".join(lines)


def config(tmp_path, body: str):
    return write(tmp_path, "crm.yaml", "source: src\ntables:\n  orders:\n" + body)


def rejects(wh):
    return query(wh, "SELECT source_row, reason, record FROM rejects WHERE table_name = "
                     "'orders' ORDER BY source_row")


# -- one dialect for the whole file --------------------------------------------------------


def test_a_quoted_line_break_past_the_sample_stays_one_row(tmp_path):
    write(tmp_path / "src", "orders.csv",
          orders(f'{ODD_ROW},2024-01-01,2.5,C1,Web,"line one\nline two, with a comma"\n'))
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    record = audit["tables"]["orders"]
    assert (record["rows_in"], record["kept"], record["quarantined"]) == (ROWS, ROWS, 0)
    assert query(wh, f"SELECT note FROM orders WHERE order_id = '{ODD_ROW}'") == \
        [("line one\nline two, with a comma",)]


def test_quoted_line_breaks_everywhere_in_a_gzipped_file(tmp_path):
    text = HEADER + "".join(f'{i},2024-01-01,1,C1,Web,"a\r\nb, {i}\n""c"""\n'
                            for i in range(1, 3001))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "orders.csv.gz").write_bytes(gzip.compress(text.encode()))
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert audit["tables"]["orders"]["kept"] == 3000
    assert query(wh, "SELECT note FROM orders WHERE order_id = '2999'") == \
        [('a\r\nb, 2999\n"c"',)]


def test_a_row_with_an_extra_field_past_the_sample_is_quarantined_with_its_text(tmp_path):
    write(tmp_path / "src", "orders.csv",
          orders(f"{ODD_ROW},2024-01-01,2.5,C1,Web,note,EXTRA\n"))
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    record = audit["tables"]["orders"]
    assert (record["rows_in"], record["kept"], record["quarantined"]) == \
        (ROWS, ROWS - 1, 1)
    assert audit["reconciled"] is True
    [(row, reason, kept)] = rejects(wh)
    assert row == ODD_ROW
    assert "7 fields where the header has 6" in reason + kept  # the reason (or its record)
    assert f"line {ODD_ROW + 1}: {ODD_ROW},2024-01-01,2.5,C1,Web,note,EXTRA" in \
        json.loads(kept).values()
    assert query(wh, "SELECT count(*) FROM orders WHERE order_id = '30000'") == [(0,)]
    assert query(wh, "SELECT max(source_row) FROM orders") == [(ROWS,)]  # rows keep places


def test_rows_with_a_trailing_delimiter_or_cut_short_are_kept(tmp_path):
    write(tmp_path / "src", "orders.csv",
          "order_id,order_date,amount,customer_id,channel\n"
          "1,2024-01-01,3,C1,Web,\n"        # a trailing delimiter: the extra field is empty
          "2,2024-01-02,4,C1,Shop,,,\n"
          "3,2024-01-03,5\n"                # trailing empty fields left out
          "\n"                              # a blank line is no row
          "4,2024-01-04,6,C2,Web\n")
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert audit["tables"]["orders"]["rows_in"] == 4
    assert audit["tables"]["orders"]["quarantined"] == 0
    assert query(wh, "SELECT order_id, customer_id, channel, source_row FROM orders ORDER BY "
                     "1") == [("1", "C1", "Web", 1), ("2", "C1", "Shop", 2),
                              ("3", None, None, 3), ("4", "C2", "Web", 4)]


def test_a_row_far_longer_than_the_header_stops_with_its_line(tmp_path):
    write(tmp_path / "src", "orders.csv",
          orders("1,2024-01-01,3,C1,Smith, John, Jr., Esq., MBA, PhD,x\n", at=5, rows=10))
    with pytest.raises(SourceError, match=r"orders: orders.csv line 6 has 11 fields where the "
                                          r"header has 6: .*Quote each value that holds ','"):
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)


@pytest.mark.parametrize("odd,message", [
    ('7,2024-01-01,3,C1,Web,"never closed\n', r"line 8 opens a quoted value \(\"\) that is "
                                               r"never closed"),
    ('7,2024-01-01,3,C1,Web,"quoted"then text\n', r"line 8 has text after the closing quote"),
    ("7,2024-01-01,3,C1,Web,a\rb\n", r"line 8 has a carriage return \(\\r\) inside a value "
                                     r"that is not quoted"),
])
def test_lines_that_cannot_be_split_stop_with_the_line_and_the_fix(tmp_path, odd, message):
    write(tmp_path / "src", "orders.csv", orders(odd, at=7, rows=7 if "never" in odd else 9))
    with pytest.raises(SourceError, match=message):
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)


def test_windows_and_unix_line_ends_mixed_in_one_file(tmp_path):
    write(tmp_path / "src", "orders.csv", HEADER.replace("\n", "\r\n") +
          '1,2024-01-01,3,C1,Web,"a\r\nb"\r\n2,2024-01-02,4,C1,Web,x\n3,2024-01-03,5,C1,Web,y\n')
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert audit["tables"]["orders"]["kept"] == 3
    assert query(wh, "SELECT note FROM orders ORDER BY source_row") == [
        ("a\nb",), ("x",), ("y",)]


def test_header_names_are_trimmed_numbered_and_repeats_renamed(tmp_path):
    write(tmp_path / "src", "orders.csv",
          "order_id,order_date,amount, Tag ,Tag,,TAG\n1,2024-01-01,3,a,b,c,d\n")
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert query(wh, "SELECT tag, tag_1, column5, tag_2 FROM orders") == [("a", "b", "c", "d")]


def test_a_column_the_table_reads_named_twice_stops(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount,Amount\n1,2024-01-01,3,4\n")
    with pytest.raises(SourceError, match=r"orders.csv has a column named 'amount' 2 times "
                                          r"\(columns 3 and 4\): which one is amount\?"):
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)


def test_a_text_value_longer_than_duckdbs_line_limit(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount,note\n"
          f"1,2024-01-01,3,\"{'x' * 2_500_000}\"\n2,2024-01-02,4,short\n")
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert audit["tables"]["orders"]["kept"] == 2
    assert query(wh, "SELECT length(note) FROM orders ORDER BY 1") == [(5,), (2_500_000,)]


def test_a_utf16_file_with_its_byte_order_mark(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount,name\n1,2024-01-01,3,Müller"
          "\n", encoding="utf-16")
    _, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert query(wh, "SELECT name FROM orders") == [("Müller",)]


@pytest.mark.parametrize("start,what", [
    (b"PK\x03\x04", r"an Excel workbook \(or another zip file\). Rename it to end in \.xlsx, "
                    r"or set `format: excel` for tables.orders"),
    (b"PAR1", r"a Parquet file. Rename it to end in \.parquet, or set `format: parquet`"),
    (b"\x1f\x8b\x08", r"gzip-compressed. Rename it to end in \.csv\.gz"),
])
def test_a_binary_file_named_csv_says_what_it_is(tmp_path, start, what):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "orders.csv").write_bytes(start + bytes(range(256)) * 4)
    with pytest.raises(SourceError, match=r"orders: orders.csv is not CSV text: it is " + what):
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)


@pytest.mark.parametrize("file,setting,message", [
    ("orders.csv", "sheet: Orders", r"tables.orders.sheet: orders.csv is a CSV file, not an "
                                    r"Excel workbook: it has no sheets"),
    ("orders.parquet", "skip_rows: 2", r"tables.orders.skip_rows: orders.parquet is a Parquet "
                                       r"file; skip_rows skips lines above the header of a CSV"),
    ("orders.parquet", "quote: \"'\"", r"tables.orders.quote: .*quote applies to CSV files"),
])
def test_a_reading_setting_that_cannot_take_effect_stops(tmp_path, file, setting, message):
    (tmp_path / "src").mkdir()
    if file.endswith(".csv"):
        write(tmp_path / "src", file, "order_id,order_date,amount\n1,2024-01-01,3\n")
    else:
        ORDERS.to_parquet(tmp_path / "src" / file)
    with pytest.raises(ConfigError, match=message):
        run_ingest(config=config(tmp_path, f"    file: {file}\n    {setting}\n"),
                   tmp_path=tmp_path)


# -- delimiter and quotes --------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected_and_not_fooled_by_the_data(tmp_path, delimiter):
    d = delimiter
    others = "".join(x for x in ",;\t|" if x != d)
    write(tmp_path / "src", "customers.csv", d.join(["customer_id", "name", "segment"]) + "\n"
          + d.join(["1", f'"Smith{d} John {others}"', "SMB"]) + "\n"
          + d.join(["2", "'t Hoekje", f"B2B {others}"]) + "\n"
          + d.join(["3", '"He said ""hi"""', "SMB"]) + "\n"
          + d.join(["4", "O'Brien's", "Consumer"]) + "\n")
    audit, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert audit["tables"]["customers"]["kept"] == 4
    assert query(wh, "SELECT name, segment FROM customers ORDER BY customer_id") == [
        (f"Smith{d} John {others}", "SMB"), ("'t Hoekje", f"B2B {others}"),
        ('He said "hi"', "SMB"), ("O'Brien's", "Consumer")]


def test_a_tsv_file_is_tab_separated_and_the_delimiter_setting_is_used(tmp_path):
    write(tmp_path / "src", "orders.tsv", "order_id\torder_date\tamount\tnote\n"
                                          "1\t2024-01-01\t3.5\ta,b;c|d\n")
    _, wh = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    assert query(wh, "SELECT amount, note FROM orders") == [(3.5, "a,b;c|d")]
    write(tmp_path / "src2", "orders.csv", "order_id|order_date|amount|note\n"
                                           "1|2024-01-01|3|a,b,c,d,e,f\n")
    _, wh = run_ingest(config=write(tmp_path, "c.yaml", "source: src2\ntables:\n  orders:\n"
                                                        "    delimiter: \"|\"\n"),
                       warehouse=tmp_path / "wh2")
    assert query(wh, "SELECT amount, note FROM orders") == [(3.0, "a,b,c,d,e,f")]


def test_quote_setting_reads_another_quote_character(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount,note\n"
          "1,2024-01-01,3,'Smith, John'\n2,2024-01-02,4,'it''s \"fine\"'\n")
    audit, wh = run_ingest(config=config(tmp_path, "    quote: \"'\"\n"), tmp_path=tmp_path)
    assert audit["tables"]["orders"]["kept"] == 2
    assert query(wh, "SELECT note FROM orders ORDER BY source_row") == [
        ("Smith, John",), ('it\'s "fine"',)]


@pytest.mark.parametrize("setting,message", [
    ("quote: \"ab\"", r"tables.orders.quote: 'ab'; write one character"),
    ("quote: 5", r"tables.orders.quote: 5; write one character"),
    ("quote: \"x\"", r"tables.orders.quote: 'x'; write one character"),
    ("delimiter: \"\"", r"tables.orders.delimiter: ''; write one character, such as ',' ';'"),
    ("delimiter: \";;\"", r"tables.orders.delimiter: ';;'; write one character"),
    ("delimiter: \"'\"\n    quote: \"'\"", r"delimiter and quote are both \"'\""),
    ("skip_rows: -1", r"tables.orders.skip_rows: -1; write the number of lines before the "
                      r"header row \(0 or more\)"),
    ("skip_rows: two", r"skip_rows: 'two'"),
    ("skip_rows: true", r"skip_rows: True"),
    ("skip_rows: 1.5", r"skip_rows: 1.5"),
])
def test_reading_settings_are_checked(tmp_path, setting, message):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    with pytest.raises(ConfigError, match=message):
        run_ingest(config=config(tmp_path, f"    {setting}\n"), tmp_path=tmp_path)


def test_a_wrong_delimiter_setting_still_names_the_right_one(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    with pytest.raises(SchemaError, match=r"read as one column .* set `delimiter: ','`"):
        run_ingest(config=config(tmp_path, "    delimiter: \";\"\n"), tmp_path=tmp_path)


# -- a file mixing delimiters ------------------------------------------------------------------


def test_a_file_mixing_commas_and_semicolons_names_the_lines_and_the_setting(tmp_path):
    text = orders(rows=20) + "".join(f"{i};2024-01-01;1;C1;Web;x\n" for i in range(21, 31))
    write(tmp_path / "src", "orders.csv", text)
    with pytest.raises(SourceError) as err:
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    message = str(err.value)
    assert "orders: orders.csv mixes delimiters: lines 1-21 use ',' (comma) but lines " \
           "22-26 and 5 more use ';' (semicolon)" in message
    assert "The delimiter is inconsistent" in message and "`delimiter:`" in message
    assert "rename" not in message.lower()
    # the header in one, most rows in the other
    write(tmp_path / "src", "orders.csv", HEADER.replace(",", ";") + orders(rows=5)[len(HEADER):])
    with pytest.raises(SourceError, match=r"mixes delimiters: lines 2-6 use ',' \(comma\) but "
                                          r"line 1 uses ';' \(semicolon\)"):
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)


def test_a_line_with_another_delimiter_past_the_sample_is_found(tmp_path):
    write(tmp_path / "src", "orders.csv", orders(f"{ODD_ROW};2024-01-01;1;C1;Web;x\n"))
    with pytest.raises(SourceError, match=rf"mixes delimiters: its header and other lines use "
                                          rf"',' \(comma\) but line {ODD_ROW + 1} uses ';' "
                                          rf"\(semicolon\).*`delimiter:` for tables.orders"):
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)


def test_a_semicolon_in_a_short_rows_value_is_no_other_delimiter(tmp_path):
    write(tmp_path / "src", "orders.csv", orders("7,2024-01-01,3\n", at=7, rows=9) +
          "10;Smith;x\n")  # one field: not six with ';', so not another delimiter
    audit, _ = run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    record = audit["tables"]["orders"]
    assert (record["rows_in"], record["quarantined"], record["reasons"]) == \
        (10, 1, {"missing order_date": 1})


# -- lines above the header ---------------------------------------------------------------------


def test_preamble_lines_suggest_skip_rows_and_skip_rows_reads_the_file(tmp_path):
    preamble = 'Export generated 2025-03-31 10:00 by "Admin\nAll opportunities\n'
    write(tmp_path / "src", "orders.csv", preamble + orders(rows=10))
    with pytest.raises(SourceError, match=r"orders: orders.csv has 2 lines above its header "
                                          r"\(line 1: 'Export generated 2025-03-31 10:00 by "
                                          r".*\); the columns \('order_id, order_date, .*\) "
                                          r"are on line 3. Set `skip_rows: 2` for "
                                          r"tables.orders in a config."):
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    audit, wh = run_ingest(config=config(tmp_path, "    skip_rows: 2\n"), tmp_path=tmp_path)
    assert audit["tables"]["orders"]["kept"] == 10
    assert query(wh, "SELECT min(source_row), max(source_row) FROM orders") == [(1, 10)]


def test_an_extra_field_after_skipped_lines_names_the_files_line(tmp_path):
    write(tmp_path / "src", "orders.csv", "Title\n\n" + orders("5,2024-01-01,3,C1,Web,x,y\n",
                                                                at=5, rows=8))
    audit, wh = run_ingest(config=config(tmp_path, "    skip_rows: 2\n"), tmp_path=tmp_path)
    assert audit["tables"]["orders"]["quarantined"] == 1
    [(row, _, record)] = rejects(wh)
    assert row == 5 and "line 8: 5,2024-01-01,3,C1,Web,x,y" in json.loads(record).values()


def test_skip_rows_past_the_end_of_the_file(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    with pytest.raises(SourceError, match="skip_rows: 5 skips every line of orders.csv"):
        run_ingest(config=config(tmp_path, "    skip_rows: 5\n"), tmp_path=tmp_path)


# -- lookups ------------------------------------------------------------------------------------


def test_a_lookup_row_with_an_extra_field_stops_with_its_line(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount,agent\n"
                                          "1,2024-01-01,3,Ann\n")
    write(tmp_path / "src", "teams.csv", "agent,manager\nAnn,Mia\nBob,Mia,extra\n")
    with pytest.raises(SourceError, match=r"teams.csv line 3 has 3 fields where the header has "
                                          r"2"):
        run_ingest(config=config(tmp_path, "    lookups:\n      - {file: teams.csv, key: "
                                           "agent}\n"), tmp_path=tmp_path)


def test_a_lookup_reads_its_own_preamble_and_quote_settings(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount,agent\n"
                                          "1,2024-01-01,3,Ann\n2,2024-01-02,4,Bob\n")
    write(tmp_path / "src", "teams.csv", "Teams export 2024-01-31\nagent;manager\n"
                                         "Ann;'Mia; the lead'\nBob;Li\n")
    audit, wh = run_ingest(config=config(tmp_path, (
        "    lookups:\n      - {file: teams.csv, key: agent, skip_rows: 1, delimiter: ';', "
        "quote: \"'\"}\n")), tmp_path=tmp_path)
    assert query(wh, "SELECT order_id, manager FROM orders ORDER BY 1") == [
        ("1", "Mia; the lead"), ("2", "Li")]


# -- Excel -------------------------------------------------------------------------------------


def book(path, sheets: dict):
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)


ORDERS = pd.DataFrame({"order_id": ["1"], "order_date": ["2024-01-01"], "amount": ["3"]})


def test_an_empty_first_sheet_names_the_sheets(tmp_path):
    (tmp_path / "src").mkdir()
    book(tmp_path / "src" / "orders.xlsx", {"Cover": pd.DataFrame(), "Notes": pd.DataFrame(),
                                            "Orders": ORDERS})
    done = cli("ingest", "--source", str(tmp_path / "src"), "--warehouse", str(tmp_path / "wh"))
    assert done.returncode == 2
    assert "orders: the first sheet of orders.xlsx is empty; it has sheets Cover, Notes, " \
           "Orders: set `sheet:`" in done.stderr
    assert "Traceback" not in done.stderr and ".ingest-" not in done.stderr
    assert "parquet" not in done.stderr.lower()
    audit, _ = run_ingest(config=config(tmp_path, "    sheet: Orders\n"), tmp_path=tmp_path)
    assert audit["tables"]["orders"]["kept"] == 1


def test_a_missing_sheet_names_the_sheets_that_exist(tmp_path):
    (tmp_path / "src").mkdir()
    book(tmp_path / "src" / "orders.xlsx", {"Orders 2024": ORDERS, "Notes": ORDERS})
    with pytest.raises(SourceError, match=r"orders: orders.xlsx has no sheet 'Orders'; it has "
                                          r"sheets Orders 2024, Notes: set `sheet:`"):
        run_ingest(config=config(tmp_path, "    sheet: Orders\n"), tmp_path=tmp_path)
    with pytest.raises(SourceError, match=r"has no sheet 2; it has sheets Orders 2024, Notes"):
        run_ingest(config=config(tmp_path, "    sheet: 2\n"), tmp_path=tmp_path)
    audit, _ = run_ingest(config=config(tmp_path, "    sheet: 1\n"), tmp_path=tmp_path)
    assert audit["tables"]["orders"]["kept"] == 1


def test_a_csv_file_named_xlsx_is_not_a_workbook(tmp_path):
    write(tmp_path / "src", "orders.xlsx", "order_id,order_date,amount\n1,2024-01-01,3\n")
    done = cli("ingest", "--source", str(tmp_path / "src"), "--warehouse", str(tmp_path / "wh"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "orders: orders.xlsx is not an Excel workbook: its content looks like text (a CSV " \
           "file?). Rename it to .csv, or set `format: csv` for tables.orders." in done.stderr
    assert "engine" not in done.stderr
    audit, _ = run_ingest(config=config(tmp_path, "    file: orders.xlsx\n    format: csv\n"),
                          tmp_path=tmp_path)
    assert audit["tables"]["orders"]["kept"] == 1


def test_excel_preamble_rows_are_suggested_and_skipped(tmp_path):
    (tmp_path / "src").mkdir()
    with pd.ExcelWriter(tmp_path / "src" / "orders.xlsx") as writer:
        pd.DataFrame({"Sales export": ["generated 2025-03-31"]}).to_excel(
            writer, sheet_name="S", index=False)
        ORDERS.to_excel(writer, sheet_name="S", index=False, startrow=3)
    with pytest.raises(SourceError, match=r"orders.xlsx has 3 rows above its header \(row 1: "
                                          r"'Sales export'\).* are on row 4. Set `skip_rows: 3`"):
        run_ingest(source=tmp_path / "src", tmp_path=tmp_path)
    audit, wh = run_ingest(config=config(tmp_path, "    skip_rows: 3\n"), tmp_path=tmp_path)
    assert audit["tables"]["orders"]["kept"] == 1
    assert query(wh, "SELECT order_id, amount FROM orders") == [("1", 3.0)]


# -- through the CLI ----------------------------------------------------------------------------


def test_the_cli_prints_one_message_and_no_work_path(tmp_path):
    write(tmp_path / "src", "orders.csv", "Report\n" + orders(rows=5))
    done = cli("ingest", "--source", str(tmp_path / "src"), "--warehouse", str(tmp_path / "wh"))
    assert done.returncode == 2
    assert "Set `skip_rows: 1` for tables.orders" in done.stderr
    assert "Traceback" not in done.stderr and ".ingest-" not in done.stderr
