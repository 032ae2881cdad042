"""Lead and campaign KPIs: conversion rate, campaign cost, leads, conversions, attributed
revenue, ROI and cost per acquisition.

Attribution: a campaign is in the selection when its start_date falls in the period.
Its leads (leads.campaign_id) and attributed orders (orders.campaign_id, net of returns,
cancelled excluded) count whenever they happened up to the end of the period, so a
campaign that started late in the period is not cut short at its start, and a report
stays reproducible as of its end date.
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd

from crmkit import i18n
from crmkit.exceptions import ParameterError
from crmkit.i18n import N_, tr
from crmkit.metrics.derived import (FREQUENCIES, classified_orders, execute, grouped,
                                    period_starts, ts)
from crmkit.metrics.filters import Filters, apply_filters, breakdown_list, with_breakdown
from crmkit.metrics.registry import metric, unconverted_currencies
from crmkit.metrics.results import (Measure, MetricUnavailable, Rate, difference_interval,
                                    rate_frame)

CONVERSION_BASES = ("all", "closed")


@metric(name="conversion_rate", title=N_("Lead conversion rate"), unit=N_("percent"),
        grain=N_("period"),
        needs=("leads.converted",), returns="rate",
        formula=N_("converted leads / leads created in the period (basis 'all', the "
                   "default); basis 'closed': converted / leads already converted or closed "
                   "(converted, or closed_date set)"))
def conversion_rate(wh, filters, *, basis: str = "all", by=None):
    """Share of the period's leads that converted: Rate or a frame by leads/customers columns.

    ``basis="closed"`` counts only decided leads: converted, or with a closed_date (without
    a closed_date column: with ``converted`` set, true or false).
    """
    if basis not in CONVERSION_BASES:
        raise ParameterError(f"conversion basis must be one of {CONVERSION_BASES}, "
                             f"got {basis!r}")
    t = apply_filters(wh, "leads", filters)
    if basis == "closed":
        if "closed_date" in t.columns:
            t = t.filter(t.converted.fill_null(False) | t.closed_date.notnull())
        else:
            t = t.filter(t.converted.notnull())
    t, by = with_breakdown(wh, "leads", t, by)
    frame = rate_frame(
        grouped(t, by, numerator=t.count(where=t.converted.fill_null(False)), denominator=t.count()),
        "numerator", "denominator")
    if by:
        return frame
    row = frame.iloc[0]
    return Rate.from_counts(row["numerator"], row["denominator"])


# Lead statuses or stages (lower case) that mean a lead was qualified, or went further;
# a converted lead is qualified whatever its status says.
QUALIFIED_STATUSES = ("qualified", "mql", "sql", "marketing qualified", "sales qualified",
                      "sales accepted", "sal", "working - qualified", "proposal",
                      "negotiation", "converted", "won", "已确认", "有效", "合格")

PERFORMANCE_COLUMNS = ["campaigns", "cost", "uncosted", "leads", "qualified_leads",
                       "opportunities", "conversions", "conversion_rate", "conversion_low",
                       "conversion_high", "orders", "revenue", "roi", "cost_per_lead",
                       "cost_per_acquisition"]


def _date_column(table: str) -> str:
    return {"orders": "order_date", "opportunities": "close_date"}.get(table, "created_date")


def _attributed(wh, filters: Filters, table: str, campaigns):
    """Rows of ``table`` attributed to the selected campaigns, up to the period end."""
    t = (classified_orders(wh, filters, period=False) if table == "orders"
         else apply_filters(wh, table, filters, period=False))
    t = t.filter(t.campaign_id.cast("string").isin(campaigns.campaign_id.cast("string")))
    date = _date_column(table)
    if filters.end is not None:
        t = t.filter(t[date] < ts(filters.end_exclusive))
    return t


def _has(wh, table: str, *columns: str) -> bool:
    """Whether ``table`` holds data in ``columns``: from the ingest audit (a canonical
    column the export did not have, such as a Salesforce lead's campaign, is empty, not
    zero), else the table's columns."""
    if not wh.has(table):
        return False
    if wh.audit.get("tables"):
        from crmkit.shapes import data_columns

        return set(columns) <= data_columns(wh.audit).get(table, set())
    return set(columns) <= set(wh.table(table).columns)


def attribution(wh) -> dict[str, str]:
    """Which rows a campaign is credited with in this warehouse, as the report states it:
    ``{"conversions": "won deals" | "converted leads" | "", "revenue": "bookings" |
    "orders" | ""}``. Opportunities with a campaign_id are the pipeline's own attribution
    (Salesforce's Primary Campaign Source): won deals and their bookings count; without
    them, converted leads and the net revenue of orders that carry the campaign."""
    deals = _has(wh, "opportunities", "campaign_id", "outcome")
    leads = _has(wh, "leads", "campaign_id", "converted")
    return {"conversions": "won deals" if deals else "converted leads" if leads else "",
            "revenue": "bookings" if deals and _has(wh, "opportunities", "amount")
            else "orders" if _has(wh, "orders", "campaign_id") else ""}


def _unconverted(wh, rule: dict) -> str | None:
    """Why the campaigns' attributed revenue cannot be added up: the deals or orders it
    comes from (``rule["revenue"]``, see :func:`attribution`) hold several currencies that
    ingest had no rates to convert. The registry guards KPIs whose unit is money; ROI is a
    percent, so the campaigns' revenue is guarded here, by the same test."""
    table = {"bookings": "opportunities", "orders": "orders"}.get(rule["revenue"])
    currencies = unconverted_currencies(wh, table) if table else []
    if currencies:
        text = (tr("opportunities amounts in {currencies} and no exchange rates: attributed "
                   "revenue is not added up across currencies") if table == "opportunities"
                else tr("orders amounts in {currencies} and no exchange rates: attributed "
                        "revenue is not added up across currencies"))
        return text.format(currencies=", ".join(currencies))
    return None


def _qualified(t):
    """Condition: the lead was qualified (converted, or a status or stage saying so)."""
    cond = t.converted.fill_null(False)
    for column in ("status", "stage"):
        if column in t.columns:
            cond = cond | t[column].cast("string").strip().lower().isin(QUALIFIED_STATUSES)
    return cond


@metric(name="campaign_performance",
        title=N_("Campaign cost, leads, conversions, revenue, ROI"), unit=N_("currency"),
        grain=N_("campaign"), returns="frame", needs=("campaigns",),
        formula=N_("campaigns started in the period; their leads, qualified leads (converted, "
                   "or a qualified status), opportunities and conversions (won deals with the "
                   "campaign, else converted leads) up to the period end; attributed revenue "
                   "= bookings of won deals with the campaign, else net revenue of orders with "
                   "it; ROI = (attributed revenue − cost) / cost and cost per lead or "
                   "acquisition over the campaigns with a cost; conversion rate = converted "
                   "leads / leads, with a 95% Wilson interval"))
def campaign_performance(wh, filters, *, by=None) -> pd.DataFrame:
    """[*by], campaigns, cost, uncosted, leads, qualified_leads, opportunities, conversions,
    conversion_rate, conversion_low, conversion_high, orders, revenue, roi, cost_per_lead,
    cost_per_acquisition.

    ``by`` is any campaigns column (``"campaign_id"`` for one row per campaign, add
    ``"name"`` to show names); ``None`` gives the total. A count the data cannot give (no
    leads table with campaign_id, no opportunities) is missing (<NA>), never 0. A campaign
    without a cost is counted in ``uncosted`` and left out of ROI and the costs per lead
    and per acquisition, which are missing where no campaign of the row has a cost (not
    0%, not infinite).
    """
    by = breakdown_list(by)
    camp = apply_filters(wh, "campaigns", filters)
    unknown = [c for c in by if c not in camp.columns]
    if unknown:
        raise MetricUnavailable(tr(
            "cannot break campaigns down by {unknown}: no such column in campaigns "
            "(columns: {columns})").format(unknown=", ".join(map(repr, unknown)),
                                           columns=", ".join(camp.columns)))
    keys = list(dict.fromkeys(["campaign_id", *by]))
    cost = camp.cost if "cost" in camp.columns else ibis.null().cast("float64")
    per = execute(camp.select(*keys, cost=cost).mutate(
        campaign_id=camp.campaign_id.cast("string")))
    per["cost"] = per["cost"].astype(float)
    rule = attribution(wh)

    def merge(frame, columns):
        nonlocal per
        if frame is None:
            for column in columns:
                per[column] = np.nan
            return
        per = per.merge(frame, on="campaign_id", how="left")
        for column in columns:
            per[column] = per[column].astype(float).fillna(0.0)

    revenue = None
    if _has(wh, "orders", "campaign_id"):
        o = _attributed(wh, filters, "orders", camp)
        o = o.filter(o.order_kind != "cancelled")
        revenue = execute(o.group_by(campaign_id=o.campaign_id.cast("string")).agg(
            orders=o.count(where=o.order_kind == "completed"), order_revenue=o.amount.sum()))
    merge(revenue, ["orders", "order_revenue"])

    leads = None
    if _has(wh, "leads", "campaign_id", "converted"):
        lt = _attributed(wh, filters, "leads", camp)
        leads = execute(lt.group_by(campaign_id=lt.campaign_id.cast("string")).agg(
            leads=lt.count(), qualified_leads=lt.count(where=_qualified(lt)),
            converted=lt.count(where=lt.converted.fill_null(False))))
    merge(leads, ["leads", "qualified_leads", "converted"])

    deals = None
    if _has(wh, "opportunities", "campaign_id", "outcome"):
        d = apply_filters(wh, "opportunities", filters, period=False)
        d = d.filter(d.campaign_id.cast("string").isin(camp.campaign_id.cast("string")))
        if filters.end is not None and "created_date" in d.columns:
            d = d.filter(d.created_date.isnull() | (d.created_date < ts(filters.end_exclusive)))
        won = d.outcome == "won"
        if filters.end is not None and "close_date" in d.columns:
            won = won & (d.close_date < ts(filters.end_exclusive))
        amount = d.amount if "amount" in d.columns else ibis.null().cast("float64")
        deals = execute(d.group_by(campaign_id=d.campaign_id.cast("string")).agg(
            opportunities=d.count(), won_deals=d.count(where=won),
            bookings=amount.sum(where=won)))
    merge(deals, ["opportunities", "won_deals", "bookings"])

    mixed = _unconverted(wh, rule)
    if mixed:
        per["bookings"] = per["order_revenue"] = np.nan
    per["conversions"] = per["won_deals"] if rule["conversions"] == "won deals" \
        else per["converted"]
    per["revenue"] = per["bookings"] if rule["revenue"] == "bookings" \
        else per["order_revenue"] if rule["revenue"] == "orders" else np.nan
    costed = per["cost"].notna()
    per["uncosted"] = (~costed).astype(float)
    per["campaigns"] = 1.0
    # ROI and costs per lead and acquisition over the campaigns with a cost only
    per["costed_revenue"] = per["revenue"].where(costed)
    per["costed_leads"] = per["leads"].where(costed)
    per["costed_conversions"] = per["conversions"].where(costed)

    sums = ["campaigns", "cost", "uncosted", "leads", "qualified_leads", "opportunities",
            "conversions", "converted", "orders", "revenue", "costed_revenue",
            "costed_leads", "costed_conversions"]
    if by:
        out = per.groupby(by, dropna=False, sort=True)[sums].sum(min_count=1).reset_index()
    else:
        out = per[sums].sum(min_count=1).to_frame().T
    out = out.astype({c: float for c in sums})
    out["campaigns"] = out["campaigns"].fillna(0)
    out["uncosted"] = out["uncosted"].fillna(0)
    if revenue is not None:
        out["orders"] = out["orders"].fillna(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        spent = out["cost"].where(out["cost"] > 0)
        out["roi"] = (out["costed_revenue"] - out["cost"]) / spent
        out["cost_per_lead"] = out["cost"] / out["costed_leads"].where(out["costed_leads"] > 0)
        out["cost_per_acquisition"] = out["cost"] / out["costed_conversions"].where(
            out["costed_conversions"] > 0)
    rates = rate_frame(out[["converted", "leads"]], "converted", "leads")
    has_leads = out["leads"].notna() & (out["leads"] > 0)
    out["conversion_rate"] = rates["value"].where(has_leads)
    out["conversion_low"] = rates["ci_low"].where(has_leads)
    out["conversion_high"] = rates["ci_high"].where(has_leads)
    counts = ["leads", "qualified_leads", "opportunities", "conversions"]
    out = out.astype({"campaigns": "int64", "uncosted": "int64",
                      "orders": "Int64", **{c: "Int64" for c in counts}})
    out = out[[*by, *PERFORMANCE_COLUMNS]].reset_index(drop=True)
    out.attrs["attribution"] = rule
    if mixed:
        out.attrs["note"] = mixed
    return out


@metric(name="campaign_cost", title=N_("Campaign cost"), unit=N_("currency"),
        grain=N_("period"), needs=("campaigns.cost",),
        formula=N_("sum(cost) of campaigns started in the period; "
                   "campaigns without a cost are counted in the note"))
def campaign_cost(wh, filters):
    """Total cost of the period's campaigns: Measure (n = campaigns with a cost)."""
    camp = apply_filters(wh, "campaigns", filters)
    row = execute(camp.agg(cost=camp.cost.sum(), n=camp.cost.count(), all=camp.count()))
    n, total = int(row["n"].iloc[0]), int(row["all"].iloc[0])
    if total and not n:
        raise MetricUnavailable(tr("none of the period's {total} campaigns has a cost").format(
            total=i18n.number(total)))
    note = tr("{n} of {total} campaigns have no cost (left out)").format(
        n=i18n.number(total - n), total=i18n.number(total)) if n < total else ""
    return Measure(float(np.nan_to_num(row["cost"].iloc[0])), "currency", n, note=note)


def _total(wh, filters) -> dict[str, float]:
    """The period's one-row total as numbers (NaN where the data cannot give one)."""
    total = {column: math.nan if pd.isna(value) else float(value)
             for column, value in campaign_performance(wh, filters).iloc[0].items()}
    if not total["campaigns"]:
        raise MetricUnavailable(N_("no campaign started in the period"))
    if total["campaigns"] == total["uncosted"]:
        raise MetricUnavailable(N_("none of the period's campaigns has a cost"))
    return total


def _uncosted_note(total: dict) -> str:
    n = int(total["uncosted"])
    return (tr("{n} of {total} campaigns have no cost and are left out").format(
        n=i18n.number(n), total=i18n.number(int(total["campaigns"]))) if n else "")


@metric(name="campaign_roi", title=N_("Campaign ROI"), unit=N_("percent"),
        grain=N_("period"),
        needs=("campaigns.cost", "orders.campaign_id|opportunities.campaign_id"),
        formula=N_("ROI = (revenue attributed to the period's campaigns − their cost) / cost, "
                   "over the campaigns with a cost (attribution: see campaign_performance)"))
def campaign_roi(wh, filters):
    """ROI of all the period's campaigns together: Measure (percent, n = campaigns)."""
    total = _total(wh, filters)
    if math.isnan(total["roi"]):
        raise MetricUnavailable(_unconverted(wh, attribution(wh))
                                or N_("no revenue can be attributed to the period's "
                                      "campaigns"))
    return Measure(total["roi"], "percent", int(total["campaigns"]),
                   note=_uncosted_note(total))


@metric(name="cost_per_acquisition", title=N_("Cost per acquisition"), unit=N_("currency"),
        grain=N_("period"),
        needs=("campaigns.cost", "leads.campaign_id|opportunities.campaign_id"),
        formula=N_("cost of the period's campaigns / their conversions (won deals with the "
                   "campaign, else converted leads), over the campaigns with a cost"))
def cost_per_acquisition(wh, filters):
    """Campaign cost per conversion: Measure (currency, n = conversions)."""
    total = _total(wh, filters)
    if math.isnan(total["conversions"]):
        raise MetricUnavailable(N_("the campaigns' leads or deals carry no conversion"))
    if math.isnan(total["cost_per_acquisition"]):
        raise MetricUnavailable(N_("the period's campaigns with a cost converted no lead or "
                                   "deal yet"))
    return Measure(total["cost_per_acquisition"], "currency", int(total["conversions"]),
                   note=_uncosted_note(total))


@metric(name="campaign_over_time", title=N_("Campaign cost and return over time"),
        unit=N_("currency"), grain=N_("month / quarter"), returns="frame",
        needs=("campaigns",),
        formula=N_("per month of the last 12 up to the period end (of the whole period when "
                   "longer; by quarter beyond three years): cost of the campaigns that "
                   "started in it, and the revenue attributed to any campaign "
                   "(bookings of won deals by close date, else net revenue of orders by order "
                   "date) that fell in it"))
def campaign_over_time(wh, filters, *, freq: str = "month", periods: int = 12
                       ) -> pd.DataFrame:
    """period, campaigns, cost, revenue: the spend and the return it brought, as they fell.

    The window is the ``periods`` months (or quarters) ending with the filters' end (else
    with the last campaign start). Revenue is dated when it was made, so a month's return
    is not that month's campaigns' alone: the report reads the two lines side by side,
    never as a monthly ROI.
    """
    if freq not in ("month", "quarter"):
        raise ParameterError(f"campaign_over_time: freq must be month or quarter, got {freq!r}")
    camp = apply_filters(wh, "campaigns", filters, period=False)
    end = filters.end
    if end is None:
        last = execute(camp.agg(last=camp.start_date.max()))["last"].iloc[0]
        if pd.isna(last):
            raise MetricUnavailable(N_("no campaign has a start date"))
        end = pd.Timestamp(last).normalize()
    step = pd.DateOffset(months=periods if freq == "month" else 3 * periods)
    first = (end - step + pd.Timedelta(days=1)).to_period(freq[0].upper()).start_time
    if filters.start is not None and filters.start < first:
        # a period longer than the window: all of it, by quarter beyond three years
        first = filters.start.to_period("M").start_time
        if (end - first).days > 3 * 366:
            freq = "quarter"
            first = first.to_period("Q").start_time
    window = filters.with_period(first.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d"))
    unit = FREQUENCIES[freq]
    camp = apply_filters(wh, "campaigns", window)
    camp = camp.mutate(period=camp.start_date.truncate(unit),
                       spend=camp.cost if "cost" in camp.columns
                       else ibis.null().cast("float64"))
    spent = grouped(camp, ["period"], campaigns=camp.count(), cost=camp.spend.sum(),
                    costed=camp.spend.count())
    rule = attribution(wh)
    every = apply_filters(wh, "campaigns", filters, period=False)
    if rule["revenue"] == "bookings":
        d = apply_filters(wh, "opportunities", window)
        d = d.filter(d.outcome == "won",
                     d.campaign_id.cast("string").isin(every.campaign_id.cast("string")))
        d = d.mutate(period=d.close_date.truncate(unit))
        earned = grouped(d, ["period"], revenue=d.amount.sum())
    elif rule["revenue"] == "orders":
        o = classified_orders(wh, window)
        o = o.filter(o.order_kind != "cancelled",
                     o.campaign_id.cast("string").isin(every.campaign_id.cast("string")))
        o = o.mutate(period=o.order_date.truncate(unit))
        earned = grouped(o, ["period"], revenue=o.amount.sum())
    else:
        earned = pd.DataFrame({"period": pd.Series(dtype="datetime64[us]"),
                               "revenue": pd.Series(dtype=float)})
    grid = pd.DataFrame({"period": period_starts(first, end, freq)})
    for part in (spent, earned):
        part["period"] = part["period"].astype("datetime64[us]")
    out = grid.merge(spent, on="period", how="left").merge(earned, on="period", how="left")
    out["campaigns"] = out["campaigns"].fillna(0).astype("int64")
    out["costed"] = out["costed"].fillna(0)
    # a month with campaigns none of which has a cost: unknown, not 0
    cost = out["cost"].astype(float)
    out["cost"] = np.where(out["campaigns"] == 0, 0.0,
                           np.where(out["costed"] > 0, cost, np.nan))
    mixed = _unconverted(wh, rule)
    out["revenue"] = out["revenue"].astype(float).fillna(0.0) \
        if rule["revenue"] and not mixed else np.nan
    # beyond the last `periods`, leading periods with neither spend nor return say nothing
    active = (out["campaigns"] > 0) | (out["revenue"].fillna(0) != 0)
    keep = active.cummax() | (out.index >= len(out) - periods)
    out = out[keep].reset_index(drop=True)
    out.attrs["attribution"] = rule
    out.attrs["freq"] = freq
    if mixed:
        out.attrs["note"] = mixed
    return out[["period", "campaigns", "cost", "revenue"]]


@metric(name="campaign_lead_conversion", title=N_("Conversion of campaign leads and others"),
        unit=N_("percent"), grain=N_("period"), returns="frame",
        needs=("leads.campaign_id", "leads.converted"),
        formula=N_("leads created in the period, with a campaign_id and without one: "
                   "converted / leads in each, with 95% Wilson intervals; the difference "
                   "(campaign − other) with a 95% Newcombe interval. An association, not an effect: "
                   "campaigns pick their audience"))
def campaign_lead_conversion(wh, filters) -> pd.DataFrame:
    """group ("campaign", "other"), leads, converted, value, ci_low, ci_high, too_few;
    ``attrs``: difference, difference_low, difference_high (NaN when a group is empty)."""
    if not _has(wh, "leads", "campaign_id"):
        raise MetricUnavailable(N_("the leads carry no campaign (campaign_id)"))
    t = apply_filters(wh, "leads", filters)
    sourced = t.campaign_id.notnull() & (t.campaign_id.cast("string").strip() != "")
    t = t.mutate(group=ibis.ifelse(sourced, "campaign", "other"))
    counts = grouped(t, ["group"], converted=t.count(where=t.converted.fill_null(False)),
                     leads=t.count())
    counts = pd.DataFrame({"group": ["campaign", "other"]}).merge(counts, on="group",
                                                                   how="left").fillna(0)
    if not counts["leads"].sum():
        raise MetricUnavailable(N_("no leads were created in the period"))
    frame = rate_frame(counts, "converted", "leads").rename(
        columns={"numerator": "converted", "denominator": "leads"})
    (k1, n1), (k2, n2) = counts[["converted", "leads"]].astype(int).to_numpy()
    frame.attrs.update(zip(("difference", "difference_low", "difference_high"),
                           difference_interval(k1, n1, k2, n2)))
    return frame[["group", "leads", "converted", "value", "ci_low", "ci_high", "too_few"]]
