"""Every headline KPI in one frame: what a scorecard prints and the benchmark times.

:func:`kpi_set` computes the rows; :data:`SCORECARD` says how the ``kpi_scorecard`` report
(and the KPI cards at the top of every report) shows each KPI: its area, which way is
better, and whether it has a period. :func:`kpi_target` and :func:`kpi_status` turn a
target and the status rules (:data:`STATUS_RULES`, overridden by a config's
``scorecard:``) into "on track", "at risk" or "off track". All pure: results in, rows out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from crmkit import i18n
from crmkit.exceptions import ConfigError
from crmkit.i18n import N_, tr
from crmkit.metrics.filters import Filters
from crmkit.metrics.registry import get_metric
from crmkit.metrics.results import Measure, NotAvailable, Nps, Rate

# The scorecard's KPIs, in the order printed. Each is a registered KPI with a scalar
# result; rows from frame-valued KPIs (growth, customer value) are added after them.
HEADLINE_KPIS = (
    "revenue", "orders", "average_order_value", "new_customers", "loyalty",
    "repeat_purchase_rate", "repeat_customer_rate", "churn_rate", "retention_rate",
    "average_clv", "cac", "conversion_rate", "follow_up_rate", "complaint_rate", "csat",
    "satisfaction_score", "nps", "campaign_cost", "campaign_roi", "cost_per_acquisition",
)

COLUMNS = ["name", "title", "unit", "value", "text", "n", "numerator", "denominator",
           "ci_low", "ci_high", "too_few", "available", "note"]

# Rates and scores on a fixed scale change in points; amounts and counts change relatively.
POINT_UNITS = ("percent", "nps")


# -- how the scorecard shows each KPI -------------------------------------------------------

AREAS = {"sales": N_("Sales"), "pipeline": N_("Pipeline and leads"),
         "customers": N_("Customers"), "satisfaction": N_("Satisfaction"),
         "churn": N_("Churn and retention"), "campaigns": N_("Campaigns")}


@dataclass(frozen=True)
class ScorecardKpi:
    """One KPI of the scorecard.

    ``better``: "higher" or "lower" is good. ``points``: for a KPI that can be 0 or
    negative (NPS, ROI), how far short of its reference counts as a whole shortfall (100
    NPS points, 100 percentage points of ROI), instead of a share of the reference.
    ``periodic``: False for a value as of the data or of now (a snapshot's churn, the open
    pipeline): no previous period, no trend. ``shape``: "snapshot" for a KPI shown only
    on a customer snapshot; "dated" for one not shown on a snapshot (whose churn dates are
    its snapshot date, not events); "inactivity" for churn by inactivity, shown only when
    the data records no churn dates (as the churn report decides). ``budget``: a change
    is neither good nor bad (spend): no status against the previous period, and against
    a target (a budget) lower is better.
    """

    name: str
    area: str
    better: str = "higher"
    points: float | None = None
    periodic: bool = True
    shape: str | None = None
    budget: bool = False


SCORECARD = (
    ScorecardKpi("revenue", "sales"),
    ScorecardKpi("orders", "sales"),
    ScorecardKpi("average_order_value", "sales"),
    ScorecardKpi("bookings", "pipeline"),
    ScorecardKpi("win_rate", "pipeline"),
    ScorecardKpi("average_deal_size", "pipeline"),
    ScorecardKpi("sales_cycle", "pipeline", better="lower"),
    ScorecardKpi("open_pipeline", "pipeline", periodic=False),
    ScorecardKpi("pipeline_coverage", "pipeline", periodic=False),
    ScorecardKpi("conversion_rate", "pipeline"),
    ScorecardKpi("new_customers", "customers"),
    ScorecardKpi("loyalty", "customers"),
    ScorecardKpi("repeat_purchase_rate", "customers"),
    ScorecardKpi("repeat_customer_rate", "customers"),
    ScorecardKpi("cohort_month_retention", "customers"),
    ScorecardKpi("average_clv", "customers"),
    ScorecardKpi("cac", "customers", better="lower"),
    ScorecardKpi("customer_value", "customers"),
    ScorecardKpi("csat", "satisfaction"),
    ScorecardKpi("satisfaction_score", "satisfaction"),
    ScorecardKpi("nps", "satisfaction", points=100.0),
    ScorecardKpi("customer_satisfaction", "satisfaction", periodic=False),
    ScorecardKpi("complaint_rate", "satisfaction", better="lower"),
    ScorecardKpi("follow_up_rate", "satisfaction"),
    ScorecardKpi("complaints_followed_up", "satisfaction"),
    ScorecardKpi("churn_rate", "churn", better="lower", shape="dated"),
    ScorecardKpi("retention_rate", "churn", shape="dated"),
    ScorecardKpi("inactivity_churn_rate", "churn", better="lower", shape="inactivity"),
    ScorecardKpi("inactivity_retention_rate", "churn", shape="inactivity"),
    ScorecardKpi("snapshot_churn_rate", "churn", better="lower", periodic=False,
                 shape="snapshot"),
    ScorecardKpi("revenue_at_risk", "churn", better="lower", periodic=False,
                 shape="snapshot"),
    ScorecardKpi("campaign_cost", "campaigns", better="lower", budget=True),
    ScorecardKpi("campaign_roi", "campaigns", points=1.0),
    ScorecardKpi("cost_per_acquisition", "campaigns", better="lower"),
)
SCORECARD_KPIS = {k.name: k for k in SCORECARD}


# -- one row per KPI ------------------------------------------------------------------------

def _frame_note(frame: pd.DataFrame) -> str:
    return frame.attrs.get("note", "")


def _customer_value(frame: pd.DataFrame):
    return Measure(float(frame["cv"].iloc[0]), "currency", int(frame["customers"].iloc[0]),
                   note=_frame_note(frame))


def _sales_cycle(frame: pd.DataFrame):
    row = frame.iloc[0]
    if not row["n"]:
        return NotAvailable(N_("no won deal with a created date closed in the period"),
                            "sales_cycle")
    return Measure(float(row["mean_days"]), "days", int(row["n"]),
                   _finite(row["ci_low"]), _finite(row["ci_high"]), bool(row["too_few"]),
                   _frame_note(frame))


def _open_pipeline(frame: pd.DataFrame):
    row = frame.iloc[0]
    if pd.isna(row["value"]):
        return NotAvailable(N_("the open deals carry no amount"), "open_pipeline")
    return Measure(float(row["value"]), "currency", int(row["deals"]), note=_frame_note(frame))


def _pipeline_coverage(frame: pd.DataFrame):
    if frame.empty or pd.isna(frame["coverage"].iloc[0]):
        return NotAvailable(N_("no target still to reach in the period"),
                            "pipeline_coverage")
    return Measure(float(frame["coverage"].iloc[0]), "ratio", note=_frame_note(frame))


def _revenue_at_risk(frame: pd.DataFrame):
    row = frame.iloc[0]
    return Measure(float(row["revenue_at_risk"]), "currency", int(row["at_risk_customers"]),
                   note=_frame_note(frame))


# Frame-valued KPIs and the one number of each a scorecard shows (a Measure).
FRAME_VALUES: dict[str, Callable[[pd.DataFrame], object]] = {
    "customer_value": _customer_value,
    "sales_cycle": _sales_cycle,
    "open_pipeline": _open_pipeline,
    "pipeline_coverage": _pipeline_coverage,
    "revenue_at_risk": _revenue_at_risk,
}
FRAME_TITLES = {"customer_value": N_("Customer value CV = CLV − CAC"),
                "revenue_at_risk": N_("Monthly revenue at risk")}


def _finite(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def headline_result(name: str, result):
    """The scalar result of KPI ``name`` (a frame-valued KPI reduced by
    :data:`FRAME_VALUES`); NotAvailable stays as it is."""
    if isinstance(result, pd.DataFrame):
        if name not in FRAME_VALUES:
            raise ValueError(f"KPI {name!r} returns a frame; the scorecard reads one value "
                             f"only from {', '.join(FRAME_VALUES)}")
        if result.empty:
            return NotAvailable(N_("no rows"), name)
        return FRAME_VALUES[name](result)
    return result


def _row(name: str, title: str, unit: str, result) -> dict:
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update(name=name, title=title, unit=unit, text=str(result), too_few=False,
               available=not isinstance(result, NotAvailable), note="")
    if isinstance(result, NotAvailable):
        row["note"] = result.reason
        return row
    row.update(value=result.value, ci_low=getattr(result, "ci_low", None),
               ci_high=getattr(result, "ci_high", None), too_few=bool(result.too_few),
               note=result.note)
    if isinstance(result, Rate):
        row.update(n=result.denominator, numerator=result.numerator,
                   denominator=result.denominator)
    elif isinstance(result, (Measure, Nps)):
        row["n"] = result.n
    return row


def _growth_rows(compute, filters: Filters) -> list[dict]:
    growth = compute("sales_growth", filters)
    out = []
    for column, name, title in (
            ("change_vs_previous", "revenue_growth_vs_previous",
             N_("Revenue growth vs previous period")),
            ("change_vs_last_year", "revenue_growth_vs_last_year",
             N_("Revenue growth vs same period last year"))):
        if isinstance(growth, NotAvailable):
            out.append(_row(name, title, "percent", growth))
            continue
        value = float(growth.loc[growth["kpi"] == "revenue", column].iloc[0])
        row = _row(name, title, "percent", Measure(value, "percent"))
        # growth shows its sign
        row["text"] = i18n.missing() if math.isnan(value) else \
            ("-" if math.copysign(1.0, value) < 0 else "+") + i18n.percent(abs(value))
        out.append(row)
    return out


def _kpi_row(compute, name: str, filters: Filters) -> dict:
    kpi = get_metric(name)
    result = headline_result(name, compute(name, filters))
    return _row(name, FRAME_TITLES.get(name, kpi.title), kpi.unit, result)


def kpi_set(wh, filters: Filters | None = None, *, compare: bool = False,
            names=None, kpi: Callable | None = None) -> pd.DataFrame:
    """Every headline KPI for ``filters``: one row each, NotAvailable ones included.

    Columns: name, title, unit, value, text (as printed), n, numerator, denominator,
    ci_low, ci_high, too_few, available, note. With ``compare=True`` (needs a period
    with start and end) also previous_value and change (relative for amounts and counts,
    in points for percentages and NPS; see change_kind).

    ``names``: the KPIs to compute, registered names (the frame-valued ones of
    :data:`FRAME_VALUES` give one value each); default :data:`HEADLINE_KPIS`, the revenue
    growth rows and customer value. ``kpi(name, filters)`` computes one KPI: default the
    registered function on ``wh``; a report passes its cached ``Report.kpi``.
    """
    filters = filters if filters is not None else Filters()
    compute = kpi if kpi is not None else (lambda name, f: get_metric(name)(wh, f))
    if names is None:
        rows = [_kpi_row(compute, name, filters) for name in HEADLINE_KPIS]
        rows += _growth_rows(compute, filters)
        rows.append(_kpi_row(compute, "customer_value", filters))
    else:
        rows = [_kpi_row(compute, name, filters) for name in names]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["too_few"] = frame["too_few"].astype(bool)
    frame["available"] = frame["available"].astype(bool)
    if not compare:
        return frame
    before = kpi_set(wh, filters.previous_period(), names=names, kpi=kpi)
    frame = with_change(frame, before, "previous_value", "change")
    growth = frame["name"].str.startswith("revenue_growth")
    frame.loc[growth, ["previous_value", "change", "change_kind"]] = [math.nan, math.nan, ""]
    return frame


def with_change(frame: pd.DataFrame, before: pd.DataFrame, value: str,
                change: str) -> pd.DataFrame:
    """``frame`` with ``before``'s values as column ``value`` and the change to them as
    ``change`` (relative for amounts and counts, in points for percentages and NPS; see
    change_kind); NaN where either value is missing or the base is 0."""
    frame = frame.merge(before[["name", "value"]].rename(columns={"value": value}),
                        on="name", how="left")
    points = frame["unit"].isin(POINT_UNITS)
    frame["change_kind"] = np.where(points, "points", "relative")
    previous = frame[value]
    relative = (frame["value"] - previous) / previous.abs().where(previous.abs() > 0)
    frame[change] = np.where(points, frame["value"] - previous, relative)
    return frame


# -- targets ----------------------------------------------------------------------------------

# What a target `per` stands for, in months (a period of whole months is scaled by
# months) and in days (any other period).
TARGET_SCALES = {"month": (1, 365.25 / 12), "quarter": (3, 365.25 / 4), "year": (12, 365.25)}
# KPIs whose team target is the sum of the reps' targets in the targets table (pro rata
# to the days of the period, as quota attainment counts them): KPI -> (quota KPI, column).
TABLE_TARGETS = {"revenue": ("quota_attainment", "target"),
                 "bookings": ("owner_leaderboard", "target")}
SCALED_UNITS = ("currency", "count")  # amounts and counts grow with the period's length


def check_targets(targets: dict) -> None:
    """Raise ConfigError naming a target for a KPI the scorecard does not know."""
    unknown = sorted(set(targets) - set(SCORECARD_KPIS))
    if unknown:
        raise ConfigError(f"targets: no scorecard KPI named {', '.join(unknown)}; KPIs with "
                          f"a target: {', '.join(SCORECARD_KPIS)}")


def _months(filters: Filters) -> int | None:
    if filters.start is None or filters.end is None:
        return None
    after = filters.end_exclusive
    if filters.start.day != 1 or after.day != 1:
        return None
    return (after.year - filters.start.year) * 12 + after.month - filters.start.month


def config_target(setting, unit: str, filters: Filters) -> float | None:
    """A ``targets:`` entry for the period of ``filters``: a number (the target of the
    period shown, whatever its length) or ``{value: N, per: month|quarter|year}``; an
    amount or count given per month, quarter or year counts pro rata to the period
    (whole months by months, any other period by days). None without a period to scale."""
    if not isinstance(setting, dict):
        return float(setting)
    value, per = float(setting["value"]), setting.get("per")
    if per is None or unit not in SCALED_UNITS:
        return value
    months, days = TARGET_SCALES[per]
    whole = _months(filters)
    if whole:
        return value * whole / months
    if filters.days is None:
        return None
    return value * filters.days / days


def kpi_target(name: str, unit: str, filters: Filters, targets: dict,
               compute: Callable) -> tuple[float | None, str]:
    """(target, where it comes from) of KPI ``name`` for ``filters``: the config's
    ``targets:`` first, else the targets table (the sum of the reps' targets for revenue
    and bookings); (None, "") without one."""
    if name in targets:
        value = config_target(targets[name], unit, filters)
        if value is not None:
            return value, N_("config")
    if name in TABLE_TARGETS:
        quota, column = TABLE_TARGETS[name]
        frame = compute(quota, filters)
        if isinstance(frame, pd.DataFrame) and column in frame and \
                frame[column].notna().any() and frame[column].sum() > 0:
            return float(frame[column].sum()), N_("targets table")
    return None, ""


# -- status --------------------------------------------------------------------------------

# The status rules, as data: a config's `scorecard:` overrides them (all KPIs, or one KPI
# under `kpis:`). Attainment = value / reference (reference / value where lower is
# better; 1 − shortfall / points for a KPI on a points scale), the reference being the
# target, or without one the previous period's value.
STATUS_RULES = {
    "on_track": 1.0,  # attainment from which a KPI is on track
    "at_risk": 0.9,  # ... from which it is at risk; below it, off track
    "without_target": "previous_period",  # the reference without a target, or "none"
}
STATUSES = ("on track", "at risk", "off track")
# The statuses as a reader sees them. The messages are not the statuses themselves ("at
# risk" is also a churn column: 有流失风险), so English shows the status as it is.
STATUS_WORDS = {"on track": N_("on track (KPI status)"),
                "at risk": N_("at risk (KPI status)"),
                "off track": N_("off track (KPI status)")}


def status_label(status: str) -> str:
    """A status in the active language: "at risk" (English), 有风险."""
    message = STATUS_WORDS.get(status)
    if message is None:
        return status
    text = tr(message)
    return status if text == message else text


def status_rules(setting: dict | None) -> dict:
    """:data:`STATUS_RULES` with a config's ``scorecard:`` over them; raises ConfigError
    naming a wrong key or value. ``kpis`` maps a KPI to its own rules."""
    from crmkit.config import check_status_rules

    setting = setting or {}
    check_status_rules(setting, "scorecard")
    rules = {**STATUS_RULES, **{k: v for k, v in setting.items() if k != "kpis"}, "kpis": {}}
    for name, own in (setting.get("kpis") or {}).items():
        if name not in SCORECARD_KPIS:
            raise ConfigError(f"scorecard.kpis: no scorecard KPI named {name!r}; KPIs: "
                              f"{', '.join(SCORECARD_KPIS)}")
        check_status_rules(own, f"scorecard.kpis.{name}", nested=False)
        rules["kpis"][name] = dict(own)
    for name, own in [(None, {}), *rules["kpis"].items()]:
        merged = {**rules, **own}
        if float(merged["at_risk"]) > float(merged["on_track"]):
            where = f"scorecard.kpis.{name}" if name else "scorecard"
            raise ConfigError(f"{where}: at_risk ({merged['at_risk']}) must not be above "
                              f"on_track ({merged['on_track']})")
    return rules


def rules_for(name: str, rules: dict) -> dict:
    """The rules of KPI ``name``: its own over the general ones."""
    return {**rules, **rules.get("kpis", {}).get(name, {})}


def attainment(value: float, reference: float, *, better: str = "higher",
               points: float | None = None) -> float:
    """How far ``value`` reaches ``reference``: value / reference where higher is better,
    reference / value where lower is; on a points scale (``points``, for a KPI that can be
    0 or negative) 1 − shortfall / points. 1 or more: the reference is met. NaN when
    either is missing or a share has no base."""
    if not (np.isfinite(value) and np.isfinite(reference)):
        return math.nan
    if points is not None:
        shortfall = (reference - value) if better == "higher" else (value - reference)
        return 1.0 - shortfall / points
    top, base = (value, reference) if better == "higher" else (reference, value)
    if base <= 0:
        return math.inf if top >= 0 else math.nan
    return top / base


def kpi_status(value: float, reference: float | None, *, better: str = "higher",
               points: float | None = None, interval: tuple | None = None,
               too_few: bool = False, within_interval: str = "at risk",
               rules: dict | None = None) -> str | None:
    """"on track", "at risk" or "off track" by ``rules`` (:data:`STATUS_RULES`): on track
    from an attainment of ``on_track``, at risk from ``at_risk``, off track below.

    A KPI short of its reference whose 95% ``interval`` (low, high) still reaches it may
    be short by chance: it gets ``within_interval`` instead, "at risk" against a target
    (it may still miss it), "on track" against the previous period (no clear change).
    None without a reference, or with too few observations to say.
    """
    rules = {**STATUS_RULES, **(rules or {})}
    if too_few or reference is None or not np.isfinite(value):
        return None
    reached = attainment(value, reference, better=better, points=points)
    if math.isnan(reached):
        return None
    if reached >= float(rules["on_track"]):
        return "on track"
    low, high = interval or (None, None)
    if low is not None and high is not None and np.isfinite(low) and np.isfinite(high) \
            and low <= reference <= high:
        return within_interval
    if reached >= float(rules["at_risk"]):
        return "at risk"
    return "off track"
