"""Acting on what `find_inconsistencies` found (`preserve check --repair`, issue 6 item 3).

Each repair re-checks its own condition first (the scan may be minutes old and an ingest may
have started since), then acts, then appends one PREMIS event to the hash-chained log; an
action that fails is a CHK-E007 finding and the others still run.

* orphaned staging dir (E001): removed, its lock file too; the deposit is the source and
  nothing there is unique. Event `deletion`.
* empty directory in the storage root (E008): removed. Event `deletion`.
* object without rows (E002): every byte verified (verify.py), then its catalog rows rebuilt
  from storage; the object's own PREMIS events its METS carry and the log lacks are appended
  first (same identifiers). Event `ingestion`, "adopted by preserve check".
* ... that fails validation, or an invalid object directory (E005): renamed into
  `quarantine/check-<time>-<id>/<object path>` with a `.check.json` note beside it. Event
  `quarantine`.
* storage ahead of the catalog (E006): verified, the newer versions' rows rebuilt. Event
  `ingestion`, "adopted". Catalog ahead of storage: nothing, restore from another copy.
* package without object (E003): its copies marked `missing`; the catalog keeps the
  package. Event `fixity check`, outcome failure.
* stuck deposit (E004): marked `failed` with its finding. Event `ingestion`, failure.

Nothing the catalog records is ever deleted, and the event log is only appended to.
Quarantine moves (never copies) the object because the catalog does not know it: no record
points at it, and leaving it would make the storage root hold an invalid object.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from preserve.catalog import Catalog
from preserve.catalog.intent import Intent, parse_intent
from preserve.check.lock import commit_lock, work_dir_claimed
from preserve.check.report import Action, CheckPlan, CheckReport, Inconsistency, Kind, Plan
from preserve.check.scan import (
    PARTIAL_NAME,
    empty_directories,
    human_age,
    newest_mtime,
    object_age,
    staging_dirs,
)
from preserve.check.verify import ObjectInvalid, VerifiedObject, verify_object
from preserve.errors import PreserveError
from preserve.findings import finding
from preserve.metadata import SchemaSet
from preserve.model import Event, EventOutcome, EventType, software_agent, utc_now
from preserve.storage import StorageRoot
from preserve.storage import inventory as inv
from preserve.storage.fsync import fsync_dir
from preserve.storage.local import LocalLocation
from preserve.storage.staging import AUDIT_LOCK, INTENT_FILE, lock_held

log = logging.getLogger(__name__)

SOFTWARE_AGENT = software_agent()
NOTE_SUFFIX = ".check.json"


#: Objects first: a stale work directory may hold the record of the version an object lacks
#: rows for, so it goes only after that object was dealt with.
_ORDER = (Kind.DEACCESSION, Kind.ORPHAN, Kind.VERSIONS, Kind.INVALID, Kind.MISSING, Kind.STUCK, Kind.RUNNING,
          Kind.PARTIAL, Kind.STAGING, Kind.EMPTY, Kind.STRAY, Kind.UNDECLARED, Kind.DAMAGED,
          Kind.UNGUARDED)


def repair(plan: CheckPlan, *, home_path: Path, staging: Path, quarantine: Path,
           catalog: Catalog, storage: StorageRoot, location: str, min_age: dt.timedelta,
           schemas: SchemaSet | None, clock: Callable[[], dt.datetime] = utc_now,
           progress: Callable[[int], None] | None = None,
           finish_deaccession: Callable[[int], object] | None = None) -> CheckReport:
    """Repair everything in `plan` that can be repaired; one event per action.

    `home_path` holds the ingests' commit lock, taken around every change to storage objects.
    `finish_deaccession(request_id)` completes an approved deaccession (the caller passes
    preserve.deaccession.complete bound to the configured locations: workflows do not import
    each other); without it CHK-E016 is left to the operator.
    """
    run = _Repair(home_path, staging, quarantine, catalog, storage, location, min_age, schemas,
                  clock, progress)
    run.finish_deaccession = finish_deaccession
    report = CheckReport(plan=plan, repaired=True)
    for item in sorted(plan.found, key=lambda i: _ORDER.index(i.kind)):
        try:
            action = run.act(item)
        except (PreserveError, OSError) as exc:
            detail = exc.message if isinstance(exc, PreserveError) else str(exc)
            log.warning("repair of %s failed: %s", item.target, detail)
            report.findings.append(finding("CHK-E007", item.target, action=item.plan.value,
                                           target=item.target, detail=detail))
            action = Action(item.kind, item.target, "failed", ok=False, detail=detail,
                            package_id=item.package_id, remains=True)
        if action is not None:
            report.actions.append(action)
    return report


class _Repair:
    def __init__(self, home_path: Path, staging: Path, quarantine: Path, catalog: Catalog,
                 storage: StorageRoot, location: str, min_age: dt.timedelta,
                 schemas: SchemaSet | None, clock: Callable[[], dt.datetime],
                 progress: Callable[[int], None] | None) -> None:
        self.home_path = home_path
        self.staging, self.quarantine, self.catalog, self.storage = (staging, quarantine,
                                                                     catalog, storage)
        self.location, self.min_age, self.schemas, self.clock = location, min_age, schemas, clock
        self.progress = progress
        self._run_dir: Path | None = None
        self.finish_deaccession: Callable[[int], object] | None = None

    def act(self, item: Inconsistency) -> Action | None:
        handler = {
            Plan.REMOVE: self._remove_staging,
            Plan.REMOVE_EMPTY: self._remove_empty,
            Plan.ADOPT: self._adopt,
            Plan.ADOPT_VERSIONS: self._adopt,
            Plan.QUARANTINE: self._quarantine_invalid,
            Plan.MARK_MISSING: self._mark_missing,
            Plan.MARK_FAILED: self._mark_failed,
            Plan.CLOSE_RUN: self._close_run,
            Plan.REMOVE_PARTIAL: self._remove_partial,
            Plan.FINISH_DEACCESSION: self._finish_deaccession,
        }.get(item.plan)
        if handler is None:  # Plan.NOTHING: the report says what the operator must do
            return None
        return handler(item)

    def _event(self, type_: EventType, outcome: EventOutcome, **fields: Any) -> Event:
        return Event(type=type_, outcome=outcome, time=self.clock(), agent=SOFTWARE_AGENT,
                     identifier=str(uuid.uuid4()), **fields)

    # -- deaccession (issue 16 §2) -------------------------------------------------------------

    def _finish_deaccession(self, item: Inconsistency) -> Action | None:
        if self.finish_deaccession is None or item.request_id is None:
            return None
        with commit_lock(self.home_path):
            self.finish_deaccession(item.request_id)
        return Action(item.kind, item.target, "deaccession completed", ok=True,
                      package_id=item.package_id)

    # -- staging -----------------------------------------------------------------------------

    def _remove_staging(self, item: Inconsistency) -> Action:
        path = self.staging / Path(item.target).name
        if not path.exists():
            return Action(item.kind, item.target, "already gone", ok=True)
        intent = _read_intent(path)
        if intent is not None and (self.catalog.head_version(intent.package_id) or 0) < intent.version:
            return Action(item.kind, item.target, "left alone", ok=True, remains=True,
                          detail="it holds the intent record of a version not recorded yet")
        with work_dir_claimed(path) as claimed:
            # Claimed: its lock is ours now (not re-tested: a second open would see our own).
            age = self.clock() - newest_mtime(path)
            if not claimed or age < self.min_age:
                return Action(item.kind, item.target, "left alone", ok=True,
                              detail="in use again (locked, or written since the scan)")
            shutil.rmtree(path)
        fsync_dir(self.staging)
        event = self._event(
            EventType.DELETION, EventOutcome.SUCCESS,
            detail=f"preserve check removed the orphaned staging directory {item.target} (last "
                   f"written {human_age(age)} ago): work files of an interrupted ingest, never "
                   "the only copy of anything")
        self.catalog.append_events([event])
        return Action(item.kind, item.target, "removed", ok=True, event=event.identifier)

    def _remove_partial(self, item: Inconsistency) -> Action:
        """A killed export's `.NAME.partial-UUID` file (the scan matched its exact shape):
        never the export itself, which only ever appears under its final name."""
        path = Path(item.target)
        if not PARTIAL_NAME.match(path.name) or not os.path.lexists(path):
            return Action(item.kind, item.target, "already gone", ok=True)
        age = self.clock() - dt.datetime.fromtimestamp(os.lstat(path).st_mtime, dt.UTC)
        if age < self.min_age:
            return Action(item.kind, item.target, "left alone", ok=True,
                          detail="written since the scan: an export may be running")
        path.unlink()
        event = self._event(
            EventType.DELETION, EventOutcome.SUCCESS,
            detail=f"preserve check removed {item.target}, the partial file of an export that "
                   f"was killed {human_age(age)} ago (never a finished export)")
        self.catalog.append_events([event])
        return Action(item.kind, item.target, "removed", ok=True, event=event.identifier)

    def _close_run(self, item: Inconsistency) -> Action:
        assert item.run_id is not None
        if lock_held(self.home_path / AUDIT_LOCK):
            return Action(item.kind, item.target, "left alone", ok=True,
                          detail="an audit is running now")
        run = next((r for r in self.catalog.audit_runs() if r.id == item.run_id), None)
        if run is None or run.status != "running":
            return Action(item.kind, item.target, "already closed", ok=True)
        self.catalog.finish_audit_run(run.id, finished=self.clock(), checked=run.checked,
                                      bytes_read=run.bytes, passed=run.passed,
                                      failed=run.failed, status="interrupted")
        return Action(item.kind, item.target, "closed as interrupted", ok=True,
                      detail="the checks it recorded before it was killed stay recorded")

    def _remove_empty(self, item: Inconsistency) -> Action:
        # Under the commit lock: an ingest makes these directories just before its rename.
        with commit_lock(self.home_path):
            return self._rmdirs(item)

    def _rmdirs(self, item: Inconsistency) -> Action:
        path = self.storage.path / (item.object_path or "")
        if path not in empty_directories(self.storage.path):
            return Action(item.kind, item.target, "left alone", ok=True,
                          detail="no longer empty")
        shutil.rmtree(path)  # holds only empty directories: checked just above
        parent = path.parent
        while parent != self.storage.path:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
        fsync_dir(parent)
        event = self._event(
            EventType.DELETION, EventOutcome.SUCCESS,
            detail=f"preserve check removed the empty directory {item.target} from the storage "
                   "root (OCFL 1.1 E073)")
        self.catalog.append_events([event])
        return Action(item.kind, item.target, "removed", ok=True, event=event.identifier)

    # -- objects without (all) catalog rows ---------------------------------------------------

    def _adopt(self, item: Inconsistency) -> Action:
        assert item.object_path is not None and item.package_id is not None
        object_path = self.storage.path / item.object_path
        if not object_path.is_dir():
            return Action(item.kind, item.target, "already gone", ok=True)
        age = object_age(object_path, self.clock())
        if age < self.min_age:
            return Action(item.kind, item.target, "left alone", ok=True,
                          detail=f"committed {human_age(age)} ago: an ingest may be recording it")
        try:  # the long read, outside the commit lock
            verified = verify_object(LocalLocation("local", self.storage.path), item.object_path,
                                     self.schemas, self.progress)
        except ObjectInvalid as exc:
            if item.kind is Kind.ORPHAN:
                return self._move_to_quarantine(item, str(exc))
            # The catalog knows this object: it is never moved, only reported.
            return Action(item.kind, item.target, "not adopted", ok=False, detail=str(exc),
                          package_id=item.package_id, remains=True)
        with commit_lock(self.home_path):
            return self._record_adoption(item, verified)

    def _record_adoption(self, item: Inconsistency, verified: VerifiedObject) -> Action:
        assert item.object_path is not None
        head = self._catalog_head(verified.object_id)
        if item.kind is Kind.ORPHAN and head:
            return Action(item.kind, item.target, "left alone", ok=True,
                          detail="the catalog knows it now")
        try:
            _inventory, digest = inv.read(LocalLocation("local", self.storage.path),
                                          item.object_path)
        except PreserveError:
            digest = None
        if digest != verified.inventory_digest or head >= verified.head:
            return Action(item.kind, item.target, "left alone", ok=True,
                          detail="the object or the catalog changed while it was verified; "
                                 "run check again")
        if verified.head == head + 1:
            done = self._record_intent(item, verified)
            if done is not None:
                return done
        adoption = verified.adoption(head, self.location)
        numbers = [v.number for v in adoption.versions]
        restored, foreign = self._history(verified)
        mets = ("METS schema-validated" if verified.mets_validated
                else "METS parsed (no schemas configured, not schema-validated)")
        detail = (f"adopted by preserve check: object found in storage at {item.object_path} "
                  "without catalog rows; catalog rows of version(s) "
                  f"{', '.join(f'v{n}' for n in numbers)} rebuilt from storage; "
                  f"{len(restored)} earlier event(s) restored from its METS"
                  + (f" ({foreign} recorded by other archives not restored)" if foreign else ""))
        outcome_detail = (f"valid: {verified.content_files} content files "
                          f"({verified.content_bytes} bytes) re-read, sha512 equal to the OCFL "
                          "inventory; every version a complete bag (manifests, Payload-Oxum); "
                          + mets)
        event = self._event(EventType.INGESTION, EventOutcome.SUCCESS,
                            detail=detail, outcome_detail=outcome_detail,
                            package_id=verified.object_id, version=numbers[-1])
        self.catalog.adopt(adoption, [*restored, event])
        return Action(item.kind, item.target, "adopted", ok=True, event=event.identifier,
                      package_id=verified.object_id,
                      detail=f"version(s) {', '.join(f'v{n}' for n in numbers)}")

    def _record_intent(self, item: Inconsistency, verified: VerifiedObject) -> Action | None:
        """The version was stored by an ingest killed before its catalog commit, and its
        intent record is in staging: record exactly what that ingest planned (its rows, its
        events, which the version's METS names; its deposit accepted) and remove its work
        directory, so the version has one event of each type and its re-run is a duplicate.
        None if there is no such intent (then the version is adopted from storage)."""
        for path in staging_dirs(self.staging):
            intent = _read_intent(path)
            if (intent is None or intent.package_id != verified.object_id
                    or intent.version != verified.head
                    or intent.inventory_sha512 != verified.inventory_digest
                    or not self.catalog.deposit_in_progress(intent.deposit_id)):
                continue
            with work_dir_claimed(path) as claimed:
                if not claimed:  # its ingest (or a re-run adopting it) is alive
                    continue
                self.catalog.record_ingest(intent.record, intent.events)
                shutil.rmtree(path)
            fsync_dir(self.staging)
            ingestion = next((e.identifier for e in intent.events
                              if e.type is EventType.INGESTION), None)
            return Action(item.kind, item.target, "adopted", ok=True, event=ingestion,
                          package_id=verified.object_id,
                          detail=f"{inv.version_name(intent.version)} recorded as its "
                                 f"interrupted ingest (deposit {intent.deposit_id}) planned, "
                                 f"from the intent record in staging/{path.name}, after every "
                                 "byte was verified")
        return None

    def _history(self, verified: VerifiedObject) -> tuple[list[Event], int]:
        """The object's own events its METS carry and the log lacks, as they happened, and
        the number of events recorded by other archives (left out: importing those is
        ingest's business, with their origin).

        An ingest interrupted before its catalog transaction wrote these events into the
        version's METS but never into the log; restoring them keeps METS and log naming each
        event alike (the log is appended to, never edited).
        """
        own = [(number, e) for number, e in verified.history
               if e.identifier_type == "UUID" and e.recorded_by is None]
        known = self.catalog.known_event_identifiers([e.identifier for _n, e in own])
        restored = [
            Event(type=_term(EventType, e.type), outcome=_term(EventOutcome, e.outcome),
                  time=e.time, agent=e.agent, detail=e.detail, outcome_detail=e.outcome_detail,
                  package_id=verified.object_id, version=number, object_paths=e.object_paths,
                  identifier=e.identifier)
            for number, e in own if e.identifier not in known]
        return restored, len(verified.history) - len(own)

    def _catalog_head(self, package_id: str) -> int:
        if not self.catalog.package_exists(package_id):
            return 0
        return self.catalog.get_package(package_id).head

    def _quarantine_invalid(self, item: Inconsistency) -> Action:
        object_path = self.storage.path / (item.object_path or "")
        if not object_path.is_dir():
            return Action(item.kind, item.target, "already gone", ok=True)
        age = object_age(object_path, self.clock())
        if age < self.min_age:
            return Action(item.kind, item.target, "left alone", ok=True,
                          detail=f"written {human_age(age)} ago")
        return self._move_to_quarantine(item, item.finding.message)

    def _move_to_quarantine(self, item: Inconsistency, reason: str) -> Action:
        """Rename the object directory into quarantine (same filesystem: atomic; never a
        copy-then-delete), note why next to it, drop the layout's emptied parent dirs."""
        assert item.object_path is not None
        with commit_lock(self.home_path):
            if item.package_id and self.catalog.package_exists(item.package_id):
                return Action(item.kind, item.target, "left alone", ok=True,
                              detail="the catalog knows it now; it is never moved")
            return self._move(item, reason)

    def _move(self, item: Inconsistency, reason: str) -> Action:
        assert item.object_path is not None
        source = self.storage.path / item.object_path
        target = self._quarantine_dir() / item.object_path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, target)  # EXDEV (another filesystem) is an OSError: nothing moved
        fsync_dir(target.parent)
        fsync_dir(source.parent)
        parent = source.parent
        while parent != self.storage.path:
            try:
                parent.rmdir()  # only if empty: other objects share the tuple directories
            except OSError:
                break
            parent = parent.parent
        note = {"object_path": item.object_path, "object_id": item.package_id, "reason": reason,
                "time": self.clock().isoformat(), "source": str(source),
                "what_to_do": "find out where the object came from; restore or re-ingest it "
                              "from a good copy, or delete it once it is known to be garbage"}
        note_path = target.with_name(target.name + NOTE_SUFFIX)
        note_path.write_text(json.dumps(note, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
        shown = target.relative_to(self.quarantine.parent).as_posix()
        event = self._event(
            EventType.QUARANTINE, EventOutcome.SUCCESS,
            detail=f"preserve check moved object directory {item.object_path}, unknown to the "
                   f"catalog and not valid, into {shown}",
            outcome_detail=reason, package_id=item.package_id,
            object_paths=(item.object_path,))
        self.catalog.append_events([event])
        return Action(item.kind, item.target, "quarantined", ok=True, detail=reason,
                      event=event.identifier, package_id=item.package_id, remains=True)

    def _quarantine_dir(self) -> Path:
        if self._run_dir is None:
            stamp = self.clock().strftime("%Y%m%dT%H%M%S")
            self._run_dir = self.quarantine / f"check-{stamp}-{uuid.uuid4().hex[:8]}"
        return self._run_dir

    # -- catalog rows without storage ---------------------------------------------------------

    def _mark_missing(self, item: Inconsistency) -> Action:
        assert item.package_id is not None
        if self.storage.has_object(item.package_id):
            return Action(item.kind, item.target, "left alone", ok=True,
                          detail="the object is back in storage")
        event = self._event(
            EventType.FIXITY_CHECK, EventOutcome.FAILURE, package_id=item.package_id,
            detail=f"preserve check: the OCFL object {item.object_path} of this package is not "
                   f"in location {self.location}",
            outcome_detail="object missing: every copy at this location marked missing; restore "
                           "the object from another copy or a backup")
        changed = self.catalog.mark_copies(item.package_id, self.location, "missing", [event])
        return Action(item.kind, item.target, "marked missing", ok=True, event=event.identifier,
                      package_id=item.package_id, remains=True,
                      detail=f"{changed} copies marked missing; restore the object from another "
                             "copy or a backup")

    def _mark_failed(self, item: Inconsistency) -> Action:
        assert item.deposit_id is not None
        if not self.catalog.deposit_in_progress(item.deposit_id):
            # an adoption from its intent record (above) accepted it meanwhile
            return Action(item.kind, item.target, "already finished", ok=True)
        event = self._event(
            EventType.INGESTION, EventOutcome.FAILURE, deposit_id=item.deposit_id,
            detail="ingest did not complete",
            outcome_detail="found in progress by preserve check long after it started: the "
                           "run was interrupted; marked failed")
        now = self.clock()
        self.catalog.finish_deposit(item.deposit_id, status="failed", findings=[item.finding],
                                    finished=now, events=[event])
        return Action(item.kind, item.target, "marked failed", ok=True, event=event.identifier)


def _read_intent(path: Path) -> Intent | None:
    """The intent record in work directory `path`, if there is a readable one."""
    try:
        return parse_intent((path / INTENT_FILE).read_bytes())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _term(vocabulary: type[EventType] | type[EventOutcome], value: str
          ) -> EventType | EventOutcome | str:
    """Our enum member for a known vocabulary term, else the term as written."""
    try:
        return vocabulary(value)
    except ValueError:
        return value
