"""`preserve deposits [--status S]`: every deposit attempt — accepted, rejected, failed, or still
(or forever) in progress — with its path, times and finding codes (issue 11). Rejected
deposits are recorded in the catalog but were visible nowhere else."""

from __future__ import annotations

from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import state
from preserve.names import escape_name

STATUSES = ("accepted", "rejected", "failed", "in_progress")


def deposits(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", metavar="STATUS",
                               help="Only attempts with this status: accepted, rejected, "
                                    "failed, in_progress."),
) -> None:
    """List every deposit attempt with its path, time, outcome and finding codes."""
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"{status!r}: one of {', '.join(STATUSES)}",
                                 param_hint="--status")
    app = state(ctx)
    app.home()
    with app.open_catalog() as catalog:
        attempts = [d for d in catalog.deposits() if status in (None, d.status)]
    rows = []
    for d in attempts:
        rows.append({
            "id": d.id, "source": d.source, "kind": d.kind, "status": d.status,
            "started": d.started.isoformat(timespec="seconds"),
            "finished": d.finished.isoformat(timespec="seconds") if d.finished else None,
            "package_id": d.package_id, "version": d.version,
            "errors": d.error_count, "warnings": d.warning_count,
            "codes": sorted({f.code for f in d.findings})})
    document = {"deposits": rows}

    def text(doc: dict[str, Any]) -> None:
        for r in doc["deposits"]:
            stored = f" -> {r['package_id']} v{r['version']}" if r["package_id"] else ""
            codes = f"  [{', '.join(r['codes'])}]" if r["codes"] else ""
            render.line(escape_name(f"{r['id']:>5}  {r['started']}  {r['status']:<11} "
                                    f"{r['source']}{stored}{codes}"))

    render.emit(document, app.json, text)
