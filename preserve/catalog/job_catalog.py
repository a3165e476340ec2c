"""The job half of `Catalog` (issue 14): why attempts of queued jobs failed, and the read
budget of each location that every worker shares.

The queue itself (procrastinate's tables, migration 0005) belongs to `preserve.jobs`; these
tables are the catalog's. Both are used only with a PostgreSQL catalog (the queue's home).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from preserve.catalog.records import JobErrorRecord

#: The longest error text kept per attempt.
ERROR_CHARS = 4000
#: Seconds of reading a location's budget lets through at once (like the in-process
#: Throttle's bucket of one second).
BURST_SECONDS = 1.0

# A cell-rate ledger in one statement: the location's `next_free` moves forward by the time
# `bytes` take at `rate`, from now if it lay in the past. The database's clock is the one
# clock every machine shares. What is returned is how far ahead of now the budget is booked.
_RESERVE = text(
    "INSERT INTO bandwidth (location, next_free) "
    "VALUES (:location, clock_timestamp() + make_interval(secs => :seconds)) "
    "ON CONFLICT (location) DO UPDATE SET next_free = "
    "GREATEST(bandwidth.next_free, clock_timestamp()) + make_interval(secs => :seconds) "
    "RETURNING EXTRACT(EPOCH FROM (next_free - clock_timestamp()))")


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

    def reserve_bandwidth(self, location: str, nbytes: int, rate: float) -> float:
        """Book `nbytes` just read at `location` against its shared budget of `rate` bytes
        per second; return the seconds the reader must wait so that all readers of the
        location together stay under the rate (0 while within the burst)."""
        with self._transaction() as session:
            ahead = session.execute(_RESERVE, {"location": location,
                                               "seconds": nbytes / rate}).scalar_one()
        return max(0.0, float(ahead) - BURST_SECONDS)

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
