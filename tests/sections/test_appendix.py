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
