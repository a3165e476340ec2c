"""`preserve serve`: the web app over this repository (issue 15 "The web app")."""

from __future__ import annotations

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
    app = create_app(app_state.open_catalog,
                     repository_name=app_state.settings()["repository.name"],
                     locations=app_state.locations)
    typer.echo(f"preserve: serving {app_state.repo} at http://{host}:{port}/", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
