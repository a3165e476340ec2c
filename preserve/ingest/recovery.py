"""Crash recovery of ingests: intent records, stale work directories, adopting a stored version.

DESIGN.md "Rules": an interrupted ingest leaves no partial package in the storage root, and
re-running it is safe. The storage side is atomic (one rename for a new object; for a new
version the root inventory is the commit point, see preserve.storage.version). What a crash
can leave is a version *in storage* whose catalog transaction never ran. To make that case
decidable, an ingest writes an intent record, `intent.json` in its own work directory,
after the last duplicate check and just before it moves anything into the storage root: the
exact catalog rows and events it is about to record, and the sha512 of the inventory it is
about to commit. The work directory is locked by its ingest (preserve.storage.staging), so a
directory whose lock is free belongs to a dead process.

`tidy` (every ingest, under the commit lock, before it starts): for each stale work dir
* no intent: it never moved anything into the root -> removed (it held copies of deposit
  files and an uncommitted staged version; the deposit itself is the original);
* intent, and the catalog records that version -> it finished -> removed;
* intent, and storage holds neither that version nor a half-committed one -> removed;
* intent, and a half-committed version (two-rename window) -> rolled forward when its own
  inventory is exactly the intended one (StorageRoot.complete_interrupted_commit);
* intent, and storage holds the version the catalog lacks -> kept: "pending".

`pending` + `adopt` (in the commit section): a pending intent with the same payload
fingerprint, the same `--id` and the same `--as-version-of` as the ingest now running is the
same ingest re-run. If storage's head is that version, its inventory has the intended sha512,
its state's payload has the fingerprint just computed from the deposit, and every file of the
version has the recorded size, the recorded rows and events are written for it (no second
copy; the METS in storage names the same event identifiers). Anything else is left for
`preserve check`; the running ingest is refused with ING-E007.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve import checksums
from preserve.catalog import Catalog, IngestRecord, StoredFile
from preserve.errors import StorageError
from preserve.model import (
    Agent,
    AgentType,
    Event,
    EventOutcome,
    EventType,
    Finding,
    ImportedFrom,
    Severity,
    vocabulary_value,
)
from preserve.storage import StorageRoot
from preserve.storage import inventory as inv
from preserve.storage.fsync import fsync_dir, write_new
from preserve.storage.staging import (
    INTENT_FILE,
    WorkDir,
    stale_work_dirs,
    tidy_lock_files,
)

log = logging.getLogger(__name__)

INTENT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Intent:
    """What one ingest was about to commit (see the module docstring)."""

    deposit_id: int
    source: str
    requested_id: str | None  # --id as given
    version_of: str | None  # --as-version-of as given
    inventory_sha512: str
    record: IngestRecord
    events: tuple[Event, ...]

    @property
    def package_id(self) -> str:
        return self.record.package_id

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def fingerprint(self) -> str:
        return self.record.payload_fingerprint


def write_intent(work: Path, intent: Intent) -> None:
    """Write `intent.json` into the work directory, durably, before the storage move."""
    data = json.dumps(_intent_json(intent), ensure_ascii=False).encode("utf-8")
    path = work / INTENT_FILE
    path.unlink(missing_ok=True)
    try:
        write_new(path, data)
        fsync_dir(work)
    except OSError as exc:
        raise StorageError(detail=f"cannot write {path}: {exc.strerror or exc}; nothing was "
                           "committed (check free space and the disk)") from None


def read_intent(work: Path) -> Intent | None:
    """The intent in `work`, or None if there is none (or it is unreadable: never completed)."""
    try:
        raw = json.loads((work / INTENT_FILE).read_text("utf-8"))
        if raw.get("format") != INTENT_FORMAT:
            return None
        return _intent_from(raw)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # write_new flushes before the move, so a torn intent means nothing was moved.
        log.warning("ignoring unreadable %s: %s", work / INTENT_FILE, exc)
        return None


@dataclass
class Pending:
    """A stale work directory whose version is in storage but not in the catalog."""

    work: WorkDir
    intent: Intent


def tidy(storage: StorageRoot, catalog: Catalog, staging: Path) -> list[Pending]:
    """Clean up after dead ingests (see module docstring); returns what stays pending.

    Call with the commit lock held. The pending work directories stay locked until the
    caller `release`s them (or `remove`s one it adopted).
    """
    pending: list[Pending] = []
    for work in stale_work_dirs(staging):
        intent = read_intent(work.path)
        if intent is None:
            log.info("removing %s, left by an ingest that stopped before storing anything",
                     work.path)
            work.remove()
            continue
        stored = _stored_head(storage, intent)
        if stored is None or stored < intent.version:
            done = storage.complete_interrupted_commit(intent.package_id, intent.inventory_sha512)
            if done:
                log.warning("object %s: %s (interrupted ingest, deposit %d)",
                            intent.package_id, done, intent.deposit_id)
                stored = _stored_head(storage, intent)
        recorded = catalog.head_version(intent.package_id)
        if recorded is not None and recorded >= intent.version:
            work.remove()  # it finished (stopped after its catalog transaction)
        elif stored is not None and stored >= intent.version:
            pending.append(Pending(work, intent))
        elif _half_committed(storage, intent):
            log.warning("%s of %s is half committed and does not match %s; left for "
                        "`preserve check`", inv.version_name(intent.version),
                        intent.package_id, work.path)
            work.release()
        else:
            work.remove()  # it never moved anything into the root
    tidy_lock_files(staging)
    return pending


def release(pending: list[Pending]) -> None:
    for item in pending:
        item.work.release()


def _stored_head(storage: StorageRoot, intent: Intent) -> int | None:
    try:
        return storage.head_version(intent.package_id)
    except StorageError:
        return None


def _half_committed(storage: StorageRoot, intent: Intent) -> bool:
    return (storage.object_path(intent.package_id) / inv.version_name(intent.version)).exists()


def matches(intent: Intent, *, fingerprint: str, requested_id: str | None,
            version_of: str | None) -> bool:
    """The intent is this ingest's own, run before: same payload, same --id, same target."""
    return (intent.fingerprint == fingerprint and intent.requested_id == requested_id
            and intent.version_of == version_of)


def verify_stored(storage: StorageRoot, intent: Intent, fingerprint: str) -> str | None:
    """Why the stored version is not what `intent` recorded, or None if it is."""
    object_path = storage.object_path(intent.package_id)
    try:
        inventory, digest = inv.load(object_path)
    except StorageError as exc:
        return exc.message
    if inv.head_number(inventory) != intent.version:
        return f"its head is {inventory['head']}, not {inv.version_name(intent.version)}"
    if digest != intent.inventory_sha512:
        return "its inventory is not the one the interrupted ingest prepared"
    state = inventory["versions"][inventory["head"]]["state"]
    payload = sorted((path.removeprefix("data/"), sha512) for sha512, paths in state.items()
                     for path in paths if path.startswith("data/"))
    if checksums.payload_fingerprint(payload) != fingerprint:
        return "its payload differs from this deposit's"
    for stored in intent.record.files:
        try:
            size = (object_path / stored.content_path).stat().st_size
        except OSError as exc:
            return f"{stored.content_path} cannot be read ({exc.strerror or exc})"
        if size != stored.size:
            return f"{stored.content_path} has {size} bytes, not {stored.size}"
    return None


def adopt(catalog: Catalog, intent: Intent, deposit_id: int) -> IngestRecord:
    """Record the intent's rows and events for the deposit attempt `deposit_id`."""
    record = dataclasses.replace(intent.record, deposit_id=deposit_id)
    events = [dataclasses.replace(e, deposit_id=deposit_id) for e in intent.events]
    catalog.record_ingest(record, events)
    log.warning("recorded %s v%d, stored by the interrupted ingest of deposit %d",
                intent.package_id, intent.version, intent.deposit_id)
    return record


# --- JSON ------------------------------------------------------------------------------------

def _time(value: dt.datetime) -> str:
    return value.isoformat()


def _intent_json(intent: Intent) -> dict[str, Any]:
    r = intent.record
    return {
        "format": INTENT_FORMAT,
        "deposit_id": intent.deposit_id,
        "source": intent.source,
        "requested_id": intent.requested_id,
        "version_of": intent.version_of,
        "inventory_sha512": intent.inventory_sha512,
        "record": {
            "package_id": r.package_id, "version": r.version, "created": _time(r.created),
            "title": r.title, "external_identifiers": list(r.external_identifiers),
            "payload_fingerprint": r.payload_fingerprint, "location": r.location,
            "deposit_id": r.deposit_id, "message": r.message,
            "files": [dataclasses.asdict(f) for f in r.files],
            "findings": [f.as_dict() for f in r.findings],
        },
        "events": [_event_json(e) for e in intent.events],
    }


def _event_json(e: Event) -> dict[str, Any]:
    imported = e.imported
    return {
        "type": vocabulary_value(e.type), "outcome": vocabulary_value(e.outcome),
        "time": _time(e.time),
        "agent": {"identifier": e.agent.identifier, "name": e.agent.name,
                  "type": vocabulary_value(e.agent.type)},
        "detail": e.detail, "outcome_detail": e.outcome_detail, "package_id": e.package_id,
        "version": e.version, "deposit_id": e.deposit_id, "object_paths": list(e.object_paths),
        "identifier": e.identifier,
        "imported": dataclasses.asdict(imported) if imported is not None else None,
    }


def _enum(kind: type, value: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        return value  # free text (imported events)


def _intent_from(raw: dict[str, Any]) -> Intent:
    r = raw["record"]
    record = IngestRecord(
        package_id=r["package_id"], version=int(r["version"]),
        created=dt.datetime.fromisoformat(r["created"]), title=r["title"],
        external_identifiers=tuple(r["external_identifiers"]),
        payload_fingerprint=r["payload_fingerprint"], location=r["location"],
        deposit_id=int(r["deposit_id"]), message=r["message"],
        files=tuple(StoredFile(**f) for f in r["files"]),
        findings=tuple(Finding(code=f["code"], severity=Severity(f["severity"]), path=f["path"],
                               message=f["message"]) for f in r["findings"]),
        # The record's pin is the intent's own inventory digest (one value, stored once).
        inventory_sha512=raw["inventory_sha512"],
    )
    events = []
    for e in raw["events"]:
        fields: dict[str, Any] = dict(
            type=_enum(EventType, e["type"]), outcome=_enum(EventOutcome, e["outcome"]),
            time=dt.datetime.fromisoformat(e["time"]),
            agent=Agent(identifier=e["agent"]["identifier"], name=e["agent"]["name"],
                        type=_enum(AgentType, e["agent"]["type"])),
            detail=e["detail"], outcome_detail=e["outcome_detail"], package_id=e["package_id"],
            version=e["version"], deposit_id=e["deposit_id"],
            object_paths=tuple(e["object_paths"]), identifier=e["identifier"])
        if e.get("imported"):
            fields["imported"] = ImportedFrom(**e["imported"])
        events.append(Event(**fields))
    return Intent(deposit_id=int(raw["deposit_id"]), source=raw["source"],
                  requested_id=raw["requested_id"], version_of=raw["version_of"],
                  inventory_sha512=raw["inventory_sha512"], record=record, events=tuple(events))
