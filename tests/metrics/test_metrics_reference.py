"""kpi_set agrees with the benchmark's plain-pandas reference (bench/pandas_reference.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import crmkit.metrics as m

REFERENCE = Path(__file__).resolve().parents[2] / "bench" / "pandas_reference.py"


@pytest.fixture(scope="module")
def reference():
    spec = importlib.util.spec_from_file_location("pandas_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("start", "end"), [("2025-01-01", "2025-03-31"),
                                            ("2024-05-10", "2024-08-20")])
def test_kpi_set_matches_the_pandas_reference(sample_data, sample_wh, reference, start, end):
    expected = reference.kpi_values(sample_data, start=start, end=end)
    got = m.kpi_set(sample_wh, m.Filters(start=start, end=end)).set_index("name")["value"]
    assert sorted(got.index) == sorted(expected)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-9, nan_ok=True), name
