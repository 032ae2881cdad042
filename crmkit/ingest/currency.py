"""Money in several currencies: converted to the report currency, or kept apart.

Amounts are never added up across currencies. With rates (the config's ``rates``, or a
Salesforce ``CurrencyType.csv``), every amount is converted to the report currency, its
original kept in ``amount_original``, and the audit records the rates used. Without rates,
amounts stay as they are, the audit's control totals are per currency, and ingest warns.
A row with no currency is in the report currency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from crmkit.config import IngestConfig, TableConfig
from crmkit.exceptions import ConfigError, SourceError
from crmkit.ingest.clean import Built
from crmkit.ingest.readers import literal, quote, stage

# A currency file of a CRM: its code column, its rate column (units per one unit of the
# corporate currency) and the flag of the corporate currency. Salesforce's CurrencyType.
RATE_FILE_COLUMNS = {"code": ("IsoCode", "iso_code", "currency"),
                     "rate": ("ConversionRate", "conversion_rate", "rate"),
                     "corporate": ("IsCorporate", "is_corporate")}


# The date each table's amounts are converted at when dated rates are given (Salesforce
# applies dated rates to opportunities, by close date; other objects use the static rates).
DATED_BY = {"opportunities": "close_date"}
DATED_TABLE = "dated_rates"  # (code, start, next_start, per_corporate) while ingesting


@dataclass
class Rates:
    """Report-currency units per unit of each currency (static), and whether dated rates
    (per corporate unit, by period) are loaded into the ingest connection."""

    report: str
    rates: dict[str, float]
    source: str
    used: dict[str, float] = field(default_factory=dict)
    dated_source: str | None = None

    def of(self, code: str) -> float | None:
        return 1.0 if code == self.report else self.rates.get(code)


def load_rates(con: duckdb.DuckDBPyConnection, config: IngestConfig, tmp: Path) -> Rates | None:
    """The config's rates, or those of its rates file; None when there are none."""
    if config.rates:
        if not config.currency:
            raise ConfigError("rates are given but no report currency: set `currency:` "
                              "(the currency the rates convert into)")
        return Rates(config.currency, dict(config.rates), "the config")
    if config.rates_file is None:
        return None
    spec = TableConfig(name="currency_rates", file=config.rates_file, format="csv",
                       encodings=["utf-8", "cp1252"])
    name = stage(con, spec, str(config.rates_file), tmp)
    columns = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
    found = {}
    for role, names in RATE_FILE_COLUMNS.items():
        found[role] = next((c for c in columns if c in names), None)
    if found["code"] is None or found["rate"] is None:
        raise SourceError(f"rates: {config.rates_file.name} has no IsoCode and ConversionRate "
                          f"columns (a Salesforce CurrencyType file); columns found: "
                          f"{', '.join(c for c in columns if c != '__row')}")
    corporate = (f"lower(trim({quote(found['corporate'])})) IN ('true', '1')"
                 if found["corporate"] else "false")
    rows = con.execute(
        f"SELECT upper(trim({quote(found['code'])})), "
        f"TRY_CAST(trim({quote(found['rate'])}) AS DOUBLE), {corporate} FROM {name}").fetchall()
    con.execute(f"DROP TABLE {name}")
    per_corporate = {code: rate for code, rate, _ in rows if code and rate and rate > 0}
    corporate_codes = [code for code, _, is_corp in rows if is_corp]
    report = config.currency or (corporate_codes[0] if corporate_codes else None)
    if report is None:
        raise ConfigError(f"rates: {config.rates_file.name} marks no corporate currency; set "
                          "`currency:` to the report currency")
    if report not in per_corporate:
        raise ConfigError(f"currency {report}: {config.rates_file.name} has no rate for it; "
                          f"it has {', '.join(sorted(per_corporate))}")
    # ConversionRate is units of a currency per one corporate unit: into the report
    # currency, an amount in X is multiplied by rate(report) / rate(X).
    rates = {code: per_corporate[report] / rate for code, rate in per_corporate.items()}
    out = Rates(report, rates, config.rates_file.name)
    if config.dated_rates_file is not None:
        _load_dated(con, config.dated_rates_file, tmp)
        out.dated_source = config.dated_rates_file.name
    return out


def _load_dated(con: duckdb.DuckDBPyConnection, path: Path, tmp: Path) -> None:
    """Salesforce's DatedConversionRate (IsoCode, ConversionRate per corporate unit,
    StartDate, NextStartDate) as the table ``dated_rates``."""
    spec = TableConfig(name="dated_rates_raw", file=path, format="csv",
                       encodings=["utf-8", "cp1252"])
    name = stage(con, spec, str(path), tmp)
    columns = {r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()}
    needed = {"IsoCode", "ConversionRate", "StartDate"}
    if not needed <= columns:
        raise SourceError(f"rates.dated: {path.name} lacks {', '.join(sorted(needed - columns))}"
                          f" (a Salesforce DatedConversionRate file); columns found: "
                          f"{', '.join(sorted(columns - {'__row'}))}")
    next_start = ("TRY_CAST(trim(NextStartDate) AS DATE)" if "NextStartDate" in columns
                  else "CAST(NULL AS DATE)")
    con.execute(
        f"CREATE TABLE {DATED_TABLE} AS SELECT upper(trim(IsoCode)) AS code, "
        f"TRY_CAST(trim(StartDate) AS DATE) AS start, {next_start} AS next_start, "
        f"TRY_CAST(trim(ConversionRate) AS DOUBLE) AS per_corporate FROM {name} "
        f"WHERE TRY_CAST(trim(ConversionRate) AS DOUBLE) > 0")
    con.execute(f"DROP TABLE {name}")


def convert_amounts(con: duckdb.DuckDBPyConnection, name: str, built: Built,
                    rates: Rates | None, report_currency: str | None,
                    rewrite: Callable[[str, str | None], None] | None = None) -> dict:
    """Convert scored_<name>'s amounts where rates allow; say what was done.

    The conversion is a SELECT over scored_<name>, row by row (reading the dated rates
    table when there is one); ``rewrite(select, rates_table)`` replaces scored_<name> by
    its result (default: in ``con``, DuckDB's; crmkit.ingest.spark runs it on Spark)."""
    from crmkit.schema import TABLES

    table = TABLES[name]
    present = built.mapping.present
    if "amount_original" not in table.column_names or "amount" not in present:
        return {}
    scored = f"scored_{name}"
    if "currency" not in present:
        return {"currencies": [report_currency] if report_currency else []}
    counts = dict(con.execute(
        f"SELECT currency, count(*) FROM {scored} WHERE amount IS NOT NULL AND currency IS "
        f"NOT NULL GROUP BY 1 ORDER BY 1").fetchall())
    currencies = sorted(counts)
    if rates is None:
        foreign = [c for c in currencies if c != report_currency]
        if report_currency and foreign:
            raise ConfigError(
                f"{name}: the report currency is {report_currency}, but amounts are in "
                f"{', '.join(foreign)} and no exchange rates are given. Add `rates:` "
                f"({{{foreign[0]}: <{report_currency} per {foreign[0]}>}}), or set "
                f"`currency:` to the data's currency.")
        if len(currencies) > 1:
            return {"currencies": currencies, "per_currency": True,
                    "warning": f"{name}: amounts in {len(currencies)} currencies "
                               f"({', '.join(currencies)}) and no exchange rates: money is "
                               "totalled per currency. Set `rates:` and `currency:` in a "
                               "config to convert."}
        return {"currencies": currencies}
    missing = [c for c in currencies if rates.of(c) is None]
    if missing:
        where = ("Add them under `rates:`" if rates.source == "the config" else
                 f"Add them to {rates.source}, or give `rates:` in a config")
        listed = ", ".join(f"{c} ({counts[c]:,} {'row' if counts[c] == 1 else 'rows'})"
                           for c in missing)
        raise ConfigError(
            f"{name}: no exchange rate for {listed} in {rates.source}; rates given: "
            f"{', '.join(sorted(rates.rates)) or 'none'}. {where}.")
    originals = dict(con.execute(
        f"SELECT coalesce(currency, {literal(rates.report)}), round(sum(amount), 2) FROM "
        f"{scored} GROUP BY 1 ORDER BY 1").fetchall())
    cases = " ".join(f"WHEN {literal(c)} THEN {rates.of(c)!r}" for c in currencies)
    static = f"CASE coalesce(s.currency, {literal(rates.report)}) {cases} ELSE 1.0 END"
    how = f"converted to {rates.report} with the rates of {rates.source}"
    dated_rows = 0
    date_column = DATED_BY.get(name)
    dated = rates.dated_source and date_column and date_column in present
    factor, at_dated = _dated_factor(date_column, rates.report, static) if dated \
        else (static, "false")
    select = (f"SELECT s.* REPLACE (coalesce(s.currency, {literal(rates.report)}) AS currency, "
              f"round(s.amount * ({factor}), 6) AS amount), {at_dated} AS __dated_rate "
              f"FROM {scored} AS s")
    if rewrite is None:
        con.execute(f"CREATE OR REPLACE TABLE {scored} AS {select}")
    else:
        rewrite(select, DATED_TABLE if dated else None)
    if dated:
        dated_rows = con.execute(f"SELECT count(*) FILTER (WHERE __dated_rate) FROM "
                                 f"{scored}").fetchone()[0]
        how += (f" ({dated_rows:,} rows at the dated rate of their {date_column}, from "
                f"{rates.dated_source})")
    for c in currencies:
        rates.used[c] = rates.of(c)
    built.derived["amount"] = how + "; the original in amount_original"
    return {"currencies": currencies, "converted": True, "report": rates.report,
            "dated_rows": dated_rows,
            "original_totals": {c: float(v or 0) for c, v in originals.items()}}


def _dated_factor(date_column: str, report: str, static: str) -> tuple[str, str]:
    """SQL over a scored row ``s``: the dated rate of the report currency over that of the
    row's currency, on the row's date, or the static rate where either has no dated rate
    then; and whether the dated rate applied."""
    def rate(code: str) -> str:
        return (f"(SELECT d.per_corporate FROM {DATED_TABLE} AS d WHERE d.code = {code} "
                f"AND d.start <= CAST(s.{quote(date_column)} AS DATE) AND (d.next_start IS NULL "
                f"OR CAST(s.{quote(date_column)} AS DATE) < d.next_start) "
                f"ORDER BY d.start DESC LIMIT 1)")

    own = f"coalesce(s.currency, {literal(report)})"
    dated = f"{rate(literal(report))} / {rate(own)}"
    return f"coalesce({dated}, {static})", f"({dated}) IS NOT NULL"
