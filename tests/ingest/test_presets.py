"""The salesforce and hubspot presets on exports shaped like the real ones
(tests/ingest/crm_exports.py): every row accounted for, deleted records quarantined with
their reason, empty references read as missing, owners by name, money converted with the
export's rates or totalled per currency without them, absent objects skipped and extra
objects ignored. Expected figures come from the records the writers wrote."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
import yaml

from crmkit.exceptions import ConfigError, SchemaError
from crmkit.ingest import ingest, resolve_config
from crmkit.schema import TABLES
from tests.ingest.crm_exports import (EMPTY_KEY, HUBSPOT_RATES, HUBSPOT_TABLES, ISO_Z,
                                      SALESFORCE_OBJECTS, SALESFORCE_TABLES, SPACED,
                                      write_hubspot_export, write_salesforce_export)

PRESETS = Path(__file__).resolve().parents[2] / "crmkit" / "presets"
DELETED = "deleted in the CRM (IsDeleted)"


def ingest_preset(source: Path, preset: str, warehouse: Path) -> dict:
    return ingest(resolve_config(source=source, preset=preset), warehouse)


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmkit", *args], capture_output=True,
                          text=True)


def money_in(record) -> set[float]:
    """Every number in an audit record, to two decimals, wherever the audit puts it."""
    if isinstance(record, dict):
        record = list(record.values())
    if isinstance(record, list):
        return set().union(*(money_in(v) for v in record))
    if isinstance(record, (int, float)) and not isinstance(record, bool):
        return {round(float(record), 2)}
    return set()


# -- the preset files ------------------------------------------------------------------

TOP_SETTINGS = {"warehouse", "snapshot_date", "currency", "rates", "defaults", "tables"}
TABLE_SETTINGS = {"file", "table", "sheet", "format", "encoding", "delimiter", "decimal",
                  "thousands", "date_format", "null_values", "columns", "derive",
                  "status_rules", "rules", "unique", "lookups", "stages", "derive_from",
                  "optional"}
LOOKUP_SETTINGS = {"file", "table", "key", "on", "columns", "name", "match", "optional", "pick",
                   "encoding", "delimiter", "decimal", "thousands", "date_format",
                   "null_values", "sheet", "format"}


@pytest.mark.parametrize("preset", ["salesforce", "hubspot"])
def test_presets_use_only_documented_settings(preset):
    """docs/config.md's settings, canonical tables and columns, no source, every table
    optional (a file absent from the export is simply absent)."""
    raw = yaml.safe_load((PRESETS / f"{preset}.yaml").read_text(encoding="utf-8"))
    assert "source" not in raw
    assert set(raw) <= TOP_SETTINGS, set(raw) - TOP_SETTINGS
    for name, spec in raw["tables"].items():
        assert name in TABLES
        assert set(spec) <= TABLE_SETTINGS, (name, set(spec) - TABLE_SETTINGS)
        assert spec["optional"] is True and spec["file"], name
        table = TABLES[name]
        for column, source in spec["columns"].items():
            assert table.canonical_name(column) == column, (name, column)
            assert isinstance(source, (str, list)) or {"column"} <= set(source), (name, column)
        assert set(table.required) <= set(spec["columns"]), name
        for lookup in spec.get("lookups", []):
            assert set(lookup) <= LOOKUP_SETTINGS, lookup  # "on" quoted: YAML reads on as true


# -- Salesforce ------------------------------------------------------------------------

@pytest.fixture
def salesforce(tmp_path):
    return write_salesforce_export(tmp_path / "export")


@pytest.mark.parametrize("encoding,datetime_format,booleans", [
    ("cp1252", ISO_Z, ("1", "0")),
    ("utf-8", SPACED, ("true", "false")),
])
def test_salesforce_every_row_accounted_for(tmp_path, encoding, datetime_format, booleans):
    export = write_salesforce_export(tmp_path / "export", encoding=encoding,
                                     datetime_format=datetime_format, booleans=booleans)
    audit = ingest_preset(export.folder, "salesforce", tmp_path / "wh")

    assert audit["reconciled"] is True
    # Contact.csv and Task.csv are ignored (OpportunityStage and the rates are read).
    assert set(audit["tables"]) == set(SALESFORCE_TABLES)
    assert {"contacts", "tasks", "contact", "task"}.isdisjoint(
        r[0] for r in query(tmp_path / "wh", "SHOW TABLES"))
    for table, obj in SALESFORCE_TABLES.items():
        record = audit["tables"][table]
        assert record["rows_in"] == export.rows[obj], table
        assert record["kept"] + record["flagged"] + record["quarantined"] == export.rows[obj]

    deals = audit["tables"]["opportunities"]
    assert deals["reasons"] == {DELETED: export.deleted["Opportunity"]} == {DELETED: 1}
    assert deals["flags"] == {"no_customer": export.deals_without_account}
    (deleted,) = [r["Id"] for r in export.records["Opportunity"] if r["IsDeleted"] == booleans[0]]
    rejected = query(tmp_path / "wh", "SELECT reason, record FROM rejects "
                                      "WHERE table_name = 'opportunities'")
    assert [(reason, json.loads(record)["Id"]) for reason, record in rejected] == \
        [(DELETED, deleted)]
    assert query(tmp_path / "wh", f"SELECT count(*) FROM opportunities "
                                  f"WHERE opportunity_id = '{deleted}'") == [(0,)]

    # A planned campaign has a budget and no actual cost yet: its cost is the budget.
    assert export.campaigns_without_actual_cost >= 1
    assert audit["tables"]["campaigns"]["columns"]["cost"] == "ActualCost or BudgetedCost"
    for table in ("customers", "leads", "tickets", "campaigns"):
        assert audit["tables"][table]["quarantined"] == 0, audit["tables"][table]["reasons"]
    assert audit["tables"]["tickets"]["flags"] == {"no_customer": export.cases_without_account}

    # Windows-1252 text read as such (’ – € are where Latin-1 has control characters).
    names = {r[0] for r in query(tmp_path / "wh", "SELECT name FROM customers")}
    assert {"O’Brien Logistics Ltd", "Škoda Díly s.r.o.", "Cœur de Lion SA",
            "Globex – Europe"} <= names
    assert ("Rahmenvertrag 2024 (€ 50k Budget)",) in query(
        tmp_path / "wh", "SELECT name FROM opportunities")


def test_salesforce_text_with_line_breaks(tmp_path, salesforce):
    """Data Export keeps a field's line breaks (inside quotes) unless "Replace carriage
    returns with spaces" is ticked: a multi-line street or description is one value."""
    audit = ingest_preset(salesforce.folder, "salesforce", tmp_path / "wh")
    wh = tmp_path / "wh"

    assert audit["tables"]["customers"]["rows_in"] == salesforce.rows["Account"]
    assert ("Hauptstraße 1\n2. Etage",) in query(wh, "SELECT billing_street FROM customers")
    assert query(wh, "SELECT description FROM opportunities WHERE description IS NOT NULL") \
        == [('Rollout in 3 sites,\nphase 2 "to be confirmed"',)]


def test_salesforce_empty_references_are_missing(tmp_path, salesforce):
    audit = ingest_preset(salesforce.folder, "salesforce", tmp_path / "wh")
    wh = tmp_path / "wh"

    for record in audit["tables"].values():
        assert not any(r.startswith("unknown ") for r in record["reasons"]), record["reasons"]
    assert query(wh, "SELECT count(*) FROM opportunities WHERE campaign_id IS NULL") == \
        [(salesforce.deals_without_campaign,)]
    assert query(wh, "SELECT count(*) FROM opportunities WHERE customer_id IS NULL") == \
        [(salesforce.deals_without_account,)]
    # Unconverted leads point at the empty key: no customer, and not an unknown one.
    assert query(wh, "SELECT count(*) FILTER (WHERE converted), "
                     "count(*) FILTER (WHERE customer_id IS NOT NULL), "
                     "count(*) FILTER (WHERE converted_date IS NOT NULL) FROM leads") == \
        [(salesforce.converted_leads,) * 3]
    for table in ("opportunities", "leads", "tickets", "campaigns", "customers"):
        columns = [r[0] for r in query(wh, f"DESCRIBE {table}")]
        for column in columns:
            assert query(wh, f'SELECT count(*) FROM {table} WHERE CAST("{column}" AS VARCHAR)'
                             f" IN ('{EMPTY_KEY}', '{EMPTY_KEY[:15]}')") == [(0,)], \
                (table, column)


def test_salesforce_outcomes_and_owner_names(tmp_path, salesforce):
    ingest_preset(salesforce.folder, "salesforce", tmp_path / "wh")
    wh = tmp_path / "wh"

    assert dict(query(wh, "SELECT outcome, count(*) FROM opportunities GROUP BY 1")) == \
        salesforce.outcomes
    assert dict(query(wh, "SELECT opportunity_id, outcome FROM opportunities")) == \
        salesforce.deal_outcomes
    assert dict(query(wh, "SELECT opportunity_id, owner FROM opportunities")) == \
        salesforce.deal_owners
    assert "Amélie Dubois" in salesforce.deal_owners.values()
    # A lead owned by a queue (not a user) keeps an empty owner.
    assert dict(query(wh, "SELECT lead_id, owner FROM leads")) == salesforce.lead_owners
    assert query(wh, "SELECT count(*) FROM leads WHERE owner IS NULL") == \
        [(salesforce.queue_owned_leads,)]


def _dated_rate(export, currency: str, day: str) -> float:
    """Report-currency units per unit of ``currency`` on ``day``, from the export's
    DatedConversionRate rows (per corporate unit; the corporate currency is the report's)."""
    for row in export.records["DatedConversionRate"]:
        if row["IsoCode"] == currency and row["StartDate"] <= day and \
                (not row["NextStartDate"] or day < row["NextStartDate"]):
            return 1 / float(row["ConversionRate"])
    raise AssertionError((currency, day))


def test_salesforce_amounts_converted_with_currency_type(tmp_path, salesforce):
    audit = ingest_preset(salesforce.folder, "salesforce", tmp_path / "wh")
    wh = tmp_path / "wh"
    close = {r["Id"]: r["CloseDate"] for r in salesforce.records["Opportunity"]}

    rows = query(wh, "SELECT opportunity_id, amount, amount_original, currency, outcome "
                     "FROM opportunities")
    assert len(rows) == len(salesforce.deal_amounts)
    expected_won = 0.0
    for deal, amount, original, currency, outcome in rows:
        written, written_currency = salesforce.deal_amounts[deal]
        assert currency == written_currency, deal
        if written is None:
            assert amount is None and original is None, deal
            continue
        assert original == pytest.approx(written), deal
        # Opportunities convert at the dated rate of their close date (advanced currency
        # management), not at CurrencyType's static rate.
        expected = written * _dated_rate(salesforce, currency, close[deal])
        assert amount == pytest.approx(expected), deal
        expected_won += expected if outcome == "won" else 0.0
    # EUR at a ConversionRate of 0.92 (EUR per USD, the corporate currency).
    assert salesforce.rates["EUR"] == pytest.approx(1 / 0.92)
    (won,) = query(wh, "SELECT sum(amount) FROM opportunities WHERE outcome = 'won'")[0]
    assert won == pytest.approx(expected_won)
    assert "at the dated rate of their close_date" in \
        audit["tables"]["opportunities"]["derived"]["amount"]
    assert audit["currency"]["rates"]["EUR"] == pytest.approx(1 / 0.92)
    assert audit["reconciled"] is True


def test_salesforce_static_rates_without_dated_ones(tmp_path):
    export = write_salesforce_export(tmp_path / "export")
    (export.folder / "DatedConversionRate.csv").unlink()
    ingest_preset(export.folder, "salesforce", tmp_path / "wh")
    rows = query(tmp_path / "wh", "SELECT opportunity_id, amount FROM opportunities "
                                  "WHERE amount IS NOT NULL")
    for deal, amount in rows:
        written, currency = export.deal_amounts[deal]
        assert amount == pytest.approx(export.converted(written, currency)), deal
    (won,) = query(tmp_path / "wh", "SELECT sum(amount) FROM opportunities "
                                    "WHERE outcome = 'won'")[0]
    assert won == pytest.approx(export.won_amount_converted)


def test_salesforce_without_currency_type_totals_money_per_currency(tmp_path):
    export = write_salesforce_export(tmp_path / "export", currency_table=False)
    assert "CurrencyType" not in export.files and not export.rates
    audit = ingest_preset(export.folder, "salesforce", tmp_path / "wh")
    wh = tmp_path / "wh"

    rows = dict(query(wh, "SELECT opportunity_id, amount FROM opportunities"))
    assert rows == {deal: amount for deal, (amount, _) in export.deal_amounts.items()}
    won = dict(query(wh, "SELECT currency, sum(amount) FROM opportunities "
                         "WHERE outcome = 'won' GROUP BY 1"))
    assert won == pytest.approx(export.won_amount)
    # The audit totals money per currency and never adds USD to EUR.
    numbers = money_in(audit["tables"]["opportunities"])
    assert round(sum(export.amount_in.values()), 2) not in numbers
    for currency, total in export.amount_in.items():
        assert round(total, 2) in numbers, currency


@pytest.mark.parametrize("absent", ["Case", "Campaign", "Lead", "Account"])
def test_salesforce_object_absent_from_the_export_is_skipped(tmp_path, absent):
    export = write_salesforce_export(
        tmp_path / "export", objects=tuple(o for o in SALESFORCE_OBJECTS if o != absent))
    audit = ingest_preset(export.folder, "salesforce", tmp_path / "wh")

    table = {obj: t for t, obj in SALESFORCE_TABLES.items()}[absent]
    assert set(audit["tables"]) - {table} == set(SALESFORCE_TABLES) - {table}
    # Not loaded from anywhere (customers may be derived from the deals, and say so).
    assert table not in audit["tables"] or audit["tables"][table].get("derived_from")
    assert audit["reconciled"] is True
    assert audit["tables"]["opportunities"]["rows_in"] == export.rows["Opportunity"]
    # A reference to an object the export does not hold is not checked.
    for record in audit["tables"].values():
        assert not any(r.startswith("unknown ") for r in record["reasons"])


def test_salesforce_export_without_users_keeps_owners_empty(tmp_path):
    export = write_salesforce_export(
        tmp_path / "export", objects=tuple(o for o in SALESFORCE_OBJECTS if o != "User"))
    audit = ingest_preset(export.folder, "salesforce", tmp_path / "wh")

    assert audit["reconciled"] is True
    assert query(tmp_path / "wh", "SELECT count(*), count(owner) FROM opportunities") == \
        [(len(export.deal_owners), 0)]


def test_salesforce_preset_on_the_command_line(tmp_path, salesforce):
    done = cli("ingest", "--source", str(salesforce.folder), "--preset", "salesforce",
               "--warehouse", str(tmp_path / "wh"))
    assert done.returncode == 0, done.stderr
    assert "every row accounted for" in done.stdout
    assert f"quarantined: {DELETED} 1" in done.stdout
    audit = json.loads((tmp_path / "wh" / "audit.json").read_text(encoding="utf-8"))
    assert audit["tables"]["opportunities"]["rows_in"] == salesforce.rows["Opportunity"]
    assert query(tmp_path / "wh", "SELECT count(*) FROM opportunities WHERE owner = "
                                  "'Jürgen Weiß'") == \
        [(sum(o == "Jürgen Weiß" for o in salesforce.deal_owners.values()),)]


def test_config_settings_override_the_preset_column_by_column(tmp_path, salesforce):
    config = tmp_path / "crm.yaml"
    config.write_text(textwrap.dedent("""\
        source: export
        preset: salesforce
        tables:
          opportunities:
            columns:
              loss_reason: Loss_Reason__c   # a custom field of this org
        """), encoding="utf-8")
    ingest(resolve_config(config), tmp_path / "wh")
    wh = tmp_path / "wh"

    lost = {r["Id"]: r["Loss_Reason__c"] for r in salesforce.records["Opportunity"]
            if r["StageName"] == "Closed Lost"}
    assert dict(query(wh, "SELECT opportunity_id, loss_reason FROM opportunities "
                          "WHERE outcome = 'lost'")) == lost
    # The preset's other columns and its lookup still apply.
    assert dict(query(wh, "SELECT opportunity_id, owner FROM opportunities")) == \
        salesforce.deal_owners


def test_unknown_preset_lists_the_presets(tmp_path, salesforce):
    with pytest.raises(ConfigError, match=r"(?s)zoho.*hubspot.*salesforce"):
        resolve_config(source=salesforce.folder, preset="zoho")


# -- HubSpot ---------------------------------------------------------------------------

@pytest.fixture
def hubspot(tmp_path):
    return write_hubspot_export(tmp_path / "export")


def test_hubspot_every_row_accounted_for(tmp_path, hubspot):
    audit = ingest_preset(hubspot.folder, "hubspot", tmp_path / "wh")
    wh = tmp_path / "wh"

    assert audit["reconciled"] is True
    assert set(audit["tables"]) == set(HUBSPOT_TABLES)
    for table, obj in HUBSPOT_TABLES.items():
        record = audit["tables"][table]
        assert record["rows_in"] == hubspot.rows[obj], table
        assert record["quarantined"] == 0, (table, record["reasons"])
    assert audit["tables"]["opportunities"]["flags"] == \
        {"no_customer": hubspot.deals_without_company}
    # Tickets exported without associations have no customer column: nothing to flag.
    assert audit["tables"]["tickets"]["flags"] == {}

    # Closed Won / Closed won (a second pipeline) are won, Closed Lost / lost are lost.
    assert dict(query(wh, "SELECT opportunity_id, outcome FROM opportunities")) == \
        hubspot.deal_outcomes
    assert dict(query(wh, "SELECT outcome, count(*) FROM opportunities GROUP BY 1")) == \
        hubspot.outcomes
    assert dict(query(wh, "SELECT opportunity_id, owner FROM opportunities")) == \
        hubspot.deal_owners
    assert query(wh, "SELECT count(*) FILTER (WHERE converted), "
                     "count(*) FILTER (WHERE converted_date IS NOT NULL) FROM leads") == \
        [(hubspot.customers, hubspot.customers)]
    created = query(wh, "SELECT strftime(created_date, '%Y-%m-%d %H:%M') FROM opportunities "
                        "ORDER BY source_row LIMIT 1")
    assert created == [(hubspot.records["deals"][0]["Create Date"],)]


def test_hubspot_without_rates_totals_money_per_currency(tmp_path, hubspot):
    audit = ingest_preset(hubspot.folder, "hubspot", tmp_path / "wh")
    wh = tmp_path / "wh"

    assert dict(query(wh, "SELECT opportunity_id, currency FROM opportunities")) == \
        {deal: currency for deal, (_, currency) in hubspot.deal_amounts.items()}
    won = dict(query(wh, "SELECT currency, sum(amount) FROM opportunities "
                         "WHERE outcome = 'won' GROUP BY 1"))
    assert won == pytest.approx(hubspot.won_amount)
    numbers = money_in(audit["tables"]["opportunities"])
    assert round(sum(hubspot.amount_in.values()), 2) not in numbers
    for currency, total in hubspot.amount_in.items():
        assert round(total, 2) in numbers, currency


def test_hubspot_rates_from_a_config(tmp_path, hubspot):
    """HubSpot exports no rates: a config gives them, over the preset."""
    config = tmp_path / "crm.yaml"
    config.write_text(f"source: export\npreset: hubspot\ncurrency: USD\n"
                      f"rates: {{EUR: {HUBSPOT_RATES['EUR']}}}\n", encoding="utf-8")
    ingest(resolve_config(config), tmp_path / "wh")

    rows = query(tmp_path / "wh", "SELECT amount, amount_original, currency, "
                                  "amount_in_company_currency FROM opportunities "
                                  "WHERE amount IS NOT NULL")
    assert len(rows) == sum(a is not None for a, _ in hubspot.deal_amounts.values())
    for amount, original, currency, company_amount in rows:
        assert amount == pytest.approx(original * HUBSPOT_RATES[currency])
        # HubSpot's own conversion, kept as an attribute, agrees.
        assert amount == pytest.approx(float(company_amount), abs=0.01)


def test_hubspot_preset_on_the_command_line(tmp_path):
    export = write_hubspot_export(tmp_path / "export", currencies=("EUR",),
                                  objects=("deals", "companies"))
    assert "Currency" not in export.records["deals"][0]
    done = cli("ingest", "--source", str(export.folder), "--preset", "hubspot",
               "--warehouse", str(tmp_path / "wh"))
    assert done.returncode == 0, done.stderr
    assert "every row accounted for" in done.stdout
    audit = json.loads((tmp_path / "wh" / "audit.json").read_text(encoding="utf-8"))
    assert set(audit["tables"]) == {"customers", "opportunities"}
    assert audit["tables"]["opportunities"]["rows_in"] == export.rows["deals"]
    totals = audit["tables"]["opportunities"]["control_totals"]
    assert totals["in"] == pytest.approx(export.amount_in["EUR"], abs=0.01)


def test_salesforce_stage_order_from_opportunity_stage(tmp_path, salesforce):
    ingest_preset(salesforce.folder, "salesforce", tmp_path / "wh")
    order = dict(query(tmp_path / "wh", "SELECT DISTINCT stage, stage_order FROM opportunities"))
    written = {r["MasterLabel"]: int(r["SortOrder"])
               for r in salesforce.records["OpportunityStage"]}
    assert order and all(order[stage] == written[stage] for stage in order)
    assert order.get("Prospecting", 0) < order.get("Closed Won", 99)


def test_salesforce_leads_take_their_first_campaign_membership(tmp_path):
    """CampaignMember.csv has several memberships per lead (the later one written first):
    the lead is credited to the membership created first; leads never reached keep no
    campaign; the audit says how many memberships were left out."""
    export = write_salesforce_export(tmp_path / "sf")
    wh = tmp_path / "wh"
    ingest(resolve_config(source=str(export.folder), preset="salesforce"), wh)
    got = {lead: campaign for lead, campaign in query(
        wh, "SELECT lead_id, campaign_id FROM leads") if campaign is not None}
    assert got == export.lead_first_campaign and len(got) >= 20
    audit = json.loads((wh / "audit.json").read_text(encoding="utf-8"))
    (record,) = [r for r in audit["tables"]["leads"]["lookups"]
                 if r["input"] == "CampaignMember.csv"]
    members = len(export.records["CampaignMember"])
    assert record["pick"] == {"first": "CreatedDate"}
    assert record["rows_left_out"] == members - len(got)


def test_a_repeated_lookup_key_suggests_pick(tmp_path):
    export = write_salesforce_export(tmp_path / "sf")
    config = tmp_path / "crm.yaml"
    config.write_text(f"""
source: {export.folder}
preset: salesforce
tables:
  leads:
    lookups:
      - {{file: CampaignMember.csv, key: Id, "on": LeadId, columns: {{c: CampaignId}}}}
""", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"LeadId repeats .*set `pick: \{first: COLUMN\}`"):
        ingest(resolve_config(str(config), None), tmp_path / "wh")
