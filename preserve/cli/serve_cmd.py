"""`preserve serve`: the web app over this repository (issue 15 "The web app"; docs/web.md).

Nothing but the login page and /health answers without an account: add one with
`preserve users add NAME --role admin` first.
"""

from __future__ import annotations

import datetime as dt

import typer

from preserve.cli.context import state
from preserve.errors import UsageError


def serve(ctx: typer.Context,
          host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
          port: int = typer.Option(8080, "--port", help="TCP port to listen on")) -> None:
    """Serve the dashboard, package pages and the JSON API (/api/v1) over HTTP."""
    app_state = state(ctx)
    app_state.home()
    try:
        # The optional extra `web`: imported here so the CLI works without it.
        import uvicorn

        from preserve.web import create_app
    except ImportError as exc:
        raise UsageError(detail=f"the web app needs the optional extra: pip install "
                                f"'preserve[web]' ({exc})") from None
    # The app gets the repository as the service layer opens it (preserve/service): how to
    # open the catalog and the storage locations; it reads no settings itself.
    repository = app_state.repository()
    settings = repository.settings
    app = create_app(repository.open_catalog,
                     repository_name=settings["repository.name"],
                     locations=repository.locations, repo=repository.home.path,
                     staging=repository.home.staging,
                     secure_cookies=settings["web.secure_cookies"],
                     max_upload=settings["web.max_upload"],
                     audit_interval=dt.timedelta(days=settings["audit.interval_days"]))
    with repository.open_catalog() as catalog:
        if not catalog.users():
            typer.echo("preserve: no accounts yet; add one first: preserve users add NAME "
                       "--role admin", err=True)
    typer.echo(f"preserve: serving {app_state.repo} at http://{host}:{port}/", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
