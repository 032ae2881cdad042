"""The CRM data contract: canonical tables and columns, defined once.

Everything else reads this module: ingest validates against it, the sample generator
writes it, the README's data-model section and ``crmkit schema`` print it.

Column kinds
    id        text identifier; ``17850.0`` from a float export is read as ``17850``
    text      free text (names, reasons, comments)
    category  text with a small set of values (segment, region, channel ...)
    date      calendar date or timestamp
    number    real number (money, scores)
    integer   whole number (quantities, months)
    bool      true/false (``true, yes, y, 1`` / ``false, no, n, 0``)
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("id", "text", "category", "date", "number", "integer", "bool")

# SQL storage type of each kind in the warehouse.
SQL_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "category": "VARCHAR",
    "date": "TIMESTAMP",
    "number": "DOUBLE",
    "integer": "BIGINT",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, kind, whether it is required, and its rules."""

    name: str
    kind: str
    description: str
    required: bool = False
    computed: bool = False  # set by ingest, never read from the source
    min: float | None = None  # smallest valid value (inclusive) for number / integer
    max: float | None = None  # largest valid value (inclusive)
    values: tuple[str, ...] = ()  # allowed values for a category, if closed
    references: str | None = None  # "table.column" this column points to
    # Other names the column is known by (older crmkit names, common export names): a
    # source column or config key with one of these names maps to this column.
    aliases: tuple[str, ...] = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}; use one of {KINDS}")

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class Table:
    """One canonical table: its key, its columns, and what it describes."""

    name: str
    key: tuple[str, ...]
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)
    # The measure summed into the audit's control totals (money in and out), if any.
    amount_column: str | None = None

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name or name in col.aliases:
                return col
        raise KeyError(f"table {self.name} has no canonical column {name!r}")

    def canonical_name(self, name: str) -> str | None:
        """``name`` itself, or the column it is an alias of; None when it is neither."""
        try:
            return self.column(name).name
        except KeyError:
            return None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


C = Column

ORDER_STATUSES = ("completed", "cancelled", "returned")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "customers",
            key=("customer_id",),
            description="One row per customer (or account). A customer snapshot alone "
                        "(tenure, churn flag, monthly revenue) is enough for churn. "
                        "Derived from orders when absent.",
            columns=(
                C("customer_id", "id", "Customer identifier", required=True),
                C("name", "text", "Customer or company name"),
                C("email", "text", "E-mail address"),
                C("signup_date", "date", "First contact or first order"),
                C("segment", "category", "Customer segment (e.g. Consumer, SMB, Enterprise)"),
                C("region", "category", "Sales region"),
                C("country", "category", "Country"),
                C("acquisition_channel", "category", "Channel the customer came from"),
                C("acquisition_cost", "number", "Cost of acquiring the customer (CAC)", min=0),
                C("owner", "category", "Account owner / sales rep"),
                C("status", "category", "active or churned (any other value is kept as "
                  "it is)"),
                C("churned", "bool", "Whether the customer has left (a churn flag); "
                  "derived from status when absent", aliases=("churn",)),
                C("churn_date", "date", "Date the customer left (contractual churn)"),
                C("churn_reason", "category", "Why the customer left"),
                C("tenure_months", "number", "Months as a customer (a snapshot's tenure); "
                  "derived from tenure_days when only that is given", min=0,
                  aliases=("tenure",)),
                C("tenure_days", "number", "Days as a customer, for CRMs that count tenure in "
                  "days", min=0, aliases=("tenure_in_days", "days_as_customer")),
                C("monthly_revenue", "number", "Recurring revenue per month", min=0,
                  aliases=("monthly_charges", "mrr")),
                C("satisfaction", "number", "Satisfaction score of the customer, if the "
                  "CRM keeps one", min=0),
            ),
        ),
        Table(
            "orders",
            key=("order_id",),
            description="One row per order (or order line): the retail / e-commerce shape.",
            amount_column="amount",
            columns=(
                C("order_id", "id", "Order identifier", required=True),
                C("order_date", "date", "When the order was placed", required=True),
                C("amount", "number", "Order value; may be derived as quantity x unit_price; "
                  "negative for a return", required=True),
                C("customer_id", "id", "Who bought; empty for a guest sale",
                  references="customers.customer_id"),
                C("product", "category", "Product name or code"),
                C("category", "category", "Product category"),
                C("quantity", "number", "Units; negative for a return"),
                C("unit_price", "number", "Price per unit", min=0),
                C("channel", "category", "Sales channel"),
                C("region", "category", "Sales region"),
                C("sales_rep", "category", "Who sold it"),
                C("status", "category", "completed, cancelled or returned", values=ORDER_STATUSES),
                C("campaign_id", "id", "Campaign the order is attributed to",
                  references="campaigns.campaign_id"),
                C("currency", "category", "ISO code of the amount's currency (USD, EUR, CNY "
                  "...); amounts are converted to the report currency when rates are given"),
                C("amount_original", "number", "The amount in its own currency, before "
                  "conversion (set by ingest)", computed=True),
            ),
        ),
        Table(
            "leads",
            key=("lead_id",),
            description="One row per lead: the top of the funnel (Salesforce Lead, HubSpot "
                        "contact in the lead stage, Zoho lead, Fxiaoke 线索).",
            amount_column="amount",
            columns=(
                C("lead_id", "id", "Lead identifier", required=True),
                C("created_date", "date", "When the lead was created", required=True),
                C("status", "category", "Lead status as the CRM names it (New, Working, "
                  "Qualified ...)"),
                C("stage", "category", "Funnel stage"),
                C("converted", "bool", "Whether the lead converted (into a customer or an "
                  "opportunity)", aliases=("won", "is_converted")),
                C("converted_date", "date", "When the lead converted; derived from "
                  "closed_date for converted leads when absent"),
                C("closed_date", "date", "When the lead was converted or disqualified"),
                C("amount", "number", "Expected or won deal value", min=0),
                C("owner", "category", "Sales rep working the lead"),
                C("source", "category", "Lead source"),
                C("campaign_id", "id", "Campaign that produced the lead",
                  references="campaigns.campaign_id"),
                C("customer_id", "id", "Customer the lead became",
                  references="customers.customer_id"),
                C("lost_reason", "category", "Why the lead was lost"),
            ),
        ),
        Table(
            "opportunities",
            key=("opportunity_id",),
            description="One row per opportunity (deal): the B2B pipeline shape (Salesforce "
                        "Opportunity, HubSpot deal, Zoho deal, Fxiaoke 商机). Each moves "
                        "through stages to won or lost; open deals have no outcome yet.",
            amount_column="amount",
            columns=(
                C("opportunity_id", "id", "Opportunity identifier", required=True,
                  aliases=("deal_id",)),
                C("customer_id", "id", "Account the deal is with; empty for a prospect",
                  references="customers.customer_id", aliases=("account_id", "account")),
                C("name", "text", "Deal name", aliases=("deal_name",)),
                C("created_date", "date", "When the deal was created (engaged); a deal "
                  "without one is kept with the flag no_created_date"),
                C("close_date", "date", "When the deal closed (won or lost), or is expected "
                  "to close (open)"),
                C("stage", "category", "Stage as the CRM names it", aliases=("deal_stage",
                                                                            "stage_name")),
                C("stage_order", "integer", "Position of the stage in the pipeline (from "
                  "the data or the config's `stages`)"),
                C("outcome", "category", "open, won or lost; derived from won / closed or "
                  "from the stage when absent", values=("open", "won", "lost")),
                C("won", "bool", "Whether the deal was won (empty while open)",
                  aliases=("is_won",)),
                C("closed", "bool", "Whether the deal is closed (won or lost)",
                  aliases=("is_closed",)),
                C("amount", "number", "Deal value (won value for won deals)",
                  aliases=("close_value", "deal_value")),
                C("currency", "category", "ISO code of the amount's currency"),
                C("amount_original", "number", "The amount in its own currency, before "
                  "conversion (set by ingest)", computed=True),
                C("owner", "category", "Sales rep who owns the deal",
                  aliases=("sales_agent", "deal_owner")),
                C("product", "category", "Product"),
                C("source", "category", "Where the deal came from (lead source)",
                  aliases=("lead_source",)),
                C("campaign_id", "id", "Campaign the deal is attributed to",
                  references="campaigns.campaign_id"),
                C("probability", "number", "Chance to win, 0-100 (the CRM's or the "
                  "stage's)", min=0, max=100),
                C("type", "category", "New business, renewal, upsell ..."),
                C("loss_reason", "category", "Why the deal was lost",
                  aliases=("lost_reason",)),
            ),
        ),
        Table(
            "campaigns",
            key=("campaign_id",),
            description="One row per marketing campaign.",
            amount_column="cost",
            columns=(
                C("campaign_id", "id", "Campaign identifier", required=True),
                C("name", "text", "Campaign name"),
                C("channel", "category", "Marketing channel"),
                C("start_date", "date", "First day"),
                C("end_date", "date", "Last day"),
                C("cost", "number", "Total cost; a campaign without one is kept and left "
                  "out of ROI and the costs per lead and acquisition", min=0),
            ),
        ),
        Table(
            "tickets",
            key=("ticket_id",),
            description="One row per service ticket (complaint, inquiry, follow-up ...).",
            columns=(
                C("ticket_id", "id", "Ticket identifier", required=True),
                C("opened_at", "date", "When the ticket was opened", required=True),
                C("customer_id", "id", "Customer who raised it",
                  references="customers.customer_id"),
                C("type", "category", "complaint, inquiry, follow_up, ..."),
                C("closed_at", "date", "When the ticket was closed"),
                C("channel", "category", "Contact channel"),
                C("csat", "number", "Satisfaction score given on closing (1-5)", min=1, max=5),
                C("reason", "category", "Topic of the ticket"),
            ),
        ),
        Table(
            "surveys",
            key=("response_id",),
            description="One row per survey response.",
            columns=(
                C("response_id", "id", "Response identifier", required=True),
                C("date", "date", "When the survey was answered", required=True),
                C("customer_id", "id", "Respondent", references="customers.customer_id"),
                C("csat", "number", "Satisfaction score (1-5)", min=1, max=5),
                C("nps", "integer", "Likelihood to recommend (0-10)", min=0, max=10),
                C("comment", "text", "Free-text comment"),
            ),
        ),
        Table(
            "targets",
            key=("owner", "period_start"),
            description="Sales targets per owner and period.",
            amount_column="target_amount",
            columns=(
                C("owner", "category", "Sales rep", required=True),
                C("period_start", "date", "First day of the period", required=True),
                C("target_amount", "number", "Target revenue", required=True, min=0),
                C("period_end", "date", "Last day of the period"),
                C("region", "category", "Region of the target"),
            ),
        ),
    )
}

TABLE_ORDER = tuple(TABLES)  # parents before children: customers, orders, leads ...

# Names that metrics and reports compute (and group by): an attribute column with one of
# these names would collide with them, so ingest renames it (`revenue` -> `account_revenue`).
DERIVED_NAMES = ("revenue", "net_revenue", "gross_revenue", "orders", "customers", "value",
                 "numerator", "denominator", "period", "group", "share", "rate", "n", "count",
                 "aov", "recency", "frequency", "monetary", "T", "bookings", "deals",
                 "win_rate", "pipeline", "target", "attainment", "rank", "segment_name")

# What each shape of CRM data needs: one of these tables with rows is enough to ingest.
PRIMARY_TABLES = ("orders", "opportunities", "customers")
OUTCOMES = ("open", "won", "lost")


# Which object of each CRM a canonical table is (for the data model's table of tables).
CRM_OBJECTS: dict[str, dict[str, str]] = {
    "customers": {"Salesforce": "Account (B2B) / Contact or Person Account (B2C)",
                  "HubSpot": "company / contact", "Zoho CRM": "Accounts / Contacts",
                  "纷享销客 (Fxiaoke)": "客户 (AccountObj)"},
    "orders": {"Salesforce": "Order (with OrderItem lines)",
               "HubSpot": "order (commerce) / line items", "Zoho CRM": "Sales Orders",
               "纷享销客 (Fxiaoke)": "销售订单 (SalesOrderObj)"},
    "opportunities": {"Salesforce": "Opportunity", "HubSpot": "deal",
                      "Zoho CRM": "Deals (Potentials)", "纷享销客 (Fxiaoke)": "商机 (OpportunityObj)"},
    "leads": {"Salesforce": "Lead", "HubSpot": "contact in the lead lifecycle stage",
              "Zoho CRM": "Leads", "纷享销客 (Fxiaoke)": "销售线索 (LeadsObj)"},
    "campaigns": {"Salesforce": "Campaign", "HubSpot": "campaign", "Zoho CRM": "Campaigns",
                  "纷享销客 (Fxiaoke)": "市场活动 (MarketingEventObj)"},
    "tickets": {"Salesforce": "Case", "HubSpot": "ticket", "Zoho CRM": "Cases",
                "纷享销客 (Fxiaoke)": "工单 / 服务请求"},
    "surveys": {"Salesforce": "Survey response (Feedback Management)",
                "HubSpot": "feedback submission", "Zoho CRM": "Zoho Survey responses",
                "纷享销客 (Fxiaoke)": "问卷 / 满意度回访"},
    "targets": {"Salesforce": "Quota (ForecastingQuota)", "HubSpot": "goal",
                "Zoho CRM": "Forecast targets", "纷享销客 (Fxiaoke)": "目标 (GoalValueObj)"},
}


def data_model_markdown() -> str:
    """The data contract as Markdown: one section per table, one row per column."""
    out = ["# crmkit data model", "",
           "Generated from `crmkit/schema.py` by `crmkit schema`; do not edit by hand.", "",
           "No single table is required: a data set needs orders (retail), opportunities "
           "(B2B pipeline) or customers (a subscription snapshot). "
           "Columns in **bold** are required in their table. "
           "Source columns that the mapping does not name are kept as attributes "
           "(usable as filters and breakdowns).", "",
           "## Which CRM object each table is", "",
           "| table | " + " | ".join(next(iter(CRM_OBJECTS.values()))) + " |",
           "|---|" + "---|" * len(next(iter(CRM_OBJECTS.values())))]
    for name, objects in CRM_OBJECTS.items():
        out.append(f"| {name} | " + " | ".join(objects.values()) + " |")
    out.append("")
    for t in TABLES.values():
        out += [f"## {t.name}", "", t.description, "", f"Key: `{', '.join(t.key)}`", "",
                "| column | kind | rules | description |", "|---|---|---|---|"]
        for c in t.columns:
            rules = []
            if c.min is not None:
                rules.append(f">= {c.min:g}")
            if c.max is not None:
                rules.append(f"<= {c.max:g}")
            if c.values:
                rules.append("one of " + ", ".join(c.values))
            if c.references:
                rules.append(f"-> {c.references}")
            if c.aliases:
                rules.append("also read from " + ", ".join(c.aliases))
            name = f"**{c.name}**" if c.required else c.name
            out.append(f"| {name} | {c.kind} | {'; '.join(rules)} | {c.description} |")
        out.append("")
    return "\n".join(out)
