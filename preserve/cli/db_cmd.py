"""`preserve db upgrade|current`: catalog schema migrations (Alembic)."""

from __future__ import annotations

import typer

from preserve.cli import render
from preserve.cli.context import state

db_app = typer.Typer(help="Catalog schema migrations.", no_args_is_help=True)


@db_app.command()
def upgrade(ctx: typer.Context) -> None:
    """Migrate the catalog to the newest schema (back it up first)."""
    from preserve import catalog  # here: only the db commands load Alembic at once
    app = state(ctx)
    app.home()
    url = app.catalog_url()
    before = catalog.current_revision(url)
    catalog.upgrade(url)
    document = {"from": before, "to": catalog.current_revision(url)}
    render.emit(document, app.json, lambda d: render.line(f"catalog at revision {d['to']} (was {d['from']})"))


@db_app.command()
def current(ctx: typer.Context) -> None:
    """Show the catalog's schema revision and whether it is the newest."""
    from preserve import catalog
    app = state(ctx)
    app.home()
    revision = catalog.current_revision(app.catalog_url())
    document = {"current": revision, "head": catalog.HEAD_REVISION,
                "up_to_date": revision == catalog.HEAD_REVISION}
    render.emit(document, app.json, lambda d: render.line(
        f"{d['current']} ({'up to date' if d['up_to_date'] else 'upgrade needed: ' + d['head']})"))
    if revision != catalog.HEAD_REVISION:
        raise typer.Exit(14)
