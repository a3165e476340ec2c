"""The audit half of `Catalog` (DESIGN.md, "Catalog": copies, audit_runs; issues 4, 11, 18):
due copies, outcomes, runs, open problems, coverage and the catalog's own clock.

A mixin of `repository.Catalog`, kept apart so that each module stays one concept: every
method is one transaction through `Catalog._transaction` and calls the queries of
`audits.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager

from sqlalchemy import select
from sqlalchemy.orm import Session

from preserve.catalog import audits, eventlog, queries
from preserve.catalog.records import PackageRecord, PackageVersionRecord
from preserve.model import Event


class AuditCatalog:
    """Audit queries of the catalog; `Catalog` supplies `_transaction`."""

    def _transaction(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def coverage(self, *, location: str, due_before: dt.datetime) -> tuple[int, int]:
        """(copies at `location`, copies overdue: unchecked or checked before `due_before`)."""
        with self._transaction() as session:
            return audits.coverage(session, location=location, due_before=due_before)

    def package_titles(self) -> dict[str, str]:
        """Package id -> title, for reports."""
        with self._transaction() as session:
            return {pid: title or "" for pid, title in
                    session.execute(select(PackageRecord.id, PackageRecord.title))}

    def reset_future_checks(self, now: dt.datetime) -> int:
        """Make copies stamped as checked after `now` due again; returns how many."""
        with self._transaction() as session:
            return audits.reset_future_checks(session, now)

    def clock_reference(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """(the database's now() on PostgreSQL else None, the latest time recorded)."""
        with self._transaction() as session:
            return audits.clock_reference(session)

    def open_problems(self, package_id: str | None = None) -> list[audits.OpenProblem]:
        """Damaged or missing copies not yet repaired, one per content file and location."""
        with self._transaction() as session:
            return audits.open_problems(session, package_id=package_id)

    def damaged_copies(self, *, location: str,
                       package_id: str | None = None) -> list[audits.AuditCopy]:
        """Every copy at `location` whose status is damaged or missing."""
        with self._transaction() as session:
            return audits.damaged_copies(session, location=location, package_id=package_id)

    def inventory_digests(self, package_id: str) -> dict[int, str | None]:
        """Version number -> the sha512 of that version's inventory pinned at ingest."""
        with self._transaction() as session:
            return dict(session.execute(
                select(PackageVersionRecord.number, PackageVersionRecord.inventory_sha512)
                .where(PackageVersionRecord.package_id == package_id)).all())

    def due_copies(self, *, location: str, checked_before: dt.datetime, limit: int,
                   package_id: str | None = None,
                   exclude: Collection[int] = ()) -> list[audits.AuditCopy]:
        """Copies never checked or checked before `checked_before`, oldest first, at most
        `limit`, none of the files in `exclude`."""
        with self._transaction() as session:
            return audits.due_copies(session, location=location, checked_before=checked_before,
                                     limit=limit, package_id=package_id, exclude=exclude)

    def record_fixity(self, outcomes: Sequence[audits.CopyOutcome],
                      events: Sequence[Event] = ()) -> None:
        """Store each checked copy's outcome, time and (if given) status; with `events`,
        append them in the same transaction (both or neither: a retried job records its
        `fixity check` events exactly once)."""
        with self._transaction() as session:
            audits.record_outcomes(session, outcomes)
            if events:
                eventlog.lock_chain(session)
                eventlog.append(session, events)

    def due_packages(self, *, location: str,
                     checked_before: dt.datetime) -> list[tuple[str, int, int]]:
        """(package, copies, bytes) of each package with due, damaged or missing copies."""
        with self._transaction() as session:
            return audits.due_packages(session, location=location,
                                       checked_before=checked_before)

    def package_ids(self) -> list[str]:
        with self._transaction() as session:
            return audits.package_ids(session)

    def begin_audit_run(self, started: dt.datetime) -> int:
        with self._transaction() as session:
            return audits.begin_run(session, started)

    def finish_audit_run(self, run_id: int, *, finished: dt.datetime, checked: int,
                         bytes_read: int, passed: int, failed: int, status: str,
                         events: Sequence[Event] = ()) -> None:
        """Close an audit run and append its events, in one transaction."""
        with self._transaction() as session:
            if events:
                eventlog.lock_chain(session)
            audits.finish_run(session, run_id, finished=finished, checked=checked,
                              bytes_read=bytes_read, passed=passed, failed=failed, status=status)
            eventlog.append(session, events)

    def audit_runs(self) -> list[audits.AuditRunView]:
        with self._transaction() as session:
            return audits.runs(session)

    def audit_run_page(self, *, page: int = 1,
                       per_page: int = 50) -> queries.Page[audits.AuditRunView]:
        """Audit runs, newest first, `per_page` at a time, computed in SQL."""
        page, per_page = queries.bounds(page, per_page)
        with self._transaction() as session:
            total, views = audits.run_page(session, limit=per_page,
                                           offset=(page - 1) * per_page)
            return queries.Page(tuple(views), total, page, per_page)
