"""The subscription and B2B examples load the real data sets by config alone, with the
reference figures of ../shared/data/README.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from crmkit.ingest import ingest, resolve_config

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"

pytestmark = pytest.mark.slow


def _need(path: Path) -> None:
    if not path.exists():
        import os

        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing (CI needs ../shared beside the checkout)")
        pytest.skip(f"{path} not here")


def rows(wh: Path, sql: str):
    with duckdb.connect(str(wh / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def telco(tmp_path_factory):
    _need(SHARED / "telco_churn")
    wh = tmp_path_factory.mktemp("telco")
    return ingest(resolve_config(ROOT / "examples" / "telco_churn.yaml"), wh), wh


@pytest.fixture(scope="module")
def maven(tmp_path_factory):
    _need(SHARED / "maven_crm_pipeline")
    wh = tmp_path_factory.mktemp("maven")
    return ingest(resolve_config(ROOT / "examples" / "maven_pipeline.yaml"), wh), wh


def test_telco_snapshot_loads_every_customer_with_its_churn_flag(telco):
    audit, wh = telco
    record = audit["tables"]["customers"]
    assert (record["rows_in"], record["kept"], record["quarantined"]) == (7043, 7043, 0)
    assert audit["reconciled"] is True
    assert rows(wh, "SELECT count(*) FILTER (WHERE churned), count(*) FILTER (WHERE "
                    "status = 'churned') FROM customers") == [(1869, 1869)]
    assert rows(wh, "SELECT contract, count(*), count(*) FILTER (WHERE churned) FROM "
                    "customers GROUP BY 1 ORDER BY 1") == [
        ("Month-to-month", 3875, 1655), ("One year", 1473, 166), ("Two year", 1695, 48)]
    # No dates in the file: signup and churn dates derived from the snapshot, and said so.
    assert set(record["derived"]) >= {"signup_date", "churn_date", "status"}
    assert rows(wh, "SELECT count(*) FROM customers WHERE signup_date IS NULL") == [(0,)]
    assert audit["reports"]["churn"] == {
        "feeds": True, "because": "customers' churn flag and tenure (a snapshot)"}
    assert audit["reports"]["sales_performance"] == {
        "feeds": False, "because": "needs orders or opportunities"}


def test_maven_pipeline_loads_every_deal_with_lookups(maven):
    audit, wh = maven
    record = audit["tables"]["opportunities"]
    assert record["rows_in"] == 8800
    assert record["kept"] + record["flagged"] == 8800 and record["quarantined"] == 0
    assert rows(wh, "SELECT outcome, count(*) FROM opportunities GROUP BY 1 ORDER BY 1") == [
        ("lost", 2473), ("open", 2089), ("won", 4238)]
    assert rows(wh, "SELECT sum(amount) FROM opportunities WHERE outcome = 'won'") == [
        (10005534.0,)]
    won, lost = 4238, 2473
    assert round(100 * won / (won + lost), 2) == 63.15
    lookups = {lk["name"]: lk for lk in record["lookups"]}
    assert set(lookups) == {"sales_teams", "products", "account"}
    assert lookups["sales_teams"]["unmatched"] == 0
    assert lookups["account"]["rows_without_key"] == 1425  # open deals with no account yet
    # GTXPro (1,480 deals) against GTX Pro in products.csv: joined by the loose match.
    assert lookups["products"]["unmatched"] == 0
    assert rows(wh, "SELECT count(*) FROM opportunities WHERE product = 'GTXPro' AND "
                    "series = 'GTX'") == [(1480,)]
    # The accounts' own revenue column does not collide with crmkit's.
    assert "account_revenue" in record["attributes"]
    assert "customer_revenue" in audit["tables"]["customers"]["attributes"]
    assert rows(wh, "SELECT DISTINCT stage, stage_order FROM opportunities ORDER BY 2") == [
        ("Prospecting", 1), ("Engaging", 2), ("Won", 3), ("Lost", 4)]


def test_maven_exact_lookup_counts_the_unmatched_product(maven, tmp_path):
    text = (ROOT / "examples" / "maven_pipeline.yaml").read_text()
    text = text.replace("match: loose", "match: exact").replace(
        "source: ../../shared/data", f"source: {SHARED}")
    config = tmp_path / "maven.yaml"
    config.write_text(text)
    audit = ingest(resolve_config(config), tmp_path / "wh")
    products = audit["tables"]["opportunities"]["lookups"][1]
    assert (products["unmatched"], products["unmatched_keys"]) == (1480, {"GTXPro": 1480})


def test_ingest_command_prints_the_reports_the_data_feeds():
    _need(SHARED / "telco_churn")
    out = subprocess.run([sys.executable, "-m", "crmkit", "ingest", "--config",
                          str(ROOT / "examples" / "telco_churn.yaml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert re.search(r"customers +7,043 +7,043 +0 +0", out.stdout)
    assert "churn                yes  customers' churn flag and tenure (a snapshot)" in out.stdout
    assert "sales_performance    no   needs orders or opportunities" in out.stdout


@pytest.mark.parametrize("sample", ["sample-b2b", "sample-subscription"])
def test_committed_samples_of_each_shape_load_by_name_alone(tmp_path, sample):
    audit = ingest(resolve_config(source=ROOT / "data" / sample), tmp_path / "wh")
    assert audit["reconciled"] is True
    assert all(r["quarantined"] == 0 for r in audit["tables"].values()), {
        n: r["reasons"] for n, r in audit["tables"].items()}
    wh = tmp_path / "wh"
    if sample == "sample-b2b":
        assert set(audit["tables"]) >= {"customers", "opportunities", "leads", "targets"}
        outcomes = dict(rows(wh, "SELECT outcome, count(*) FROM opportunities GROUP BY 1"))
        assert set(outcomes) == {"open", "won", "lost"}
        assert rows(wh, "SELECT count(*) FROM opportunities WHERE stage_order IS NULL") == [(0,)]
        assert audit["reports"]["sales_performance"] == {"feeds": True,
                                                         "because": "opportunities"}
    else:
        assert audit["tables"]["customers"]["snapshot_date"] == "2025-12-31"
        assert rows(wh, "SELECT count(*) FROM customers WHERE churned IS NULL "
                        "OR signup_date IS NULL") == [(0,)]
        assert audit["reports"]["churn"]["feeds"] is True
