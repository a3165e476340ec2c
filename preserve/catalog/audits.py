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
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from preserve.catalog.records import (
    AuditRunRecord,
    CopyRecord,
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
) -> list[AuditCopy]:
    """Up to `limit` copies at `location` never checked or last checked before `checked_before`,
    least recently checked first (never-checked first)."""
    if limit <= 0:
        return []
    # Plain columns, not ORM entities: a batch is read-only and thousands of rows long.
    base = (
        select(CopyRecord.file_id, CopyRecord.location_id, FileRecord.package_id,
               FileRecord.version, FileRecord.path, CopyRecord.content_path, FileRecord.size,
               FileRecord.sha256, FileRecord.sha512, CopyRecord.last_fixity_at)
        .join(FileRecord, CopyRecord.file_id == FileRecord.id)
        .join(LocationRecord, CopyRecord.location_id == LocationRecord.id)
        .where(LocationRecord.name == location)
    )
    if package_id is not None:
        base = base.where(FileRecord.package_id == package_id)
    # No ORDER BY among the never-checked: any order is fair, and sorting them all would cost
    # a full sort per batch; the index scan stops at the LIMIT.
    rows = list(session.execute(
        base.where(CopyRecord.last_fixity_at.is_(None)).limit(limit)
    ))
    if len(rows) < limit:
        rows += session.execute(
            base.where(CopyRecord.last_fixity_at < checked_before)
            .order_by(CopyRecord.last_fixity_at, CopyRecord.file_id)
            .limit(limit - len(rows))
        )
    return [AuditCopy(*row) for row in rows]


def record_outcomes(session: Session, outcomes: Sequence[CopyOutcome]) -> None:
    """Update the copies in two executemany statements (with and without a new status)."""
    table = CopyRecord.__table__
    by_kind: dict[bool, list[dict[str, object]]] = {True: [], False: []}
    for o in outcomes:
        if o.outcome not in FIXITY_OUTCOMES:
            raise ValueError(f"fixity outcome must be one of {FIXITY_OUTCOMES}, not {o.outcome!r}")
        if o.status is not None and o.status not in COPY_STATUSES:
            raise ValueError(f"copy status must be one of {COPY_STATUSES}, not {o.status!r}")
        by_kind[o.status is not None].append(
            {"k_file": o.file_id, "k_location": o.location_id, "k_at": o.checked_at,
             "k_outcome": o.outcome, "k_status": o.status})
    for with_status, rows in by_kind.items():
        if not rows:
            continue
        values: dict[str, object] = {"last_fixity_at": bindparam("k_at", type_=UTCDateTime()),
                                     "last_fixity_outcome": bindparam("k_outcome")}
        if with_status:
            values["status"] = bindparam("k_status")
        statement = (
            update(table)
            .where(table.c.file_id == bindparam("k_file"),
                   table.c.location_id == bindparam("k_location"))
            .values(**values)
        )
        session.connection().execute(statement, rows)


def package_ids(session: Session) -> list[str]:
    return list(session.scalars(select(PackageRecord.id).order_by(PackageRecord.id)))


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


def runs(session: Session) -> list[AuditRunView]:
    return [
        AuditRunView(id=r.id, started=r.started, finished=r.finished, checked=r.checked,
                     bytes=r.bytes, passed=r.passed, failed=r.failed, status=r.status)
        for r in session.scalars(select(AuditRunRecord).order_by(AuditRunRecord.id))
    ]
