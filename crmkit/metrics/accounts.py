"""Account KPIs of a B2B pipeline: which accounts the bookings come from and how
concentrated they are, new against repeat accounts, win rate and bookings by account
attribute, and the accounts with deals open now.

An account is a deal's ``customer_id``; its name and attributes come from the customers
table. The deals each KPI counts are those of :mod:`crmkit.metrics.pipeline`: closed deals
(won or lost) by close_date in the period, open deals now. Deals without an account are
left out of every account figure and counted in the result's note. A numeric account
attribute (employees) is cut into the bands of :data:`ACCOUNT_BANDS`; accounts without a
value are left out of a breakdown and counted: there is no "None" group.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from crmkit.i18n import N_, tr
from crmkit.labels import field_label, series
from crmkit.metrics.derived import execute, grouped
from crmkit.metrics.filters import Filters, apply_filters, breakdown_list, period_conditions
from crmkit.metrics.registry import metric
from crmkit.metrics.results import MetricUnavailable, rate_frame

# The deal sets and their sum rules are the pipeline's, shared rather than restated.
from crmkit.metrics.pipeline import (  # noqa: I001
    DEALS,
    _day,
    _few,
    _missing_amount_note,
    _sum_or_unknown,
    closed_deals,
)

# Lower bounds of the bands a numeric account attribute is cut into; a caller passes its
# own as ``bands={"employees": (0, 100, 1000)}``. Values below the first bound are left out.
ACCOUNT_BANDS: dict[str, tuple[float, ...]] = {"employees": (0, 50, 250, 1000, 5000)}
TOP_SHARE = 0.10  # bookings_concentration: the share of accounts at the top
GROUPS = ("new", "repeat")  # new_and_repeat_accounts, in this order


# -- accounts and their deals ----------------------------------------------------------
def _with_account(t):
    """``t`` with customer_id as text (ids compare as text with the customers table)."""
    return t.mutate(customer_id=t.customer_id.cast("string"))


def _split_unknown(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with an account, rows without one: NULL or empty customer_id)."""
    known = frame["customer_id"].notna() & (frame["customer_id"] != "")
    return frame[known].reset_index(drop=True), frame[~known]


# "{count} of {total} <deals> have no account (left out)", per kind of deal counted.
NO_ACCOUNT = {
    "closed deals": N_("{count} of {total} closed deals have no account (left out)"),
    "won deals": N_("{count} of {total} won deals have no account (left out)"),
    "open deals": N_("{count} of {total} open deals have no account (left out)"),
}


def _no_account_note(deals: int, total: int, what: str) -> str:
    """The note on ``deals`` of ``total`` ``what`` (a key of NO_ACCOUNT) without account."""
    return _few(NO_ACCOUNT[what], deals, total) if deals else ""


def _join_notes(*notes: str) -> str:
    return series([n for n in notes if n], semicolons=True)


def closed_by_account(wh, filters: Filters, group: str | None = None
                      ) -> tuple[pd.DataFrame, str]:
    """Deals closed in the period per account (and per value of the deal column
    ``group``): customer_id, [group], won_deals, lost_deals, valued_won, bookings; and the
    note that counts the closed deals without an account and won deals without an amount.
    ``bookings`` is 0 without won deals, NaN when the won deals carry no amount."""
    t = _with_account(closed_deals(wh, filters))
    won = t.outcome == "won"
    frame = grouped(t, ["customer_id", *([group] if group else [])],
                    won_deals=t.count(where=won), lost_deals=t.count(where=~won),
                    valued_won=t.amount.count(where=won), bookings=t.amount.sum(where=won))
    for col in ("won_deals", "lost_deals", "valued_won"):
        frame[col] = frame[col].fillna(0).astype("int64")
    frame["bookings"] = _sum_or_unknown(frame["bookings"], frame["valued_won"],
                                        frame["won_deals"])
    frame, unknown = _split_unknown(frame)
    closed = int((frame["won_deals"] + frame["lost_deals"]).sum())
    without = int((unknown["won_deals"] + unknown["lost_deals"]).sum())
    note = _join_notes(_no_account_note(without, closed + without, "closed deals"),
                       _missing_amount_note(frame["won_deals"].sum(),
                                            frame["valued_won"].sum()))
    return frame, note


def account_names(wh, ids: pd.Series) -> pd.Series:
    """The name a reader knows each account by, aligned with ``ids``: customers.name,
    else the id; a name two of these accounts share gets its id in brackets."""
    names = pd.Series(dtype=object)
    if wh.has("customers") and "name" in wh.table("customers").columns:
        c = wh.table("customers")
        c = c.filter(c.name.notnull() & (c.name != ""))
        frame = execute(c.select(customer_id=c.customer_id.cast("string"), name=c.name))
        names = frame.drop_duplicates("customer_id").set_index("customer_id")["name"]
    shown = ids.map(names)
    shown = shown.where(shown.notna(), ids).astype(str)
    shared = shown.duplicated(keep=False)
    return shown.where(~shared, shown + " (" + ids.astype(str) + ")")


def _money_not_summable(wh) -> str:
    """Why amounts cannot be added up here (several currencies, no rates), or ""."""
    return account_bookings.metric.mixed_currencies(wh) or ""


# -- bookings per account ----------------------------------------------------------------
@metric(name="account_bookings", title=N_("Bookings per account"), unit="currency",
        grain=N_("period × account"), returns="frame",
        needs=("opportunities.outcome", "opportunities.amount", "opportunities.customer_id"),
        formula=N_("per account (the deal's customer_id), deals with close_date in the "
                   "period: bookings = sum(amount) of won deals, won and lost deals; share = "
                   "the account's bookings / the bookings of all accounts; cumulative share "
                   "down the ranking; rank 1 = most bookings; deals without an account are "
                   "left out and counted in the note"))
def account_bookings(wh, filters) -> pd.DataFrame:
    """opportunities (+ customers' names) -> customer_id, account, won_deals, lost_deals,
    bookings, share, cumulative_share, rank: every account with a deal closed in the
    period (bookings 0 when it only lost), most bookings first, then the id."""
    frame, note = closed_by_account(wh, filters)
    frame = frame.sort_values(["bookings", "won_deals", "customer_id"],
                              ascending=[False, False, True], na_position="last",
                              kind="stable").reset_index(drop=True)
    total = frame["bookings"].sum()
    share = frame["bookings"] / total if total > 0 else frame["bookings"] * np.nan
    out = pd.DataFrame({
        "customer_id": frame["customer_id"], "account": account_names(wh, frame["customer_id"]),
        "won_deals": frame["won_deals"], "lost_deals": frame["lost_deals"],
        "bookings": frame["bookings"], "share": share,
        "cumulative_share": share.fillna(0.0).cumsum().where(share.notna()),
        "rank": frame["bookings"].rank(ascending=False, method="min").astype("Int64")})
    out.attrs["note"] = note
    return out


@metric(name="bookings_concentration", title=N_("Bookings concentration (top accounts)"),
        unit="percent", grain=N_("period"), returns="frame",
        needs=("opportunities.outcome", "opportunities.amount", "opportunities.customer_id"),
        formula=N_("accounts with bookings (won amount > 0) closed in the period, ranked by "
                   "bookings (ties by account id); top accounts = the ceil(10%) of them with "
                   "the most bookings; concentration = the top accounts' bookings / all "
                   "accounts' bookings; deals without an account are left out and counted "
                   "in the note"))
def bookings_concentration(wh, filters, *, top: float = TOP_SHARE) -> pd.DataFrame:
    """opportunities -> one row: accounts (with bookings), top_accounts, top_bookings,
    bookings, concentration. ``top`` is the share of accounts at the top (0.1)."""
    if not 0 < top <= 1:
        raise MetricUnavailable(tr("top must be a share of accounts in (0, 1], got "
                                   "{top}").format(top=repr(top)))
    why = _money_not_summable(wh)
    if why:
        raise MetricUnavailable(why)
    frame, note = closed_by_account(wh, filters)
    booked = frame[frame["bookings"] > 0].sort_values(
        ["bookings", "customer_id"], ascending=[False, True], kind="stable")
    if booked.empty:
        raise MetricUnavailable(N_("no account has bookings in the period"))
    accounts = len(booked)
    # round(): 10% of 110 accounts is 11, not the 12 that 11.000000000000002 rounds up to
    k = math.ceil(round(top * accounts, 9))
    total = float(booked["bookings"].sum())
    top_bookings = float(booked["bookings"].iloc[:k].sum())
    out = pd.DataFrame([{"accounts": accounts, "top_accounts": k, "top_bookings": top_bookings,
                         "bookings": total, "concentration": top_bookings / total}])
    out.attrs["note"] = note
    return out


# -- new and repeat accounts -------------------------------------------------------------
@metric(name="new_and_repeat_accounts", title=N_("New and repeat accounts"), unit="count",
        grain=N_("period × group"), returns="frame",
        needs=("opportunities.outcome", "opportunities.customer_id",
               "opportunities.close_date"),
        formula=N_("accounts with a deal won in the period (close_date): new = the "
                   "account's first won deal on record (within the filters) is in the "
                   "period; repeat = it had won a deal before the period start; per group: "
                   "accounts, won deals and bookings in the period, share of the accounts "
                   "and of the bookings; not available when no won deal is on record before "
                   "the period start; won deals without an account are left out and counted "
                   "in the note"))
def new_and_repeat_accounts(wh, filters) -> pd.DataFrame:
    """opportunities -> group (new, repeat), accounts, won_deals, bookings, account_share,
    bookings_share: both rows, 0 when empty. Without a period start every winning account
    is new. The note says from when won deals are on record: an account that won before
    the data starts counts as new; with no won deal on record before the period start the
    two cannot be told apart (not available)."""
    t = _with_account(apply_filters(wh, DEALS, filters, period=False))
    t = t.filter(t.outcome == "won", t.close_date.notnull())
    conditions = period_conditions(t, "close_date", filters)
    inside = conditions[0] if conditions else None
    for condition in conditions[1:]:
        inside = inside & condition
    frame = grouped(t, ["customer_id"], first_won=t.close_date.min(),
                    won_deals=t.count(where=inside), valued=t.amount.count(where=inside),
                    bookings=t.amount.sum(where=inside))
    frame["won_deals"] = frame["won_deals"].fillna(0).astype("int64")
    frame["valued"] = frame["valued"].fillna(0).astype("int64")
    first_on_record = pd.Timestamp(frame["first_won"].min()) if len(frame) else None
    if filters.start is not None and first_on_record is not None and \
            first_on_record >= filters.start:
        raise MetricUnavailable(tr("no won deal is on record before the period start (the "
                                   "first closed on {date}): new and repeat accounts cannot "
                                   "be told apart").format(date=_day(first_on_record)))
    frame, unknown = _split_unknown(frame)
    winners = frame[frame["won_deals"] > 0]
    first = pd.to_datetime(winners["first_won"])
    new = first >= filters.start if filters.start is not None else first.notna()
    group = pd.Categorical(np.where(new, "new", "repeat"), categories=list(GROUPS))
    sums = winners.groupby(group, observed=False).agg(
        accounts=("customer_id", "size"), won_deals=("won_deals", "sum"),
        valued=("valued", "sum"), bookings=("bookings", "sum"))
    out = pd.DataFrame({"group": list(GROUPS),
                        "accounts": sums["accounts"].to_numpy(dtype="int64"),
                        "won_deals": sums["won_deals"].to_numpy(dtype="int64")})
    out["bookings"] = _sum_or_unknown(sums["bookings"].astype(float), sums["valued"],
                                      sums["won_deals"]).to_numpy()
    if _money_not_summable(wh):
        out["bookings"] = np.nan
    accounts, booked = out["accounts"].sum(), out["bookings"].sum()
    out["account_share"] = out["accounts"] / accounts if accounts else np.nan
    out["bookings_share"] = out["bookings"] / booked if booked > 0 else np.nan
    notes = [_no_account_note(int(unknown["won_deals"].sum()),
                              int(frame["won_deals"].sum() + unknown["won_deals"].sum()),
                              "won deals"),
             _money_not_summable(wh)]
    if filters.start is not None and first_on_record is not None:
        notes.append(tr("won deals are on record from {date}: an account that won only "
                        "before then counts as new").format(date=_day(first_on_record)))
    out.attrs["note"] = _join_notes(*notes)
    return out


# -- account attributes ------------------------------------------------------------------
def band_labels(bounds: tuple[float, ...]) -> list[str]:
    """Band names of lower ``bounds`` (0, 50, 250): "0–49", "50–249", "250+"."""
    names = [f"{lo:,.0f}–{hi - 1:,.0f}" for lo, hi in zip(bounds, bounds[1:])]
    return [*names, f"{bounds[-1]:,.0f}+"]


def _in_bands(values: pd.Series, bounds: tuple[float, ...]) -> pd.Series:
    """``values`` as their band names (an ordered categorical); NaN below the first bound."""
    edges = [*bounds, np.inf]
    return pd.cut(values.astype(float), edges, right=False, labels=band_labels(bounds))


def _missing_value(values: pd.Series) -> pd.Series:
    """True where a group value is missing: NULL, NaN or empty text."""
    missing = values.isna()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        missing |= values.astype(str).str.strip().eq("") & values.notna()
    return missing


def _attribute_per_account(wh, column: str) -> pd.DataFrame:
    """customer_id, ``column`` from the customers table (one row per account)."""
    c = wh.table("customers")
    frame = execute(c.select(c[column], customer_id=c.customer_id.cast("string")))
    return frame.drop_duplicates("customer_id")


@metric(name="accounts_by_attribute", title=N_("Win rate and bookings by account attribute"),
        unit="percent", grain=N_("period × account attribute"), returns="frame",
        needs=("opportunities.outcome", "opportunities.amount", "opportunities.customer_id"),
        formula=N_("deals with close_date in the period, grouped by an attribute of their "
                   "account (a customers column, else the deal's own column; a number in the "
                   "bands of ACCOUNT_BANDS, employees 0–49, 50–249, 250–999, 1,000–4,999, "
                   "5,000+); per group: accounts with a closed deal, win rate = won / (won + "
                   "lost) with 95% Wilson interval, bookings = sum(amount) of won deals and "
                   "their share; accounts without a value and deals without an account are "
                   "left out and counted in the note"))
def accounts_by_attribute(wh, filters, *, by=None, bands: dict | None = None) -> pd.DataFrame:
    """opportunities (+ customers) -> [by], accounts, bookings, bookings_share, numerator
    (won deals), denominator (closed deals), value (win rate), ci_low, ci_high, too_few.

    ``by``: one account attribute; None gives one row for all accounts. A numeric
    attribute is cut into ``bands`` (column -> lower bounds; default :data:`ACCOUNT_BANDS`)
    and rows follow the bands' order; other groups are sorted by name.
    """
    columns = breakdown_list(by)
    if len(columns) > 1:
        raise MetricUnavailable(N_("accounts break down by one attribute at a time"))
    column = columns[0] if columns else None
    if column == "customer_id":
        raise MetricUnavailable(N_("the accounts themselves are no attribute: see "
                                   "account_bookings"))
    frame, note = closed_with_attribute(wh, filters, column,
                                        {**ACCOUNT_BANDS, **(bands or {})})
    keys = [column] if column else []
    sums = (frame.groupby(keys, observed=True, sort=True) if keys else
            frame.assign(_all=0).groupby("_all")).agg(
        accounts=("customer_id", "nunique"), won_deals=("won_deals", "sum"),
        closed_deals=("closed_deals", "sum"), valued_won=("valued_won", "sum"),
        bookings=("bookings", "sum")).reset_index(drop=not keys)
    if not keys and sums.empty:  # nothing closed: one row of zeros, as for bookings
        sums = pd.DataFrame([{"accounts": 0, "won_deals": 0, "closed_deals": 0,
                              "valued_won": 0, "bookings": 0.0}])
    sums["bookings"] = _sum_or_unknown(sums["bookings"], sums["valued_won"], sums["won_deals"])
    if _money_not_summable(wh):
        sums["bookings"] = np.nan
        note = _join_notes(note, _money_not_summable(wh))
    total = sums["bookings"].sum()
    sums["bookings_share"] = sums["bookings"] / total if total > 0 else np.nan
    if keys:
        sums[column] = sums[column].astype(object)  # band names or values, not categories
    out = rate_frame(sums[[*keys, "accounts", "bookings", "bookings_share", "won_deals",
                           "closed_deals"]], "won_deals", "closed_deals")
    out["accounts"] = out["accounts"].astype("int64")
    out.attrs["note"] = note
    return out


def closed_with_attribute(wh, filters: Filters, column: str | None,
                          bands: dict) -> tuple[pd.DataFrame, str]:
    """:func:`closed_by_account` with the account's ``column`` (from customers, else the
    deals' own column; a number in its ``bands``) and closed_deals; rows without a value
    left out, and counted in the note with the closed deals without an account."""
    customers = wh.table("customers").columns if wh.has("customers") else ()
    if column is None or column in customers:
        frame, note = closed_by_account(wh, filters)
        if column is not None:
            frame = frame.merge(_attribute_per_account(wh, column), on="customer_id",
                                how="left")
    elif column in wh.table(DEALS).columns:
        frame, note = closed_by_account(wh, filters, group=column)
    else:
        raise MetricUnavailable(tr("no account attribute {column}: neither customers nor "
                                   "opportunities have that column").format(
                                       column=repr(column)))
    frame = frame.assign(closed_deals=frame["won_deals"] + frame["lost_deals"])
    if column is None:
        return frame, note
    values = frame[column]
    if is_numeric_dtype(values) and not is_bool_dtype(values):
        if column not in bands:
            raise MetricUnavailable(tr("{column} is a number: give the lower bounds of its "
                                       "bands, e.g. {example}").format(
                                           column=column,
                                           example=f"bands={{{column!r}: (0, 100, 1000)}}"))
        frame[column] = _in_bands(values, tuple(bands[column]))
    lacking = _missing_value(frame[column])
    without = frame.loc[lacking, "customer_id"].nunique()
    if without:
        accounts = frame["customer_id"].nunique()
        note = _join_notes(note, _few(N_("{count} of {total} accounts with a closed deal "
                                         "have no {column} (left out)"), without, accounts,
                                      column=field_label(column)))
    return frame[~lacking], note


# -- open deals --------------------------------------------------------------------------
@metric(name="open_deal_accounts", title=N_("Accounts with open deals"), unit="count",
        grain=N_("now × account"), returns="frame",
        needs=("opportunities.outcome", "opportunities.amount", "opportunities.customer_id"),
        formula=N_("accounts with a deal open now (outcome open; the period does not cut "
                   "it): open deals and their value (sum(amount), none when no open deal has "
                   "one), won and lost deals at any date; no win yet = no won deal at any "
                   "date; open deals without an account are left out and counted in the "
                   "note"))
def open_deal_accounts(wh, filters) -> pd.DataFrame:
    """opportunities -> customer_id, account, open_deals, open_value, won_deals,
    lost_deals, no_win_yet, [oldest_open (first created_date of its open deals),
    next_close (first expected close_date)]: accounts without a win first, then by open
    value (unknown last), open deals and id."""
    t = _with_account(apply_filters(wh, DEALS, filters, period=False))
    is_open, won = t.outcome == "open", t.outcome == "won"
    dates = {name: t[column].min(where=is_open)
             for name, column in (("oldest_open", "created_date"), ("next_close", "close_date"))
             if column in t.columns}
    frame = grouped(t, ["customer_id"], open_deals=t.count(where=is_open),
                    valued=t.amount.count(where=is_open),
                    open_value=t.amount.sum(where=is_open), won_deals=t.count(where=won),
                    lost_deals=t.count(where=t.outcome == "lost"), **dates)
    for col in ("open_deals", "valued", "won_deals", "lost_deals"):
        frame[col] = frame[col].fillna(0).astype("int64")
    frame, unknown = _split_unknown(frame)
    frame = frame[frame["open_deals"] > 0]
    frame["open_value"] = _sum_or_unknown(frame["open_value"], frame["valued"],
                                          frame["open_deals"])
    if _money_not_summable(wh):
        frame["open_value"] = np.nan
    frame["no_win_yet"] = frame["won_deals"] == 0
    frame = frame.sort_values(["no_win_yet", "open_value", "open_deals", "customer_id"],
                              ascending=[False, False, False, True], na_position="last",
                              kind="stable").reset_index(drop=True)
    frame.insert(1, "account", account_names(wh, frame["customer_id"]))
    without = int(unknown["open_deals"].sum())
    out = frame[["customer_id", "account", "open_deals", "open_value", "won_deals",
                 "lost_deals", "no_win_yet", *dates]].reset_index(drop=True)
    out.attrs["note"] = _join_notes(
        _no_account_note(without, without + int(frame["open_deals"].sum()), "open deals"),
        _money_not_summable(wh))
    return out
