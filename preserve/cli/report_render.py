"""Rendering the repository report (`preserve report`) as text, CSV or one HTML page.

The HTML page is self-contained (no scripts, styles, fonts or images from elsewhere) and every
value is escaped with `html.escape` after `escape_name`, so a hostile PUID, location or name
can neither inject markup nor hide text with bidi or control characters.
"""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

from preserve.names import escape_name

#: Section key -> (title, columns).
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "holdings_by_year": ("Holdings by year", ("year", "packages", "versions", "files", "bytes")),
    "holdings_by_depositor": ("Holdings by depositor and year", (
        "depositor", "year", "packages", "versions", "files", "bytes")),
    "formats": ("Formats (PRONOM)", ("puid", "name", "version", "files", "bytes")),
    "storage": ("Storage per location", ("location", "copies", "bytes", "ok", "damaged",
                                         "missing")),
    "audit": ("Audit coverage", ("copies", "checked_within_interval", "overdue", "damaged",
                                 "missing", "interval_days")),
    "deposits_by_month": ("Deposits per month", ("month", "deposits", "accepted", "rejected",
                                                 "failed")),
}


def _rows(report: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = report[key]
    return [value] if isinstance(value, dict) else list(value)


def _cell(value: Any) -> str:
    return "(unknown)" if value is None else escape_name(str(value))


def as_text(report: dict[str, Any]) -> str:
    out: list[str] = []
    for key, (title, columns) in SECTIONS.items():
        rows = [[_cell(r[c]) for c in columns] for r in _rows(report, key)]
        widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
        out.append(title)
        out.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        out.extend("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows)
        if not rows:
            out.append("(none)")
        out.append("")
    return "\n".join(out)


def as_csv(report: dict[str, Any]) -> str:
    """One CSV: a `section` column, then that section's columns (a header row per section)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for key, (_, columns) in SECTIONS.items():
        writer.writerow(["section", *columns])
        for row in _rows(report, key):
            writer.writerow([key, *("" if row[c] is None else row[c] for c in columns)])
    return buffer.getvalue()


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eee; }
.bad { color: #a00; font-weight: bold; }
"""


def as_html(report: dict[str, Any], repository: str, generated: str) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Repository report: {escape(escape_name(repository))}</title>",
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>Repository report: {escape(escape_name(repository))}</h1>",
             f"<p>Generated {escape(generated)}.</p>"]
    for key, (title, columns) in SECTIONS.items():
        parts.append(f"<h2>{escape(title)}</h2><table><tr>"
                     + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr>")
        for row in _rows(report, key):
            cells = []
            for c in columns:
                value = row[c]
                numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
                bad = c in ("damaged", "missing", "overdue", "rejected", "failed") and value
                klass = " ".join(k for k, on in (("n", numeric), ("bad", bad)) if on)
                attr = f' class="{klass}"' if klass else ""
                cells.append(f"<td{attr}>{escape(_cell(value))}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
