"""The names a reader sees for the columns of report tables, in every language.

A table's column is named by its frame's column (``won_or_lost``); :func:`column_label`
gives the reader's name in the active language (``won or lost``, 赢单或输单). A column not
listed here is data (an attribute column of the user's, a stage or a month) and is shown
as it is, underscores as spaces.

The canonical names of the data model are code words too: :func:`table_label` gives a
table's (``orders``: 订单) and :func:`field_label` a canonical column's (``order_date``:
订单日期) where a text names them (an audit's reasons, a KPI's needs); English shows the
name itself. :func:`either` and :func:`series` join names the active language's way
("East or West", "a, b"; 华东或华西, a、b).
"""

from __future__ import annotations

from functools import reduce

from crmkit.i18n import N_, NP_, ptr, tr

COLUMNS: dict[str, str] = {
    "account": NP_("column", "account"),
    "account_share": NP_("column", "account share"),
    "accounts": NP_("column", "accounts"),
    "acquisition_channel": NP_("column", "acquisition channel"),
    "active": NP_("column", "active"),
    "active_at_start": NP_("column", "active at start"),
    "activity_rate": NP_("column", "activity rate"),
    "amount_in": NP_("column", "amount in"),
    "amount_kept_and_flagged": NP_("column", "amount kept and flagged"),
    "annual_revenue": NP_("column", "annual revenue"),
    "aov": NP_("column", "aov"),
    "applies to": NP_("column", "applies to"),
    "area": NP_("column", "area"),
    "as set": NP_("column", "as set"),
    "at_risk": NP_("column", "at risk"),
    "attainment": NP_("column", "attainment"),
    "band": NP_("column", "band"),
    "bookings": NP_("column", "bookings"),
    "bookings_rank": NP_("column", "bookings rank"),
    "bookings_share": NP_("column", "bookings share"),
    "cac": NP_("column", "cac"),
    "cac_to_clv": NP_("column", "cac to clv"),
    "campaign_cost": NP_("column", "campaign cost"),
    "campaigns": NP_("column", "campaigns"),
    "change_vs_last_year": NP_("column", "change vs last year"),
    "change_vs_previous": NP_("column", "change vs previous"),
    "channel": NP_("column", "channel"),
    "churn_95%_CI": NP_("column", "churn 95% CI"),
    "churn_base": NP_("column", "churn base"),
    "churn_probability": NP_("column", "churn probability"),
    "churn_rate": NP_("column", "churn rate"),
    "churn_rate_last_year": NP_("column", "churn rate last year"),
    "churn_reason": NP_("column", "churn reason"),
    "churned": NP_("column", "churned"),
    "ci_high": NP_("column", "ci high"),
    "ci_low": NP_("column", "ci low"),
    "close_month": NP_("column", "close month"),
    "closed": NP_("column", "closed"),
    "cluster": NP_("column", "cluster"),
    "clv": NP_("column", "clv"),
    "coefficient": NP_("column", "coefficient"),
    "complaint_rate": NP_("column", "complaint rate"),
    "converted": NP_("column", "converted"),
    "converted_leads": NP_("column", "converted leads"),
    "cost": NP_("column", "cost"),
    "cost_per_acquisition": NP_("column", "cost per acquisition"),
    "cost_per_lead": NP_("column", "cost per lead"),
    "cs": NP_("column", "cs"),
    "csat": NP_("column", "csat"),
    "csat_95%_CI": NP_("column", "csat 95% CI"),
    "csat_responses": NP_("column", "csat responses"),
    "cumulative_share": NP_("column", "cumulative share"),
    "currency": NP_("column", "currency"),
    "current": NP_("column", "current"),
    "customer_id": NP_("column", "customer id"),
    "customer_share": NP_("column", "customer share"),
    "customers": NP_("column", "customers"),
    "customers_fitted": NP_("column", "customers fitted"),
    "cv": NP_("column", "cv"),
    "days_since_first_order": NP_("column", "days since first order"),
    "days_since_last_order": NP_("column", "days since last order"),
    "deals": NP_("column", "deals"),
    "default": NP_("column", "default"),
    "denominator": NP_("column", "denominator"),
    "dimension": NP_("column", "dimension"),
    "estimate": NP_("column", "estimate"),
    "expected_orders": NP_("column", "expected orders"),
    "feature": NP_("column", "feature"),
    "flagged": NP_("column", "flagged"),
    "for this period": NP_("column", "for this period"),
    "formula": NP_("column", "formula"),
    "grain": NP_("column", "grain"),
    "gross_revenue": NP_("column", "gross revenue"),
    "group": NP_("column", "group"),
    "high_95": NP_("column", "high 95"),
    "inactivity_churn_rate": NP_("column", "inactivity churn rate"),
    "input": NP_("column", "input"),
    "item": NP_("column", "item"),
    "kept": NP_("column", "kept"),
    "kind": NP_("column", "kind"),
    "kpi": NP_("column", "kpi"),
    "lead_conversion": NP_("column", "lead conversion"),
    "leads": NP_("column", "leads"),
    "left_on": NP_("column", "left on"),
    "log_likelihood": NP_("column", "log likelihood"),
    "lost_deals": NP_("column", "lost deals"),
    "low_95": NP_("column", "low 95"),
    "meaning": NP_("column", "meaning"),
    "median_hours": NP_("column", "median hours"),
    "model": NP_("column", "model"),
    "month": NP_("column", "month"),
    "monthly_revenue": NP_("column", "monthly revenue"),
    "months": NP_("column", "months"),
    "n_customers": NP_("column", "n customers"),
    "name": NP_("column", "name"),
    "next_close": NP_("column", "next close"),
    "note": NP_("column", "note"),
    "nps": NP_("column", "nps"),
    "nps_95%_CI": NP_("column", "nps 95% CI"),
    "nps_responses": NP_("column", "nps responses"),
    "numerator": NP_("column", "numerator"),
    "odds_ratio": NP_("column", "odds ratio"),
    "oldest_open": NP_("column", "oldest open"),
    "open_deals": NP_("column", "open deals"),
    "open_value": NP_("column", "open value"),
    "opportunities": NP_("column", "opportunities"),
    "orders": NP_("column", "orders"),
    "owner": NP_("column", "owner"),
    "p90_hours": NP_("column", "p90 hours"),
    "p_alive": NP_("column", "p alive"),
    "p_churn": NP_("column", "p churn"),
    "parameter": NP_("column", "parameter"),
    "parameters": NP_("column", "parameters"),
    "period": NP_("column", "period"),
    "predicted_clv": NP_("column", "predicted clv"),
    "predicted_total": NP_("column", "predicted total"),
    "previous_period": NP_("column", "previous period"),
    "product": NP_("column", "product"),
    "purchase_ci_high": NP_("column", "purchase ci high"),
    "purchase_ci_low": NP_("column", "purchase ci low"),
    "purchase_rate": NP_("column", "purchase rate"),
    "purchasers": NP_("column", "purchasers"),
    "qualified_leads": NP_("column", "qualified leads"),
    "quarantined": NP_("column", "quarantined"),
    "rank": NP_("column", "rank"),
    "reason": NP_("column", "reason"),
    "region": NP_("column", "region"),
    "repeat": NP_("column", "repeat"),
    "repeat_95%_CI": NP_("column", "repeat 95% CI"),
    "repeat_share": NP_("column", "repeat share"),
    "responses": NP_("column", "responses"),
    "retained": NP_("column", "retained"),
    "retention_rate": NP_("column", "retention rate"),
    "returns": NP_("column", "returns"),
    "returns_share": NP_("column", "returns share"),
    "revenue": NP_("column", "revenue"),
    "revenue_at_risk": NP_("column", "revenue at risk"),
    "revenue_rank": NP_("column", "revenue rank"),
    "rows": NP_("column", "rows"),
    "rows_in": NP_("column", "rows in"),
    "rule": NP_("column", "rule"),
    "sales_cycle": NP_("column", "sales cycle"),
    "sales_rep": NP_("column", "sales rep"),
    "same_period_last_year": NP_("column", "same period last year"),
    "score": NP_("column", "score"),
    "score_95%_CI": NP_("column", "score 95% CI"),
    "segment": NP_("column", "segment"),
    "share": NP_("column", "share"),
    "significantly_lower": NP_("column", "significantly lower"),
    "significantly_worse": NP_("column", "significantly worse"),
    "snapshot_churn_rate": NP_("column", "snapshot churn rate"),
    "source": NP_("column", "source"),
    "spend": NP_("column", "spend"),
    "spend_share": NP_("column", "spend share"),
    "spend_to_date": NP_("column", "spend to date"),
    "stage": NP_("column", "stage"),
    "still_open": NP_("column", "still open"),
    "still_open_95%_CI": NP_("column", "still open 95% CI"),
    "table": NP_("column", "table"),
    "target": NP_("column", "target"),
    "tickets": NP_("column", "tickets"),
    "title": NP_("column", "title"),
    "too_few": NP_("column", "too few"),
    "total_revenue": NP_("column", "total revenue"),
    "type": NP_("column", "type"),
    "unit": NP_("column", "unit"),
    "value": NP_("column", "value"),
    "valued_deals": NP_("column", "valued deals"),
    "weighted_value": NP_("column", "weighted value"),
    "why not shown": NP_("column", "why not shown"),
    "win_rate": NP_("column", "win rate"),
    "win_rate_high": NP_("column", "win rate high"),
    "win_rate_low": NP_("column", "win rate low"),
    "won": NP_("column", "won"),
    "won_deals": NP_("column", "won deals"),
    "won_or_lost": NP_("column", "won or lost"),
}

# The canonical tables (crmkit.schema), as a text names them. The message is not the
# name itself ("orders" is also a column: 订单数), so English shows the name.
TABLES: dict[str, str] = {
    "customers": N_("customers (table)"),
    "orders": N_("orders (table)"),
    "leads": N_("leads (table)"),
    "opportunities": N_("opportunities (table)"),
    "campaigns": N_("campaigns (table)"),
    "tickets": N_("tickets (table)"),
    "surveys": N_("surveys (table)"),
    "targets": N_("targets (table)"),
}

# The canonical columns (crmkit.schema) and the filters, as a text names them: the message
# is the name, so English shows it as it is.
FIELDS: dict[str, str] = {
    "customer_id": N_("customer_id"), "name": N_("name"), "email": N_("email"),
    "signup_date": N_("signup_date"), "segment": N_("segment"), "region": N_("region"),
    "country": N_("country"), "acquisition_channel": N_("acquisition_channel"),
    "acquisition_cost": N_("acquisition_cost"), "owner": N_("owner"),
    "status": N_("status"), "churned": N_("churned"), "churn_date": N_("churn_date"),
    "churn_reason": N_("churn_reason"), "tenure_months": N_("tenure_months"),
    "tenure_days": N_("tenure_days"), "monthly_revenue": N_("monthly_revenue"),
    "satisfaction": N_("satisfaction"), "order_id": N_("order_id"),
    "order_date": N_("order_date"), "amount": N_("amount"), "product": N_("product"),
    "category": N_("category"), "quantity": N_("quantity"), "unit_price": N_("unit_price"),
    "channel": N_("channel"), "sales_rep": N_("sales_rep"), "campaign_id": N_("campaign_id"),
    "currency": N_("currency"), "amount_original": N_("amount_original"),
    "lead_id": N_("lead_id"), "created_date": N_("created_date"), "stage": N_("stage"),
    "converted": N_("converted"), "converted_date": N_("converted_date"),
    "closed_date": N_("closed_date"), "source": N_("source"),
    "lost_reason": N_("lost_reason"), "opportunity_id": N_("opportunity_id"),
    "close_date": N_("close_date"), "stage_order": N_("stage_order"),
    "outcome": N_("outcome"), "won": N_("won"), "closed": N_("closed"),
    "probability": N_("probability"), "type": N_("type"), "loss_reason": N_("loss_reason"),
    "start_date": N_("start_date"), "end_date": N_("end_date"), "cost": N_("cost"),
    "ticket_id": N_("ticket_id"), "opened_at": N_("opened_at"), "closed_at": N_("closed_at"),
    "csat": N_("csat"), "reason": N_("reason"), "response_id": N_("response_id"),
    "date": N_("date"), "nps": N_("nps"), "comment": N_("comment"),
    "period_start": N_("period_start"), "target_amount": N_("target_amount"),
    "period_end": N_("period_end"), "period": N_("period"),
}


def column_label(name) -> str:
    """A table column's header: its label in the "column" context (``customers``: 客户数,
    where a sentence's noun is 客户), else the name as it is, underscores as spaces."""
    label = COLUMNS.get(name) if isinstance(name, str) else None
    return ptr("column", label) if label is not None else str(name).replace("_", " ")


def filter_label(name) -> str:
    """A filter's column as a text names it (the scope line, the filters in words): its
    table column label (``sales rep``), else in another language than English its
    canonical column's (``country``: 国家); a user's attribute as it is, underscores as
    spaces."""
    if name not in COLUMNS and isinstance(name, str) and name in FIELDS:
        text = tr(FIELDS[name])
        if text != FIELDS[name]:
            return text
    return column_label(name)


def table_label(name) -> str:
    """A canonical table as a text names it: ``orders`` (English), 订单."""
    message = TABLES.get(name) if isinstance(name, str) else None
    if message is None:
        return str(name)
    text = tr(message)
    return str(name) if text == message else text


def field_label(name) -> str:
    """A canonical column (or filter) as a text names it: ``order_date`` (English), 订单日期;
    any other name (the user's attribute columns) as it is."""
    message = FIELDS.get(name) if isinstance(name, str) else None
    return tr(message) if message is not None else str(name)


def need_label(need: str) -> str:
    """A ``table`` or ``table.column`` a KPI needs, as a text names it."""
    table, _, column = str(need).partition(".")
    if not column:
        return table_label(table)
    return tr("{table}.{column}").format(table=table_label(table), column=field_label(column))


def either(items) -> str:
    """"a", "a or b", "a or b or c" (华东或华西)."""
    items = [str(i) for i in items]
    if not items:
        return ""
    return reduce(lambda first, second: tr("{first} or {second}").format(
        first=first, second=second), items)


def series(items, *, semicolons: bool = False) -> str:
    """"a, b, c" (a、b、c) or, with ``semicolons``, "a; b; c" (a；b；c): names or clauses
    one after another, without the "and" of :func:`crmkit.i18n.list_text`."""
    items = [str(i) for i in items]
    if not items:
        return ""
    template = tr("{first}; {second}") if semicolons else tr("{first}, {second}")
    return reduce(lambda first, second: template.format(first=first, second=second), items)
