"""The lead funnel shows the stages the data has, never a stage it lacks."""

import pandas as pd

from crmkit.metrics import Filters, lead_funnel
from crmkit.warehouse import Warehouse


def leads(stages):
    return Warehouse.from_frames({"leads": pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(len(stages))],
        "created_date": pd.Timestamp("2025-01-10"), "stage": stages})})


def test_a_known_pipeline_keeps_its_order_but_only_stages_the_data_has():
    frame = lead_funnel(leads(["New", "Qualified", "Won", "Won", "Lost"]), Filters())
    assert list(frame["stage"]) == ["Created", "Qualified", "Won"]
    assert list(frame["leads"]) == [5, 3, 2]


def test_another_crms_stages_are_counted_as_they_are_with_no_invented_order():
    frame = lead_funnel(leads(["Working", "Nurturing", "Working", "Disqualified"]), Filters())
    assert list(frame["stage"]) == ["Created", "Working", "Nurturing"]
    assert list(frame["leads"]) == [4, 2, 1]
    assert "not a known pipeline order" in frame.attrs["note"]
