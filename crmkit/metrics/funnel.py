"""The lead funnel: how far the period's leads got through the pipeline."""

from __future__ import annotations

import pandas as pd

from crmkit.i18n import N_, tr
from crmkit.metrics.derived import execute, grouped
from crmkit.metrics.filters import apply_filters
from crmkit.metrics.registry import metric

# Pipeline stages in order; a caller can pass their own CRM's stages.
PIPELINE_STAGES = ("New", "Qualified", "Proposal", "Negotiation", "Won")


# Stages that end a lead without converting it: they are not steps of the funnel.
CLOSED_STAGES = ("lost", "disqualified", "unqualified", "closed lost", "dead", "junk")
# The funnel's first row, every lead of the period: a word of crmkit's, not a stage of the
# data, so a section shows it translated (tr(CREATED)).
CREATED = N_("Created")


@metric(name="lead_funnel", title=N_("Lead funnel"), unit="count", grain=N_("period × stage"),
        returns="frame", needs=("leads.stage",),
        formula=N_("leads created in the period whose current stage is this stage or a "
                   "later one; a lost lead counts only as created (the stage it was lost at "
                   "is not recorded); share = leads at the stage / leads created. Only "
                   "stages the data has; when its stages are not an ordered pipeline the "
                   "funnel is the leads at each current stage"))
def lead_funnel(wh, filters, *, stages=PIPELINE_STAGES) -> pd.DataFrame:
    """leads -> stage, leads, share (of leads created): a first row "Created" with every
    lead of the period, then one row per later stage in ``stages`` order that the data
    has. When the data's stages are not all in ``stages`` (another CRM's names), one row
    per stage the data has, with the leads currently at it (no order is invented)."""
    t = apply_filters(wh, "leads", filters)
    counts = grouped(t, ["stage"], n=t.count())
    by_stage = dict(zip(counts["stage"].astype(object), counts["n"].astype(int)))
    created = int(counts["n"].sum())
    known = wh.table("leads")
    present = [s for s in execute(known.select("stage").distinct())["stage"].dropna()]
    open_stages = [s for s in present if str(s).strip().lower() not in CLOSED_STAGES]
    rows = [{"stage": CREATED, "leads": created}]
    if set(open_stages) <= set(stages):
        # The first stage is where every lead starts: its row is all leads created.
        for i, stage in enumerate(stages[1:], start=1):
            if stage in present:
                rows.append({"stage": stage,
                             "leads": sum(by_stage.get(s, 0) for s in stages[i:])})
        note = ""
    else:
        ordered = sorted(open_stages, key=lambda s: (-by_stage.get(s, 0), str(s)))
        rows += [{"stage": s, "leads": by_stage.get(s, 0)} for s in ordered]
        note = tr("the data's stages are not a known pipeline order: leads at each "
                  "current stage")
    frame = pd.DataFrame(rows)
    frame["share"] = frame["leads"] / created if created else float("nan")
    if note:
        frame.attrs["note"] = note
    return frame
