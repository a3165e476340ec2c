"""The audit report as one self-contained HTML page an archivist can open or mail.

No scripts, no external styles, fonts or images: the page is complete on its own. Every value
is escaped with `html.escape`; file names are first made visible with `escape_name`, so a
bidi or control character in a name can neither hide nor reorder what the page says.

Issue 11 item 6: the page fits a 1280 px window. What is still wrong comes first (open
problems), then what to do next, then the run's numbers (local times, duration, how much of
the collection is held and overdue); long digests and quarantine paths are shortened, the
full value one click away (`<details>`) or on hover (`title`). A test measures the page in
headless Chromium.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from preserve.audit.report import AuditReport
from preserve.names import escape_name

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 0.8em 0; width: 100%; table-layout: fixed; }
table.facts { width: auto; table-layout: auto; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.5em; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #eee; }
.failed { color: #a00; font-weight: bold; }
.ok { color: #070; font-weight: bold; }
.next { background: #fff4e5; border-left: 4px solid #e69500; padding: 0.5em 1em; }
code { font-family: monospace; unicode-bidi: isolate; overflow-wrap: anywhere; }
details summary { cursor: pointer; color: #555; }
col.code { width: 7em; } col.pkg { width: 16em; } col.path { width: 22em; }
col.status { width: 7em; } col.num { width: 6em; } col.since { width: 12em; }
"""

_DIGEST = re.compile(r"\b[0-9a-f]{40,}\b")


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _name(value: str) -> str:
    return f"<code>{_e(escape_name(value))}</code>" if value else ""


def _shorten(text: str) -> str:
    """Escaped `text` with every long hex digest cut to 12 characters, full value on hover."""
    out, last = [], 0
    for match in _DIGEST.finditer(text):
        out.append(_e(text[last:match.start()]))
        digest = match.group(0)
        out.append(f'<code title="{digest}">{digest[:12]}…</code>')
        last = match.end()
    out.append(_e(text[last:]))
    return "".join(out)


def _local(value: dt.datetime) -> str:
    local = value.astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S %Z} ({value.astimezone(dt.UTC):%H:%M:%S} UTC)"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours} h {minutes} min {seconds} s" if hours else f"{minutes} min {seconds} s"


def _package(pid: str | None, titles: dict[str, str]) -> str:
    if not pid:
        return ""
    title = titles.get(pid, "")
    return _name(pid) + (f"<br>{_e(escape_name(title))}" if title else "")


def _next_steps(report: AuditReport) -> list[str]:
    steps = []
    codes = {p.code for p in report.problems}
    if report.open_problems or codes & {"AUD-E001", "AUD-E004", "AUD-E006", "AUD-E013", "AUD-E018"}:
        steps.append("Restore each damaged or missing file from a good copy (another location or "
                     "a backup); the next audit re-checks it and records that it is healthy again. "
                     "Evidence of the damage is kept in the quarantine folder named per row.")
    if not report.chain.ok or "AUD-E015" in codes:
        steps.append("The event log was changed: restore the catalog from a backup, compare its "
                     "head with the one in earlier reports, and find out who had database access.")
    if codes & {"AUD-E008", "AUD-E010", "AUD-E016", "AUD-E017", "AUD-E012"}:
        steps.append("Files nobody recorded are in storage: find out where they came from "
                     "(`preserve check` explains each); nothing was removed.")
    if codes & {"AUD-E002", "AUD-E003", "AUD-E005", "AUD-E014"}:
        steps.append("Records disagree with stored content: repair the inventory or catalog "
                     "from a good copy; `preserve check` helps.")
    if any(p.code == "AUD-W002" for p in report.problems):
        steps.append("Fix this machine's clock (NTP), then audit again.")
    if report.coverage[1]:
        steps.append(f"{report.coverage[1]:,} copies are overdue: run `preserve audit` again "
                     "(with a larger budget) until none are.")
    return steps or ["Nothing: every file checked matches every record of it."]


def html_report(report: AuditReport, repository: str = "") -> str:
    """The page for `report` (UTF-8 text)."""
    d = report.as_dict()
    status = d["status"]
    titles = report.titles or {}
    held, overdue = report.coverage
    rows = [
        ("Repository", repository), ("Run", d["run_id"]),
        ("Started", _local(report.started)), ("Finished", _local(report.finished)),
        ("Duration", _duration(d["duration_seconds"])),
        ("Copies checked", f"{d['checked']:,} of {held:,} held"
                           + (f" ({100 * d['checked'] / held:.1f} %)" if held else "")),
        ("Overdue after this run", f"{overdue:,} (not checked in {report.interval_days:g} days)"),
        ("Bytes read", f"{d['bytes']:,}"), ("Passed", d["passed"]), ("Failed", report.failed),
        ("Stopped by budget", d["stopped_by"] or "no"),
        ("Event log chain", "intact" if report.chain.ok else report.chain.problem),
    ]
    out = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>preserve audit of {_e(repository)}, run {_e(d['run_id'])}: {_e(status)}</title>",
        f"<style>{_STYLE}</style>", "</head>", "<body>",
        f"<h1>Fixity audit of {_name(repository)}: "
        f"<span class=\"{'ok' if report.ok else 'failed'}\">{_e(status)}</span></h1>",
        "<h2 id=\"open\">Open problems</h2>",
    ]
    if report.open_problems:
        out += ["<table>", '<colgroup><col class="status"><col class="since"><col class="pkg">'
                "<col><col></colgroup>",
                "<tr><th>Status</th><th>Found</th><th>Package</th><th>Files</th>"
                "<th>Stored as</th></tr>"]
        for o in report.open_problems:
            out.append(f"<tr><td class=\"failed\">{_e(o.status)}</td><td>{_e(_local(o.since))}</td>"
                       f"<td>{_package(o.package_id, titles)}</td>"
                       f"<td>{'<br>'.join(_name(p) for p in o.paths)}</td>"
                       f"<td>{_name(o.content_path)} at {_e(o.location)}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>None: no copy is known to be damaged or missing.</p>")
    out += ['<div class="next"><h2>What to do next</h2><ul>',
            *(f"<li>{_e(step)}</li>" for step in _next_steps(report)), "</ul></div>",
            "<h2>This run</h2>", '<table class="facts">',
            *(f"<tr><th>{_e(k)}</th><td>{_shorten(str(v))}</td></tr>" for k, v in rows)]
    head = report.head or report.chain.head
    if head is not None:
        out.append(f"<tr><th>Event log head</th><td>{head.events:,} events, last "
                   f"hash <code>{_e(head.hash)}</code> (after this run; keep it elsewhere: a "
                   "later log must still contain it)</td></tr>")
    out += ["</table>", "<h2>Problems found by this run</h2>"]
    if report.problems:
        out += ["<table>", '<colgroup><col class="code"><col class="pkg"><col class="path">'
                "<col></colgroup>",
                "<tr><th>Code</th><th>Package</th><th>File</th><th>Message</th></tr>"]
        for p in report.problems:
            kept = (f"<details><summary>kept in quarantine</summary>{_name(p.quarantine)}"
                    "</details>" if p.quarantine else "")
            stored = (f"<details><summary>stored as</summary>{_name(p.content_path)}</details>"
                      if p.content_path and p.content_path != p.path else "")
            out.append(
                f"<tr><td>{_e(p.code)}<br>{_e(p.problem)}</td>"
                f"<td>{_package(p.package_id, titles)}</td><td>{_name(p.path)}{stored}</td>"
                f"<td>{_shorten(escape_name(p.message))}{kept}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>None: every file checked matches the catalog, the OCFL inventory and the "
                   "version's bag manifest.</p>")
    out += ["<h2>Packages</h2>"]
    if report.packages:
        out += ["<table>", '<colgroup><col><col class="status"><col class="num"><col class="num">'
                '<col class="num"><col class="num"></colgroup>',
                "<tr><th>Package</th><th>Status</th><th>Checked</th><th>Passed</th>"
                "<th>Failed</th><th>Problems</th></tr>"]
        for s in report.packages:
            out.append(
                f"<tr><td>{_package(s.package_id, titles)}</td>"
                f"<td class=\"{_e(s.status)}\">{_e(s.status)}</td><td>{s.checked}</td>"
                f"<td>{s.passed}</td><td>{s.failed}</td><td>{s.problems}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>No package was due.</p>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
