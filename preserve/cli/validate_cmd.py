"""`preserve validate PATH`: check a deposit without storing anything.

Against an existing repository (`--repo`, or the default one when it exists) it also reports
what `ingest` with the same `--id`/`--as-version-of` would refuse there (ING-E001, E002,
E003, E004, E009), so the two never disagree. Exit 0 valid, 1 valid with warnings, 11 rejected.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import existing_path, state
from preserve.errors import ExitCode, RepositoryNotFound
from preserve.names import escape_name


def validate(
    ctx: typer.Context,
    path: Path = typer.Argument(
        ..., callback=existing_path,
        help="A bag directory, a .zip/.tar/.tar.gz bag, or a plain folder."),
    package_id: str = typer.Option(None, "--id", help="As for ingest: check that this new "
                                   "package id is free in the repository."),
    as_version_of: str = typer.Option(None, "--as-version-of", metavar="ID",
                                      help="As for ingest: check the deposit as the next "
                                      "version of package ID."),
    allow_unchanged: bool = typer.Option(False, "--allow-unchanged",
                                         help="As for ingest: an unchanged payload is no error."),
    profile: Path = typer.Option(None, "--profile", metavar="FILE", callback=existing_path,
                                 help="Check the bag against this BagIt profile (JSON) instead "
                                 "of the one profiles.dir finds for it."),
    allow_deaccessioned_id: bool = typer.Option(
        False, "--allow-deaccessioned-id",
        help="As for ingest: an External-Identifier of a deaccessioned package is no error."),
) -> None:
    """Validate a deposit (RFC 8493 and our rules, and what ingest would refuse in the
    repository if there is one); nothing is written."""
    # Imported here, not at the top: every command's module is loaded at start-up, and the
    # workflow pulls in the catalog (SQLAlchemy), which cost every command 0.25 s.
    from preserve.catalog import Catalog
    from preserve.ingest import Against, validate_deposit
    app = state(ctx)
    with ExitStack() as stack:
        against = None
        profiles = app.profiles(profile) if profile is not None else None
        try:
            app.home()
        except RepositoryNotFound:
            if package_id or as_version_of:
                raise  # these options mean a repository
        else:
            profiles = app.profiles(profile)  # with the repository's profiles.dir settings
            catalog = stack.enter_context(Catalog(app.catalog_url()))
            against = Against(catalog, package_id=package_id, as_version_of=as_version_of,
                              allow_unchanged=allow_unchanged,
                              allow_deaccessioned_id=allow_deaccessioned_id)
        with render.progress_bar("validating", not app.quiet) as progress:
            report = validate_deposit(path, limits=app.limits(), workers=app.workers(),
                                      progress=progress, schemas=app.schemas, against=against,
                                      profiles=profiles)
    document = report.as_dict()

    def text(d: dict[str, Any]) -> None:
        render.findings_text(d["findings"])
        verdict = "valid" if d["valid"] else "REJECTED"
        render.line(f"{escape_name(str(path))}: {verdict} ({len(report.files)} payload files, "
                    f"{sum(f.size for f in report.files)} bytes, {len(d['findings'])} findings)")

    render.emit(document, app.json, text)
    if not report.valid:
        raise typer.Exit(ExitCode.DEPOSIT_REJECTED)
    if report.warnings:
        raise typer.Exit(ExitCode.WARNINGS)
