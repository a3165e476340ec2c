"""The deaccession half of `Catalog` (issue 16 §2): requests, decisions, and the tombstone.

A request row moves requested -> approved -> completed, or requested -> rejected. The
`approved` row is the removal's intent record (like an ingest's intent file, DESIGN.md Rules:
re-running is safe): it is written, with the final METS and the approval event, in one
transaction before any copy is removed; `complete_deaccession` then drops the copy rows, marks
the package `deaccessioned` and appends the PREMIS `deaccession` event in one transaction.
The package's version, file, identifier and event rows stay: they are the tombstone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from preserve.catalog import eventlog
from preserve.catalog.records import (
    CopyRecord,
    DeaccessionRequestRecord,
    FileRecord,
    PackageRecord,
)
from preserve.errors import CatalogError
from preserve.model import Event

#: States of a request that still wait for something (a decision or the removal).
OPEN_STATES = ("requested", "approved")


@dataclass(frozen=True, slots=True)
class DeaccessionView:
    """One deaccession request as `preserve deaccession list` shows it."""

    id: int
    package_id: str
    reason: str
    requested_by: str
    requested_at: dt.datetime
    state: str
    decided_by: str | None
    decided_at: dt.datetime | None
    note: str | None
    completed_at: dt.datetime | None
    has_final_mets: bool

    def as_dict(self) -> dict[str, Any]:
        def iso(t: dt.datetime | None) -> str | None:
            return t.isoformat() if t is not None else None
        return {"id": self.id, "package_id": self.package_id, "reason": self.reason,
                "requested_by": self.requested_by, "requested_at": iso(self.requested_at),
                "state": self.state, "decided_by": self.decided_by,
                "decided_at": iso(self.decided_at), "note": self.note,
                "completed_at": iso(self.completed_at), "final_mets_kept": self.has_final_mets}


def _view(r: DeaccessionRequestRecord) -> DeaccessionView:
    return DeaccessionView(
        id=r.id, package_id=r.package_id, reason=r.reason, requested_by=r.requested_by,
        requested_at=r.requested_at, state=r.state, decided_by=r.decided_by,
        decided_at=r.decided_at, note=r.note, completed_at=r.completed_at,
        has_final_mets=r.final_mets is not None)


class DeaccessionCatalog:
    """Deaccession rows of the catalog; `Catalog` supplies `_transaction`."""

    def _transaction(self) -> AbstractContextManager[Session]:
        raise NotImplementedError  # pragma: no cover - provided by Catalog

    def package_state(self, package_id: str) -> str | None:
        """`active`, `deaccessioned`, or None for an unknown package."""
        with self._transaction() as session:
            package = session.get(PackageRecord, package_id)
            return package.state if package is not None else None

    def deaccessioned_packages(self, package_ids: Sequence[str]) -> set[str]:
        """Those of `package_ids` that are deaccessioned."""
        if not package_ids:
            return set()
        with self._transaction() as session:
            return set(session.scalars(
                select(PackageRecord.id).where(PackageRecord.id.in_(list(package_ids)))
                .where(PackageRecord.state == "deaccessioned")))

    def deaccession_requests(self, package_id: str | None = None,
                             states: Sequence[str] | None = None) -> list[DeaccessionView]:
        with self._transaction() as session:
            query = select(DeaccessionRequestRecord).order_by(DeaccessionRequestRecord.id)
            if package_id is not None:
                query = query.where(DeaccessionRequestRecord.package_id == package_id)
            if states is not None:
                query = query.where(DeaccessionRequestRecord.state.in_(list(states)))
            return [_view(r) for r in session.scalars(query)]

    def deaccession_request(self, request_id: int) -> DeaccessionView | None:
        with self._transaction() as session:
            record = session.get(DeaccessionRequestRecord, request_id)
            return _view(record) if record is not None else None

    def final_mets(self, request_id: int) -> bytes | None:
        with self._transaction() as session:
            record = session.get(DeaccessionRequestRecord, request_id)
            return record.final_mets if record is not None else None

    def add_deaccession_request(self, *, package_id: str, reason: str, person: str,
                                at: dt.datetime) -> DeaccessionView:
        """Record a request; CatalogError if another one was opened meanwhile."""
        with self._transaction() as session:
            eventlog.lock_chain(session)  # serializes concurrent requests on the chain lock
            _no_open_request(session, package_id)
            record = DeaccessionRequestRecord(
                package_id=package_id, reason=reason, requested_by=person, requested_at=at,
                state="requested")
            session.add(record)
            session.flush()
            return _view(record)

    def decide_deaccession(self, request_id: int, *, state: str, person: str, at: dt.datetime,
                           note: str | None, final_mets: bytes | None) -> DeaccessionView:
        """Approve (with the final METS: the removal's intent) or reject a request."""
        if state not in ("approved", "rejected"):
            raise ValueError(state)
        with self._transaction() as session:
            eventlog.lock_chain(session)
            record = session.get(DeaccessionRequestRecord, request_id)
            if record is None or record.state != "requested":
                raise CatalogError(detail=f"deaccession request {request_id} is no longer "
                                   "waiting for a decision; nothing was changed")
            record.state, record.decided_by, record.decided_at = state, person, at
            record.note = note
            record.final_mets = final_mets
            return _view(record)

    def complete_deaccession(self, request_id: int, *, at: dt.datetime,
                             event: Event) -> DeaccessionView:
        """Drop the copy rows, mark the package deaccessioned, append the `deaccession`
        event: one transaction, after every copy was removed from storage."""
        with self._transaction() as session:
            eventlog.lock_chain(session)
            record = session.get(DeaccessionRequestRecord, request_id)
            if record is None or record.state != "approved":
                raise CatalogError(detail=f"deaccession request {request_id} is not approved "
                                   "and waiting for its removal; nothing was changed")
            files = select(FileRecord.id).where(FileRecord.package_id == record.package_id)
            session.execute(delete(CopyRecord).where(CopyRecord.file_id.in_(files)))
            package = session.get(PackageRecord, record.package_id)
            assert package is not None  # a foreign key
            package.state = "deaccessioned"
            record.state, record.completed_at = "completed", at
            eventlog.append(session, [event])
            return _view(record)


def _no_open_request(session: Session, package_id: str) -> None:
    open_request = session.scalar(
        select(DeaccessionRequestRecord.id)
        .where(DeaccessionRequestRecord.package_id == package_id)
        .where(DeaccessionRequestRecord.state.in_(OPEN_STATES)))
    if open_request is not None:
        raise CatalogError(detail=f"package {package_id} has deaccession request "
                           f"{open_request} open already; nothing was changed")
