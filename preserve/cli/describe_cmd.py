"""`preserve describe ID --metadata FILE`: a new version with new descriptive metadata and the
same payload (issue 16 §3; docs/metadata.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import existing_metadata_file, state, utf8_text
from preserve.errors import DepositRejected, ExitCode


def describe(
    ctx: typer.Context,
    package: str = typer.Argument(..., callback=utf8_text, metavar="ID",
                                  help="The package (its id or an External-Identifier)."),
    metadata: Path = typer.Option(
        ..., "--metadata", callback=existing_metadata_file, metavar="FILE",
        help="The package's new descriptive metadata: a descriptive CSV (title[uz-Cyrl], ...; "
             "docs/metadata.md), a Dublin Core XML or a MODS 3 XML file."),
    no_replicate: bool = typer.Option(False, "--no-replicate",
                                      help="Do not copy the new version to the other storage "
                                           "locations now; `preserve replicate` does it later."),
) -> None:
    """Store a metadata-only version: new METS, same payload (no content copied)."""
    from preserve.ingest.describe import describe_package
    app = state(ctx)
    home = app.home()
    with app.open_catalog() as catalog:
        try:
            result = describe_package(home, catalog, package, metadata, schemas=app.schemas(),
                                      schemas_required=app.settings()["schemas.required"],
                                      limits=app.limits())
        except DepositRejected as rejected:
            refused: dict[str, Any] = {"package_id": None, "version": None, "rejected": True,
                                       "findings": [f.as_dict() for f in rejected.findings]}
            render.emit(refused, app.json, lambda d: render.findings_text(d["findings"]))
            raise typer.Exit(ExitCode.DEPOSIT_REJECTED) from None
    document: dict[str, Any] = {**result.as_dict(), "rejected": False}

    def text(d: dict[str, Any]) -> None:
        render.findings_text(d["findings"])
        render.line(f"described {d['package_id']} v{d['version']} from {d['metadata']} "
                    f"({d['kind']}); title: {d['title'] or '-'}; no payload copied")

    from preserve.cli.replicate_cmd import emit_and_replicate
    code = emit_and_replicate(app, document, text, result.package_id, result.version,
                              replicate_now=not no_replicate)
    if code:
        raise typer.Exit(code)
    if result.findings:
        raise typer.Exit(ExitCode.WARNINGS)
