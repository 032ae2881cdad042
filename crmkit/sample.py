"""Synthetic retail CRM data: seven canonical tables of :mod:`crmkit.schema`, reproducibly.

In:  a customer count, a seed, a period (``start`` .. ``end``, both inclusive), a format and
     a language (``zh``: the same data in Chinese words, amounts in yuan; crmkit.sample_zh).
Out: ``<out>/customers|orders|leads|campaigns|tickets|surveys|targets.csv`` (or ``.parquet``),
     the columns of ``RETAIL_COLUMNS``, named and ordered as the schema names them;
     ``write_sample`` returns the number of rows written per table. The B2B pipeline and
     the subscription snapshot are :mod:`crmkit.sample_b2b` and
     :mod:`crmkit.sample_subscription`.

Size. Over the default 30-month period there are about 13 order rows per customer (sales,
returns, cancellations and the ~1 % guest sales together): 2,000 customers give about
26,000 orders, 77,000 about 1 million, 770,000 about 10 million. Per customer there are
also about 0.9 leads, 2.4 tickets and 1.2 survey responses. Orders per customer grow
roughly with the length of the period.

What the data shows (analysts and tests rely on it):
    * seasonality: a November-December peak and a June-August dip; fewer orders at weekends;
    * growth: sign-ups grow ``SIGNUP_GROWTH`` a year, prices rise ``PRICE_INCREASE`` a year;
    * segments differ: Enterprise orders rarely but large, Consumers often and small;
    * a latent satisfaction per customer (lower in the South) drives survey CSAT/NPS, ticket
      CSAT, complaints, returns and repeat buying, and raises the churn hazard
      (``CHURN_SATISFACTION_EFFECT``); churned customers also complain more in the 90 days
      before they leave, and give unhappier churn reasons;
    * campaigns with different returns on investment, leads with stages and win rates that
      differ by segment and source, monthly targets per sales rep met 65-140 %.

Conventions.
    * Order status: ``completed``; ``cancelled`` rows keep their positive amount and are not
      revenue; a return is its own row, status ``returned``, with negative quantity and
      negative amount, dated 2-30 days after the sale it reverses (which stays
      ``completed``), same customer, product, price, rep and campaign. Net revenue is
      therefore the sum of ``amount`` over completed and returned rows.
    * ``amount == quantity * unit_price`` to the cent (computed in integer cents).
    * Guest sales (~1 %) have an empty customer_id. Customers place no order, ticket or
      survey on or after their churn_date.
    * ``OPENING_BASE_SHARE`` of customers signed up in the two years before ``start`` (the
      business is not new); everyone else signs up inside the period, more each year.
      Nothing happens before ``start``: no orders, leads, tickets or surveys.
    * ``monthly_revenue`` is the customer's net revenue over the months they were active in
      the period (at least 1); ``tenure_months`` counts whole months from signup to churn
      (or to ``end``).
    * Open leads have ``won = false`` and no closed_date; their stage says how far they got.
      Won leads carry the customer_id they became and close on that customer's signup_date.
    * A campaign's cost is set from the revenue attributed to it and a drawn ROI, so
      campaigns of one channel cluster around that channel's ``CAMPAIGN_CHANNEL_ROI``.
    * Targets: one row per sales rep and calendar month; period_start is the 1st,
      period_end the last day, region the rep's home region.

Files. CSV: UTF-8, a header row, ``,`` separated, quoted only where needed, ISO dates
(``YYYY-MM-DD``; ``YYYY-MM-DD HH:MM:SS`` for order_date, opened_at, closed_at), ``.``
decimals, ``true``/``false``, empty for missing. Parquet: written with pyarrow, zstd,
one row group per block of customers, no time-varying metadata; dates are ``date32``,
timestamps ``timestamp[ms]`` (whole seconds).

Determinism and scale. Customers are generated in blocks of ``BLOCK_CUSTOMERS``, each from
its own ``SeedSequence(seed, spawn_key=(1, block))``, and every table is streamed out block by
block, so memory stays flat however many customers are asked for; the same
(customers, seed, start, end, fmt) gives byte-identical files (with the same numpy and pyarrow).
Within a block rows are in time order; ids are numbered in file order.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crmkit.exceptions import ConfigError
from crmkit.schema import TABLES

FORMATS = ("csv", "parquet")
LANGUAGES = ("en", "zh")  # the languages of the data's words (crmkit.sample_zh: Chinese)
BLOCK_CUSTOMERS = 50_000  # customers generated (and rows written) per block: bounds memory
ORDERS_PER_CUSTOMER = 13  # order rows per customer over the default period (sizes benchmarks)
DAYS_PER_MONTH = 30.4375

# --- the market ------------------------------------------------------------------------------

REGIONS = {"North": 0.30, "South": 0.25, "East": 0.20, "West": 0.25}  # share of customers
REGION_COUNTRIES = {
    "North": {"United Kingdom": 0.40, "Germany": 0.35, "Sweden": 0.25},
    "South": {"France": 0.35, "Spain": 0.35, "Italy": 0.30},
    "East": {"Poland": 0.40, "China": 0.35, "Japan": 0.25},
    "West": {"United States": 0.70, "Canada": 0.30},
}
# Shift of the latent satisfaction (standard deviations): service is worst in the South,
# so a satisfaction report has a region to point at.
REGION_SATISFACTION = {"North": 0.15, "South": -0.35, "East": 0.0, "West": 0.10}

SEGMENTS = {"Consumer": 0.62, "SMB": 0.28, "Enterprise": 0.10}  # share of customers
SEGMENT_ORDERS_PER_MONTH = {"Consumer": 0.50, "SMB": 0.90, "Enterprise": 1.60}  # mean rate
SEGMENT_UNITS = {"Consumer": 1.3, "SMB": 3.0, "Enterprise": 8.0}  # mean units per order
SEGMENT_PRICE_FACTOR = {"Consumer": 1.00, "SMB": 0.95, "Enterprise": 0.85}  # volume pricing
SEGMENT_CHURN_PER_MONTH = {"Consumer": 0.022, "SMB": 0.015, "Enterprise": 0.008}
SEGMENT_CATEGORY_MIX = {
    "Consumer": {"Devices": 0.10, "Accessories": 0.45, "Software": 0.15, "Services": 0.00,
                 "Supplies": 0.28, "Training": 0.02},
    "SMB": {"Devices": 0.22, "Accessories": 0.18, "Software": 0.25, "Services": 0.10,
            "Supplies": 0.17, "Training": 0.08},
    "Enterprise": {"Devices": 0.20, "Accessories": 0.08, "Software": 0.30, "Services": 0.25,
                   "Supplies": 0.05, "Training": 0.12},
}

CHANNELS = ("Online", "Retail", "Partner", "Phone")  # sales channels of orders
SEGMENT_CHANNEL_MIX = {
    "Consumer": {"Online": 0.60, "Retail": 0.30, "Partner": 0.05, "Phone": 0.05},
    "SMB": {"Online": 0.40, "Retail": 0.15, "Partner": 0.20, "Phone": 0.25},
    "Enterprise": {"Online": 0.15, "Retail": 0.00, "Partner": 0.45, "Phone": 0.40},
}
PREFERRED_CHANNEL_SHARE = 0.80  # orders through the customer's usual channel

# List prices; units of Services and Training are consultant days and seats.
PRODUCTS = {
    "Devices": {"Laptop Pro 14": 1499.0, "Laptop Air 13": 999.0, "Desktop Tower": 1199.0,
                "Tablet 11": 549.0, "Monitor 27": 329.0, "Smartphone X": 799.0},
    "Accessories": {"Wireless Mouse": 29.9, "Mechanical Keyboard": 89.0, "USB-C Dock": 179.0,
                    "Noise-Cancelling Headset": 219.0, "Laptop Sleeve": 39.0,
                    "Webcam HD": 79.0},
    "Software": {"Office Suite (1 yr)": 99.0, "Security Suite (1 yr)": 59.0,
                 "CRM Cloud Seat (1 yr)": 420.0, "Backup Cloud 1 TB (1 yr)": 119.0,
                 "Design Studio (1 yr)": 299.0},
    "Services": {"On-site Installation": 650.0, "Consulting Day": 1200.0,
                 "Data Migration": 2400.0, "Managed Support (1 mo)": 890.0},
    "Supplies": {"Printer Paper A4 (5 reams)": 24.5, "Toner Cartridge": 89.0,
                 "Ink Multipack": 45.0, "Cable Kit": 19.9, "Label Rolls": 14.5},
    "Training": {"Online Course": 199.0, "Workshop Seat": 690.0,
                 "Certification Exam": 350.0, "Team Bootcamp": 4900.0},
}
# How much of the segment's unit volume a category takes: nobody buys eight bootcamps.
CATEGORY_UNIT_FACTOR = {"Devices": 0.6, "Accessories": 1.0, "Software": 1.0,
                        "Services": 0.3, "Supplies": 1.0, "Training": 0.5}
ORDER_DISCOUNTS = {0.00: 0.75, 0.05: 0.12, 0.10: 0.09, 0.20: 0.04}  # discount: share of orders

# Sales reps and their home regions; customers are owned by a rep of their region.
SALES_REPS = {
    "Anna Schmidt": "North", "Oliver Hughes": "North", "Ingrid Lindqvist": "North",
    "Lucía Fernández": "South", "Marco Rossi": "South",
    "Łukasz Nowak": "East", "Mei Chen": "East",
    "James Carter": "West", "Sarah Mitchell": "West", "David Brooks": "West",
}
OWNER_SELLS_SHARE = 0.90  # orders credited to the account owner; the rest to a colleague

# --- time ------------------------------------------------------------------------------------

# Relative order intensity per calendar month: Q4 peak, summer dip.
MONTH_SEASONALITY = {1: 0.85, 2: 0.88, 3: 0.98, 4: 1.00, 5: 0.97, 6: 0.86,
                     7: 0.78, 8: 0.82, 9: 1.02, 10: 1.10, 11: 1.38, 12: 1.50}
WEEKDAY_FACTOR = (1.10, 1.08, 1.06, 1.05, 1.02, 0.80, 0.65)  # Monday .. Sunday
ORDER_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 20, 20,
                      19, 19, 18, 17, 16, 15, 14, 13, 11, 8, 5, 2)  # midnight .. 23h
SERVICE_HOUR_WEIGHTS = (0, 0, 0, 0, 0, 0, 1, 4, 12, 16, 16, 15,
                        12, 14, 15, 14, 12, 9, 5, 3, 2, 1, 0, 0)
SIGNUP_GROWTH = 0.20  # new customers per day grow 20 % a year
ORDER_GROWTH = 0.05  # and each customer buys 5 % more a year
PRICE_INCREASE = 0.03  # list prices rise 3 % a year

# --- customers -------------------------------------------------------------------------------

ACQUISITION_CHANNEL_MIX = {
    "Consumer": {"Organic": 0.30, "Paid Search": 0.25, "Social": 0.20, "Email": 0.10,
                 "Referral": 0.15, "Events": 0.00, "Partner": 0.00},
    "SMB": {"Organic": 0.20, "Paid Search": 0.20, "Social": 0.05, "Email": 0.10,
            "Referral": 0.15, "Events": 0.15, "Partner": 0.15},
    "Enterprise": {"Organic": 0.00, "Paid Search": 0.10, "Social": 0.00, "Email": 0.10,
                   "Referral": 0.20, "Events": 0.30, "Partner": 0.30},
}
ACQUISITION_COST = {"Organic": 15.0, "Paid Search": 90.0, "Social": 60.0, "Email": 30.0,
                    "Referral": 40.0, "Events": 400.0, "Partner": 250.0}  # mean CAC, Consumer
SEGMENT_CAC_FACTOR = {"Consumer": 1.0, "SMB": 3.0, "Enterprise": 12.0}
FIRST_ORDER_AT_SIGNUP = 0.92  # share of customers whose signup is their first order
# The business exists before the period: this share of customers signed up in the
# OPENING_BASE_DAYS before start (and were still customers on start), so revenue does not
# ramp up from zero in the first month.
OPENING_BASE_SHARE = 0.40
OPENING_BASE_DAYS = 730

CHURN_SHAPE = 0.85  # Weibull shape < 1: churn is likeliest early in a relationship
CHURN_SATISFACTION_EFFECT = 0.8  # log hazard ratio per standard deviation less satisfied
REPEAT_SATISFACTION_EFFECT = 0.25  # log purchase-rate ratio per standard deviation
MIN_TENURE_DAYS = 14
CHURN_REASONS = {  # unhappy customers leave over service and rivals; content ones over life
    "unhappy": {"Service quality": 0.35, "Competitor": 0.25, "Price": 0.20,
                "No longer needed": 0.10, "Moved": 0.05, "Other": 0.05},
    "content": {"Price": 0.30, "No longer needed": 0.25, "Moved": 0.20, "Competitor": 0.12,
                "Service quality": 0.05, "Other": 0.08},
}

# Deliberately awkward names (first block only). The script tag is a test case: reports
# must show it escaped. (name, email, segment, region, country)
SPECIAL_CUSTOMERS = (
    ("<script>alert(1)</script>", "xss-test@example.com", "Enterprise", "West",
     "United States"),
    ("Müller GmbH", "einkauf@mueller-gmbh.example", "SMB", "North", "Germany"),
    ("北京星辰贸易有限公司", "caigou@xingchen-trade.example", "Enterprise", "East", "China"),
    ("Société Générale Services", "achats@sgs.example", "Enterprise", "South", "France"),
    ("O'Brien & Sons Ltd", "accounts@obrien-sons.example", "SMB", "North", "United Kingdom"),
    ('Baker, Lewis & "Co" Inc.', "ap@baker-lewis.example", "SMB", "West", "United States"),
    ("Zoë Ægidius-Łukaszewicz", "zoe.aegidius@example.com", "Consumer", "East", "Poland"),
    ("サクラ商事株式会社", "info@sakura-shoji.example", "SMB", "East", "Japan"),
    ("José Ñúñez", "jose.nunez@example.com", "Consumer", "South", "Spain"),
)

# (display name, e-mail slug)
FIRST_NAMES = (("Anna", "anna"), ("Lukas", "lukas"), ("Sofia", "sofia"), ("James", "james"),
               ("Emma", "emma"), ("Noah", "noah"), ("Olivia", "olivia"), ("Liam", "liam"),
               ("Mia", "mia"), ("Elias", "elias"), ("Chloé", "chloe"), ("José", "jose"),
               ("Zoë", "zoe"), ("Łukasz", "lukasz"), ("Björn", "bjorn"), ("Inès", "ines"),
               ("Matteo", "matteo"), ("Giulia", "giulia"), ("Lars", "lars"),
               ("Ingrid", "ingrid"), ("Pierre", "pierre"), ("Marta", "marta"),
               ("Javier", "javier"), ("Agnieszka", "agnieszka"), ("Emily", "emily"),
               ("Michael", "michael"), ("Sarah", "sarah"), ("David", "david"))
LAST_NAMES = (("Smith", "smith"), ("Müller", "mueller"), ("García", "garcia"),
              ("Rossi", "rossi"), ("Dubois", "dubois"), ("Johansson", "johansson"),
              ("Kowalski", "kowalski"), ("Nowak", "nowak"), ("Schmidt", "schmidt"),
              ("Brown", "brown"), ("Martin", "martin"), ("Fernández", "fernandez"),
              ("Bianchi", "bianchi"), ("Lindqvist", "lindqvist"), ("Wójcik", "wojcik"),
              ("O'Connor", "oconnor"), ("Taylor", "taylor"), ("Weber", "weber"),
              ("Moreau", "moreau"), ("López", "lopez"))
COMPANY_WORDS = (("Northwind", "northwind"), ("Bluefin", "bluefin"), ("Alpine", "alpine"),
                 ("Silverline", "silverline"), ("Redwood", "redwood"),
                 ("Meridian", "meridian"), ("Lumen", "lumen"), ("Vertex", "vertex"),
                 ("Harbor", "harbor"), ("Nordic", "nordic"), ("Sunrise", "sunrise"),
                 ("Atlas", "atlas"), ("Cobalt", "cobalt"), ("Evergreen", "evergreen"),
                 ("Pinnacle", "pinnacle"), ("Keystone", "keystone"), ("Falcon", "falcon"),
                 ("Crescent", "crescent"))
COMPANY_KINDS = (("Trading", "trading"), ("Logistics", "logistics"), ("Systems", "systems"),
                 ("Consulting", "consulting"), ("Foods", "foods"), ("Retail", "retail"),
                 ("Media", "media"), ("Solutions", "solutions"),
                 ("Engineering", "engineering"), ("Health", "health"))
LEGAL_FORMS = {"United Kingdom": "Ltd", "Germany": "GmbH", "Sweden": "AB", "France": "SAS",
               "Spain": "S.L.", "Italy": "S.r.l.", "Poland": "Sp. z o.o.",
               "United States": "Inc.", "Canada": "Inc.", "China": "有限公司",
               "Japan": "株式会社"}
CHINESE_FAMILY = (("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
                  ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"))
CHINESE_GIVEN = (("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
                 ("磊", "lei"), ("洋", "yang"), ("秀英", "xiuying"))
CHINESE_COMPANY = (("上海", "shanghai"), ("深圳", "shenzhen"), ("广州", "guangzhou"),
                   ("杭州", "hangzhou"))
CHINESE_BRAND = (("华信", "huaxin"), ("远航", "yuanhang"), ("金桥", "jinqiao"),
                 ("新创", "xinchuang"), ("恒达", "hengda"))
CHINESE_TRADE = (("贸易", "trade"), ("科技", "tech"), ("物流", "logistics"),
                 ("电子", "electronics"))
JAPANESE_FAMILY = (("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"),
                   ("田中", "tanaka"), ("伊藤", "ito"), ("渡辺", "watanabe"))
JAPANESE_GIVEN = (("健", "ken"), ("陽子", "yoko"), ("翔", "sho"), ("美咲", "misaki"),
                  ("大輔", "daisuke"), ("さくら", "sakura"))
JAPANESE_BRAND = (("富士", "fuji"), ("青葉", "aoba"), ("東海", "tokai"), ("北斗", "hokuto"))
JAPANESE_TRADE = (("商事", "shoji"), ("物産", "bussan"), ("工業", "kogyo"),
                  ("電機", "denki"))

# --- orders ----------------------------------------------------------------------------------

CANCELLED_SHARE = 0.03
RETURNED_SHARE = 0.03  # of completed sales, for an average customer
RETURN_SATISFACTION_EFFECT = 0.4  # unhappy customers send more back
GUEST_ORDER_SHARE = 0.01
ORDER_CAMPAIGN_SHARE = 0.20  # of orders placed while a campaign runs, attributed to one

# --- campaigns: one row per entry and calendar year it falls into ----------------------------

# (name, channel, month, first day, days running, pull: relative share of attributions)
CAMPAIGN_CALENDAR = (
    ("New Year Newsletter", "Email", 1, 8, 21, 1.0),
    ("Spring Launch", "Paid Search", 3, 1, 42, 1.4),
    ("Partner Spring Push", "Partner", 4, 15, 60, 0.8),
    ("Summer Sale", "Social", 7, 1, 31, 1.2),
    ("Back to Business", "Paid Search", 9, 1, 30, 1.3),
    ("Trade Fair", "Events", 10, 10, 5, 2.0),
    ("Black Friday", "Email", 11, 20, 12, 2.5),
    ("Holiday Social", "Social", 12, 1, 24, 1.0),
)
CAMPAIGN_CHANNEL_ROI = {"Email": 3.5, "Paid Search": 1.2, "Social": 0.3, "Events": -0.2,
                        "Partner": 1.6}  # mean (revenue - cost) / cost
CAMPAIGN_ROI_SPREAD = 0.6  # standard deviation of a campaign's ROI around its channel's

# --- leads -----------------------------------------------------------------------------------

SEGMENT_LEAD_SHARE = {"Consumer": 0.20, "SMB": 0.75, "Enterprise": 1.00}  # customers from a lead
SEGMENT_WIN_RATE = {"Consumer": 0.50, "SMB": 0.30, "Enterprise": 0.20}
SEGMENT_SALES_CYCLE_DAYS = {"Consumer": 10, "SMB": 35, "Enterprise": 90}  # mean days to close
SEGMENT_DEAL_SIZE = {"Consumer": 300.0, "SMB": 4000.0, "Enterprise": 45000.0}  # median
# Non-converting leads per source, relative: social and events bring many weak leads.
LEAD_SOURCE_NOISE = {"Organic": 0.8, "Paid Search": 1.3, "Social": 2.0, "Email": 0.9,
                     "Referral": 0.5, "Events": 1.6, "Partner": 0.8}
LEAD_CAMPAIGN_SHARE = 0.70  # leads from a channel with a running campaign, attributed to it
OPEN_STAGES = ("New", "Qualified", "Proposal", "Negotiation")  # by progress through the cycle
LOST_REASONS = {"Price": 0.30, "Competitor": 0.25, "No budget": 0.15, "No response": 0.15,
                "Timing": 0.10, "Not a fit": 0.05}

# --- service ---------------------------------------------------------------------------------

TICKETS_PER_MONTH = {"inquiry": 0.06, "complaint": 0.025}
SEGMENT_TECHNICAL_PER_MONTH = {"Consumer": 0.01, "SMB": 0.03, "Enterprise": 0.06}
COMPLAINT_SATISFACTION_EFFECT = 0.9  # log complaint-rate ratio per standard deviation
PRE_CHURN_COMPLAINTS = 0.9  # extra complaints (mean) in the 90 days before churning
FOLLOW_UP_SHARE = 0.60  # complaints followed up by an outbound ticket 1-10 days later
RESOLUTION_HOURS = {"inquiry": 6.0, "technical": 30.0, "complaint": 48.0,
                    "follow_up": 4.0}  # median hours to close
STUCK_TICKET_SHARE = 0.02  # tickets never closed
TICKET_CSAT_MISSING = 0.25  # closed tickets whose customer skipped the rating
TICKET_CHANNELS = {"Email": 0.35, "Phone": 0.30, "Chat": 0.25, "Web form": 0.10}
TICKET_REASONS = {
    "inquiry": ("Pricing", "Product information", "Order status", "Account"),
    "technical": ("Login problem", "Integration", "Bug", "Performance"),
    "complaint": ("Late delivery", "Damaged product", "Billing error", "Rude staff",
                  "Product defect"),
    "follow_up": ("Complaint follow-up", "Satisfaction check", "Renewal"),
}
TICKET_TYPES = tuple(TICKET_REASONS)

SURVEYS_PER_MONTH = 0.08
SURVEY_COMMENT_SHARE = 0.45
SURVEY_COMMENTS = {
    1: ("Terrible support, nobody called back.", "Wrong invoice twice.",
        "Lieferung kam zu spät und beschädigt.", "Looking at other suppliers."),
    2: ("Delivery took too long.", "Prices went up again.", "Support was slow.",
        "服务响应太慢。"),
    3: ("It's okay.", "Average experience.", "Some issues with billing.",
        "Correct, sans plus."),
    4: ("Good service overall.", "Fast delivery.", "Helpful account manager.",
        "Très bon service."),
    5: ("Excellent, highly recommend!", "Best supplier we have.", "Great support team.",
        "非常满意，谢谢！", "Alles bestens!"),
}

# Order date, ticket opened_at and closed_at are timestamps; every other date is a date.
TIMESTAMP_COLUMNS = {("orders", "order_date"), ("tickets", "opened_at"),
                     ("tickets", "closed_at")}
# Whole months: written as integers though the contract allows fractional tenure.
INTEGER_COLUMNS = {("customers", "tenure_months")}

# The tables and columns written, in file order: the contract as it stood when data/sample
# was generated (leads say `won`, an alias of `converted`), so that the committed sample
# stays byte-identical while the contract grows columns this generator does not fill.
RETAIL_COLUMNS = {
    "customers": ("customer_id", "name", "email", "signup_date", "segment", "region",
                  "country", "acquisition_channel", "acquisition_cost", "owner", "status",
                  "churn_date", "churn_reason", "tenure_months", "monthly_revenue"),
    "orders": ("order_id", "order_date", "amount", "customer_id", "product", "category",
               "quantity", "unit_price", "channel", "region", "sales_rep", "status",
               "campaign_id"),
    "leads": ("lead_id", "created_date", "stage", "won", "closed_date", "amount", "owner",
              "source", "campaign_id", "customer_id", "lost_reason"),
    "campaigns": ("campaign_id", "name", "channel", "start_date", "end_date", "cost"),
    "tickets": ("ticket_id", "opened_at", "customer_id", "type", "closed_at", "channel",
                "csat", "reason"),
    "surveys": ("response_id", "date", "customer_id", "csat", "nps", "comment"),
    "targets": ("owner", "period_start", "target_amount", "period_end", "region"),
}

# --- derived lookup arrays (index order = dict order above) ----------------------------------

_REGION_NAMES = tuple(REGIONS)
_SEGMENT_NAMES = tuple(SEGMENTS)
_COUNTRY_NAMES = tuple(c for r in REGION_COUNTRIES.values() for c in r)
_CATEGORY_NAMES = tuple(PRODUCTS)
_PRODUCT_NAMES = tuple(p for cat in PRODUCTS.values() for p in cat)
_PRODUCT_CATEGORY = np.array([i for i, cat in enumerate(PRODUCTS.values()) for _ in cat])
_PRODUCT_PRICE = np.array([price for cat in PRODUCTS.values() for price in cat.values()])
_REP_NAMES = tuple(SALES_REPS)
_REP_REGION = np.array([_REGION_NAMES.index(r) for r in SALES_REPS.values()])
_ACQ_CHANNELS = tuple(ACQUISITION_COST)
_CHURN_REASON_NAMES = tuple(CHURN_REASONS["unhappy"])
_LOST_REASON_NAMES = tuple(LOST_REASONS)
_TICKET_CHANNEL_NAMES = tuple(TICKET_CHANNELS)


def _probs(weights) -> np.ndarray:
    w = np.asarray(list(weights), dtype=float)
    return w / w.sum()


def _table(rows: dict, cols: tuple[str, ...]) -> np.ndarray:
    """A segment x value probability table from nested dicts."""
    return np.vstack([_probs(rows[r][c] for c in cols) for r in rows])


_REGION_P = _probs(REGIONS.values())
_SEGMENT_P = _probs(SEGMENTS.values())
_COUNTRY_P = np.vstack([_probs(REGION_COUNTRIES[r].get(c, 0.0) for c in _COUNTRY_NAMES)
                        for r in _REGION_NAMES])
_CHANNEL_P = _table(SEGMENT_CHANNEL_MIX, CHANNELS)
_ACQ_P = _table(ACQUISITION_CHANNEL_MIX, _ACQ_CHANNELS)
_PRODUCT_P = np.vstack([
    _probs(SEGMENT_CATEGORY_MIX[s][_CATEGORY_NAMES[c]] / len(PRODUCTS[_CATEGORY_NAMES[c]])
           for c in _PRODUCT_CATEGORY)
    for s in _SEGMENT_NAMES])


@dataclass(frozen=True)
class _Calendar:
    """The day grid of the period and the intensities sampled from it."""

    start: np.datetime64  # first day
    days: int  # number of days, end inclusive
    order_cum: np.ndarray  # cumulative order intensity, len days + 1
    signup_cum: np.ndarray  # cumulative sign-up intensity, len days + 1
    month: np.ndarray  # calendar-month index of each day (0 = month of start)
    month_starts: np.ndarray  # first day of each calendar month touched, datetime64[D]

    @classmethod
    def build(cls, start: np.datetime64, end: np.datetime64) -> _Calendar:
        day = np.arange(start, end + 1, dtype="datetime64[D]")
        years = (day - start).astype(float) / 365.25
        month_of_year = (day.astype("datetime64[M]").astype(int) % 12) + 1
        season = np.array([MONTH_SEASONALITY[m] for m in range(1, 13)])[month_of_year - 1]
        weekday = np.asarray(WEEKDAY_FACTOR)[(day.astype(int) + 3) % 7]  # 1970-01-01: Thu
        orders = season * weekday * (1 + ORDER_GROWTH) ** years
        signups = season * weekday * (1 + SIGNUP_GROWTH) ** years
        months = day.astype("datetime64[M]")
        first_month = months[0]
        return cls(
            start=start, days=len(day),
            order_cum=np.concatenate([[0.0], np.cumsum(orders)]),
            signup_cum=np.concatenate([[0.0], np.cumsum(signups)]),
            month=(months - first_month).astype(int),
            month_starts=np.arange(first_month, months[-1] + 1).astype("datetime64[D]"),
        )


@dataclass(frozen=True)
class _Campaigns:
    """Campaigns in the period and which of them run on each day."""

    names: tuple[str, ...]
    channel: np.ndarray  # index into _ACQ_CHANNELS
    first_day: np.ndarray
    last_day: np.ndarray
    roi: np.ndarray
    pull: np.ndarray  # [day, campaign] attribution weight, 0 when not running

    @classmethod
    def build(cls, cal: _Calendar, rng: np.random.Generator) -> _Campaigns:
        first_year = int(str(cal.start)[:4])
        last_year = int(str(cal.start + cal.days - 1)[:4])
        rows = []
        for year in range(first_year, last_year + 1):
            for name, channel, month, day, length, pull in CAMPAIGN_CALENDAR:
                begin = (np.datetime64(f"{year}-{month:02d}-{day:02d}") - cal.start).astype(int)
                finish = begin + length - 1
                if finish >= 0 and begin < cal.days:  # overlaps the period
                    rows.append((int(max(begin, 0)), int(min(finish, cal.days - 1)),
                                 f"{name} {year}", channel, pull))
        rows.sort(key=lambda r: (r[0], r[2]))
        first = np.array([r[0] for r in rows], dtype=int)
        last = np.array([r[1] for r in rows], dtype=int)
        channel = np.array([_ACQ_CHANNELS.index(r[3]) for r in rows], dtype=int)
        mean_roi = np.array([CAMPAIGN_CHANNEL_ROI[r[3]] for r in rows])
        roi = np.maximum(mean_roi + rng.normal(0, CAMPAIGN_ROI_SPREAD, len(rows)), -0.8)
        days = np.arange(cal.days)[:, None]
        running = (days >= first[None, :]) & (days <= last[None, :])
        pull = running * np.array([r[4] for r in rows])[None, :]
        return cls(tuple(r[2] for r in rows), channel, first, last, roi, pull)

    def pick(self, rng: np.random.Generator, day: np.ndarray,
             channel: np.ndarray | None = None) -> np.ndarray:
        """A running campaign for each day (of the given channel), by pull; -1 if none."""
        out = np.full(len(day), -1)
        if not self.names or not len(day):
            return out
        weight = self.pull[day]
        if channel is not None:
            weight = weight * (self.channel[None, :] == channel[:, None])
        total = weight.sum(axis=1)
        has = total > 0
        cum = np.cumsum(weight[has], axis=1)
        u = rng.random(int(has.sum())) * total[has]
        out[has] = np.minimum((cum <= u[:, None]).sum(axis=1), len(self.names) - 1)
        return out


# --- small vectorized helpers ----------------------------------------------------------------

def _choice(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn from one probability vector (inverse CDF; stable across numpy)."""
    cum = np.cumsum(p)
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(size), side="right"), len(p) - 1)


def _choice_by_row(rng: np.random.Generator, table: np.ndarray, row: np.ndarray) -> np.ndarray:
    """For each element, an index drawn from ``table[row]`` (one distribution per row)."""
    u = rng.random(len(row))
    out = np.zeros(len(row), dtype=int)
    for r in range(table.shape[0]):
        cum = np.cumsum(table[r])
        mask = row == r
        out[mask] = np.searchsorted(cum / cum[-1], u[mask], side="right")
    return np.minimum(out, table.shape[1] - 1)


def _days_between(rng: np.random.Generator, cum: np.ndarray, lo: np.ndarray,
                  hi: np.ndarray) -> np.ndarray:
    """A day in [lo, hi) per element, drawn with the intensity whose cumsum is ``cum``."""
    target = cum[lo] + rng.random(len(lo)) * (cum[hi] - cum[lo])
    day = np.searchsorted(cum, target, side="right") - 1
    return np.clip(day, lo, hi - 1)


def _uniform_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return lo + np.minimum((rng.random(len(lo)) * (hi - lo)).astype(int), hi - lo - 1)


def _seconds(rng: np.random.Generator, day: np.ndarray, hour_weights) -> np.ndarray:
    """Seconds since the start of the period: the day plus a time of day."""
    hour = _choice(rng, _probs(hour_weights), len(day))
    return day * 86400 + hour * 3600 + rng.integers(0, 3600, len(day))


def _rep_in_region(rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
    """A sales rep of each element's region, all reps of a region equally likely."""
    table = (_REP_REGION[None, :] == np.arange(len(_REGION_NAMES))[:, None]).astype(float)
    return _choice_by_row(rng, table, region)


def _gather(values: np.ndarray, idx: np.ndarray, fill) -> np.ndarray:
    """``values[idx]`` with ``fill`` where idx is -1."""
    out = values[np.maximum(idx, 0)]
    return np.where(idx >= 0, out, fill)


# --- arrow column builders -------------------------------------------------------------------

def _labels(names, idx: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(list(names), pa.string()).take(pa.array(idx, pa.int64(), mask=missing))


def _ids(prefix: str, first: int, count: int, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(np.arange(first, first + count)).cast(pa.string()),
                          width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _dates(cal: _Calendar, day: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(cal.start + day.astype("timedelta64[D]"), pa.date32(), mask=missing)


def _stamps(cal: _Calendar, sec: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    base = cal.start.astype("datetime64[s]")
    return pa.array(base + sec.astype("timedelta64[s]"), pa.timestamp("s"), mask=missing)


def _money(cents: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(cents / 100.0, pa.float64(), mask=missing)


def _schema(table: str) -> pa.Schema:
    types = {"id": pa.string(), "text": pa.string(), "category": pa.string(),
             "number": pa.float64(), "integer": pa.int64(), "bool": pa.bool_()}
    fields = []
    for name in RETAIL_COLUMNS[table]:
        col = TABLES[table].column(name)
        if col.kind == "date":
            # milliseconds: Parquet has no seconds unit; values are whole seconds
            kind = pa.timestamp("ms") if (table, name) in TIMESTAMP_COLUMNS else pa.date32()
        elif (table, name) in INTEGER_COLUMNS:
            kind = pa.int64()
        else:
            kind = types[col.kind]
        fields.append(pa.field(name, kind, nullable=not col.required))
    return pa.schema(fields)


def _arrow_table(name: str, columns: dict[str, pa.Array]) -> pa.Table:
    schema = _schema(name)
    return pa.Table.from_arrays([columns[f.name].cast(f.type) for f in schema], schema=schema)


# --- names -----------------------------------------------------------------------------------

def _pick_text(rng: np.random.Generator, pairs, n: int) -> tuple[pa.Array, pa.Array]:
    """Display text and e-mail slug, drawn together from (text, slug) pairs."""
    idx = pa.array(rng.integers(0, len(pairs), n))
    return (pa.array([p[0] for p in pairs]).take(idx), pa.array([p[1] for p in pairs]).take(idx))


def _customer_names(rng: np.random.Generator, number: np.ndarray, segment: np.ndarray,
                    country: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Names and e-mails: people for consumers, companies otherwise, in the country's script."""
    n = len(number)
    num = pa.array(number).cast(pa.string())
    join = pc.binary_join_element_wise
    first, first_s = _pick_text(rng, FIRST_NAMES, n)
    last, last_s = _pick_text(rng, LAST_NAMES, n)
    word, word_s = _pick_text(rng, COMPANY_WORDS, n)
    kind, kind_s = _pick_text(rng, COMPANY_KINDS, n)
    legal = pa.array([LEGAL_FORMS[c] for c in _COUNTRY_NAMES]).take(pa.array(country))
    zh_fam, zh_fam_s = _pick_text(rng, CHINESE_FAMILY, n)
    zh_giv, zh_giv_s = _pick_text(rng, CHINESE_GIVEN, n)
    zh_city, _ = _pick_text(rng, CHINESE_COMPANY, n)
    zh_brand, zh_brand_s = _pick_text(rng, CHINESE_BRAND, n)
    zh_trade, zh_trade_s = _pick_text(rng, CHINESE_TRADE, n)
    ja_fam, ja_fam_s = _pick_text(rng, JAPANESE_FAMILY, n)
    ja_giv, ja_giv_s = _pick_text(rng, JAPANESE_GIVEN, n)
    ja_brand, ja_brand_s = _pick_text(rng, JAPANESE_BRAND, n)
    ja_trade, ja_trade_s = _pick_text(rng, JAPANESE_TRADE, n)
    names = [
        join(first, last, " "),
        join(word, kind, legal, " "),
        join(zh_fam, zh_giv, ""),
        join(zh_city, zh_brand, zh_trade, legal, ""),
        join(ja_fam, ja_giv, " "),
        join(ja_brand, ja_trade, legal, ""),
    ]
    emails = [
        join(first_s, ".", last_s, ".", num, "@example.com", ""),
        join("accounts.", num, "@", word_s, "-", kind_s, ".example", ""),
        join(zh_fam_s, ".", zh_giv_s, ".", num, "@example.cn", ""),
        join("caigou.", num, "@", zh_brand_s, "-", zh_trade_s, ".example", ""),
        join(ja_fam_s, ".", ja_giv_s, ".", num, "@example.jp", ""),
        join("info.", num, "@", ja_brand_s, "-", ja_trade_s, ".example", ""),
    ]
    script = np.where(country == _COUNTRY_NAMES.index("China"), 2,
                      np.where(country == _COUNTRY_NAMES.index("Japan"), 4, 0))
    which = pa.array((script + (segment != 0)).astype(np.int8))
    return pc.choose(which, *names), pc.choose(which, *emails)


# --- one block of customers and everything they do -------------------------------------------

@dataclass
class _Counters:
    """Numbers already used, so ids run on across blocks."""

    customer: int = 0
    order: int = 0
    lead: int = 0
    ticket: int = 0
    response: int = 0


def _block(rng: np.random.Generator, cal: _Calendar, camps: _Campaigns, n: int,
           counters: _Counters, first_block: bool, rep_month: np.ndarray,
           campaign_revenue: np.ndarray) -> dict[str, pa.Table]:
    """Generate ``n`` customers with their orders, leads, tickets and surveys.

    Adds the block's net revenue to ``rep_month`` [rep, month] and ``campaign_revenue``
    (for targets and campaign costs, written after the last block) and advances ``counters``.
    """
    days = cal.days
    # ---- customers: who they are
    n_opening = rng.binomial(n, OPENING_BASE_SHARE)
    signup = np.sort(np.concatenate([
        -rng.integers(1, OPENING_BASE_DAYS + 1, n_opening),
        _days_between(rng, cal.signup_cum, np.zeros(n - n_opening, int),
                      np.full(n - n_opening, days))]))
    active_start = np.maximum(signup, 0)  # first day the customer can act in the period
    segment = _choice(rng, _SEGMENT_P, n)
    region = _choice(rng, _REGION_P, n)
    country = _choice_by_row(rng, _COUNTRY_P, region)
    number = counters.customer + 1 + np.arange(n)
    names, emails = _customer_names(rng, number, segment, country)
    if first_block:  # spread the awkward names over the block; the script tag is listed
        # first, so even a one-customer sample has it
        special = SPECIAL_CUSTOMERS[:n]
        at = _special_rows(n)
        segment[at] = [_SEGMENT_NAMES.index(s[2]) for s in special]
        region[at] = [_REGION_NAMES.index(s[3]) for s in special]
        country[at] = [_COUNTRY_NAMES.index(s[4]) for s in special]
        name_list, email_list = names.to_pylist(), emails.to_pylist()
        for i, s in zip(at, special):
            name_list[i], email_list[i] = s[0], s[1]
        names, emails = pa.array(name_list, pa.string()), pa.array(email_list, pa.string())
    owner = _rep_in_region(rng, region)
    satisfaction = (rng.normal(0, 1, n)
                    + np.array(list(REGION_SATISFACTION.values()))[region])
    acq = _choice_by_row(rng, _ACQ_P, segment)
    cac = (np.array(list(ACQUISITION_COST.values()))[acq]
           * np.array(list(SEGMENT_CAC_FACTOR.values()))[segment]
           * rng.lognormal(-0.08, 0.4, n))
    preferred_channel = _choice_by_row(rng, _CHANNEL_P, segment)

    # ---- churn: a Weibull time to churn, its hazard raised by low satisfaction. Cumulative
    # hazard H(t) = hazard_ratio * (base * t) ** shape, t in months since signup, drawn as
    # H(t) = H(t0) + Exp(1): the opening base had survived t0 months when the period began.
    base = np.array(list(SEGMENT_CHURN_PER_MONTH.values()))[segment]
    hazard_ratio = np.exp(-CHURN_SATISFACTION_EFFECT * satisfaction)
    survived = (active_start - signup) / DAYS_PER_MONTH
    months_to_churn = ((base * survived) ** CHURN_SHAPE
                       + rng.exponential(1.0, n) / hazard_ratio) ** (1 / CHURN_SHAPE) / base
    churn_day = np.maximum(
        signup + np.maximum(months_to_churn * DAYS_PER_MONTH, MIN_TENURE_DAYS).astype(int),
        active_start + 1)
    churned = churn_day < days
    active_end = np.where(churned, churn_day, days)  # exclusive: nothing on/after churn
    unhappy = satisfaction < -0.3  # roughly the least satisfied third
    reason_table = np.vstack([_probs(CHURN_REASONS["content"][r] for r in _CHURN_REASON_NAMES),
                              _probs(CHURN_REASONS["unhappy"][r] for r in _CHURN_REASON_NAMES)])
    churn_reason = _choice_by_row(rng, reason_table, unhappy.astype(int))
    tenure_months = ((active_end - signup) / DAYS_PER_MONTH).astype(int)

    # ---- orders: a first order at signup, then a seasonal Poisson process until churn
    rate = (np.array(list(SEGMENT_ORDERS_PER_MONTH.values()))[segment]
            * rng.gamma(2.0, 0.5, n)
            * np.exp(REPEAT_SATISFACTION_EFFECT * satisfaction
                     - REPEAT_SATISFACTION_EFFECT ** 2 / 2))
    after_signup = np.where(signup >= 0, np.minimum(signup + 1, active_end), active_start)
    expected = rate / DAYS_PER_MONTH * (cal.order_cum[active_end] - cal.order_cum[after_signup])
    repeat = rng.poisson(expected)
    first = (rng.random(n) < FIRST_ORDER_AT_SIGNUP) & (signup >= 0)
    sale_cust = np.concatenate([np.flatnonzero(first), np.repeat(np.arange(n), repeat)])
    sale_day = np.concatenate([
        signup[first],
        _days_between(rng, cal.order_cum, np.repeat(after_signup, repeat),
                      np.repeat(active_end, repeat))])
    n_guest = rng.poisson(GUEST_ORDER_SHARE / (1 - GUEST_ORDER_SHARE) * len(sale_cust))
    sale_cust = np.concatenate([sale_cust, np.full(n_guest, -1)])
    sale_day = np.concatenate([
        sale_day, _days_between(rng, cal.order_cum, np.zeros(n_guest, int),
                                np.full(n_guest, days))])
    n_sales = len(sale_cust)
    guest = sale_cust < 0
    sale_seg = _gather(segment, sale_cust, 0)  # guests buy like consumers
    sale_region = np.where(guest, _choice(rng, _REGION_P, n_sales), _gather(region, sale_cust, 0))
    sale_sec = _seconds(rng, sale_day, ORDER_HOUR_WEIGHTS)
    own_channel = rng.random(n_sales) < PREFERRED_CHANNEL_SHARE
    channel = np.where(own_channel & ~guest, _gather(preferred_channel, sale_cust, 0),
                       _choice_by_row(rng, _CHANNEL_P, sale_seg))
    rep = np.where((rng.random(n_sales) < OWNER_SELLS_SHARE) & ~guest,
                   _gather(owner, sale_cust, 0), _rep_in_region(rng, sale_region))
    product = _choice_by_row(rng, _PRODUCT_P, sale_seg)
    category = _PRODUCT_CATEGORY[product]
    mean_units = 1 + ((np.array(list(SEGMENT_UNITS.values()))[sale_seg] - 1)
                      * np.array(list(CATEGORY_UNIT_FACTOR.values()))[category])
    quantity = rng.geometric(1 / mean_units)
    discount = np.array(list(ORDER_DISCOUNTS))[_choice(rng, _probs(ORDER_DISCOUNTS.values()),
                                                       n_sales)]
    price_index = (1 + PRICE_INCREASE) ** (sale_day / 365.25)
    unit_cents = np.round(_PRODUCT_PRICE[product]
                          * np.array(list(SEGMENT_PRICE_FACTOR.values()))[sale_seg]
                          * price_index * (1 - discount) * 100).astype(np.int64)
    campaign = np.full(n_sales, -1)
    attributed = rng.random(n_sales) < ORDER_CAMPAIGN_SHARE
    campaign[attributed] = camps.pick(rng, sale_day[attributed])
    status = np.where(rng.random(n_sales) < CANCELLED_SHARE, 1, 0)  # 0 completed, 1 cancelled
    sat_of_sale = _gather(satisfaction, sale_cust, 0.0)
    returns = (status == 0) & (rng.random(n_sales) < RETURNED_SHARE * np.exp(
        -RETURN_SATISFACTION_EFFECT * sat_of_sale - RETURN_SATISFACTION_EFFECT ** 2 / 2))
    return_sec = sale_sec + rng.integers(2, 31, n_sales) * 86400 + rng.integers(-3600, 3600,
                                                                                   n_sales)
    horizon = np.where(guest, days, _gather(active_end, sale_cust, days)) * 86400
    returns &= return_sec < horizon  # no return after churn or after the period
    ret = np.flatnonzero(returns)
    # all rows: sales then returns, sorted by time
    row = np.concatenate([np.arange(n_sales), ret])
    sec = np.concatenate([sale_sec, return_sec[ret]])
    sign = np.concatenate([np.ones(n_sales, np.int64), -np.ones(len(ret), np.int64)])
    state = np.concatenate([status, np.full(len(ret), 2)])
    order = np.argsort(sec, kind="stable")
    row, sec, sign, state = row[order], sec[order], sign[order], state[order]
    qty = quantity[row] * sign
    amount_cents = qty * unit_cents[row]
    n_orders = len(row)
    cust_of_row = sale_cust[row]
    customer_ids = _ids("C", counters.customer + 1, n, 7)
    orders = _arrow_table("orders", {
        "order_id": _ids("O", counters.order + 1, n_orders, 8),
        "order_date": _stamps(cal, sec),
        "amount": _money(amount_cents),
        "customer_id": customer_ids.take(pa.array(cust_of_row, mask=cust_of_row < 0)),
        "product": _labels(_PRODUCT_NAMES, product[row]),
        "category": _labels(_CATEGORY_NAMES, category[row]),
        "quantity": pa.array(qty.astype(float)),
        "unit_price": _money(unit_cents[row]),
        "channel": _labels(CHANNELS, channel[row]),
        "region": _labels(_REGION_NAMES, sale_region[row]),
        "sales_rep": _labels(_REP_NAMES, rep[row]),
        "status": _labels(("completed", "cancelled", "returned"), state),
        "campaign_id": _labels(_campaign_ids(len(camps.names)),
                               np.maximum(campaign[row], 0), campaign[row] < 0),
    })
    counters.order += n_orders

    # revenue bookkeeping: net = completed + returned
    revenue = (state != 1) * amount_cents / 100.0
    day_of_row = sec // 86400
    np.add.at(rep_month, (rep[row], cal.month[day_of_row]), revenue)
    with_campaign = campaign[row] >= 0
    np.add.at(campaign_revenue, campaign[row][with_campaign], revenue[with_campaign])
    known = cust_of_row >= 0
    customer_revenue = np.bincount(cust_of_row[known], weights=revenue[known], minlength=n)
    observed_months = np.maximum((active_end - active_start) / DAYS_PER_MONTH, 1.0)

    customers = _arrow_table("customers", {
        "customer_id": customer_ids,
        "name": names,
        "email": emails,
        "signup_date": _dates(cal, signup),
        "segment": _labels(_SEGMENT_NAMES, segment),
        "region": _labels(_REGION_NAMES, region),
        "country": _labels(_COUNTRY_NAMES, country),
        "acquisition_channel": _labels(_ACQ_CHANNELS, acq),
        "acquisition_cost": _money(np.round(cac * 100)),
        "owner": _labels(_REP_NAMES, owner),
        "status": _labels(("active", "churned"), churned.astype(int)),
        "churn_date": _dates(cal, np.where(churned, churn_day, 0), ~churned),
        "churn_reason": _labels(_CHURN_REASON_NAMES, churn_reason, ~churned),
        "tenure_months": pa.array(tenure_months, pa.int64()),
        "monthly_revenue": _money(np.round(np.maximum(customer_revenue, 0) * 100
                                           / observed_months)),
    })

    leads = _leads(rng, cal, camps, counters, customer_ids, signup, segment, owner, acq)
    tickets = _tickets(rng, cal, counters, customer_ids, active_start, active_end, churned,
                       segment, satisfaction)
    surveys = _surveys(rng, cal, counters, customer_ids, active_start, active_end,
                       satisfaction)
    counters.customer += n
    return {"customers": customers, "orders": orders, "leads": leads, "tickets": tickets,
            "surveys": surveys}


def _special_rows(n: int) -> np.ndarray:
    """Where the awkward names of ``SPECIAL_CUSTOMERS`` go among a first block of ``n``."""
    count = min(len(SPECIAL_CUSTOMERS), n)
    return (np.arange(count) * n) // count + n // (2 * count)


def _campaign_ids(count: int) -> tuple[str, ...]:
    return tuple(f"CMP{i:03d}" for i in range(1, count + 1))


def _leads(rng, cal, camps, counters, customer_ids, signup, segment, owner, acq) -> pa.Table:
    """Won leads behind some customers' signups, plus the lost and still-open ones."""
    n = len(signup)
    cycle_mean = np.array(list(SEGMENT_SALES_CYCLE_DAYS.values()), dtype=float)
    win_rate = np.array(list(SEGMENT_WIN_RATE.values()))
    # won: closed on the signup day, created one sales cycle earlier (not before the period);
    # the opening base's leads closed before the period and are not in it
    won_cust = np.flatnonzero(
        (rng.random(n) < np.array(list(SEGMENT_LEAD_SHARE.values()))[segment]) & (signup >= 0))
    won_seg = segment[won_cust]
    won_closed = signup[won_cust]
    won_created = np.maximum(
        won_closed - rng.gamma(2.0, cycle_mean[won_seg] / 2).astype(int), 0)
    # lost or open: as many as the segment's win rate implies
    extra = rng.poisson(np.bincount(won_seg, minlength=len(_SEGMENT_NAMES))
                        * (1 - win_rate) / win_rate)
    other_seg = np.repeat(np.arange(len(_SEGMENT_NAMES)), extra)
    m = len(other_seg)
    other_created = _days_between(rng, cal.signup_cum, np.zeros(m, int), np.full(m, cal.days))
    other_cycle = np.maximum(rng.gamma(2.0, cycle_mean[other_seg] / 2), 1.0)
    # a lost lead is dropped part-way through its cycle; one that would close after the
    # period is still open, at the stage its progress through the cycle reached
    close_day = (other_created + other_cycle * rng.uniform(0.3, 1.0, m)).astype(int)
    lost = close_day < cal.days
    other_closed = np.where(lost, close_day, 0)
    progress = (cal.days - 1 - other_created) / other_cycle
    open_stage = np.minimum((progress * len(OPEN_STAGES)).astype(int), len(OPEN_STAGES) - 1)
    noise_table = _ACQ_P * _probs(LEAD_SOURCE_NOISE[c] for c in _ACQ_CHANNELS)[None, :]
    other_source = _choice_by_row(rng, noise_table, other_seg)
    region = _choice(rng, _REGION_P, m)
    # both together, in time order
    created = np.concatenate([won_created, other_created])
    source = np.concatenate([acq[won_cust], other_source])
    is_won = np.concatenate([np.ones(len(won_cust), bool), np.zeros(m, bool)])
    is_lost = np.concatenate([np.zeros(len(won_cust), bool), lost])
    closed = np.concatenate([won_closed, other_closed])
    stage = np.concatenate([np.full(len(won_cust), 4), np.where(lost, 5, open_stage)])
    seg = np.concatenate([won_seg, other_seg])
    rep = np.concatenate([owner[won_cust], _rep_in_region(rng, region)])
    cust = np.concatenate([won_cust, np.full(m, -1)])
    amount = np.round(np.array(list(SEGMENT_DEAL_SIZE.values()))[seg]
                      * rng.lognormal(0, 0.5, len(seg)), -1)
    campaign = np.full(len(seg), -1)
    attributed = rng.random(len(seg)) < LEAD_CAMPAIGN_SHARE
    campaign[attributed] = camps.pick(rng, created[attributed], source[attributed])
    lost_reason = _choice(rng, _probs(LOST_REASONS.values()), len(seg))
    order = np.lexsort((np.arange(len(seg)), created))
    k = len(order)
    is_open = ~(is_won | is_lost)
    table = _arrow_table("leads", {
        "lead_id": _ids("L", counters.lead + 1, k, 7),
        "created_date": _dates(cal, created[order]),
        "stage": _labels(OPEN_STAGES + ("Won", "Lost"), stage[order]),
        "won": pa.array(is_won[order]),
        "closed_date": _dates(cal, closed[order], is_open[order]),
        "amount": pa.array(amount[order]),
        "owner": _labels(_REP_NAMES, rep[order]),
        "source": _labels(_ACQ_CHANNELS, source[order]),
        "campaign_id": _labels(_campaign_ids(len(camps.names)), np.maximum(campaign[order], 0),
                               campaign[order] < 0),
        "customer_id": customer_ids.take(pa.array(cust[order], mask=cust[order] < 0)),
        "lost_reason": _labels(_LOST_REASON_NAMES, lost_reason[order], ~is_lost[order]),
    })
    counters.lead += k
    return table


def _tickets(rng, cal, counters, customer_ids, active_start, active_end, churned, segment,
             satisfaction) -> pa.Table:
    """Inquiries, technical issues and complaints while a customer is active, follow-ups."""
    exposure = (active_end - active_start) / DAYS_PER_MONTH
    rates = {
        "inquiry": np.full(len(active_start), TICKETS_PER_MONTH["inquiry"]),
        "technical": np.array(list(SEGMENT_TECHNICAL_PER_MONTH.values()))[segment],
        "complaint": TICKETS_PER_MONTH["complaint"] * np.exp(
            -COMPLAINT_SATISFACTION_EFFECT * satisfaction),
    }
    cust_parts, day_parts, type_parts = [], [], []
    for kind, rate in rates.items():
        count = rng.poisson(rate * exposure)
        cust = np.repeat(np.arange(len(active_start)), count)
        cust_parts.append(cust)
        day_parts.append(_uniform_days(rng, active_start[cust], active_end[cust]))
        type_parts.append(np.full(len(cust), TICKET_TYPES.index(kind)))
    # leavers complain in their last 90 days
    count = rng.poisson(PRE_CHURN_COMPLAINTS * churned)
    cust = np.repeat(np.arange(len(active_start)), count)
    cust_parts.append(cust)
    day_parts.append(_uniform_days(rng, np.maximum(active_start[cust], active_end[cust] - 90),
                                   active_end[cust]))
    type_parts.append(np.full(len(cust), TICKET_TYPES.index("complaint")))
    cust, day, kind = (np.concatenate(p) for p in (cust_parts, day_parts, type_parts))
    # follow-ups: outbound, some days after a complaint, while still a customer
    complaint = np.flatnonzero((kind == TICKET_TYPES.index("complaint"))
                               & (rng.random(len(kind)) < FOLLOW_UP_SHARE))
    follow_day = day[complaint] + rng.integers(1, 11, len(complaint))
    keep = follow_day < active_end[cust[complaint]]
    cust = np.concatenate([cust, cust[complaint][keep]])
    day = np.concatenate([day, follow_day[keep]])
    kind = np.concatenate([kind, np.full(int(keep.sum()), TICKET_TYPES.index("follow_up"))])

    opened = _seconds(rng, day, SERVICE_HOUR_WEIGHTS)
    median_hours = np.array([RESOLUTION_HOURS[t] for t in TICKET_TYPES])[kind]
    hours = median_hours * rng.lognormal(0, 0.9, len(kind))
    closed = opened + (hours * 3600).astype(np.int64) + 60
    still_open = (closed >= cal.days * 86400) | (rng.random(len(kind)) < STUCK_TICKET_SHARE)
    csat = np.clip(np.round(3.9 + 0.8 * satisfaction[cust]
                            - 0.35 * np.log2(np.maximum(hours, 1) / 24)
                            - 0.6 * (kind == TICKET_TYPES.index("complaint"))
                            + rng.normal(0, 0.6, len(kind))), 1, 5)
    no_csat = still_open | (rng.random(len(kind)) < TICKET_CSAT_MISSING)
    reasons, reason = _pick_within(rng, [TICKET_REASONS[t] for t in TICKET_TYPES], kind)
    channel = _choice(rng, _probs(TICKET_CHANNELS.values()), len(kind))

    order = np.lexsort((np.arange(len(kind)), opened))
    k = len(order)
    table = _arrow_table("tickets", {
        "ticket_id": _ids("T", counters.ticket + 1, k, 7),
        "opened_at": _stamps(cal, opened[order]),
        "customer_id": customer_ids.take(pa.array(cust[order])),
        "type": _labels(TICKET_TYPES, kind[order]),
        "closed_at": _stamps(cal, np.where(still_open, 0, closed)[order], still_open[order]),
        "channel": _labels(_TICKET_CHANNEL_NAMES, channel[order]),
        "csat": pa.array(csat[order], mask=no_csat[order]),
        "reason": _labels(reasons, reason[order]),
    })
    counters.ticket += k
    return table


def _pick_within(rng, groups: list, group: np.ndarray) -> tuple[tuple, np.ndarray]:
    """One label per row, uniformly among the labels of the row's group (``group`` indexes
    ``groups``, a list of label sequences): (all labels flattened, each row's index
    into them)."""
    labels = tuple(label for options in groups for label in options)
    width = np.array([len(options) for options in groups])
    offset = np.cumsum(np.concatenate([[0], width]))[:-1]
    return labels, offset[group] + (rng.random(len(group)) * width[group]).astype(int)


def _surveys(rng, cal, counters, customer_ids, active_start, active_end, satisfaction) -> pa.Table:
    """Survey responses while a customer is active; scores follow satisfaction."""
    exposure = (active_end - active_start) / DAYS_PER_MONTH
    count = rng.poisson(SURVEYS_PER_MONTH * exposure)
    cust = np.repeat(np.arange(len(active_start)), count)
    day = _uniform_days(rng, active_start[cust], active_end[cust])
    z = satisfaction[cust]
    csat = np.clip(np.round(3.6 + 1.0 * z + rng.normal(0, 0.7, len(cust))), 1, 5).astype(int)
    nps = np.clip(np.round(7.0 + 2.0 * z + rng.normal(0, 1.3, len(cust))), 0, 10).astype(int)
    comments, comment = _pick_within(rng, [SURVEY_COMMENTS[s] for s in range(1, 6)], csat - 1)
    silent = rng.random(len(cust)) >= SURVEY_COMMENT_SHARE
    order = np.lexsort((np.arange(len(cust)), day))
    k = len(order)
    table = _arrow_table("surveys", {
        "response_id": _ids("R", counters.response + 1, k, 7),
        "date": _dates(cal, day[order]),
        "customer_id": customer_ids.take(pa.array(cust[order])),
        "csat": pa.array(csat[order].astype(float)),
        "nps": pa.array(nps[order]),
        "comment": _labels(comments, comment[order], silent[order]),
    })
    counters.response += k
    return table


# --- tables written after the last block -----------------------------------------------------

def _campaign_table(cal: _Calendar, camps: _Campaigns, revenue: np.ndarray) -> pa.Table:
    """Campaign costs set from attributed net revenue and each campaign's drawn ROI."""
    cost = np.maximum(revenue, 0) / (1 + camps.roi)
    length = camps.last_day - camps.first_day + 1
    funded = cost > 0
    # a campaign nothing was attributed to still cost money: the typical cost per day
    per_day = (cost[funded].sum() / length[funded].sum()) if funded.any() else 100.0
    cost = np.where(funded, cost, per_day * length)
    return _arrow_table("campaigns", {
        "campaign_id": pa.array(_campaign_ids(len(camps.names)), pa.string()),
        "name": pa.array(camps.names, pa.string()),
        "channel": _labels(_ACQ_CHANNELS, camps.channel),
        "start_date": _dates(cal, camps.first_day),
        "end_date": _dates(cal, camps.last_day),
        "cost": _money(np.round(cost * 100)),
    })


def _target_table(rng: np.random.Generator, cal: _Calendar, rep_month: np.ndarray) -> pa.Table:
    """Monthly targets per rep: what they sold over a drawn attainment (about 0.65-1.4)."""
    reps, months = rep_month.shape
    bias = rng.normal(1.0, 0.08, reps)  # some reps beat their targets month after month
    attainment = np.clip(bias[:, None] + rng.normal(0, 0.12, (reps, months)), 0.65, 1.4)
    sold = np.maximum(rep_month, 0)
    typical = np.where(sold.sum(axis=1) > 0, sold.sum(axis=1) / months, 1000.0)
    base = np.where(sold > 0, sold, typical[:, None])  # a month with no sales still has a target
    target = base / attainment
    step = 10.0 ** (np.floor(np.log10(target)) - 2)  # three significant figures
    target = np.round(target / step) * step
    rep = np.repeat(np.arange(reps)[None, :], months, axis=0).ravel()  # month-major
    month = np.repeat(np.arange(months), reps)
    starts = cal.month_starts[month]
    ends = (starts.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
    return _arrow_table("targets", {
        "owner": _labels(_REP_NAMES, rep),
        "period_start": pa.array(starts, pa.date32()),
        "target_amount": pa.array(np.round(target.T.ravel(), 2)),
        "period_end": pa.array(ends, pa.date32()),
        "region": _labels(_REGION_NAMES, _REP_REGION[rep]),
    })


# --- writing ---------------------------------------------------------------------------------

_NEEDS_QUOTES = r'[",\r\n]'


def _csv_bytes(table: pa.Table, header: bool) -> bytes:
    """RFC 4180 CSV of an arrow table: quotes only where needed, empty for null."""
    columns = []
    for field, col in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type):
            col = col.cast(pa.timestamp("s"))  # "YYYY-MM-DD HH:MM:SS", no ".000"
        text = col.cast(pa.string()) if field.type != pa.string() else col
        if field.type == pa.string():
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"',
                                                 "")
            text = pc.if_else(pc.match_substring_regex(text, _NEEDS_QUOTES), quoted, text)
        columns.append(pc.fill_null(text, ""))
    head = (",".join(table.column_names) + "\n").encode() if header else b""
    if table.num_rows == 0:
        return head
    lines = pc.binary_join_element_wise(*columns, ",")
    lines = pc.binary_join_element_wise(lines, "", "\n")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32,
                            count=len(lines) + 1, offset=lines.offset * 4)
    data = lines.buffers()[2].to_pybytes()[offsets[0]:offsets[-1]]
    return head + data


class _TableWriter:
    """Streams one table to ``<out>/<name>.<fmt>`` under a temporary name until closed."""

    def __init__(self, out: Path, name: str, fmt: str):
        self.path = out / f"{name}.{fmt}"
        self.partial = out / f".{name}.{fmt}.partial"
        self.fmt = fmt
        self.rows = 0
        self.schema = _schema(name)
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(self.partial, self.schema, compression="zstd",
                                            compression_level=3)
        else:
            self._file = open(self.partial, "wb")
            self._file.write(_csv_bytes(self.schema.empty_table(), header=True))

    def write(self, table: pa.Table) -> None:
        if self.fmt == "parquet":
            # one row group per block; an empty block writes nothing
            if table.num_rows:
                self._writer.write_table(table, row_group_size=table.num_rows)
        else:
            self._file.write(_csv_bytes(table, header=False))
        self.rows += table.num_rows

    def close(self, keep: bool) -> None:
        if self.fmt == "parquet":
            self._writer.close()
        else:
            self._file.close()
        if keep:
            os.replace(self.partial, self.path)
        else:
            self.partial.unlink(missing_ok=True)


def _parquet_ready(table: pa.Table) -> pa.Table:
    """Timestamps in milliseconds (Parquet has no seconds unit); values stay whole seconds."""
    schema = pa.schema([pa.field(f.name, pa.timestamp("ms"), f.nullable)
                        if pa.types.is_timestamp(f.type) else f for f in table.schema])
    return table.cast(schema)


def write_tables(out: str | Path, tables: dict[str, pa.Table], fmt: str = "csv") -> dict[str, int]:
    """Write whole in-memory tables as out/<name>.csv (or .parquet); return rows per table.

    The file conventions of :func:`write_sample` (CSV quoted only where needed, ISO dates,
    ``true``/``false``, empty for missing; Parquet with zstd), for the generators that build
    each table in one piece (:mod:`crmkit.sample_b2b`, :mod:`crmkit.sample_subscription`).
    Files appear under their final names only when every table is written.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the sample tables.")
    out.mkdir(parents=True, exist_ok=True)
    partials = {name: out / f".{name}.{fmt}.partial" for name in tables}
    try:
        for name, table in tables.items():
            if fmt == "parquet":
                pq.write_table(_parquet_ready(table), partials[name], compression="zstd",
                               compression_level=3)
            else:
                partials[name].write_bytes(_csv_bytes(table, header=True))
    except BaseException:
        for partial in partials.values():
            partial.unlink(missing_ok=True)
        raise
    for name, partial in partials.items():
        os.replace(partial, out / f"{name}.{fmt}")
    return {name: table.num_rows for name, table in tables.items()}


def _check(customers, seed, fmt, start, end) -> tuple[np.datetime64, np.datetime64]:
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown sample format {fmt!r}; use one of: {', '.join(FORMATS)}.")
    if isinstance(customers, bool) or not isinstance(customers, numbers.Integral):
        raise ConfigError(f"customers must be a whole number, got {customers!r}.")
    if customers < 1:
        raise ConfigError(f"customers must be at least 1, got {customers}.")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"seed must be a non-negative whole number, got {seed!r}.")
    days = []
    for label, value in (("start", start), ("end", end)):
        try:
            days.append(np.datetime64(str(value), "D"))
        except ValueError:
            raise ConfigError(f"{label} must be a date like 2023-01-01, got {value!r}.") from None
    if days[1] <= days[0]:
        raise ConfigError(f"end ({end}) must be after start ({start}).")
    return days[0], days[1]


def write_sample(out: str | Path, *, customers: int = 2000, seed: int = 42, fmt: str = "csv",
                 start: str = "2023-01-01", end: str = "2025-06-30",
                 progress: Callable[[str], None] | None = None,
                 language: str = "en") -> dict[str, int]:
    """Write the seven tables as out/<table>.csv (or .parquet); return rows per table.

    ``start`` and ``end`` are inclusive ISO dates. ``progress``, if given, is called with a
    line of text after each block. Files appear under their final names only when every
    table is complete; other files in ``out`` are left alone. ``language="zh"`` writes the
    same data set in Chinese (names, regions, products, channels, reasons, comments and
    campaigns; amounts in yuan): :mod:`crmkit.sample_zh`.
    """
    if language not in LANGUAGES:
        raise ConfigError(f"Unknown sample language {language!r}; use one of: "
                          f"{', '.join(LANGUAGES)}.")
    first_day, last_day = _check(customers, seed, fmt, start, end)
    relabel = None
    if language == "zh":
        from crmkit.sample_zh import Relabel

        relabel = Relabel(seed)
    customers = int(customers)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the sample tables.")
    out.mkdir(parents=True, exist_ok=True)
    cal = _Calendar.build(first_day, last_day)
    # Seed-level draws (campaign ROIs, targets) use spawn key (0,); block b uses (1, b).
    catalogue_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    camps = _Campaigns.build(cal, catalogue_rng)
    rep_month = np.zeros((len(_REP_NAMES), len(cal.month_starts)))
    campaign_revenue = np.zeros(len(camps.names))
    counters = _Counters()
    writers = {name: _TableWriter(out, name, fmt) for name in RETAIL_COLUMNS}
    done = False
    try:
        blocks = -(-customers // BLOCK_CUSTOMERS)
        for block in range(blocks):
            n = min(BLOCK_CUSTOMERS, customers - block * BLOCK_CUSTOMERS)
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, block)))
            tables = _block(rng, cal, camps, n, counters, block == 0, rep_month,
                            campaign_revenue)
            if relabel is not None:
                tables = relabel.block(tables, block, first=block == 0)
            for name, table in tables.items():
                writers[name].write(table)
            if progress is not None:
                progress(f"block {block + 1}/{blocks}: {counters.customer:,} customers, "
                         f"{counters.order:,} orders")
        last = {"campaigns": _campaign_table(cal, camps, campaign_revenue),
                "targets": _target_table(catalogue_rng, cal, rep_month)}
        if relabel is not None:
            last = relabel.block(last, blocks)
        for name, table in last.items():
            writers[name].write(table)
        done = True
    finally:
        for writer in writers.values():
            writer.close(keep=done)
    counts = {name: writers[name].rows for name in RETAIL_COLUMNS}
    if progress is not None:
        progress("wrote " + ", ".join(f"{name} {rows:,}" for name, rows in counts.items())
                 + f" to {out}")
    return counts
