"""Money in several currencies: converted to the report currency, or kept apart.

Amounts are never added up across currencies. With rates (the config's ``rates``, or a
Salesforce ``CurrencyType.csv``), every amount is converted to the report currency, its
original kept in ``amount_original``, and the audit records the rates used. Without rates,
amounts stay as they are, the audit's control totals are per currency, and ingest warns.
A row with no currency is in the report currency.
"""

from __future__ import annotations

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


@dataclass
class Rates:
    """Report-currency units per unit of each currency."""

    report: str
    rates: dict[str, float]
    source: str
    used: dict[str, float] = field(default_factory=dict)

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
    return Rates(report, rates, config.rates_file.name)


def convert_amounts(con: duckdb.DuckDBPyConnection, name: str, built: Built,
                    rates: Rates | None, report_currency: str | None) -> dict:
    """Convert scored_<name>'s amounts in place where rates allow; say what was done."""
    from crmkit.schema import TABLES

    table = TABLES[name]
    present = built.mapping.present
    if "amount_original" not in table.column_names or "amount" not in present:
        return {}
    scored = f"scored_{name}"
    con.execute(f"UPDATE {scored} SET amount_original = amount")
    if "currency" not in present:
        return {"currencies": [report_currency] if report_currency else []}
    counts = dict(con.execute(
        f"SELECT currency, count(*) FROM {scored} WHERE amount IS NOT NULL AND currency IS "
        f"NOT NULL GROUP BY 1 ORDER BY 1").fetchall())
    currencies = sorted(counts)
    if rates is None:
        if len(currencies) > 1:
            return {"currencies": currencies, "per_currency": True,
                    "warning": f"{name}: amounts in {len(currencies)} currencies "
                               f"({', '.join(currencies)}) and no exchange rates: money is "
                               "totalled per currency. Set `rates:` and `currency:` in a "
                               "config to convert."}
        return {"currencies": currencies}
    missing = [c for c in currencies if rates.of(c) is None]
    if missing:
        raise ConfigError(
            f"{name}: no exchange rate for {', '.join(f'{c} ({counts[c]:,} rows)' for c in missing)}"
            f" in {rates.source}; rates given: {', '.join(sorted(rates.rates)) or 'none'}. "
            f"Add them under `rates:`.")
    originals = dict(con.execute(
        f"SELECT coalesce(currency, {literal(rates.report)}), round(sum(amount), 2) FROM "
        f"{scored} GROUP BY 1 ORDER BY 1").fetchall())
    cases = " ".join(f"WHEN {literal(c)} THEN {rates.of(c)!r}" for c in currencies)
    con.execute(f"UPDATE {scored} SET currency = coalesce(currency, {literal(rates.report)}), "
                f"amount = round(amount * CASE coalesce(currency, {literal(rates.report)}) "
                f"{cases} ELSE 1.0 END, 6)")
    for c in currencies:
        rates.used[c] = rates.of(c)
    built.derived["amount"] = (f"converted to {rates.report} with the rates of "
                               f"{rates.source}; the original in amount_original")
    return {"currencies": currencies, "converted": True, "report": rates.report,
            "original_totals": {c: float(v or 0) for c, v in originals.items()}}
