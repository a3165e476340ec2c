"""`preserve log [ID]`: the PREMIS event log, oldest first; `preserve log verify`: its hash chain.

`log` is a group that runs without a subcommand, so `preserve log` and `preserve log ID` keep
working next to `preserve log verify`. A click group would take its first word as a command
name, so `_LogGroup` lifts a first word that is no subcommand out as the package id
(`preserve log -- verify` shows the events of a package called `verify`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
import typer
from typer.core import TyperGroup

from preserve.cli import render
from preserve.cli.context import state
from preserve.errors import ExitCode
from preserve.names import escape_name

_PACKAGE = "preserve.log.package_id"


class _LogGroup(TyperGroup):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] == "--" and len(args) > 1:
            ctx.meta[_PACKAGE] = args[1]
            args = args[2:]
        elif args and not args[0].startswith("-") and args[0] not in self.commands:
            ctx.meta[_PACKAGE] = args[0]
            args = args[1:]
        return super().parse_args(ctx, args)


log_app = typer.Typer(cls=_LogGroup, invoke_without_command=True, subcommand_metavar="[ID | verify]",
                      help="Show events (all, or one package's: `log ID`); `log verify` checks "
                           "the hash chain.")


@log_app.callback()
def log(
    ctx: typer.Context,
    event_type: str = typer.Option(None, "--type", metavar="TYPE",
                                   help="Only events of this PREMIS type, e.g. ingestion, "
                                        "'fixity check', replication, transfer."),
    outcome: str = typer.Option(None, "--outcome", metavar="OUTCOME",
                                help="Only events with this outcome: success, failure, warning."),
    since: str = typer.Option(None, "--since", metavar="DATE",
                              help="Only events at or after DATE (2026-01-31, or an ISO 8601 "
                                   "time; UTC unless it names a zone)."),
    until: str = typer.Option(None, "--until", metavar="DATE",
                              help="Only events before DATE (a date alone: up to its end)."),
) -> None:
    """Show events (all, or one package's with `log ID`); `log verify` checks the hash chain."""
    if ctx.invoked_subcommand is not None:
        return
    start = _when(since, "--since", end_of_day=False)
    end = _when(until, "--until", end_of_day=True)
    package_id = ctx.meta.get(_PACKAGE)
    app = state(ctx)
    app.home()
    with app.open_catalog() as catalog:
        if package_id is not None:
            package_id = catalog.resolve_package(package_id)  # an id or an External-Identifier
        events = catalog.events(package_id)
    events = [e for e in events
              if (event_type is None or str(getattr(e.type, "value", e.type)) == event_type)
              and (outcome is None or str(getattr(e.outcome, "value", e.outcome)) == outcome)
              and (start is None or e.time >= start) and (end is None or e.time < end)]
    document = {"events": [render.jsonable(e) for e in events]}

    def text(d: dict[str, Any]) -> None:
        for e in d["events"]:
            subject = e.get("package_id") or f"deposit {e.get('deposit_id')}"
            # History imported with a transferred package says which archive recorded it.
            origin = f"[{e['imported']['origin']}] " if e.get("imported") else ""
            # Who had it done (issue 15): an account or an operating-system user.
            person = f"[{e['person']['identifier']}] " if e.get("person") else ""
            # Details name deposits and come from senders' METS: control/bidi shown escaped.
            render.line(escape_name(
                f"{e['id']:>6}  {e['time']}  {e['type']:<28} {e['outcome']:<8} {subject}  "
                f"{origin}{person}{e['detail']}"
                + (f" ({e['outcome_detail']})" if e.get("outcome_detail") else "")))

    render.emit(document, app.json, text)


@log_app.command()
def verify(ctx: typer.Context) -> None:
    """Recompute the event hash chain; name the first edited, inserted or deleted row (exit 12)."""
    app = state(ctx)
    app.home()
    with app.open_catalog() as catalog:
        report = catalog.verify_chain()
        unguarded = catalog.missing_guards()
    document = {"ok": report.ok and not unguarded, "checked": report.checked,
                "first_bad_id": report.first_bad_id, "problem": report.problem,
                "missing_triggers": unguarded,
                "head": report.head.as_dict() if report.head else None,
                "anchored": report.anchored.as_dict() if report.anchored else None}

    def text(d: dict[str, Any]) -> None:
        if d["missing_triggers"]:
            render.stderr.print("the events table has lost its append-only trigger(s) "
                                f"{', '.join(d['missing_triggers'])}: someone with database "
                                "access dropped them (AUD-E015)", markup=False)
        if report.ok:
            head = d["head"] or {}
            anchored = ("matches the head anchored in storage" if d["anchored"]
                        else "no head was anchored in storage yet; anchored now")
            render.line(f"event log intact: {d['checked']} events, hash chain verified, "
                        f"{anchored}; head {head.get('hash', '')}")
        else:
            where = f" at event {d['first_bad_id']}" if d["first_bad_id"] else ""
            render.stderr.print(f"event log broken{where}: {d['problem']}", markup=False)

    render.emit(document, app.json, text)
    if not document["ok"]:
        raise typer.Exit(ExitCode.FIXITY_FAILURE)


def _when(text: str | None, option: str, *, end_of_day: bool) -> dt.datetime | None:
    """A --since/--until value as an aware UTC time; a date alone is its start (or, for
    --until, the start of the next day, so `--until 2026-01-31` includes that day)."""
    if text is None:
        return None
    try:
        if len(text.strip()) == 10:
            day = dt.date.fromisoformat(text.strip())
            moment = dt.datetime.combine(day, dt.time(), dt.UTC)
            return moment + dt.timedelta(days=1) if end_of_day else moment
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (2026-01-31) or an ISO 8601 time",
                                 param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
