"""The job queue on the catalog's PostgreSQL (issue 14): procrastinate, no other broker.

Jobs are rows of procrastinate's tables (migration 0005), next to the audit log. A worker
takes one with `FOR UPDATE SKIP LOCKED`, hears of new ones by LISTEN/NOTIFY and writes a
heartbeat every few seconds. The tasks, each a call of `preserve.jobs.work`:

| task | queue | lock (never two at once) | queueing lock (never queued twice) |
| --- | --- | --- | --- |
| `preserve.replicate` | `replicate` | `replicate:<package>` | `replicate:<package>:<location or *>` |
| `preserve.audit` | `audit` | `copies:<location>:<bucket>` | `audit:<location>:<bucket>` |
| `preserve.repair` | `repair` | `copies:<location>:<bucket>` | `repair:<location>:<package>` |
| `preserve.identify` | `identify` | `identify:<package>:v<n>` | the same |
| `preserve.export` | `export` | `export:<target path>` | the same |
| `preserve.nightly` | `audit` | `nightly` | (periodic: one per scheduled time) |

The bucket is a hash of the package id (`work.bucket`): an audit and a repair of one copy,
or two audits of it, share a lock, so two workers never read or rewrite one copy at once.

A worker killed with `kill -9` leaves its job `doing` and stops its heartbeat. Every worker
looks for such jobs (those of workers silent for `stalled_after` seconds) and puts them back
in the queue; the job's own idempotence (work.py) makes the second run record each event once.
Why an attempt failed is kept in the catalog's `job_errors` table for `preserve jobs`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from procrastinate.jobs import Job

from preserve.errors import CatalogError, StorageError
from preserve.jobs import work
from preserve.jobs.work import JobEnvironment
from preserve.model import utc_now

log = logging.getLogger(__name__)

QUEUES = ("replicate", "audit", "repair", "identify", "export")
#: Statuses `preserve jobs` shows by default: what is waiting, running, or failed.
OPEN_STATUSES = ("todo", "doing", "failed")
#: A failure of storage or of the catalog is worth another try later; anything else
#: (a package that does not verify, a bad setting) fails at once and waits for a person.
RETRY = RetryStrategy(max_attempts=3, wait=5, exponential_wait=2,
                      retry_exceptions=[StorageError, CatalogError])
ENV_KEY = "preserve"
CONNINFO_KEY = "conninfo"
#: Seconds a worker waits before connecting again after losing the database.
RECONNECT_DELAY = 3.0

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QueuedJob:
    """One job as `preserve jobs` shows it."""

    id: int
    task: str
    queue: str
    status: str
    attempts: int
    args: dict[str, Any]
    lock: str | None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "task": self.task, "queue": self.queue, "status": self.status,
                "attempts": self.attempts, "args": self.args, "lock": self.lock,
                "error": self.error}


@dataclass(frozen=True, slots=True)
class Enqueued:
    """What an `--enqueue` did: jobs created, and those skipped as already waiting."""

    task: str
    created: tuple[int, ...]
    already_queued: int

    def as_dict(self) -> dict[str, Any]:
        return {"task": self.task, "created": list(self.created),
                "already_queued": self.already_queued}


def make_app(conninfo: str, application_name: str = "preserve",
             nightly: str | None = None) -> App:
    """A procrastinate App on the PostgreSQL catalog at libpq `conninfo`, with our tasks;
    with `nightly` (a cron line), this app's workers defer `preserve.nightly` on it.

    procrastinate's pool checks each connection before lending it: after a database
    restart or a network cut, a dead connection is replaced instead of failing a query."""
    app = App(connector=PsycopgConnector(
        conninfo=conninfo, kwargs={"application_name": application_name}))
    app.task(name="preserve.replicate", queue="replicate", pass_context=True,
             retry=RETRY)(_replicate_task)
    app.task(name="preserve.audit", queue="audit", pass_context=True,
             retry=RETRY)(_audit_task)
    app.task(name="preserve.repair", queue="repair", pass_context=True,
             retry=RETRY)(_repair_task)
    app.task(name="preserve.identify", queue="identify", pass_context=True,
             retry=RETRY)(_identify_task)
    app.task(name="preserve.export", queue="export", pass_context=True,
             retry=RETRY)(_export_task)
    nightly_task = app.task(name="preserve.nightly", queue="audit", pass_context=True,
                            retry=RETRY, lock="nightly",
                            queueing_lock="nightly")(_nightly_task)
    if nightly:
        # Every worker defers it; procrastinate records each (task, time) once in
        # `procrastinate_periodic_defers`, so one job per scheduled time, fleet-wide.
        app.periodic(cron=nightly, periodic_id="nightly")(nightly_task)
    return app


# --- the tasks: record why an attempt failed, then let procrastinate retry or fail it ------

def _run(context: JobContext, call: Callable[[JobEnvironment], T]) -> T:
    env = context.additional_context[ENV_KEY]
    assert isinstance(env, JobEnvironment), "the worker passes its environment"
    job = context.job
    try:
        return call(env)
    except Exception as error:
        message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        log.error("job %s (%s) attempt %s failed: %s", job.id, job.task_name, job.attempts,
                  message)
        log.debug("%s", traceback.format_exc())
        try:
            with env.open_catalog() as catalog:
                assert job.id is not None
                catalog.record_job_error(job.id, job.attempts, job.task_name, message,
                                         utc_now())
        except Exception:  # the job's own error matters more
            log.exception("could not record the error of job %s", job.id)
        raise


def _replicate_task(context: JobContext, package_id: str,
                    location: str | None = None) -> dict[str, Any]:
    return _run(context, lambda env: work.replicate_package(env, package_id, location))


def _audit_task(context: JobContext, location: str, package_ids: list[str],
                cutoff: str, max_rate: float | None = None) -> dict[str, Any]:
    when = dt.datetime.fromisoformat(cutoff)
    return _run(context, lambda env: work.audit_batch(env, location, package_ids, when,
                                                      max_rate))


def _repair_task(context: JobContext, package_id: str, location: str) -> dict[str, Any]:
    return _run(context, lambda env: work.repair_package(env, package_id, location))


def _identify_task(context: JobContext, package_id: str, version: int) -> dict[str, Any]:
    from preserve.jobs.identify import identify_version
    return _run(context, lambda env: identify_version(env, package_id, version))


def _export_task(context: JobContext, package_id: str, version: int, target: str,
                 export_format: str, export_id: str) -> dict[str, Any]:
    from preserve.jobs.export import export_job
    return _run(context, lambda env: export_job(env, package_id, version, target,
                                                export_format, export_id))


def _nightly_task(context: JobContext, timestamp: int) -> dict[str, Any]:
    """The periodic run: queue the due audits, delete jobs finished long enough ago."""
    conninfo = context.additional_context[CONNINFO_KEY]

    def call(env: JobEnvironment) -> dict[str, Any]:
        names = [location.name for location in env.locations()]
        cutoff = utc_now() - dt.timedelta(days=env.audit_interval_days)
        with env.open_catalog() as catalog:
            due, copies = work.due_audits(catalog, names, cutoff)
        made = enqueue_audits(conninfo, due, cutoff, max_rate=env.audit_max_rate)
        deleted = None
        if env.keep_jobs_days is not None:
            deleted = delete_finished_jobs(conninfo, env.keep_jobs_days)
        log.info("nightly run for %s: %d due copies at %d location(s), %d audit job(s) "
                 "queued%s", dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(), copies,
                 len(due), len(made.created),
                 "" if deleted is None else f"; jobs finished over {env.keep_jobs_days:g} "
                 "days ago deleted")
        return made.as_dict() | {"copies": copies, "cutoff": cutoff.isoformat(),
                                 "deleted_old_jobs": deleted is not None}
    return _run(context, call)


def valid_cron(line: str) -> bool:
    """Whether procrastinate's periodic deferrer (croniter) takes `line`."""
    import croniter  # type: ignore[import-untyped]  # procrastinate's cron parser
    return bool(croniter.croniter.is_valid(line))


def delete_finished_jobs(conninfo: str, days: float) -> bool:
    """Delete the jobs that succeeded more than `days` ago (procrastinate's
    `delete_old_jobs`; failed jobs stay for `preserve jobs` until retried or handled)."""
    async def delete() -> None:
        app = make_app(conninfo)
        async with app.open_async():
            await app.job_manager.delete_old_jobs(nb_hours=int(days * 24))
    asyncio.run(delete())
    return True


# --- enqueueing ---------------------------------------------------------------------------

def enqueue_replication(conninfo: str, package_ids: Iterable[str],
                        location: str | None = None) -> Enqueued:
    """One replication job per package."""
    jobs = [({"package_id": pid, "location": location}, f"replicate:{pid}",
             f"replicate:{pid}:{location or '*'}") for pid in package_ids]
    return asyncio.run(_defer(conninfo, "preserve.replicate", jobs))


def enqueue_audits(conninfo: str, due: Mapping[str, Sequence[str]],
                   cutoff: dt.datetime, max_rate: float | None = None) -> Enqueued:
    """Audit jobs for the due packages of each location (location -> package ids): one
    job per location and lock bucket, so a location is read by many workers side by side;
    with `max_rate` (bytes per second) all of them together read each location at most
    that fast."""
    jobs = []
    for location, package_ids in due.items():
        buckets: dict[int, list[str]] = {}
        for pid in package_ids:
            buckets.setdefault(work.bucket(pid), []).append(pid)
        for number, pids in sorted(buckets.items()):
            jobs.append(({"location": location, "package_ids": pids,
                          "cutoff": cutoff.isoformat(), "max_rate": max_rate},
                         f"copies:{location}:{number}",
                         f"audit:{location}:{number}"))
    return asyncio.run(_defer(conninfo, "preserve.audit", jobs))


def enqueue_repairs(conninfo: str, copies: Iterable[tuple[str, str]]) -> Enqueued:
    """One repair job per (package, location) with damaged or missing copies."""
    jobs = [({"package_id": pid, "location": location}, work.copies_lock(location, pid),
             f"repair:{location}:{pid}") for pid, location in dict.fromkeys(copies)]
    return asyncio.run(_defer(conninfo, "preserve.repair", jobs))


def enqueue_identification(conninfo: str, package_id: str, version: int) -> Enqueued:
    """One job identifying the payload formats of a version stored without them."""
    key = f"identify:{package_id}:v{version}"
    return asyncio.run(_defer(conninfo, "preserve.identify",
                              [({"package_id": package_id, "version": version}, key, key)]))


def enqueue_export(conninfo: str, package_id: str, version: int, target: str,
                   export_format: str) -> Enqueued:
    """One job exporting a version to the exact path `target` (fixed now, with the id that
    names each run's transfer event: see preserve/jobs/export.py)."""
    key = f"export:{target}"
    args = {"package_id": package_id, "version": version, "target": target,
            "export_format": export_format, "export_id": str(uuid.uuid4())}
    return asyncio.run(_defer(conninfo, "preserve.export", [(args, key, key)]))


async def _defer(conninfo: str, task_name: str,
                 jobs: list[tuple[dict[str, Any], str, str]]) -> Enqueued:
    app = make_app(conninfo)
    created: list[int] = []
    skipped = 0
    async with app.open_async():
        task = app.tasks[task_name]
        for args, lock, queueing_lock in jobs:
            try:
                created.append(await task.configure(
                    lock=lock, queueing_lock=queueing_lock).defer_async(**args))
            except AlreadyEnqueued:
                skipped += 1
    return Enqueued(task_name, tuple(created), skipped)


# --- looking at the queue -----------------------------------------------------------------

def list_jobs(conninfo: str, statuses: Sequence[str] = OPEN_STATUSES,
              errors: Callable[[list[int]], dict[int, str]] | None = None) -> list[QueuedJob]:
    """The jobs in `statuses`, oldest first, each with its latest error (from `errors`)."""
    found = asyncio.run(_list(conninfo, statuses))
    messages = errors([j.id for j in found if j.id is not None]) if errors else {}
    return [QueuedJob(j.id or 0, j.task_name, j.queue, j.status or "", j.attempts,
                      dict(j.task_kwargs), j.lock, messages.get(j.id or 0)) for j in found]


async def _list(conninfo: str, statuses: Sequence[str]) -> list[Job]:
    app = make_app(conninfo)
    async with app.open_async():
        found: list[Job] = []
        for status in statuses:
            found += list(await app.job_manager.list_jobs_async(status=status))
    return sorted(found, key=lambda j: j.id or 0)


class JobNotRetryable(StorageError):
    """{detail}"""


def retry_job(conninfo: str, job_id: int) -> None:
    """Put a failed (or stalled `doing`) job back in the queue, to run now."""
    asyncio.run(_retry(conninfo, job_id))


async def _retry(conninfo: str, job_id: int) -> None:
    app = make_app(conninfo)
    async with app.open_async():
        jobs = list(await app.job_manager.list_jobs_async(id=job_id))
        if not jobs or jobs[0].status not in ("failed", "doing"):
            state = jobs[0].status if jobs else "not in the queue"
            raise JobNotRetryable(detail=f"job {job_id} is {state}; only a failed job (or "
                                  "one stuck as doing) can be retried; `preserve jobs` lists them")
        await app.job_manager.retry_job_by_id_async(job_id, retry_at=utc_now())


# --- the worker ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class WorkerOptions:
    queues: tuple[str, ...] | None = None  # None: every queue
    concurrency: int = 1
    name: str | None = None
    heartbeat: float = 5.0  # seconds between heartbeats
    stalled_after: float = 30.0  # a worker silent this long is dead; its jobs are requeued
    graceful_timeout: float | None = None  # None: SIGTERM waits for running jobs to end
    nightly: str | None = None  # cron line of the periodic `preserve.nightly`; None: off


def run_worker(conninfo: str, env: JobEnvironment, options: WorkerOptions) -> None:
    """Run jobs until SIGTERM or SIGINT: then take no new job, let the running ones finish
    (or, after `graceful_timeout`, leave them to be requeued by another worker), exit.

    Losing the database (a restart, a network cut) does not end the worker: it starts
    again after RECONNECT_DELAY seconds, with new connections; a job it was running when
    the connection went is requeued like any stalled job."""
    name = f"preserve worker {options.name or ''}".strip()
    while True:
        try:
            asyncio.run(_serve(make_app(conninfo, name, options.nightly), conninfo, env,
                               options))
            return
        except (ConnectorException, psycopg.OperationalError) as error:
            log.error("lost the job queue's database (%s); connecting again in %g s",
                      str(error).strip().splitlines()[0] if str(error).strip() else
                      type(error).__name__, RECONNECT_DELAY)
            time.sleep(RECONNECT_DELAY)


async def _serve(app: App, conninfo: str, env: JobEnvironment,
                 options: WorkerOptions) -> None:
    async with app.open_async():
        await requeue_stalled(app, options.stalled_after)
        watcher = asyncio.create_task(_watch_stalled(app, options))
        try:
            settings: dict[str, Any] = {"queues": list(options.queues) if options.queues else None,
                                        "shutdown_graceful_timeout": options.graceful_timeout}
            if options.name:
                settings["name"] = options.name
            # procrastinate's typing says str and float; its code takes None for "every
            # queue" and "wait for running jobs", as documented.
            await app.run_worker_async(
                concurrency=options.concurrency, wait=True,
                additional_context={ENV_KEY: env, CONNINFO_KEY: conninfo},
                update_heartbeat_interval=options.heartbeat,
                stalled_worker_timeout=options.stalled_after,
                install_signal_handlers=True, **settings)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)


async def _watch_stalled(app: App, options: WorkerOptions) -> None:
    while True:
        await asyncio.sleep(max(1.0, options.heartbeat))
        try:
            await requeue_stalled(app, options.stalled_after)
        except Exception:  # the database away for a moment: try again next round
            log.warning("could not look for stalled jobs", exc_info=True)


async def requeue_stalled(app: App, stalled_after: float) -> list[int]:
    """Put back in the queue the `doing` jobs of workers silent for `stalled_after` s."""
    requeued = []
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        assert job.id is not None
        try:
            await app.job_manager.retry_job_by_id_async(job.id, retry_at=utc_now())
        except Exception:  # another worker requeued it first
            log.debug("job %s was requeued elsewhere", job.id, exc_info=True)
            continue
        log.warning("job %s (%s) was left running by a worker that stopped answering; "
                    "it is queued again", job.id, job.task_name)
        requeued.append(job.id)
    return requeued
