"""`preserve report`: holdings, formats, storage, audit coverage and deposits (docs/report.md)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import typer

from preserve.cli.context import state
from preserve.errors import UsageError
from preserve.model import utc_now

FORMATS = ("text", "json", "csv", "html")


def report(
    ctx: typer.Context,
    fmt: str = typer.Option("text", "--format", metavar="|".join(FORMATS),
                            help="text, json, csv or html (a self-contained page)."),
    output: Path = typer.Option(None, "-o", "--output", metavar="FILE",
                                help="Write the report to FILE instead of standard output."),
) -> None:
    """Report on the repository: holdings by year, formats, storage per location, audit
    coverage and deposits per month, all counted by the catalog."""
    import json

    from preserve.cli.report_render import as_csv, as_html, as_text
    app = state(ctx)
    if app.json:
        fmt = "json"
    if fmt not in FORMATS:
        raise UsageError(detail=f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    now = utc_now()
    interval = dt.timedelta(days=app.settings()["audit.interval_days"])
    with app.open_catalog() as catalog:
        figures = catalog.report_figures(now, interval)
    figures = {"generated": now.isoformat(), **figures}
    if fmt == "json":
        text = json.dumps(figures, ensure_ascii=False, indent=2) + "\n"
    elif fmt == "csv":
        text = as_csv(figures)
    elif fmt == "html":
        name = app.settings()["repository.name"] or os.fsdecode(app.home().path.name)
        text = as_html(figures, name, now.strftime("%Y-%m-%d %H:%M UTC"))
    else:
        text = as_text(figures)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
