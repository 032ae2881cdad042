"""Words bound to numbers: the sentences, findings and recommendations of a report.

Every number in a sentence is a computed value (a KPI result, a model output, or a
difference of two of them) formatted by :func:`crmkit.metrics.results.format_value`, the
same text the report's tables show; no sentence types a number. Text that comes from data
or from a caller (labels, product, region and customer names) is escaped with
:func:`crmkit.report.markup.escape_markdown`, so ``<script>`` or ``*bold*`` shows as those
characters. Every function returns a Markdown string.

Templates are data: ``TEMPLATES["en"][key]`` holds the English sentences, which are the
message ids of the catalogs (crmkit.i18n): a sentence is written in the active language,
the report's. Recommendations are data too: :data:`RECOMMENDATION_RULES` is a list of
rules (a KPI, a comparison and a threshold -> a text) that a caller can copy, edit and pass
back. The ``language`` arguments stay for compatibility: a language with a dict of its own
in ``TEMPLATES`` uses that dict; otherwise the active language decides.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from crmkit import i18n
from crmkit.i18n import N_, tr
from crmkit.labels import column_label
from crmkit.metrics.results import Measure, NotAvailable, Nps, Rate, format_value, reason_text

# narrative sits below report in the layers; markup.py is a leaf module with no report
# dependencies, and one escaping function for the whole package beats two that drift.
from crmkit.report.markup import escape_markdown

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "change_up": N_("{label} was {current}, up {change} on the {comparison} "
                        "({previous})."),
        "change_down": N_("{label} was {current}, down {change} on the {comparison} "
                          "({previous})."),
        "change_flat": N_("{label} was {current}, level with the {comparison} "
                          "({previous})."),
        "change_no_base": N_("{label} was {current}, against {previous} in the "
                             "{comparison}."),
        "change_missing": N_("{label} was {current}; there is no {comparison} figure to "
                             "compare with."),
        "points": N_("{value} percentage points"),
        "nps_points": N_("{value} points"),
        "previous_period": N_("previous period"),
        "value": N_("{label} was {value}."),
        "value_interval": N_("{label} was {value} (95% CI {ci_low}–{ci_high}; {n} {noun})."),
        "too_few": N_("{label}: too few to say ({n} {noun})."),
        "rate": N_("{label} was {value} ({numerator} of {denominator}; 95% CI "
                   "{ci_low}–{ci_high})."),
        "nps": N_("{label} was {value} from {n} responses ({promoters} promoters, "
                  "{detractors} detractors; 95% CI {ci_low} to {ci_high})."),
        "responses": N_("responses"),
        "observations": N_("observations"),
        "not_available": N_("{label} is not available ({reason})."),
        "top_one": N_("{first} led with {first_value} of {what}."),
        "top_many": N_("{first} led with {first_value} of {what}, followed by {others}."),
        "top_item": N_("{name} ({value})"),
        "top_none": N_("There is no {what} to rank."),
        "list_separator": ", ",
        "list_last": " and ",
        "bullet": "- {text}",
        "no_findings": N_("No findings to report."),
        "no_recommendations": N_("No recommendations: every KPI checked is within its "
                                 "threshold."),
    },
}
# Entries of a template dict that are no sentence (joiners, markup): never translated.
_PLAIN = {"list_separator", "list_last", "bullet"}

# Comparisons a recommendation rule may use.
OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

# Recommendation rules: when the computed value of `metric` (a key of the values passed to
# recommendations(), named like the KPIs in crmkit.metrics) compares `op` to `threshold`,
# say `text`. In the text, {value} is the KPI, {magnitude} its absolute value and
# {threshold} the threshold, each formatted in `unit` (the KPI's own unit when it has one).
# `text` is a string or a {language: string} dict. Higher `priority` is listed first.
# Thresholds are defaults for a typical business, meant to be overridden per report.
RECOMMENDATION_RULES: list[dict] = [
    {"metric": "complaint_rate", "op": ">", "threshold": 0.05, "unit": "percent",
     "priority": 3,
     "text": N_("Complaint rate is {value}, above {threshold}: review the top complaint "
                "reasons and fix the most frequent one first.")},
    {"metric": "churn_rate", "op": ">", "threshold": 0.10, "unit": "percent", "priority": 3,
     "text": N_("Churn rate is {value}, above {threshold}: contact the at-risk customers "
                "with the most revenue first and review the churn reasons.")},
    {"metric": "revenue_growth", "op": "<", "threshold": 0.0, "unit": "percent",
     "priority": 3,
     "text": N_("Revenue fell {magnitude} on the previous period: check which products, "
                "regions and channels drove the drop.")},
    {"metric": "nps", "op": "<", "threshold": 0.0, "unit": "nps", "priority": 2,
     "text": N_("NPS is {value}, so detractors outnumber promoters: contact recent "
                "detractors and act on what their comments have in common.")},
    {"metric": "csat", "op": "<", "threshold": 3.5, "unit": "score", "priority": 2,
     "text": N_("Average CSAT is {value}, below {threshold}: find where scores are lowest "
                "(channel, product, ticket type) and start there.")},
    {"metric": "follow_up_rate", "op": "<", "threshold": 0.30, "unit": "percent",
     "priority": 1,
     "text": N_("Only {value} of customers were followed up, below {threshold}: schedule "
                "follow-ups after first purchases and after complaints.")},
    {"metric": "conversion_rate", "op": "<", "threshold": 0.10, "unit": "percent",
     "priority": 1,
     "text": N_("Lead conversion is {value}, below {threshold}: review lead sources and "
                "qualification, and shift effort to the sources that convert best.")},
    {"metric": "repeat_purchase_rate", "op": "<", "threshold": 0.20, "unit": "percent",
     "priority": 1,
     "text": N_("Repeat purchases are {value} of all purchases, below {threshold}: a "
                "second-purchase offer or loyalty programme is worth testing.")},
    {"metric": "campaign_roi", "op": "<", "threshold": 0.0, "unit": "percent",
     "priority": 1,
     "text": N_("Campaign ROI is {value}: stop or rework the campaigns that returned less "
                "than they cost.")},
]

_RULE_KEYS = {"metric", "op", "threshold", "text"}


def _templates(language: str | None = None) -> dict[str, str]:
    """The sentence templates: a language's own dict in :data:`TEMPLATES` (other than
    English), else the English ones in the active language (crmkit.i18n)."""
    if language is not None and language != i18n.SOURCE_LANGUAGE and language in TEMPLATES:
        return TEMPLATES[language]
    if language is not None and language not in TEMPLATES and \
            language not in i18n.languages():
        raise ValueError(f"No sentence templates for language {language!r}; available: "
                         f"{', '.join(TEMPLATES)}. Add a dict to narrative.TEMPLATES.")
    # The locale writes lists (crmkit.i18n.list_text): no joiners here.
    return {key: text if key in _PLAIN else tr(text)
            for key, text in TEMPLATES[i18n.SOURCE_LANGUAGE].items()
            if key not in ("list_separator", "list_last")}


def _text(value: object) -> str:
    """Caller or data text as Markdown that shows exactly that text."""
    return escape_markdown(value)


def _number(value: object) -> float:
    """The number in a result object (``.value``) or a plain number; NaN when missing."""
    value = getattr(value, "value", value)
    if value is None or value is pd.NA:
        return math.nan
    return float(value)


def _missing(value: float) -> bool:
    return not math.isfinite(value)


def _join(items: Sequence[str], t: Mapping[str, str]) -> str:
    """"a", "a and b", "a, b and c" (a、b和c): the joiners of a language's own template
    dict, else the active locale's list (crmkit.i18n.list_text)."""
    if len(items) <= 1:
        return "".join(items)
    if "list_last" in t:
        return t["list_separator"].join(items[:-1]) + t["list_last"] + items[-1]
    return i18n.list_text(items)


# -- single results ----------------------------------------------------------------------

def not_available_sentence(label: str, result: NotAvailable, *,
                           language: str | None = None) -> str:
    """"Complaint rate is not available (needs tickets)."; the reason in the active
    language (:func:`crmkit.metrics.results.reason_text`)."""
    t = _templates(language)
    return t["not_available"].format(label=_text(label),
                                     reason=_text(reason_text(result.reason)))


def rate_sentence(label: str, rate: Rate | NotAvailable, *, noun: str | None = None,
                  language: str | None = None) -> str:
    """A :class:`Rate` in words with its counts and interval.

    "Conversion rate was 23.4% (117 of 500; 95% CI 19.9%–27.3%)." or, below the minimum
    denominator, "Conversion rate: too few to say (12 leads)." ``noun`` names what the
    denominator counts (default "observations").
    """
    t = _templates(language)
    if isinstance(rate, NotAvailable):
        return not_available_sentence(label, rate, language=language)
    if rate.too_few or rate.denominator == 0:
        return t["too_few"].format(label=_text(label),
                                   n=format_value(rate.denominator, "count"),
                                   noun=_text(reason_text(noun) if noun
                                              else t["observations"]))
    return t["rate"].format(
        label=_text(label), value=format_value(rate.value, "percent"),
        numerator=format_value(rate.numerator, "count"),
        denominator=format_value(rate.denominator, "count"),
        ci_low=format_value(rate.ci_low, "percent"),
        ci_high=format_value(rate.ci_high, "percent"),
    )


def measure_sentence(label: str, measure: Measure | NotAvailable, *,
                     noun: str | None = None, language: str | None = None) -> str:
    """A :class:`Measure` in words: "Revenue was 1,234.50." for a sum or count; a mean
    with an interval adds it, "CSAT was 4.21 (95% CI 4.10–4.32; 412 responses).";
    too few: "CSAT: too few to say (12 responses)."""
    t = _templates(language)
    if isinstance(measure, NotAvailable):
        return not_available_sentence(label, measure, language=language)
    noun = _text(reason_text(noun) if noun else t["observations"])
    n = format_value(measure.n, "count") if measure.n is not None else None
    if measure.too_few:
        return t["too_few"].format(label=_text(label), n=n, noun=noun)
    value = format_value(measure.value, measure.unit)
    if measure.ci_low is None or measure.ci_high is None or n is None:
        return t["value"].format(label=_text(label), value=value)
    return t["value_interval"].format(
        label=_text(label), value=value, n=n, noun=noun,
        ci_low=format_value(measure.ci_low, measure.unit),
        ci_high=format_value(measure.ci_high, measure.unit),
    )


def nps_sentence(label: str, nps: Nps | NotAvailable, *, language: str | None = None) -> str:
    """An :class:`Nps` in words: "NPS was +21 from 412 responses (48.5% promoters, 27.2%
    detractors; 95% CI +13 to +30)."; too few: "NPS: too few to say (12 responses)."""
    t = _templates(language)
    if isinstance(nps, NotAvailable):
        return not_available_sentence(label, nps, language=language)
    if nps.too_few or nps.n == 0:
        return t["too_few"].format(label=_text(label), n=format_value(nps.n, "count"),
                                   noun=t["responses"])
    return t["nps"].format(
        label=_text(label), value=format_value(nps.value, "nps"),
        n=format_value(nps.n, "count"),
        promoters=format_value(nps.promoters / nps.n, "percent"),
        detractors=format_value(nps.detractors / nps.n, "percent"),
        ci_low=format_value(nps.ci_low, "nps"), ci_high=format_value(nps.ci_high, "nps"),
    )


def kpi_sentence(label: str, result: object, *, noun: str | None = None,
                 language: str | None = None) -> str:
    """Any KPI result in words: dispatches to :func:`rate_sentence`,
    :func:`nps_sentence`, :func:`measure_sentence` or :func:`not_available_sentence`."""
    if isinstance(result, NotAvailable):
        return not_available_sentence(label, result, language=language)
    if isinstance(result, Rate):
        return rate_sentence(label, result, noun=noun, language=language)
    if isinstance(result, Nps):
        return nps_sentence(label, result, language=language)
    if isinstance(result, Measure):
        return measure_sentence(label, result, noun=noun, language=language)
    raise TypeError(f"`result` must be a Measure, Rate, Nps or NotAvailable, got "
                    f"{type(result).__name__}; for a plain number use change_sentence or "
                    f"a Measure.")


# -- comparisons -------------------------------------------------------------------------

def change_sentence(label: str, current: object, previous: object, unit: str | None = None,
                    *, comparison: str | None = None, language: str | None = None) -> str:
    """This period against a comparison period, in words.

    ``current`` and ``previous``: numbers or results (Measure, Rate, Nps: their
    ``.value``). ``unit``: a crmkit unit (currency, count, percent, nps, score), by default
    the unit of ``current``. Money, counts and scores change by a relative percentage,
    (current − previous) / |previous| as in ``sales_growth``: "Revenue was
    1,234,567.00, up 12.3% on the previous period (1,099,000.00)." Rates (percent) and NPS
    change by their difference in points: "... up 3.4 percentage points ...". A change
    that rounds to zero reads "level with"; a zero or missing comparison says so.
    ``comparison`` names the other period (default "previous period").
    """
    t = _templates(language)
    unit = unit or getattr(current, "unit", None) or "number"
    now, before = _number(current), _number(previous)
    fields = {"label": _text(label), "current": format_value(now, unit),
              "previous": format_value(before, unit),
              "comparison": _text(reason_text(comparison)) if comparison
              else t["previous_period"]}
    if _missing(now) or _missing(before):
        return t["change_missing"].format(**fields)
    if unit in ("percent", "nps"):
        # Points: percentage points to one decimal, NPS points to none, as the values show.
        difference = now - before
        amount = (i18n.number(abs(difference) * 100, 1) if unit == "percent"
                  else i18n.number(abs(difference)))
        change = t["points" if unit == "percent" else "nps_points"].format(value=amount)
    else:
        if before == 0:
            return t["change_no_base"].format(**fields)
        difference = (now - before) / abs(before)
        amount = change = format_value(abs(difference), "percent")
    if not any(digit in amount for digit in "123456789"):  # zero at the precision shown
        return t["change_flat"].format(**fields)
    key = "change_up" if difference > 0 else "change_down"
    return t[key].format(change=change, **fields)


def top_sentence(frame: pd.DataFrame, *, by: str, value: str = "revenue",
                 share: str | None = "share", what: str | None = None,
                 unit: str = "currency", n: int = 3, language: str | None = None) -> str:
    """The leading groups of a breakdown in words.

    ``frame``: one row per group, e.g. ``revenue_distribution(by="region")`` -> region,
    revenue, share. The ``n`` largest by ``value`` are named; each with its ``share``
    ("East led with 34.1% of revenue, followed by West (28.0%) and North (20.5%).") or,
    with ``share=None``, its ``value`` in ``unit``. ``what`` names the quantity (default:
    the ``value`` column's name).
    """
    t = _templates(language)
    for option, column in (("by", by), ("value", value), ("share", share)):
        if column is not None and column not in frame.columns:
            raise ValueError(f"Could not interpret value `{column}` for `{option}`. An "
                             f"entry with this name does not appear in `frame`.")
    what = _text(what if what is not None else column_label(value))
    # A group with no name (a missing region, a blank owner) is never named as a leader.
    named = frame[frame[by].notna() & (frame[by].astype(str).str.strip() != "")]
    rows = named.sort_values(value, ascending=False, kind="stable").head(max(n, 1))
    if rows.empty:
        return t["top_none"].format(what=what)
    numbers = [format_value(v, "percent") for v in rows[share]] if share else \
        [format_value(v, unit) for v in rows[value]]
    names = [_text(name) for name in rows[by]]
    if len(rows) == 1:
        return t["top_one"].format(first=names[0], first_value=numbers[0], what=what)
    others = [t["top_item"].format(name=name, value=number)
              for name, number in zip(names[1:], numbers[1:])]
    return t["top_many"].format(first=names[0], first_value=numbers[0], what=what,
                                others=_join(others, t))


# -- summaries ---------------------------------------------------------------------------

def findings(items: Iterable[tuple[float, str | None]], *, limit: int | None = None,
             language: str | None = None) -> str:
    """Sentences as a Markdown bulleted list, most important first.

    ``items``: ``(importance, sentence)`` pairs, sentences already built by this module
    (so already escaped; they are not escaped again). Equal importance keeps the given
    order; empty sentences (None, "") are dropped; ``limit`` keeps the first ``limit``.
    """
    t = _templates(language)
    kept = [(importance, sentence) for importance, sentence in items if sentence]
    ranked = sorted(kept, key=lambda pair: -pair[0])  # sorted() is stable
    if limit is not None:
        ranked = ranked[:limit]
    if not ranked:
        return t["no_findings"]
    return "\n".join(t["bullet"].format(text=sentence) for _, sentence in ranked)


def validate_rules(rules: Iterable[Mapping]) -> None:
    """Raise ValueError naming the first malformed recommendation rule."""
    for i, rule in enumerate(rules):
        missing = _RULE_KEYS - set(rule)
        if missing:
            raise ValueError(f"Recommendation rule {i} ({rule.get('metric', '?')}) lacks "
                             f"{', '.join(sorted(missing))}.")
        if rule["op"] not in OPERATORS:
            raise ValueError(f"Recommendation rule {i} ({rule['metric']}) has op "
                             f"{rule['op']!r}; use one of {', '.join(OPERATORS)}.")


def _rule_text(rule: Mapping, language: str | None = None) -> str:
    """A rule's text in the active language (or ``language``): a {language: text} dict's
    entry, else its English text through the catalogs; a plain text through the catalogs."""
    text = rule["text"]
    language = language or i18n.current().language
    if isinstance(text, Mapping):
        if language in text:
            return text[language]
        if i18n.SOURCE_LANGUAGE in text and language in i18n.languages():
            return tr(text[i18n.SOURCE_LANGUAGE])
        raise ValueError(f"Recommendation rule for {rule['metric']} has no text in "
                         f"{language!r}.")
    return tr(text)


def recommendation_items(values: Mapping[str, object], *,
                         rules: Iterable[Mapping] | None = None,
                         language: str | None = None) -> list[tuple[float, str]]:
    """The recommendations whose rule fires on ``values``, as ``(priority, sentence)``.

    ``values``: KPI name -> computed result (Rate, Measure, Nps, NotAvailable) or number,
    e.g. ``{"complaint_rate": complaint_rate(wh, f), "revenue_growth": 0.12}``.
    ``rules``: default :data:`RECOMMENDATION_RULES`. A rule whose KPI is absent, not
    available, missing (NaN) or "too few to say" does not fire: no advice rests on a
    number the report itself calls unreliable.
    """
    rules = list(RECOMMENDATION_RULES if rules is None else rules)
    validate_rules(rules)
    fired = []
    for rule in rules:
        result = values.get(rule["metric"])
        if result is None or isinstance(result, NotAvailable) or \
                getattr(result, "too_few", False):
            continue
        number = _number(result)
        if _missing(number) or not OPERATORS[rule["op"]](number, rule["threshold"]):
            continue
        unit = getattr(result, "unit", None) or rule.get("unit", "number")
        sentence = _rule_text(rule, language).format(
            value=format_value(number, unit), magnitude=format_value(abs(number), unit),
            threshold=format_value(rule["threshold"], unit),
        )
        fired.append((rule.get("priority", 1), sentence))
    return fired


def recommendations(values: Mapping[str, object], *, rules: Iterable[Mapping] | None = None,
                    language: str | None = None) -> str:
    """The fired recommendations (:func:`recommendation_items`) as a Markdown bulleted
    list, highest priority first; a one-line note when none fires."""
    items = recommendation_items(values, rules=rules, language=language)
    if not items:
        return _templates(language)["no_recommendations"]
    return findings(items, language=language)
