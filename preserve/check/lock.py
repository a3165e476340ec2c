"""One `preserve check --repair` at a time per repository: an exclusive, non-blocking flock on
`<repo>/check.lock` (released by the kernel however the process ends; the pid inside only
says who holds it)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from preserve.errors import ExitCode, PreserveError

LOCK_FILE = "check.lock"


class CheckRunning(PreserveError):
    """another `preserve check --repair` is running (pid {pid}) on {path}; wait for it to
    finish."""

    exit_code = ExitCode.STORAGE


@contextmanager
def check_lock(home_path: Path) -> Iterator[None]:
    """Hold the repository's check lock for the duration; CheckRunning if another holds it."""
    path = Path(home_path) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise CheckRunning(pid=holder, path=str(home_path)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
