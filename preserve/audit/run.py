"""`preserve audit`: re-read stored copies and prove they are unchanged (DESIGN.md, "Data flow":
audit; issue 4).

```
lock held by the CLI ─▶ clock checked (clock.py) ─▶ audit_runs row ─▶ known damaged/missing
copies re-checked (every run, outside budgets) ─▶ due copies in bounded batches (never
checked first, then oldest check) ─▶ per object: inventories + directory listing ─▶ each
content file read once (sha512 + sha256, one pool of worker threads for the run, shared rate
limit) ─▶ four-way comparison (compare.py): file vs catalog vs inventory vs the version's bag
manifest; inventories vs their pinned sha512 ─▶ damaged copies quarantined (copied, never
moved) ─▶ outcomes recorded per batch ─▶ one `fixity check` event per package (and one per
copy healthy again), run row closed; every open problem reported

while the first batches are read: event chain verified against the head anchored in
storage, append-only triggers present ─▶ storage vs catalog, every path of the root
accounted for
```

Batches are pipelined: while the threads read one batch, the main thread judges and records
the one before (PIPELINE batches in flight), so neither waits for the other on a collection
of small files (docs/performance.md, "Audit"). Recording an outcome moves a copy's
`last_fixity_at` past the selection cutoff, so the next batch query returns the next copies,
less those still in flight: the run pages through the collection with flat memory. Each
batch is recorded in its own transaction once all its reads are back, so a crash loses at
most the batches in flight, which stay due. Budgets stop the run from taking new files; what
is left stays due for the next run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from preserve import SOFTWARE_NAME, __version__
from preserve.audit.clock import trusted_clock
from preserve.audit.clock import when as _when
from preserve.audit.compare import Expected, Read, compare, read_copy
from preserve.audit.objects import ObjectState, cross_check, inspect_object
from preserve.audit.quarantine import NOTE_SUFFIX
from preserve.audit.report import AuditReport, PackageStatus, Problem
from preserve.audit.throttle import Throttle
from preserve.catalog import AuditCopy, Catalog, ChainReport, CopyOutcome
from preserve.checksums import Progress
from preserve.errors import PackageNotFound, PreserveError
from preserve.findings import finding
from preserve.home import DEFAULT_LOCATION, Home
from preserve.model import Event, EventOutcome, EventType, software_agent, utc_now
from preserve.storage import StorageRoot
from preserve.storage.evidence import keep_copy
from preserve.storage.local import LocalLocation
from preserve.storage.location import Location, LocationError, StoredFileMissing
from preserve.storage.staging import COMMIT_LOCK, commit_lock

log = logging.getLogger(__name__)

AGENT = software_agent()
#: Copies asked from the catalog at a time: bounds memory and the size of each transaction.
BATCH = 1000
#: Object states (inventory manifests) kept between batches; older ones are dropped.
OBJECT_CACHE = 256
#: One worker task reads files until it has read this much (or this many files).
CHUNK_BYTES = 8 << 20
CHUNK_FILES = 128
#: Batches handed to the readers before the oldest is recorded: the main thread records one
#: (JSON, judging, the catalog) while the threads read the next.
PIPELINE = 2


@dataclass(frozen=True, slots=True)
class Selection:
    """Which copies a run checks: due ones (default), all, or one package's."""

    all: bool = False
    package_id: str | None = None
    interval_days: float = 90.0


@dataclass(frozen=True, slots=True)
class Budgets:
    """Limits of one run; None is no limit. A run stops taking new files once one is reached."""

    max_files: int | None = None
    max_bytes: int | None = None
    max_duration: float | None = None  # seconds


def run_audit(
    home: Home,
    catalog: Catalog,
    storage: StorageRoot,
    *,
    selection: Selection = Selection(),
    budgets: Budgets = Budgets(),
    workers: int = 0,
    max_rate: float | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    progress: Progress | None = None,
    location: str = DEFAULT_LOCATION,
) -> AuditReport:
    """Audit `storage` against `catalog`; record outcomes, quarantine damage, append events.

    `max_rate` is in bytes per second. The caller holds the audit lock (`audit_lock`).
    """
    if selection.package_id is not None and not catalog.package_exists(selection.package_id):
        raise PackageNotFound(package_id=selection.package_id)
    clock, notes = trusted_clock(catalog, clock)
    started = clock()
    # Stamps after now cannot be trusted: due again, so a run under a clock set years ahead
    # does not excuse the copies from checks until that date (issue 18, "The clock").
    reset = catalog.reset_future_checks(started)
    if reset:
        log.warning("%s copies had check times after now; they are due again", reset)
    for note in notes:
        log.warning("clock: %s", note)
    run_id = catalog.begin_audit_run(started)
    audit = _Audit(home, catalog, storage, run_id, workers or os.cpu_count() or 1,
                   Throttle(max_rate) if max_rate else None, clock, progress, location)
    for note in notes:
        audit.problems.append(Problem("AUD-W002", finding("AUD-W002", detail=note).message))
    try:
        report = audit.run(selection, budgets, started)
    except BaseException:
        # The run row says it did not finish; outcomes of finished batches stay recorded.
        try:
            catalog.finish_audit_run(run_id, finished=clock(), checked=audit.checked,
                                     bytes_read=audit.bytes, passed=audit.passed,
                                     failed=audit.checked - audit.passed, status="interrupted")
        except Exception:  # the original error matters more
            log.debug("could not close audit run %s", run_id, exc_info=True)
        raise
    return report


@dataclass(slots=True)
class _Batch:
    """Copies whose reads are under way; judged and recorded once every read is back."""

    copies: list[AuditCopy]
    states: dict[str, ObjectState]  # of the batch's packages, kept until it is recorded
    futures: list[Future[tuple[list[tuple[tuple[str, str], Read]], bool]]]
    keys: set[tuple[int, int]]  # (file, location) of each copy: left out of the next query


class _Audit:
    """The state of one run (one instance per run; not shared across runs)."""

    def __init__(self, home: Home, catalog: Catalog, storage: StorageRoot, run_id: int,
                 workers: int, throttle: Throttle | None, clock: Callable[[], dt.datetime],
                 progress: Progress | None, location: str) -> None:
        self.home, self.catalog, self.storage = home, catalog, storage
        self.run_id, self.workers, self.throttle = run_id, workers, throttle
        self.clock, self.progress, self.location = clock, progress, location
        # Stored files and inventories are read through the Location interface, as at every
        # other location (audit/locations.py); the StorageRoot is asked only about the
        # root's layout (which objects it holds, what else lies there).
        self.stored: Location = LocalLocation(location, storage.path)
        self.checked = self.bytes = self.passed = 0
        self.problems: list[Problem] = []
        # Memory stays flat however large the run: reads are kept for the batches in flight,
        # object states for the OBJECT_CACHE most recent packages; only problems accumulate.
        self.objects: OrderedDict[str, ObjectState] = OrderedDict()
        self.inspected: set[str] = set()  # structural problems are reported once per run
        self.pool: ThreadPoolExecutor  # made by run(), shut down when it ends
        self.pending: deque[_Batch] = deque()  # batches being read, oldest first
        self.deadline: float | None = None  # time.monotonic() at which --max-duration ends
        self.stop = threading.Event()  # set when the run ends: queued reads are not started
        self.exhausted = self.timed_out = False
        self.stopped_by = ""
        self.quarantined: dict[tuple[str, str], str] = {}
        self.missing_reported: set[tuple[str, str]] = set()
        self.per_package: dict[str, list[int]] = {}  # package -> [checked, passed]
        self.planned = 0
        self.reported: set[tuple[str, str, str]] = set()  # (code, package, content path)
        self.recovered: dict[tuple[str, str], AuditCopy] = {}  # damaged before, passes now

    # --- the run ----------------------------------------------------------------------------

    def run(self, selection: Selection, budgets: Budgets, started: dt.datetime) -> AuditReport:
        if selection.all or selection.package_id is not None:
            cutoff = started  # everything not checked by this run
        else:
            cutoff = started - dt.timedelta(days=selection.interval_days)
        self.interval = dt.timedelta(days=selection.interval_days)
        if budgets.max_duration is not None:
            self.deadline = time.monotonic() + budgets.max_duration
        # One pool of reading threads for the whole run. The first batches are handed to it
        # before the checks of the whole repository (event chain, triggers, storage against
        # catalog), so the disks and cores read while the main thread does those.
        self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="audit")
        try:
            position = len(self.problems)  # the run's own problems come first, as before
            due = self._batches(selection.package_id, cutoff, budgets)
            self._fill(due)
            chain, checks = self._repository_checks(selection)
            self.problems[position:position] = checks
            self._drain(due)
        finally:
            self.stop.set()
            self.pool.shutdown(wait=True, cancel_futures=True)
        stopped_by = "max-duration" if self.timed_out else self.stopped_by
        self._report_missing_content()
        return self._finish(started, chain, stopped_by)

    def _repository_checks(self, selection: Selection) -> tuple[ChainReport, list[Problem]]:
        """The event chain, the append-only triggers, storage against the catalog."""
        found: list[Problem] = []
        chain = self.catalog.verify_chain()
        if not chain.ok:
            log.error("event chain broken: %s", chain.problem)
            found.append(Problem("AUD-E011", finding("AUD-E011", detail=chain.problem).message,
                                 path=f"events/{chain.first_bad_id or ''}"))
        elif (chain.anchored is None and chain.head is not None and chain.head.events
              and self.catalog.anchored):
            detail = f"the log holds {chain.head.events} events, last hash {chain.head.hash}"
            found.append(Problem("AUD-W001", finding("AUD-W001", detail=detail).message))
        missing_guards = self.catalog.missing_guards()
        if missing_guards:
            found.append(Problem("AUD-E015", finding(
                "AUD-E015", triggers=", ".join(missing_guards)).message, path="events"))
        if selection.package_id is None:
            problems = cross_check(self.storage, self.stored, self.catalog.package_ids())
            if any(p.code == "AUD-E010" for p in problems):
                # An ingest may have been between its rename and its catalog transaction:
                # look again while none can be (the ingests' commit lock, storage/staging.py).
                with commit_lock(self.home.path / COMMIT_LOCK):
                    problems = cross_check(self.storage, self.stored,
                                           self.catalog.package_ids())
            found.extend(problems)
        elif not self.storage.has_object(selection.package_id):
            found.append(Problem("AUD-E009", finding(
                "AUD-E009", package_id=selection.package_id,
                object_path=str(self.storage.object_path(selection.package_id))).message,
                selection.package_id))
        return chain, found

    def _batches(self, package_id: str | None, cutoff: dt.datetime,
                 budgets: Budgets) -> Iterator[list[AuditCopy]]:
        """The copies to check, a batch at a time, within the budgets; `stopped_by` says
        which budget ended them. Asked for while earlier batches are still being read: each
        query leaves out the copies in flight (`_next_due`)."""
        # Known damage first, every run, whatever the budgets: a damaged or missing copy is
        # re-checked until it passes again (issue 11 item 2). Such copies are few.
        damaged = self.catalog.damaged_copies(location=self.location, package_id=package_id)
        for start in range(0, len(damaged), BATCH):
            yield damaged[start:start + BATCH]
        taken = taken_bytes = 0
        while True:
            limit = BATCH if budgets.max_files is None else min(BATCH, budgets.max_files - taken)
            if limit <= 0:
                self.stopped_by = "max-files"
                return
            batch = self._next_due(cutoff, limit, package_id)
            if not batch:
                return
            chosen: list[AuditCopy] = []
            seen: set[tuple[str, str]] = set()
            for copy in batch:
                key = (copy.package_id, copy.content_path)
                new_bytes = 0 if key in seen else copy.size
                seen.add(key)
                if (budgets.max_bytes is not None and taken > 0
                        and taken_bytes + new_bytes > budgets.max_bytes):
                    self.stopped_by = "max-bytes"
                    break
                chosen.append(copy)
                taken += 1
                taken_bytes += new_bytes
            yield chosen
            if self.stopped_by:
                return
            if budgets.max_files is not None and taken >= budgets.max_files:
                more = self._next_due(cutoff, 1, package_id)
                self.stopped_by = "max-files" if more else ""
                return

    def _next_due(self, cutoff: dt.datetime, limit: int,
                  package_id: str | None) -> list[AuditCopy]:
        """Up to `limit` due copies that no batch in flight holds: those are not recorded
        yet, so the catalog still counts them as due (at this location a file has one copy)."""
        return self.catalog.due_copies(
            location=self.location, checked_before=cutoff, limit=limit, package_id=package_id,
            exclude=[file_id for b in self.pending for file_id, _location in b.keys])

    def _fill(self, due: Iterator[list[AuditCopy]]) -> None:
        """Start batches until PIPELINE are in flight (or none is left to take)."""
        while not self.exhausted and len(self.pending) < PIPELINE:
            copies = next(due, None)
            if copies is None:
                self.exhausted = True
            elif copies:
                self.pending.append(self._start(copies))

    def _drain(self, due: Iterator[list[AuditCopy]]) -> None:
        """Record the oldest batch while the next one is read, until none is left."""
        while self.pending:
            self._fill(due)
            done, timed_out = self._record(self.pending.popleft())
            if timed_out:
                self.timed_out = self.exhausted = True  # what was not read stays due
            elif done == 0:  # nothing could be recorded: never loop on the same copies
                self.exhausted = True

    def _start(self, copies: list[AuditCopy]) -> _Batch:
        """Inspect the batch's objects (once per run while cached) and hand its reads to
        the pool: a content file shared by several copies is read once per batch."""
        states: dict[str, ObjectState] = {}
        for pid in dict.fromkeys(c.package_id for c in copies):
            state = self.objects.get(pid)
            if state is not None:
                self.objects.move_to_end(pid)
            else:
                state, problems = inspect_object(self.stored, pid,
                                                 self.catalog.inventory_digests(pid))
                self.objects[pid] = state
                if pid not in self.inspected:
                    self.inspected.add(pid)
                    self.problems.extend(problems)
            states[pid] = state
        jobs: dict[tuple[str, str], tuple[str, int]] = {}
        for c in copies:
            key = (c.package_id, c.content_path)
            if key not in jobs:
                jobs[key] = (f"{states[c.package_id].base}/{c.content_path}", c.size)
        if self.progress is not None:
            self.planned += sum(size for _path, size in jobs.values())
            self.progress.start(self.planned)
        futures = [self.pool.submit(_read_chunk, self.stored, chunk, self._on_bytes,
                                    self.deadline, self.stop)
                   for chunk in _chunks(jobs)]
        return _Batch(copies, states, futures, {(c.file_id, c.location_id) for c in copies})

    def _on_bytes(self, n: int) -> None:
        if self.throttle is not None:
            self.throttle.consume(n)
        if self.progress is not None:
            self.progress.advance(n)

    def _record(self, batch: _Batch) -> tuple[int, bool]:
        """Wait for the batch's reads, judge each copy, record the outcomes in one
        transaction; (copies recorded, whether the time budget left some unread)."""
        reads: dict[tuple[str, str], Read] = {}
        timed_out = False
        for future in batch.futures:
            results, skipped = future.result()
            timed_out |= skipped
            for key, one in results:
                reads[key] = one
                self.bytes += one.size
        outcomes = []
        now = self.clock()
        for c in batch.copies:
            read = reads.get((c.package_id, c.content_path))
            if read is None:  # not read: the time budget ran out first; it stays due
                continue
            outcomes.append(self._judge(c, read, now, batch.states[c.package_id]))
        self.catalog.record_fixity(outcomes)
        # Objects of batches still in flight stay, whatever their age.
        flying = {pid for b in self.pending for pid in b.states}
        for pid in list(self.objects):
            if len(self.objects) <= OBJECT_CACHE:
                break
            if pid not in flying:
                self._report_missing(self.objects.pop(pid))
        return len(outcomes), timed_out

    # --- judging one copy -------------------------------------------------------------------

    def _judge(self, c: AuditCopy, read: Read, now: dt.datetime,
               state: ObjectState) -> CopyOutcome:
        key = (c.package_id, c.content_path)
        counts = self.per_package.setdefault(c.package_id, [0, 0])
        counts[0] += 1
        self.checked += 1
        expected = Expected(
            size=c.size, sha512=c.sha512, sha256=c.sha256, inventory_readable=state.inventory_ok,
            inventory_sha512=state.manifest.get(c.content_path),
            inventory_sha256=state.sha256.get(c.content_path),
            bag_sha512=state.bag_sha512(c.version, c.path) if state.inventory_ok else None)
        verdict = compare(read, expected)
        if verdict.code is None:
            counts[1] += 1
            self.passed += 1
            if c.status != "ok":
                self.recovered.setdefault(key, c)
            return CopyOutcome(c.file_id, c.location_id, "pass", "ok", now)
        fields: dict[str, object] = {"detail": verdict.detail}
        if verdict.code == "AUD-E006":
            self.missing_reported.add(key)
        if verdict.damaged:
            fields["quarantine"] = self._quarantine(c, read, expected.inventory_sha512,
                                                    state.base)
        if verdict.code == "AUD-E001" and read.digests is not None:
            fields.update(size=read.size, found=read.digests["sha512"], expected_size=c.size,
                          expected=c.sha512)
        # One problem per stored file, however many versions' logical paths share it.
        if (verdict.code, *key) not in self.reported:
            self.reported.add((verdict.code, *key))
            message = finding(verdict.code, c.path, package_id=c.package_id,
                              content_path=c.content_path, **fields).message
            self.problems.append(Problem(verdict.code, message, c.package_id, c.path,
                                         c.content_path, str(fields.get("quarantine", ""))))
        return CopyOutcome(c.file_id, c.location_id, verdict.outcome, verdict.status, now)

    def _quarantine(self, c: AuditCopy, read: Read, listed: str | None, base: str) -> str:
        key = (c.package_id, c.content_path)
        if key in self.quarantined:
            return self.quarantined[key]
        note: dict[str, Any] = {
            "package_id": c.package_id, "content_path": c.content_path, "path": c.path,
            "expected": {"size": c.size, "sha256": c.sha256, "sha512": c.sha512},
            "inventory": {"sha512": listed},
            "found": {"size": read.size, **(read.digests or {})},
            "run_id": self.run_id, "time": self.clock().isoformat()}
        stored = f"{base}/{c.content_path}"
        try:
            # <repo>/quarantine/<run id>/<object path>/<content path>, the note beside it
            kept = str(keep_copy(self.stored, stored,
                                 self.home.quarantine.joinpath(str(self.run_id),
                                                               *stored.split("/")),
                                 note, NOTE_SUFFIX))
        except (OSError, PreserveError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else exc.message
            log.error("could not keep a copy of damaged %s: %s", c.content_path, reason)
            kept = f"(not kept: {reason or exc})"
        self.quarantined[key] = kept
        return kept

    def _report_missing_content(self) -> None:
        for state in self.objects.values():
            self._report_missing(state)

    def _report_missing(self, state: ObjectState) -> None:
        """Manifest content files missing on disk that no checked copy already reported."""
        pid = state.package_id
        for content in sorted(state.missing):
            if (pid, content) not in self.missing_reported:
                self.missing_reported.add((pid, content))
                self.problems.append(Problem(
                    "AUD-E006", finding("AUD-E006", content, package_id=pid,
                                        content_path=content).message,
                    pid, content, content))

    # --- closing the run --------------------------------------------------------------------

    def _finish(self, started: dt.datetime, chain: ChainReport, stopped_by: str) -> AuditReport:
        finished = self.clock()
        # Every copy still damaged or missing, whether this run looked at it or not.
        open_problems = tuple(self.catalog.open_problems())
        seen = {(p.package_id, p.content_path) for p in self.problems if p.content_path}
        for o in open_problems:
            if (o.package_id, o.content_path) not in seen:
                self.problems.append(Problem("AUD-E018", finding(
                    "AUD-E018", o.content_path, package_id=o.package_id,
                    content_path=o.content_path, status=o.status, since=_when(o.since),
                    paths=", ".join(o.paths)).message, o.package_id, o.paths[0], o.content_path))
        by_package: dict[str, list[Problem]] = {}
        for p in self.problems:
            if p.package_id is not None:
                by_package.setdefault(p.package_id, []).append(p)
        statuses = []
        events = []
        for pid in sorted(set(self.per_package) | set(by_package)):
            checked, passed = self.per_package.get(pid, [0, 0])
            problems = by_package.get(pid, [])
            statuses.append(PackageStatus(pid, checked, passed, checked - passed, len(problems)))
            events.append(self._event(pid, checked, passed, problems, finished))
        for (pid, content), c in sorted(self.recovered.items()):
            # Healthy again: the repair is on record as a PREMIS event of its own.
            events.append(Event(
                type=EventType.FIXITY_CHECK, outcome=EventOutcome.SUCCESS, time=finished,
                agent=AGENT, package_id=pid, object_paths=(content,),
                detail=f"audit run {self.run_id}: stored file {content} passes its fixity check "
                       f"again",
                outcome_detail=f"it was {c.status} since "
                               f"{_when(c.problem_since) if c.problem_since else 'an earlier run'}"
                               "; it matches the catalog, the inventory and the bag manifest"))
        report = AuditReport(
            run_id=self.run_id, started=started, finished=finished, checked=self.checked,
            bytes=self.bytes, passed=self.passed, problems=tuple(self.problems),
            packages=tuple(statuses), chain=chain, stopped_by=stopped_by,
            open_problems=tuple(self.catalog.open_problems()) if self.recovered else open_problems,
            recovered=tuple(sorted(self.recovered)),
            coverage=self.catalog.coverage(location=self.location,
                                           due_before=finished - self.interval),
            interval_days=self.interval.total_seconds() / 86400,
            titles=self.catalog.package_titles(),
        )
        self.catalog.finish_audit_run(
            self.run_id, finished=finished, checked=self.checked, bytes_read=self.bytes,
            passed=self.passed, failed=self.checked - self.passed,
            status="passed" if report.ok else "failed", events=events,
        )
        # The head after this run's own events: the value to keep elsewhere.
        report = dataclasses.replace(report, head=self.catalog.chain_head())
        log.info("audit run %s: %s copies checked, %s bytes, %s problems", self.run_id,
                 self.checked, self.bytes, len(self.problems))
        return report

    def _event(self, pid: str, checked: int, passed: int, problems: list[Problem],
               finished: dt.datetime) -> Event:
        detail = (f"audit run {self.run_id} by {SOFTWARE_NAME} {__version__}: re-read {checked} "
                  f"stored file(s) with sha512 and sha256; {passed} passed, "
                  f"{checked - passed} failed")
        notes = [p.message for p in self.problems if p.code == "AUD-W002"]
        if problems:
            outcome_detail = "; ".join(f"{p.code} {p.problem}: {p.content_path or p.path}"
                                       for p in problems)
        else:
            outcome_detail = "every file checked matches the catalog and the OCFL inventory"
        if notes:  # a distrusted clock is on record with the checks it timed
            outcome_detail += "; " + "; ".join(notes)
        return Event(
            type=EventType.FIXITY_CHECK,
            outcome=EventOutcome.FAILURE if problems or passed < checked else EventOutcome.SUCCESS,
            time=finished, agent=AGENT, detail=detail, outcome_detail=outcome_detail,
            package_id=pid,
            object_paths=tuple(dict.fromkeys(p.content_path for p in problems if p.content_path)),
        )


def _chunks(jobs: dict[tuple[str, str], tuple[str, int]]) -> Iterator[list[Any]]:
    """Jobs grouped so that one task reads up to CHUNK_BYTES (or CHUNK_FILES small files):
    handing each small file to a thread on its own cost more than reading it."""
    chunk: list[tuple[tuple[str, str], str]] = []
    size = 0
    for key, (path, expected) in jobs.items():
        chunk.append((key, path))
        size += expected
        if size >= CHUNK_BYTES or len(chunk) >= CHUNK_FILES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _read_chunk(location: Location, chunk: list[tuple[tuple[str, str], str]],
                on_bytes: Callable[[int], None], deadline: float | None,
                stop: threading.Event) -> tuple[list[tuple[tuple[str, str], Read]], bool]:
    """Read a chunk in a pool thread: (reads, True if the time budget ended before it began).
    Once the budget is spent or the run is over, no further file is started."""
    if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
        return [], not stop.is_set()
    return [(key, _read_one(location, path, on_bytes)) for key, path in chunk], False


def _read_one(location: Location, path: str, on_bytes: Callable[[int], None]) -> Read:
    try:
        with location.open_read(path) as stream:
            return read_copy(stream, on_bytes)
    except StoredFileMissing:
        return Read(missing=True)
    except LocationError as exc:
        return Read(error=exc.message)
    except OSError as exc:  # while reading an opened file
        return Read(error=exc.strerror or str(exc))
