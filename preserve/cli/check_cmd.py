"""`preserve check [--repair]`: reconcile staging, storage and catalog (issue 6, item 3).

Without `--repair` it only reports: exit 0 when everything agrees, 12 when something was
found. `--repair` lists what it will do and asks first (`--yes` skips the question; without a
terminal to ask on it refuses, exit 2, rather than wait for an answer that never comes). After
a repair, exit 0 if nothing is left for the operator, 12 if something is (a missing object to
restore, an object quarantined, a repair that failed).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from preserve.cli import render
from preserve.cli.context import AppState, state
from preserve.errors import ExitCode, PreserveError
from preserve.home import DEFAULT_LOCATION
from preserve.model import utc_now
from preserve.names import escape_name

if TYPE_CHECKING:
    from preserve.catalog import Catalog


class ConfirmationNeeded(PreserveError):
    """`preserve check --repair` changes storage and catalog and asks first, but there is no
    terminal to ask on; run it interactively, or add --yes to repair without asking."""

    exit_code = ExitCode.USAGE


def check(
    ctx: typer.Context,
    do_repair: bool = typer.Option(False, "--repair",
                                   help="Act on what is found (asks first), logging an event "
                                        "per action."),
    yes: bool = typer.Option(False, "--yes", "-y", help="With --repair: do not ask."),
    min_age: float = typer.Option(24.0, "--min-age", min=0.0, metavar="HOURS",
                                  help="Leave alone staging directories, objects and deposits "
                                       "younger than this: an ingest may be running."),
) -> None:
    """Find (and with --repair fix) orphaned staging directories, objects without catalog rows,
    packages whose objects are missing, and deposits stuck in progress."""
    # Imported here, not at the top: every command's module is loaded at start-up (see
    # preserve/cli/__init__.py), and only this command needs these.
    from preserve.check import CheckReport, check_lock, find_inconsistencies, repair
    from preserve.storage import StorageRoot
    app = state(ctx)
    home = app.home()
    age = dt.timedelta(hours=min_age)
    storage = StorageRoot.open(home.ocfl)
    with app.open_catalog() as catalog:
        plan = find_inconsistencies(home.staging, catalog, storage, location=DEFAULT_LOCATION,
                                    min_age=age, now=utc_now())
        report = CheckReport(plan=plan)
        if do_repair and plan.actionable:
            if not yes:
                if not sys.stdin.isatty():
                    raise ConfirmationNeeded()
                render.findings_text(i.finding for i in plan.found)
                for item in plan.actionable:
                    render.stderr.print(f"  {item.plan.value}: {escape_name(item.target)}",
                                        markup=False)
                confirmed = typer.confirm(f"Repair {len(plan.actionable)} item(s) as listed?",
                                          default=False, err=True)
            else:
                confirmed = True
            if confirmed:
                with check_lock(home.path):
                    report = repair(plan, home_path=home.path, staging=home.staging,
                                    quarantine=home.quarantine, catalog=catalog, storage=storage,
                                    location=DEFAULT_LOCATION, min_age=age,
                                    schemas=app.schemas(),
                                    finish_deaccession=_finisher(app, catalog))
            else:
                render.stderr.print("nothing was changed", markup=False)
    document = report.as_dict()

    def text(d: dict[str, Any]) -> None:
        render.findings_text(d["findings"])
        for a in d["actions"]:
            render.line(f"{a['action']}: {escape_name(a['target'])}"
                        + (f" ({a['detail']})" if a["detail"] else ""))
        if d["consistent"]:
            render.line("storage, catalog and staging agree")
        else:
            done = " and repaired" if d["repaired"] else ""
            left = "; some need the operator" if d["needs_attention"] and d["repaired"] else ""
            render.line(f"{len(d['found'])} inconsistenc{'y' if len(d['found']) == 1 else 'ies'}"
                        f" found{done}{left}")

    render.emit(document, app.json, text)
    if report.needs_attention:
        raise typer.Exit(ExitCode.FIXITY_FAILURE)


def _finisher(app: AppState, catalog: Catalog) -> Callable[[int], object]:
    """Completes an approved deaccession left unfinished (CHK-E016) at every location."""
    from preserve.deaccession import complete

    def finish(request_id: int) -> object:
        return complete(catalog, request_id, app.locations())
    return finish
