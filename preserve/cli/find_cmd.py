"""`preserve find TEXT`: packages by title in any language and script, or by identifier
(issue 16, §6).

Matching ignores case and Unicode normalization (NFKC, then case folding), so `қолжазба`
finds `ҚОЛЖАЗБА` and a title typed with composed letters finds one stored decomposed; the
Uzbek Latin okina and tutuq (ʻ ʼ) match every apostrophe people type for them (' ‘ ’ `).
The package id, its external identifiers and its catalog title are searched first; the other
titles, in every language, are read from the head version's METS.
"""

from __future__ import annotations

from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import state, utf8_text
from preserve.names import escape_name, folded


def find(
    ctx: typer.Context,
    text: str = typer.Argument(..., metavar="TEXT", callback=utf8_text,
                               help="Part of a title (any language or script) or identifier."),
) -> None:
    """Find packages by title in any language and script, or by identifier."""
    from preserve.ingest.stored import stored_titles
    app = state(ctx)
    home = app.home()
    wanted = folded(text).strip()
    if not wanted:
        raise typer.BadParameter("give some text to look for", param_hint="TEXT")
    with app.open_catalog() as catalog:
        packages = catalog.list_packages()
    found: list[dict[str, Any]] = []
    for p in packages:
        fields = [("id", p.package_id), *(("external identifier", i)
                                         for i in p.external_identifiers)]
        if p.title:
            fields.append(("title", p.title))
        match = next(((kind, value) for kind, value in fields if wanted in folded(value)), None)
        if match is None:
            match = next((("title", title) for title, _lang in stored_titles(home, p.package_id)
                          if wanted in folded(title)), None)
        if match is not None:
            found.append({"package_id": p.package_id, "title": p.title,
                          "matched": match[0], "value": match[1]})
    document = {"query": text, "packages": found}

    def show(d: dict[str, Any]) -> None:
        if not d["packages"]:
            render.line(f"no package matches {escape_name(text)!s}")
        for f in d["packages"]:
            render.line(f"{escape_name(f['package_id'])}  {f['matched']}: "
                        f"{escape_name(f['value'])}")

    render.emit(document, app.json, show)
