"""Fixity audit of the copies held at another storage location (issue 13, item 4).

The home's own root (`local`) is audited by `run.py`, which also checks the storage tree, the
event chain and the OCFL objects there. Every other location — another disk, an S3 bucket —
is audited here, through the `Location` interface only: each due copy is streamed once and
hashed with sha512 and sha256 together (`replica.hash_stored`) and compared with the catalog
AND with that location's own OCFL inventory (verified against its sidecar), so a finding says
which side disagrees. The same budgets (files, bytes, duration) and the same rate cap apply.

Known damage is re-checked on every run, whatever the budgets: a damaged or missing copy
stays reported until it passes again (then it is `ok` again) or is repaired.
A damaged copy's bytes are kept in `quarantine/<location>-run-<n>/…` with a note; the stored
copy is never changed (repair does that, from a copy verified good). One `fixity check`
PREMIS event per package checked names the location.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preserve import SOFTWARE_NAME, __version__
from preserve.audit.quarantine import NOTE_SUFFIX
from preserve.audit.throttle import RateLimit, Throttle
from preserve.catalog import Catalog
from preserve.catalog.audits import AuditCopy, CopyOutcome
from preserve.errors import PreserveError
from preserve.model import Event, EventOutcome, EventType, software_agent, utc_now
from preserve.storage import layout, replica
from preserve.storage.evidence import keep_copy
from preserve.storage.inventory import INVENTORY
from preserve.storage.layout import object_path_for
from preserve.storage.location import Location, StoredFileMissing
from preserve.storage.objects import REWRITTEN, check_inventory, inventory_files

log = logging.getLogger(__name__)

AGENT = software_agent()
BATCH = 500


@dataclass(frozen=True, slots=True)
class LocationProblem:
    code: str  # AUD-E001 damaged, AUD-E003 missing, AUD-E013 unreadable location
    package_id: str | None
    content_path: str
    location: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "package_id": self.package_id,
                "content_path": self.content_path, "location": self.location,
                "message": self.message}


@dataclass
class LocationAuditReport:
    location: str
    checked: int = 0
    passed: int = 0
    bytes: int = 0
    problems: list[LocationProblem] = field(default_factory=list)
    stopped_by: str | None = None
    #: (package, content path) -> the outcome of its one read in this run
    # (content path, sha512) -> the outcome of its one read in this run
    done: dict[tuple[str, str], CopyOutcome] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"location": self.location, "checked": self.checked, "passed": self.passed,
                "bytes": self.bytes, "ok": self.ok, "stopped_by": self.stopped_by,
                "problems": [p.as_dict() for p in self.problems]}


def audit_location(catalog: Catalog, location: Location, quarantine_dir: Path, *,
                   cutoff: dt.datetime, package_id: str | None = None,
                   max_files: int | None = None, max_bytes: int | None = None,
                   max_duration: float | None = None, max_rate: float | None = None,
                   clock: Callable[[], dt.datetime] = utc_now,
                   atomic: bool = False, recheck_known: bool = True,
                   rate_limit: RateLimit | None = None) -> LocationAuditReport:
    """Check the copies at `location` that are damaged or missing, then those due (never
    checked, or checked before `cutoff`), within the budgets; record every outcome.

    With `atomic` (a queued job, preserve/jobs), at most one batch is checked (the known
    damage, up to BATCH copies, when `recheck_known`; else due copies) and its outcomes are
    recorded in the same transaction as the `fixity check` events — one per package per
    batch: a job killed at any point has recorded both or neither, so its retry records each
    event once. Call again, with `recheck_known` False, while `report.checked` is not zero. `rate_limit`,
    if given, replaces the in-process throttle of `max_rate` (a budget shared by workers)."""
    report = LocationAuditReport(location.name)
    pending: list[CopyOutcome] | None = [] if atomic else None
    throttle: RateLimit | None = rate_limit or (Throttle(max_rate) if max_rate else None)
    deadline = time.monotonic() + max_duration if max_duration is not None else None
    started = clock()
    inventories: dict[str, dict[str, str] | None] = {}
    per_package: dict[str, list[Any]] = {}
    known = ([c for c in catalog.damaged_copies_at(location.name, package_id)]
             if recheck_known else [])
    if atomic:
        known = known[:BATCH]
    for start in range(0, len(known), BATCH):
        _check(catalog, location, known[start:start + BATCH], report, inventories,
               per_package, throttle, quarantine_dir, clock, pending)
    seen = {c.file_id for c in known}
    while not (atomic and known):
        if max_files is not None and report.checked >= max_files:
            report.stopped_by = "max-files"
            break
        if deadline is not None and time.monotonic() >= deadline:
            report.stopped_by = "max-duration"
            break
        limit = BATCH if max_files is None else min(BATCH, max_files - report.checked)
        batch = [c for c in catalog.due_copies(location=location.name, checked_before=min(
            cutoff, started), limit=limit, package_id=package_id) if c.file_id not in seen]
        if max_bytes is not None:
            allowed: list[AuditCopy] = []
            total = report.bytes
            for c in batch:
                if total + c.size > max_bytes and (allowed or report.checked):
                    report.stopped_by = "max-bytes"
                    break
                allowed.append(c)
                total += c.size
            batch = allowed
        if not batch:
            break
        seen.update(c.file_id for c in batch)
        _check(catalog, location, batch, report, inventories, per_package, throttle,
               quarantine_dir, clock, pending)
        if report.stopped_by or atomic:
            break
    # The map of each package read: its inventories at this location, against their sidecars
    # and the digests the catalog pinned at ingest (OCFL 1.1 section 3.5.6; issue 18).
    for pid in sorted(per_package):
        _check_inventories(catalog, location, pid, report, per_package[pid])
    finished = clock()
    events = [_event(location, pid, counts, finished) for pid, counts in per_package.items()]
    if pending is not None:
        if pending or events:
            catalog.record_fixity(pending, events)
    elif events:
        catalog.append_events(events)
    return report


def _check(catalog: Catalog, location: Location, batch: list[AuditCopy],
           report: LocationAuditReport, inventories: dict[str, dict[str, str] | None],
           per_package: dict[str, list[Any]], throttle: RateLimit | None, quarantine_dir: Path,
           clock: Callable[[], dt.datetime], pending: list[CopyOutcome] | None = None) -> None:
    outcomes: list[CopyOutcome] = []
    # Versions share unchanged content: a content file is read and reported once per run.
    done = report.done
    for copy in batch:
        key = (copy.package_id, copy.content_path)
        if key in done:
            first = done[key]
            outcomes.append(CopyOutcome(copy.file_id, copy.location_id, first.outcome,
                                        first.status, first.checked_at))
            continue
        before = len(outcomes)
        _check_one(catalog, location, copy, report, inventories, per_package, throttle,
                   quarantine_dir, clock, outcomes)
        if len(outcomes) > before:
            done[key] = outcomes[-1]
    if pending is not None:
        pending.extend(outcomes)
    else:
        catalog.record_fixity(outcomes)


def _check_one(catalog: Catalog, location: Location, copy: AuditCopy,
               report: LocationAuditReport, inventories: dict[str, dict[str, str] | None],
               per_package: dict[str, list[Any]], throttle: RateLimit | None, quarantine_dir: Path,
               clock: Callable[[], dt.datetime], outcomes: list[CopyOutcome]) -> None:
    path = f"{layout.object_path_for(copy.package_id)}/{copy.content_path}"
    listed = _listed_digest(location, copy.package_id, copy.content_path, inventories)
    now = clock()
    counts = per_package.setdefault(copy.package_id, [0, 0, []])
    counts[0] += 1
    report.checked += 1
    try:
        size, sha256, sha512 = replica.hash_stored(location, path)
    except StoredFileMissing:
        problem = LocationProblem("AUD-E003", copy.package_id, copy.content_path,
                                  location.name, f"{copy.content_path} of {copy.package_id} "
                                  f"is missing at location {location.name!r}; run "
                                  "`preserve repair` to restore it from a good copy")
        _problem(report, counts, problem)
        outcomes.append(CopyOutcome(copy.file_id, copy.location_id, "fail", "missing", now))
        return
    except PreserveError as error:  # unreachable: not evidence of damage
        problem = LocationProblem("AUD-E013", copy.package_id, copy.content_path,
                                  location.name, error.message)
        _problem(report, counts, problem)
        outcomes.append(CopyOutcome(copy.file_id, copy.location_id, "could-not-check",
                                    None, now))
        return
    if throttle is not None:
        throttle.consume(size)
    report.bytes += size
    matches_catalog = (size, sha256, sha512) == (copy.size, copy.sha256, copy.sha512)
    inventory_agrees = listed is None or listed == copy.sha512
    if matches_catalog and inventory_agrees:
        report.passed += 1
        counts[1] += 1
        outcomes.append(CopyOutcome(copy.file_id, copy.location_id, "pass", "ok", now))
        return
    sides = ("the catalog and the location's inventory both" if inventory_agrees
             else "the catalog" if matches_catalog is False and listed != sha512
             else "the location's inventory")
    kept = _keep(location, path, quarantine_dir / f"{location.name}-audit-"
                 f"{now.strftime('%Y%m%dT%H%M%S')}", copy, sha512, now)
    message = (f"{copy.content_path} of {copy.package_id} at location {location.name!r} is "
               f"damaged: read {size} bytes with sha512 {sha512}, but {sides} say "
               f"{copy.size} bytes, sha512 {copy.sha512}"
               + (f"; a copy was kept in {kept}" if kept else "")
               + "; run `preserve repair` to restore it from a good copy")
    if matches_catalog and not inventory_agrees:
        message = (f"{copy.content_path} of {copy.package_id} at location {location.name!r}"
                   f" matches the catalog but its inventory there lists sha512 {listed}: "
                   "the inventory at that location was changed")
    _problem(report, counts, LocationProblem("AUD-E001", copy.package_id,
                                             copy.content_path, location.name, message))
    outcomes.append(CopyOutcome(copy.file_id, copy.location_id, "fail", "damaged", now))


def _check_inventories(catalog: Catalog, location: Location, package_id: str,
                       report: LocationAuditReport, counts: list[Any]) -> None:
    base = object_path_for(package_id)
    for relative, pinned in inventory_files(catalog.inventory_digests(package_id)):
        trouble = check_inventory(location, f"{base}/{relative}" if relative else base, pinned)
        if trouble is None:
            continue
        verdict, why = trouble
        name = f"{relative}/{INVENTORY}" if relative else INVENTORY
        code = "AUD-E014" if verdict == REWRITTEN else "AUD-E005"
        _problem(report, counts, LocationProblem(
            code, package_id, name, location.name,
            f"the OCFL inventory {name} of {package_id} at location {location.name!r} cannot "
            f"be trusted: {why}; run `preserve repair --package {package_id}` to restore it "
            "from a location where it verifies"))


def _problem(report: LocationAuditReport, counts: list[Any], problem: LocationProblem) -> None:
    report.problems.append(problem)
    counts[2].append(problem)


def _listed_digest(location: Location, package_id: str, content_path: str,
                   inventories: dict[str, dict[str, str] | None]) -> str | None:
    """The sha512 the location's own inventory gives the content path (None if unreadable:
    a missing or broken inventory at the location is then no side to compare)."""
    if package_id not in inventories:
        try:
            inventory, _digest = replica.read_inventory(location, package_id)
            inventories[package_id] = {path: digest for digest, paths in
                                       inventory.manifest.items() for path in paths}
        except PreserveError as error:
            log.warning("%s: cannot read the inventory of %s: %s", location.name, package_id,
                        error.message)
            inventories[package_id] = None
    table = inventories[package_id]
    return None if table is None else table.get(content_path)


def _keep(location: Location, path: str, directory: Path, copy: AuditCopy, sha512: str,
          now: dt.datetime) -> Path | None:
    note = {"package_id": copy.package_id, "content_path": copy.content_path,
            "read_sha512": sha512, "expected_sha512": copy.sha512, "time": now.isoformat()}
    try:
        return keep_copy(location, path, directory.joinpath(*path.split("/")), note,
                         NOTE_SUFFIX)
    except (OSError, PreserveError) as error:
        log.warning("could not keep a copy of damaged %s at %s: %s", path, location.name, error)
        return None


def _event(location: Location, package_id: str, counts: list[Any], finished: dt.datetime) -> Event:
    checked, passed, problems = counts
    return Event(
        type=EventType.FIXITY_CHECK,
        outcome=EventOutcome.FAILURE if problems else EventOutcome.SUCCESS,
        time=finished, agent=AGENT, package_id=package_id,
        detail=(f"audit of location {location.name!r} by {SOFTWARE_NAME} {__version__}: re-read "
                f"{checked} stored file(s) with sha512 and sha256; {passed} passed, "
                f"{checked - passed} failed"),
        outcome_detail=("; ".join(f"{p.code} {p.content_path}" for p in problems) if problems
                        else f"every file checked at {location.name!r} matches the catalog and "
                        "the location's OCFL inventory"),
        object_paths=tuple(dict.fromkeys(p.content_path for p in problems)))
