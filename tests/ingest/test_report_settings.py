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
                      "kpis": {"churn_rate": {"at_risk": 0.95}}},
        "locale": None, "currency": None}
    assert read_report_settings(write(tmp_path, "")) == {
        "targets": {}, "scorecard": {}, "locale": None, "currency": None}


def test_locale_and_currency_decide_how_a_report_writes_money_and_dates(tmp_path):
    """`locale:` and `currency:` reach the report: money carries the currency, numbers and
    dates read the locale's way; without them English writes plain figures."""
    from crmkit.ingest import ingest, load_config as load
    from crmkit.sections import open_report

    path = write(tmp_path, "locale: en-US\ncurrency: eur\n")
    assert read_report_settings(path)["locale"] == "en_US"
    assert read_report_settings(path)["currency"] == "EUR"
    ingest(load(path), tmp_path / "wh")
    report = open_report("sales_performance", warehouse=str(tmp_path / "wh"), config=str(path),
                         start="2024-01-01", end="2024-01-31")
    assert (report.words.locale.language, report.words.locale.territory) == ("en", "US")
    text = " ".join(o.markdown for o in report.outputs("summary"))
    assert "€3.00" in text
    assert "Jan 1, 2024" in " ".join(o.markdown for o in report.outputs("scope"))
    zh = open_report("sales_performance", warehouse=str(tmp_path / "wh"), config=str(path),
                     start="2024-01-01", end="2024-01-31", language="zh")
    assert "€3.00" in " ".join(o.markdown for o in zh.outputs("summary"))
    plain = write(tmp_path, "")
    report = open_report("sales_performance", warehouse=str(tmp_path / "wh"), config=str(plain),
                         start="2024-01-01", end="2024-01-31")
    summary = " ".join(o.markdown for o in report.outputs("summary"))
    assert "3.00" in summary and "€" not in summary
    assert "1 Jan 2024" in " ".join(o.markdown for o in report.outputs("scope"))


@pytest.mark.parametrize(("body", "message"), [
    ("targets: [revenue]\n", "targets must map KPI names"),
    ("targets: {revenue: {value: 10, per: week}}\n", "targets.revenue"),
    ("targets: {revenue: {value: 10, every: year}}\n", "targets.revenue"),
    ("targets: {nps: forty}\n", "targets.nps: 'forty' is not a number"),
    ("scorecard: 0.9\n", "scorecard: expected a mapping"),
    ("scorecard: {at_risk: -1}\n", "scorecard.at_risk"),
    ("scorecard: {without_target: last_year}\n", "scorecard.without_target"),
    ("scorecard: {kpis: {nps: {red: 1}}}\n", "scorecard.kpis.nps: unknown rule"),
    ("locale: xx_YY_ZZ\n", "locale 'xx_YY_ZZ' is not a locale"),
])
def test_a_wrong_setting_stops_ingest_naming_it(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, body))
