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
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from preserve import checksums
from preserve.catalog import Catalog, IngestRecord
from preserve.catalog.intent import Intent, iter_intent_bytes, parse_intent
from preserve.errors import StorageError
from preserve.ingest.moving import read_moves, restore_moves
from preserve.model import Event, EventOutcome, EventType, software_agent, utc_now
from preserve.storage import StorageRoot, object_path_for
from preserve.storage import inventory as inv
from preserve.storage.fsync import fsync_dir, write_new_pieces
from preserve.storage.local import LocalLocation
from preserve.storage.staging import (
    INTENT_FILE,
    WorkDir,
    stale_work_dirs,
    tidy_lock_files,
)

log = logging.getLogger(__name__)

def write_intent(work: Path, intent: Intent) -> None:
    """Write `intent.json` into the work directory, durably, before the storage move."""
    path = work / INTENT_FILE
    path.unlink(missing_ok=True)
    try:
        # In pieces: the rows of every file are never one document in memory.
        write_new_pieces(path, iter_intent_bytes(intent))
        fsync_dir(work)
    except OSError as exc:
        raise StorageError(detail=f"cannot write {path}: {exc.strerror or exc}; nothing was "
                           "committed (check free space and the disk)") from None


def read_intent(work: Path) -> Intent | None:
    """The intent in `work`, or None if there is none (or it is unreadable: never completed)."""
    try:
        return parse_intent((work / INTENT_FILE).read_bytes())
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
            _remove_after_restoring(work)
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
            # it finished (stopped after its catalog transaction), or `preserve check
            # --repair` recorded its version
            close_interrupted(catalog, intent, "its version was recorded since")
            work.remove()
        elif stored is not None and stored >= intent.version:
            pending.append(Pending(work, intent))
        elif _half_committed(storage, intent):
            log.warning("%s of %s is half committed and does not match %s; left for "
                        "`preserve check`", inv.version_name(intent.version),
                        intent.package_id, work.path)
            work.release()
        else:
            close_interrupted(catalog, intent, "killed before its version reached storage; "
                              "nothing was stored")
            _remove_after_restoring(work)  # it never moved anything into the root
    tidy_lock_files(staging)
    return pending


def _remove_after_restoring(work: WorkDir) -> None:
    """Remove a dead ingest's work directory whose version never reached storage; an
    `ingest --move` first gets the deposit's files back (preserve.ingest.moving). A file that
    cannot go back keeps the directory, logged as an error."""
    moves = read_moves(work.path)
    if moves is not None:
        failed = restore_moves(moves)
        if failed:
            log.error("%s keeps %d file(s) of a deposit moved by `ingest --move` that could not "
                      "be put back (first: %s); move them back by hand, then remove it",
                      work.path, len(failed), failed[0])
            work.release()
            return
        log.warning("put back the %d deposit file(s) an interrupted `ingest --move` had moved",
                    len(moves))
    work.remove()


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
    location = LocalLocation("local", storage.path)
    try:
        inventory, digest = inv.read(location, object_path_for(intent.package_id))
    except StorageError as exc:
        return exc.message
    if inventory.head != intent.version:
        return (f"its head is {inv.version_name(inventory.head)}, not "
                f"{inv.version_name(intent.version)}")
    if digest != intent.inventory_sha512:
        return "its inventory is not the one the interrupted ingest prepared"
    state = inventory.states[inventory.head]
    payload = sorted((path.removeprefix("data/"), sha512) for sha512, paths in state.items()
                     for path in paths if path.startswith("data/"))
    if checksums.payload_fingerprint(payload) != fingerprint:
        return "its payload differs from this deposit's"
    base = object_path_for(intent.package_id)
    for stored in intent.record.files:
        try:
            size = location.size(f"{base}/{stored.content_path}")
        except StorageError as exc:
            return f"{stored.content_path} cannot be read ({exc.message})"
        if size is None:
            return f"{stored.content_path} is missing"
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
    close_interrupted(catalog, intent, f"killed after storing {intent.package_id} "
                      f"{inv.version_name(intent.version)}; recorded by deposit {deposit_id}")
    return record


def close_interrupted(catalog: Catalog, intent: Intent, what: str) -> None:
    """Mark the killed attempt's deposit row failed (if nothing did yet), with its event: every
    attempt ends as accepted, rejected or failed, and a version is accepted once."""
    if not catalog.deposit_in_progress(intent.deposit_id):
        return
    when = utc_now()
    event = Event(type=EventType.INGESTION, outcome=EventOutcome.FAILURE, time=when,
                  agent=software_agent(), identifier=str(uuid.uuid4()),
                  deposit_id=intent.deposit_id, detail="ingest did not complete",
                  outcome_detail=f"interrupted: {what}")
    catalog.finish_deposit(intent.deposit_id, status="failed", findings=(), finished=when,
                           events=[event])
