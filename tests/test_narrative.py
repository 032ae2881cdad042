"""Narrative: sentences checked in full, numbers traced to their inputs, data text escaped."""

from __future__ import annotations

import re

import mistune
import pandas as pd
import pytest

from crmkit import narrative
from crmkit.metrics.results import Measure, NotAvailable, Nps, Rate, format_value

NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?%?")


def numbers_in(sentence: str) -> list[str]:
    """The numbers a sentence states, minus the interval's confidence level (a label)."""
    return NUMBER.findall(sentence.replace("95% CI", "CI"))


def rendered(markdown: str) -> str:
    """HTML as a notebook's markdown renderer (mistune, as nbconvert uses) makes it."""
    return mistune.html(markdown)


# -- change ------------------------------------------------------------------------------

def test_change_sentence_up_with_every_number_from_the_inputs():
    sentence = narrative.change_sentence("Revenue", 1_234_567.0, 1_099_000.0, "currency")
    assert sentence == ("Revenue was 1,234,567.00, up 12.3% on the previous period "
                        "(1,099,000.00).")
    change = (1_234_567.0 - 1_099_000.0) / 1_099_000.0
    assert numbers_in(sentence) == [format_value(1_234_567.0, "currency"),
                                    format_value(change, "percent"),
                                    format_value(1_099_000.0, "currency")]


def test_change_sentence_down_against_last_year_with_measures():
    current = Measure(900.0, "count", n=900)
    previous = Measure(1_000.0, "count", n=1_000)
    assert narrative.change_sentence("Order count", current, previous,
                                     comparison="same period last year") == (
        "Order count was 900, down 10.0% on the same period last year (1,000).")


def test_change_of_a_rate_is_in_percentage_points():
    now, before = Rate.from_counts(117, 500), Rate.from_counts(100, 500)
    assert narrative.change_sentence("Conversion rate", now, before) == (
        "Conversion rate was 23.4%, up 3.4 percentage points on the previous period (20.0%).")
    assert narrative.change_sentence("NPS", Nps.from_counts(30, 10, 20),
                                     Nps.from_counts(40, 10, 10)) == (
        "NPS was +17, down 33 points on the previous period (+50).")


def test_change_that_rounds_to_zero_is_level_and_a_zero_base_has_no_percentage():
    assert narrative.change_sentence("Revenue", 100.0, 100.01, "currency") == (
        "Revenue was 100.00, level with the previous period (100.01).")
    assert narrative.change_sentence("Revenue", 250.0, 0.0, "currency") == (
        "Revenue was 250.00, against 0.00 in the previous period.")
    assert narrative.change_sentence("Revenue", 250.0, float("nan"), "currency") == (
        "Revenue was 250.00; there is no previous period figure to compare with.")


# -- single results ----------------------------------------------------------------------

def test_rate_sentence_in_full():
    rate = Rate.from_counts(117, 500)
    sentence = narrative.rate_sentence("Conversion rate", rate)
    assert sentence == "Conversion rate was 23.4% (117 of 500; 95% CI 19.9%–27.3%)."
    assert numbers_in(sentence) == [format_value(rate.value, "percent"), "117", "500",
                                    format_value(rate.ci_low, "percent"),
                                    format_value(rate.ci_high, "percent")]


def test_rate_sentence_too_few_gives_no_percentage():
    sentence = narrative.rate_sentence("Conversion rate", Rate.from_counts(3, 12), noun="leads")
    assert sentence == "Conversion rate: too few to say (12 leads)."
    assert "%" not in sentence


def test_unavailable_result_says_why():
    missing = NotAvailable("needs tickets", "complaint_rate")
    assert narrative.rate_sentence("Complaint rate", missing) == (
        "Complaint rate is not available (needs tickets).")
    assert narrative.kpi_sentence("Complaint rate", missing) == (
        "Complaint rate is not available (needs tickets).")


def test_nps_sentence_in_full():
    nps = Nps.from_counts(200, 100, 112)
    sentence = narrative.nps_sentence("NPS", nps)
    assert sentence == ("NPS was +21 from 412 responses (48.5% promoters, 27.2% detractors; "
                        "95% CI +13 to +30).")
    assert numbers_in(sentence) == [format_value(nps.value, "nps"), "412",
                                    format_value(200 / 412, "percent"),
                                    format_value(112 / 412, "percent"),
                                    format_value(nps.ci_low, "nps"),
                                    format_value(nps.ci_high, "nps")]
    assert narrative.nps_sentence("NPS", Nps.from_counts(5, 3, 4)) == (
        "NPS: too few to say (12 responses).")


def test_measure_sentences():
    assert narrative.kpi_sentence("Revenue", Measure(1_234.5, "currency", n=40)) == (
        "Revenue was 1,234.50.")
    mean = Measure(4.213, "score", n=412, ci_low=4.1, ci_high=4.32)
    assert narrative.kpi_sentence("CSAT", mean, noun="responses") == (
        "CSAT was 4.21 (95% CI 4.10–4.32; 412 responses).")
    few = Measure(4.5, "score", n=12, ci_low=3.9, ci_high=5.0, too_few=True)
    assert narrative.kpi_sentence("CSAT", few, noun="responses") == (
        "CSAT: too few to say (12 responses).")
    with pytest.raises(TypeError, match="must be a Measure, Rate, Nps or NotAvailable"):
        narrative.kpi_sentence("Revenue", 12.0)


# -- rankings ----------------------------------------------------------------------------

REGIONS = pd.DataFrame({
    "region": ["West", "East", "North", "South"],
    "revenue": [280_000.0, 341_000.0, 205_000.0, 174_000.0],
    "share": [0.28, 0.341, 0.205, 0.174],
})


def test_top_sentence_with_shares():
    sentence = narrative.top_sentence(REGIONS, by="region")
    assert sentence == ("East led with 34.1% of revenue, followed by West (28.0%) and "
                        "North (20.5%).")
    assert numbers_in(sentence) == [format_value(s, "percent") for s in (0.341, 0.28, 0.205)]


def test_top_sentence_with_values_and_one_row():
    assert narrative.top_sentence(REGIONS, by="region", share=None, n=2, what="net revenue") == (
        "East led with 341,000.00 of net revenue, followed by West (280,000.00).")
    assert narrative.top_sentence(REGIONS.head(1), by="region") == "West led with 28.0% of revenue."
    assert narrative.top_sentence(REGIONS.head(0), by="region") == "There is no revenue to rank."
    with pytest.raises(ValueError, match="Could not interpret value `area` for `by`"):
        narrative.top_sentence(REGIONS, by="area")


def test_top_sentence_never_names_a_missing_group():
    frame = pd.DataFrame({"region": [None, "East", " "], "revenue": [900.0, 100.0, 50.0],
                          "share": [0.86, 0.1, 0.04]})
    assert narrative.top_sentence(frame, by="region") == "East led with 10.0% of revenue."
    assert narrative.top_sentence(frame.head(1), by="region") == \
        "There is no revenue to rank."


# -- escaping ----------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_data_text_is_escaped_and_renders_literally():
    frame = REGIONS.assign(region=[SCRIPT, "*bold*", "North", "South"])
    sentence = narrative.top_sentence(frame, by="region")
    assert "<script>" not in sentence
    html = rendered(sentence)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<em>" not in html and "*bold*" in html

    html = rendered(narrative.rate_sentence(SCRIPT, Rate.from_counts(117, 500)))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_numbers_are_not_escaped():
    sentence = narrative.rate_sentence("Conversion rate", Rate.from_counts(1_170, 5_000))
    assert "1,170 of 5,000" in sentence and "\\" not in sentence


# -- findings and recommendations --------------------------------------------------------

def test_findings_lists_the_most_important_first():
    items = [(1, "Small thing."), (3, "Big thing."), (2, None), (3, "Second big thing."),
             (2, "Middle thing.")]
    assert narrative.findings(items) == (
        "- Big thing.\n- Second big thing.\n- Middle thing.\n- Small thing.")
    assert narrative.findings(items, limit=2) == "- Big thing.\n- Second big thing."
    assert narrative.findings([]) == "No findings to report."


def test_recommendations_fire_on_computed_values():
    values = {
        "complaint_rate": Rate.from_counts(40, 400),
        "nps": Nps.from_counts(10, 10, 20),
        "revenue_growth": -0.052,
        "conversion_rate": Rate.from_counts(2, 12),  # too few: no advice on it
        "follow_up_rate": NotAvailable("needs tickets"),
        "csat": Measure(4.4, "score", n=300, ci_low=4.3, ci_high=4.5),  # fine
    }
    assert narrative.recommendations(values) == (
        "- Complaint rate is 10.0%, above 5.0%: review the top complaint reasons and fix "
        "the most frequent one first.\n"
        "- Revenue fell 5.2% on the previous period: check which products, regions and "
        "channels drove the drop.\n"
        "- NPS is -25, so detractors outnumber promoters: contact recent detractors and act "
        "on what their comments have in common.")


def test_recommendation_rules_can_be_overridden():
    rules = [{"metric": "complaint_rate", "op": ">=", "threshold": 0.10, "priority": 1,
              "text": {"en": "Complaints at {value} (limit {threshold})."}}]
    values = {"complaint_rate": Rate.from_counts(40, 400)}
    assert narrative.recommendations(values, rules=rules) == (
        "- Complaints at 10.0% (limit 10.0%).")
    assert narrative.recommendations({"complaint_rate": Rate.from_counts(4, 400)},
                                     rules=rules) == (
        "No recommendations: every KPI checked is within its threshold.")
    with pytest.raises(ValueError, match="rule 0 \\(complaint_rate\\) has op '=='"):
        narrative.recommendations(values, rules=[{**rules[0], "op": "=="}])
    with pytest.raises(ValueError, match="lacks threshold"):
        narrative.recommendations(values, rules=[{"metric": "nps", "op": "<", "text": "x"}])


def test_default_rules_are_well_formed():
    narrative.validate_rules(narrative.RECOMMENDATION_RULES)


# -- languages ---------------------------------------------------------------------------

def test_language_selects_templates(monkeypatch):
    monkeypatch.setitem(narrative.TEMPLATES, "xx", {
        **narrative.TEMPLATES["en"], "rate": "{label}: {value} ({numerator}/{denominator})."})
    assert narrative.rate_sentence("Conversion", Rate.from_counts(117, 500), language="xx") == (
        "Conversion: 23.4% (117/500).")
    with pytest.raises(ValueError, match="No sentence templates for language 'fr'"):
        narrative.rate_sentence("Conversion", Rate.from_counts(117, 500), language="fr")
