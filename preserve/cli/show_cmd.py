"""`preserve show ID`: one package: identifiers, versions, files with digests, events."""

from __future__ import annotations

import typer

from preserve.catalog import Catalog
from preserve.cli import render
from preserve.cli.context import state
from preserve.names import escape_name


def show(ctx: typer.Context, package_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Show one package."""
    app = state(ctx)
    app.home()
    with Catalog(app.catalog_url()) as catalog:
        detail = catalog.get_package(package_id)
    document = render.jsonable(detail)

    def text(d: dict) -> None:
        render.line(f"package {d['package_id']}")
        if d.get("title"):
            render.line(f"  title: {escape_name(d['title'])}")
        for identifier in d.get("external_identifiers", []):
            render.line(f"  external identifier: {escape_name(identifier)}")
        for v in d.get("versions", []):
            render.line(f"  v{v['number']}  {v['created']}  {v['file_count']} payload files  "
                        f"{v['byte_count']} bytes  {escape_name(v['message'])}")
        render.line("  files:")
        for f in d.get("files", []):
            render.line(f"    v{f['version']} {escape_name(f['path'])}  {f['size']} bytes  "
                        f"sha256:{f['sha256']}")
        render.line("  events:")
        for e in d.get("events", []):
            render.line(f"    {e['time']}  {e['type']}  {e['outcome']}  {escape_name(e['detail'])}")

    render.emit(document, app.json, text)
