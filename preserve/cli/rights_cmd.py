"""`preserve rights ID [--add rights.csv]`: a package's rights statements, or new ones added
as a metadata-only version (issue 16 §1; docs/rights.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import existing_path, state, utf8_text
from preserve.cli.show_cmd import rights_line
from preserve.errors import DepositRejected, ExitCode
from preserve.names import escape_name


def rights(
    ctx: typer.Context,
    package: str = typer.Argument(..., metavar="ID", callback=utf8_text,
                                  help="The package (id or external identifier)."),
    add: Path = typer.Option(None, "--add", metavar="FILE", callback=existing_path,
                             help="A rights CSV (docs/rights.md): its statements are added "
                                  "as a new metadata-only version."),
    no_replicate: bool = typer.Option(False, "--no-replicate",
                                      help="With --add: do not copy the new version to the "
                                           "other locations now (`preserve replicate` does)."),
) -> None:
    """Show a package's rights statements, or add new ones (--add)."""
    from preserve.ingest.rights_add import add_rights
    from preserve.ingest.stored import stored_rights
    app = state(ctx)
    home = app.home()
    with app.open_catalog() as catalog:
        package_id = catalog.resolve_package(package)
        if add is None:
            statements = [r.as_dict() for r in stored_rights(home, package_id) or ()]
            render.emit({"package_id": package_id, "rights": statements}, app.json,
                        _listing)
            return
        try:
            result = add_rights(home, catalog, package_id, add, app.schemas(),
                                app.settings()["schemas.required"])
        except DepositRejected as rejected:
            document = {"package_id": package_id, "version": None, "rejected": True,
                        "findings": [f.as_dict() for f in rejected.findings]}
            render.emit(document, app.json, lambda d: render.findings_text(d["findings"]))
            raise typer.Exit(ExitCode.DEPOSIT_REJECTED) from None

    def text(d: dict[str, Any]) -> None:
        render.line(f"added {len(d['added'])} rights statement(s) to {d['package_id']}: "
                    f"v{d['version']} (metadata only, no payload copied), {d['statements']} "
                    "statement(s) in all")
        for r in d["added"]:
            render.line("  " + escape_name(rights_line(r)))

    added_doc: dict[str, Any] = {**result.as_dict(), "rejected": False}
    from preserve.cli.replicate_cmd import emit_and_replicate
    code = emit_and_replicate(app, added_doc, text, result.package_id, result.version,
                              replicate_now=not no_replicate)
    if code:
        raise typer.Exit(code)

def _listing(d: dict[str, Any]) -> None:
    if not d["rights"]:
        render.line(f"{d['package_id']} has no rights statements")
    for r in d["rights"]:
        render.line(escape_name(rights_line(r)))
