"""Pipeline KPIs of a B2B sales team, from the opportunities table: bookings, win rate,
deal size, sales cycle, open pipeline, coverage of the target, the opportunity funnel and
the owner leaderboard.

Which deals each KPI counts (the filters reach deals as :mod:`crmkit.metrics.filters`
says: ``sales_rep`` is the deal owner, ``product`` its product, ``region`` and ``segment``
come through its customer)
    closed deals   outcome won or lost, close_date in the period: bookings, win rate,
                   deal size, sales cycle, the leaderboard. Open deals never count.
    open pipeline  outcome open, now: a snapshot the period does not cut (an open deal's
                   close_date is when it is expected to close; that month is a breakdown).
    created deals  created_date in the period, at the stage they are in now: the funnel.

A breakdown ``by`` leaves out deals whose group value is missing (there is no "None"
owner). Amounts that are missing are never read as 0: a sum over deals none of which has
an amount is NaN, and the result's note says how many deals had none.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from crmkit import i18n
from crmkit.i18n import N_, tr
from crmkit.labels import series
from crmkit.metrics.derived import (
    FREQUENCIES,
    check_freq,
    execute,
    grouped,
    period_starts,
    ts,
)
from crmkit.metrics.filters import (
    DAY,
    Filters,
    apply_filters,
    breakdown_list,
    cut_period,
    with_breakdown,
)
from crmkit.metrics.registry import metric
from crmkit.metrics.results import (
    MIN_DENOMINATOR,
    MetricUnavailable,
    Rate,
    mean_frame,
    measure_from_row,
    rate_frame,
    sum_frame,
    wilson_interval,
)
from crmkit.metrics.sales import _prorated_targets  # the quota rule, shared with quotas

DEALS = "opportunities"
CLOSED = ("won", "lost")
# The derived breakdown of the open pipeline: the month an open deal is expected to close.
CLOSE_MONTH = "close_month"
SECONDS_PER_DAY = 86_400.0
# Coverage of the target to go is judged while at least this many days of the period are
# left; at its very end it is a number about nothing (0× of a few days).
MIN_DAYS_LEFT = 14


# -- the deals each KPI counts ---------------------------------------------------------
def closed_deals(wh, filters: Filters) -> ibis.Table:
    """Deals won or lost whose close_date falls in the period, after the filters."""
    t = apply_filters(wh, DEALS, filters)
    return t.filter(t.outcome.isin(CLOSED))


def open_deals(wh, filters: Filters) -> ibis.Table:
    """Deals open now, after the filters; the period does not cut them."""
    t = apply_filters(wh, DEALS, filters, period=False)
    return t.filter(t.outcome == "open")


def _known(column) -> ibis.BooleanColumn:
    """Condition: the value is there (not NULL, not empty text)."""
    if column.type().is_string():
        return column.notnull() & (column != "")
    return column.notnull()


def _breakdown(wh, t: ibis.Table, by) -> tuple[ibis.Table, list[str]]:
    """``t`` with its ``by`` columns (see with_breakdown), rows without a group value out."""
    t, by = with_breakdown(wh, DEALS, t, by)
    return (t.filter(*(_known(t[c]) for c in by)) if by else t), by


def pipeline_stages(wh) -> list[str]:
    """Every stage of the data, in its pipeline order: by stage_order; without one, the
    stages of open deals first, then those of won, then of lost deals (a closed stage is
    the end of a pipeline, wherever it appears in the export), each by first appearance
    (the ingested row number, else the first created date), then by name."""
    t = wh.table(DEALS)
    t = t.filter(_known(t.stage))
    aggregates = {"deals": t.count()}
    if "outcome" in t.columns:
        aggregates["closing"] = t.outcome.cases(("won", 1), ("lost", 2), else_=0).max()
    if "stage_order" in t.columns:
        aggregates["position"] = t.stage_order.min()
    if "source_row" in t.columns:
        aggregates["first_seen"] = t.source_row.min()
    elif "created_date" in t.columns:
        aggregates["first_seen"] = t.created_date.min()
    frame = grouped(t, ["stage"], **aggregates)
    keys = [k for k in ("position", "closing", "first_seen") if k in frame] + ["stage"]
    frame = frame.sort_values(keys, na_position="last", kind="stable")
    return frame["stage"].astype(str).tolist()


def _in_stage_order(frame: pd.DataFrame, wh) -> pd.DataFrame:
    """``frame`` with its stage rows in pipeline order (other ``by`` columns after it)."""
    if "stage" not in frame.columns or frame.empty:
        return frame
    order = {stage: i for i, stage in enumerate(pipeline_stages(wh))}
    position = frame["stage"].map(order)
    return (frame.assign(_position=position)
            .sort_values(["_position", "stage"], kind="stable")
            .drop(columns="_position").reset_index(drop=True))


def _few(template: str, count: int, total: int, **values) -> str:
    """A note on ``count`` of ``total`` deals, in the active language: ``template`` is the
    English message with ``{count}`` and ``{total}`` ("{count} of {total} won deals have
    no amount (left out)"), marked with N_ where it is written."""
    return tr(template).format(count=i18n.number(count), total=i18n.number(total), **values)


def _day(value) -> str:
    """A date in a note or a reason: 2025-03-20 in English (as the notes always read),
    the locale's date in another language (2025年3月20日)."""
    if i18n.current().language == i18n.SOURCE_LANGUAGE:
        return f"{pd.Timestamp(value):%Y-%m-%d}"
    return i18n.date(value)


# -- closed deals ----------------------------------------------------------------------
def closed_summary(wh, filters: Filters | None = None, *, by=None) -> pd.DataFrame:
    """Deals closed in the period, in one query.

    opportunities (+ filters, period on close_date) -> [*by], won_deals, lost_deals,
    valued_won (won deals with an amount), bookings, deal_size_std. ``bookings`` is 0
    without won deals and NaN when the won deals carry no amount. With ``by=None`` one row.
    """
    filters = filters if filters is not None else Filters()
    return _closed_sums(wh, closed_deals(wh, filters), by)


def _closed_sums(wh, t: ibis.Table, by) -> pd.DataFrame:
    t, by = _breakdown(wh, t, by)
    won = t.outcome == "won"
    frame = grouped(t, by, won_deals=t.count(where=won), lost_deals=t.count(where=~won),
                    valued_won=t.amount.count(where=won), bookings=t.amount.sum(where=won),
                    deal_size_std=t.amount.std(where=won))
    for col in ("won_deals", "lost_deals", "valued_won"):
        frame[col] = frame[col].fillna(0).astype("int64")
    frame["bookings"] = _sum_or_unknown(frame["bookings"], frame["valued_won"],
                                        frame["won_deals"])
    frame["deal_size_std"] = frame["deal_size_std"].astype(float)
    return frame


def _sum_or_unknown(total: pd.Series, valued: pd.Series, deals: pd.Series) -> pd.Series:
    """A sum of amounts: 0 without deals, NaN when deals exist but none has an amount."""
    total = total.astype(float)
    return total.where(valued > 0, np.where(deals > 0, np.nan, 0.0))


def _missing_amount_note(won, valued) -> str:
    won, valued = int(won), int(valued)
    if valued == won:
        return ""
    return _few(N_("{count} of {total} won deals have no amount (left out)"), won - valued, won)


@metric(name="bookings", title=N_("Bookings (won deal value)"), unit="currency",
        grain=N_("period"), needs=("opportunities.outcome", "opportunities.amount"),
        formula=N_("sum(amount) of deals won with close_date in the period; n = won deals; "
                   "won deals without an amount are left out and counted in the note"))
def bookings(wh, filters, *, by=None):
    """Won value closed in the period: Measure (currency, n = won deals) or a frame by
    ``by`` ([*by], value, n, ci_low, ci_high, too_few)."""
    summary = closed_summary(wh, filters, by=by)
    frame = sum_frame(summary[[*breakdown_list(by), "bookings", "won_deals"]],
                      value="bookings", n="won_deals")
    if by:
        frame["value"] = summary["bookings"].to_numpy()  # NaN (no amounts) stays NaN
        return frame
    row = summary.iloc[0]
    if row["won_deals"] and not row["valued_won"]:
        raise MetricUnavailable(N_("the won deals carry no amount"))
    return measure_from_row(frame.iloc[0], "currency",
                            note=_missing_amount_note(row["won_deals"], row["valued_won"]))


@metric(name="bookings_over_time", title=N_("Bookings over time"), unit="currency",
        grain=N_("day / week / month / quarter / year"), returns="frame",
        needs=("opportunities.outcome", "opportunities.amount"),
        formula=N_("per period start of close_date (date_trunc; weeks start Monday): won "
                   "deals and the sum of their amounts; periods without a won deal show 0"))
def bookings_over_time(wh, filters, *, freq: str = "month", by=None) -> pd.DataFrame:
    """opportunities -> period, [*by], won_deals, bookings.

    Every period from the filters' start (else the first won deal) to their end (else
    the last won deal) has a row for each group, 0 when nothing was won.
    """
    t = closed_deals(wh, filters)
    t = t.filter(t.outcome == "won", t.close_date.notnull())
    t = t.mutate(period=t.close_date.truncate(FREQUENCIES[check_freq(freq)]))
    t, by = _breakdown(wh, t, by)
    frame = grouped(t, ["period", *by], won_deals=t.count(), valued=t.amount.count(),
                    bookings=t.amount.sum())
    first, last = filters.start, filters.end
    if first is None or last is None:
        span = execute(t.agg(first=t.close_date.min(), last=t.close_date.max()))
        if span["first"].isna().iloc[0]:
            raise MetricUnavailable(N_("no won deals in the selection to date a period on"))
        first = pd.Timestamp(span["first"].iloc[0]).normalize() if first is None else first
        last = pd.Timestamp(span["last"].iloc[0]).normalize() if last is None else last
    grid = pd.DataFrame({"period": period_starts(first, last, freq)})
    if by:
        grid = grid.merge(frame[by].drop_duplicates(), how="cross")
    frame["period"] = frame["period"].astype("datetime64[us]")
    full = grid.merge(frame, on=["period", *by], how="left")
    full["won_deals"] = full["won_deals"].fillna(0).astype("int64")
    full["bookings"] = _sum_or_unknown(full["bookings"], full["valued"].fillna(0),
                                       full["won_deals"])
    full = full.sort_values(["period", *by], kind="stable").reset_index(drop=True)
    return full[["period", *by, "won_deals", "bookings"]]


@metric(name="win_rate", title=N_("Win rate"), unit="percent", grain=N_("period"),
        needs=("opportunities.outcome",),
        formula=N_("won / (won + lost) among deals with close_date in the period; open "
                   "deals are never in the denominator; 95% Wilson interval"))
def win_rate(wh, filters, *, by=None):
    """Share of the period's closed deals that were won: Rate, or a frame by ``by``
    ([*by], numerator, denominator, value, ci_low, ci_high, too_few)."""
    summary = closed_summary(wh, filters, by=by)
    summary["closed_deals"] = summary["won_deals"] + summary["lost_deals"]
    frame = rate_frame(summary[[*breakdown_list(by), "won_deals", "closed_deals"]],
                       "won_deals", "closed_deals")
    if by:
        return frame
    row = frame.iloc[0]
    return Rate.from_counts(row["numerator"], row["denominator"])


@metric(name="average_deal_size", title=N_("Average deal size"), unit="currency",
        grain=N_("period"), needs=("opportunities.outcome", "opportunities.amount"),
        formula=N_("sum(amount) / count of deals won with close_date in the period (won "
                   "deals with an amount); 95% CI mean ± 1.96·sd/√n"))
def average_deal_size(wh, filters, *, by=None):
    """Mean won amount with a 95% interval: Measure or a frame by ``by``."""
    summary = closed_summary(wh, filters, by=by)
    with np.errstate(divide="ignore", invalid="ignore"):
        summary["mean"] = summary["bookings"] / summary["valued_won"].where(
            summary["valued_won"] > 0)
    frame = mean_frame(summary[[*breakdown_list(by), "mean", "deal_size_std", "valued_won"]],
                       mean="mean", std="deal_size_std", n="valued_won")
    if by:
        return frame
    row = summary.iloc[0]
    return measure_from_row(frame.iloc[0], "currency",
                            note=_missing_amount_note(row["won_deals"], row["valued_won"]))


@metric(name="sales_cycle", title=N_("Sales cycle (days to win)"), unit="days",
        grain=N_("period"), returns="frame",
        needs=("opportunities.outcome", "opportunities.created_date",
               "opportunities.close_date"),
        formula=N_("days from created_date to close_date of deals won with close_date in "
                   "the period: mean (95% CI mean ± 1.96·sd/√n) and median; won deals "
                   "without a created date are left out and counted (no_created_date)"))
def sales_cycle(wh, filters, *, by=None) -> pd.DataFrame:
    """opportunities -> [*by], n, no_created_date, mean_days, ci_low, ci_high, median_days,
    too_few. ``n`` is the won deals measured; with ``by=None`` one row."""
    t = closed_deals(wh, filters)
    t, by = _breakdown(wh, t.filter(t.outcome == "won"), by)
    days = (t.close_date.epoch_seconds() - t.created_date.epoch_seconds()).cast(
        "float64") / SECONDS_PER_DAY
    groups = grouped(t, by, no_created_date=t.count(where=t.created_date.isnull()),
                     mean_days=days.mean(), std=days.std(), n=days.count(),
                     median_days=days.median())
    measured = mean_frame(groups[[*by, "mean_days", "std", "n"]], mean="mean_days")
    frame = measured.rename(columns={"value": "mean_days"}).assign(
        no_created_date=groups["no_created_date"].fillna(0).to_numpy(dtype="int64"),
        median_days=groups["median_days"].to_numpy(dtype=float))
    if not by and frame["n"].iloc[0] == 0 and frame["no_created_date"].iloc[0] > 0:
        raise MetricUnavailable(N_("no won deal of the period has a created date"))
    missing = int(frame["no_created_date"].sum())
    if missing:
        frame.attrs["note"] = _few(N_("{count} of {total} won deals have no created date "
                                      "(left out)"), missing, missing + int(frame["n"].sum()))
    return frame[[*by, "n", "no_created_date", "mean_days", "ci_low", "ci_high",
                  "median_days", "too_few"]]


# -- the open pipeline -----------------------------------------------------------------
def _deal_weight(wh, filters: Filters, t: ibis.Table):
    """(weigh, note): ``weigh(deals)`` is the expression of each open deal's chance to
    win, for the deals ``t`` (or a table derived from it); None when it cannot be had.

    The deal's probability / 100 when it has one; else the overall win rate of the
    selection's closed deals over all periods (the data holds only each deal's current
    stage, so a per-stage historical rate cannot be observed).
    """
    has_probability = "probability" in t.columns
    counts = grouped(t, [], deals=t.count(),
                     **({"with_probability": t.probability.count()} if has_probability
                        else {}))
    deals = int(counts["deals"].iloc[0])
    with_probability = int(counts["with_probability"].iloc[0]) if has_probability else 0
    if deals and with_probability == deals:
        return _probability, tr("weighted by each deal's probability")
    closed = closed_summary(wh, filters.with_period(None, None)).iloc[0]
    decided = int(closed["won_deals"] + closed["lost_deals"])
    lacking = deals - with_probability
    if not decided:
        if with_probability:
            return None, _few(N_("no weighted value: {count} of {total} open deals have no "
                                 "probability and there are no closed deals to weight by"),
                              lacking, deals)
        return None, tr("no weighted value: no probability and no closed deals to weight by")
    won_share = int(closed["won_deals"]) / decided
    rate = ibis.literal(won_share, type="float64")
    if not with_probability:
        return (lambda d: rate), tr(
            "weighted by the overall win rate {rate} (won / closed deals of the selection, "
            "all periods): the deals have no probability").format(
                rate=i18n.percent(won_share))
    return (lambda d: _probability(d).coalesce(rate)), _few(
        N_("weighted by each deal's probability, else by the overall win rate {rate} (won / "
           "closed deals of the selection, all periods) for {count} of {total} open deals"),
        lacking, deals, rate=i18n.percent(won_share))


def _probability(deals: ibis.Table):
    return deals.probability / 100.0


@metric(name="open_pipeline", title=N_("Open pipeline"), unit="currency",
        grain=N_("now × stage / expected close month"), returns="frame",
        needs=("opportunities.outcome", "opportunities.amount"),
        formula=N_("deals open now (outcome open), not cut by the period: count, value = "
                   "sum(amount), weighted value = sum(amount × probability / 100), or × the "
                   "overall win rate (won / closed deals, all periods) for deals without a "
                   "probability; by stage in pipeline order or by expected close month "
                   "(close_month = month of an open deal's close_date)"))
def open_pipeline(wh, filters, *, by=None) -> pd.DataFrame:
    """opportunities -> [*by], deals, valued_deals, value, weighted_value.

    ``by`` takes any deal or customer column, ``"stage"`` (rows in pipeline order) and
    ``"close_month"`` (the expected close month). ``value`` and ``weighted_value`` are NaN
    where no open deal has an amount; the frame's ``attrs["note"]`` says so, and how the
    value is weighted. With ``by=None`` one row.
    """
    t = open_deals(wh, filters)
    requested = breakdown_list(by)
    if CLOSE_MONTH in requested:
        t = t.mutate(**{CLOSE_MONTH: t.close_date.truncate("M")})
    weigh, weight_note = _deal_weight(wh, filters, t)
    total = _pipeline_sums(t, [], weigh)
    deals, valued = int(total["deals"].iloc[0]), int(total["valued_deals"].iloc[0])
    notes = []
    if filters.start is not None or filters.end is not None:
        notes.append(tr("the deals open now: the period does not cut the open pipeline"))
    if deals and not valued:
        notes.append(tr("open deals carry no amount: the pipeline's value is unknown"))
    elif valued < deals:
        notes.append(_few(N_("{count} of {total} open deals have no amount (left out)"),
                          deals - valued, deals))
    if valued:
        notes.append(weight_note)
    if CLOSE_MONTH in requested:
        undated = int(execute(t.count(where=t.close_date.isnull())))
        if undated:
            notes.append(_few(N_("{count} of {total} open deals have no expected close "
                                 "date (left out)"), undated, deals))
    if requested:
        grouped_t, by = _breakdown(wh, t, requested)
        frame = _in_stage_order(_pipeline_sums(grouped_t, by, weigh), wh)
    else:
        frame, by = total, []
    frame.attrs["note"] = series(notes, semicolons=True)
    return frame[[*by, "deals", "valued_deals", "value", "weighted_value"]]


def _pipeline_sums(t: ibis.Table, by: list[str], weigh) -> pd.DataFrame:
    """[*by], deals, valued_deals, value, weighted_value of the open deals ``t``."""
    aggregates = {"deals": t.count(), "valued_deals": t.amount.count(),
                  "value": t.amount.sum()}
    if weigh is not None:
        aggregates["weighted_value"] = (t.amount * weigh(t)).sum()
    frame = grouped(t, by, **aggregates)
    frame["deals"] = frame["deals"].fillna(0).astype("int64")
    frame["valued_deals"] = frame["valued_deals"].fillna(0).astype("int64")
    frame["value"] = _sum_or_unknown(frame["value"], frame["valued_deals"], frame["deals"])
    frame["weighted_value"] = (
        _sum_or_unknown(frame["weighted_value"], frame["valued_deals"], frame["deals"])
        if weigh is not None else np.nan)
    return frame


@metric(name="pipeline_coverage", title=N_("Pipeline coverage of the target to go"),
        unit="ratio", grain=N_("period (× owner)"), returns="frame",
        needs=("opportunities.outcome", "opportunities.amount", "targets"),
        formula=N_("coverage = value of open deals expected to close from the as-of date "
                   "to the period end / (target − bookings), target to go = target of the "
                   "period prorated as in quota attainment minus the period's bookings so "
                   "far; as-of date = the last close date of a closed deal unless given; "
                   "weighted coverage uses the weighted pipeline value; not given with fewer "
                   "than 14 days of the period left"))
def pipeline_coverage(wh, filters, *, as_of=None, by=None,
                      min_days_left: int = MIN_DAYS_LEFT) -> pd.DataFrame:
    """opportunities + targets -> [owner], as_of, target, bookings, to_go, deals, pipeline,
    weighted_pipeline, coverage, weighted_coverage.

    ``to_go`` is max(target − bookings, 0); coverage is NaN when nothing is to go or the
    open deals carry no amount. ``by`` is None (the team) or ``"owner"``; deals without
    an owner count for the team only. Needs a period with a start and an end.
    """
    by = breakdown_list(by)
    if by not in ([], ["owner"]):
        raise MetricUnavailable(N_("coverage breaks down by owner only (targets are per "
                                   "owner)"))
    if filters.start is None or filters.end is None:
        raise MetricUnavailable(N_("coverage needs a period with a start and an end"))
    as_of = _as_of(wh, as_of)
    if as_of > filters.end:
        raise MetricUnavailable(tr("the period ended before the as-of date {date}: nothing "
                                   "is left to cover").format(date=_day(as_of)))
    left = (filters.end - as_of).days
    if left < min_days_left:
        raise MetricUnavailable(tr("{days} days of the period are left after the data's "
                                   "last close date ({date}): too little to judge its "
                                   "coverage").format(days=i18n.number(left),
                                                      date=_day(as_of)))
    targets = _prorated_targets(wh, filters).rename(columns={"sales_rep": "owner"})
    if targets.empty:
        raise MetricUnavailable(N_("no target overlaps the period"))
    so_far = closed_deals(wh, filters)
    closed = _closed_sums(wh, so_far.filter(so_far.close_date < ts(as_of + DAY)), by)
    t = open_deals(wh, filters)
    rest_start = max(as_of, filters.start)
    t = t.filter(t.close_date >= ts(rest_start), t.close_date < ts(filters.end_exclusive))
    weigh, weight_note = _deal_weight(wh, filters, t)
    t, _ = _breakdown(wh, t, by)
    pipeline = _pipeline_sums(t, by, weigh).rename(
        columns={"value": "pipeline", "weighted_value": "weighted_pipeline"})
    if not by:
        targets = targets[["target"]].sum().to_frame().T
        out = pd.concat([targets, closed, pipeline], axis=1)
    else:
        out = (targets.merge(closed, on="owner", how="outer")
               .merge(pipeline, on="owner", how="outer"))
    out["as_of"] = as_of
    out["target"] = out["target"].astype(float)
    out["bookings"] = out["bookings"].astype(float).fillna(0.0)
    out["deals"] = out["deals"].fillna(0).astype("int64")
    for col in ("pipeline", "weighted_pipeline"):
        out[col] = out[col].astype(float).where(out["deals"] > 0, 0.0)
    out["to_go"] = (out["target"] - out["bookings"]).clip(lower=0.0)
    to_go = out["to_go"].where(out["to_go"] > 0)
    out["coverage"] = out["pipeline"] / to_go
    out["weighted_coverage"] = out["weighted_pipeline"] / to_go
    if by:
        out = out.sort_values("owner", kind="stable").reset_index(drop=True)
    notes = [tr("open deals expected to close {start} – {end}").format(
                 start=_day(rest_start), end=_day(filters.end)),
             tr("bookings up to {date}").format(date=_day(as_of))]
    if out["deals"].sum():
        notes.append(weight_note)
    out.attrs["note"] = series(notes, semicolons=True)
    return out[[*by, "as_of", "target", "bookings", "to_go", "deals", "pipeline",
                "weighted_pipeline", "coverage", "weighted_coverage"]]


def _as_of(wh, as_of) -> pd.Timestamp:
    """The day the data stands on: ``as_of``, else the last close date of a closed deal."""
    if as_of is not None:
        return pd.Timestamp(as_of).normalize()
    t = wh.table(DEALS)
    last = execute(t.filter(t.outcome.isin(CLOSED)).close_date.max())
    if pd.isna(last):
        raise MetricUnavailable(N_("no closed deal to date the data by: pass `as_of`"))
    return pd.Timestamp(last).normalize()


# -- created deals and owners ----------------------------------------------------------
@metric(name="opportunity_funnel", title=N_("Opportunity funnel"), unit="count",
        grain=N_("period × stage"), returns="frame",
        needs=("opportunities.stage", "opportunities.created_date"),
        formula=N_("deals with created_date in the period by the stage they are in now, in "
                   "the data's stage order (stage_order, else first appearance); share = "
                   "deals at the stage / deals created; deals without a created date are "
                   "left out when a period is set"))
def opportunity_funnel(wh, filters) -> pd.DataFrame:
    """opportunities -> stage, deals, share: one row per stage of the data (0 when no
    deal created in the period is at it), in pipeline order."""
    t = apply_filters(wh, DEALS, filters, period=False)
    dated = grouped(t, [], deals=t.count(), undated=t.count(where=t.created_date.isnull()))
    deals, undated = int(dated["deals"].iloc[0]), int(dated["undated"].iloc[0])
    notes = []
    if filters.start is not None or filters.end is not None:
        if deals and undated == deals:
            raise MetricUnavailable(N_("no deal has a created date to place it in the "
                                       "period"))
        if undated:
            notes.append(_few(N_("{count} of {total} deals have no created date (left out)"),
                              undated, deals))
        t = cut_period(t, "created_date", filters)
    t = t.filter(_known(t.stage))
    counts = grouped(t, ["stage"], deals=t.count())
    frame = pd.DataFrame({"stage": pipeline_stages(wh)}).merge(
        counts.astype({"stage": str}), on="stage", how="left")
    frame["deals"] = frame["deals"].fillna(0).astype("int64")
    created = int(frame["deals"].sum())
    frame["share"] = frame["deals"] / created if created else np.nan
    frame.attrs["note"] = series(notes, semicolons=True)
    return frame


@metric(name="owner_leaderboard", title=N_("Owner leaderboard"), unit="currency",
        grain=N_("period × owner"), returns="frame",
        needs=("opportunities.outcome", "opportunities.owner", "opportunities.amount"),
        formula=N_("per deal owner, deals with close_date in the period: bookings = won "
                   "amount, won and lost deals, win rate = won / (won + lost) with 95% "
                   "Wilson interval; target prorated as in quota attainment; attainment = "
                   "bookings / target (none without a target); rank 1 = highest "
                   "attainment, then bookings"))
def owner_leaderboard(wh, filters) -> pd.DataFrame:
    """opportunities (+ targets) -> owner, bookings, won_deals, lost_deals, win_rate,
    win_rate_low, win_rate_high, too_few, target, attainment, rank, bookings_rank.

    Every owner with a deal closed in the period or a target in it; deals without an
    owner are left out. Owners without a target have NaN target and attainment and no
    rank; rows are ordered by rank, then bookings.
    """
    summary = closed_summary(wh, filters, by="owner")
    if wh.has("targets"):
        targets = _prorated_targets(wh, filters).rename(columns={"sales_rep": "owner"})
    else:
        targets = pd.DataFrame({"owner": pd.Series(dtype=str), "target": pd.Series(dtype=float)})
    out = summary.merge(targets, on="owner", how="outer")
    for col in ("won_deals", "lost_deals"):
        out[col] = out[col].fillna(0).astype("int64")
    out["bookings"] = out["bookings"].astype(float).fillna(0.0)
    closed = (out["won_deals"] + out["lost_deals"]).to_numpy()
    won = out["won_deals"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["win_rate"] = np.where(closed > 0, won / np.where(closed > 0, closed, 1), np.nan)
    out["win_rate_low"], out["win_rate_high"] = wilson_interval(won, closed)
    out["too_few"] = closed < MIN_DENOMINATOR
    out["target"] = out["target"].astype(float)
    out["attainment"] = out["bookings"] / out["target"].where(out["target"] > 0)
    out = out.sort_values(["attainment", "bookings", "owner"], ascending=[False, False, True],
                          na_position="last", kind="stable").reset_index(drop=True)
    out["rank"] = _rank(out, ["attainment", "bookings"]).where(
        out["attainment"].notna()).astype("Int64")
    out["bookings_rank"] = out["bookings"].rank(ascending=False, method="min").astype("int64")
    if not wh.has("targets"):
        out.attrs["note"] = tr("no targets: no attainment or rank")
    return out[["owner", "bookings", "won_deals", "lost_deals", "win_rate", "win_rate_low",
                "win_rate_high", "too_few", "target", "attainment", "rank", "bookings_rank"]]


def _rank(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """1, 2, ... down ``frame`` (sorted by ``keys``); rows equal on every key share a rank."""
    same = pd.Series(True, index=frame.index)
    for key in keys:
        col = frame[key]
        same &= col.eq(col.shift()) | (col.isna() & col.shift().isna())
    same.iloc[:1] = False
    position = pd.Series(np.arange(1, len(frame) + 1), index=frame.index, dtype=float)
    return position.where(~same).ffill()
