"""Property: whatever config a user writes, `crmkit ingest` exits 0 or 2, never a traceback
(issue 13).

Configs are generated as YAML-able structures: the known keys at the top, table and column
level, with values that are sometimes right (a source column, a canonical value, a real
file) and sometimes anything YAML can hold (strings, numbers, dates, lists, mappings, None),
mixed with unknown keys. Over a small valid orders file, ingest in-process must return an
audit that reconciles (exit 0) or raise crmkit's own error (exit 2); any other exception is
the traceback a user would see.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.exceptions import CrmkitError
from crmkit.ingest import ingest, resolve_config
from crmkit.schema import TABLES

ORDERS_CSV = ("order_id,order_date,amount,customer_id,status,agent,Deleted,note\n"
              "A1,2024-01-05,100.00,101,completed,Ann,0,first\n"
              "A2,2024-01-06,50.50,102,Paid,Bob,1,\"He said \"\"hi\"\"\"\n"
              "A3,2024-01-07,-20.00,101,refunded,Ann,0,\n"
              "A4,05/01/2024,ten,,completed,Cid,0,'t Hoekje\n")
TEAMS_CSV = "agent,manager\nAnn,Mia\nBob,Mia\n"
SOURCE_COLUMNS = ("order_id", "order_date", "amount", "customer_id", "status", "agent",
                  "Deleted", "note", "Missing")
CANONICAL_VALUES = ("completed", "cancelled", "returned", "won", "lost", "open", "true",
                    "false", "opne", None)

# -- YAML-able values ---------------------------------------------------------------------

scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
           | st.dates(min_value=dt.date(1, 1, 1)) | st.sampled_from(SOURCE_COLUMNS))
keys = st.text(max_size=10) | st.integers(0, 3) | st.booleans() | st.none()
anything = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6)


def maybe(valid, odds: int = 3):
    """A valid value for a key (``odds`` times in ``odds + 1``), or anything."""
    return st.one_of(*[valid] * odds, anything)


@st.composite
def settings_of(draw, strategies: dict, required: tuple = (), most: int = 4):
    """A mapping of a few of these keys (each value from its strategy), now and then with an
    unknown key: mostly valid settings, so that the loader gets past its first checks."""
    chosen = draw(st.lists(st.sampled_from(list(strategies)), max_size=most, unique=True))
    out = {key: draw(strategies[key]) for key in (*required, *chosen) if key in strategies}
    if draw(st.sampled_from([False] * 9 + [True])):
        out[draw(keys)] = draw(anything)
    return out


columns_of_source = st.sampled_from(SOURCE_COLUMNS)
column_spec = maybe(
    columns_of_source
    | st.lists(columns_of_source, min_size=1, max_size=3)
    | st.fixed_dictionaries({"value": scalars})
    | settings_of({"column": maybe(columns_of_source | st.lists(columns_of_source, max_size=2)),
                   "values": maybe(st.dictionaries(st.text(max_size=8) | columns_of_source,
                                                   st.sampled_from(CANONICAL_VALUES),
                                                   max_size=3)),
                   "default": st.sampled_from(CANONICAL_VALUES) | scalars,
                   "optional": maybe(st.booleans())}, required=("column",)))
column_names = st.sampled_from([c.name for t in TABLES.values() for c in t.columns]) | keys
test_keys = {"equals": scalars, "in": maybe(st.lists(scalars, max_size=3)),
             "startswith": scalars, "matches": maybe(st.sampled_from([".*", "([", "A.*"])),
             "negative": maybe(st.just(True)), "ignore_case": maybe(st.booleans()),
             "optional": maybe(st.booleans())}
rule = maybe(settings_of({
    **test_keys, "quarantine": scalars, "flag": maybe(st.sampled_from(["test_row", "Bad Flag"])),
    "min": maybe(st.integers(-5, 200)), "max": maybe(st.integers(-5, 200)),
    "exclusive": maybe(st.booleans())}))
status_rule = maybe(settings_of(
    {"column": maybe(columns_of_source), **test_keys,
     "status": maybe(st.sampled_from(CANONICAL_VALUES))}, required=("column", "status")))
lookup = maybe(settings_of({
    "file": maybe(st.sampled_from(["teams.csv", "nope.csv", "orders.csv"])),
    "table": scalars, "key": maybe(columns_of_source), "on": maybe(st.just("agent")),
    True: maybe(st.just("agent")),  # a bare `on:` as YAML 1.1 reads it
    "columns": maybe(st.lists(st.sampled_from(["manager", "agent", "nope"]), max_size=2)),
    "name": scalars, "match": maybe(st.sampled_from(["exact", "loose"])),
    "optional": maybe(st.booleans()), "encoding": maybe(st.just("utf-8"))},
    required=("file", "key")))
read_settings = {
    "encoding": maybe(st.sampled_from(["utf-8", "cp1252", "klingon"])
                      | st.lists(st.sampled_from(["utf-8", "cp1252"]), max_size=2)),
    "delimiter": maybe(st.sampled_from([",", ";", "\t", "|", ""])),
    "date_format": maybe(st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "dd/mm/yyyy"])
                         | st.lists(st.sampled_from(["%d/%m/%Y", "%m/%d/%Y"]), max_size=2)),
    "decimal": maybe(st.sampled_from([".", ","])),
    "thousands": maybe(st.sampled_from([",", ".", " "])),
    "null_values": maybe(st.lists(st.sampled_from(["N/A", "", "-", "ten"]), max_size=3)),
}
# Settings being added to the readers (issue 13): generated too, valid or not.
new_read_settings = {"skip_rows": maybe(st.integers(0, 3)),
                     "quote": maybe(st.sampled_from(['"', "'"]))}
table_settings = maybe(settings_of({
    **read_settings, **new_read_settings,
    "file": maybe(st.sampled_from(["orders.csv", "ORDERS.CSV", "teams.csv", "nope.csv",
                                   "*.csv"])),
    "table": scalars, "sheet": scalars,
    "format": maybe(st.sampled_from(["csv", "parquet", "excel"])),
    "columns": maybe(st.dictionaries(column_names, column_spec, max_size=4)),
    "derive": maybe(st.dictionaries(column_names, st.sampled_from(
        ["quantity * unit_price", "amount * 2", "amount ** 2", "price"]) | scalars, max_size=2)),
    "status_rules": maybe(st.lists(status_rule, min_size=1, max_size=2)),
    "unique": maybe(st.sampled_from(["key", "row"])),
    "rules": maybe(st.dictionaries(column_names | columns_of_source,
                                   rule | st.lists(rule, max_size=2), max_size=3)),
    "derive_from": maybe(st.just("orders")),
    "lookups": maybe(st.lists(lookup, min_size=1, max_size=2)),
    "stages": maybe(st.lists(st.text(max_size=6), max_size=3)),
    "optional": maybe(st.booleans()),
}, most=6))


def configs(source: str):
    """A config over ``source``: the known top-level keys, valid or not, and unknown ones."""
    return settings_of({
        "source": maybe(st.just(source), odds=9),
        "preset": maybe(st.sampled_from(["salesforce", "hubspot", "zoho"])),
        "warehouse": maybe(st.just("wh-by-config")),
        "snapshot_date": maybe(st.dates(min_value=dt.date(1900, 1, 1))),
        "currency": maybe(st.sampled_from(["USD", "EUR", "dollars"])),
        "rates": maybe(st.dictionaries(st.sampled_from(["EUR", "USD", "eur", "X"]),
                                       maybe(st.floats(0, 10)), max_size=2)
                       | settings_of({"file": maybe(st.just("rates.csv")), "dated": scalars,
                                      "optional": maybe(st.booleans())}, required=("file",))),
        "timezone": maybe(st.sampled_from(["UTC", "Europe/Berlin", "Mars/Olympus"])),
        "plausible_dates": maybe(settings_of({
            "earliest": maybe(st.dates(min_value=dt.date(1, 1, 1))),
            "latest": maybe(st.dates(min_value=dt.date(1, 1, 1))),
            "years_ahead": maybe(st.integers(-5, 2000))})),
        "defaults": maybe(settings_of(read_settings)),
        "tables": maybe(settings_of({name: table_settings for name in TABLES},
                                    required=("orders",), most=2), odds=6)
        | st.dictionaries(keys, table_settings, max_size=2),
    }, required=("source", "tables"), most=3)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("config-properties") / "src"
    folder.mkdir()
    (folder / "orders.csv").write_text(ORDERS_CSV, encoding="utf-8")
    (folder / "teams.csv").write_text(TEAMS_CSV, encoding="utf-8")
    return folder


# Under ~30 s on this machine; most configs stop in the loader, the rest run a 4-row ingest.
@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_any_config_exits_0_or_2_never_a_traceback(source, data):
    config = data.draw(configs(str(source)), label="config")
    work = Path(tempfile.mkdtemp(prefix="crmkit-config-property-"))
    try:
        path = work / "crm.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        try:
            audit = ingest(resolve_config(config=path), work / "wh", force=True)
        except CrmkitError:
            return  # exit 2, with crmkit's own message
        assert audit["reconciled"] is True, audit["tables"]  # else exit 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
