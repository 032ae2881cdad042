"""The appendix every report shares: definitions, parameters, audit, lineage."""

import pytest

from crmkit.sections import REPORTS, open_report, report_module


@pytest.mark.parametrize("name", list(REPORTS))
def test_definitions_cover_used_kpis_and_the_reports_own_figures(sample_warehouse, name):
    report = open_report(name, warehouse=str(sample_warehouse), start="2025-01-01",
                         end="2025-03-31")
    report.outputs("summary")
    table = report.outputs("appendix_definitions")[0].frame
    titles = set(table["title"])
    from crmkit.metrics import get_metric

    for used in report.used_metrics:
        assert get_metric(used).title in titles, used
    for own in getattr(report_module(name), "DEFINITIONS", []):
        assert own["title"] in titles and own["formula"]
    assert table["formula"].str.len().min() > 10


def test_audit_and_lineage(sample_warehouse):
    report = open_report("sales_performance", warehouse=str(sample_warehouse))
    counts, reasons, verdict = report.outputs("appendix_audit")
    frame = counts.frame.set_index("table")
    assert (frame["rows_in"] == frame["kept"] + frame["flagged"] + frame["quarantined"]).all()
    assert frame.loc["orders", "rows_in"] == 26_094
    assert verdict.markdown == "Every input row is accounted for."
    lineage = report.outputs("appendix_lineage")[0].frame.set_index("item")["value"]
    assert lineage["source"] == "data/sample"
    assert len(lineage["orders input sha256"]) == 64


def test_audit_of_amounts_in_two_currencies_shows_one_row_per_currency(tmp_path):
    from crmkit.ingest import ingest, resolve_config

    src = tmp_path / "src"
    src.mkdir()
    (src / "orders.csv").write_text("order_id,order_date,amount,currency,customer_id\n"
                                    "1,2025-01-05,100,USD,a\n2,2025-01-06,50,EUR,b\n"
                                    "3,2025-02-01,70,EUR,a\n")
    ingest(resolve_config(source=src), tmp_path / "wh")
    report = open_report("sales_performance", warehouse=str(tmp_path / "wh"))
    frame = report.outputs("appendix_audit")[0].frame
    orders = frame[frame["table"] == "orders"].set_index("currency")
    assert orders.loc["EUR", "amount_in"] == 120 and orders.loc["USD", "amount_in"] == 100
    assert (orders["rows_in"] == 3).all()


def test_a_table_shows_missing_values_blank_never_none_or_nan():
    import pandas as pd

    from crmkit.sections import Table

    page = Table(pd.DataFrame({"reason": ["Price", None], "n": [3.0, float("nan")],
                               "few": [True, False]}),
                 {"n": "count", "few": "flag:too few to say"}).to_html()
    assert "None" not in page and "nan" not in page and "False" not in page
    assert "too few to say" in page and "Price" in page
