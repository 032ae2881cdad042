"""Synthetic subscription snapshot: one row per customer of a telecom / SaaS business as a
CRM export gives it, with the service tickets and survey responses of its last year,
reproducibly.

In:  a customer count and a seed (and a format: csv or parquet).
Out: ``<out>/customers|tickets|surveys.csv`` with the canonical column names of
     :mod:`crmkit.schema`. Customers carry no signup or churn date, as in a snapshot:
     ``tenure_months`` counts whole months as a customer (to ``SNAPSHOT``, or to leaving),
     ``churned`` (Yes/No) says whether they left in the ``WINDOW_MONTHS`` before
     ``SNAPSHOT``; ``plan``, ``contract``, ``payment_method`` and the Yes/No service flags
     of ``SERVICES`` are attribute columns. :func:`write_subscription_sample` returns the
     rows written per table; :func:`subscription_tables` builds them in memory.

Size. Per customer about 1.6 tickets and 0.6 survey responses over the year.

What the data shows (analysts and tests rely on it):
    * about a quarter of the customers churned in the year; churn is far higher on
      month-to-month contracts, in the first months of a subscription (a Weibull hazard
      with shape ``CHURN_SHAPE`` < 1), among unsatisfied customers, with a higher monthly
      revenue and when paying by electronic check; tech support and online security keep
      customers;
    * a latent satisfaction per customer (lower in the South) drives the recorded
      ``satisfaction`` (1-5, missing for ``SATISFACTION_MISSING`` of customers), complaints,
      ticket CSAT and survey scores; leavers complained more in their last 60 days;
    * churn reasons: unhappy leavers name service and competitors, the others price and
      moving; some cannot be won back (``UNWINNABLE_REASONS``: Deceased, Moved away,
      Business closed).

Conventions.
    * The snapshot holds everyone who was a customer on ``WINDOW_START`` or signed up
      after it; ``churn_reason`` is set exactly for churned customers.
    * ``monthly_revenue`` is the plan, its services and the contract discount, per month.
    * Tickets and surveys fall between ``WINDOW_START`` and ``SNAPSHOT``, while the customer
      was a customer; ticket ``opened_at`` / ``closed_at`` are timestamps.

Determinism. Each step (customers, their scores, tickets, surveys) draws from its own
``SeedSequence(seed).spawn`` child, so the same (customers, seed) gives byte-identical files
(with the same numpy and pyarrow).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from crmkit.sample import (DAYS_PER_MONTH, REGION_SATISFACTION, REGIONS, _check, _choice,
                           _choice_by_row, _probs, write_tables)

DEFAULT_CUSTOMERS = 3000

# --- the snapshot ----------------------------------------------------------------------------

SNAPSHOT = "2025-12-31"  # the day of the export
WINDOW_START = "2025-01-01"  # churn, tickets and surveys are counted from this day
WINDOW_MONTHS = 12
NEW_CUSTOMER_SHARE = 0.18  # customers who signed up inside the window
MAX_TENURE_MONTHS = 72  # the others had been customers for up to six years on WINDOW_START

# --- who the customers are -------------------------------------------------------------------

SEGMENTS = {"Consumer": 0.75, "SMB": 0.20, "Enterprise": 0.05}  # share of customers
SEGMENT_PRICE_FACTOR = {"Consumer": 1.0, "SMB": 1.6, "Enterprise": 3.0}  # on list prices
PLANS = {"Basic": 25.0, "Standard": 50.0, "Premium": 80.0}  # list price a month
PLAN_MIX = {"Basic": 0.35, "Standard": 0.42, "Premium": 0.23}  # share of customers
# Contract by months as a customer on WINDOW_START (up to the bound): loyal customers sign
# longer contracts.
CONTRACT_BY_TENURE = (
    (12, {"Month-to-month": 0.70, "One year": 0.18, "Two year": 0.12}),
    (36, {"Month-to-month": 0.50, "One year": 0.27, "Two year": 0.23}),
    (None, {"Month-to-month": 0.32, "One year": 0.30, "Two year": 0.38}),
)
CONTRACTS = ("Month-to-month", "One year", "Two year")
CONTRACT_DISCOUNT = {"Month-to-month": 1.00, "One year": 0.92, "Two year": 0.85}
PAYMENT_METHODS = {"Electronic check": 0.33, "Credit card": 0.23, "Bank transfer": 0.22,
                   "Mailed check": 0.22}  # share of customers
# Service flags: (share taking it on a Standard plan, price a month, log churn-hazard ratio).
SERVICES = {
    "online_security": (0.35, 6.0, -0.60),
    "tech_support": (0.35, 8.0, -0.70),
    "streaming": (0.45, 12.0, 0.10),
    "paperless_billing": (0.60, 0.0, 0.25),
}
PLAN_SERVICE_LIFT = {"Basic": 0.7, "Standard": 1.0, "Premium": 1.4}  # of the take-up share
PRICE_NOISE = 0.06  # log-normal spread of a customer's monthly revenue around the list

# --- churn -----------------------------------------------------------------------------------

CHURN_SHAPE = 0.6  # Weibull shape < 1: leaving is likeliest in the first months
BASE_CHURN_PER_MONTH = 0.12  # Weibull rate for a month-to-month customer, all else average
CONTRACT_CHURN_EFFECT = {"Month-to-month": 0.0, "One year": -1.6, "Two year": -3.0}  # log HR
PAYMENT_CHURN_EFFECT = {"Electronic check": 0.45, "Credit card": -0.10, "Bank transfer": -0.10,
                        "Mailed check": 0.0}  # log hazard ratio
SEGMENT_CHURN_EFFECT = {"Consumer": 0.0, "SMB": -0.2, "Enterprise": -0.5}  # log hazard ratio
SATISFACTION_CHURN_EFFECT = 0.7  # log hazard ratio per standard deviation less satisfied
REVENUE_CHURN_EFFECT = 0.8  # log hazard ratio per log unit of revenue above the typical
TYPICAL_PLAN = "Standard"  # a segment's typical revenue: this plan at the segment's prices
REGION_SATISFACTION_SHIFT = REGION_SATISFACTION  # the retail sample's: the South is worst
SATISFACTION_MISSING = 0.15  # customers with no satisfaction score on file
# Why leavers left: unhappy ones over service and rivals, the others over price and life.
CHURN_REASONS = {
    "unhappy": {"Service": 0.32, "Competitor": 0.28, "Price": 0.18, "Billing problems": 0.10,
                "Moved away": 0.05, "No longer needed": 0.04, "Deceased": 0.01, "Other": 0.02},
    "content": {"Price": 0.28, "Competitor": 0.16, "Moved away": 0.22, "No longer needed": 0.14,
                "Deceased": 0.06, "Service": 0.04, "Billing problems": 0.03, "Other": 0.07},
}
BUSINESS_REASONS = {"Deceased": "Business closed"}  # what a company gives instead
UNWINNABLE_REASONS = ("Deceased", "Moved away", "Business closed")  # no retention offer helps

# --- tickets and surveys ---------------------------------------------------------------------

TICKETS_PER_MONTH = {"inquiry": 0.09, "complaint": 0.025}  # complaint: average customer
COMPLAINT_SATISFACTION_EFFECT = 0.9  # log complaint-rate ratio per standard deviation
PRE_CHURN_COMPLAINTS = 0.8  # extra complaints (mean) in the 60 days before leaving
FOLLOW_UP_SHARE = 0.5  # complaints followed up by an outbound ticket 1-7 days later
RESOLUTION_HOURS = {"inquiry": 3.0, "complaint": 30.0, "follow_up": 1.0}  # median
STUCK_TICKET_SHARE = 0.01  # tickets never closed
TICKET_CSAT_MISSING = 0.40  # closed tickets the customer did not rate
TICKET_CHANNELS = {"Phone": 0.40, "Chat": 0.30, "Email": 0.20, "Store": 0.10}
TICKET_REASONS = {
    "inquiry": ("Billing question", "Plan change", "Add a service", "Contract terms",
                "Moving house"),
    "complaint": ("Billing error", "Outage", "Slow connection", "Price increase",
                  "Rude staff"),
    "follow_up": ("Complaint follow-up", "Retention call", "Satisfaction check"),
}
TICKET_TYPES = tuple(TICKET_REASONS)
SERVICE_HOUR_WEIGHTS = (0, 0, 0, 0, 0, 0, 1, 4, 10, 14, 15, 15,
                        13, 14, 14, 13, 12, 11, 9, 7, 5, 3, 1, 0)  # midnight .. 23h

SURVEYS_PER_MONTH = 0.06
SURVEY_COMMENT_SHARE = 0.40  # responses with a comment
SURVEY_COMMENTS = {
    1: ("Cancelling as soon as my contract ends.", "Third outage this month.",
        "Nobody answers the phone."),
    2: ("Too expensive for what it is.", "Billing is confusing.", "Support was slow."),
    3: ("It's fine.", "Works most of the time.", "Average."),
    4: ("Good value.", "Reliable service.", "Friendly support."),
    5: ("Excellent, never had a problem!", "Best provider I've had.",
        "Support solved it in minutes."),
}

# --- derived lookups (index order = dict order above) ----------------------------------------

_SEGMENT_NAMES = tuple(SEGMENTS)
_REGION_NAMES = tuple(REGIONS)
_PLAN_NAMES = tuple(PLANS)
_PAYMENT_NAMES = tuple(PAYMENT_METHODS)
_REASON_NAMES = tuple(CHURN_REASONS["unhappy"]) + tuple(BUSINESS_REASONS.values())
_BUSINESS_REASON_OF = np.array([_REASON_NAMES.index(BUSINESS_REASONS.get(r, r))
                                for r in _REASON_NAMES])


def _lookup(mapping: dict, names) -> np.ndarray:
    return np.array([mapping[name] for name in names], dtype=float)


def _labels(names, idx: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(list(names), pa.string()).take(pa.array(idx, pa.int64(), mask=missing))


def _ids(prefix: str, count: int, width: int) -> pa.Array:
    return pa.array([f"{prefix}{i:0{width}d}" for i in range(1, count + 1)], pa.string())


def _yes_no(flag: np.ndarray) -> pa.Array:
    return _labels(("No", "Yes"), flag.astype(int))


# --- customers -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Customers:
    """One array element per customer; days count from WINDOW_START."""

    segment: np.ndarray
    region: np.ndarray
    plan: np.ndarray
    contract: np.ndarray
    payment: np.ndarray
    services: dict[str, np.ndarray]  # bool per service
    monthly_revenue: np.ndarray
    satisfaction: np.ndarray  # latent, about standard normal
    signup_day: np.ndarray  # negative: before the window
    churn_day: np.ndarray  # the day they left; only meaningful where churned
    churned: np.ndarray
    tenure_months: np.ndarray
    churn_reason: np.ndarray  # index into _REASON_NAMES

    @property
    def active_start(self) -> np.ndarray:
        return np.maximum(self.signup_day, 0)

    def active_end(self, window_days: int) -> np.ndarray:
        """First day no longer a customer (exclusive), or the day after the snapshot."""
        return np.where(self.churned, self.churn_day, window_days)


def _contract(rng: np.random.Generator, months_before: np.ndarray) -> np.ndarray:
    """Contract (index into CONTRACTS) by months as a customer on WINDOW_START."""
    band = np.zeros(len(months_before), dtype=int)
    for bound, _ in CONTRACT_BY_TENURE[:-1]:
        band += months_before > bound
    table = np.vstack([_probs(mix[c] for c in CONTRACTS) for _, mix in CONTRACT_BY_TENURE])
    return _choice_by_row(rng, table, band)


def _churn_reasons(rng: np.random.Generator, unhappy: np.ndarray,
                   segment: np.ndarray) -> np.ndarray:
    reasons = tuple(CHURN_REASONS["unhappy"])
    table = np.vstack([_probs(CHURN_REASONS[mood][r] for r in reasons)
                       for mood in ("content", "unhappy")])
    reason = _choice_by_row(rng, table, unhappy.astype(int))
    business = segment != _SEGMENT_NAMES.index("Consumer")
    return np.where(business, _BUSINESS_REASON_OF[reason], reason)


def _customers(rng: np.random.Generator, n: int, window_days: int) -> _Customers:
    """Who the customers are, what they pay, and whether and when they left.

    Time to churn is Weibull with a proportional-hazards ratio from contract, payment,
    segment, services, satisfaction and revenue; a customer who had been with us for
    ``t0`` months on WINDOW_START is drawn given that they stayed that long:
    ``H(t) = H(t0) + Exp(1)``.
    """
    segment = _choice(rng, _probs(SEGMENTS.values()), n)
    region = _choice(rng, _probs(REGIONS.values()), n)
    new = rng.random(n) < NEW_CUSTOMER_SHARE
    signup_month = np.where(new, rng.uniform(0, WINDOW_MONTHS, n),
                            -rng.uniform(0, MAX_TENURE_MONTHS, n))
    contract = _contract(rng, np.maximum(-signup_month, 0))
    plan = _choice(rng, _probs(PLAN_MIX.values()), n)
    payment = _choice(rng, _probs(PAYMENT_METHODS.values()), n)
    lift = _lookup(PLAN_SERVICE_LIFT, _PLAN_NAMES)[plan]
    services = {name: rng.random(n) < np.minimum(share * lift, 0.95)
                for name, (share, _, _) in SERVICES.items()}
    list_price = (_lookup(PLANS, _PLAN_NAMES)[plan]
                  + sum(SERVICES[name][1] * taken for name, taken in services.items()))
    list_price = (list_price * _lookup(SEGMENT_PRICE_FACTOR, _SEGMENT_NAMES)[segment]
                  * _lookup(CONTRACT_DISCOUNT, CONTRACTS)[contract])
    monthly_revenue = np.round(list_price * rng.lognormal(0, PRICE_NOISE, n), 2)
    typical = PLANS[TYPICAL_PLAN] * _lookup(SEGMENT_PRICE_FACTOR, _SEGMENT_NAMES)[segment]
    satisfaction = rng.normal(0, 1, n) + _lookup(REGION_SATISFACTION_SHIFT, _REGION_NAMES)[region]

    log_hazard = (_lookup(CONTRACT_CHURN_EFFECT, CONTRACTS)[contract]
                  + _lookup(PAYMENT_CHURN_EFFECT, _PAYMENT_NAMES)[payment]
                  + _lookup(SEGMENT_CHURN_EFFECT, _SEGMENT_NAMES)[segment]
                  + sum(SERVICES[name][2] * taken for name, taken in services.items())
                  - SATISFACTION_CHURN_EFFECT * satisfaction
                  + REVENUE_CHURN_EFFECT * np.log(monthly_revenue / typical))
    hazard_ratio = np.exp(log_hazard)
    months_before = np.maximum(-signup_month, 0)
    months_to_churn = ((BASE_CHURN_PER_MONTH * months_before) ** CHURN_SHAPE
                       + rng.exponential(1.0, n) / hazard_ratio) ** (1 / CHURN_SHAPE) \
        / BASE_CHURN_PER_MONTH
    churn_month = signup_month + months_to_churn
    churned = churn_month < WINDOW_MONTHS
    to_day = window_days / WINDOW_MONTHS
    signup_day = np.floor(signup_month * to_day).astype(int)
    # everyone in the snapshot was a customer for at least one day of the window
    churn_day = np.clip(np.floor(churn_month * to_day).astype(int),
                        np.maximum(signup_day, 0) + 1, window_days)
    churned &= churn_day < window_days
    tenure_months = np.floor(np.where(churned, months_to_churn,
                                      WINDOW_MONTHS - signup_month)).astype(np.int64)
    return _Customers(
        segment=segment, region=region, plan=plan, contract=contract, payment=payment,
        services=services, monthly_revenue=monthly_revenue, satisfaction=satisfaction,
        signup_day=signup_day, churn_day=churn_day, churned=churned,
        tenure_months=tenure_months,
        churn_reason=_churn_reasons(rng, satisfaction < -0.3, segment))


def _customer_table(rng: np.random.Generator, cu: _Customers,
                    customer_ids: pa.Array) -> pa.Table:
    """The snapshot as the CRM exports it: attributes first, no dates."""
    n = len(cu.segment)
    score = np.clip(np.round(3.4 + 0.9 * cu.satisfaction + rng.normal(0, 0.5, n)), 1, 5)
    missing = rng.random(n) < SATISFACTION_MISSING
    columns = {
        "customer_id": customer_ids,
        "plan": _labels(_PLAN_NAMES, cu.plan),
        "contract": _labels(CONTRACTS, cu.contract),
        "payment_method": _labels(_PAYMENT_NAMES, cu.payment),
    }
    columns.update({name: _yes_no(taken) for name, taken in cu.services.items()})
    columns.update({
        "region": _labels(_REGION_NAMES, cu.region),
        "segment": _labels(_SEGMENT_NAMES, cu.segment),
        "tenure_months": pa.array(cu.tenure_months, pa.int64()),
        "monthly_revenue": pa.array(cu.monthly_revenue, pa.float64()),
        "churned": _yes_no(cu.churned),
        "churn_reason": _labels(_REASON_NAMES, cu.churn_reason, ~cu.churned),
        "satisfaction": pa.array(score.astype(np.int64), mask=missing),
    })
    return pa.table(columns)


# --- tickets and surveys ---------------------------------------------------------------------

def _stamps(window_start: np.datetime64, sec: np.ndarray,
            missing: np.ndarray | None = None) -> pa.Array:
    base = window_start.astype("datetime64[s]")
    return pa.array(base + sec.astype("timedelta64[s]"), pa.timestamp("s"), mask=missing)


def _uniform_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return lo + np.minimum((rng.random(len(lo)) * (hi - lo)).astype(int), hi - lo - 1)


def _ticket_table(rng: np.random.Generator, cu: _Customers, window_start: np.datetime64,
                  window_days: int, customer_ids: pa.Array) -> pa.Table:
    """Inquiries and complaints while a customer, more complaints from the unsatisfied and
    from leavers in their last 60 days, and outbound follow-ups after complaints."""
    lo, hi = cu.active_start, cu.active_end(window_days)
    exposure = (hi - lo) / DAYS_PER_MONTH
    complaint_rate = TICKETS_PER_MONTH["complaint"] * np.exp(
        -COMPLAINT_SATISFACTION_EFFECT * cu.satisfaction)
    parts = []
    for kind, rate, start in ((0, TICKETS_PER_MONTH["inquiry"] * exposure, lo),
                              (1, complaint_rate * exposure, lo),
                              (1, PRE_CHURN_COMPLAINTS * cu.churned, np.maximum(lo, hi - 60))):
        who = np.repeat(np.arange(len(lo)), rng.poisson(rate))
        parts.append((who, _uniform_days(rng, start[who], hi[who]), np.full(len(who), kind)))
    who, day, kind = (np.concatenate(p) for p in zip(*parts))
    complaint = np.flatnonzero((kind == 1) & (rng.random(len(kind)) < FOLLOW_UP_SHARE))
    follow_day = day[complaint] + rng.integers(1, 8, len(complaint))
    keep = follow_day < hi[who[complaint]]
    who = np.concatenate([who, who[complaint][keep]])
    day = np.concatenate([day, follow_day[keep]])
    kind = np.concatenate([kind, np.full(int(keep.sum()), 2)])

    hour = _choice(rng, _probs(SERVICE_HOUR_WEIGHTS), len(day))
    opened = day * 86400 + hour * 3600 + rng.integers(0, 3600, len(day))
    hours = _lookup(RESOLUTION_HOURS, TICKET_TYPES)[kind] * rng.lognormal(0, 0.9, len(day))
    closed = opened + (hours * 3600).astype(np.int64) + 60
    still_open = (closed >= window_days * 86400) | (rng.random(len(day)) < STUCK_TICKET_SHARE)
    csat = np.clip(np.round(3.8 + 0.8 * cu.satisfaction[who] - 0.6 * (kind == 1)
                            - 0.3 * np.log2(np.maximum(hours, 1) / 24)
                            + rng.normal(0, 0.6, len(day))), 1, 5).astype(np.int64)
    no_csat = still_open | (rng.random(len(day)) < TICKET_CSAT_MISSING)
    width = np.array([len(TICKET_REASONS[t]) for t in TICKET_TYPES])
    offset = np.concatenate([[0], np.cumsum(width)])[:-1]
    reason = offset[kind] + (rng.random(len(day)) * width[kind]).astype(int)
    channel = _choice(rng, _probs(TICKET_CHANNELS.values()), len(day))
    order = np.lexsort((np.arange(len(day)), opened))
    return pa.table({
        "ticket_id": _ids("T", len(order), 6),
        "opened_at": _stamps(window_start, opened[order]),
        "customer_id": customer_ids.take(pa.array(who[order])),
        "type": _labels(TICKET_TYPES, kind[order]),
        "closed_at": _stamps(window_start, np.where(still_open, 0, closed)[order],
                             still_open[order]),
        "channel": _labels(tuple(TICKET_CHANNELS), channel[order]),
        "csat": pa.array(csat[order], mask=no_csat[order]),
        "reason": _labels(tuple(r for t in TICKET_TYPES for r in TICKET_REASONS[t]),
                          reason[order]),
    })


def _survey_table(rng: np.random.Generator, cu: _Customers, window_start: np.datetime64,
                  window_days: int, customer_ids: pa.Array) -> pa.Table:
    """Survey responses while a customer; CSAT and NPS follow the latent satisfaction."""
    lo, hi = cu.active_start, cu.active_end(window_days)
    who = np.repeat(np.arange(len(lo)), rng.poisson(SURVEYS_PER_MONTH * (hi - lo)
                                                    / DAYS_PER_MONTH))
    day = _uniform_days(rng, lo[who], hi[who])
    z = cu.satisfaction[who]
    csat = np.clip(np.round(3.5 + 1.0 * z + rng.normal(0, 0.7, len(who))), 1, 5).astype(int)
    nps = np.clip(np.round(7.0 + 2.0 * z + rng.normal(0, 1.3, len(who))), 0, 10).astype(int)
    width = np.array([len(SURVEY_COMMENTS[s]) for s in range(1, 6)])
    offset = np.concatenate([[0], np.cumsum(width)])[:-1]
    comment = offset[csat - 1] + (rng.random(len(who)) * width[csat - 1]).astype(int)
    silent = rng.random(len(who)) >= SURVEY_COMMENT_SHARE
    order = np.lexsort((np.arange(len(who)), day))
    return pa.table({
        "response_id": _ids("R", len(order), 6),
        "date": pa.array(window_start + day[order].astype("timedelta64[D]"), pa.date32()),
        "customer_id": customer_ids.take(pa.array(who[order])),
        "csat": pa.array(csat[order].astype(np.int64)),
        "nps": pa.array(nps[order].astype(np.int64)),
        "comment": _labels(tuple(c for s in range(1, 6) for c in SURVEY_COMMENTS[s]),
                           comment[order], silent[order]),
    })


# --- the tables ------------------------------------------------------------------------------

def subscription_tables(customers: int = DEFAULT_CUSTOMERS,
                        seed: int = 42) -> dict[str, pa.Table]:
    """The snapshot of ``customers`` customers with a year of tickets and surveys, in memory.

    Out: customers, tickets and surveys, each an arrow table with canonical column names
    (plus the customers' attribute columns). Pure: the same arguments give the same tables.
    """
    _check(customers, seed, "csv", WINDOW_START, SNAPSHOT)
    customers = int(customers)
    window_start = np.datetime64(WINDOW_START, "D")
    window_days = int((np.datetime64(SNAPSHOT, "D") - window_start).astype(int)) + 1
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    cu = _customers(rngs[0], customers, window_days)
    customer_ids = _ids("S", customers, 6)
    return {
        "customers": _customer_table(rngs[1], cu, customer_ids),
        "tickets": _ticket_table(rngs[2], cu, window_start, window_days, customer_ids),
        "surveys": _survey_table(rngs[3], cu, window_start, window_days, customer_ids),
    }


def write_subscription_sample(out: str | Path, *, customers: int = DEFAULT_CUSTOMERS,
                              seed: int = 42, fmt: str = "csv",
                              progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write the subscription snapshot as out/<table>.csv or .parquet; return rows per
    table. Files appear under their final names only when all are written."""
    _check(customers, seed, fmt, WINDOW_START, SNAPSHOT)
    counts = write_tables(out, subscription_tables(customers, seed), fmt)
    if progress is not None:
        progress("wrote " + ", ".join(f"{name} {rows:,}" for name, rows in counts.items())
                 + f" to {out}")
    return counts
