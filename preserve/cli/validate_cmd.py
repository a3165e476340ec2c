"""`preserve validate PATH`: check a deposit without storing anything.

Exit 0 valid, 1 valid with warnings, 11 rejected.
"""

from __future__ import annotations

from pathlib import Path

import typer

from preserve.cli import render
from preserve.cli.context import existing_path, state
from preserve.errors import ExitCode
from preserve.ingest import validate_deposit
from preserve.names import escape_name


def validate(
    ctx: typer.Context,
    path: Path = typer.Argument(..., callback=existing_path, help="A bag directory, a .zip/.tar/.tar.gz bag, or a plain folder."),
) -> None:
    """Validate a deposit (RFC 8493 and our rules); nothing is written."""
    app = state(ctx)
    with render.progress_bar("validating", not app.quiet) as progress:
        report = validate_deposit(path, limits=app.limits(), workers=app.workers(),
                                  progress=progress, schemas=app.schemas)
    document = report.as_dict()

    def text(d: dict) -> None:
        render.findings_text(d["findings"])
        verdict = "valid" if d["valid"] else "REJECTED"
        render.line(f"{escape_name(str(path))}: {verdict} ({len(report.files)} payload files, "
                    f"{sum(f.size for f in report.files)} bytes, {len(d['findings'])} findings)")

    render.emit(document, app.json, text)
    if not report.valid:
        raise typer.Exit(ExitCode.DEPOSIT_REJECTED)
    if report.warnings:
        raise typer.Exit(ExitCode.WARNINGS)
