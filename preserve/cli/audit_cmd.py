"""`preserve audit`: re-read stored files and prove they are unchanged (issue 4).

Exit codes for cron and systemd: 0 all good, 12 a fixity failure was found (damage, a missing
or unexpected file, a broken inventory or event chain), 13 storage unreachable or another
audit running.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from preserve.cli import render
from preserve.cli.context import state
from preserve.errors import ConfigurationError, ExitCode
from preserve.names import escape_name


def audit(
    ctx: typer.Context,
    all_copies: bool = typer.Option(False, "--all", help="Check every copy, not only those due."),
    package_id: str = typer.Option(None, "--package", metavar="ID", help="Check every copy of one package."),
    max_files: int = typer.Option(None, "--max-files", min=1, metavar="N",
                                  help="Stop taking new files after N."),
    max_bytes: int = typer.Option(None, "--max-bytes", min=1, metavar="N",
                                  help="Stop taking new files before reading more than N bytes."),
    max_duration: float = typer.Option(None, "--max-duration", min=0.0, metavar="SECONDS",
                                       help="Stop taking new files after this many seconds."),
    max_rate: float = typer.Option(None, "--max-rate", min=0.001, metavar="MB/s",
                                   help="Read at most this many megabytes (10^6 bytes) per second."),
    workers: int = typer.Option(None, "--workers", min=1, metavar="N",
                                help="Reading threads (default: setting audit.workers, else CPUs)."),
    report_file: Path = typer.Option(None, "--report", metavar="FILE.html",
                                     help="Also write a self-contained HTML report."),
) -> None:
    """Re-read stored files due for a fixity check; record, quarantine and report damage."""
    # Imported here, not at the top: every command's module is loaded at start-up (see
    # preserve/cli/__init__.py), and only this command needs these.
    from preserve.audit import Budgets, Selection, audit_lock, html_report, run_audit
    from preserve.storage import StorageRoot
    if all_copies and package_id is not None:
        raise ConfigurationError(detail="--all and --package exclude each other; give one")
    app = state(ctx)
    home = app.home()
    settings = app.settings()
    selection = Selection(all=all_copies, package_id=package_id,
                          interval_days=settings["audit.interval_days"])
    budgets = Budgets(max_files=max_files, max_bytes=max_bytes, max_duration=max_duration)
    threads = workers or settings["audit.workers"] or os.cpu_count() or 1
    with audit_lock(home.path):
        storage = StorageRoot.open(home.ocfl)
        with app.open_catalog() as catalog:
            with render.progress_bar("auditing", not app.quiet) as progress:
                report = run_audit(home, catalog, storage, selection=selection, budgets=budgets,
                                   workers=threads, max_rate=max_rate * 1e6 if max_rate else None,
                                   progress=progress)
    if report_file is not None:
        report_file.write_text(html_report(report, str(home.path)), encoding="utf-8")
    document = report.as_dict()

    def text(d: dict) -> None:
        render.findings_text(report.findings())
        stopped = f", stopped by {d['stopped_by']}" if d["stopped_by"] else ""
        render.line(f"audit run {d['run_id']} {d['status']}: {d['checked']} copies checked, "
                    f"{d['bytes']} bytes read, {d['passed']} passed, "
                    f"{len(report.problems)} problem(s); event chain "
                    f"{'intact' if d['chain_ok'] else 'BROKEN'}{stopped}")
        for p in d["failed"]:
            render.line(f"  {p['problem']}: {escape_name(p['package_id'] or '')} "
                        f"{escape_name(p['path'])}")
        for o in d["open_problems"]:
            render.line(f"  still {o['status']} since {o['since']}: "
                        f"{escape_name(o['package_id'])} {escape_name(o['content_path'])}")
        if d["chain_head"]:
            # Keep this line elsewhere: a later log must still contain this head.
            render.line(f"event log head after this run: {d['chain_head']['events']} events, "
                        f"last hash {d['chain_head']['hash']}")

    render.emit(document, app.json, text)
    if not report.ok:
        raise typer.Exit(ExitCode.FIXITY_FAILURE)
