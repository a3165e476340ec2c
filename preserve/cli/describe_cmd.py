"""`preserve describe ID --metadata FILE`: a new, metadata-only version (issue 16 §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import existing_path, state, utf8_text
from preserve.errors import DepositRejected, ExitCode
from preserve.names import escape_name


def describe(
    ctx: typer.Context,
    package: str = typer.Argument(..., metavar="ID", callback=utf8_text,
                                  help="The package (id or external identifier)."),
    metadata: Path = typer.Option(..., "--metadata", metavar="FILE", callback=existing_path,
                                  help="A descriptive CSV, Dublin Core XML or MODS XML file "
                                       "(docs/metadata.md)."),
    no_replicate: bool = typer.Option(False, "--no-replicate",
                                      help="Do not copy the new version to the other storage "
                                           "locations now; `preserve replicate` does it later."),
) -> None:
    """Store a new version with new descriptive metadata; the payload is not copied."""
    from preserve.ingest.describe import DescribeOptions, describe_package
    app = state(ctx)
    home = app.home()
    with app.open_catalog() as catalog:
        try:
            result = describe_package(home, catalog, package, metadata,
                                      DescribeOptions(schemas=app.schemas()))
        except DepositRejected as rejected:
            document = {"package_id": None, "version": None, "rejected": True,
                        "findings": [f.as_dict() for f in rejected.findings]}
            render.emit(document, app.json, lambda d: render.findings_text(d["findings"]))
            raise typer.Exit(ExitCode.DEPOSIT_REJECTED) from None
    doc: dict[str, Any] = {**result.as_dict(), "rejected": False}

    def text(d: dict[str, Any]) -> None:
        render.findings_text(d["findings"])
        render.line(f"described {d['package_id']}: v{d['version']} (metadata only, payload of "
                    f"v{d['previous_version']} kept) from {escape_name(d['metadata']['file'])} "
                    f"({d['metadata']['kind']}); title: {d['title'] or '-'}")

    render.emit(doc, app.json, text)
    copies = app.settings()["replication.copies"]
    if copies > 1 and not no_replicate:
        # Like ingest: the new version goes to the other locations now (or stays due for
        # `preserve replicate`, which copies only the files they lack: the METS and tags).
        from preserve.cli.replicate_cmd import run_replication
        if run_replication(app, [result.package_id]).exit_code:
            render.stderr.print(f"{result.package_id} v{result.version} is stored; its copies "
                                "elsewhere are not complete: run `preserve replicate`",
                                markup=False)
            raise typer.Exit(ExitCode.WARNINGS)
    if result.findings:
        raise typer.Exit(ExitCode.WARNINGS)
