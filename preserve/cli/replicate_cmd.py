"""`preserve replicate [--package ID] [--location NAME]`: bring every package up to
`replication.copies` verified copies (issue 13, item 3). Idempotent and resumable: run it
again after a failure or a kill, and it sends only what is not verified at the target yet.
Exit 0 when every package has its copies; 13 when a location failed or copies are short;
12 when a source did not verify.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from preserve.cli import render
from preserve.cli.context import AppState, state, utf8_text
from preserve.names import escape_name

if TYPE_CHECKING:  # imported when a command runs, not at start-up
    from preserve.replicate.replicate import ReplicationReport


def replicate(
    ctx: typer.Context,
    package: str = typer.Option(None, "--package", metavar="ID", callback=utf8_text,
                                help="Only this package (default: every package)."),
    location: str = typer.Option(None, "--location", metavar="NAME",
                                 help="Copy to this location (whatever replication.copies "
                                      "says); default: the configured locations in order."),
    enqueue: bool = typer.Option(False, "--enqueue",
                                 help="Queue one replication job per package for `preserve "
                                      "worker` instead of copying here (PostgreSQL catalogs)."),
) -> None:
    """Copy packages to the other storage locations, verified, until each has its copies."""
    app = state(ctx)
    if enqueue:
        _enqueue(app, package, location)
        return
    report = run_replication(app, [package] if package else None, location)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _enqueue(app: AppState, package: str | None, location: str | None) -> None:
    from preserve.jobs.queue import enqueue_replication
    conninfo = app.queue_conninfo("replicate --enqueue")
    names = [loc.name for loc in app.locations()]
    if location is not None and location not in names:
        raise typer.BadParameter(f"no location named {location!r}; configured: "
                                 + ", ".join(names), param_hint="--location")
    copies = app.settings()["replication.copies"]
    with app.open_catalog() as catalog:
        if package:
            catalog.get_package(package)
        wanted = []
        for copy_state in catalog.package_copies([package] if package else None):
            complete = [n for n in names if n in copy_state.complete_at()]
            lacking = (location not in complete if location is not None
                       else len(complete) < min(copies, len(names)))
            if lacking:
                wanted.append(copy_state.package_id)
    result = enqueue_replication(conninfo, wanted, location)
    render.emit(result.as_dict() | {"packages": len(wanted)}, app.json, lambda d: render.line(
        f"queued {len(d['created'])} replication job(s) for {d['packages']} package(s) short "
        "of their copies" + (f"; {d['already_queued']} were already queued"
                             if d["already_queued"] else "") + "; `preserve jobs` follows them"))


def run_replication(app: AppState, package_ids: list[str] | None, location: str | None = None
                    ) -> ReplicationReport:
    """Replicate and print the report (also used by `ingest` after a commit)."""
    from preserve.replicate import replicate as replicate_packages
    copies = app.settings()["replication.copies"]
    locations = app.locations()
    with app.open_catalog() as catalog:
        if package_ids:
            for package_id in package_ids:
                catalog.get_package(package_id)  # PackageNotFound before any copying
        report = replicate_packages(catalog, locations, copies, package_ids=package_ids,
                                    only=location, workers=max(4, app.workers() * 4))
    document = report.as_dict()
    if copies > len(locations):
        document["warning"] = (f"replication.copies is {copies} but only {len(locations)} "
                               "location(s) are configured: add one with `preserve locations add`")

    def text(d: dict[str, Any]) -> None:
        for m in d["made"]:
            render.line(f"copied {escape_name(m['package_id'])} to {m['location']} from "
                        f"{m['source']}: {m['files_copied']} files, {m['bytes_copied']} bytes "
                        f"sent, {m['copies_recorded']} copies verified")
        for f in d["failed"]:
            render.stderr.print(f"replication of {escape_name(f['package_id'] or '')} to "
                                f"{f['location']} failed: {f['message']}", markup=False)
        for s in d["short"]:
            render.stderr.print(f"{escape_name(s['package_id'])} has {s['copies']} verified "
                                f"cop{'y' if s['copies'] == 1 else 'ies'} of "
                                f"{d['copies_wanted']}: run `preserve replicate` when the "
                                "locations are reachable", markup=False)
        if "warning" in d:
            render.stderr.print(d["warning"], markup=False)
        if not d["failed"] and not d["short"] and not app.quiet:
            render.line(f"{d['packages']} package(s) have their {d['copies_wanted']} "
                        "verified copies")

    render.emit(document, app.json, text)
    return report


def replication_json(app: AppState, package_id: str) -> dict[str, Any]:
    """Replicate one package just stored; the report as a dict for a command's one JSON
    document, with its exit code under `_exit_code`."""
    from preserve.replicate import replicate as replicate_packages
    with app.open_catalog() as catalog:
        report = replicate_packages(catalog, app.locations(), app.settings()["replication.copies"],
                                    package_ids=[package_id], workers=max(4, app.workers() * 4))
    return {**report.as_dict(), "_exit_code": report.exit_code}


def emit_and_replicate(app: AppState, document: dict[str, Any],
                       text: Callable[[dict[str, Any]], None], package_id: str, version: int,
                       replicate_now: bool) -> int:
    """Print the document of a command that stored a version (ingest, describe, rights), and
    with replication.copies > 1 copy the version to the other locations now; returns the
    replication's exit code (0 when nothing was to copy). One JSON document on stdout: with
    --json the replication report goes into the command's."""
    if not replicate_now or app.settings()["replication.copies"] <= 1:
        render.emit(document, app.json, text)
        return 0
    if app.json:
        replication = replication_json(app, package_id)
        code = int(replication.pop("_exit_code"))
        render.emit({**document, "replication": replication}, app.json, text)
    else:
        render.emit(document, app.json, text)
        code = run_replication(app, [package_id]).exit_code
    if code:
        render.stderr.print(f"{package_id} v{version} is stored and recorded in the local "
                            "root; its copies elsewhere are not complete: run `preserve "
                            "replicate` when the locations are reachable", markup=False)
    return code
