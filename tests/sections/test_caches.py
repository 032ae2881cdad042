"""What a report and its warehouse keep between views: bounded, and never a shared object
a caller could change."""

from crmkit.metrics import Filters
from crmkit.sections import open_report
from crmkit.kept import Kept


def test_kept_drops_the_least_recently_used():
    kept = Kept(2)
    kept["a"], kept["b"] = 1, 2
    assert kept.get("a") == 1  # a is now the most recent
    kept["c"] = 3
    assert list(kept) == ["a", "c"]
    assert kept.get("b", "gone") == "gone"


def test_a_report_keeps_a_bounded_number_of_views(sample_warehouse, monkeypatch):
    report = open_report("sales_performance", warehouse=str(sample_warehouse))
    report._cache.size = 3
    for region in ("East", "West", "North", "South"):
        view = report.with_filters(Filters.from_params({**report.filters.to_params(),
                                                       "region": region}))
        view.kpi("revenue")
    assert len(report._cache) == 3
    regions = [key[1].region for key in report._cache]
    assert regions == ["West", "North", "South"]


def test_kept_query_results_are_copies(sample_warehouse):
    """Warehouse.execute keeps a result per query and hands out copies: changing one
    does not change the next caller's."""
    report = open_report("sales_performance", warehouse=str(sample_warehouse))
    t = report.wh.table("orders")
    query = t.group_by("region").agg(n=t.count())
    first = report.wh.execute(query)
    first["n"] = -1
    again = report.wh.execute(query)
    assert (again["n"] > 0).all()
    assert len(report.wh._results) >= 1
