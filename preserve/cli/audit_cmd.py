"""`preserve audit`: re-read stored files and prove they are unchanged (issue 4).

Exit codes for cron and systemd: 0 all good, 12 a fixity failure was found (damage, a missing
or unexpected file, a broken inventory or event chain), 13 storage unreachable or another
audit running.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import typer

from preserve.cli import render, units
from preserve.cli.context import AppState, state, utf8_text
from preserve.errors import ConfigurationError, ExitCode, StorageError
from preserve.names import escape_name


def audit(
    ctx: typer.Context,
    all_copies: bool = typer.Option(False, "--all", help="Check every copy, not only those due."),
    package_id: str = typer.Option(None, "--package", metavar="ID", callback=utf8_text,
                                   help="Check every copy of one package."),
    max_files: int = typer.Option(None, "--max-files", min=1, metavar="N",
                                  help="Stop taking new files after N."),
    max_bytes_text: str | None = typer.Option(
        None, "--max-bytes", metavar="SIZE",
        help="Stop taking new files before reading more than SIZE (bytes, or 500G, 1.5TiB)."),
    max_duration_text: str | None = typer.Option(
        None, "--max-duration", metavar="TIME",
        help="Stop taking new files after TIME (seconds, or 6h, 1h30m, 90m)."),
    max_rate_text: str | None = typer.Option(
        None, "--max-rate", metavar="RATE",
        help="Read at most RATE (200MB/s, 50MiB/s; a bare number is MB/s, 10^6 bytes per "
             "second); with --enqueue, per location for all workers together."),
    workers: int = typer.Option(None, "--workers", min=1, metavar="N",
                                help="Reading threads (default: setting audit.workers, else CPUs)."),
    report_file: Path = typer.Option(None, "--report", metavar="FILE.html",
                                     callback=lambda v: _report_path(v),
                                     help="Also write a self-contained HTML report."),
    location_name: str = typer.Option(None, "--location", metavar="NAME",
                                      help="Audit only this storage location (default: every "
                                           "configured location, `local` first)."),
    then_repair: bool = typer.Option(False, "--repair",
                                     help="Then restore damaged or missing copies from a copy "
                                          "in another location verified good now."),
    enqueue: bool = typer.Option(False, "--enqueue",
                                 help="Queue the due copies as audit jobs for `preserve "
                                      "worker` (by location, in batches) instead of reading "
                                      "them here (PostgreSQL catalogs)."),
) -> None:
    """Re-read stored files due for a fixity check; record, quarantine and report damage."""
    # Imported here, not at the top: every command's module is loaded at start-up (see
    # preserve/cli/__init__.py), and only this command needs these.
    from preserve.audit import Budgets, Selection, audit_lock, run_audit
    from preserve.storage import StorageRoot
    # The budgets in the units people write (500G, 6h, 200MB/s); a bad one is a usage error
    # (exit 2) before anything is opened.
    max_bytes = units.size(max_bytes_text, "--max-bytes")
    max_duration = units.duration(max_duration_text, "--max-duration")
    rate = units.rate(max_rate_text, "--max-rate")  # bytes per second
    if all_copies and package_id is not None:
        raise ConfigurationError(detail="--all and --package exclude each other; give one")
    app = state(ctx)
    home = app.home()
    settings = app.settings()
    if enqueue:
        refused = [flag for flag, given in (("--report", report_file), ("--repair", then_repair),
                                            ("--max-files", max_files),
                                            ("--max-bytes", max_bytes),
                                            ("--max-duration", max_duration),
                                            ("--workers", workers)) if given]
        if refused:
            raise typer.BadParameter(f"{', '.join(refused)} cannot be used with --enqueue: "
                                     "queued audits are read by workers (`preserve worker "
                                     "--max-rate`), and `preserve jobs` shows them",
                                     param_hint="--enqueue")
        _enqueue(app, all_copies, package_id, location_name, settings["audit.interval_days"],
                 rate)
        return
    selection = Selection(all=all_copies, package_id=package_id,
                          interval_days=settings["audit.interval_days"])
    budgets = Budgets(max_files=max_files, max_bytes=max_bytes, max_duration=max_duration)
    threads = workers or settings["audit.workers"] or os.cpu_count() or 1
    from preserve.audit.locations import audit_location
    from preserve.model import utc_now
    locations = app.locations()
    names = [loc.name for loc in locations]
    if location_name is not None and location_name not in names:
        raise typer.BadParameter(f"no location named {location_name!r}; configured: "
                                 + ", ".join(names), param_hint="--location")
    others = [loc for loc in locations[1:] if location_name in (None, loc.name)]
    report = None
    elsewhere = []
    repaired = None
    with audit_lock(home.path):
        storage = StorageRoot.open(home.ocfl)
        with app.open_catalog() as catalog:
            if location_name in (None, "local"):
                with render.progress_bar("auditing", not app.quiet) as progress:
                    report = run_audit(home, catalog, storage, selection=selection,
                                       budgets=budgets, workers=threads, max_rate=rate,
                                       progress=progress)
            now = utc_now()
            cutoff = now if selection.all or package_id else now - dt.timedelta(
                days=selection.interval_days)
            for location in others:
                elsewhere.append(audit_location(
                    catalog, location, home.quarantine, cutoff=cutoff, package_id=package_id,
                    max_files=max_files, max_bytes=max_bytes, max_duration=max_duration,
                    max_rate=rate))
            if then_repair:
                from preserve.repair import repair_copies
                # Inventories found wanting, here or at another location, are repaired too.
                wanting = {p.package_id for p in (report.problems if report else [])
                           if p.code in INVENTORY_CODES and p.package_id}
                wanting |= {p.package_id for r in elsewhere for p in r.problems
                            if p.code in INVENTORY_CODES and p.package_id}
                repaired = repair_copies(catalog, locations, home.quarantine,
                                         package_id=package_id, inventories_of=wanting)
    if report_file is not None and report is not None:
        from preserve.audit.html import html_report  # only a run with --report renders one
        try:
            report_file.write_text(html_report(report, str(home.path)), encoding="utf-8")
        except OSError as exc:
            # The audit itself ran and is recorded; only the report file could not be written.
            raise StorageError(detail=f"the audit ran (run {report.run_id}, recorded in the "
                               f"catalog) but its report could not be written to {report_file}: "
                               f"{exc.strerror}; choose a writable --report path") from None
    document = report.as_dict() if report is not None else {"failed": [], "ok": True}
    document["locations"] = [r.as_dict() for r in elsewhere]
    if repaired is not None:
        document["repair"] = repaired.as_dict()

    def text(d: dict[str, Any]) -> None:
        if report is not None:
            local_text(d)
        for r in d["locations"]:
            for p in r["problems"]:
                render.stderr.print(f"ERROR   {p['code']} {p['message']}", markup=False)
            stopped = f", stopped by {r['stopped_by']}" if r["stopped_by"] else ""
            if not (app.quiet and r["ok"]):
                render.line(f"location {r['location']}: {r['checked']} copies checked, "
                            f"{r['bytes']} bytes read, {r['passed']} passed, "
                            f"{len(r['problems'])} problem(s){stopped}")
        if "repair" in d:
            for x in d["repair"]["repaired"]:
                render.line(f"repaired {escape_name(x['package_id'])} "
                            f"{escape_name(x['content_path'])} at {x['location']} from "
                            f"{x['source']}")
            for u in d["repair"]["unrepaired"]:
                render.stderr.print(f"NOT repaired: {escape_name(u['package_id'])} "
                                    f"{escape_name(u['content_path'])} at {u['location']}: "
                                    f"{u['reason']}", markup=False)

    def local_text(d: dict[str, Any]) -> None:
        assert report is not None  # called only for the local root's report
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
    # A copy the repair restored is no problem left; anything else found is.
    repairable = ("AUD-E001", "AUD-E003", *INVENTORY_CODES)
    problems_left = bool(repaired and repaired.unrepaired)
    if report is not None and not report.ok:
        problems_left |= repaired is None or any(p.code not in repairable
                                                 for p in report.problems)
    for r in elsewhere:
        problems_left |= any(repaired is None or p.code not in repairable for p in r.problems)
    if problems_left:
        raise typer.Exit(ExitCode.FIXITY_FAILURE)


def _enqueue(app: AppState, all_copies: bool, package_id: str | None, location_name: str | None,
             interval_days: float, rate: float | None) -> None:
    """Queue the due copies of every location (or one) as audit jobs (issue 14); `rate`
    is each location's budget shared by all the workers that take the jobs."""
    from preserve.jobs.queue import enqueue_audits
    from preserve.jobs.work import due_audits
    from preserve.model import utc_now
    conninfo = app.queue_conninfo("audit --enqueue")
    names = [loc.name for loc in app.locations()]
    if location_name is not None and location_name not in names:
        raise typer.BadParameter(f"no location named {location_name!r}; configured: "
                                 + ", ".join(names), param_hint="--location")
    now = utc_now()
    cutoff = now if all_copies or package_id else now - dt.timedelta(days=interval_days)
    with app.open_catalog() as catalog:
        if package_id is not None:
            catalog.get_package(package_id)  # PackageNotFound before anything is queued
        due, copies = due_audits(catalog, [n for n in names if location_name in (None, n)],
                                 cutoff, package_id)
    result = enqueue_audits(conninfo, due, cutoff, rate)
    document = result.as_dict() | {"cutoff": cutoff.isoformat(), "copies": copies,
                                   "packages": {name: len(p) for name, p in due.items()}}
    render.emit(document, app.json, lambda d: render.line(
        f"queued {len(d['created'])} audit job(s) for {d['copies']} due copies at "
        f"{len(d['packages'])} location(s)"
        + (f"; {d['already_queued']} batch(es) were already queued" if d["already_queued"]
           else "") + "; `preserve jobs` follows them"))


#: An inventory that does not verify (E005) or is not the one pinned at ingest (E014).
INVENTORY_CODES = ("AUD-E005", "AUD-E014")


def _report_path(value: Path | None) -> Path | None:
    """Refuse a --report path that cannot be written before the audit runs, not after."""
    if value is None:
        return None
    if value.is_dir():
        raise typer.BadParameter(f"{value} is a directory; give a file name such as "
                                 f"{value / 'audit.html'}", param_hint="--report")
    if not value.absolute().parent.is_dir():
        raise typer.BadParameter(f"the directory {value.absolute().parent} does not exist; "
                                 "create it or choose another place", param_hint="--report")
    return value
