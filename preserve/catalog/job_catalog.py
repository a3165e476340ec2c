"""The job half of `Catalog` (issue 14): why attempts of queued jobs failed.

The queue itself (procrastinate's tables, migration 0005) belongs to `preserve.jobs`; this
table is the catalog's, so `preserve jobs` can say what went wrong with each failed attempt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from preserve.catalog.records import JobErrorRecord

#: The longest error text kept per attempt.
ERROR_CHARS = 4000


class JobCatalog:
    """Job error rows of the catalog; `Catalog` supplies `_transaction`."""

    def _transaction(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def record_job_error(self, job_id: int, attempt: int, task: str, error: str,
                         at: dt.datetime) -> None:
        """Keep why attempt `attempt` of job `job_id` failed (once: a repeat is ignored)."""
        with self._transaction() as session:
            session.execute(pg_insert(JobErrorRecord).values(
                job_id=job_id, attempt=attempt, task=task, at=at, error=error[:ERROR_CHARS])
                .on_conflict_do_nothing())

    def job_errors(self, job_ids: Sequence[int]) -> dict[int, tuple[int, str, dt.datetime]]:
        """Job id -> (attempt, error, time) of its latest failed attempt."""
        found: dict[int, tuple[int, str, dt.datetime]] = {}
        with self._transaction() as session:
            for start in range(0, len(job_ids), 500):
                rows = session.execute(
                    select(JobErrorRecord.job_id, JobErrorRecord.attempt, JobErrorRecord.error,
                           JobErrorRecord.at)
                    .where(JobErrorRecord.job_id.in_(job_ids[start:start + 500]))
                    .order_by(JobErrorRecord.job_id, JobErrorRecord.attempt))
                for job_id, attempt, error, at in rows:
                    found[job_id] = (attempt, error, at)
        return found
