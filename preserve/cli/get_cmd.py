"""`preserve get ID PATH`: one stored file, verified on the way out (issue 16, §6).

Exit codes: 0 written and verified, 2 usage (no such file or version, the output exists),
12 no location holds a copy that verifies (nothing written).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import state, utf8_text, version_number
from preserve.names import escape_name


def get(
    ctx: typer.Context,
    package_id: str = typer.Argument(..., metavar="ID", callback=utf8_text,
                                     help="The package (its id or an External-Identifier)."),
    path: str = typer.Argument(..., metavar="PATH", callback=utf8_text,
                               help="The file's path as deposited (`data/` may be left out)."),
    version: str = typer.Option(None, "--version", metavar="vN",
                                help="The version to read (default: the newest)."),
    output: Path = typer.Option(None, "--output", "-o", metavar="FILE",
                                help="Write to FILE (a new file); default: standard output."),
) -> None:
    """Write one stored file out, verified against its sha256 and sha512 on the way."""
    from preserve.export.single import get_file
    app = state(ctx)
    if app.json and output is None:
        raise typer.BadParameter("--json needs --output FILE: without it the file's bytes go "
                                 "to standard output", param_hint="--json")
    number = version_number(version)
    locations = app.locations()
    with app.open_catalog() as catalog:
        package_id = catalog.resolve_package(package_id)
        if output is not None:
            result = get_file(catalog, locations, package_id, path, output, version=number)
        else:
            # Standard output cannot take bytes back: the file is verified in a temporary
            # folder first and only then copied out.
            with tempfile.TemporaryDirectory(prefix="preserve-get-") as scratch:
                temp = Path(scratch) / "file"
                result = get_file(catalog, locations, package_id, path, temp, version=number)
                with open(temp, "rb") as source:
                    shutil.copyfileobj(source, sys.stdout.buffer)
                sys.stdout.buffer.flush()

    def text(d: dict[str, Any]) -> None:
        if output is None:
            return  # the bytes went to standard output; nothing else goes there
        render.line(f"wrote {escape_name(d['path'])} of {escape_name(d['package_id'])} "
                    f"v{d['version']} to {escape_name(str(output))}: {d['size']} bytes, sha512 "
                    f"{d['sha512']} verified (read from location {d['read_from']})")

    for refused in result.refused:
        render.stderr.print(f"WARNING the copy at {escape_name(refused)} did not verify; "
                            "run `preserve audit` and `preserve repair`", markup=False)
    render.emit(result.as_dict(), app.json, text)
