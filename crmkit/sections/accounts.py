"""Sections of the customer_behaviour report for a B2B pipeline, where the customers are
accounts that win and lose deals: which accounts the bookings come from and how
concentrated they are, new against repeat accounts, win rate and bookings by account
attribute, and the accounts with deals open now that have not won one yet.

Every figure is a KPI of :mod:`crmkit.metrics.accounts`. :mod:`crmkit.sections.behaviour`
lists these sections (shaped "opportunities": left out without deals) and adds
:func:`findings` and :func:`recommendations` to its summary and conclusions.
"""

from __future__ import annotations

import pandas as pd

from crmkit import charts, i18n, narrative
from crmkit.i18n import N_, sentences, tr
from crmkit.labels import column_label, field_label, series
from crmkit.metrics import MIN_DENOMINATOR, NotAvailable, Rate
from crmkit.metrics.accounts import ACCOUNT_BANDS, band_labels
from crmkit.metrics.results import format_value, reason_text
from crmkit.report.markup import format_markdown
from crmkit.schema import TABLES
from crmkit.sections.base import Report, Table, Text, not_available

FIG_WIDTH = 12.0  # inches, as the rest of the report
TOP_ACCOUNTS = 10  # accounts named in the bookings chart and table
CONCENTRATION_TOP = 0.10  # the share of accounts whose share of bookings is the concentration
OPEN_ACCOUNTS_SHOWN = 15  # accounts without a win listed, most open value first
# Account attributes to break down by: at least two groups and at most this many (more is
# a list, not a breakdown), held by at least this share of the accounts.
MAX_ATTRIBUTE_GROUPS = 12
MIN_ATTRIBUTE_COVERAGE = 0.5
MAX_ATTRIBUTES = 4  # breakdowns shown, the report's `by` first
MAX_TABLE_ROWS = 20  # groups a breakdown table lists (the most closed deals)
# Customers columns that are not account attributes to break down by: the account owner is
# a person (the sales report ranks owners).
NOT_ATTRIBUTES = ("owner",)
WIN_RATE_GAP = 0.10  # a group's whole 95% interval this far below the overall win rate
RATE_COLUMNS = {"numerator": "won", "denominator": "closed", "value": "win_rate",
                "ci_low": "low_95", "ci_high": "high_95"}
RATE_FORMATS = {"accounts": "count", "won": "count", "closed": "count",
                "win_rate": "percent", "low_95": "percent", "high_95": "percent",
                "too_few": "flag:" + N_("too few to say"), "bookings": "currency",
                "bookings_share": "percent"}

# Recommendations in the rule format of crmkit.narrative; the values are computed in
# `recommendations`. Thresholds are defaults for a typical B2B sales team. The texts are
# English messages (translated by :func:`account_rules`); {top} is CONCENTRATION_TOP.
ACCOUNT_RULES: list[dict] = [
    {"metric": "bookings_concentration", "op": ">", "threshold": 0.5, "unit": "percent",
     "priority": 3,
     "text": N_("The top {top} of accounts brought {value} of bookings (above {threshold}): "
                "losing one of them would show in the results, so give each a named account "
                "plan and widen the base of accounts below them.")},
    {"metric": "new_account_share", "op": "<", "threshold": 0.2, "unit": "percent",
     "priority": 2,
     "text": N_("Only {value} of the accounts that won a deal in the period won for the "
                "first time (below {threshold}): bookings rest on existing accounts; put "
                "prospecting effort into new ones.")},
    {"metric": "repeat_account_share", "op": "<", "threshold": 0.3, "unit": "percent",
     "priority": 2,
     "text": N_("Only {value} of the accounts that won a deal in the period had won before "
                "(below {threshold}): few accounts buy again; plan renewals and upsells with "
                "the accounts won earlier.")},
    {"metric": "no_win_share", "op": ">", "threshold": 0.3, "unit": "percent",
     "priority": 2,
     "text": N_("{value} of the accounts with deals open now have never won one (above "
                "{threshold}): qualify those deals before they take more of the team's "
                "time.")},
]
# The groups of new_and_repeat_accounts as a reader reads them.
GROUP_NAMES = {"new": N_("new"), "repeat": N_("repeat")}


def account_rules(rules: list[dict] | None = None) -> list[dict]:
    """``rules`` (default :data:`ACCOUNT_RULES`) with their texts in the active language
    and {top} filled in: rules crmkit.narrative reads."""
    top = i18n.percent(CONCENTRATION_TOP, 0)
    language = i18n.current().language
    # {language: text}: crmkit.narrative shows it as it is, translated and filled in here.
    return [{**rule, "text": {language: tr(rule["text"]).replace("{top}", top)}}
            if isinstance(rule["text"], str) else rule
            for rule in (ACCOUNT_RULES if rules is None else rules)]


def _label(column: str) -> str:
    """A column named in a text: its name in English (underscores as spaces, as always),
    the reader's name for it (crmkit.labels) in another language."""
    if i18n.current().language == i18n.SOURCE_LANGUAGE:
        return str(column).replace("_", " ")
    named = field_label(column)
    return named if named != column else column_label(column)


def _with_note(caption: str, note: str | None) -> str:
    """A caption and the result's note in brackets after it."""
    return tr("{caption} ({note})").format(caption=caption, note=note) if note else caption


# -- accounts by bookings ------------------------------------------------------------------
def top_accounts(report: Report) -> list:
    """The accounts with the most bookings in the period, their share and the share of the
    top accounts (concentration)."""
    frame = report.kpi("account_bookings")
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("Bookings per account"), frame)
    top = frame[frame["bookings"] > 0].head(TOP_ACCOUNTS)
    if top.empty:
        return [Text(tr("*No account won a deal with an amount in the period.*"))]
    note = frame.attrs.get("note")
    return [Text(sentences(*_concentration_sentences(report, frame, top))),
            charts.chart("bar", top, x="bookings", y="account", share="share", sort=False,
                         title=tr("The {n} accounts with the most bookings (share of all "
                                  "bookings)").format(n=i18n.number(len(top))),
                         size=(FIG_WIDTH, 0.42 * len(top) + 1.6)),
            Table(top[["rank", "account", "won_deals", "lost_deals", "bookings", "share",
                       "cumulative_share"]],
                  {"rank": "{:.0f}", "won_deals": "count", "lost_deals": "count",
                   "bookings": "currency", "share": "percent", "cumulative_share": "percent"},
                  caption=_with_note(tr("Deals closed in the period, per account: bookings "
                                        "= won deal value"), note))]


def _concentration_sentences(report: Report, frame: pd.DataFrame, top: pd.DataFrame) -> list:
    out = [format_markdown(
        tr("{n} accounts won deals in the period; the {k} with the most bookings brought "
           "{share} of the bookings, {first} alone {first_share}."),
        n=format_value(int((frame["won_deals"] > 0).sum()), "count"), k=i18n.number(len(top)),
        share=format_value(top["cumulative_share"].iloc[-1], "percent"),
        first=top["account"].iloc[0], first_share=format_value(top["share"].iloc[0], "percent"))]
    concentration = report.kpi("bookings_concentration", top=CONCENTRATION_TOP)
    if not isinstance(concentration, NotAvailable):
        row = concentration.iloc[0]
        out.append(format_markdown(
            tr("The top {top} of accounts by bookings ({k} of {n}) brought {share} of "
               "bookings."),
            top=i18n.percent(CONCENTRATION_TOP, 0), k=i18n.number(int(row["top_accounts"])),
            n=format_value(row["accounts"], "count"),
            share=format_value(row["concentration"], "percent")))
    return out


# -- new and repeat accounts ---------------------------------------------------------------
def new_and_repeat(report: Report) -> list:
    """Accounts that won their first deal in the period against accounts that had won
    before: how many, and their bookings."""
    mix = report.kpi("new_and_repeat_accounts")
    if isinstance(mix, NotAvailable):
        return not_available(report, tr("New and repeat accounts"), mix)
    if not mix["accounts"].sum():
        return [Text(tr("*No account won a deal in the period.*"))]
    # The groups (new, repeat) are crmkit's words: shown in the report's language.
    shown = mix.assign(group=[tr(GROUP_NAMES.get(g, g)) for g in mix["group"]])
    panels = [charts.panel("bar", shown, x="accounts", y="group", share="account_share",
                           unit="count", sort=False, title=tr("Accounts that won a deal"))]
    if mix["bookings"].notna().all():
        panels.append(charts.panel("bar", shown, x="bookings", y="group",
                                   share="bookings_share", sort=False, color=charts.PALETTE[2],
                                   title=tr("Their bookings")))
    note = mix.attrs.get("note")
    return [charts.Chart(tuple(panels), size=(FIG_WIDTH, 2.8), columns=2),
            Text(_new_and_repeat_sentence(mix)),
            Table(shown, {"accounts": "count", "won_deals": "count", "bookings": "currency",
                          "account_share": "percent", "bookings_share": "percent"},
                  caption=_with_note(tr("New: the account's first won deal is in the period; "
                                        "repeat: it had won a deal before"), note))]


def _new_and_repeat_sentence(mix: pd.DataFrame) -> str:
    rows = mix.set_index("group")
    new, repeat = rows.loc["new"], rows.loc["repeat"]
    return format_markdown(
        tr("Of the {n} accounts that won a deal in the period, {new} won for the first time "
           "({new_share} of bookings) and {repeat} had won before ({repeat_share})."),
        n=format_value(new["accounts"] + repeat["accounts"], "count"),
        new=format_value(new["accounts"], "count"),
        new_share=format_value(new["bookings_share"], "percent"),
        repeat=format_value(repeat["accounts"], "count"),
        repeat_share=format_value(repeat["bookings_share"], "percent"))


# -- account attributes --------------------------------------------------------------------
def attribute_candidates(report: Report) -> list[str]:
    """Account attributes the data holds, in the order they are tried: the report's `by`,
    the customers' own text attributes (industry), numbers with bands (employees), then
    the schema's group columns (segment, region, country ...). Read from the ingest audit,
    else from the customers table's columns; never ids, names, dates or people."""
    if not report.has("customers"):
        return [report.by] if report.by else []
    record = report.wh.audit.get("tables", {}).get("customers")
    schema = report.wh.table("customers").schema()
    if record:
        attributes = list(record.get("attributes") or {})
        held = set(record.get("columns") or {}) | set(record.get("derived") or {})
    else:
        attributes = [c for c in schema if TABLES["customers"].canonical_name(c) is None
                      and c not in ("source_row", "flags")]
        held = set(schema)
    numeric = [c for c in attributes if schema[c].is_numeric() and not schema[c].is_boolean()]
    texts = [c for c in attributes if c not in numeric]
    groups = [c.name for c in TABLES["customers"].columns
              if c.kind in ("category", "bool") and c.name in held
              and c.name not in NOT_ATTRIBUTES]
    ordered = [report.by, *texts, *[c for c in numeric if c in ACCOUNT_BANDS], *groups]
    return list(dict.fromkeys(c for c in ordered if c))


def account_breakdowns(report: Report) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """(attribute -> accounts_by_attribute frame, the attributes left out and why): the
    report's `by` whenever it has a group, others with 2..MAX_ATTRIBUTE_GROUPS groups held
    by MIN_ATTRIBUTE_COVERAGE of the accounts, at most MAX_ATTRIBUTES."""
    overall = report.kpi("accounts_by_attribute")
    accounts = 0 if isinstance(overall, NotAvailable) else int(overall["accounts"].iloc[0])
    shown, skipped = {}, []
    for column in attribute_candidates(report):
        frame = report.kpi("accounts_by_attribute", by=column)
        if isinstance(frame, NotAvailable):
            if column == report.by:
                skipped.append(format_markdown(tr("{c} ({why})"), c=_label(column),
                                               why=reason_text(frame.reason)))
            continue
        held = frame["accounts"].sum() / accounts if accounts else 0.0
        if frame.empty or len(frame) == 1 and column != report.by:
            continue
        if column == report.by:
            shown[column] = frame
        elif len(shown) == MAX_ATTRIBUTES:
            skipped.append(format_markdown(tr("{c} (beyond the first {n} breakdowns)"),
                                           c=_label(column), n=i18n.number(MAX_ATTRIBUTES)))
        elif len(frame) > MAX_ATTRIBUTE_GROUPS:
            skipped.append(format_markdown(tr("{c} ({n} values)"), c=_label(column),
                                           n=i18n.number(len(frame))))
        elif held < MIN_ATTRIBUTE_COVERAGE:
            skipped.append(format_markdown(tr("{c} (held by {share} of the accounts)"),
                                           c=_label(column),
                                           share=format_value(held, "percent")))
        else:
            shown[column] = frame
    return shown, skipped


def account_attributes(report: Report) -> list:
    """Win rate (won / closed deals, 95% interval) and bookings by each account attribute
    the data has: industry, employees band, segment, region ... and the report's `by`."""
    overall = report.kpi("accounts_by_attribute")
    if isinstance(overall, NotAvailable):
        return not_available(report, tr("Win rate by account attribute"), overall)
    rate = _overall_rate(overall)
    shown, skipped = account_breakdowns(report)
    out = [Text(narrative.rate_sentence(tr("The win rate of deals with an account (won / "
                                           "closed deals)"), rate, noun=tr("closed deals")))]
    for column, frame in shown.items():
        out += _attribute_outputs(column, frame, rate)
    if not shown:
        out.append(Text(tr("*The accounts have no attribute with a few groups to break the "
                           "win rate down by.*")))
    if skipped:
        out.append(Text(tr("*Not broken down: {skipped}. Pass one as `by` to see it.*")
                        .format(skipped=series(skipped, semicolons=True))))
    return out


def _overall_rate(overall: pd.DataFrame) -> Rate:
    row = overall.iloc[0]
    return Rate.from_counts(row["numerator"], row["denominator"])


def _attribute_label(column: str, frame: pd.DataFrame) -> str:
    """``employees band`` when the groups are bands, else the column in words."""
    banded = column in ACCOUNT_BANDS and \
        frame[column].isin(band_labels(ACCOUNT_BANDS[column])).all()
    return tr("{column} band").format(column=_label(column)) if banded else _label(column)


def _attribute_outputs(column: str, frame: pd.DataFrame, rate: Rate) -> list:
    label = _attribute_label(column, frame)
    out = []
    if len(frame) <= MAX_ATTRIBUTE_GROUPS:
        panels = [charts.panel("rate_bars", frame, x=column, reference=rate,
                               title=tr("Win rate by {label} (95% CI)").format(
                                   label=label))]
        if frame["bookings"].notna().all() and frame["bookings"].sum() > 0:
            panels.append(charts.panel("bar", frame, x="bookings", y=column,
                                       share="bookings_share", sort=False,
                                       color=charts.PALETTE[2],
                                       title=tr("Bookings by {label}").format(label=label)))
        # One above the other: the rate bars need the width for their "too few" labels.
        height = 4.2 + (0.4 * len(frame) + 1.0 if len(panels) == 2 else 0.0)
        out.append(charts.Chart(tuple(panels), size=(FIG_WIDTH, height), columns=1))
    if frame["bookings"].sum() > 0:
        out.append(Text(narrative.top_sentence(frame, by=column, value="bookings",
                                               share="bookings_share",
                                               what=tr("bookings by {label}").format(
                                                   label=label))))
    table = frame.nlargest(MAX_TABLE_ROWS, "denominator", keep="first").sort_index()
    table = table[[column, "accounts", *RATE_COLUMNS, "too_few", "bookings", "bookings_share"]]
    note = frame.attrs.get("note")
    caption = tr("By {label}: accounts with a deal closed in the period, win rate = won / "
                 "(won + lost) with its 95% interval, bookings = won deal value").format(
        label=label)
    if len(frame) > MAX_TABLE_ROWS:
        caption = tr("{caption}; the {n} groups with the most closed deals").format(
            caption=caption, n=i18n.number(MAX_TABLE_ROWS))
    out.append(Table(table.rename(columns=RATE_COLUMNS), RATE_FORMATS,
                     caption=_with_note(caption, note)))
    return out


# -- accounts with open deals --------------------------------------------------------------
def open_accounts(report: Report) -> list:
    """Accounts with deals open now that have never won a deal: how many, and the ones
    with the most open value."""
    frame = report.kpi("open_deal_accounts")
    if isinstance(frame, NotAvailable):
        return not_available(report, tr("Accounts with open deals"), frame)
    if frame.empty:
        return [Text(tr("*No account has a deal open now.*"))]
    waiting = frame[frame["no_win_yet"]]
    note = frame.attrs.get("note")
    out = [Text(_open_accounts_sentence(frame, waiting))]
    if note:
        out.append(Text(format_markdown(tr("*{note}.*"), note=note[0].upper() + note[1:])))
    if waiting.empty:
        return out
    shown = waiting.head(OPEN_ACCOUNTS_SHOWN)
    valued = shown["open_value"].notna().all()
    out.append(charts.chart("bar", shown, x="open_value" if valued else "open_deals",
                            y="account", unit="currency" if valued else "count", sort=False,
                            title=tr("Accounts with open deals and no win yet (open value)")
                            if valued else
                            tr("Accounts with open deals and no win yet (open deals)"),
                            size=(FIG_WIDTH, 0.42 * len(shown) + 1.6)))
    columns = [c for c in ("account", "open_deals", "open_value", "lost_deals", "oldest_open",
                           "next_close") if c in shown and shown[c].notna().any()]
    out.append(Table(shown[columns], {"open_deals": "count", "open_value": "currency",
                                      "lost_deals": "count", "oldest_open": "date",
                                      "next_close": "date"},
                     caption=tr("Accounts with deals open now and no won deal at any date, "
                                "most open value first; oldest open = the first created date "
                                "of their open deals, next close = their first expected close "
                                "date")))
    return out


def _open_accounts_sentence(frame: pd.DataFrame, waiting: pd.DataFrame) -> str:
    if waiting.empty:
        return format_markdown(tr("Every one of the {n} accounts with deals open now has won "
                                  "a deal before."), n=format_value(len(frame), "count"))
    value = waiting["open_value"]
    counts = {"k": format_value(len(waiting), "count"), "n": format_value(len(frame), "count"),
              "d": format_value(waiting["open_deals"].sum(), "count")}
    if value.notna().all():
        return format_markdown(
            tr("{k} of the {n} accounts with deals open now have not won a deal yet; they "
               "hold {d} open deals, worth {v}."), v=format_value(value.sum(), "currency"),
            **counts)
    return format_markdown(
        tr("{k} of the {n} accounts with deals open now have not won a deal yet; they hold "
           "{d} open deals."), **counts)


# -- the summary and the conclusions -------------------------------------------------------
def findings(report: Report) -> list[tuple[int, str]]:
    """(importance, sentence) of the accounts for the report's summary."""
    items = []
    mix = report.kpi("new_and_repeat_accounts")
    if not isinstance(mix, NotAvailable) and mix["accounts"].sum():
        items.append((5, _new_and_repeat_sentence(mix)))
    frame = report.kpi("account_bookings")
    if not isinstance(frame, NotAvailable):
        top = frame[frame["bookings"] > 0].head(TOP_ACCOUNTS)
        if len(top):
            items.append((4, sentences(*_concentration_sentences(report, frame, top))))
    shown, _ = account_breakdowns(report)
    for column, by_group in list(shown.items())[:1]:
        if by_group["bookings"].sum() > 0:
            items.append((2, narrative.top_sentence(
                by_group, by=column, value="bookings", share="bookings_share",
                what=tr("bookings by {label}").format(
                    label=_attribute_label(column, by_group)))))
    open_frame = report.kpi("open_deal_accounts")
    if not isinstance(open_frame, NotAvailable) and len(open_frame):
        items.append((3, _open_accounts_sentence(
            open_frame, open_frame[open_frame["no_win_yet"]])))
    return items


def recommendations(report: Report) -> list[tuple[int, str]]:
    """(priority, sentence) of the accounts: :data:`ACCOUNT_RULES` and the groups whose win
    rate trails the overall one beyond doubt."""
    items = narrative.recommendation_items(_rule_values(report), rules=account_rules())
    overall = report.kpi("accounts_by_attribute")
    if isinstance(overall, NotAvailable):
        return items
    rate = _overall_rate(overall)
    if rate.too_few:
        return items
    trailing = []
    for column, frame in account_breakdowns(report)[0].items():
        low = frame[~frame["too_few"] & (frame["ci_high"] < rate.value - WIN_RATE_GAP)]
        trailing += [format_markdown(tr("{c} {g} ({r})"), c=_label(column), g=group,
                                     r=format_value(value, "percent"))
                     for group, value in zip(low[column], low["value"])]
    if trailing:
        items.append((2, tr("The win rate is below the overall {rate} beyond doubt (the "
                            "whole 95% interval lies more than {gap} under it) for {groups}: "
                            "review how deals with these accounts are qualified and "
                            "priced.").format(rate=format_value(rate.value, "percent"),
                                              gap=i18n.percent(WIN_RATE_GAP, 0),
                                              groups=series(trailing, semicolons=True))))
    return items


def _rule_values(report: Report) -> dict:
    """The values :data:`ACCOUNT_RULES` check; shares resting on fewer than MIN_DENOMINATOR
    accounts are too few to say, and fire no rule."""
    values = {}
    concentration = report.kpi("bookings_concentration", top=CONCENTRATION_TOP)
    if not isinstance(concentration, NotAvailable) and \
            concentration["accounts"].iloc[0] >= MIN_DENOMINATOR:
        values["bookings_concentration"] = concentration["concentration"].iloc[0]
    mix = report.kpi("new_and_repeat_accounts")
    if not isinstance(mix, NotAvailable):
        rows = mix.set_index("group")["accounts"]
        values["new_account_share"] = Rate.from_counts(rows["new"], rows.sum())
        values["repeat_account_share"] = Rate.from_counts(rows["repeat"], rows.sum())
    open_frame = report.kpi("open_deal_accounts")
    if not isinstance(open_frame, NotAvailable):
        values["no_win_share"] = Rate.from_counts(int(open_frame["no_win_yet"].sum()),
                                                  len(open_frame))
    return values
