"""The lead funnel: how far the period's leads got through the pipeline."""

from __future__ import annotations

import pandas as pd

from crmkit.metrics.derived import grouped
from crmkit.metrics.filters import apply_filters
from crmkit.metrics.registry import metric

# Pipeline stages in order; a caller can pass their own CRM's stages.
PIPELINE_STAGES = ("New", "Qualified", "Proposal", "Negotiation", "Won")


@metric(name="lead_funnel", title="Lead funnel", unit="count", grain="period × stage",
        returns="frame", needs=("leads.stage",),
        formula="leads created in the period whose current stage is this stage or a later "
                "one; a lost lead counts only as created (the stage it was lost at is not "
                "recorded); share = leads at the stage / leads created")
def lead_funnel(wh, filters, *, stages=PIPELINE_STAGES) -> pd.DataFrame:
    """leads -> stage, leads, share (of leads created): a first row "Created" with every
    lead of the period, then one row per later stage in ``stages`` order."""
    t = apply_filters(wh, "leads", filters)
    counts = grouped(t, ["stage"], n=t.count())
    by_stage = dict(zip(counts["stage"].astype(object), counts["n"].astype(int)))
    created = int(counts["n"].sum())
    # The first stage is where every lead starts: its row is all leads created.
    rows = [{"stage": "Created", "leads": created}]
    for i, stage in enumerate(stages[1:], start=1):
        rows.append({"stage": stage, "leads": sum(by_stage.get(s, 0) for s in stages[i:])})
    frame = pd.DataFrame(rows)
    frame["share"] = frame["leads"] / created if created else float("nan")
    return frame
