"""The audit report as one self-contained HTML page an archivist can open or mail.

No scripts, no external styles, fonts or images: the page is complete on its own. Every value
is escaped with `html.escape`; file names are first made visible with `escape_name`, so a
bidi or control character in a name can neither hide nor reorder what the page says.
"""

from __future__ import annotations

from html import escape

from preserve.audit.report import AuditReport
from preserve.names import escape_name

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
.failed { color: #a00; font-weight: bold; }
.ok { color: #070; font-weight: bold; }
code { font-family: monospace; unicode-bidi: isolate; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _name(value: str) -> str:
    return f"<code>{_e(escape_name(value))}</code>" if value else ""


def html_report(report: AuditReport, repository: str = "") -> str:
    """The page for `report` (UTF-8 text)."""
    d = report.as_dict()
    status = d["status"]
    rows = [
        ("Run", d["run_id"]), ("Repository", repository), ("Started", d["started"]),
        ("Finished", d["finished"]), ("Copies checked", d["checked"]),
        ("Bytes read", f"{d['bytes']:,}"), ("Passed", d["passed"]),
        ("Failed", report.failed), ("Problems", len(report.problems)),
        ("Event log chain", "intact" if report.chain.ok else report.chain.problem),
        ("Stopped by budget", d["stopped_by"] or "no"),
    ]
    out = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>preserve audit run {_e(d['run_id'])}: {_e(status)}</title>",
        f"<style>{_STYLE}</style>", "</head>", "<body>",
        f"<h1>Fixity audit run {_e(d['run_id'])}: "
        f"<span class=\"{'ok' if report.ok else 'failed'}\">{_e(status)}</span></h1>",
        "<table>",
        *(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows),
        "</table>",
        "<h2>Problems</h2>",
    ]
    if report.problems:
        out += ["<table>", "<tr><th>Code</th><th>Problem</th><th>Package</th><th>Path</th>"
                "<th>Content path</th><th>Kept in quarantine</th><th>Message</th></tr>"]
        for p in report.problems:
            out.append(
                f"<tr><td>{_e(p.code)}</td><td>{_e(p.problem)}</td>"
                f"<td>{_name(p.package_id or '')}</td><td>{_name(p.path)}</td>"
                f"<td>{_name(p.content_path)}</td><td>{_name(p.quarantine)}</td>"
                f"<td>{_e(escape_name(p.message))}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>None: every file checked matches the catalog and the OCFL inventory.</p>")
    out += ["<h2>Packages</h2>"]
    if report.packages:
        out += ["<table>", "<tr><th>Package</th><th>Status</th><th>Checked</th><th>Passed</th>"
                "<th>Failed</th><th>Problems</th></tr>"]
        for s in report.packages:
            out.append(
                f"<tr><td>{_name(s.package_id)}</td>"
                f"<td class=\"{_e(s.status)}\">{_e(s.status)}</td><td>{s.checked}</td>"
                f"<td>{s.passed}</td><td>{s.failed}</td><td>{s.problems}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>No package was due.</p>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
