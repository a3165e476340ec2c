"""`preserve log [ID]`: the PREMIS event log, oldest first."""

from __future__ import annotations

import typer

from preserve.catalog import Catalog
from preserve.cli import render
from preserve.cli.context import state


def log(ctx: typer.Context,
        package_id: str = typer.Argument(None, metavar="[ID]", help="Only this package's events.")) -> None:
    """Show events (all, or one package's)."""
    app = state(ctx)
    app.home()
    with Catalog(app.catalog_url()) as catalog:
        if package_id is not None:
            catalog.get_package(package_id)  # PackageNotFound for an unknown id
        events = catalog.events(package_id)
    document = {"events": [render.jsonable(e) for e in events]}

    def text(d: dict) -> None:
        for e in d["events"]:
            subject = e.get("package_id") or f"deposit {e.get('deposit_id')}"
            render.line(f"{e['id']:>6}  {e['time']}  {e['type']:<28} {e['outcome']:<8} {subject}  "
                        f"{e['detail']}" + (f" ({e['outcome_detail']})" if e.get("outcome_detail") else ""))

    render.emit(document, app.json, text)
