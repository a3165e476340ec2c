"""`preserve describe ID --metadata FILE`: a new, metadata-only version (issue 16 §3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import AppState, existing_path, state, utf8_text
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

    finish_with_replication(app, doc, text, result.package_id, result.version,
                            bool(result.findings), no_replicate)


def finish_with_replication(app: AppState, doc: dict[str, Any],
                            text: Callable[[dict[str, Any]], None], package_id: str,
                            version: int, warned: bool, no_replicate: bool) -> None:
    """Like ingest: a new version goes to the other locations at once when
    `replication.copies` > 1 (else it is due for `preserve replicate`, which copies only the
    files a location lacks: here the new METS and tag files). One JSON document."""
    code = 0
    if app.settings()["replication.copies"] > 1 and not no_replicate:
        from preserve.cli.ingest_cmd import replication_json
        from preserve.cli.replicate_cmd import run_replication
        if app.json:
            doc["replication"] = replication_json(app, package_id)
            code = doc["replication"].pop("_exit_code")
            render.emit(doc, app.json, text)
        else:
            render.emit(doc, app.json, text)
            code = run_replication(app, [package_id]).exit_code
        if code:
            render.stderr.print(f"{package_id} v{version} is stored in the local root; its "
                                "copies elsewhere are not complete: run `preserve replicate`",
                                markup=False)
            raise typer.Exit(code)
    else:
        render.emit(doc, app.json, text)
    if warned:
        raise typer.Exit(ExitCode.WARNINGS)
