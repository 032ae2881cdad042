"""Every setting of the config reference (docs/config.md) takes effect, or stops ingest with a
message that names it. Nothing is silently ignored."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

from crmkit.config import load_config
from crmkit.exceptions import ConfigError, SchemaError
from crmkit.ingest import format_audit, ingest

DEALS_CSV = """\
Deal,Account,Agent,Stage,Created,Closed,Value,Cur,Campaign,Deleted,Email
D1,A1,Ann,Won,03/01/2024,03/20/2024,100,USD,C1,0,a@x.com
D2,A2,Bob,Lost,03/02/2024,03/25/2024,200,EUR,000000000000000AAA,0,b@x.com
D3,A1,Ann,Engaging,03/03/2024,,,USD,N/A,0,c@test.example
D4,,Bob,Prospecting,,,,USD,,0,d@x.com
D5,A2,Cid,Won,03/05/2024,04/01/2024,300,EUR,C1,1,e@x.com
"""

TEAMS_CSV = """\
agent,manager,office,revenue
Ann,Mia,North,10
Bob,Mia,South,20
"""

ACCOUNTS_CSV = """\
account,sector
A1,retail
A2,software
"""


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def config(tmp_path: Path, body: str) -> Path:
    return write(tmp_path, "crm.yaml", "source: src\n" + textwrap.dedent(body))


def run(tmp_path: Path, body: str) -> tuple[dict, Path]:
    wh = tmp_path / "wh"
    return ingest(load_config(config(tmp_path, body)), wh, force=True), wh


def rows(wh: Path, sql: str):
    with duckdb.connect(str(wh / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def deals(tmp_path):
    write(tmp_path / "src", "deals.csv", DEALS_CSV)
    write(tmp_path / "src", "teams.csv", TEAMS_CSV)
    write(tmp_path / "src", "accounts.csv", ACCOUNTS_CSV)
    return tmp_path


DEALS = """\
defaults:
  date_format: "%m/%d/%Y"
tables:
  opportunities:
    file: deals.csv
    columns:
      opportunity_id: Deal
      customer_id: Account
      owner: Agent
      stage: Stage
      created_date: Created
      close_date: Closed
      amount: Value
      currency: Cur
"""


def test_opportunities_outcome_from_the_stage_and_open_deals_kept(deals):
    audit, wh = run(deals, DEALS + "    null_values: [\"000000000000000AAA\", \"N/A\"]\n")
    record = audit["tables"]["opportunities"]
    assert record["rows_in"] == 5 and record["quarantined"] == 0
    assert record["flags"] == {"no_created_date": 1, "no_customer": 1}
    assert rows(wh, "SELECT opportunity_id, outcome, won, closed FROM opportunities "
                    "ORDER BY 1") == [("D1", "won", True, True), ("D2", "lost", False, True),
                                      ("D3", "open", None, False), ("D4", "open", None, False),
                                      ("D5", "won", True, True)]
    assert "from the stage" in record["derived"]["outcome"]


def test_value_map_default_and_constant(deals):
    audit, wh = run(deals, DEALS.replace("      stage: Stage\n", """\
      stage: Stage
      outcome: {column: Stage, values: {Won: won, lost: lost}, default: open}
      type: {value: New Business}
"""))
    assert rows(wh, "SELECT outcome, count(*) FROM opportunities GROUP BY 1 ORDER BY 1") == [
        ("lost", 1), ("open", 2), ("won", 2)]  # `lost` matched Lost ignoring case
    assert rows(wh, "SELECT DISTINCT type FROM opportunities") == [("New Business",)]
    assert audit["tables"]["opportunities"]["columns"]["type"] == "= 'New Business'"


def test_value_map_to_null_and_to_booleans(deals):
    _, wh = run(deals, DEALS.replace("      stage: Stage\n", """\
      stage: Stage
      won: {column: Stage, values: {Won: true, Lost: false, Engaging: null, Prospecting: null}}
"""))
    assert rows(wh, "SELECT opportunity_id, won, outcome FROM opportunities ORDER BY 1") == [
        ("D1", True, "won"), ("D2", False, "lost"), ("D3", None, "open"),
        ("D4", None, "open"), ("D5", True, "won")]


def test_a_typo_in_a_value_map_stops_with_the_values_found(deals):
    with pytest.raises(ConfigError, match=r"columns\.outcome\.values: 'Wonn' matches no value "
                       r"of 'Stage'.*'Won' \(2 rows\)"):
        run(deals, DEALS.replace("      stage: Stage\n", """\
      stage: Stage
      outcome: {column: Stage, values: {Wonn: won, Lost: lost, Engaging: open, Prospecting: open}}
"""))


def test_unmapped_value_of_a_closed_set_is_quarantined_as_unknown(deals):
    audit, _ = run(deals, DEALS.replace("      stage: Stage\n", """\
      outcome: {column: Stage, values: {Won: won, Lost: lost, Engaging: open}}
"""))
    assert audit["tables"]["opportunities"]["reasons"] == {"unknown outcome": 1}  # Prospecting


def test_null_values_and_the_placeholder_id(deals):
    body = DEALS + "      campaign_id: Campaign\n    null_values: [\"000000000000000AAA\", \"N/A\"]\n"
    write(deals / "src", "campaigns.csv", "campaign_id,cost\nC1,10\n")
    audit, wh = run(deals, body + "  campaigns:\n    file: campaigns.csv\n")
    assert audit["tables"]["opportunities"]["reasons"] == {}
    assert rows(wh, "SELECT count(*) FROM opportunities WHERE campaign_id IS NULL") == [(3,)]
    # Without null_values the placeholder is an id that names no campaign: the deal is kept,
    # flagged (its attribution is lost, not the sale).
    audit, _ = run(deals, body.replace("    null_values: [\"000000000000000AAA\", \"N/A\"]\n", "")
                   + "  campaigns:\n    file: campaigns.csv\n")
    assert audit["tables"]["opportunities"]["reasons"] == {}
    assert audit["tables"]["opportunities"]["flags"]["unknown_campaign"] == 2


def test_defaults_null_values_add_to_a_tables(deals):
    cfg = load_config(config(deals, DEALS.replace(
        'defaults:\n', 'defaults:\n  null_values: ["-"]\n') + '    null_values: ["N/A"]\n'))
    assert cfg.tables["opportunities"].null_values == ["-", "N/A"]


def test_rules_quarantine_and_flag_on_source_columns(deals):
    audit, wh = run(deals, DEALS + """\
    rules:
      Deleted: {equals: "1", quarantine: deleted in the CRM}
      Email: {matches: ".*@test\\\\.example", flag: test_account}
      amount: {max: 250}
""")
    record = audit["tables"]["opportunities"]
    assert record["reasons"] == {"deleted in the CRM": 1}  # D5 (also above 250: first rule wins)
    assert record["flags"]["test_account"] == 1
    assert rows(wh, "SELECT flags FROM opportunities WHERE opportunity_id = 'D3'") == [
        ("test_account",)]
    audit, _ = run(deals, DEALS + "    rules:\n      amount: {max: 250}\n")
    assert audit["tables"]["opportunities"]["reasons"] == {"amount above 250": 1}


def test_rule_tests_in_startswith_negative_and_ignore_case(deals):
    audit, _ = run(deals, DEALS + """\
    rules:
      Agent: [{in: [cid], ignore_case: true, quarantine: left the company},
              {startswith: B, flag: team_b}]
      Value: {negative: true, quarantine: negative value}
""")
    record = audit["tables"]["opportunities"]
    assert record["reasons"] == {"left the company": 1}
    assert record["flags"]["team_b"] == 2


def test_a_rule_on_a_column_the_source_lacks_stops_unless_optional(deals):
    with pytest.raises(SchemaError, match=r"rules\.IsDeleted: no column 'IsDeleted' in "
                       r"deals\.csv; columns found: Deal, Account"):
        run(deals, DEALS + "    rules:\n      IsDeleted: {equals: '1', quarantine: deleted}\n")
    audit, _ = run(deals, DEALS + "    rules:\n      IsDeleted: {equals: '1', quarantine: "
                                  "deleted, optional: true}\n")
    assert audit["tables"]["opportunities"]["rules_not_applied"] == [
        "rules.IsDeleted: no column 'IsDeleted'"]
    assert "not applied (optional, column absent): rules.IsDeleted" in format_audit(audit)


@pytest.mark.parametrize("rule,message", [
    ("{equals: 1}", "say what happens to matching rows"),
    ("{equals: 1, in: [1], flag: x}", "one test per rule"),
    ("{min: 0, flag: x}", "`flag` applies to tests"),
    ("{equals: 1, flag: Not A Flag}", "a flag is a short snake_case name"),
    ("{matches: '(', flag: x}", "is not a regular expression"),
    ("{equal: 1, flag: x}", r"unknown setting\(s\) \['equal'\]"),
    ("{min: zero}", "is not a number"),
    ("{}", "give a range"),
])
def test_malformed_rules_name_the_rule(deals, rule, message):
    with pytest.raises(ConfigError, match=r"tables\.opportunities\.rules\.Value.*" + message):
        run(deals, DEALS + f"    rules:\n      Value: {rule}\n")


def test_status_rules_on_customers_and_leads(tmp_path):
    write(tmp_path / "src", "subs.csv", "id,Left,Plan\n1,Yes,Basic\n2,No,Pro\n3,No,Basic\n")
    write(tmp_path / "src", "leads.csv",
          "lead_id,created_date,state\nL1,2024-01-01,Converted\nL2,2024-01-02,dead\n")
    audit, wh = run(tmp_path, """\
tables:
  customers:
    file: subs.csv
    columns: {customer_id: id}
    status_rules:
      - {column: Left, equals: "Yes", status: churned}
      - {column: Plan, in: [Basic, Pro], status: active}
  leads:
    file: leads.csv
    status_rules:
      - {column: state, matches: "(?i)dead|lost", status: disqualified}
      - {column: state, startswith: Conv, status: converted}
""")
    assert rows(wh, "SELECT customer_id, status, churned FROM customers ORDER BY 1") == [
        ("1", "churned", True), ("2", "active", False), ("3", "active", False)]
    assert rows(wh, "SELECT lead_id, status FROM leads ORDER BY 1") == [
        ("L1", "converted"), ("L2", "disqualified")]
    assert "from status" in audit["tables"]["customers"]["derived"]["churned"]


def test_status_rule_errors(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    for body, message in [
        ("status_rules: [{column: nope, equals: x, status: returned}]",
         r"status_rules\[0\]: no column 'nope' in orders\.csv"),
        ("status_rules: [{column: order_id, equals: x, status: lost}]",
         r"status 'lost'; use one of completed, cancelled, returned"),
        ("status_rules: [{column: order_id, status: returned}]", "name a test"),
    ]:
        with pytest.raises((ConfigError, SchemaError), match=message):
            run(tmp_path, f"tables:\n  orders:\n    {body}\n")
    write(tmp_path / "src", "campaigns.csv", "campaign_id,cost\nC1,1\n")
    with pytest.raises(ConfigError, match="campaigns has no status"):
        run(tmp_path, "tables:\n  orders: {}\n  campaigns:\n    status_rules: "
                      "[{column: cost, equals: '1', status: x}]\n")


def test_lookups_join_attributes_count_unmatched_and_rename(deals):
    audit, wh = run(deals, DEALS + """\
    lookups:
      - {file: teams.csv, key: Agent, on: agent, name: team}
      - {file: accounts.csv, key: customer_id, on: account, columns: {account_sector: sector}}
""")
    record = audit["tables"]["opportunities"]
    team, accounts = record["lookups"]
    assert (team["matched"], team["unmatched"], team["unmatched_keys"]) == (4, 1, {"Cid": 1})
    assert (accounts["matched"], accounts["rows_without_key"]) == (4, 1)
    assert record["attributes"]["team_revenue"] == "revenue"
    assert "revenue -> team_revenue" in record["renamed"]["team_revenue"]
    assert rows(wh, "SELECT opportunity_id, manager, office, account_sector FROM opportunities "
                    "ORDER BY 1") == [("D1", "Mia", "North", "retail"),
                                      ("D2", "Mia", "South", "software"),
                                      ("D3", "Mia", "North", "retail"),
                                      ("D4", "Mia", "South", None),
                                      ("D5", None, None, "software")]
    assert "lookup team (teams.csv, by Agent): 4 rows matched, 0 without a key, 1 unmatched " \
        "('Cid' 1)" in \
        format_audit(audit)


def test_a_lookup_column_is_mapped_only_by_name_in_the_config(deals):
    write(deals / "src", "users.csv", "agent,Name\nAnn,Ann Lee\nBob,Bob Roy\nCid,Cid Ho\n")
    body = DEALS.replace("      owner: Agent\n", "") + \
        "    lookups: [{file: users.csv, key: Agent, on: agent}]\n"
    _, wh = run(deals, body)
    assert rows(wh, "SELECT count(name), count(owner) FROM opportunities") == [(0, 0)]
    _, wh = run(deals, body.replace("      stage: Stage\n", "      stage: Stage\n      owner: Name\n"))
    assert rows(wh, "SELECT owner FROM opportunities ORDER BY 1") == [
        ("Ann Lee",), ("Ann Lee",), ("Bob Roy",), ("Bob Roy",), ("Cid Ho",)]


def test_loose_lookup_matching(deals):
    write(deals / "src", "agents.csv", "agent,grade\nANN ,senior\nb-o-b,junior\n")
    audit, _ = run(deals, DEALS + "    lookups: [{file: agents.csv, key: Agent, on: agent}]\n")
    assert audit["tables"]["opportunities"]["lookups"][0]["matched"] == 0
    audit, _ = run(deals, DEALS + "    lookups: [{file: agents.csv, key: Agent, on: agent, "
                                  "match: loose}]\n")
    assert audit["tables"]["opportunities"]["lookups"][0]["matched"] == 4


@pytest.mark.parametrize("lookup,error,message", [
    ("{file: teams.csv, key: agent_name, on: agent}", SchemaError,
     "key 'agent_name' is not a column of deals.csv"),
    ("{file: teams.csv, key: Agent, on: name}", SchemaError,
     "`on` 'name' is not a column of teams.csv; columns found: agent, manager"),
    ("{file: teams.csv, key: Agent, on: agent, columns: [boss]}", SchemaError,
     "'boss' not in teams.csv"),
    ("{file: nope.csv, key: Agent}", ConfigError, "lookup file not found"),
    ("{file: teams.csv, key: Agent, on: manager}", SchemaError,
     r"manager repeats 'Mia' \(2 rows\); a lookup needs one row per key"),
    ("{file: teams.csv, key: Agent, match: fuzzy}", ConfigError, "use exact or loose"),
    ("{file: teams.csv, kee: Agent}", ConfigError, r"unknown setting\(s\) \['kee'\]"),
])
def test_lookup_errors_name_the_setting(deals, lookup, error, message):
    with pytest.raises(error, match=message):
        run(deals, DEALS + f"    lookups: [{lookup}]\n")


def test_optional_lookup_and_table_files_are_skipped(deals):
    audit, _ = run(deals, DEALS + """\
    lookups: [{file: users.csv, key: Agent, optional: true}]
  tickets:
    file: Case.csv
    optional: true
""")
    assert "lookups" not in audit["tables"]["opportunities"]
    assert "tickets" not in audit["tables"]


def test_stages_order_the_pipeline_and_a_missing_stage_stops(deals):
    _, wh = run(deals, DEALS + "    stages: [Prospecting, Engaging, Won, Lost, Negotiation]\n")
    assert rows(wh, "SELECT DISTINCT stage, stage_order FROM opportunities ORDER BY 2") == [
        ("Prospecting", 1), ("Engaging", 2), ("Won", 3), ("Lost", 4)]
    with pytest.raises(ConfigError, match=r"stages does not list 'Engaging' \(1 rows\)"):
        run(deals, DEALS + "    stages: [Prospecting, Engagin, Won, Lost]\n")
    with pytest.raises(ConfigError, match="only opportunities and leads have stages"):
        run(deals, DEALS + "  customers:\n    file: accounts.csv\n    stages: [a]\n")


def test_currencies_without_rates_are_never_summed(deals):
    audit, _ = run(deals, DEALS)
    totals = audit["tables"]["opportunities"]["control_totals"]
    assert "in" not in totals
    assert totals["by_currency"]["USD"]["in"] == 100
    assert totals["by_currency"]["EUR"]["in"] == 500
    assert audit["currency"]["per_currency"] is True
    assert any("2 currencies (EUR, USD) and no exchange rates" in w for w in audit["warnings"])
    assert audit["reconciled"] is True
    assert "amount in EUR: in 500.00" in format_audit(audit)


def test_rates_convert_to_the_report_currency(deals):
    audit, wh = run(deals, "currency: USD\nrates: {EUR: 1.1}\n" + DEALS)
    assert rows(wh, "SELECT opportunity_id, amount, amount_original, currency FROM "
                    "opportunities WHERE amount IS NOT NULL ORDER BY 1") == [
        ("D1", 100.0, 100.0, "USD"), ("D2", 220.0, 200.0, "EUR"), ("D5", 330.0, 300.0, "EUR")]
    totals = audit["tables"]["opportunities"]["control_totals"]
    assert (totals["in"], totals["currency"]) == (650.0, "USD")
    assert totals["converted_from"] == {"EUR": 500.0, "USD": 100.0}
    assert audit["currency"]["rates"] == {"EUR": 1.1, "USD": 1.0}
    assert "1 EUR = 1.1 USD" in format_audit(audit)


def test_rates_from_a_salesforce_currency_file(deals):
    write(deals / "src", "CurrencyType.csv",
          "Id,IsoCode,ConversionRate,DecimalPlaces,IsActive,IsCorporate\n"
          "1,USD,1.0,2,true,true\n2,EUR,0.8,2,true,false\n")
    audit, wh = run(deals, "rates: {file: CurrencyType.csv}\n" + DEALS)
    assert rows(wh, "SELECT amount FROM opportunities WHERE opportunity_id = 'D2'") == [(250.0,)]
    assert audit["currency"]["report"] == "USD"
    assert audit["currency"]["rates_source"] == "CurrencyType.csv"


def test_rate_errors(deals):
    with pytest.raises(ConfigError, match=r"no exchange rate for EUR \(2 rows\)"):
        run(deals, "currency: USD\nrates: {GBP: 1.3}\n" + DEALS)
    with pytest.raises(ConfigError, match="rates are given but no report currency"):
        run(deals, "rates: {EUR: 1.1}\n" + DEALS)
    with pytest.raises(ConfigError, match=r"rates\.EUR: 'x'; use a positive number"):
        run(deals, "currency: USD\nrates: {EUR: x}\n" + DEALS)
    with pytest.raises(ConfigError, match="three-letter ISO code"):
        run(deals, "currency: dollars\n" + DEALS)


def test_snapshot_date_anchors_a_snapshot(tmp_path):
    write(tmp_path / "src", "subs.csv",
          "id,tenure,Churn,MonthlyCharges\n1,12,Yes,10\n2,0,No,20\n3,1.5,No,5\n")
    audit, wh = run(tmp_path, """\
snapshot_date: 2024-12-31
tables:
  customers:
    file: subs.csv
    columns: {customer_id: id}
""")
    assert rows(wh, "SELECT customer_id, CAST(signup_date AS DATE)::VARCHAR, "
                    "CAST(churn_date AS DATE)::VARCHAR, churned, status, monthly_revenue "
                    "FROM customers ORDER BY 1") == [
        ("1", "2023-12-31", "2024-12-31", True, "churned", 10.0),
        ("2", "2024-12-31", None, False, "active", 20.0),
        ("3", "2024-11-15", None, False, "active", 5.0)]  # 46 days
    record = audit["tables"]["customers"]
    assert record["snapshot_date"] == "2024-12-31"
    assert record["derived"]["signup_date"] == "snapshot date 2024-12-31 minus tenure_months"
    with pytest.raises(ConfigError, match="snapshot_date: 'end of year' is not a date"):
        run(tmp_path, "snapshot_date: end of year\ntables:\n  customers:\n    file: subs.csv\n")


def test_encoding_list_is_tried_in_order(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount,product\n"
                                          "1,2024-01-01,3,Café\n", encoding="cp1252")
    with pytest.raises(Exception, match="bytes that are not utf-8"):
        run(tmp_path, "tables:\n  orders: {}\n")
    _, wh = run(tmp_path, "tables:\n  orders:\n    encoding: [utf-8, cp1252]\n")
    assert rows(wh, "SELECT product FROM orders") == [("Café",)]


def test_aliases_map_and_old_names_still_load(tmp_path):
    write(tmp_path / "src", "leads.csv", "lead_id,created_date,won,closed_date\n"
                                         "L1,2024-01-01,true,2024-01-09\n"
                                         "L2,2024-01-02,false,2024-01-05\n")
    write(tmp_path / "src", "customers.csv", "customer_id\n1\n")
    audit, wh = run(tmp_path, "tables:\n  leads: {}\n  customers: {}\n")
    assert rows(wh, "SELECT lead_id, converted, CAST(converted_date AS DATE)::VARCHAR "
                    "FROM leads ORDER BY 1") == [("L1", True, "2024-01-09"),
                                                 ("L2", False, None)]


@pytest.mark.parametrize("body,message", [
    ("tables:\n  orders:\n    colums: {}\n", r"unknown setting\(s\) \['colums'\]"),
    ("tables:\n  orders:\n    columns: {order_id: {col: x}}\n",
     r"columns\.order_id: unknown setting\(s\) \['col'\]; valid: column, values, default, value"),
    ("tables:\n  orders:\n    columns: {order_id: {column: x, default: 1}}\n",
     "a default applies to values a `values` map does not name"),
    ("tables:\n  orders:\n    columns: {order_id: {value: 1, column: x}}\n",
     "a constant \\(`value`\\) takes no other setting"),
    ("tables:\n  orders:\n    columns: {won: x}\n", "'won' is not a canonical column of orders"),
    ("tables:\n  orders:\n    optional: maybe\n", "use true or false"),
    ("defaults: {encodng: utf-8}\ntables: {}\n", r"unknown default\(s\) \['encodng'\]"),
    ("presett: salesforce\n", r"unknown key\(s\) \['presett'\]"),
    ("preset: dynamics\n", "unknown preset 'dynamics'; presets:"),
])
def test_typos_stop_with_a_message_naming_them(tmp_path, body, message):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    with pytest.raises(ConfigError, match=message):
        run(tmp_path, body)


def test_tenure_in_days(tmp_path):
    write(tmp_path / "src", "customers.csv", "customer_id,tenure_days,churned\n1,365,N\n2,61,Y\n")
    audit, wh = run(tmp_path, "snapshot_date: 2024-12-31\ntables:\n  customers: {}\n")
    assert rows(wh, "SELECT customer_id, round(tenure_months, 2), "
                    "CAST(signup_date AS DATE)::VARCHAR, churned FROM customers ORDER BY 1") == [
        ("1", 11.99, "2024-01-01", False), ("2", 2.0, "2024-10-31", True)]
    assert "tenure_days" in audit["tables"]["customers"]["derived"]["signup_date"]


def test_a_list_of_columns_takes_the_first_with_a_value(tmp_path):
    write(tmp_path / "src", "campaigns.csv",
          "Id,ActualCost,BudgetedCost\nC1,100,90\nC2,,50\nC3,,\n")
    write(tmp_path / "src", "customers.csv", "customer_id\n1\n")
    audit, wh = run(tmp_path, """\
tables:
  customers: {}
  campaigns:
    file: campaigns.csv
    columns:
      campaign_id: Id
      cost: [ActualCost, BudgetedCost, PlannedCost]
""")
    # C3 has neither: kept without a cost (the campaigns report shows it as such)
    assert rows(wh, "SELECT campaign_id, cost FROM campaigns ORDER BY 1") == [
        ("C1", 100.0), ("C2", 50.0), ("C3", None)]
    assert audit["tables"]["campaigns"]["reasons"] == {}
    assert audit["tables"]["campaigns"]["columns"]["cost"] == "ActualCost or BudgetedCost"
    with pytest.raises(SchemaError, match="none of which campaigns.csv has"):
        run(tmp_path, "tables:\n  customers: {}\n  campaigns:\n    file: campaigns.csv\n"
                      "    columns: {campaign_id: Id, cost: [Cost, Spend]}\n")


def test_dated_rates_convert_opportunities_at_their_close_date(deals):
    write(deals / "src", "CurrencyType.csv",
          "Id,IsoCode,ConversionRate,IsCorporate\n1,USD,1.0,true\n2,EUR,0.8,false\n")
    write(deals / "src", "DatedConversionRate.csv",
          "Id,IsoCode,ConversionRate,StartDate,NextStartDate\n"
          "1,EUR,0.5,2024-03-01,2024-04-01\n2,EUR,0.25,2024-04-01,\n"
          "3,USD,1.0,2000-01-01,\n")
    audit, wh = run(deals, "rates: {file: CurrencyType.csv, dated: DatedConversionRate.csv}\n"
                    + DEALS)
    # D2: 200 EUR closed 2024-03-25 at 0.5 per USD; D5: 300 EUR closed 2024-04-01 at 0.25.
    assert rows(wh, "SELECT opportunity_id, amount FROM opportunities WHERE amount IS NOT "
                    "NULL ORDER BY 1") == [("D1", 100.0), ("D2", 400.0), ("D5", 1200.0)]
    assert "at the dated rate of their close_date" in \
        audit["tables"]["opportunities"]["derived"]["amount"]


def test_every_documented_setting_is_exercised_by_a_test():
    """Each setting in docs/config.md's tables appears in an ingest test config."""
    import re

    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "config.md").read_text(encoding="utf-8")
    settings = set()
    for line in doc.splitlines():
        if line.startswith("| `"):
            settings.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    tests = "".join(p.read_text(encoding="utf-8")
                    for p in (root / "tests" / "ingest").glob("test_*.py"))
    tests += (root / "examples" / "online_retail.yaml").read_text(encoding="utf-8")
    missing = sorted(s for s in settings if not re.search(rf"\b{s}\b\s*:", tests))
    assert len(settings) > 25 and not missing, missing


def test_format_and_sheet(tmp_path):
    import pandas as pd

    write(tmp_path / "src", "orders.export", "order_id;order_date;amount\n1;2024-01-01;3,5\n")
    _, wh = run(tmp_path, "tables:\n  orders:\n    file: orders.export\n    format: csv\n"
                          "    delimiter: \";\"\n    decimal: \",\"\n")
    assert rows(wh, "SELECT order_id, amount FROM orders") == [("1", 3.5)]
    with pd.ExcelWriter(tmp_path / "src" / "book.xlsx") as book:
        pd.DataFrame({"x": [1]}).to_excel(book, sheet_name="Notes", index=False)
        pd.DataFrame({"order_id": ["7"], "order_date": ["2024-02-01"], "amount": ["9"]}
                     ).to_excel(book, sheet_name="Orders", index=False)
    _, wh = run(tmp_path, "tables:\n  orders:\n    file: book.xlsx\n    sheet: Orders\n")
    assert rows(wh, "SELECT order_id, amount FROM orders") == [("7", 9.0)]


def test_a_snapshot_beside_dated_tables_is_dated_by_their_latest_date(tmp_path):
    write(tmp_path / "src", "customers.csv", "customer_id,tenure_months,churned\n1,12,Yes\n")
    write(tmp_path / "src", "tickets.csv", "ticket_id,opened_at,customer_id\n"
                                           "T1,2025-03-01,1\nT2,2025-06-30 10:00,1\n")
    audit, wh = run(tmp_path, "tables:\n  customers: {}\n  tickets: {}\n")
    record = audit["tables"]["customers"]
    assert record["snapshot_date"] == "2025-06-30"
    assert record["snapshot_date_from"] == "the latest date in the other tables"
    assert rows(wh, "SELECT CAST(signup_date AS DATE)::VARCHAR, CAST(churn_date AS DATE)::VARCHAR"
                    " FROM customers") == [("2024-06-30", "2025-06-30")]
    assert audit["tables"]["tickets"]["kept"] == 2  # rebuilt customers keep their children
    assert "snapshot date 2025-06-30: the latest date in the other tables" in format_audit(audit)


@pytest.mark.parametrize("mapping,message", [
    ("outcome: {column: Stage, values: {Won: won, Lost: lost, Engaging: opne}}",
     r"columns\.outcome\.values\.Engaging: 'opne' is not a value outcome can take; use one "
     r"of open, won, lost"),
    ("won: {column: Stage, values: {Won: ture, Lost: false}}",
     r"columns\.won\.values\.Won: 'ture' is not a value won can take"),
    ("outcome: {column: Stage, values: {Won: won}, default: opn}",
     r"columns\.outcome\.default: 'opn' is not a value"),
    ("probability: {column: Stage, values: {Won: hundred}}", "'hundred' is not a number"),
])
def test_value_map_targets_must_be_values_the_column_takes(deals, mapping, message):
    with pytest.raises(ConfigError, match=message):
        run(deals, DEALS.replace("      stage: Stage\n", f"      stage: Stage\n      {mapping}\n"))


def test_customers_no_status_rule_marks_are_active(tmp_path):
    write(tmp_path / "src", "subs.csv", "id,Left\n1,Yes\n2,No\n")
    _, wh = run(tmp_path, "tables:\n  customers:\n    file: subs.csv\n    columns: "
                          "{customer_id: id}\n    status_rules: [{column: Left, equals: \"Yes\","
                          " status: churned}]\n")
    assert rows(wh, "SELECT customer_id, status, churned FROM customers ORDER BY 1") == [
        ("1", "churned", True), ("2", "active", False)]


def test_a_report_currency_with_foreign_amounts_and_no_rates_stops(deals):
    with pytest.raises(ConfigError, match=r"the report currency is USD, but amounts are in "
                                          r"EUR and no exchange rates are given"):
        run(deals, "currency: USD\n" + DEALS)


def test_mistakes_that_once_gave_a_traceback(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    with pytest.raises(Exception, match="cannot be read as utf-16") as err:
        run(tmp_path, "tables:\n  orders:\n    encoding: utf-16\n")
    assert err.type.__name__ == "SourceError"
    with pytest.raises(ConfigError, match="derive_from and file exclude each other"):
        run(tmp_path, "tables:\n  orders: {}\n  customers: {file: orders.csv, "
                      "derive_from: orders}\n")
    with pytest.raises(ConfigError, match="derive_from: orders, but there is no orders table"):
        write(tmp_path / "src2", "customers.csv", "customer_id\n1\n")
        ingest(load_config(write(tmp_path, "c2.yaml", "source: src2\ntables:\n  customers:"
                                 " {derive_from: orders}\n")), tmp_path / "wh2")


def test_a_file_read_as_one_column_names_its_delimiter(tmp_path):
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    with pytest.raises(SchemaError, match=r"read as one column .* comma-separated: set "
                                          r"`delimiter: ','`"):
        run(tmp_path, "tables:\n  orders:\n    delimiter: \";\"\n")


def test_dates_in_the_wrong_order_are_flagged_and_hinted(deals):
    audit, _ = run(deals, DEALS.replace('"%m/%d/%Y"', '"%d/%m/%Y"'))
    record = audit["tables"]["opportunities"]
    assert record["reasons"].get("unparseable created_date") or \
        record["flags"].get("closed_before_created")
    assert "set date_format for tables.opportunities" in format_audit(audit)


def test_a_config_lookup_adds_to_the_presets(tmp_path):
    from crmkit.config import merge_preset

    preset = {"tables": {"opportunities": {"lookups": [{"file": "User.csv", "key": "OwnerId"}],
                                           "columns": {"owner": "owner_name"}}}}
    raw = {"tables": {"opportunities": {"lookups": [{"file": "Account.csv", "key": "AccountId"}]}}}
    merged = merge_preset(preset, raw)["tables"]["opportunities"]
    assert [lk["file"] for lk in merged["lookups"]] == ["User.csv", "Account.csv"]
    raw["tables"]["opportunities"]["lookups"].append({"file": "user.csv", "key": "CreatedById"})
    merged = merge_preset(preset, raw)["tables"]["opportunities"]
    assert [lk["file"] for lk in merged["lookups"]] == ["Account.csv", "user.csv"]


def test_all_numeric_attributes_are_numbers_and_blanks_missing(tmp_path):
    write(tmp_path / "src", "customers.csv",
          "customer_id,employees,price,zip,note\n1,10,2.5,01234, \n2,,3,20000,x\n")
    audit, wh = run(tmp_path, "tables:\n  customers: {}\n")
    assert audit["tables"]["customers"]["attribute_types"] == {"employees": "integer",
                                                               "price": "number"}
    assert rows(wh, "SELECT employees, price, zip, note FROM customers ORDER BY customer_id") \
        == [(10, 2.5, "01234", None), (None, 3.0, "20000", "x")]


def test_the_wrong_preset_names_the_files_it_looked_for(tmp_path):
    from crmkit.ingest import resolve_config

    write(tmp_path / "export", "hubspot-crm-exports-all-deals-2024-06-30.csv", "Record ID\n1\n")
    with pytest.raises(SchemaError, match=r"no file of a salesforce export in .*: the preset "
                       r"reads Account\.csv, Opportunity\.csv.*; the folder has "
                       r"hubspot-crm-exports-all-deals-2024-06-30\.csv"):
        ingest(resolve_config(source=tmp_path / "export", preset="salesforce"), tmp_path / "wh")


def test_engine_is_duckdb_unless_the_config_says_spark(tmp_path):
    """`engine` and `spark` (Spark itself: tests/test_spark_engine.py)."""
    write(tmp_path / "src", "orders.csv", "order_id,order_date,amount\n1,2024-01-01,3\n")
    audit, wh = run(tmp_path, "engine: duckdb\n")
    assert audit["engine"] == "duckdb" and (wh / "warehouse.duckdb").exists()
    with pytest.raises(ConfigError, match="`spark` settings apply with `engine: spark`"):
        load_config(config(tmp_path, "spark: {master: local}\n"))
    with pytest.raises(ConfigError, match="engine: spark reads Parquet only"):
        load_config(config(tmp_path, "engine: spark\n"))
