"""`preserve repair [--package ID] [--location NAME] [--yes]`: restore damaged or missing
copies from a copy in another location that verifies at repair time (issue 13, item 5).
Lists what it will do and asks first (`--yes` skips; without a terminal it refuses, exit 2).
Exit 0 when everything was repaired, 12 when something could not be.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import AppState, state, utf8_text
from preserve.errors import ExitCode, PreserveError
from preserve.names import escape_name


class RepairConfirmationNeeded(PreserveError):
    """`preserve repair` overwrites damaged copies and asks first, but there is no terminal to
    ask on; run it interactively, or add --yes to repair without asking."""

    exit_code = ExitCode.USAGE


def repair(
    ctx: typer.Context,
    package: str = typer.Option(None, "--package", metavar="ID", callback=utf8_text,
                                help="Only this package."),
    location: str = typer.Option(None, "--location", metavar="NAME",
                                 help="Only copies at this location."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    enqueue: bool = typer.Option(False, "--enqueue",
                                 help="Queue one repair job per package and location for "
                                      "`preserve worker` (PostgreSQL catalogs; implies --yes)."),
) -> None:
    """Restore damaged or missing copies from another location's verified copy."""
    from preserve.repair import repair_copies
    from preserve.repair.repair import planned
    app = state(ctx)
    if enqueue:
        _enqueue(app, package, location)
        return
    home = app.home()
    locations = app.locations()
    with app.open_catalog() as catalog:
        if package:
            catalog.get_package(package)
        plan = planned(catalog, package_id=package, location=location)
        if plan and not yes:
            if not sys.stdin.isatty():
                raise RepairConfirmationNeeded()
            for group in plan:
                render.stderr.print(f"  {group[0].status} at {group[0].location}: "
                                    f"{escape_name(group[0].package_id)} "
                                    f"{escape_name(group[0].content_path)}", markup=False)
            if not typer.confirm(f"Repair {len(plan)} cop{'y' if len(plan) == 1 else 'ies'}?",
                                 default=False, err=True):
                render.stderr.print("nothing was changed", markup=False)
                raise typer.Exit(ExitCode.FIXITY_FAILURE)
        report = repair_copies(catalog, locations, home.quarantine, package_id=package,
                               location=location)
    document = report.as_dict()

    def text(d: dict[str, Any]) -> None:
        for r in d["repaired"]:
            render.line(f"repaired {escape_name(r['package_id'])} {escape_name(r['content_path'])}"
                        f" at {r['location']} ({r['was']}) from {r['source']}"
                        + (f"; damaged bytes kept in {r['quarantined']}" if r["quarantined"]
                           else ""))
        for u in d["unrepaired"]:
            render.stderr.print(f"NOT repaired: {escape_name(u['package_id'])} "
                                f"{escape_name(u['content_path'])} at {u['location']}: "
                                f"{u['reason']}. A good copy has {u['size']} bytes and sha512 "
                                f"{u['sha512']}", markup=False)
        if not d["repaired"] and not d["unrepaired"] and not app.quiet:
            render.line("no damaged or missing copies are known")

    render.emit(document, app.json, text)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _enqueue(app: AppState, package: str | None, location: str | None) -> None:
    from preserve.jobs.queue import enqueue_repairs
    from preserve.repair.repair import planned
    conninfo = app.queue_conninfo("repair --enqueue")
    with app.open_catalog() as catalog:
        if package:
            catalog.get_package(package)
        plan = planned(catalog, package_id=package, location=location)
    result = enqueue_repairs(conninfo, [(g[0].package_id, g[0].location) for g in plan])
    render.emit(result.as_dict() | {"copies": len(plan)}, app.json, lambda d: render.line(
        f"queued {len(d['created'])} repair job(s) for {d['copies']} damaged or missing "
        "cop" + ("y" if d["copies"] == 1 else "ies")
        + (f"; {d['already_queued']} were already queued" if d["already_queued"] else "")))
