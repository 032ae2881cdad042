"""A real batch render shared by the report tests: three small notebooks executed once."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crmkit.exceptions import RenderError

NOTEBOOKS = Path(__file__).parent / "notebooks"
ROOT_CONFTEST = Path(__file__).parents[1] / "conftest.py"
URL_PASSWORD = "s3cr3t-PW-7781"
SECRET_URL = f"postgresql://analyst:{URL_PASSWORD}@db.example/crm"
PASSWORD = "hunter2-PW-4420"
BATCH_PARAMS = {"region": "East", "db_url": SECRET_URL, "db_password": PASSWORD}


@dataclass
class Batch:
    out: Path
    error: RenderError
    events: list = field(default_factory=list)
    seconds: float = 0.0

    def html(self, name: str) -> str:
        return (self.out / f"{name}.html").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def need(pytestconfig):
    """tests/conftest.py's ``need``: skip when something is missing, fail under CI=true.

    Not ``from conftest import need``: each conftest.py outside a package is imported as
    the module "conftest", and the last one pytest loaded wins (in a full run
    tests/metrics/conftest.py replaces tests/conftest.py). Ask pytest for the plugin.
    """
    for plugin in pytestconfig.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if path and Path(path).exists() and Path(path).samefile(ROOT_CONFTEST):
            return plugin.need
    raise LookupError(f"{ROOT_CONFTEST} is not loaded")


@pytest.fixture(scope="session")
def batch(tmp_path_factory) -> Batch:
    """overview + minimal + failing rendered into one folder with secrets among the params."""
    from crmkit.report import render

    out = tmp_path_factory.mktemp("reports")
    events = []
    began = time.perf_counter()
    with pytest.raises(RenderError) as err:
        render(["overview", "minimal", "failing"], params=BATCH_PARAMS, out_dir=out, jobs=2,
               notebooks_dir=NOTEBOOKS, progress=events.append, data_checksum="sample-v1")
    return Batch(out, err.value, events, time.perf_counter() - began)
