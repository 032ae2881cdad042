"""The report folder's manifest (``manifest.json``) and index page (``index.html``).

The manifest records, per output file, what was rendered and from what: the report, its
title, period and (redacted) parameters, when, and the cache key that lets the next run
skip it. The index page is built from the manifest alone, grouped by report, so a batch
over regions shows as one report with one line per region.

The manifest holds English texts (a report's title, a reason it does not apply) and the
data its dates are written from; the index page is written in the active language (the
render's, see crmkit.report.language): titles and reasons translated, dates and times
as the locale writes them.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from crmkit import i18n
from crmkit.i18n import tr
from crmkit.report.files import write_atomic
from crmkit.report.language import (
    facts_list,
    html_lang,
    period_text,
    stored_time_text,
    time_text,
)

MANIFEST = "manifest.json"
INDEX = "index.html"
FORMAT = 1


def load_manifest(out_dir: str | Path) -> dict:
    """``{"format": 1, "reports": {name: entry}}``; empty when missing or unreadable."""
    path = Path(out_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {"format": FORMAT, "reports": {}}
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("reports"), dict):
        return {"format": FORMAT, "reports": {}}
    return manifest


def save_manifest(out_dir: str | Path, manifest: dict) -> Path:
    text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False, default=str)
    return write_atomic(Path(out_dir) / MANIFEST, text + "\n")


def write_index(out_dir: str | Path, manifest: dict, *, version: str) -> Path:
    """Write ``index.html`` listing every report in ``manifest`` whose HTML exists."""
    out_dir = Path(out_dir)
    groups: dict[str, list[tuple[str, dict]]] = {}
    for name, entry in sorted(manifest["reports"].items()):
        if entry.get("html") and (out_dir / entry["html"]).exists():
            groups.setdefault(entry.get("report", name), []).append((name, entry))
    return write_atomic(out_dir / INDEX, index_page(
        groups, version=version, not_applicable=manifest.get("not_applicable", {})))


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


# Shown in their own columns (period, data) or plumbing a reader need not see.
_NOT_LISTED = ("start", "end", "warehouse")


def _parameters_text(parameters: dict) -> str:
    listed = {k: v for k, v in parameters.items() if k not in _NOT_LISTED}
    if not listed:
        return tr("defaults")
    return facts_list(listed.items())


def _english() -> bool:
    return i18n.current().language == i18n.SOURCE_LANGUAGE


def _report_name(report: str) -> str:
    """The report's name beside its title: what ``crmkit render REPORT`` takes. An English
    page shows it; another language's page does not (its reader has the title, and the
    file link names the report)."""
    return f' <span class="name">{_e(report)}</span>' if _english() else ""


def _period(entry: dict) -> str:
    """The period an entry covers, in the active language (English: as recorded)."""
    dates = entry.get("period_range")
    if _english() or not isinstance(dates, list) or len(dates) != 2:
        return entry.get("period") or ""
    return period_text(*dates)


def _generated(entry: dict) -> str:
    if _english() or not entry.get("generated_at"):
        return entry.get("generated_at_text", entry.get("generated_at", ""))
    return stored_time_text(entry["generated_at"])


def index_page(groups: dict[str, list[tuple[str, dict]]], *, version: str,
               not_applicable: dict[str, dict] | None = None) -> str:
    """The index page: one section per report, one row per rendered output, then the
    reports the data cannot feed, each with the reason; in the active language."""
    now = time_text(dt.datetime.now().astimezone())
    sections = []
    def place(item):  # the reports' own order (scorecard first), then notebooks by title
        report, entries = item
        order = entries[0][1].get("order")
        return (0, order, "") if isinstance(order, int) else \
            (1, 0, entries[0][1].get("title", report))

    for report, entries in sorted(groups.items(), key=place):
        rows = []
        for _name, entry in entries:
            failure = entry.get("last_failure")
            at = failure.get("at", "") if failure else ""
            note = ('<div class="failed">' + _e(tr(
                "Last render failed {time}: {error}. This is the previous version.").format(
                    time=at if _english() else stored_time_text(at),
                    error=failure.get("error", ""))) + "</div>" if failure else "")
            rows.append(
                "<tr>"
                f'<td><a href="{_e(entry["html"])}">{_e(entry["html"])}</a>{note}</td>'
                f'<td>{_e(_period(entry) or "—")}</td>'
                f'<td>{_e(_parameters_text(entry.get("parameters", {})))}</td>'
                f'<td>{_e(entry.get("source") or "—")}</td>'
                f'<td><time datetime="{_e(entry.get("generated_at", ""))}">'
                f'{_e(_generated(entry))}</time></td>'
                "</tr>")
        # The title is the report's English title; its translation is in the catalogs.
        title = entries[0][1].get("title")
        title = tr(title) if title else report
        # (tr outside f-strings: the catalogs' extractor does not look inside them)
        head = "".join(f"<th>{_e(word)}</th>" for word in (
            tr("File"), tr("Period"), tr("Parameters"), tr("Data"), tr("Generated")))
        sections.append(
            f'<section id="{_e(report)}">\n<h2>{_e(title)}{_report_name(report)}</h2>\n'
            f'<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody>\n</table>\n</section>")
    if not_applicable:
        rows = "\n".join(
            f'<tr><td>{_e(name)}</td><td>{_e(tr(entry.get("reason", "")))}</td>'
            f'<td>{_e(entry.get("source") or "—")}</td></tr>'
            for name, entry in sorted(not_applicable.items()))
        heading = _e(tr("Not applicable to this data"))
        head = "".join(f"<th>{_e(word)}</th>" for word in (tr("Report"), tr("Why"), tr("Data")))
        sections.append(
            f'<section id="not-applicable">\n<h2>{heading}</h2>\n'
            f'<table>\n<thead><tr>{head}</tr></thead>\n'
            f'<tbody>\n{rows}\n</tbody>\n</table>\n</section>')
    body = "\n".join(sections) or "<p>" + tr("No reports rendered yet: run {command}.").format(
        command="<code>crmkit render</code>") + "</p>"
    heading = _e(tr("Reports"))
    footer = _e(tr("Index written {time} by crmkit {version}.").format(time=now,
                                                                        version=version))
    return f"""<!DOCTYPE html>
<html lang="{_e(html_lang())}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="crmkit {_e(version)}">
<title>{heading}</title>
<style>
body {{ margin: 0 auto; max-width: 64rem; padding: 2rem 1.5rem; color: #1f2933;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
  "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; font-size: 15px; line-height: 1.5; }}
body:lang(zh) {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "Noto Sans", sans-serif; }}
body:lang(zh-TW), body:lang(zh-HK) {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, "Noto Sans CJK TC", "Source Han Sans TC", "PingFang TC",
  "Microsoft JhengHei", "Noto Sans", sans-serif; }}
h1 {{ border-bottom: 3px solid #2f5d8a; padding-bottom: .5rem; }}
h2 {{ font-size: 1.25rem; margin-top: 2rem; }}
h2 .name {{ color: #52606d; font-size: .8rem; font-weight: normal; font-family: ui-monospace, Menlo, Consolas, monospace; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9rem; }}
th, td {{ text-align: left; padding: .35rem .6rem; vertical-align: top; }}
thead {{ border-bottom: 2px solid #1f2933; }}
tbody tr:nth-child(odd) {{ background: #f5f7fa; }}
a {{ color: #2f5d8a; }}
.failed {{ color: #9b2c2c; font-size: .85rem; }}
footer {{ margin-top: 3rem; color: #52606d; font-size: .8rem; }}
body:lang(zh) {{ line-height: 1.7; line-break: strict; word-break: normal; }}
:lang(zh) td {{ overflow-wrap: anywhere; }}
@media print {{ a {{ color: inherit; text-decoration: none; }} tr, h2 {{ break-inside: avoid; }}
  h2 {{ break-after: avoid; }} }}
</style>
</head>
<body>
<h1>{heading}</h1>
{body}
<footer>{footer}</footer>
</body>
</html>
"""
