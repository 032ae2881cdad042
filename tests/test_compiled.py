"""Query shapes compiled once (crmkit.compiled): the SQL is ibis' own for other values."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.compiled import CHECK_ENV, CompiledQueries, install
from crmkit.metrics import Filters, get_metric
from crmkit.warehouse import Warehouse

START, END = pd.Timestamp("2025-04-01"), pd.Timestamp("2025-06-30")


@pytest.fixture
def wh(sample_warehouse):
    warehouse = Warehouse.open(sample_warehouse)
    yield warehouse
    warehouse.close()


def test_another_region_reuses_the_shape_and_gives_ibis_sql(wh, monkeypatch):
    monkeypatch.delenv(CHECK_ENV, raising=False)  # compare here, by hand
    queries = wh.compiled
    assert isinstance(queries, CompiledQueries)
    orders = wh.table("orders")
    since = pd.Timestamp("2025-01-01")
    for i, region in enumerate(["East", "West", "O'Brien's \"North\"", "North"]):
        expr = orders.filter([orders.region == region,
                              orders.order_date >= since + pd.Timedelta(days=i)]
                             ).agg(revenue=orders.amount.sum())
        sql = wh.con.compile(expr)
        assert sql == queries.ibis_compile(expr)
        (expected,) = wh.con.con.execute(queries.ibis_compile(expr)).fetchone()
        expected = float("nan") if expected is None else expected  # no such region: NULL
        assert wh.execute(expr)["revenue"].iloc[0] == pytest.approx(expected, nan_ok=True)
    assert queries.compiled == 1 and queries.hits >= 3


def test_equal_literals_and_other_filters_are_other_shapes(wh, monkeypatch):
    monkeypatch.delenv(CHECK_ENV, raising=False)
    queries = wh.compiled
    orders = wh.table("orders")
    same = orders.filter([orders.region == "East", orders.channel == "East"]).count()
    other = orders.filter([orders.region == "East", orders.channel == "Online"]).count()
    for expr in (same, other):
        assert wh.con.compile(expr) == queries.ibis_compile(expr)
    assert queries.compiled == 2  # "East" twice is one slot: a shape of its own


def test_shape_numbers_follow_the_structure_not_the_values(wh, monkeypatch):
    """shape_key numbers a query by its structure (slotted literals abstracted); when the
    numbering restarts (NODES_KEPT) the kept shapes go with it and compile again."""
    import crmkit.compiled as compiled

    monkeypatch.delenv(CHECK_ENV, raising=False)
    orders = wh.table("orders")

    def query(region, column="region"):
        return orders.filter(orders[column] == region).count().as_table().op()

    numbers, ids = {}, iter(range(10**6))
    east, literals = compiled.shape_key(query("East"), numbers, ids)
    assert [lit.value for lit in literals] == ["East"]
    assert compiled.shape_key(query("West"), numbers, ids)[0] == east
    assert compiled.shape_key(query("East", "channel"), numbers, ids)[0] != east
    queries = wh.compiled
    wh.con.compile(query("East").to_expr())
    before = queries.compiled
    monkeypatch.setattr(compiled, "NODES_KEPT", 0)
    assert wh.con.compile(query("West").to_expr()) == queries.ibis_compile(query("West").to_expr())
    assert queries.compiled == before + 1


def test_kpis_on_new_values_match_a_fresh_warehouse(wh, sample_warehouse):
    """KPIs through kept shapes equal KPIs compiled from scratch (CRMKIT_CHECK_SQL is set
    by the test suite, so each call was also checked against ibis' SQL)."""
    fresh = Warehouse.open(sample_warehouse)
    try:
        for region in ("East", "West", "North"):
            filters = Filters(start=START, end=END, region=region)
            for name in ("revenue", "orders", "conversion_rate", "churn_rate"):
                assert get_metric(name)(wh, filters) == get_metric(name)(fresh, filters)
            pd.testing.assert_frame_equal(
                get_metric("revenue_distribution")(wh, filters, by="category"),
                get_metric("revenue_distribution")(fresh, filters, by="category"))
        assert wh.compiled.hits > 0
    finally:
        fresh.close()


def test_install_is_idempotent_and_skips_backends_without_sql(wh):
    assert install(wh.con) is wh.compiled

    class NoSql:
        def compile(self, expr):
            return expr

    assert install(NoSql()) is None
