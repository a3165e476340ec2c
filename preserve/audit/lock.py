"""One audit at a time per repository: an exclusive, non-blocking lock on `<repo>/audit.lock`
(`preserve.storage.staging.run_lock`).

fcntl.flock locks belong to the open file, so the kernel releases the lock when the process
ends, however it ends; the pid written into the file is only there to say who holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from preserve.errors import ExitCode, PreserveError
from preserve.storage import staging

LOCK_FILE = staging.AUDIT_LOCK


class AuditRunning(PreserveError):
    """another audit is running (pid {pid}) on {path}; wait for it to finish, or schedule the
    runs so they do not overlap."""

    exit_code = ExitCode.STORAGE


@contextmanager
def audit_lock(home_path: Path) -> Iterator[None]:
    """Hold the repository's audit lock for the duration; AuditRunning if another holds it."""
    try:
        with staging.run_lock(Path(home_path) / LOCK_FILE):
            yield
    except staging.LockHeld as held:
        raise AuditRunning(pid=held.holder, path=str(home_path)) from None
