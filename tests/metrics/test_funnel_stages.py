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


def test_a_kpi_on_a_table_loaded_empty_says_so_rather_than_zero(tmp_path):
    from crmkit.ingest import ingest, resolve_config
    from crmkit.metrics import NotAvailable, get_metric

    src = tmp_path / "src"
    src.mkdir()
    (src / "orders.csv").write_text("order_id,order_date,amount,customer_id\n"
                                    "1,2025-01-05,10,a\n2,2025-01-09,20,b\n")
    (src / "tickets.csv").write_text("ticket_id,opened_at,customer_id,type\n")
    ingest(resolve_config(source=src), tmp_path / "wh")
    wh = Warehouse.open(tmp_path / "wh")
    rate = get_metric("complaint_rate")(wh, Filters(start="2025-01-01", end="2025-03-31"))
    assert isinstance(rate, NotAvailable)
    assert rate.reason == "needs tickets data: tickets.csv has no rows"


def test_revenue_by_a_group_never_lists_a_missing_group():
    from crmkit.metrics import NotAvailable, revenue_distribution

    orders = pd.DataFrame({"order_id": ["1", "2", "3"],
                           "order_date": pd.Timestamp("2025-01-10"),
                           "amount": [100.0, 50.0, 25.0], "region": ["East", None, "West"],
                           "channel": [None, None, None], "status": "completed"})
    wh = Warehouse.from_frames({"orders": orders})
    frame = revenue_distribution(wh, Filters(), by="region")
    assert frame["region"].tolist() == ["East", "West"]
    assert frame["share"].tolist() == [100 / 175, 25 / 175]
    assert frame.attrs["without_group"] == 50.0
    assert revenue_distribution(wh, Filters(), by="channel") == NotAvailable(
        "no order has a channel", "revenue_distribution")
