"""`preserve init`: create the repository home (DESIGN.md, "Repository home")."""

from __future__ import annotations

import typer

from preserve import settings
from preserve.cli import render
from preserve.cli.context import state
from preserve.home import init_home


def init(
    ctx: typer.Context,
    catalog_url: str = typer.Option("", "--catalog-url", help="Catalog database URL "
                                    "(default: catalog.sqlite in the repository)."),
    schemas_dir: str = typer.Option("", "--schemas-dir", help="Directory of the official XSDs "
                                    "and their catalog.xml, recorded in preserve.toml."),
) -> None:
    """Create a repository: settings, OCFL storage root, catalog (migrated to the newest schema)."""
    app = state(ctx)
    values = settings.load(app.repo, overrides={"catalog.url": catalog_url or None,
                                                "schemas.dir": schemas_dir or None})
    home = init_home(app.repo, settings.render_toml(values), values["catalog.url"])
    document = {"repository": str(home.path), "catalog": home.catalog_url(values["catalog.url"]),
                "storage": str(home.ocfl)}
    render.emit(document, app.json, lambda d: render.line(f"initialised repository {d['repository']}"))
