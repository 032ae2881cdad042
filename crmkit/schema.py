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
    min: float | None = None  # smallest valid value (inclusive) for number / integer
    max: float | None = None  # largest valid value (inclusive)
    values: tuple[str, ...] = ()  # allowed values for a category, if closed
    references: str | None = None  # "table.column" this column points to

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
            if col.name == name:
                return col
        raise KeyError(f"table {self.name} has no canonical column {name!r}")

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
            description="One row per customer. Optional: derived from orders when absent.",
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
                C("status", "category", "active or churned"),
                C("churn_date", "date", "Date the customer left (contractual churn)"),
                C("churn_reason", "category", "Why the customer left"),
                C("tenure_months", "integer", "Months as a customer", min=0),
                C("monthly_revenue", "number", "Recurring revenue per month", min=0),
            ),
        ),
        Table(
            "orders",
            key=("order_id",),
            description="One row per order (or order line). The only required table.",
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
            ),
        ),
        Table(
            "leads",
            key=("lead_id",),
            description="One row per lead or opportunity.",
            amount_column="amount",
            columns=(
                C("lead_id", "id", "Lead identifier", required=True),
                C("created_date", "date", "When the lead was created", required=True),
                C("stage", "category", "Pipeline stage"),
                C("won", "bool", "Whether the lead converted"),
                C("closed_date", "date", "When the lead was won or lost"),
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
                C("cost", "number", "Total cost", required=True, min=0),
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


def data_model_markdown() -> str:
    """The data contract as Markdown: one section per table, one row per column."""
    out = ["# crmkit data model", "",
           "Generated from `crmkit/schema.py` by `crmkit schema`; do not edit by hand.", "",
           "Only `orders` is required. Columns in **bold** are required in their table. "
           "Source columns that the mapping does not name are kept as attributes "
           "(usable as filters and breakdowns).", ""]
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
            name = f"**{c.name}**" if c.required else c.name
            out.append(f"| {name} | {c.kind} | {'; '.join(rules)} | {c.description} |")
        out.append("")
    return "\n".join(out)
