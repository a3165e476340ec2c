"""`preserve jobs [--status S]` and `preserve jobs retry ID` (issue 14): what the job queue
holds — queued, running and failed jobs, each failed one with the error of its last
attempt — and putting a failed job back in the queue. PostgreSQL catalogs only (exit 2 on
SQLite, which has no queue).
"""

from __future__ import annotations

import json
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import state

jobs_app = typer.Typer(help="The job queue of `preserve worker` (PostgreSQL catalogs).",
                       invoke_without_command=True)

STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")


@jobs_app.callback()
def jobs(
    ctx: typer.Context,
    status: list[str] = typer.Option(None, "--status", metavar="STATUS",
                                     help="Only jobs in this status (repeatable: todo, "
                                          "doing, succeeded, failed, …; default: todo, "
                                          "doing, failed)."),
) -> None:
    """List queued, running and failed jobs, with the error of each failed one."""
    if ctx.invoked_subcommand is not None:
        return
    from preserve.jobs.queue import OPEN_STATUSES, list_jobs
    for s in status or ():
        if s not in STATUSES:
            raise typer.BadParameter(f"{s!r} is no job status; one of {', '.join(STATUSES)}",
                                     param_hint="--status")
    app = state(ctx)
    app.home()
    conninfo = app.queue_conninfo("preserve jobs")
    with app.open_catalog() as catalog:
        def errors(ids: list[int]) -> dict[int, str]:
            return {job_id: text for job_id, (_attempt, text, _at)
                    in catalog.job_errors(ids).items()}
        found = list_jobs(conninfo, tuple(status) if status else OPEN_STATUSES, errors)
    document = {"jobs": [j.as_dict() for j in found],
                "counts": {s: sum(1 for j in found if j.status == s)
                           for s in dict.fromkeys(j.status for j in found)}}

    def text(d: dict[str, Any]) -> None:
        for j in d["jobs"]:
            args = json.dumps(j["args"], ensure_ascii=False)
            if len(args) > 100:
                args = args[:97] + "..."
            render.line(f"{j['id']:>8} {j['status']:<9} {j['task']:<20} attempts "
                        f"{j['attempts']} {args}")
            if j["error"] and j["status"] in ("failed", "todo"):
                render.line(f"{'':>8} error: {j['error']}")
        if not d["jobs"] and not app.quiet:
            render.line("no jobs")
        elif d["counts"]:
            render.line(", ".join(f"{n} {s}" for s, n in d["counts"].items()))

    render.emit(document, app.json, text)


@jobs_app.command("retry")
def retry(ctx: typer.Context,
          job_id: int = typer.Argument(..., metavar="ID", help="The job's id (`preserve jobs`).")
          ) -> None:
    """Queue a failed job again; a worker runs it next."""
    from preserve.jobs.queue import retry_job
    app = state(ctx)
    app.home()
    retry_job(app.queue_conninfo("preserve jobs retry"), job_id)
    render.emit({"retried": job_id}, app.json,
                lambda d: render.line(f"job {d['retried']} is queued again"))
