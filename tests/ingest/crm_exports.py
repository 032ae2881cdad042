"""Small CRM exports shaped like the real ones, for the preset tests.

    write_salesforce_export(folder, ...) -> SalesforceExport
    write_hubspot_export(folder, ...)    -> HubSpotExport

Each writes a folder as the CRM delivers it (file names, column names, encodings, empty
references, booleans and date layouts as the exports have them, and objects a preset must
ignore) and returns the records written with the figures ingest must find in them, computed
here from the records themselves, never read back.

Where the layouts come from (confirmed) and what is a best guess:

- Salesforce Data Export: one CSV per object named after its API name (Account.csv,
  Opportunity.csv ...), columns are field API names; field lists from the Salesforce field
  reference (developer.salesforce.com/docs/platform/field-reference, object reference
  pages for CurrencyType, DatedConversionRate, OpportunityStage). Empty references are the
  "empty key" 000000000000000AAA (fishofprey.com/2011/06, "working through some data
  export CSV files"); a migration script over a real weekly export (WE_<org id>_<n>/
  folders) reads IsDeleted / IsConverted as "1" / "0", skips 000000000000000AAA and reads
  the files as latin-1. CurrencyType.ConversionRate is units of the currency per unit of the
  corporate currency (IsCorporate). Guesses: every value quoted, "\\n" line ends, date-times
  as 2024-05-01T14:03:22.000Z (the API's layout; "2024-05-01 14:03:22" is the other one seen,
  so both are written on request), amounts without thousands separators, which fields the
  export leaves out (formula and roll-up fields are excluded, per Salesforce help).
- HubSpot: exports of a view are named hubspot-crm-exports-<view>-<date>.csv ("all-deals",
  "all-contacts", "all-companies", "all-tickets" for the default views), headers are
  property labels ("Record ID", "Deal Name", "Deal Stage", "Deal owner", "Associated
  Company IDs (Primary)", "Ticket ID", "Ticket name", "Create date" ...), date-times
  "2024-03-01 15:17", stages as their labels, owners as names; multi-currency portals add
  "Currency" and "Amount in company currency". Guesses: which properties an
  "all properties" export carries, UTF-8 without BOM.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

# -- Salesforce ------------------------------------------------------------------------

EMPTY_KEY = "000000000000000AAA"  # Salesforce's empty reference, 18 characters
EMPTY_KEY_15 = "000000000000000"   # the same in the 15-character form
ISO_Z = "%Y-%m-%dT%H:%M:%S.000Z"   # 2024-05-01T14:03:22.000Z
SPACED = "%Y-%m-%d %H:%M:%S"        # 2024-05-01 14:03:22

SALESFORCE_OBJECTS = ("Account", "Opportunity", "Lead", "Case", "Campaign", "User",
                      "CurrencyType", "DatedConversionRate", "OpportunityStage", "Contact",
                      "Task", "CampaignMember")
# Objects the salesforce preset reads, by canonical table; every other object is ignored
# (User.csv and CurrencyType.csv are read as a lookup and as rates, CampaignMember.csv as
# the leads' first campaign).
SALESFORCE_TABLES = {"customers": "Account", "opportunities": "Opportunity", "leads": "Lead",
                     "tickets": "Case", "campaigns": "Campaign"}

# Salesforce's default opportunity stages: (stage, probability, forecast category).
SF_STAGES = (("Prospecting", 10, "Pipeline"), ("Qualification", 10, "Pipeline"),
             ("Needs Analysis", 20, "Pipeline"), ("Value Proposition", 50, "Pipeline"),
             ("Id. Decision Makers", 60, "Pipeline"), ("Perception Analysis", 70, "Pipeline"),
             ("Proposal/Price Quote", 75, "Pipeline"), ("Negotiation/Review", 90, "Pipeline"),
             ("Closed Won", 100, "Closed"), ("Closed Lost", 0, "Omitted"))
# Conversion rates as Salesforce keeps them: units of the currency per corporate unit.
SF_CONVERSION_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "CHF": 0.88, "JPY": 151.2}

_ID_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def sf_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce id: key prefix, pod, record number and the case-safe
    suffix (one letter per five characters, from the positions of their capitals)."""
    n, digits = number * 7919 + 104729, ""
    while len(digits) < 7:
        n, r = divmod(n, 62)
        digits = _BASE62[r] + digits
    base = f"{prefix}5g000{digits}"
    suffix = ""
    for i in (0, 5, 10):
        bits = sum(1 << j for j, ch in enumerate(base[i:i + 5]) if "A" <= ch <= "Z")
        suffix += _ID_SUFFIX[bits]
    return base + suffix


@dataclass
class CrmExport:
    """What an export folder holds: its records and the figures ingest must find."""

    folder: Path
    files: dict[str, str]                  # object -> file name, for every object written
    records: dict[str, list[dict[str, str]]]  # object -> rows, as written
    ignored: tuple[str, ...]               # objects written that a preset must not load
    report_currency: str
    rates: dict[str, float]                # currency -> report-currency units per unit
    outcomes: dict[str, int]               # open / won / lost, deleted deals left out
    won_amount: dict[str, float]           # currency -> won amount, in that currency
    amount_in: dict[str, float]            # currency -> every deal amount (deleted too)
    deal_amounts: dict[str, tuple[float | None, str]]  # deal id -> (amount, currency), kept deals
    deal_owners: dict[str, str | None]     # deal id -> owner name, kept deals
    deal_outcomes: dict[str, str]          # deal id -> open / won / lost, kept deals

    @property
    def rows(self) -> dict[str, int]:
        """Records written per object, deleted ones included."""
        return {name: len(rows) for name, rows in self.records.items()}

    def converted(self, amount: float, currency: str) -> float:
        return amount * self.rates[currency]

    @property
    def won_amount_converted(self) -> float | None:
        """The won amount in the report currency; None when the export carries no rates."""
        if not self.rates:
            return None
        return sum(self.converted(a, c) for c, a in self.won_amount.items())


@dataclass
class SalesforceExport(CrmExport):
    deleted: dict[str, int] = field(default_factory=dict)  # object -> records IsDeleted
    deals_without_account: int = 0         # kept opportunities whose AccountId is empty
    deals_without_campaign: int = 0        # kept opportunities whose CampaignId is empty
    campaigns_without_actual_cost: int = 0  # planned campaigns: BudgetedCost only
    cases_without_account: int = 0
    converted_leads: int = 0
    queue_owned_leads: int = 0             # owned by a queue, which User.csv does not hold
    lead_owners: dict[str, str | None] = field(default_factory=dict)
    lead_first_campaign: dict[str, str] = field(default_factory=dict)  # lead -> campaign


def write_salesforce_export(folder: str | Path, *, encoding: str = "cp1252",
                            currencies: tuple[str, ...] = ("USD", "EUR"),
                            currency_table: bool = True, booleans: tuple[str, str] = ("1", "0"),
                            datetime_format: str = ISO_Z,
                            replace_line_breaks: bool = False,
                            objects: tuple[str, ...] = SALESFORCE_OBJECTS,
                            seed: int = 7) -> SalesforceExport:
    """Write a Salesforce Data Export (Setup > Data Export, unzipped) into ``folder``.

    ``currencies``: the org's currencies, the first one corporate; one currency is a
    single-currency org (no CurrencyIsoCode columns, no CurrencyType.csv). Two or more
    write CurrencyType.csv unless ``currency_table`` is false. ``booleans``: how checkboxes
    are written (true, false). ``replace_line_breaks``: the export's option "Replace
    carriage returns with spaces" (off by default: a street or a description keeps its line
    breaks, inside quotes). ``objects``: which object files to write (the records of the
    others still exist, as in an export where they were not ticked).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    multi = len(currencies) > 1
    yes, no = booleans
    corporate = currencies[0]

    def flag(value: bool) -> str:
        return yes if value else no

    def stamp(day: dt.date, minutes: int) -> str:
        moment = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=minutes)
        return moment.strftime(datetime_format)

    def money(value: float | None) -> str:
        return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")

    def system(day: dt.date, user: str) -> dict[str, str]:
        return {"CreatedDate": stamp(day, rng.randrange(600)), "CreatedById": user,
                "LastModifiedDate": stamp(day + dt.timedelta(days=30), 5),
                "LastModifiedById": user,
                "SystemModstamp": stamp(day + dt.timedelta(days=30), 5)}

    def currency_of(value: str) -> dict[str, str]:
        return {"CurrencyIsoCode": value} if multi else {}

    # Users: the owners. One has left (inactive, still owns old deals); the integration
    # user has no role (an empty reference).
    user_names = [("Amélie", "Dubois"), ("Jürgen", "Weiß"), ("Zoë", "Martín"),
                  ("Tom", "O’Neill"), ("Priya", "Raman"), ("Søren", "Østergaard")]
    users = []
    for i, (first, last) in enumerate(user_names):
        uid = sf_id("005", i + 1)
        users.append({
            "Id": uid, "Username": f"{first[0].lower()}.{i}@example.com", "LastName": last,
            "FirstName": first, "Name": f"{first} {last}", "Alias": f"{first[:1]}{last[:4]}",
            "Email": f"user{i}@example.com", "IsActive": flag(i != 5),
            "UserRoleId": EMPTY_KEY if i == 4 else sf_id("00E", i % 2 + 1),
            "ProfileId": sf_id("00e", 1), "UserType": "Standard",
            "DefaultCurrencyIsoCode": corporate,
            "CreatedDate": stamp(dt.date(2021, 3, 1 + i), 0),
            "LastLoginDate": "" if i == 5 else stamp(dt.date(2024, 6, 20), i * 7)})
    user_ids = [u["Id"] for u in users]
    owner_name = {u["Id"]: u["Name"] for u in users}
    queue_id = sf_id("00G", 1)  # a lead queue: owners of leads, not users

    # Accounts, with the characters Windows-1252 has and Latin-1 does not (’ – € Š œ).
    account_names = ["Müller Maschinenbau GmbH", "Café Olé SARL", "O’Brien Logistics Ltd",
                     "Škoda Díly s.r.o.", "Cœur de Lion SA", "Brøndby Søfart A/S",
                     "Nordström & Söner AB", "Acme Corporation", "Globex – Europe",
                     "Initech", "Umbrella Pharma", "Hooli", "Vandelay Industries",
                     "Wayne Enterprises", "Stark Industries", "Tyrell Corporation",
                     "Soylent Foods", "Cyberdyne Systems", "Gringotts Bank",
                     "Zürich Rückversicherung AG", "Société Générale d’Études",
                     "Pâtisserie Émile", "Ibérica de Señales SA", "Ålesund Fisk AS",
                     "Kraków Software"]
    industries = ["Manufacturing", "Hospitality", "Transportation", "Technology",
                  "Finance", "Retail", "Energy"]
    account_types = ["Customer - Direct", "Customer - Channel", "Prospect",
                     "Channel Partner / Reseller", "Other"]
    countries = ["Germany", "France", "Ireland", "Czech Republic", "Belgium", "Denmark",
                 "Sweden", "United States", "United Kingdom", "Switzerland"]
    accounts = []
    for i, name in enumerate(account_names):
        day = dt.date(2022, 1, 3) + dt.timedelta(days=17 * i)
        accounts.append({
            "Id": sf_id("001", i + 1), "IsDeleted": no, "MasterRecordId": EMPTY_KEY,
            "Name": name, "Type": account_types[i % len(account_types)],
            "ParentId": EMPTY_KEY if i != 8 else sf_id("001", 8),
            "BillingStreet": "Hauptstraße 1\n2. Etage" if i == 0 else f"{i + 1} Main Street",
            "BillingCity": "Köln" if i == 0 else "",
            "BillingState": "", "BillingPostalCode": f"{50000 + i}",
            "BillingCountry": countries[i % len(countries)], "Phone": f"+49 221 555 {i:04d}",
            "Website": f"www.example{i}.com", "Industry": industries[i % len(industries)],
            "AnnualRevenue": money(1_000_000 * (i + 1)),
            "NumberOfEmployees": str(20 * (i + 1)), "Description": "",
            "OwnerId": user_ids[i % 5], **system(day, user_ids[0]),
            "LastActivityDate": (day + dt.timedelta(days=200)).isoformat(),
            "AccountSource": ["Web", "Partner Referral", "Other"][i % 3],
            **currency_of(corporate)})
    account_ids = [a["Id"] for a in accounts]

    # Campaigns, all in the corporate currency; the planned one has a budget and no
    # actual cost yet.
    campaign_specs = [("Spring Webinar Series", "Webinar", "Completed"),
                      ("Hannover Messe Booth", "Trade Show", "Completed"),
                      ("Q2 Direct Mail – DACH", "Direct Mail", "Completed"),
                      ("Partner Referral Push", "Referral Program", "Completed"),
                      ("Newsletter Relaunch", "Email", "Completed"),
                      ("Banner Ads Benelux", "Banner Ads", "In Progress"),
                      ("Customer Summit €xpo", "Conference", "In Progress"),
                      ("Autumn Roadshow", "Conference", "Planned")]
    campaigns = []
    for i, (name, kind, status) in enumerate(campaign_specs):
        start = dt.date(2023, 2, 1) + dt.timedelta(days=45 * i)
        budget = 5000.0 + 2500 * i
        actual = None if status == "Planned" else round(budget * (0.8 + 0.05 * i), 2)
        campaigns.append({
            "Id": sf_id("701", i + 1), "IsDeleted": no, "Name": name, "ParentId": EMPTY_KEY,
            "Type": kind, "Status": status, "StartDate": start.isoformat(),
            "EndDate": (start + dt.timedelta(days=30)).isoformat(),
            "ExpectedRevenue": money(budget * 6), "BudgetedCost": money(budget),
            "ActualCost": money(actual), "ExpectedResponse": "2.5",
            "NumberSent": str(1000 * (i + 1)), "IsActive": flag(status != "Completed"),
            "Description": "", "OwnerId": user_ids[i % 5], **system(start, user_ids[0]),
            "LastActivityDate": "", **currency_of(corporate)})
    costed_campaigns = [c["Id"] for c in campaigns if c["ActualCost"]]

    # Opportunities: 14 won, 10 lost, 16 open in five stages; one won deal is deleted.
    stage_info = {s: (p, f) for s, p, f in SF_STAGES}
    stages = (["Closed Won"] * 14 + ["Closed Lost"] * 10 + ["Prospecting"] * 3
              + ["Qualification"] * 3 + ["Needs Analysis"] * 3 + ["Proposal/Price Quote"] * 3
              + ["Negotiation/Review"] * 4)
    rng.shuffle(stages)
    deleted_at = stages.index("Closed Won")
    no_amount_at = stages.index("Prospecting")       # an early deal with no amount yet
    no_account_at = stages.index("Qualification")    # a prospect without an account
    short_empty_at = stages.index("Needs Analysis")  # the 15-character empty key
    products = ["Platform Licence", "Support Renewal", "Onboarding", "Analytics Add-on"]
    lead_sources = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other", ""]
    deal_types = ["New Customer", "Existing Customer - Upgrade",
                  "Existing Customer - Replacement", "Existing Customer - Downgrade"]
    loss_reasons = ["Price", "Competitor", "No Budget", "Timing", "No Decision"]
    opportunities, deals = [], []
    for i, stage in enumerate(stages):
        probability, forecast = stage_info[stage]
        won, closed = stage == "Closed Won", stage.startswith("Closed")
        created = dt.date(2023, 1, 9) + dt.timedelta(days=11 * i)
        close = created + dt.timedelta(days=40 + rng.randrange(120)) if closed else \
            dt.date(2024, 7, 1) + dt.timedelta(days=9 * i)
        currency = currencies[i % len(currencies)]
        amount = None if i == no_amount_at else round(rng.uniform(2_000, 90_000), 2)
        account = EMPTY_KEY if i == no_account_at else account_ids[i % len(account_ids)]
        campaign = costed_campaigns[i % len(costed_campaigns)] if i % 4 == 1 else \
            EMPTY_KEY_15 if i == short_empty_at else EMPTY_KEY
        owner = user_ids[i % len(user_ids)]
        account_name = account_names[i % len(account_names)]
        name = f"{account_name} – {products[i % len(products)]}"
        if i == no_account_at:
            name = "Rahmenvertrag 2024 (€ 50k Budget)"
        description = 'Rollout in 3 sites,\nphase 2 "to be confirmed"' \
            if i == no_amount_at else ""
        opportunities.append({
            "Id": sf_id("006", i + 1), "IsDeleted": flag(i == deleted_at),
            "AccountId": account, "Name": name, "Description": description,
            "StageName": stage, "Amount": money(amount), "Probability": str(probability),
            "TotalOpportunityQuantity": "", "CloseDate": close.isoformat(),
            "Type": deal_types[i % len(deal_types)], "NextStep": "",
            "LeadSource": lead_sources[i % len(lead_sources)], "IsClosed": flag(closed),
            "IsWon": flag(won), "ForecastCategory": forecast.replace(" ", ""),
            "ForecastCategoryName": forecast, **currency_of(currency),
            "CampaignId": campaign, "HasOpportunityLineItem": no,
            "Pricebook2Id": EMPTY_KEY, "OwnerId": owner, **system(created, owner),
            "LastActivityDate": "", "FiscalQuarter": str((close.month - 1) // 3 + 1),
            "FiscalYear": str(close.year), "Fiscal": f"{close.year} {(close.month - 1) // 3 + 1}",
            "Loss_Reason__c": loss_reasons[i % len(loss_reasons)] if stage == "Closed Lost"
            else ""})
        deals.append({"id": opportunities[-1]["Id"], "deleted": i == deleted_at,
                      "outcome": "won" if won else "lost" if closed else "open",
                      "amount": amount, "currency": currency, "owner": owner,
                      "account": account, "campaign": campaign})
    kept_deals = [d for d in deals if not d["deleted"]]

    # Leads: ten converted (into an account, a contact and a deal), one owned by a queue.
    contacts = []
    for i in range(30):
        day = dt.date(2022, 6, 1) + dt.timedelta(days=13 * i)
        contacts.append({
            "Id": sf_id("003", i + 1), "IsDeleted": no, "MasterRecordId": EMPTY_KEY,
            "AccountId": account_ids[i % len(account_ids)] if i != 29 else EMPTY_KEY,
            "LastName": ["Schäfer", "Lefèvre", "Nuñez", "Ó Briain", "Smith"][i % 5],
            "FirstName": ["Anna", "Éric", "José", "Siobhán", "John"][i % 5],
            "Salutation": "", "Email": f"contact{i}@example.org", "Title": "Buyer",
            "LeadSource": lead_sources[i % len(lead_sources)],
            "OwnerId": user_ids[i % 5], **system(day, user_ids[0]),
            **currency_of(corporate)})
    statuses = ["Open - Not Contacted", "Working - Contacted", "Closed - Not Converted"]
    won_deal_ids = [d["id"] for d in kept_deals if d["outcome"] == "won"]
    leads = []
    for i in range(35):
        day = dt.date(2023, 1, 2) + dt.timedelta(days=9 * i)
        converted = i % 7 in (0, 3)  # 10 of 35
        owner = queue_id if i == 6 else user_ids[i % 5]
        first, last = [("Hélène", "Girard"), ("Björn", "Lindqvist"), ("Lukasz", "Nowak"),
                       ("Ana", "Sousa"), ("Chloë", "Bäcker")][i % 5]
        leads.append({
            "Id": sf_id("00Q", i + 1), "IsDeleted": no, "MasterRecordId": EMPTY_KEY,
            "LastName": last, "FirstName": first, "Salutation": "", "Name": f"{first} {last}",
            "Title": "Head of Operations", "Company": account_names[(i * 3) % 25],
            "City": "", "Country": countries[i % len(countries)], "Phone": "",
            "Email": f"lead{i}@example.net", "Description": "",
            "LeadSource": lead_sources[i % len(lead_sources)],
            "Status": "Closed - Converted" if converted else statuses[i % 3],
            "Industry": industries[i % len(industries)], "Rating": ["Hot", "Warm", "Cold"][i % 3],
            "AnnualRevenue": "", "NumberOfEmployees": "", "OwnerId": owner,
            "IsConverted": flag(converted),
            "ConvertedDate": (day + dt.timedelta(days=21)).isoformat() if converted else "",
            "ConvertedAccountId": account_ids[i % 25] if converted else EMPTY_KEY,
            "ConvertedContactId": contacts[i % 30]["Id"] if converted else EMPTY_KEY,
            "ConvertedOpportunityId": won_deal_ids[i % len(won_deal_ids)] if converted
            else EMPTY_KEY,
            "IsUnreadByOwner": flag(i % 4 == 0), **system(day, user_ids[0]),
            "LastActivityDate": "", **currency_of(corporate)})

    # Campaign members: two of three leads were reached by campaigns, every other one of
    # them twice; the first membership (CreatedDate) is the lead's first touch. No random
    # draws here, so the rest of the export stays as it was.
    members, first_touch = [], {}
    for i, lead in enumerate(leads):
        if i % 3 == 2:
            continue
        day = dt.date(2023, 1, 2) + dt.timedelta(days=9 * i)
        for k in range(2 if i % 2 else 1):
            campaign = campaigns[(i + 3 * k) % len(campaigns)]["Id"]
            # the second membership is written first: the order of the file is not the
            # order of the touches
            members.insert(0 if k else len(members), {
                "Id": sf_id("00v", len(members) + 1), "IsDeleted": no,
                "CampaignId": campaign, "LeadId": lead["Id"], "ContactId": EMPTY_KEY,
                "Status": "Responded" if k == 0 else "Sent", "HasResponded": flag(k == 0),
                "CreatedDate": stamp(day - dt.timedelta(days=5 - 10 * k), 0),
                "FirstRespondedDate": (day - dt.timedelta(days=4)).isoformat()
                if k == 0 else ""})
        first_touch[lead["Id"]] = campaigns[i % len(campaigns)]["Id"]

    # Cases: a web-to-case without an account, open cases without a closed date.
    case_types = ["Mechanical", "Electrical", "Electronic", "Structural", "Other"]
    reasons = ["Installation", "Equipment Complexity", "Performance", "Breakdown",
               "Equipment Design", "Feedback", "Other"]
    origins = ["Phone", "Email", "Web"]
    cases = []
    for i in range(24):
        opened = dt.date(2023, 3, 1) + dt.timedelta(days=15 * i)
        closed = i % 3 != 2
        web = i == 10
        cases.append({
            "Id": sf_id("500", i + 1), "IsDeleted": no, "MasterRecordId": EMPTY_KEY,
            "CaseNumber": f"{1001 + i:08d}",
            "ContactId": EMPTY_KEY_15 if web else contacts[i % 29]["Id"],
            "AccountId": EMPTY_KEY if web else account_ids[(i * 2) % 25],
            "ParentId": EMPTY_KEY, "SuppliedName": "Jörg Kühn" if web else "",
            "SuppliedEmail": "jk@example.de" if web else "",
            "SuppliedCompany": "Kühn & Söhne" if web else "",
            "Type": case_types[i % len(case_types)],
            "Status": "Closed" if closed else ["New", "Working", "Escalated"][i % 3],
            "Reason": reasons[i % len(reasons)], "Origin": "Web" if web else origins[i % 3],
            "Subject": "Gerät startet nicht – Fehler E42" if i == 4 else f"Issue {i}",
            "Priority": ["High", "Medium", "Low"][i % 3],
            "Description": "", "IsClosed": flag(closed),
            "ClosedDate": stamp(opened + dt.timedelta(days=3 + i % 5), 90) if closed else "",
            "IsEscalated": flag(i % 6 == 0), "OwnerId": user_ids[i % 5],
            **system(opened, user_ids[1]), **currency_of(corporate)})

    tasks = [{"Id": sf_id("00T", i + 1), "WhoId": contacts[i % 30]["Id"],
              "WhatId": deals[i % 40]["id"] if i % 2 else EMPTY_KEY,
              "Subject": ["Call", "Email", "Send Letter/Quote", "Other"][i % 4],
              "ActivityDate": (dt.date(2023, 4, 1) + dt.timedelta(days=5 * i)).isoformat(),
              "Status": ["Completed", "Not Started"][i % 2],
              "Priority": "Normal", "OwnerId": user_ids[i % 5], "IsDeleted": no,
              "AccountId": account_ids[i % 25], "IsClosed": flag(i % 2 == 0),
              **system(dt.date(2023, 4, 1), user_ids[0])} for i in range(40)]

    stage_rows = [{"Id": sf_id("01J", i + 1), "MasterLabel": s, "ApiName": s,
                   "IsActive": yes, "SortOrder": str(i + 1),
                   "IsClosed": flag(s.startswith("Closed")), "IsWon": flag(s == "Closed Won"),
                   "ForecastCategory": f.replace(" ", ""), "ForecastCategoryName": f,
                   "DefaultProbability": str(p), "Description": "",
                   **system(dt.date(2021, 3, 1), user_ids[0])}
                  for i, (s, p, f) in enumerate(SF_STAGES)]

    currency_rows = [{"Id": sf_id("02A", i + 1), "IsoCode": code,
                      "ConversionRate": f"{SF_CONVERSION_RATES[code]:.6f}",
                      "DecimalPlaces": "0" if code == "JPY" else "2", "IsActive": yes,
                      "IsCorporate": flag(code == corporate),
                      **system(dt.date(2021, 3, 1), user_ids[0])}
                     for i, code in enumerate(currencies)]
    dated_rows = []
    for code in currencies:
        starts = [dt.date(1, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 4, 1)]
        for j, start in enumerate(starts):
            rate = SF_CONVERSION_RATES[code] * (1 + 0.01 * j * (code != corporate))
            dated_rows.append({
                "Id": sf_id("04w", len(dated_rows) + 1), "IsoCode": code,
                "ConversionRate": f"{rate:.6f}", "StartDate": start.isoformat(),
                "NextStartDate": starts[j + 1].isoformat() if j + 1 < len(starts) else "",
                **system(dt.date(2024, 1, 1), user_ids[0])})

    records = {"Account": accounts, "Opportunity": opportunities, "Lead": leads,
               "Case": cases, "Campaign": campaigns, "User": users, "Contact": contacts,
               "Task": tasks, "OpportunityStage": stage_rows, "CampaignMember": members}
    if multi:
        records["DatedConversionRate"] = dated_rows
        if currency_table:
            records["CurrencyType"] = currency_rows
    records = {name: rows for name, rows in records.items() if name in objects}
    files = {}
    for name, rows in records.items():
        files[name] = f"{name}.csv"
        _write_csv(folder / files[name], rows, encoding, replace_line_breaks)

    rated = "CurrencyType" in records
    users_written = "User" in records
    figures = _deal_figures(kept_deals, deals)
    return SalesforceExport(
        folder=folder, files=files, records=records,
        ignored=tuple(n for n in records if n not in SALESFORCE_TABLES.values()
                      and n not in ("User", "CurrencyType", "CampaignMember")),
        report_currency=corporate,
        rates={c: 1 / SF_CONVERSION_RATES[c] for c in currencies} if rated else {},
        **figures,
        deal_owners={d["id"]: owner_name[d["owner"]] if users_written else None
                     for d in kept_deals},
        deleted={name: sum(r.get("IsDeleted") == yes for r in rows)
                 for name, rows in records.items() if any(r.get("IsDeleted") == yes
                                                          for r in rows)},
        deals_without_account=sum(d["account"] == EMPTY_KEY for d in kept_deals),
        deals_without_campaign=sum(d["campaign"] in (EMPTY_KEY, EMPTY_KEY_15)
                                   for d in kept_deals),
        campaigns_without_actual_cost=sum(not c["ActualCost"] for c in campaigns),
        cases_without_account=sum(c["AccountId"] == EMPTY_KEY for c in cases),
        converted_leads=sum(lead["IsConverted"] == yes for lead in leads),
        queue_owned_leads=sum(lead["OwnerId"] == queue_id for lead in leads),
        lead_owners={lead["Id"]: owner_name.get(lead["OwnerId"]) if users_written else None
                     for lead in leads},
        lead_first_campaign=first_touch if "CampaignMember" in records else {})


def _deal_figures(kept: list[dict], every: list[dict]) -> dict:
    """Outcome counts and money of deals given as {id, outcome, amount, currency ...}."""
    outcomes = {o: sum(d["outcome"] == o for d in kept) for o in ("open", "won", "lost")}
    won, amount_in = {}, {}
    for d in every:
        if d["amount"] is not None:
            amount_in[d["currency"]] = amount_in.get(d["currency"], 0.0) + d["amount"]
    for d in kept:
        if d["outcome"] == "won" and d["amount"] is not None:
            won[d["currency"]] = won.get(d["currency"], 0.0) + d["amount"]
    return {"outcomes": outcomes, "won_amount": won, "amount_in": amount_in,
            "deal_amounts": {d["id"]: (d["amount"], d["currency"]) for d in kept},
            "deal_outcomes": {d["id"]: d["outcome"] for d in kept}}


def _write_csv(path: Path, rows: list[dict[str, str]], encoding: str,
               replace_line_breaks: bool = False) -> None:
    """Every value quoted, as both CRMs write them; a value may hold commas, quotes and
    line breaks (or spaces instead, on request)."""
    if replace_line_breaks:
        rows = [{k: v.replace("\n", " ") for k, v in row.items()} for row in rows]
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL,
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


# -- HubSpot ---------------------------------------------------------------------------

HUBSPOT_OBJECTS = ("deals", "companies", "contacts", "tickets")
HUBSPOT_TABLES = {"customers": "companies", "opportunities": "deals", "leads": "contacts",
                  "tickets": "tickets"}
# HubSpot's own rate for the company-currency column: report units per unit.
HUBSPOT_RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}
HS_DATETIME = "%Y-%m-%d %H:%M"
# The default deal pipeline's stages, as an export labels them.
HS_SALES_STAGES = ("Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled",
                   "Decision Maker Bought-In", "Contract Sent", "Closed Won", "Closed Lost")
# A second pipeline, created later, in the sentence case newer portals use.
HS_RENEWAL_STAGES = ("Renewal due", "Closed won", "Closed lost")


@dataclass
class HubSpotExport(CrmExport):
    deals_without_company: int = 0
    customers: int = 0          # contacts whose lifecycle stage is Customer
    unowned_deals: int = 0


def hubspot_file(kind: str, export_date: str) -> str:
    """The name HubSpot gives an export of the default view: all-deals, all-contacts ..."""
    return f"hubspot-crm-exports-all-{kind}-{export_date}.csv"


def write_hubspot_export(folder: str | Path, *, currencies: tuple[str, ...] = ("USD", "EUR"),
                         encoding: str = "utf-8", export_date: str = "2024-06-30",
                         objects: tuple[str, ...] = HUBSPOT_OBJECTS,
                         seed: int = 11) -> HubSpotExport:
    """Write HubSpot exports of the default views (all properties) into ``folder``.

    ``currencies``: the portal's currencies, the first one the company currency; with
    two or more, deals carry "Currency" and "Amount in company currency".
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    multi = len(currencies) > 1
    company_currency = currencies[0]

    def stamp(day: dt.date, minutes: int = 0) -> str:
        return (dt.datetime.combine(day, dt.time(9)) + dt.timedelta(minutes=minutes)) \
            .strftime(HS_DATETIME)

    owners = ["Sarah Chen", "Lukas Müller", "Inès Moreau", "Daniel O’Connor", "Mia Jansen"]

    companies = []
    for i in range(25):
        created = dt.date(2022, 2, 1) + dt.timedelta(days=19 * i)
        name = ["Nordwind Logistik GmbH", "Brasserie Lumière", "Fjord Analytics AS",
                "Smith & Partners LLP", "Zürcher Präzision AG"][i % 5] + f" {i // 5 + 1}"
        companies.append({
            "Record ID": str(8_410_000_000 + 7_919 * i), "Company name": name,
            "Company Domain Name": f"company{i}.example", "Company owner": owners[i % 5],
            "Create Date": stamp(created, i), "Last Activity Date": stamp(created, 600),
            "Phone Number": f"+44 20 7946 {i:04d}", "City": "", "Country/Region":
            ["Germany", "France", "Norway", "United Kingdom", "Switzerland"][i % 5],
            "Industry": ["Transportation/Trucking/Railroad", "Restaurants", "Computer Software",
                         "Legal Services", "Machinery"][i % 5],
            "Number of Employees": str(15 * (i + 1)), "Annual Revenue": str(250_000 * (i + 1)),
            "Lifecycle Stage": "Customer" if i % 3 else "Lead",
            "Type": ["Prospect", "Partner", "Reseller", "Vendor", "Other"][i % 5]})
    company_ids = [c["Record ID"] for c in companies]
    company_name = {c["Record ID"]: c["Company name"] for c in companies}

    lifecycle = ["Subscriber", "Lead", "Marketing Qualified Lead", "Sales Qualified Lead",
                 "Opportunity"]
    lead_statuses = ["New", "Open", "In progress", "Open deal", "Unqualified",
                     "Attempted to contact", "Connected", "Bad timing"]
    sources = ["Organic Search", "Direct Traffic", "Referrals", "Paid Search",
               "Social Media", "Email Marketing", "Offline Sources"]
    contacts = []
    for i in range(40):
        created = dt.date(2023, 1, 3) + dt.timedelta(days=8 * i)
        stage = "Customer" if i % 5 == 0 else lifecycle[i % len(lifecycle)]
        company = company_ids[i % 25] if i % 8 else ""
        contacts.append({
            "Record ID": str(51_000 + 101 * i), "First Name": ["Léa", "Jonas", "Ingrid",
                                                               "Oisín", "Maja"][i % 5],
            "Last Name": ["Fournier", "Schröder", "Dahl", "Murphy", "Kowalski"][i % 5],
            "Email": f"person{i}@example.com", "Phone Number": "",
            "Contact owner": owners[i % 5] if i % 9 else "",
            "Associated Company IDs (Primary)": company,
            "Associated Company": company_name.get(company, ""),
            "Last Activity Date": stamp(created, 300), "Lead Status": lead_statuses[i % 8],
            "Marketing contact status": "Marketing contact" if i % 2 else
            "Non-marketing contact",
            "Create Date": stamp(created, i), "Lifecycle Stage": stage,
            "Original Source": sources[i % len(sources)],
            "Became a Lead Date": stamp(created, 60),
            "Became a Customer Date": stamp(created + dt.timedelta(days=30), 5)
            if stage == "Customer" else ""})

    deal_types = ["New Business", "Existing Business"]
    lost_reasons = ["Price too high", "Went with a competitor", "No budget", ""]
    rows, deals = [], []
    for i in range(40):
        renewal = i % 5 == 4
        pipeline, labels = ("Renewals", HS_RENEWAL_STAGES) if renewal else \
            ("Sales Pipeline", HS_SALES_STAGES)
        stage = labels[rng.randrange(len(labels))] if i > 5 else labels[-2 + i % 2]
        outcome = "won" if stage.lower() == "closed won" else \
            "lost" if stage.lower() == "closed lost" else "open"
        created = dt.date(2023, 2, 6) + dt.timedelta(days=10 * i)
        close = created + dt.timedelta(days=30 + rng.randrange(90))
        currency = currencies[i % len(currencies)]
        amount = None if i == 7 else round(rng.uniform(1_500, 60_000), 2)
        company = "" if i == 9 else company_ids[(i * 3) % 25]
        owner = "" if i == 12 else owners[i % 5]
        row = {"Record ID": str(17_300_000_000 + 13_007 * i),
               "Deal Name": f"{company_name.get(company, 'Website inquiry')} – "
                            f"{['Starter', 'Growth', 'Enterprise'][i % 3]}",
               "Pipeline": pipeline, "Deal Stage": stage,
               "Amount": "" if amount is None else f"{amount:.2f}".rstrip("0").rstrip(".")}
        if multi:
            converted = None if amount is None else round(amount * HUBSPOT_RATES[currency], 2)
            row["Currency"] = currency
            row["Amount in company currency"] = "" if converted is None else str(converted)
        row.update({
            "Close Date": stamp(close), "Create Date": stamp(created, 15 * i),
            "Deal owner": owner, "Deal Type": deal_types[i % 2],
            "Closed Lost Reason": lost_reasons[i % 4] if outcome == "lost" else "",
            "Last Activity Date": stamp(close, 30),
            "Associated Company IDs (Primary)": company,
            "Associated Company (Primary)": company_name.get(company, ""),
            "Associated Contact IDs": ";".join(contacts[(i + k) % 40]["Record ID"]
                                               for k in range(i % 3))})
        rows.append(row)
        deals.append({"id": row["Record ID"], "outcome": outcome, "amount": amount,
                      "currency": currency, "owner": owner or None, "company": company})

    tickets = []
    for i in range(25):
        created = dt.date(2023, 5, 2) + dt.timedelta(days=12 * i)
        status = ["New", "Waiting on contact", "Waiting on us", "Closed"][i % 4]
        tickets.append({
            "Ticket ID": str(2_090_000_000 + 211 * i),
            "Ticket name": ["Login fails after update", "Rechnung doppelt erhalten",
                            "Export to Excel – wrong umlauts", "Feature: SSO"][i % 4],
            "Pipeline": "Support Pipeline", "Ticket status": status,
            "Create date": stamp(created, 7 * i),
            "Close date": stamp(created + dt.timedelta(days=2), 45) if status == "Closed"
            else "",
            "Priority": ["Low", "Medium", "High"][i % 3],
            "Source": ["Email", "Chat", "Form", "Phone"][i % 4],
            "Category": ["Product issue", "Billing issue", "Feature request",
                         "General inquiry"][i % 4],
            "Ticket owner": owners[i % 5] if i % 6 else "",
            "Last activity date": stamp(created, 500)})

    records = {"deals": rows, "companies": companies, "contacts": contacts,
               "tickets": tickets}
    records = {name: r for name, r in records.items() if name in objects}
    files = {}
    for name, r in records.items():
        files[name] = hubspot_file(name, export_date)
        _write_csv(folder / files[name], r, encoding)

    return HubSpotExport(
        folder=folder, files=files, records=records, ignored=(),
        report_currency=company_currency, rates={},
        **_deal_figures(deals, deals),
        deal_owners={d["id"]: d["owner"] for d in deals},
        deals_without_company=sum(not d["company"] for d in deals),
        customers=sum(c["Lifecycle Stage"] == "Customer" for c in contacts),
        unowned_deals=sum(d["owner"] is None for d in deals))
