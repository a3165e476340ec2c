"""`preserve list`: every package held, one line each."""

from __future__ import annotations

from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import state
from preserve.names import escape_name


def list_packages(ctx: typer.Context) -> None:
    """List packages: id, external identifiers, title, versions, files, bytes."""
    # Imported here, not at the top: every command's module is loaded at start-up (see
    # preserve/cli/__init__.py), and only this command needs these.
    app = state(ctx)
    app.home()
    with app.open_catalog() as catalog:
        packages = catalog.list_packages()
    document = {"packages": [render.jsonable(p) for p in packages]}

    def text(d: dict[str, Any]) -> None:
        if not d["packages"]:
            render.line("no packages")
        for p in d["packages"]:
            ids = ", ".join(p["external_identifiers"]) or "-"
            # Known damage stays visible until repaired (issue 11 item 2).
            mark = (f"  DAMAGED ({p['open_problems']} file(s): see `preserve show "
                    f"{p['package_id']}`)" if p.get("open_problems") else "")
            if p.get("state") == "deaccessioned":  # issue 16 §2
                mark += "  DEACCESSIONED"
            render.line(f"{p['package_id']}{mark}  v{p['versions']}  {p['files']} files  {p['bytes']} bytes  "
                        f"[{escape_name(ids)}]  {escape_name(p['title'] or '')}")

    render.emit(document, app.json, text)
