"""Synthetic B2B pipeline data: the accounts, deals, leads, campaigns, cases and quarterly
targets of a sales org, as a Salesforce-like export would give them, reproducibly.

In:  an account count and a seed (and a format: csv or parquet).
Out: ``<out>/customers|opportunities|leads|campaigns|tickets|targets.csv`` with the canonical
     column names of :mod:`crmkit.schema`, so that ``crmkit ingest --source <out>`` needs no
     config; accounts (``customers``) also carry two attribute columns, ``industry`` and
     ``employees``. :func:`write_b2b_sample` returns the rows written per table;
     :func:`b2b_tables` builds the same tables in memory.

Size. Per account over the period there are about 7 opportunities, 9 leads and 5 cases:
300 accounts give about 2,000 opportunities. A few open deals are with prospects that have
no account yet (about ``PROSPECTS_PER_ACCOUNT`` per account). Campaigns (two and a half
years of ``CAMPAIGN_CALENDAR``) and targets (8 reps, 10 quarters) do not grow with the size.

What the data shows (analysts and tests rely on it):
    * a stage pipeline: Prospecting, Qualification, Proposal, Negotiation, then Closed Won or
      Closed Lost; about half the closed deals are won: renewals and referrals more often,
      outbound deals and big deals less, and some reps clearly more than others
      (``REP_WIN_SKILL``);
    * deal sizes are log-normal around a median per segment (Enterprise about 13 times SMB);
      upsells are smaller than new business;
    * sales cycles of weeks (SMB) to months (Enterprise, renewals), at most
      ``MAX_DEAL_DAYS``; lost deals often linger; so about a fifth of the deals are still
      open at ``END``;
    * reps pull wins into the last days of a quarter, most in Q4; fewer deals are created in
      August and December; deals grow about a quarter a year (new accounts, and each
      account buying ``PIPELINE_GROWTH`` more);
    * an account's latent satisfaction drives its complaints and case CSAT and the win rate
      of its renewals and upsells;
    * campaigns cost a budget per channel (``CAMPAIGN_COST``), so their returns differ: cheap
      e-mail nurtures return many times their cost, trade events often less than theirs.

Conventions.
    * ``outcome`` is open, won or lost; ``stage`` is Closed Won / Closed Lost exactly for
      won / lost deals and an open stage otherwise; ``probability`` is the stage's;
      ``stage_order`` numbers ``STAGES`` from 1; ``currency`` is always USD.
    * ``close_date``: the actual close for closed deals (on or after created_date, no later
      than ``END``), the expected close for open deals (a month end after ``END``).
    * Nothing closes before ``START``; deals created in the ``WARMUP_DAYS`` before it that
      were still open on ``START`` are kept, so the pipeline does not start empty.
    * An account created inside the data was created with its first deal (New Business),
      from a converted lead: the lead's converted_date is the deal's created_date and its
      customer_id the account. Other converted leads are new contacts at existing accounts.
    * ``loss_reason`` is set exactly on lost deals; prospects' deals are open New Business.
    * Targets: one row per sales rep and calendar quarter from ``START`` to ``END``.
    * Case ``opened_at`` / ``closed_at`` are timestamps; every other date is a date.

Determinism. Each step (companies, deals, leads, campaigns, cases, targets) draws from its
own ``SeedSequence(seed).spawn`` child, so the same (accounts, seed) gives byte-identical
files (with the same numpy and pyarrow).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from crmkit.sample import (CHINESE_BRAND, CHINESE_COMPANY, CHINESE_TRADE, COMPANY_KINDS,
                           COMPANY_WORDS, DAYS_PER_MONTH, JAPANESE_BRAND, JAPANESE_TRADE,
                           LEGAL_FORMS, _check, _choice, _choice_by_row, _days_between, _probs,
                           write_tables)

DEFAULT_ACCOUNTS = 300

# --- the period ------------------------------------------------------------------------------

START = "2023-07-01"  # first day a deal can close in the data
END = "2025-12-31"  # the day of the export: nothing happens after it
MAX_DEAL_DAYS = 540  # no deal runs longer than 18 months, won, lost or open
WARMUP_DAYS = MAX_DEAL_DAYS  # deals created this long before START, open on START, are kept
ACCOUNT_HISTORY_DAYS = 6 * 365  # accounts older than the data were created this far back
# Relative deal creation per calendar month: summer holidays and December are slow.
MONTH_SEASONALITY = {1: 1.05, 2: 1.00, 3: 1.10, 4: 1.00, 5: 1.05, 6: 0.95,
                     7: 0.85, 8: 0.70, 9: 1.10, 10: 1.15, 11: 1.05, 12: 0.65}
WEEKDAY_FACTOR = (1.10, 1.15, 1.15, 1.10, 0.90, 0.06, 0.04)  # Monday .. Sunday
PIPELINE_GROWTH = 0.20  # each account buys 20 % more a year (on top of new accounts)

# --- accounts --------------------------------------------------------------------------------

SEGMENTS = {"SMB": 0.50, "Mid-Market": 0.32, "Enterprise": 0.18}  # share of accounts
# Headcount per segment: (smallest, largest, median); log-normal between the bounds.
SEGMENT_EMPLOYEES = {"SMB": (5, 199, 45), "Mid-Market": (200, 1999, 600),
                     "Enterprise": (2000, 250_000, 9000)}
REGIONS = {"North America": 0.45, "EMEA": 0.38, "APAC": 0.17}  # share of accounts
REGION_COUNTRIES = {
    "North America": {"United States": 0.80, "Canada": 0.20},
    "EMEA": {"United Kingdom": 0.30, "Germany": 0.30, "France": 0.20, "Sweden": 0.10,
             "Spain": 0.10},
    "APAC": {"Japan": 0.30, "Australia": 0.30, "Singapore": 0.20, "China": 0.20},
}
# English legal forms, as an English-language CRM records Asian companies too.
ACCOUNT_LEGAL_FORMS = {**LEGAL_FORMS, "China": "Co., Ltd.", "Japan": "Co., Ltd.",
                       "Australia": "Pty Ltd", "Singapore": "Pte. Ltd."}
INDUSTRIES = {"Manufacturing": 0.18, "Technology": 0.16, "Financial Services": 0.14,
              "Healthcare": 0.12, "Retail": 0.12, "Logistics": 0.10,
              "Professional Services": 0.10, "Public Sector": 0.08}  # share of accounts
ACCOUNT_OPENING_SHARE = 0.60  # accounts created before the data begins
PROSPECTS_PER_ACCOUNT = 0.02  # open deals with a company that is not an account yet
PROSPECT_DAYS = 75  # prospects' deals were created in the last 75 days
# Awkward names that exports must carry intact: (name, region, country).
SPECIAL_ACCOUNTS = (
    ('Baker, Lewis & "Co" Inc.', "North America", "United States"),
    ("O'Brien & Sons Ltd", "EMEA", "United Kingdom"),
    ("Müller Präzisionstechnik GmbH", "EMEA", "Germany"),
)

# Sales reps, their home region, and how much better than average they close (log-odds).
SALES_REPS = {
    "Rachel Adams": "North America", "Marcus Johnson": "North America",
    "Emily Chen": "North America", "Tom Becker": "EMEA", "Claire Dubois": "EMEA",
    "Sofia Lindberg": "EMEA", "Kenji Watanabe": "APAC", "Priya Nair": "APAC",
}
REP_WIN_SKILL = {"Rachel Adams": 0.6, "Marcus Johnson": -0.1, "Emily Chen": 0.1,
                 "Tom Becker": -0.6, "Claire Dubois": 0.35, "Sofia Lindberg": 0.0,
                 "Kenji Watanabe": 0.4, "Priya Nair": -0.35}
OWNER_SELLS_SHARE = 0.90  # deals owned by the account owner; the rest by a colleague

# --- deals -----------------------------------------------------------------------------------

SEGMENT_DEALS_PER_MONTH = {"SMB": 0.13, "Mid-Market": 0.22, "Enterprise": 0.36}  # mean rate
ACTIVITY_SHAPE = 2.0  # gamma shape of each account's own deal rate (mean 1)
# Deal types after an account's first deal (which is always New Business).
DEAL_TYPES = {"New Business": 0.35, "Upsell": 0.40, "Renewal": 0.25}
SOURCES = ("Paid Search", "Webinar", "Event", "Email", "Outbound", "Partner", "Referral",
           "Existing Customer")
SOURCE_MIX = {  # where each type of deal comes from
    "New Business": {"Paid Search": 0.18, "Webinar": 0.12, "Event": 0.14, "Email": 0.08,
                     "Outbound": 0.24, "Partner": 0.13, "Referral": 0.11,
                     "Existing Customer": 0.0},
    "Upsell": {"Paid Search": 0.0, "Webinar": 0.10, "Event": 0.07, "Email": 0.08,
               "Outbound": 0.0, "Partner": 0.0, "Referral": 0.0, "Existing Customer": 0.75},
    "Renewal": {"Paid Search": 0.0, "Webinar": 0.0, "Event": 0.0, "Email": 0.0,
                "Outbound": 0.0, "Partner": 0.0, "Referral": 0.0, "Existing Customer": 1.0},
}
PRODUCT_SIZE = {"Cloud CRM Suite": 1.0, "Analytics Add-on": 0.45, "Integration Hub": 0.35,
                "Premium Support": 0.25, "Implementation Services": 0.60}  # of the median
PRODUCT_MIX = {  # what each type of deal sells
    "New Business": {"Cloud CRM Suite": 0.60, "Analytics Add-on": 0.08,
                     "Integration Hub": 0.07, "Premium Support": 0.0,
                     "Implementation Services": 0.25},
    "Upsell": {"Cloud CRM Suite": 0.15, "Analytics Add-on": 0.35, "Integration Hub": 0.25,
               "Premium Support": 0.15, "Implementation Services": 0.10},
    "Renewal": {"Cloud CRM Suite": 0.75, "Analytics Add-on": 0.0, "Integration Hub": 0.0,
                "Premium Support": 0.25, "Implementation Services": 0.0},
}
SEGMENT_DEAL_SIZE = {"SMB": 12_000.0, "Mid-Market": 45_000.0, "Enterprise": 160_000.0}  # median
TYPE_DEAL_SIZE = {"New Business": 1.0, "Upsell": 0.6, "Renewal": 0.9}  # of the median
DEAL_SIZE_SIGMA = 0.6  # log-normal spread of amounts
CURRENCY = "USD"

SEGMENT_CYCLE_DAYS = {"SMB": 60.0, "Mid-Market": 150.0, "Enterprise": 280.0}  # mean, new business
# Of the segment's cycle (renewals have their own, below).
TYPE_CYCLE = {"New Business": 1.0, "Upsell": 0.75, "Renewal": 1.0}
RENEWAL_CYCLE_DAYS = 180.0  # mean: renewals are opened about six months ahead, any segment
CYCLE_SHAPE = 2.5  # gamma shape of cycle lengths
MIN_CYCLE_DAYS = 5
LOST_AT = (0.5, 2.5)  # a lost deal ends after this fraction of its cycle (uniform): many linger

# Win chance: log-odds, summed.
BASE_WIN_LOGIT = -0.3
SEGMENT_WIN_LOGIT = {"SMB": 0.25, "Mid-Market": 0.0, "Enterprise": -0.35}
TYPE_WIN_LOGIT = {"New Business": -0.45, "Upsell": 0.35, "Renewal": 1.6}
SOURCE_WIN_LOGIT = {"Paid Search": -0.2, "Webinar": 0.0, "Event": 0.1, "Email": -0.25,
                    "Outbound": -0.6, "Partner": 0.35, "Referral": 0.8,
                    "Existing Customer": 0.0}
DEAL_SIZE_WIN_EFFECT = -0.35  # per log unit above the typical amount: big deals are harder
SATISFACTION_WIN_EFFECT = 0.5  # per standard deviation, on renewals and upsells

# Chance that reps close a win in the last QUARTER_END_DAYS of its quarter, or pull one due
# in the first PULL_IN_DAYS of the next quarter into them: year-end (Q4) most of all.
QUARTER_END_PUSH = {1: 0.25, 2: 0.25, 3: 0.25, 4: 0.50}
QUARTER_END_DAYS = 10
PULL_IN_DAYS = 30

# Stages in pipeline order with their probability (%); the last two are closed.
STAGES = {"Prospecting": 10, "Qualification": 20, "Proposal": 50, "Negotiation": 75,
          "Closed Won": 100, "Closed Lost": 0}
OPEN_STAGE_COUNT = 4
LOSS_REASONS = {"Price": 0.24, "Competitor": 0.24, "No decision": 0.20, "Budget": 0.12,
                "Timing": 0.12, "Missing features": 0.08}

# --- campaigns and leads ---------------------------------------------------------------------

# (name, channel, month, first day, days running), repeated every calendar year; a channel
# is also the source of the deals and leads it brings.
CAMPAIGN_CALENDAR = (
    ("Paid Search Q1", "Paid Search", 1, 1, 90),
    ("Nurture: Analytics", "Email", 2, 1, 60),
    ("Spring Webinar Series", "Webinar", 3, 1, 45),
    ("Paid Search Q2", "Paid Search", 4, 1, 91),
    ("SaaS Connect Expo", "Event", 5, 14, 3),
    ("Paid Search Q3", "Paid Search", 7, 1, 92),
    ("Autumn Webinar Series", "Webinar", 9, 15, 45),
    ("Paid Search Q4", "Paid Search", 10, 1, 92),
    ("CX Summit", "Event", 10, 8, 3),
    ("Nurture: Year-End", "Email", 11, 1, 45),
)
ATTRIBUTION_DAYS = 45  # a campaign is credited with deals and leads up to 45 days after it
DEAL_CAMPAIGN_SHARE = 0.75  # deals of a campaign channel credited to one when one ran
# Typical cost of one campaign per channel for an org of DEFAULT_ACCOUNTS accounts (it
# scales with the account count): events are dear, e-mail is cheap.
CAMPAIGN_COST = {"Paid Search": 40_000.0, "Webinar": 15_000.0, "Event": 90_000.0,
                 "Email": 6_000.0}
CAMPAIGN_COST_SPREAD = 0.3  # log-normal spread of a campaign's cost around its channel's

LEAD_BEHIND_NEW_BUSINESS = 0.6  # other new-business deals that began as a converted lead
LEAD_WORK_DAYS = 20.0  # mean days from a lead's creation to its conversion
# Share of each source's leads that convert: referrals almost always, e-mail rarely.
LEAD_CONVERSION = {"Paid Search": 0.12, "Webinar": 0.15, "Event": 0.18, "Email": 0.08,
                   "Outbound": 0.20, "Partner": 0.35, "Referral": 0.50}
# Status of leads that did not convert, by age in days (up to the bound): young leads are
# still being worked, old ones were mostly disqualified.
LEAD_STATUS_BY_AGE = (
    (7, {"New": 0.85, "Working": 0.15, "Qualified": 0.0, "Disqualified": 0.0}),
    (60, {"New": 0.10, "Working": 0.50, "Qualified": 0.15, "Disqualified": 0.25}),
    (None, {"New": 0.0, "Working": 0.05, "Qualified": 0.03, "Disqualified": 0.92}),
)
LEAD_STATUSES = ("New", "Working", "Qualified", "Disqualified", "Converted")

# --- cases -----------------------------------------------------------------------------------

SEGMENT_CASES_PER_MONTH = {"SMB": 0.08, "Mid-Market": 0.14, "Enterprise": 0.28}  # inquiries
COMPLAINT_SHARE = 0.25  # complaints per inquiry, for an average account
COMPLAINT_SATISFACTION_EFFECT = 0.8  # log complaint-rate ratio per standard deviation
FOLLOW_UP_SHARE = 0.50  # complaints followed up by an outbound case 1-7 days later
RESOLUTION_HOURS = {"inquiry": 10.0, "complaint": 60.0, "follow_up": 4.0}  # median
STUCK_CASE_SHARE = 0.02  # cases never closed
CASE_CSAT_MISSING = 0.35  # closed cases the customer did not rate
CASE_CHANNELS = {"Email": 0.45, "Phone": 0.25, "Web": 0.20, "Partner portal": 0.10}
CASE_REASONS = {
    "inquiry": ("How-to question", "Licensing", "Billing", "Integration setup",
                "Feature request"),
    "complaint": ("Outage", "Bug", "Slow response", "Invoice error", "Data sync failure"),
    "follow_up": ("Complaint follow-up", "Quarterly business review", "Renewal check-in"),
}
CASE_TYPES = tuple(CASE_REASONS)
SERVICE_HOUR_WEIGHTS = (0, 0, 0, 0, 0, 0, 1, 4, 12, 16, 16, 15,
                        12, 14, 15, 14, 12, 9, 5, 3, 2, 1, 0, 0)  # midnight .. 23h

TARGET_ATTAINMENT = (0.55, 1.50)  # a rep's quarter: bookings over target, within these

# --- derived lookups (index order = dict order above) ----------------------------------------

_SEGMENT_NAMES = tuple(SEGMENTS)
_REGION_NAMES = tuple(REGIONS)
_COUNTRY_NAMES = tuple(c for r in REGION_COUNTRIES.values() for c in r)
_COUNTRY_P = np.vstack([_probs(REGION_COUNTRIES[r].get(c, 0.0) for c in _COUNTRY_NAMES)
                        for r in _REGION_NAMES])
_REP_NAMES = tuple(SALES_REPS)
_REP_REGION = np.array([_REGION_NAMES.index(r) for r in SALES_REPS.values()])
_TYPE_NAMES = tuple(DEAL_TYPES)
_PRODUCT_NAMES = tuple(PRODUCT_SIZE)
_STAGE_NAMES = tuple(STAGES)
_CAMPAIGN_CHANNELS = tuple(CAMPAIGN_COST)
# the campaign channel of each source, -1 for sources no campaign brings
_SOURCE_CHANNEL = np.array([_CAMPAIGN_CHANNELS.index(s) if s in _CAMPAIGN_CHANNELS else -1
                            for s in SOURCES])
_LEAD_SOURCES = tuple(LEAD_CONVERSION)
_LEAD_SOURCE_OF = np.array([_LEAD_SOURCES.index(s) if s in _LEAD_SOURCES else -1
                            for s in SOURCES])  # -1: no lead behind such deals


def _lookup(mapping: dict, names) -> np.ndarray:
    return np.array([mapping[name] for name in names], dtype=float)


def _mix(table: dict, rows, cols) -> np.ndarray:
    """A row x column probability table from nested dicts."""
    return np.vstack([_probs(table[r][c] for c in cols) for r in rows])


# --- the timeline ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Timeline:
    """Day indices from ``origin`` (WARMUP_DAYS before START) to END, and their calendar."""

    origin: np.datetime64
    start: int  # index of START
    days: int  # number of days, END inclusive: END is days - 1
    created_cum: np.ndarray  # cumulative deal-creation intensity (mean 1 a day from START)
    quarter: np.ndarray  # calendar quarter (1-4) of each day
    quarter_start: np.ndarray  # index of the first day of each day's quarter
    quarter_end: np.ndarray  # index of the last day of each day's quarter

    @classmethod
    def build(cls) -> _Timeline:
        start = np.datetime64(START, "D")
        origin = start - WARMUP_DAYS
        day = np.arange(origin, np.datetime64(END, "D") + 1)
        month = day.astype("datetime64[M]")
        month_of_year = month.astype(int) % 12 + 1
        years = (day - start).astype(float) / 365.25
        intensity = (_lookup(MONTH_SEASONALITY, range(1, 13))[month_of_year - 1]
                     * np.asarray(WEEKDAY_FACTOR)[(day.astype(int) + 3) % 7]  # 1970-01-01: Thu
                     * (1 + PIPELINE_GROWTH) ** years)
        intensity /= intensity[WARMUP_DAYS:].mean()
        quarter_first = month - (month.astype(int) % 3).astype("timedelta64[M]")
        quarter_last = (quarter_first + 3).astype("datetime64[D]") - 1
        return cls(origin=origin, start=WARMUP_DAYS, days=len(day),
                   created_cum=np.concatenate([[0.0], np.cumsum(intensity)]),
                   quarter=(month_of_year - 1) // 3 + 1,
                   quarter_start=(quarter_first.astype("datetime64[D]") - origin).astype(int),
                   quarter_end=(quarter_last - origin).astype(int))

    @property
    def end(self) -> int:
        return self.days - 1

    def dates(self, day: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
        return pa.array(self.origin + day.astype("timedelta64[D]"), pa.date32(), mask=missing)

    def stamps(self, sec: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
        base = self.origin.astype("datetime64[s]")
        return pa.array(base + sec.astype("timedelta64[s]"), pa.timestamp("s"), mask=missing)


def _labels(names, idx: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(list(names), pa.string()).take(pa.array(idx, pa.int64(), mask=missing))


def _ids(prefix: str, count: int, width: int) -> pa.Array:
    return pa.array([f"{prefix}{i:0{width}d}" for i in range(1, count + 1)], pa.string())


# --- accounts and prospects ------------------------------------------------------------------

@dataclass(frozen=True)
class _Companies:
    """Accounts first, then prospects: who they are, one array element per company."""

    name: np.ndarray  # object array of str
    segment: np.ndarray
    region: np.ndarray
    country: np.ndarray
    industry: np.ndarray
    employees: np.ndarray
    owner: np.ndarray  # index into _REP_NAMES
    created: np.ndarray  # day the account was created (negative: before the timeline)
    satisfaction: np.ndarray  # latent, standard normal


def _name_pool(rng: np.random.Generator, country: str) -> list[str]:
    """Company names for one country in a drawn order: the short ones first, then longer
    ones, so names stay unique up to a few thousand companies per country."""
    legal = ACCOUNT_LEGAL_FORMS[country]
    words = [w for w, _ in COMPANY_WORDS]
    kinds = [k for k, _ in COMPANY_KINDS]
    short = [f"{w} {k} {legal}" for w in words for k in kinds]
    if country == "China":
        short += [f"{c}{b}{t}有限公司" for c, _ in CHINESE_COMPANY for b, _ in CHINESE_BRAND
                  for t, _ in CHINESE_TRADE]
    if country == "Japan":
        short += [f"{b}{t}株式会社" for b, _ in JAPANESE_BRAND for t, _ in JAPANESE_TRADE]
    long = [f"{w} {v} {k} {legal}" for w in words for v in words if v != w for k in kinds]
    return ([short[i] for i in rng.permutation(len(short))]
            + [long[i] for i in rng.permutation(len(long))])


def _company_names(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """A name per company from its country's pool, skipping names a country with the same
    legal form took first; names repeat only once a pool is used up."""
    pools = [_name_pool(rng, label) for label in _COUNTRY_NAMES]
    next_in = [0] * len(pools)
    taken: set[str] = set()
    names = np.empty(len(country), dtype=object)
    for k, c in enumerate(country):
        pool, i = pools[c], next_in[c]
        while pool[i % len(pool)] in taken and i < next_in[c] + len(pool):
            i += 1
        names[k] = pool[i % len(pool)]
        next_in[c] = i + 1
        taken.add(names[k])
    return names


def _rep_in_region(rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
    """A sales rep of each element's region, all reps of a region equally likely."""
    table = (_REP_REGION[None, :] == np.arange(len(_REGION_NAMES))[:, None]).astype(float)
    return _choice_by_row(rng, table, region)


def _companies(rng: np.random.Generator, tl: _Timeline, accounts: int,
               prospects: int) -> _Companies:
    """``accounts`` accounts, then ``prospects`` companies that are not accounts yet."""
    n = accounts + prospects
    segment = _choice(rng, _probs(SEGMENTS.values()), n)
    region = _choice(rng, _probs(REGIONS.values()), n)
    country = _choice_by_row(rng, _COUNTRY_P, region)
    name = _company_names(rng, country)
    special = SPECIAL_ACCOUNTS[:accounts]
    at = (np.arange(len(special)) * accounts) // max(len(special), 1)
    for i, (label, home, land) in zip(at, special):
        name[i], region[i], country[i] = label, _REGION_NAMES.index(home), \
            _COUNTRY_NAMES.index(land)
    low, high, median = (_lookup({s: v[k] for s, v in SEGMENT_EMPLOYEES.items()},
                                 _SEGMENT_NAMES)[segment] for k in range(3))
    employees = np.clip(np.round(median * rng.lognormal(0, 0.8, n)), low, high).astype(np.int64)
    opening = rng.random(n) < ACCOUNT_OPENING_SHARE
    before = -rng.integers(1, ACCOUNT_HISTORY_DAYS, n)
    inside = _days_between(rng, tl.created_cum, np.zeros(n, int), np.full(n, tl.days))
    return _Companies(
        name=name, segment=segment, region=region, country=country,
        industry=_choice(rng, _probs(INDUSTRIES.values()), n), employees=employees,
        owner=_rep_in_region(rng, region), created=np.where(opening, before, inside),
        satisfaction=rng.normal(0, 1, n))


# --- campaigns -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Campaigns:
    names: tuple[str, ...]
    channel: np.ndarray  # index into _CAMPAIGN_CHANNELS
    first_day: np.ndarray
    last_day: np.ndarray

    @classmethod
    def build(cls, tl: _Timeline) -> _Campaigns:
        """The calendar's campaigns that ran between START and END (clipped to END)."""
        rows = []
        for year in range(int(START[:4]), int(END[:4]) + 1):
            for name, channel, month, day, length in CAMPAIGN_CALENDAR:
                begin = int((np.datetime64(f"{year}-{month:02d}-{day:02d}") - tl.origin)
                            .astype(int))
                finish = begin + length - 1
                if finish >= tl.start and begin < tl.days:
                    rows.append((begin, min(finish, tl.end), f"{name} {year}",
                                 _CAMPAIGN_CHANNELS.index(channel)))
        rows.sort(key=lambda r: (r[0], r[2]))
        return cls(tuple(r[2] for r in rows), np.array([r[3] for r in rows]),
                   np.array([r[0] for r in rows]), np.array([r[1] for r in rows]))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(f"CMP{i:03d}" for i in range(1, len(self.names) + 1))

    def credit(self, rng: np.random.Generator, day: np.ndarray, source: np.ndarray,
               share: float) -> np.ndarray:
        """For each row, with chance ``share``, a campaign of the source's channel that ran
        on ``day`` or up to ATTRIBUTION_DAYS before it (uniformly among them); else -1."""
        channel = _SOURCE_CHANNEL[source]
        eligible = ((self.channel[None, :] == channel[:, None])
                    & (day[:, None] >= self.first_day[None, :])
                    & (day[:, None] <= self.last_day[None, :] + ATTRIBUTION_DAYS))
        count = eligible.sum(axis=1)
        kth = (rng.random(len(day)) * count).astype(int)
        chosen = np.argmax(np.cumsum(eligible, axis=1) > kth[:, None], axis=1)
        credited = (count > 0) & (rng.random(len(day)) < share)
        return np.where(credited, chosen, -1)


# --- deals -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Deals:
    """Opportunities in created order, one array element per deal."""

    company: np.ndarray  # index into _Companies
    prospect: np.ndarray  # bool: the company is not an account
    first: np.ndarray  # bool: the deal the account was created with
    created: np.ndarray
    close: np.ndarray  # actual close (closed deals) or expected close (open ones)
    outcome: np.ndarray  # 0 open, 1 won, 2 lost
    stage: np.ndarray  # index into _STAGE_NAMES
    kind: np.ndarray  # index into _TYPE_NAMES
    product: np.ndarray
    source: np.ndarray
    owner: np.ndarray
    amount: np.ndarray
    campaign: np.ndarray  # -1 for none
    loss_reason: np.ndarray


def _deal_starts(rng: np.random.Generator, tl: _Timeline, co: _Companies,
                 accounts: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(company, created day, first-deal flag) of every deal, accounts' then prospects'."""
    created = co.created[:accounts]
    new = created >= 0
    first_company = np.flatnonzero(new)
    lo = np.where(new, np.minimum(created + 1, tl.days), 0)
    activity = rng.gamma(ACTIVITY_SHAPE, 1 / ACTIVITY_SHAPE, accounts)
    rate = _lookup(SEGMENT_DEALS_PER_MONTH, _SEGMENT_NAMES)[co.segment[:accounts]] * activity
    count = rng.poisson(rate / DAYS_PER_MONTH * (tl.created_cum[tl.days] - tl.created_cum[lo]))
    repeat_company = np.repeat(np.arange(accounts), count)
    repeat_day = _days_between(rng, tl.created_cum, lo[repeat_company],
                               np.full(len(repeat_company), tl.days))
    prospects = np.arange(accounts, len(co.name))
    prospect_day = tl.end - rng.integers(0, PROSPECT_DAYS, len(prospects))
    company = np.concatenate([first_company, repeat_company, prospects])
    day = np.concatenate([created[new], repeat_day, prospect_day])
    first = np.concatenate([np.ones(len(first_company), bool),
                            np.zeros(len(repeat_company) + len(prospects), bool)])
    return company, day, first


def _win_chance(co: _Companies, company, seg, kind, source, owner, size) -> np.ndarray:
    """Probability that a deal is won: a logistic model of the log-odds effects above."""
    existing = kind != _TYPE_NAMES.index("New Business")
    logit = (BASE_WIN_LOGIT
             + _lookup(SEGMENT_WIN_LOGIT, _SEGMENT_NAMES)[seg]
             + _lookup(TYPE_WIN_LOGIT, _TYPE_NAMES)[kind]
             + _lookup(SOURCE_WIN_LOGIT, SOURCES)[source]
             + _lookup(REP_WIN_SKILL, _REP_NAMES)[owner]
             + DEAL_SIZE_WIN_EFFECT * np.log(size)
             + SATISFACTION_WIN_EFFECT * existing * co.satisfaction[company])
    return 1 / (1 + np.exp(-logit))


def _quarter_end_push(rng: np.random.Generator, tl: _Timeline, created: np.ndarray,
                      close: np.ndarray, pushed: np.ndarray) -> np.ndarray:
    """Close days of the ``pushed`` deals moved, with QUARTER_END_PUSH's chance, into the
    last QUARTER_END_DAYS of a quarter: their own, later than they were, or the previous
    one when they fell in the first PULL_IN_DAYS of theirs (never before ``created``)."""
    at = np.minimum(close, tl.end)
    previous_end = tl.quarter_start[at] - 1
    pull_in = (at - tl.quarter_start[at] < PULL_IN_DAYS) & (created <= previous_end)
    last = np.where(pull_in, previous_end, tl.quarter_end[at])
    chance = _lookup(QUARTER_END_PUSH, range(1, 5))[tl.quarter[np.maximum(last, 0)] - 1]
    push = pushed & (rng.random(len(close)) < chance)
    lo = np.maximum(np.where(pull_in, created, close), last - QUARTER_END_DAYS + 1)
    moved = lo + (rng.random(len(close)) * (last - lo + 1)).astype(int)
    return np.where(push, moved, close)


def _month_end(tl: _Timeline, day: np.ndarray) -> np.ndarray:
    month = (tl.origin + day.astype("timedelta64[D]")).astype("datetime64[M]")
    return ((month + 1).astype("datetime64[D]") - 1 - tl.origin).astype(int)


def _deals(rng: np.random.Generator, tl: _Timeline, co: _Companies, camps: _Campaigns,
           accounts: int) -> _Deals:
    """Every deal: what it sells, who owns it, how it ends and when; in created order."""
    company, created, first = _deal_starts(rng, tl, co, accounts)
    n = len(company)
    prospect = company >= accounts
    seg = co.segment[company]
    kind = np.where(first | prospect, 0, _choice(rng, _probs(DEAL_TYPES.values()), n))
    source = _choice_by_row(rng, _mix(SOURCE_MIX, _TYPE_NAMES, SOURCES), kind)
    product = _choice_by_row(rng, _mix(PRODUCT_MIX, _TYPE_NAMES, _PRODUCT_NAMES), kind)
    owner = np.where(rng.random(n) < OWNER_SELLS_SHARE, co.owner[company],
                     _rep_in_region(rng, co.region[company]))
    size = rng.lognormal(0, DEAL_SIZE_SIGMA, n)
    amount = np.maximum(np.round(_lookup(SEGMENT_DEAL_SIZE, _SEGMENT_NAMES)[seg]
                                 * _lookup(TYPE_DEAL_SIZE, _TYPE_NAMES)[kind]
                                 * _lookup(PRODUCT_SIZE, _PRODUCT_NAMES)[product] * size, -2),
                        500.0)
    cycle_mean = np.where(kind == _TYPE_NAMES.index("Renewal"), RENEWAL_CYCLE_DAYS,
                          _lookup(SEGMENT_CYCLE_DAYS, _SEGMENT_NAMES)[seg]
                          * _lookup(TYPE_CYCLE, _TYPE_NAMES)[kind])
    cycle = np.maximum(rng.gamma(CYCLE_SHAPE, cycle_mean / CYCLE_SHAPE), MIN_CYCLE_DAYS)
    won = rng.random(n) < _win_chance(co, company, seg, kind, source, owner, size)
    duration = np.minimum(np.where(won, cycle, cycle * rng.uniform(*LOST_AT, n)),
                          MAX_DEAL_DAYS)
    close = created + np.ceil(duration).astype(int)
    close = np.where(prospect, tl.days + close - created, close)  # prospects are all open
    close = _quarter_end_push(rng, tl, created, close, won & (close <= tl.end))
    is_open = close > tl.end
    outcome = np.where(is_open, 0, np.where(won, 1, 2))
    progress = (tl.end - created) / duration  # how far along its own path an open deal is
    open_stage = np.minimum((progress * OPEN_STAGE_COUNT).astype(int), OPEN_STAGE_COUNT - 1)
    open_stage = np.where(prospect, np.minimum(open_stage, 1), open_stage)
    stage = np.where(is_open, open_stage, OPEN_STAGE_COUNT + outcome - 1)
    expected = _month_end(tl, np.maximum(created + np.ceil(cycle).astype(int), tl.end + 1))
    close = np.where(is_open, expected, close)
    campaign = camps.credit(rng, created, source, DEAL_CAMPAIGN_SHARE)
    loss_reason = _choice(rng, _probs(LOSS_REASONS.values()), n)
    keep = is_open | (close >= tl.start)
    order = np.flatnonzero(keep)[np.lexsort((np.flatnonzero(keep), created[keep]))]
    return _Deals(company=company[order], prospect=prospect[order], first=first[order],
                  created=created[order], close=close[order], outcome=outcome[order],
                  stage=stage[order], kind=kind[order], product=product[order],
                  source=source[order], owner=owner[order], amount=amount[order],
                  campaign=campaign[order], loss_reason=loss_reason[order])


def _deal_names(co: _Companies, deals: _Deals) -> list[str]:
    """Salesforce-style names: "<company> - <product>", renewals say so."""
    renewal = _TYPE_NAMES.index("Renewal")
    return [f"{co.name[c]} - {_PRODUCT_NAMES[p]}" + (" Renewal" if k == renewal else "")
            for c, p, k in zip(deals.company, deals.product, deals.kind)]


# --- leads -----------------------------------------------------------------------------------

def _lead_status(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """Status (index into LEAD_STATUSES) of leads that did not convert, by age in days."""
    status = np.zeros(len(age), dtype=int)
    lower = -1
    for bound, weights in LEAD_STATUS_BY_AGE:
        band = (age > lower) if bound is None else (age > lower) & (age <= bound)
        p = _probs(weights.get(s, 0.0) for s in LEAD_STATUSES)
        status[band] = _choice(rng, p, int(band.sum()))
        lower = bound if bound is not None else lower
    return status


def _lead_table(rng: np.random.Generator, tl: _Timeline, co: _Companies, deals: _Deals,
                camps: _Campaigns, account_ids: pa.Array) -> pa.Table:
    """Converted leads behind new-business deals, plus the many that did not convert."""
    lead_source = _LEAD_SOURCE_OF[deals.source]
    new_business = (deals.kind == 0) & ~deals.prospect & (lead_source >= 0)
    behind = new_business & (deals.first | (rng.random(len(deals.kind))
                                            < LEAD_BEHIND_NEW_BUSINESS))
    conv = np.flatnonzero(behind)
    conv_day = deals.created[conv]
    conv_created = conv_day - np.round(rng.gamma(2.0, LEAD_WORK_DAYS / 2, len(conv))).astype(int)
    # as many unconverted leads per source as its conversion rate implies
    converted_here = np.bincount(lead_source[conv][conv_day >= tl.start],
                                 minlength=len(_LEAD_SOURCES))
    rate = _lookup(LEAD_CONVERSION, _LEAD_SOURCES)
    other_lead_source = np.repeat(np.arange(len(_LEAD_SOURCES)),
                                  rng.poisson(converted_here * (1 - rate) / rate))
    other_source = np.array([SOURCES.index(s) for s in _LEAD_SOURCES])[other_lead_source]
    m = len(other_source)
    other_created = _days_between(rng, tl.created_cum, np.full(m, tl.start), np.full(m, tl.days))
    other_status = _lead_status(rng, tl.end - other_created)
    other_owner = _rep_in_region(rng, _choice(rng, _probs(REGIONS.values()), m))
    other_campaign = camps.credit(rng, other_created, other_source, 0.8)

    created = np.concatenate([conv_created, other_created])
    converted = np.concatenate([np.ones(len(conv), bool), np.zeros(m, bool)])
    status = np.concatenate([np.full(len(conv), LEAD_STATUSES.index("Converted")), other_status])
    source = np.concatenate([deals.source[conv], other_source])
    campaign = np.concatenate([deals.campaign[conv], other_campaign])
    owner = np.concatenate([deals.owner[conv], other_owner])
    account = np.concatenate([deals.company[conv], np.full(m, -1)])
    converted_day = np.concatenate([conv_day, np.zeros(m, int)])
    order = np.lexsort((np.arange(len(created)), created))
    return pa.table({
        "lead_id": _ids("LD", len(order), 6),
        "created_date": tl.dates(created[order]),
        "status": _labels(LEAD_STATUSES, status[order]),
        "converted": pa.array(converted[order]),
        "converted_date": tl.dates(converted_day[order], ~converted[order]),
        "owner": _labels(_REP_NAMES, owner[order]),
        "source": _labels(SOURCES, source[order]),
        "campaign_id": _labels(camps.ids, np.maximum(campaign[order], 0), campaign[order] < 0),
        "customer_id": account_ids.take(pa.array(account[order], mask=account[order] < 0)),
    })


# --- cases -----------------------------------------------------------------------------------

def _case_table(rng: np.random.Generator, tl: _Timeline, co: _Companies, accounts: int,
                account_ids: pa.Array) -> pa.Table:
    """Inquiries and complaints (fewer from satisfied accounts) from START on, follow-ups."""
    lo = np.maximum(co.created[:accounts] + 1, tl.start)
    hi = np.full(accounts, tl.days)
    exposure = np.maximum(hi - lo, 0) / DAYS_PER_MONTH
    inquiry_rate = _lookup(SEGMENT_CASES_PER_MONTH, _SEGMENT_NAMES)[co.segment[:accounts]]
    complaint_rate = inquiry_rate * COMPLAINT_SHARE * np.exp(
        -COMPLAINT_SATISFACTION_EFFECT * co.satisfaction[:accounts])
    parts = []
    for kind, rate in ((0, inquiry_rate), (1, complaint_rate)):
        account = np.repeat(np.arange(accounts), rng.poisson(rate * exposure))
        day = lo[account] + (rng.random(len(account)) * (hi - lo)[account]).astype(int)
        parts.append((account, day, np.full(len(account), kind)))
    complaint_account, complaint_day, _ = parts[1]
    follow = rng.random(len(complaint_day)) < FOLLOW_UP_SHARE
    follow_day = complaint_day[follow] + rng.integers(1, 8, int(follow.sum()))
    keep = follow_day < tl.days
    parts.append((complaint_account[follow][keep], follow_day[keep],
                  np.full(int(keep.sum()), 2)))
    account, day, kind = (np.concatenate(p) for p in zip(*parts))

    hour = _choice(rng, _probs(SERVICE_HOUR_WEIGHTS), len(day))
    opened = day * 86400 + hour * 3600 + rng.integers(0, 3600, len(day))
    hours = _lookup(RESOLUTION_HOURS, CASE_TYPES)[kind] * rng.lognormal(0, 0.9, len(day))
    closed = opened + (hours * 3600).astype(np.int64) + 60
    still_open = (closed >= tl.days * 86400) | (rng.random(len(day)) < STUCK_CASE_SHARE)
    csat = np.clip(np.round(3.9 + 0.7 * co.satisfaction[account] - 0.6 * (kind == 1)
                            - 0.3 * np.log2(np.maximum(hours, 1) / 24)
                            + rng.normal(0, 0.6, len(day))), 1, 5).astype(np.int64)
    no_csat = still_open | (rng.random(len(day)) < CASE_CSAT_MISSING)
    width = np.array([len(CASE_REASONS[t]) for t in CASE_TYPES])
    offset = np.concatenate([[0], np.cumsum(width)])[:-1]
    reason = offset[kind] + (rng.random(len(day)) * width[kind]).astype(int)
    channel = _choice(rng, _probs(CASE_CHANNELS.values()), len(day))
    order = np.lexsort((np.arange(len(day)), opened))
    return pa.table({
        "ticket_id": _ids("CS", len(order), 6),
        "opened_at": tl.stamps(opened[order]),
        "customer_id": account_ids.take(pa.array(account[order])),
        "type": _labels(CASE_TYPES, kind[order]),
        "closed_at": tl.stamps(np.where(still_open, 0, closed)[order], still_open[order]),
        "channel": _labels(tuple(CASE_CHANNELS), channel[order]),
        "csat": pa.array(csat[order], mask=no_csat[order]),
        "reason": _labels(tuple(r for t in CASE_TYPES for r in CASE_REASONS[t]), reason[order]),
    })


# --- campaigns and targets, from the won deals -----------------------------------------------

def _campaign_table(rng: np.random.Generator, tl: _Timeline, camps: _Campaigns,
                    accounts: int) -> pa.Table:
    """Campaigns with a budgeted cost: the channel's typical cost, scaled to the org's size;
    what each returned is left to the deals and leads credited to it."""
    typical = _lookup(CAMPAIGN_COST, _CAMPAIGN_CHANNELS)[camps.channel]
    cost = np.round(typical * accounts / DEFAULT_ACCOUNTS
                    * rng.lognormal(0, CAMPAIGN_COST_SPREAD, len(camps.names)), -1)
    return pa.table({
        "campaign_id": pa.array(camps.ids, pa.string()),
        "name": pa.array(camps.names, pa.string()),
        "channel": _labels(_CAMPAIGN_CHANNELS, camps.channel),
        "start_date": tl.dates(camps.first_day),
        "end_date": tl.dates(camps.last_day),
        "cost": pa.array(cost, pa.float64()),
    })


def _target_table(rng: np.random.Generator, tl: _Timeline, deals: _Deals) -> pa.Table:
    """Quarterly targets per rep: what they won over a drawn attainment, some reps beating
    their targets quarter after quarter."""
    first_quarter = np.unique(tl.quarter_end[tl.start:], return_index=True)[1] + tl.start
    quarter_of_day = np.searchsorted(first_quarter, np.arange(tl.days), side="right") - 1
    won = (deals.outcome == 1) & (deals.close >= tl.start)
    reps, quarters = len(_REP_NAMES), len(first_quarter)
    sold = np.zeros((reps, quarters))
    np.add.at(sold, (deals.owner[won], quarter_of_day[deals.close[won]]), deals.amount[won])
    bias = rng.normal(1.0, 0.12, reps)
    attainment = np.clip(bias[:, None] + rng.normal(0, 0.18, (reps, quarters)),
                         *TARGET_ATTAINMENT)
    typical = np.where(sold.sum(axis=1) > 0, sold.sum(axis=1) / quarters, 100_000.0)
    target = np.where(sold > 0, sold, typical[:, None]) / attainment
    step = 10.0 ** (np.floor(np.log10(target)) - 2)  # three significant figures
    target = (np.round(target / step) * step).T.ravel()  # quarter-major
    rep = np.tile(np.arange(reps), quarters)
    quarter = np.repeat(np.arange(quarters), reps)
    starts = first_quarter[quarter]
    return pa.table({
        "owner": _labels(_REP_NAMES, rep),
        "period_start": tl.dates(starts),
        "target_amount": pa.array(np.round(target, 2)),
        "period_end": tl.dates(tl.quarter_end[starts]),
        "region": _labels(_REGION_NAMES, _REP_REGION[rep]),
    })


# --- the tables ------------------------------------------------------------------------------

def _account_table(tl: _Timeline, co: _Companies, accounts: int,
                   account_ids: pa.Array) -> pa.Table:
    return pa.table({
        "customer_id": account_ids,
        "name": pa.array(list(co.name[:accounts]), pa.string()),
        "signup_date": tl.dates(co.created[:accounts]),
        "segment": _labels(_SEGMENT_NAMES, co.segment[:accounts]),
        "region": _labels(_REGION_NAMES, co.region[:accounts]),
        "country": _labels(_COUNTRY_NAMES, co.country[:accounts]),
        "owner": _labels(_REP_NAMES, co.owner[:accounts]),
        "industry": _labels(tuple(INDUSTRIES), co.industry[:accounts]),
        "employees": pa.array(co.employees[:accounts], pa.int64()),
    })


def _opportunity_table(tl: _Timeline, co: _Companies, deals: _Deals, camps: _Campaigns,
                       account_ids: pa.Array) -> pa.Table:
    account = np.where(deals.prospect, -1, deals.company)
    lost = deals.outcome == 2
    return pa.table({
        "opportunity_id": _ids("OPP", len(deals.company), 6),
        "customer_id": account_ids.take(pa.array(account, mask=account < 0)),
        "name": pa.array(_deal_names(co, deals), pa.string()),
        "created_date": tl.dates(deals.created),
        "close_date": tl.dates(deals.close),
        "stage": _labels(_STAGE_NAMES, deals.stage),
        "stage_order": pa.array(deals.stage + 1, pa.int64()),
        "outcome": _labels(("open", "won", "lost"), deals.outcome),
        "amount": pa.array(deals.amount, pa.float64()),
        "currency": pa.array([CURRENCY] * len(deals.company), pa.string()),
        "owner": _labels(_REP_NAMES, deals.owner),
        "product": _labels(_PRODUCT_NAMES, deals.product),
        "source": _labels(SOURCES, deals.source),
        "campaign_id": _labels(camps.ids, np.maximum(deals.campaign, 0), deals.campaign < 0),
        "probability": pa.array(_lookup(STAGES, _STAGE_NAMES)[deals.stage].astype(np.int64)),
        "type": _labels(_TYPE_NAMES, deals.kind),
        "loss_reason": _labels(tuple(LOSS_REASONS), deals.loss_reason, ~lost),
    })


def b2b_tables(accounts: int = DEFAULT_ACCOUNTS, seed: int = 42) -> dict[str, pa.Table]:
    """The six tables of a B2B org with ``accounts`` accounts, built in memory.

    Out: customers (the accounts), opportunities, leads, campaigns, tickets (cases) and
    targets, each an arrow table with canonical column names. Pure: the same arguments give
    the same tables.
    """
    _check(accounts, seed, "csv", START, END)
    accounts = int(accounts)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    tl = _Timeline.build()
    camps = _Campaigns.build(tl)
    prospects = int(rngs[0].poisson(PROSPECTS_PER_ACCOUNT * accounts))
    co = _companies(rngs[0], tl, accounts, prospects)
    deals = _deals(rngs[1], tl, co, camps, accounts)
    account_ids = _ids("ACC", accounts, 5)
    return {
        "customers": _account_table(tl, co, accounts, account_ids),
        "opportunities": _opportunity_table(tl, co, deals, camps, account_ids),
        "leads": _lead_table(rngs[2], tl, co, deals, camps, account_ids),
        "campaigns": _campaign_table(rngs[3], tl, camps, accounts),
        "tickets": _case_table(rngs[4], tl, co, accounts, account_ids),
        "targets": _target_table(rngs[5], tl, deals),
    }


def write_b2b_sample(out: str | Path, *, customers: int = DEFAULT_ACCOUNTS, seed: int = 42,
                     fmt: str = "csv",
                     progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write the B2B tables (``customers`` accounts) as out/<table>.csv or .parquet; return
    rows per table. Files appear under their final names only when all are written."""
    _check(customers, seed, fmt, START, END)
    counts = write_tables(out, b2b_tables(customers, seed), fmt)
    if progress is not None:
        progress("wrote " + ", ".join(f"{name} {rows:,}" for name, rows in counts.items())
                 + f" to {out}")
    return counts
