"""The web app (issue 15 "The web app"): server-rendered pages and a JSON API over the catalog.

A layer beside the CLI: the CLI's `serve` command builds the app with `create_app`, handing it
how to open the catalog, so neither imports the other.
"""

from __future__ import annotations

from preserve.web.app import create_app

__all__ = ["create_app"]
