"""The report folder's manifest (``manifest.json``) and index page (``index.html``).

The manifest records, per output file, what was rendered and from what: the report, its
title, period and (redacted) parameters, when, and the cache key that lets the next run
skip it. The index page is built from the manifest alone, grouped by report, so a batch
over regions shows as one report with one line per region.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from crmkit.report.files import write_atomic

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
        return "defaults"
    return "; ".join(f"{k} = {v}" for k, v in listed.items())


def index_page(groups: dict[str, list[tuple[str, dict]]], *, version: str,
               not_applicable: dict[str, dict] | None = None) -> str:
    """The index page: one section per report, one row per rendered output, then the
    reports the data cannot feed, each with the reason."""
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
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
            note = (f'<div class="failed">Last render failed {_e(failure.get("at", ""))}: '
                    f'{_e(failure.get("error", ""))}. This is the previous version.</div>'
                    if failure else "")
            rows.append(
                "<tr>"
                f'<td><a href="{_e(entry["html"])}">{_e(entry["html"])}</a>{note}</td>'
                f'<td>{_e(entry.get("period") or "—")}</td>'
                f'<td>{_e(_parameters_text(entry.get("parameters", {})))}</td>'
                f'<td>{_e(entry.get("source") or "—")}</td>'
                f'<td><time datetime="{_e(entry.get("generated_at", ""))}">'
                f'{_e(entry.get("generated_at_text", entry.get("generated_at", "")))}</time></td>'
                "</tr>")
        title = entries[0][1].get("title") or report
        sections.append(
            f'<section id="{_e(report)}">\n<h2>{_e(title)} <span class="name">{_e(report)}</span></h2>\n'
            '<table>\n<thead><tr><th>File</th><th>Period</th><th>Parameters</th>'
            '<th>Data</th><th>Generated</th></tr></thead>\n<tbody>\n' + "\n".join(rows) + "\n</tbody>\n</table>\n</section>")
    if not_applicable:
        rows = "\n".join(
            f'<tr><td>{_e(name)}</td><td>{_e(entry.get("reason", ""))}</td>'
            f'<td>{_e(entry.get("source") or "—")}</td></tr>'
            for name, entry in sorted(not_applicable.items()))
        sections.append(
            '<section id="not-applicable">\n<h2>Not applicable to this data</h2>\n'
            '<table>\n<thead><tr><th>Report</th><th>Why</th><th>Data</th></tr></thead>\n'
            f'<tbody>\n{rows}\n</tbody>\n</table>\n</section>')
    body = "\n".join(sections) or "<p>No reports rendered yet: run <code>crmkit render</code>.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="crmkit {_e(version)}">
<title>Reports</title>
<style>
body {{ margin: 0 auto; max-width: 64rem; padding: 2rem 1.5rem; color: #1f2933;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
  "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; font-size: 15px; line-height: 1.5; }}
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
@media print {{ a {{ color: inherit; text-decoration: none; }} tr {{ break-inside: avoid; }} }}
</style>
</head>
<body>
<h1>Reports</h1>
{body}
<footer>Index written {_e(now)} by crmkit {_e(version)}.</footer>
</body>
</html>
"""
