"""`preserve show ID`: one package: identifiers, titles, versions, files, events; `--mets`."""

from __future__ import annotations

import sys

import typer

from preserve.cli import render
from preserve.cli.context import state, utf8_text, version_number
from preserve.ingest import stored_mets, stored_titles
from preserve.names import escape_name


def show(
    ctx: typer.Context,
    package_id: str = typer.Argument(..., metavar="ID", callback=utf8_text),
    mets: bool = typer.Option(False, "--mets", help="Print the stored METS document of the "
                              "version instead (as stored: UTF-8 XML)."),
    version: str = typer.Option(None, "--version", metavar="vN",
                                help="With --mets: that version, as v2 or 2 (default: the "
                                     "latest)."),
) -> None:
    """Show one package."""
    # Imported here, not at the top: every command's module is loaded at start-up (see
    # preserve/cli/__init__.py), and only this command needs these.
    if version is not None and not mets:
        raise typer.BadParameter("--version needs --mets", param_hint="--version")
    number = version_number(version)
    app = state(ctx)
    home = app.home()
    with app.open_catalog() as catalog:
        package_id = catalog.resolve_package(package_id)  # an id or an External-Identifier
    if mets:
        _number, document = stored_mets(home, package_id, number)
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return
    with app.open_catalog() as catalog:
        detail = catalog.get_package(package_id)
    # Titles in every language come from the head version's METS dmdSec: the catalog keeps
    # one title, the METS keeps them all with their xml:lang.
    document = render.jsonable(detail)
    document["titles"] = [{"title": t, "lang": lang}
                          for t, lang in stored_titles(home, package_id)]

    def text(d: dict) -> None:
        render.line(f"package {d['package_id']}")
        # Known damage first, until it is repaired (issue 11 item 2).
        for p in d.get("open_problems", []):
            render.line(f"  DAMAGED: {p['content_path']} at {p['location']} is {p['status']} "
                        f"since {p['since']} ({escape_name(', '.join(p['paths']))}); restore it "
                        "from a good copy, then `preserve audit` confirms it")
        if d.get("title"):
            render.line(f"  title: {escape_name(d['title'])}")
        for t in d["titles"]:
            if t["title"] != d.get("title") or t["lang"]:
                render.line(f"  title [{t['lang'] or '-'}]: {escape_name(t['title'])}")
        for identifier in d.get("external_identifiers", []):
            render.line(f"  external identifier: {escape_name(identifier)}")
        for v in d.get("versions", []):
            render.line(f"  v{v['number']}  {v['created']}  {v['file_count']} payload files  "
                        f"{v['byte_count']} bytes  {escape_name(v['message'])}")
        render.line("  files:")
        for f in d.get("files", []):
            puid = f"  {f['format']}" if f.get("format") else ""
            render.line(f"    v{f['version']} {escape_name(f['path'])}  {f['size']} bytes  "
                        f"sha256:{f['sha256']}{puid}")
        render.line("  events:")
        for e in d.get("events", []):
            render.line(f"    {e['time']}  {e['type']}  {e['outcome']}  {escape_name(e['detail'])}")

    render.emit(document, app.json, text)
