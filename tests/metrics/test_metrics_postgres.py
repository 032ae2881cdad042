"""The same KPIs on DuckDB and on a real PostgreSQL server give the same results."""

from __future__ import annotations

import math
import uuid
from dataclasses import fields
from urllib.parse import urlparse

import ibis
import pandas as pd
import pytest

import crmkit.metrics as m
from crmkit.metrics import Filters, NotAvailable
from crmkit.warehouse import Warehouse

pytestmark = pytest.mark.slow

# A breakdown each KPI can take (campaign KPIs break down by campaign columns).
BREAKDOWN = {"campaign_performance": "campaign_id", "revenue_distribution": "product",
             "conversion_rate": "owner", "open_pipeline": "stage",
             "pipeline_coverage": "owner"}
OPTIONS = {"sales_over_time": {"freq": "quarter"}, "bookings_over_time": {"freq": "quarter"}}


def postgres_warehouse(url: str, frames: dict[str, pd.DataFrame]) -> Warehouse:
    """``frames`` in a new database of the server at ``url`` (tests share the server)."""
    import psycopg

    name = f"metrics_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    parts = urlparse(url)
    con = ibis.postgres.connect(host=parts.hostname, port=parts.port, user=parts.username,
                                password=parts.password, database=name)
    wh = Warehouse.from_frames(frames, con=con)
    # Freshly loaded tables have no planner statistics until autovacuum gets to them;
    # without them PostgreSQL plans the customer semi-joins as nested loops (~100x slower).
    con.raw_sql("ANALYZE")
    return wh


@pytest.fixture(scope="module", params=["sample", "tiny", "b2b"])
def engines(request, postgres_url):
    from tests.metrics.conftest import SAMPLE_B2B, sample_frames, tiny_frames

    frames = {"sample": sample_frames, "tiny": tiny_frames,
              "b2b": lambda: sample_frames(SAMPLE_B2B)}[request.param]()
    duck = Warehouse.from_frames(frames)
    pg = postgres_warehouse(postgres_url, frames)
    yield request.param, duck, pg
    pg.close()


def assert_same(a, b, what: str):
    assert type(a) is type(b), f"{what}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, pd.DataFrame):
        keys = [c for c in a.columns if not pd.api.types.is_float_dtype(a[c])]
        a = a.sort_values(keys, kind="stable").reset_index(drop=True)
        b = b.sort_values(keys, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9, obj=what)
    elif isinstance(a, NotAvailable):
        assert a == b, what
    else:
        for field in fields(a):
            x, y = getattr(a, field.name), getattr(b, field.name)
            if isinstance(x, float) and not (math.isnan(x) and math.isnan(y)):
                assert x == pytest.approx(y, rel=1e-9), f"{what}.{field.name}"
            elif not isinstance(x, float):
                assert x == y, f"{what}.{field.name}"


# tiny: edge cases (NULL customers, unknown won, missing period_end, returns) over Q1;
# sample: filters that reach tables through customers, and an attribute filter;
# b2b: the pipeline KPIs (deal owner, region through the deal's account; the period
# runs past the last target and the last closed deal, so coverage has open deals).
FILTERS = {
    "tiny": Filters(start="2025-01-01", end="2025-03-31"),
    "sample": Filters(start="2024-10-01", end="2025-03-31", region=["North", "East"],
                      segment="SMB", attributes={"country": ["Germany", "France"]}),
    "b2b": Filters(start="2025-04-01", end="2026-03-31", region=["EMEA", "North America"],
                   sales_rep=["Claire Dubois", "Emily Chen", "Rachel Adams", "Tom Becker"]),
}


def kpi_runs(data: str):
    """(what, KPI, options): every registered KPI, and each with a breakdown where it
    takes one (the cross-engine tests: PostgreSQL here, Spark in test_metrics_spark)."""
    for kpi in m.metrics():
        options = OPTIONS.get(kpi.name, {})
        runs = [options]
        if kpi.breakdown:
            runs.append({**options, "by": BREAKDOWN.get(kpi.name, "segment")})
        for run in runs:
            yield f"{data}: {kpi.name}({run})", kpi, run


def assert_kpi_sets_match(data: str, duck, other) -> None:
    q1 = Filters(start="2025-01-01", end="2025-03-31")
    a, b = m.kpi_set(duck, q1), m.kpi_set(other, q1)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9)
    if data == "sample":
        assert a["available"].all()


def test_every_kpi_matches(engines):
    data, duck, pg = engines
    filters = FILTERS[data]
    for what, kpi, run in kpi_runs(data):
        assert_same(kpi(duck, filters, **run), kpi(pg, filters, **run), what)


def test_kpi_set_matches(engines):
    assert_kpi_sets_match(*engines)
