"""`preserve worker [--queues Q,…] [--concurrency N]`: run queued jobs (issue 14).

A long-running process for systemd or any process manager (docs/workers.md): it logs one
line per event to stderr (time, level, logger, message), takes jobs from the job queue in
the catalog's PostgreSQL database, and on SIGTERM or SIGINT takes no new job, lets the
running ones finish and exits 0. A worker killed harder leaves its job to another worker
once its heartbeat is `--stalled-after` seconds old. SQLite repositories have no queue:
exit 2.
"""

from __future__ import annotations

import logging
import os
import socket
import sys

import typer

from preserve.cli import units
from preserve.cli.context import state

QUEUE_NAMES = ("replicate", "audit", "repair", "identify", "export")


def worker(
    ctx: typer.Context,
    queues: str = typer.Option(None, "--queues", metavar="Q,…",
                               help="Take jobs only from these queues (replicate, audit, "
                                    "repair, identify, export; default: all)."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, metavar="N",
                                    help="Jobs run at once by this process (threads)."),
    name: str = typer.Option(None, "--name", metavar="NAME",
                             help="Name in the logs (default: host-pid)."),
    max_rate_text: str | None = typer.Option(
        None, "--max-rate", metavar="RATE",
        help="Each audit job reads at most RATE (200MB/s; a bare number is MB/s)."),
    heartbeat: float = typer.Option(5.0, "--heartbeat", min=0.1, metavar="SECONDS",
                                    help="Seconds between this worker's heartbeats."),
    stalled_after: float = typer.Option(30.0, "--stalled-after", min=0.5, metavar="SECONDS",
                                        help="A worker silent this long is taken for dead "
                                             "and its running jobs are queued again."),
    graceful_timeout: float = typer.Option(None, "--graceful-timeout", min=0,
                                           metavar="SECONDS",
                                           help="On SIGTERM wait at most this long for "
                                                "running jobs (default: until they end)."),
    nightly: str = typer.Option(
        "0 2 * * *", "--nightly", metavar="CRON",
        help="When the periodic nightly task runs (cron, UTC; 'off': never): it queues the "
             "due audits and deletes jobs finished --keep-jobs days ago. Give every worker "
             "the same; it runs once per time for the whole fleet."),
    keep_jobs: float = typer.Option(30.0, "--keep-jobs", min=0, metavar="DAYS",
                                    help="The nightly task deletes succeeded jobs finished "
                                         "more than DAYS ago (failed ones stay)."),
) -> None:
    """Run queued jobs (replicate, audit, repair, identify, export; the nightly task) until
    stopped (SIGTERM finishes them)."""
    import dataclasses

    from preserve.jobs.queue import WorkerOptions, run_worker, valid_cron
    chosen = None
    if queues:
        chosen = tuple(q.strip() for q in queues.split(",") if q.strip())
        unknown = [q for q in chosen if q not in QUEUE_NAMES]
        if unknown:
            raise typer.BadParameter(f"unknown queue(s) {', '.join(unknown)}; the queues are "
                                     + ", ".join(QUEUE_NAMES), param_hint="--queues")
    rate = units.rate(max_rate_text, "--max-rate")
    schedule = None if nightly.strip().lower() in ("off", "") else nightly.strip()
    if schedule is not None and not valid_cron(schedule):
        raise typer.BadParameter(f"{nightly!r} is not a cron line (e.g. '0 2 * * *'; a "
                                 "sixth field is seconds); 'off' turns it off",
                                 param_hint="--nightly")
    app = state(ctx)
    app.home()
    conninfo = app.queue_conninfo("preserve worker")
    label = name or f"{socket.gethostname()}-{os.getpid()}"
    _log_for_process_manager(app.verbosity)
    logging.getLogger(__name__).info("worker %s starting on queues %s with %d job(s) at once",
                                     label, ",".join(chosen or QUEUE_NAMES), concurrency)
    env = dataclasses.replace(app.job_environment(rate), keep_jobs_days=keep_jobs)
    run_worker(conninfo, env, WorkerOptions(
        queues=chosen, concurrency=concurrency, name=label, heartbeat=heartbeat,
        stalled_after=stalled_after, graceful_timeout=graceful_timeout, nightly=schedule))


def _log_for_process_manager(verbosity: int) -> None:
    """One line per record on stderr, with the time: journald and others collect it. A
    worker logs its milestones (jobs started, finished, failed) unless -q."""
    level = logging.ERROR if verbosity < 0 else logging.DEBUG if verbosity > 1 else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for logger_name in ("preserve", "procrastinate"):
        logger = logging.getLogger(logger_name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
