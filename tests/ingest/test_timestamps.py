"""How dates and times are read: one rule for every source (a timestamp with a UTC offset is
converted to the config's `timezone`, one without is taken as already in it), and the
`plausible_dates` range outside which a date is quarantined."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crmkit.config import load_config
from crmkit.exceptions import ConfigError
from crmkit.ingest import format_audit, ingest

UTC = dt.timezone.utc
# The same three instants in every test: one crosses a day, one a year, in Shanghai (UTC+8).
INSTANTS = [dt.datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
            dt.datetime(2025, 7, 15, 23, 30, tzinfo=UTC),
            dt.datetime(2024, 12, 31, 20, 15, 45, tzinfo=UTC)]
STORED = {"UTC": ["2025-03-01 08:00:00", "2025-07-15 23:30:00", "2024-12-31 20:15:45"],
          "Asia/Shanghai": ["2025-03-01 16:00:00", "2025-07-16 07:30:00",
                            "2025-01-01 04:15:45"]}


def _zone(hours: float) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours))


# How exports write a time with an offset, each a function of the instant.
OFFSET_FORMS = {
    "+02:00": lambda t: t.astimezone(_zone(2)).isoformat(),
    "Z": lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "Z with milliseconds": lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    "-05:00": lambda t: t.astimezone(_zone(-5)).isoformat(),
    "+0530": lambda t: t.astimezone(_zone(5.5)).strftime("%Y-%m-%dT%H:%M:%S%z"),
    "+05": lambda t: t.astimezone(_zone(5)).isoformat()[:-3],
    "PostgreSQL +00": lambda t: t.strftime("%Y-%m-%d %H:%M:%S+00"),
    "space before -0800": lambda t: t.astimezone(_zone(-8)).strftime("%Y-%m-%d %H:%M:%S %z"),
    "minutes and z": lambda t: t.strftime("%Y-%m-%dT%H:%Mz") if not t.second else
    t.strftime("%Y-%m-%dT%H:%M:%Sz"),
    "zone name": lambda t: t.astimezone(_zone(9)).strftime("%Y-%m-%d %H:%M:%S Asia/Tokyo"),
}


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def run(tmp_path: Path, body: str, source: str = "src") -> tuple[dict, Path]:
    config = write(tmp_path, "crm.yaml", f"source: {source}\n" + textwrap.dedent(body))
    wh = tmp_path / "wh"
    return ingest(load_config(config), wh, force=True), wh


def stored(wh: Path, column: str = "order_date") -> dict[str, str]:
    with duckdb.connect(str(wh / "warehouse.duckdb"), read_only=True) as con:
        return dict(con.execute(f"SELECT order_id, CAST({column} AS VARCHAR) FROM orders "
                                "ORDER BY order_id").fetchall())


def expected(zone: str, prefix: str = "") -> dict[str, str]:
    return {f"{prefix}{i}": value for i, value in enumerate(STORED[zone])}


def zone_setting(zone: str) -> str:
    return "" if zone == "UTC" else f"timezone: {zone}\n"


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_csv_offsets_in_every_form_land_as_the_same_timestamps(tmp_path, zone):
    rows = [f"{form}|{i},{write_form(t)},1" for form, write_form in OFFSET_FORMS.items()
            for i, t in enumerate(INSTANTS)]
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n" + "\n".join(rows))
    audit, wh = run(tmp_path, zone_setting(zone))
    assert audit["tables"]["orders"]["kept"] == len(rows)
    got = stored(wh)
    for form in OFFSET_FORMS:
        assert {k.split("|")[1]: v for k, v in got.items() if k.startswith(form + "|")} == \
            expected(zone), form
    assert audit["timezone"] == zone
    assert ("timestamps in Asia/Shanghai (setting timezone)" in format_audit(audit)) == \
        (zone != "UTC")


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_parquet_timestamptz_lands_as_the_same_timestamps(tmp_path, zone):
    (tmp_path / "src").mkdir()
    for name, unit, tz in (("utc", "us", "UTC"), ("new_york", "ms", "America/New_York"),
                           ("plus2", "ns", "+02:00")):
        pq.write_table(pa.table({
            "order_id": [str(i) for i in range(len(INSTANTS))],
            "order_date": pa.array(INSTANTS, pa.timestamp(unit, tz=tz)),
            "amount": [1.0] * len(INSTANTS)}), tmp_path / "src" / "orders.parquet")
        audit, wh = run(tmp_path, zone_setting(zone))
        assert stored(wh) == expected(zone), name


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_excel_text_with_offsets_lands_as_the_same_timestamps(tmp_path, zone):
    # Excel cells hold no zone: a time with an offset is text, read as a CSV value is.
    (tmp_path / "src").mkdir()
    frame = pd.DataFrame({
        "order_id": [f"{form}|{i}" for form in ("+02:00", "Z", "+0530")
                     for i in range(len(INSTANTS))],
        "order_date": [OFFSET_FORMS[form](t) for form in ("+02:00", "Z", "+0530")
                       for t in INSTANTS],
        "amount": 1})
    frame.to_excel(tmp_path / "src" / "orders.xlsx", index=False)
    _, wh = run(tmp_path, zone_setting(zone))
    got = stored(wh)
    for form in ("+02:00", "Z", "+0530"):
        assert {k.split("|")[1]: v for k, v in got.items() if k.startswith(form + "|")} == \
            expected(zone), form


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_duckdb_timestamptz_column_lands_as_the_same_timestamps(tmp_path, zone):
    with duckdb.connect(str(tmp_path / "crm.duckdb")) as con:
        con.execute("SET TimeZone = 'America/Los_Angeles'")  # the writer's zone plays no part
        con.execute("CREATE TABLE orders (order_id VARCHAR, order_date TIMESTAMPTZ, "
                    "amount DOUBLE)")
        for i, t in enumerate(INSTANTS):
            con.execute("INSERT INTO orders VALUES (?, CAST(? AS TIMESTAMPTZ), 1)",
                        [str(i), OFFSET_FORMS["-05:00"](t)])
    _, wh = run(tmp_path, zone_setting(zone), source="crm.duckdb")
    assert stored(wh) == expected(zone)


@pytest.mark.slow
@pytest.mark.parametrize("server_zone", ["UTC", "Asia/Kolkata"])
@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_postgres_timestamptz_lands_as_the_same_timestamps(postgres_url, tmp_path, zone,
                                                           server_zone):
    """PostgreSQL's COPY writes a timestamptz as text in the session's zone
    (``2025-03-01 08:00:00+00``, or ``+05:30`` in Kolkata): the same stored values."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS orders, customers")
        conn.execute("CREATE TABLE orders (order_id text, order_date timestamptz, "
                     "as_text text, amount numeric)")
        for i, t in enumerate(INSTANTS):
            conn.execute("INSERT INTO orders VALUES (%s, %s, %s, 1)",
                         (str(i), t, OFFSET_FORMS["+0530"](t)))
        database = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f"ALTER DATABASE {database} SET timezone TO '{server_zone}'")
    try:
        with psycopg.connect(postgres_url) as conn:  # what COPY writes, in a new session
            text = conn.execute("SELECT order_date::text FROM orders WHERE order_id = '0'"
                                ).fetchone()[0]
        assert text == {"UTC": "2025-03-01 08:00:00+00",
                        "Asia/Kolkata": "2025-03-01 13:30:00+05:30"}[server_zone]
        _, wh = run(tmp_path, zone_setting(zone), source=postgres_url)
        assert stored(wh) == expected(zone)
        _, wh = run(tmp_path, zone_setting(zone) + "tables:\n  orders:\n    columns: "
                    "{order_date: as_text}\n", source=postgres_url)
        assert stored(wh) == expected(zone)  # the same rule for text with an offset
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {database} RESET timezone")
            conn.execute("DROP TABLE IF EXISTS orders")


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_dates_and_times_without_an_offset_are_taken_as_in_the_zone(tmp_path, zone):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2025-03-01,1\n"
                                          "2,2025-03-01 16:00,1\n3,2025/03/01,1\n"
                                          "4,2025-03-01T16:00:00,1\n")
    _, wh = run(tmp_path, zone_setting(zone))
    assert stored(wh) == {"1": "2025-03-01 00:00:00", "2": "2025-03-01 16:00:00",
                          "3": "2025-03-01 00:00:00", "4": "2025-03-01 16:00:00"}
    (tmp_path / "src" / "orders.csv").unlink()
    for value, kind, landed in ((dt.date(2025, 3, 1), pa.date32(), "2025-03-01 00:00:00"),
                                (dt.datetime(2025, 3, 1, 16), pa.timestamp("ms"),
                                 "2025-03-01 16:00:00")):
        pq.write_table(pa.table({"order_id": ["1"], "order_date": pa.array([value], kind),
                                 "amount": [1.0]}), tmp_path / "src" / "orders.parquet")
        _, wh = run(tmp_path, zone_setting(zone))
        assert stored(wh) == {"1": landed}, kind


def test_date_format_reads_the_date_before_an_offset(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,01/03/2025 10:00,1\n"
                                          "2,01/03/2025 10:00 +02:00,1\n"
                                          "3,01/03/2025 10:00 -0500,1\n4,01/03/2025,1\n")
    _, wh = run(tmp_path, """\
        timezone: Europe/Berlin
        defaults: {date_format: ["%d/%m/%Y %H:%M", "%d/%m/%Y"]}
        """)
    assert stored(wh) == {"1": "2025-03-01 10:00:00", "2": "2025-03-01 09:00:00",
                          "3": "2025-03-01 16:00:00", "4": "2025-03-01 00:00:00"}
    _, wh = run(tmp_path, "defaults: {date_format: \"%d/%m/%Y %H:%M %z\"}\n")
    assert stored(wh)["3"] == "2025-03-01 15:00:00"


def test_a_changed_timezone_ingests_again(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2025-03-01T08:00Z,1\n")
    config = write(tmp_path, "crm.yaml", "source: src\n")
    ingest(load_config(config), tmp_path / "wh")
    config.write_text("source: src\ntimezone: Asia/Shanghai\n")
    audit = ingest(load_config(config), tmp_path / "wh")
    assert not audit.get("skipped") and stored(tmp_path / "wh") == {"1": "2025-03-01 16:00:00"}


@pytest.mark.parametrize("value,message", [
    ("Mars/Olympus", r"crm\.yaml: timezone 'Mars/Olympus' is not a time zone; write an IANA "
                     r"name such as `timezone: Europe/Berlin`"),
    ("europe/berlin", r"did you mean Europe/Berlin\?"),
    ("+08:00", r"a fixed UTC\+8 is Etc/GMT-8"),
    ("[UTC]", r"timezone \['UTC'\] is not a time zone"),
])
def test_an_unknown_timezone_names_the_setting_and_an_example(tmp_path, value, message):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2025-03-01,1\n")
    with pytest.raises(ConfigError, match=message):
        run(tmp_path, f"timezone: {value!r}\n" if value.startswith("+") else
            f"timezone: {value}\n")


# -- plausible_dates ------------------------------------------------------------------------

FAR_DATES = "order_id,order_date,amount\n1,2024-01-01,1\n2,2205-06-01,1\n3,1850-06-01,1\n"


def test_dates_outside_the_default_range_are_quarantined_with_the_range(tmp_path):
    write(tmp_path / "src", "orders.csv", FAR_DATES)
    audit, wh = run(tmp_path, "")
    record = audit["tables"]["orders"]
    assert record["reasons"] == {"order_date out of range": 2}
    last = dt.date.today()
    last = (last.replace(day=28) if (last.month, last.day) == (2, 29) else last
            ).replace(year=last.year + 10).isoformat()
    assert record["reason_details"] == {
        "order_date out of range": f"before 1900-01-01 or after {last} "
                                   "(setting plausible_dates)"}
    assert audit["plausible_dates"] == {"earliest": "1900-01-01", "latest": last,
                                        "years_ahead": 10}
    assert f"order_date out of range: before 1900-01-01 or after {last} (setting " \
           "plausible_dates)" in format_audit(audit)
    assert stored(wh) == {"1": "2024-01-01 00:00:00"}


def test_a_wider_range_keeps_far_dates(tmp_path):
    write(tmp_path / "src", "orders.csv", FAR_DATES)
    audit, wh = run(tmp_path, "plausible_dates: {earliest: 1800-01-01, latest: 2205-12-31}\n")
    assert audit["tables"]["orders"]["kept"] == 3
    assert audit["tables"]["orders"]["reason_details"] == {}
    assert stored(wh) == {"1": "2024-01-01 00:00:00", "2": "2205-06-01 00:00:00",
                          "3": "1850-06-01 00:00:00"}
    audit, wh = run(tmp_path, "plausible_dates: {earliest: 1800-01-01}\n")
    assert stored(wh) == {"1": "2024-01-01 00:00:00", "3": "1850-06-01 00:00:00"}
    audit, wh = run(tmp_path, "plausible_dates: {years_ahead: 200}\n")
    assert stored(wh) == {"1": "2024-01-01 00:00:00", "2": "2205-06-01 00:00:00"}


def test_the_latest_plausible_date_is_kept_whole(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n"
                                          "1,2030-12-31 23:59:59,1\n2,2031-01-01,1\n")
    audit, wh = run(tmp_path, "plausible_dates: {latest: 2030-12-31}\n")
    assert stored(wh) == {"1": "2030-12-31 23:59:59"}
    assert audit["tables"]["orders"]["reason_details"]["order_date out of range"] == \
        "before 1900-01-01 or after 2030-12-31 (setting plausible_dates)"


@pytest.mark.parametrize("setting,message", [
    ("{earliest: soon}", r"plausible_dates\.earliest: 'soon' is not a date; write YYYY-MM-DD"),
    ("{latest: 31/12/2035}", r"plausible_dates\.latest: '31/12/2035' is not a date"),
    ("{latest: 2035-02-30}", r"plausible_dates\.latest: '2035-02-30' is not a date"),
    ("{earliest: 2000-01-01, latest: 1999-12-31}",
     r"plausible_dates: earliest 2000-01-01 is after the latest plausible date 1999-12-31"),
    ("{earliest: 3000-01-01}", r"earliest 3000-01-01 is after the latest plausible date"),
    ("{latest: 2035-12-31, years_ahead: 10}", r"give `latest` \(a date\) or `years_ahead`"),
    ("{years_ahead: ten}", r"plausible_dates\.years_ahead: 'ten'; use a whole number"),
    ("{earliest: 1900-01-01, lastest: 2035-12-31}",
     r"unknown key\(s\) \['lastest'\]; valid: earliest, latest, years_ahead"),
    ("1900-01-01", r"plausible_dates: expected a mapping such as `plausible_dates: "
                   r"\{earliest: 1900-01-01, latest: 2035-12-31\}`"),
])
def test_a_bad_plausible_range_is_a_config_error(tmp_path, setting, message):
    write(tmp_path / "src", "orders.csv", FAR_DATES)
    with pytest.raises(ConfigError, match=message):
        run(tmp_path, f"plausible_dates: {setting}\n")
