"""`preserve ingest PATH`: validate a deposit and store it as a package (or a new version)."""

from __future__ import annotations

from pathlib import Path

import typer

from preserve.cli import render
from preserve.cli.context import state
from preserve.errors import DepositRejected, ExitCode
from preserve.names import escape_name


def ingest(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A bag directory, a .zip/.tar/.tar.gz bag, or a plain folder."),
    package_id: str = typer.Option(None, "--id", help="Identifier for the new package "
                                   "(default: a new urn:uuid)."),
    as_version_of: str = typer.Option(None, "--as-version-of", metavar="ID",
                                      help="Store the deposit as the next version of package ID "
                                      "(not with --id)."),
    allow_unchanged: bool = typer.Option(False, "--allow-unchanged",
                                         help="With --as-version-of: store the version even if "
                                         "its payload equals the newest version's (refused "
                                         "with ING-E009 otherwise)."),
) -> None:
    """Ingest a deposit into the repository."""
    # Imported here, not at the top: every command's module is loaded at start-up (see
    # preserve/cli/__init__.py), and only this command needs these.
    from preserve.catalog import Catalog
    from preserve.ingest import IngestOptions, ingest_deposit
    app = state(ctx)
    home = app.home()
    options = IngestOptions(package_id=package_id, as_version_of=as_version_of,
                            allow_unchanged=allow_unchanged, workers=app.workers(), limits=app.limits(),
                            schemas=app.schemas(),
                            schemas_required=app.settings()["schemas.required"])
    with Catalog(app.catalog_url()) as catalog:
        try:
            with render.progress_bar("ingesting", not app.quiet) as progress:
                result = ingest_deposit(home, catalog, path, options, progress)
        except DepositRejected as rejected:
            document = {"package_id": None, "version": None, "files": 0, "bytes": 0,
                        "rejected": True, "findings": [f.as_dict() for f in rejected.findings]}

            def rejected_text(d: dict) -> None:
                render.findings_text(d["findings"])
                # The deposit's path is the user's, but may hold control characters.
                raw = str(rejected.fields["path"])
                render.stderr.print(rejected.message.replace(raw, escape_name(raw)), markup=False)

            render.emit(document, app.json, rejected_text)
            raise typer.Exit(ExitCode.DEPOSIT_REJECTED) from None
    document = {**result.as_dict(), "rejected": False,
                "findings": [f.as_dict() for f in result.findings]}

    def text(d: dict) -> None:
        render.findings_text(d["findings"])
        render.line(f"ingested {escape_name(str(path))} as {d['package_id']} v{d['version']}: "
                    f"{d['files']} files, {d['bytes']} bytes")

    render.emit(document, app.json, text)
    if result.findings:
        raise typer.Exit(ExitCode.WARNINGS)
