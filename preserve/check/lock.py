"""Locks `preserve check --repair` takes (flock: the kernel releases them however the process
ends); the mechanisms are the staging area's (`preserve.storage.staging`), shared with ingest
and audit.

* `<repo>/check.lock`, exclusive, non-blocking: one repair at a time; the pid inside only
  says who holds it.
* `<repo>/ingest.lock`, the ingests' commit lock (an ingest holds it from its last duplicate
  check through the move into storage and its catalog transaction): held while an object is
  adopted or moved into quarantine, so check never takes an object an ingest is about to
  record as its own.
* `staging/<dir>.lock` beside a work directory (held by the ingest working in it) and an
  flock on the directory itself: either held means the directory is in use
  (`work_dir_in_use`, `work_dir_claimed`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from preserve.errors import ExitCode, PreserveError
from preserve.storage import staging
from preserve.storage.staging import work_dir_claimed, work_dir_in_use

LOCK_FILE = "check.lock"
#: How long a repair waits for an ingest's commit before leaving that item for the next run.
COMMIT_WAIT_S = 60.0

__all__ = ["CheckRunning", "check_lock", "commit_lock", "work_dir_claimed", "work_dir_in_use"]


class CheckRunning(PreserveError):
    """another `preserve check --repair` is running (pid {pid}) on {path}; wait for it to
    finish."""

    exit_code = ExitCode.STORAGE


@contextmanager
def check_lock(home_path: Path) -> Iterator[None]:
    """Hold the repository's check lock for the duration; CheckRunning if another holds it."""
    try:
        with staging.run_lock(Path(home_path) / LOCK_FILE):
            yield
    except staging.LockHeld as held:
        raise CheckRunning(pid=held.holder, path=str(home_path)) from None


def commit_lock(home_path: Path, timeout: float = COMMIT_WAIT_S):  # type: ignore[no-untyped-def]
    """The ingests' commit lock of the repository at `home_path` (CommitLockTimeout after
    `timeout` seconds of waiting)."""
    return staging.commit_lock(Path(home_path) / staging.COMMIT_LOCK, timeout)
