"""`preserve show ID`: one package: identifiers, titles, versions, files, events; `--mets`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from preserve.cli import render
from preserve.cli.context import state, utf8_text, version_number
from preserve.ingest import stored_mets, stored_titles
from preserve.ingest.stored import stored_description, stored_rights
from preserve.metadata.rights import RightsStatement
from preserve.metadata.rights_import import read_rights
from preserve.names import escape_name

if TYPE_CHECKING:
    from preserve.catalog import Catalog


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
        with app.open_catalog() as catalog:
            final = _final_mets(catalog, package_id)
        if final is not None and number is None:  # the tombstone's METS (issue 16 §2)
            sys.stdout.buffer.write(final)
            sys.stdout.flush()
            return
        _number, document = stored_mets(home, package_id, number)
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return
    with app.open_catalog() as catalog:
        detail = catalog.get_package(package_id)
    # Titles in every language come from the head version's METS dmdSec: the catalog keeps
    # one title, the METS keeps them all with their xml:lang.
    document = render.jsonable(detail)
    # A deaccessioned package has no stored METS left to read (its final METS is kept in the
    # catalog: docs/deaccession.md); its catalog title stands.
    gone = detail.state == "deaccessioned"
    document["titles"] = [] if gone else [{"title": t, "lang": lang}
                                          for t, lang in stored_titles(home, package_id)]
    record = None if gone else stored_description(home, package_id)
    # The whole descriptive record, every language (issue 11), from the head version's METS.
    document["description"] = [{"element": v.element, "value": v.value, "lang": v.lang}
                               for v in (record.dublin_core if record else ())]
    # Rights statements (PREMIS 3 rightsMD) of the head version (issue 16 §1); of a
    # tombstone, those of the final METS the catalog keeps (storage holds nothing more).
    if gone:
        with app.open_catalog() as catalog:
            final = _final_mets(catalog, package_id)
        rights = _rights_of(final) if final is not None else []
    else:
        rights = stored_rights(home, package_id) or []
    document["rights"] = [r.as_dict() for r in rights]
    names = {path.removeprefix("data/"): f.name for path, f in
             (record.formats.items() if record else ()) if f.name}
    for f in document.get("files", []):
        if f.get("format"):
            f["format_name"] = names.get(f["path"].removeprefix("data/"), "")

    def text(d: dict[str, Any]) -> None:
        render.line(f"package {d['package_id']}")
        if d.get("state") == "deaccessioned":  # issue 16 §2: a tombstone, no content held
            render.line("  DEACCESSIONED: no copy is held any more; the rows and events below "
                        "are its tombstone (`preserve deaccession list`)")
        # Known damage first, until it is repaired (issue 11 item 2).
        for p in d.get("open_problems", []):
            render.line(f"  DAMAGED: {p['content_path']} at {p['location']} is {p['status']} "
                        f"since {p['since']} ({escape_name(', '.join(p['paths']))}); restore it "
                        "from a good copy, then `preserve audit` confirms it")
        if d.get("title"):
            render.line(f"  title: {escape_name(d['title'])}")
        for identifier in d.get("external_identifiers", []):
            render.line(f"  external identifier: {escape_name(identifier)}")
        if d["description"]:
            render.line("  description (Dublin Core, as stored in the METS):")
            for v in d["description"]:
                lang = f" [{v['lang']}]" if v["lang"] else ""
                render.line(f"    {v['element']}{lang}: {escape_name(v['value'])}")
        if d["rights"]:
            render.line("  rights (PREMIS, as stored in the METS):")
            for r in d["rights"]:
                render.line("    " + escape_name(rights_line(r)))
        render.line("  versions:")
        for v in d.get("versions", []):
            render.line(f"    v{v['number']}  {render.human_time(v['created'])}  "
                        f"{v['file_count']} payload files, {render.human_size(v['byte_count'])}"
                        f"  {escape_name(v['message'])}")
        head = max((v["number"] for v in d.get("versions", [])), default=None)
        files = [f for f in d.get("files", []) if f["version"] == head]
        payload = [f for f in files if f["path"].startswith("data/")]
        tags = [f for f in files if not f["path"].startswith("data/")]
        render.line(f"  payload of v{head} ({len(payload)} files):")
        for f in payload:
            kind = ""
            if f.get("format"):
                name = f" {f['format_name']}" if f.get("format_name") else ""
                kind = f"  {f['format']}{name}"
            render.line(f"    {escape_name(f['path'].removeprefix('data/'))}  "
                        f"{render.human_size(f['size'])}{kind}  sha256 {f['sha256'][:16]}…")
        render.line(f"  tag and metadata files of v{head}: {len(tags)} "
                    f"({', '.join(escape_name(f['path']) for f in tags[:4])}"
                    f"{', …' if len(tags) > 4 else ''}); --json lists every file of every "
                    "version")
        render.line("  events:")
        for e in d.get("events", []):
            render.line(f"    {render.human_time(e['time'])}  {e['type']}  {e['outcome']}  "
                        f"{escape_name(e['detail'])}")

    render.emit(document, app.json, text)


def rights_line(r: dict[str, Any]) -> str:
    """One statement in one line: basis, what it governs, act, dates, notes."""
    parts = [r["basis"], f"for {r['path'].removeprefix('data/')}" if r["path"] else
             "for the package"]
    parts += [f"{k} {r[k]}" for k in ("status", "jurisdiction", "citation") if r[k]]
    if r["start_date"] or r["end_date"]:
        parts.append(f"{r['start_date'] or '…'} to {r['end_date'] or '…'}")
    if r["act"]:
        parts.append(f"{r['act']}: {r['restriction'] or 'granted'}"
                     + (f" until {r['restriction_end_date']}" if r["restriction_end_date"]
                        else ""))
    parts += [f"note{' [' + n['lang'] + ']' if n['lang'] else ''}: {n['text']}"
              for n in r["notes"]]
    return "; ".join(parts)


def _final_mets(catalog: Catalog, package_id: str) -> bytes | None:
    """The METS a deaccessioned package had when it was removed, kept in the catalog."""
    if catalog.package_state(package_id) != "deaccessioned":
        return None
    done = catalog.deaccession_requests(package_id, states=("completed",))
    return catalog.final_mets(done[-1].id) if done else None


def _rights_of(document: bytes) -> list[RightsStatement]:
    """The rights statements of a METS kept in the catalog; none if it cannot be read."""
    try:
        return read_rights(document)
    except ValueError:
        return []
