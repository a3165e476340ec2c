"""`preserve schemas fetch`: download the official XSDs into the user cache (DESIGN.md, "Metadata")."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import state
from preserve.metadata.fetch import default_cache_dir, fetch_schemas

schemas_app = typer.Typer(help="The official XML schemas METS validation needs.",
                          no_args_is_help=True)


@schemas_app.command()
def fetch(
    ctx: typer.Context,
    mirror: str = typer.Option(None, "--mirror", metavar="URL",
                               help="Download from this mirror (same paths as the official URLs)."),
    cache_dir: Path = typer.Option(None, "--cache-dir", metavar="DIR",
                                   help="Where to put them (default $XDG_CACHE_HOME/preserve/schemas "
                                        "or ~/.cache/preserve/schemas)."),
) -> None:
    """Download the official XSDs, check their pinned sha256, write catalog.xml.

    Afterwards preserve validates METS offline from this cache whenever schemas.dir is not set.
    """
    app = state(ctx)
    target = cache_dir if cache_dir is not None else default_cache_dir(os.environ)
    report = fetch_schemas(target, base_url=mirror)
    document = {"cache_dir": str(report.cache_dir),
                "files": [{"file": f.file, "url": f.url, "sha256": f.sha256, "size": f.size}
                          for f in report.files]}

    def text(d: dict[str, Any]) -> None:
        for f in d["files"]:
            render.line(f"{f['sha256']}  {f['file']}")
        render.line(f"{len(d['files'])} schemas and {report.catalog.name} in {d['cache_dir']}")

    render.emit(document, app.json, text)
