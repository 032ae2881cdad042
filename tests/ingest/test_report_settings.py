"""The config settings the reports read (docs/config.md: `targets`, `scorecard`): checked
when the config is loaded, so ingest stops on a wrong one, and read back by the reports.
How they change a scorecard: tests/sections/test_scorecard.py."""

from __future__ import annotations

import pytest

from crmkit.config import load_config, read_report_settings
from crmkit.exceptions import ConfigError

SETTINGS = """\
targets:
  win_rate: 0.3
  revenue: {value: 1000000, per: quarter}
scorecard:
  at_risk: 0.85
  without_target: none
  kpis: {churn_rate: {at_risk: 0.95}}
"""


def write(tmp_path, body: str):
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "orders.csv").write_text("order_id,order_date,amount\n1,2024-01-01,3\n")
    path = tmp_path / "crm.yaml"
    path.write_text("source: src\n" + body, encoding="utf-8")
    return path


def test_targets_and_scorecard_rules_are_read_for_the_reports(tmp_path):
    path = write(tmp_path, SETTINGS)
    settings = load_config(path).report_settings
    assert settings == read_report_settings(path) == {
        "targets": {"win_rate": 0.3, "revenue": {"value": 1000000, "per": "quarter"}},
        "scorecard": {"at_risk": 0.85, "without_target": "none",
                      "kpis": {"churn_rate": {"at_risk": 0.95}}}}
    assert read_report_settings(write(tmp_path, "")) == {"targets": {}, "scorecard": {}}


@pytest.mark.parametrize(("body", "message"), [
    ("targets: [revenue]\n", "targets must map KPI names"),
    ("targets: {revenue: {value: 10, per: week}}\n", "targets.revenue"),
    ("targets: {revenue: {value: 10, every: year}}\n", "targets.revenue"),
    ("targets: {nps: forty}\n", "targets.nps: 'forty' is not a number"),
    ("scorecard: 0.9\n", "scorecard: expected a mapping"),
    ("scorecard: {at_risk: -1}\n", "scorecard.at_risk"),
    ("scorecard: {without_target: last_year}\n", "scorecard.without_target"),
    ("scorecard: {kpis: {nps: {red: 1}}}\n", "scorecard.kpis.nps: unknown rule"),
])
def test_a_wrong_setting_stops_ingest_naming_it(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, body))
