"""What each queued job does (issue 14): thin calls of the workflows, made safe to repeat.

Every job here may run twice — a worker killed with `kill -9` leaves its job `doing`, and the
queue hands it to another worker — so each one records its PREMIS events exactly once:

* **replicate a package** (`replicate_package`): `replicate.replicate` for one package. The
  copy rows and the `replication` event are one transaction after the copy is verified; a
  retry finds the package complete at the target and does nothing, or resumes a half-sent
  copy (files already verified there are not sent again) and records the event then.
* **audit a batch** (`audit_batch`): the copies of some packages at one location, due
  before a cutoff fixed when the job was enqueued. `audit_location(atomic=True)` records
  each batch's outcomes and its `fixity check` events in one transaction, so a killed job
  has recorded both or neither; its retry skips the copies already checked after the cutoff.
* **repair a copy** (`repair_package`): `repair.repair_copies` for one package at one
  location; the status change and the event are one transaction, and a retry finds nothing
  damaged any more.

None of these functions knows the queue: `preserve.jobs.queue` calls them with a
`JobEnvironment` the worker built from the repository's settings.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preserve.audit.locations import audit_location
from preserve.catalog import Catalog
from preserve.errors import ExitCode, FixityError, PreserveError, StorageError, UsageError
from preserve.repair import repair_copies
from preserve.replicate import replicate
from preserve.storage.location import Location

if TYPE_CHECKING:
    from preserve.metadata import SchemaSet

log = logging.getLogger(__name__)

#: Audit and repair jobs take the lock `copies:<location>:<bucket>`, the bucket a hash of
#: the package id: two jobs touching one package's copies at one location never run at
#: once, whichever `audit --enqueue` made them, while a location is still audited by up
#: to this many workers side by side.
BUCKETS = 64


@dataclass(frozen=True, slots=True)
class JobEnvironment:
    """What a job needs from the repository a worker serves (built by the CLI)."""

    open_catalog: Callable[[], Catalog]
    locations: Callable[[], list[Location]]
    quarantine: Path
    copies: int  # replication.copies
    replication_threads: int = 8
    max_rate: float | None = None  # bytes per second, per job
    staging: Path | None = None  # the home's staging directory (scratch space of exports)
    organization: str = ""  # repository.name, the exporting archive
    schemas: Callable[[], SchemaSet | None] | None = None  # the METS schemas, for exports
    audit_interval_days: float = 90.0  # audit.interval_days: what the nightly run finds due
    keep_jobs_days: float | None = None  # the nightly run deletes jobs finished before that
    #: audit.max_rate: the nightly run's audits share it per location, fleet-wide (bytes/s)
    audit_max_rate: float | None = None


class JobFailed(PreserveError):
    """{detail}"""

    exit_code = ExitCode.INTERNAL


class JobStorageFailed(StorageError):
    """{detail}"""


def bucket(package_id: str) -> int:
    """The lock bucket of a package (stable across processes and machines)."""
    return zlib.crc32(package_id.encode("utf-8")) % BUCKETS


def copies_lock(location: str, package_id: str) -> str:
    return f"copies:{location}:{bucket(package_id)}"


def _location(env: JobEnvironment, name: str) -> tuple[Location, list[Location]]:
    locations = env.locations()
    for location in locations:
        if location.name == name:
            return location, locations
    raise UsageError(detail=f"no storage location named {name!r} is configured on this "
                     "worker; give every worker the same [locations.*] settings")


def due_audits(catalog: Catalog, locations: Sequence[str], cutoff: dt.datetime,
               package_id: str | None = None) -> tuple[dict[str, list[str]], int]:
    """The packages with copies checked before `cutoff` (or damaged or missing), location
    by location, and how many copies that is: what `audit --enqueue` and the nightly task
    put in the queue."""
    due: dict[str, list[str]] = {}
    copies = 0
    for name in locations:
        rows = [row for row in catalog.due_packages(location=name, checked_before=cutoff)
                if package_id in (None, row[0])]
        copies += sum(n for _pid, n, _size in rows)
        if rows:
            due[name] = [pid for pid, _n, _size in rows]
    return due, copies


def replicate_package(env: JobEnvironment, package_id: str,
                      location: str | None = None) -> dict[str, Any]:
    """Bring one package up to its copies (or copy it to `location`)."""
    with env.open_catalog() as catalog:
        report = replicate(catalog, env.locations(), env.copies, package_ids=[package_id],
                           only=location, workers=env.replication_threads)
    document = report.as_dict()
    if report.failed:
        detail = "; ".join(f"{f.location}: {f.message}" for f in report.failed)
        if any(f.exit_code == ExitCode.STORAGE for f in report.failed):
            raise JobStorageFailed(detail=f"replication of {package_id} failed: {detail}")
        raise JobFailed(detail=f"replication of {package_id} failed: {detail}")
    return document


class FleetRate:
    """The read budget of one location shared by every worker (`audit --enqueue
    --max-rate`): each read is booked in the catalog (`Catalog.reserve_bandwidth`), and the
    reader sleeps until the location's budget has room, so N workers on M machines read
    the location at `rate` together, not N times it."""

    def __init__(self, catalog: Catalog, location: str, rate: float,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.catalog, self.location, self.rate, self._sleep = catalog, location, rate, sleep

    def consume(self, n: int) -> None:
        wait = self.catalog.reserve_bandwidth(self.location, n, self.rate)
        if wait > 0:
            self._sleep(wait)


def audit_batch(env: JobEnvironment, location: str, package_ids: Sequence[str],
                cutoff: dt.datetime, fleet_rate: float | None = None) -> dict[str, Any]:
    """Check the copies at `location` of `package_ids` that are damaged, missing, or were
    last checked before `cutoff`; record outcomes and events batch by batch, atomically.
    With `fleet_rate` (bytes per second), every worker's reads of the location share it."""
    target, _all = _location(env, location)
    totals: dict[str, Any] = {"location": location, "packages": len(package_ids),
                              "checked": 0, "passed": 0, "bytes": 0, "problems": []}
    with env.open_catalog() as catalog:
        shared = FleetRate(catalog, location, fleet_rate) if fleet_rate else None
        for package_id in package_ids:
            if not catalog.package_exists(package_id):
                continue  # gone since the job was enqueued
            recheck = True
            began = time.time()
            while True:
                report = audit_location(catalog, target, env.quarantine, cutoff=cutoff,
                                        package_id=package_id, max_rate=env.max_rate,
                                        atomic=True, recheck_known=recheck,
                                        rate_limit=shared)
                totals["checked"] += report.checked
                totals["passed"] += report.passed
                totals["bytes"] += report.bytes
                totals["problems"] += [p.as_dict() for p in report.problems]
                if report.checked == 0 and not recheck:
                    break
                recheck = False
            # Start and end of each package's audit, for operators and for the test that
            # two workers never audit one copy at once.
            log.debug("audit batch %s %s at %s from %.6f to %.6f", bucket(package_id),
                      package_id, location, began, time.time())
    for problem in totals["problems"]:
        log.warning("%s %s", problem["code"], problem["message"])
    log.info("audited %d copies of %d package(s) at %s: %d passed", totals["checked"],
             len(package_ids), location, totals["passed"])
    return totals


def repair_package(env: JobEnvironment, package_id: str, location: str) -> dict[str, Any]:
    """Restore the damaged or missing copies of one package at one location."""
    _target, locations = _location(env, location)
    with env.open_catalog() as catalog:
        report = repair_copies(catalog, locations, env.quarantine, package_id=package_id,
                               location=location)
    if report.unrepaired:
        detail = "; ".join(f"{u.content_path}: {u.reason}" for u in report.unrepaired)
        raise FixityError(detail=f"{package_id} at {location}: not repaired: {detail}")
    return report.as_dict()
