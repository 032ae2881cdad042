"""Shared fixtures. Under CI=true nothing skips for want of a server, a browser or ../shared:
``need`` turns such a skip into a failure there."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE = ROOT / "data" / "sample"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, what: str) -> None:
    """Skip the test when ``condition`` is false, except under CI, where it fails."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is missing", pytrace=False)
    pytest.skip(f"{what} is missing")


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, the real public data sets."""
    path = SHARED / "data"
    need(path.is_dir(), f"{path}")
    return path


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
