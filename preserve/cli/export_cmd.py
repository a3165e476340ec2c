"""`preserve export ID DEST`: a package for another archive, with its whole history (issue 5).

Exit codes: 0 written and read back, 1 written with a warning (no XSDs to check the METS
against), 2 usage (DEST exists, its folder does not), 12 stored bytes that do not match the
catalog (nothing exported), 13 storage error or a failed read-back (nothing left at DEST).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from preserve.cli import render
from preserve.cli.context import AppState, state, utf8_text, version_number
from preserve.errors import ExitCode, FixityError, StorageError, UsageError
from preserve.export.formats import ExportFormat
from preserve.names import escape_name

if TYPE_CHECKING:
    from preserve.export import ExportResult


def export(
    ctx: typer.Context,
    package_id: str = typer.Argument(..., metavar="ID", callback=utf8_text, help="The package to export."),
    dest: Path = typer.Argument(..., metavar="DEST",
                                help="A new path, or an existing directory to export into."),
    version: str = typer.Option(None, "--version", metavar="vN",
                                help="The version to export (default: the newest)."),
    export_format: ExportFormat = typer.Option(ExportFormat.BAG, "--format",
                                               case_sensitive=False,
                                               help="bag (a BagIt directory), zip, tar, eark "
                                                    "(an E-ARK folder), eark-zip (one zip)."),
    enqueue: bool = typer.Option(False, "--enqueue",
                                 help="Queue the export for `preserve worker` instead of "
                                      "writing it here (PostgreSQL catalogs); the target path "
                                      "is fixed now."),
) -> None:
    """Write a package version out as BagIt, zip, tar or E-ARK, with its complete history."""
    # Imported here, not at the top: every command's module is loaded at start-up (see
    # preserve/cli/__init__.py), and only this command needs these.
    from preserve.export import ExportOptions, export_package
    from preserve.storage import StorageRoot
    app = state(ctx)
    if enqueue:
        _enqueue(app, package_id, dest, version_number(version), export_format)
        return
    home = app.home()
    options = ExportOptions(format=export_format, version=version_number(version),
                            organization=app.settings()["repository.name"],
                            schemas=app.schemas(), workers=app.workers())
    from preserve.export.fallback import readable_location
    StorageRoot.open(home.ocfl)  # a clear error when the home holds no storage root
    # Scratch space beside storage for the export's METS (written before the bag is), made
    # and removed by export_package.
    work_dir = home.staging / f"export-{uuid.uuid4().hex}"
    if not _writable(home.staging):
        # A read-only repository (a replica, a snapshot): scratch space beside DEST instead.
        work_dir = dest.absolute().parent / f".preserve-export-{uuid.uuid4().hex}"
    with app.open_catalog() as catalog:
        package_id = catalog.resolve_package(package_id)  # an id or an External-Identifier
        locations = app.locations()

        def attempt(avoid_local: bool) -> tuple[ExportResult, str]:
            location = readable_location(catalog, locations, package_id,
                                         avoid_local=avoid_local)
            with render.progress_bar("exporting", not app.quiet) as progress:
                return export_package(catalog, location, package_id, dest, options,
                                      work_dir, progress), location.name

        try:
            result, source = attempt(False)
        except (FixityError, StorageError):
            if len(locations) < 2:
                raise
            # The local copy failed on the way out (damage not known to the catalog yet):
            # nothing was exported; another location's verified copy is tried once.
            result, source = attempt(True)
    document = {**result.as_dict(), "read_from": source}

    def text(d: dict[str, Any]) -> None:
        render.findings_text(result.findings)
        line = (f"exported {escape_name(d['package_id'])} v{d['version']} as {d['format']} to "
                f"{escape_name(d['path'])}: {d['files']} files, {d['bytes']} bytes, "
                f"{d['events']} events")
        render.line(line)
        if d["read_from"] != "local":
            render.line(f"read from location {d['read_from']}: the local copy is damaged or "
                        "unreadable (`preserve repair` restores it)")
        if d["sha256"]:
            render.line(f"sha256 {d['sha256']}  {escape_name(Path(d['path']).name)}")

    render.emit(document, app.json, text)
    if result.findings:
        raise typer.Exit(ExitCode.WARNINGS)


def _enqueue(app: AppState, package_id: str, dest: Path, version: int | None,
             export_format: ExportFormat) -> None:
    from preserve.export import export_target
    from preserve.jobs.queue import enqueue_export
    conninfo = app.queue_conninfo("export --enqueue")
    with app.open_catalog() as catalog:
        package_id = catalog.resolve_package(package_id)
        detail = catalog.get_package(package_id)
    chosen = version if version is not None else detail.head
    if chosen not in {v.number for v in detail.versions}:
        raise UsageError(detail=f"{package_id} has no version v{chosen}; it has "
                         + ", ".join(f"v{v.number}" for v in detail.versions))
    target = export_target(dest.absolute(), package_id, chosen, export_format)
    made = enqueue_export(conninfo, package_id, chosen, str(target), export_format.value)
    document = made.as_dict() | {"package_id": package_id, "version": chosen,
                                 "path": str(target)}
    render.emit(document, app.json, lambda d: render.line(
        (f"queued the export of {escape_name(package_id)} v{chosen} to "
         f"{escape_name(d['path'])} (job {d['created'][0]})" if d["created"] else
         f"an export to {escape_name(d['path'])} is already queued")
        + "; `preserve jobs` follows it"))


def _writable(directory: Path) -> bool:
    try:
        return directory.is_dir() and os.access(directory, os.W_OK) and not (
            os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False
