"""`preserve deaccession request|approve|reject|list` (issue 16 §2, docs/deaccession.md).

The person acting is the operating-system user (getpass.getuser()): the library takes it as
an argument and never reads the environment. `approve` removes every copy of the package from
every configured location, so it asks first on a terminal and needs --yes otherwise.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import state, utf8_text
from preserve.errors import ExitCode, PreserveError
from preserve.names import escape_name

deaccession_app = typer.Typer(help="Remove a package for good, with a second person's "
                                   "approval; its catalog rows, events and METS stay.")


class ApprovalNeedsConfirmation(PreserveError):
    """`preserve deaccession approve` removes every copy of the package and asks first, but
    there is no terminal to ask on; add --yes to approve without asking."""

    exit_code = ExitCode.USAGE


def _person() -> str:
    return getpass.getuser()


def _text(d: dict[str, Any]) -> None:
    render.line(f"request {d['id']}: {escape_name(d['package_id'])} {d['state']} "
                f"(requested by {d['requested_by']} at {d['requested_at']}: {d['reason']})"
                + (f"; {'rejected' if d['state'] == 'rejected' else 'approved'} by "
                   f"{d['decided_by']} at {d['decided_at']}" if d["decided_by"] else "")
                + (f" ({d['note']})" if d["note"] else "")
                + (f"; completed at {d['completed_at']}" if d["completed_at"] else ""))


@deaccession_app.command("request")
def request(
    ctx: typer.Context,
    package: str = typer.Argument(..., metavar="ID", callback=utf8_text),
    reason: str = typer.Option(..., "--reason", metavar="TEXT", callback=utf8_text,
                               help="Why the package is to be removed (kept in its tombstone)."),
    version: int = typer.Option(None, "--version", metavar="N",
                                help="Refused: OCFL versions are immutable; only the whole "
                                     "package can be deaccessioned."),
) -> None:
    """Ask for a package to be deaccessioned; another person approves or rejects."""
    from preserve.deaccession import request as make_request
    app = state(ctx)
    with app.open_catalog() as catalog:
        view = make_request(catalog, package, reason=reason, person=_person(), version=version)
    render.emit(view.as_dict(), app.json, _text)


@deaccession_app.command("approve")
def approve(
    ctx: typer.Context,
    request_id: int = typer.Argument(..., metavar="REQUEST"),
    note: str = typer.Option(None, "--note", metavar="TEXT", callback=utf8_text,
                             help="Why it was approved (kept with the decision)."),
    yes: bool = typer.Option(False, "--yes", help="Approve without asking."),
) -> None:
    """Approve a request made by someone else: every copy of the package is removed."""
    from preserve.deaccession import approve as approve_request
    from preserve.storage.staging import COMMIT_LOCK
    app = state(ctx)
    home = app.home()
    with app.open_catalog() as catalog:
        view = catalog.deaccession_request(request_id)
        if not yes and view is not None:
            if not sys.stdin.isatty():
                raise ApprovalNeedsConfirmation()
            if not typer.confirm(f"Remove every copy of {escape_name(view.package_id)} from "
                                 "every location?", default=False):
                render.stderr.print("nothing was changed", markup=False)
                raise typer.Exit(ExitCode.USAGE)
        done = approve_request(catalog, request_id, app.locations(), person=_person(),
                               note=note, lock=home.path / COMMIT_LOCK)
    render.emit(done.as_dict(), app.json, _text)


@deaccession_app.command("reject")
def reject(
    ctx: typer.Context,
    request_id: int = typer.Argument(..., metavar="REQUEST"),
    note: str = typer.Option(..., "--note", metavar="TEXT", callback=utf8_text,
                             help="Why it was rejected."),
) -> None:
    """Reject a request: the package stays as it is."""
    from preserve.deaccession import reject as reject_request
    app = state(ctx)
    with app.open_catalog() as catalog:
        view = reject_request(catalog, request_id, person=_person(), note=note)
    render.emit(view.as_dict(), app.json, _text)


@deaccession_app.command("list")
def list_requests(ctx: typer.Context) -> None:
    """Every deaccession request and its state."""
    app = state(ctx)
    with app.open_catalog() as catalog:
        views = catalog.deaccession_requests()
    document = {"requests": [v.as_dict() for v in views]}

    def text(d: dict[str, Any]) -> None:
        if not d["requests"]:
            render.line("no deaccession requests")
        for r in d["requests"]:
            _text(r)
    render.emit(document, app.json, text)
