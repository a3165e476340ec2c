"""Catalog queries of fixity audits (DESIGN.md, "Catalog": copies, audit_runs; "Data flow": audit).

Functions of an open session, wired into `repository.Catalog` as methods. Due copies are
found with two bounded queries that the index on `copies (last_fixity_at, file_id)` serves
(migration 0003): first the never-checked copies (`IS NULL`), then those checked before a
cutoff, oldest first, in the index's own order, so even copies sharing one check time (an
audit batch records one) are not sorted before the LIMIT applies. Recording
an outcome moves a copy's `last_fixity_at` past the cutoff, so asking again returns the next
copies: an audit pages through the collection without loading it and without an offset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from preserve.catalog.records import (
    AuditRunRecord,
    CopyRecord,
    EventRecord,
    FileRecord,
    LocationRecord,
    PackageRecord,
)
from preserve.catalog.types import UTCDateTime

#: Fixity outcomes a copy can carry, and the statuses of a copy.
FIXITY_OUTCOMES = ("pass", "fail", "could-not-check")
COPY_STATUSES = ("ok", "damaged", "missing")
#: Final statuses of an audit run (`running` while it runs).
RUN_STATUSES = ("passed", "failed", "interrupted")


#: The copies table itself, for bulk updates that skip the ORM (a mapped class's table is a
#: Table; typed as such here, where SQLAlchemy's stubs say FromClause).
_COPIES: Table = CopyRecord.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class AuditCopy:
    """One copy of one file, as an audit needs it: where it is and what it should be."""

    file_id: int
    location_id: int
    package_id: str
    version: int
    path: str  # logical path in the version, as deposited
    content_path: str  # OCFL content path, relative to the object root
    size: int
    sha256: str
    sha512: str
    last_fixity_at: dt.datetime | None
    status: str = "ok"
    problem_since: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class OpenProblem:
    """A stored content file with damaged or missing copies, not yet repaired (issue 11 item 2).

    One per content file and location: a file shared by several versions (OCFL
    deduplication) is one problem; `paths` lists every logical path it stands for.
    """

    package_id: str
    content_path: str
    location: str
    status: str  # damaged or missing
    since: dt.datetime  # when it was first found
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CopyOutcome:
    """The result of checking one copy; `status` None leaves the copy's status unchanged."""

    file_id: int
    location_id: int
    outcome: str
    status: str | None
    checked_at: dt.datetime


def due_copies(
    session: Session,
    *,
    location: str,
    checked_before: dt.datetime,
    limit: int,
    package_id: str | None = None,
    exclude: Collection[int] = (),
) -> list[AuditCopy]:
    """Up to `limit` copies at `location` never checked or last checked before `checked_before`,
    least recently checked first (never-checked first), leaving out the copies of the files
    in `exclude` (an audit's batches still being read: not recorded yet, still due)."""
    if limit <= 0:
        return []
    base = _copies(location, package_id)
    if exclude:
        # In the query, not after it: a batch of rows fetched only to be dropped cost as
        # much as the rest of the query (docs/performance.md, "Audit").
        base = base.where(CopyRecord.file_id.not_in(list(exclude)))
    # Plain rows through the connection: the ORM's result machinery adds nothing to a
    # read-only select of columns and cost a tenth of an audit's main thread.
    connection = session.connection()
    # No ORDER BY among the never-checked: any order is fair, and sorting them all would cost
    # a full sort per batch; the index scan stops at the LIMIT.
    rows = list(connection.execute(
        base.where(CopyRecord.last_fixity_at.is_(None)).limit(limit)
    ).all())
    if len(rows) < limit:
        rows += connection.execute(
            base.where(CopyRecord.last_fixity_at < checked_before)
            .order_by(CopyRecord.last_fixity_at, CopyRecord.file_id)
            .limit(limit - len(rows))
        ).all()
    return [AuditCopy(*row) for row in rows]


def _copies(location: str, package_id: str | None) -> Select[*tuple[Any, ...]]:
    # Plain columns, not ORM entities: a batch is read-only and thousands of rows long.
    base = (
        select(CopyRecord.file_id, CopyRecord.location_id, FileRecord.package_id,
               FileRecord.version, FileRecord.path, CopyRecord.content_path, FileRecord.size,
               FileRecord.sha256, FileRecord.sha512, CopyRecord.last_fixity_at,
               CopyRecord.status, CopyRecord.problem_since)
        .join(FileRecord, CopyRecord.file_id == FileRecord.id)
        .join(LocationRecord, CopyRecord.location_id == LocationRecord.id)
        .where(LocationRecord.name == location)
    )
    if package_id is not None:
        base = base.where(FileRecord.package_id == package_id)
    return base


def due_packages(session: Session, *, location: str,
                 checked_before: dt.datetime) -> list[tuple[str, int, int]]:
    """(package, copies, bytes) of every package with copies at `location` that are due
    (never checked, checked before `checked_before`) or damaged or missing: what a queue
    of audit jobs splits into batches (issue 14). One grouped scan of the location's copies."""
    query = (
        select(FileRecord.package_id, func.count(), func.coalesce(func.sum(FileRecord.size), 0))
        .select_from(CopyRecord)
        .join(FileRecord, CopyRecord.file_id == FileRecord.id)
        .join(LocationRecord, CopyRecord.location_id == LocationRecord.id)
        .where(LocationRecord.name == location)
        .where(CopyRecord.last_fixity_at.is_(None)
               | (CopyRecord.last_fixity_at < checked_before)
               | (CopyRecord.status != "ok"))
        .group_by(FileRecord.package_id)
        .order_by(FileRecord.package_id)
    )
    return [(pid, int(n), int(size)) for pid, n, size in session.execute(query)]


def coverage(session: Session, *, location: str, due_before: dt.datetime) -> tuple[int, int]:
    """(copies at `location`, how many of them are overdue: never checked or last checked
    before `due_before`)."""
    base = (select(func.count()).select_from(CopyRecord)
            .join(LocationRecord, CopyRecord.location_id == LocationRecord.id)
            .where(LocationRecord.name == location))
    total = session.scalar(base) or 0
    overdue = session.scalar(base.where((CopyRecord.last_fixity_at.is_(None))
                                        | (CopyRecord.last_fixity_at < due_before))) or 0
    return total, overdue


def reset_future_checks(session: Session, now: dt.datetime) -> int:
    """Forget check times after `now` (a clock that ran ahead wrote them): those copies are
    due again, first in line with the never-checked (issue 18, "The clock")."""
    table = _COPIES
    result = session.connection().execute(
        update(table).where(table.c.last_fixity_at > bindparam("now", now, type_=UTCDateTime()))
        .values(last_fixity_at=None))
    return int(result.rowcount or 0)


def damaged_copies(session: Session, *, location: str,
                   package_id: str | None = None) -> list[AuditCopy]:
    """Every copy at `location` whose status is damaged or missing: re-checked by every run
    until it passes (issue 11 item 2). Few by nature; read whole."""
    return [AuditCopy(*row) for row in session.execute(
        _copies(location, package_id).where(CopyRecord.status != "ok")
        .order_by(FileRecord.package_id, CopyRecord.content_path, CopyRecord.file_id))]


def open_problems(session: Session, *, package_id: str | None = None) -> list[OpenProblem]:
    """Damaged or missing copies, one entry per (package, content file, location)."""
    query = (
        select(FileRecord.package_id, CopyRecord.content_path, LocationRecord.name,
               CopyRecord.status, CopyRecord.problem_since, CopyRecord.last_fixity_at,
               FileRecord.path)
        .join(FileRecord, CopyRecord.file_id == FileRecord.id)
        .join(LocationRecord, CopyRecord.location_id == LocationRecord.id)
        .where(CopyRecord.status != "ok")
        .order_by(FileRecord.package_id, CopyRecord.content_path, LocationRecord.name,
                  FileRecord.version)
    )
    if package_id is not None:
        query = query.where(FileRecord.package_id == package_id)
    grouped: dict[tuple[str, str, str], list[Any]] = {}
    for pid, content, location, status, since, checked, path in session.execute(query):
        # A status set without a date (rows from before migration 0004, or `check` marking a
        # whole object missing) dates from the last check, else from the epoch of unknown.
        when = since or checked or _UNKNOWN
        entry = grouped.setdefault((pid, content, location), [status, when, []])
        if status == "missing":
            entry[0] = "missing"
        entry[1] = min(entry[1], when)
        entry[2].append(path)
    return [OpenProblem(pid, content, location, status, since, tuple(dict.fromkeys(paths)))
            for (pid, content, location), (status, since, paths) in grouped.items()]


_UNKNOWN = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def clock_reference(session: Session) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The catalog's own clock (issue 18, "The clock"): the database's `now()` on PostgreSQL
    (None on SQLite, which has no clock of its own), and the latest time recorded anywhere
    in it (events, copy checks, audit runs)."""
    database_now = None
    if session.get_bind().dialect.name == "postgresql":
        database_now = session.scalar(select(func.now()))
        if database_now is not None and database_now.tzinfo is None:
            database_now = database_now.replace(tzinfo=dt.UTC)
    latest = [session.scalar(select(func.max(EventRecord.time))),
              session.scalar(select(func.max(CopyRecord.last_fixity_at))),
              session.scalar(select(func.max(AuditRunRecord.started)))]
    known = [t for t in latest if t is not None]
    return database_now, (max(known) if known else None)


#: File ids per UPDATE: under SQLite's oldest limit of 999 bound parameters.
_IN_CHUNK = 900


def record_outcomes(session: Session, outcomes: Sequence[CopyOutcome]) -> None:
    """Update the copies: one statement per location, outcome, status and time, naming its
    copies with `file_id IN (...)`. An audit records a batch of 1,000 copies checked at one
    instant, nearly all passing: one statement instead of a row of parameters per copy,
    whose bind processing (two UTC times each) was a fifth of the audit's main thread."""
    table = _COPIES
    groups: dict[tuple[int, str, str | None, dt.datetime], list[int]] = {}
    for o in outcomes:
        if o.outcome not in FIXITY_OUTCOMES:
            raise ValueError(f"fixity outcome must be one of {FIXITY_OUTCOMES}, not {o.outcome!r}")
        if o.status is not None and o.status not in COPY_STATUSES:
            raise ValueError(f"copy status must be one of {COPY_STATUSES}, not {o.status!r}")
        groups.setdefault((o.location_id, o.outcome, o.status, o.checked_at), []).append(o.file_id)
    connection = session.connection()
    for (location_id, outcome, status, at), file_ids in groups.items():
        values: dict[str, object] = {
            "last_fixity_at": bindparam("k_at", at, type_=UTCDateTime()),
            "last_fixity_outcome": outcome}
        if status == "ok":
            values["status"] = status
            values["problem_since"] = None  # healthy: no problem to date
        elif status is not None:
            values["status"] = status
            # The date damage was first found stays until a check passes again.
            values["problem_since"] = func.coalesce(
                table.c.problem_since, bindparam("k_since", at, type_=UTCDateTime()))
        for start in range(0, len(file_ids), _IN_CHUNK):
            connection.execute(
                update(table)
                .where(table.c.location_id == location_id,
                       table.c.file_id.in_(file_ids[start:start + _IN_CHUNK]))
                .values(**values))


def package_ids(session: Session) -> list[str]:
    """The packages whose objects storage must hold: deaccessioned ones (issue 16 §2) not."""
    return list(session.scalars(select(PackageRecord.id).where(PackageRecord.state == "active")
                                .order_by(PackageRecord.id)))


def begin_run(session: Session, started: dt.datetime) -> int:
    record = AuditRunRecord(started=started, status="running", checked=0, bytes=0, passed=0,
                            failed=0)
    session.add(record)
    session.flush()
    return record.id


def finish_run(session: Session, run_id: int, *, finished: dt.datetime, checked: int,
               bytes_read: int, passed: int, failed: int, status: str) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"an audit run finishes as one of {RUN_STATUSES}, not {status!r}")
    record = session.get(AuditRunRecord, run_id)
    if record is None:
        raise ValueError(f"no audit run {run_id}")
    record.finished = finished
    record.checked = checked
    record.bytes = bytes_read
    record.passed = passed
    record.failed = failed
    record.status = status


@dataclass(frozen=True, slots=True)
class AuditRunView:
    id: int
    started: dt.datetime
    finished: dt.datetime | None
    checked: int
    bytes: int
    passed: int
    failed: int
    status: str


def _run_view(r: AuditRunRecord) -> AuditRunView:
    return AuditRunView(id=r.id, started=r.started, finished=r.finished, checked=r.checked,
                        bytes=r.bytes, passed=r.passed, failed=r.failed, status=r.status)


def run_page(session: Session, *, limit: int, offset: int) -> tuple[int, list[AuditRunView]]:
    """The total of audit runs and `limit` of them, newest first."""
    total = session.scalar(select(func.count()).select_from(AuditRunRecord)) or 0
    return int(total), [_run_view(r) for r in session.scalars(
        select(AuditRunRecord).order_by(AuditRunRecord.id.desc()).limit(limit).offset(offset))]


def runs(session: Session) -> list[AuditRunView]:
    return [_run_view(r) for r in session.scalars(
        select(AuditRunRecord).order_by(AuditRunRecord.id))]
