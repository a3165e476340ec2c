"""Locks `preserve check --repair` takes (flock: the kernel releases them however the process
ends).

* `<repo>/check.lock`, exclusive, non-blocking: one repair at a time; the pid inside only
  says who holds it.
* `<repo>/ingest.lock`, the ingests' commit lock (an ingest holds it from its last duplicate
  check through the move into storage and its catalog transaction): held while an object is
  adopted or moved into quarantine, so check never takes an object an ingest is about to
  record as its own.
* `staging/<dir>.lock` beside a work directory (held by the ingest working in it) and an
  flock on the directory itself: either held means the directory is in use.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
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


COMMIT_LOCK_FILE = "ingest.lock"
LOCK_SUFFIX = ".lock"


class CommitLockBusy(PreserveError):
    """an ingest has been committing on {path} for {seconds:.0f} s; nothing was changed for
    this item. Run `preserve check --repair` again when the ingests are done."""

    exit_code = ExitCode.STORAGE


@contextmanager
def commit_lock(home_path: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold the ingests' commit lock, waiting at most `timeout` seconds for it."""
    path = Path(home_path) / COMMIT_LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                raise CommitLockBusy(path=str(home_path), seconds=timeout)
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _held(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
    fcntl.flock(fd, fcntl.LOCK_UN)
    return False


def work_dir_in_use(path: Path) -> bool:
    """True if a process holds the lock file beside the work directory or an flock on it."""
    sibling = path.with_name(path.name + LOCK_SUFFIX)
    for target, flags in ((sibling, os.O_RDWR), (path, os.O_RDONLY)):
        try:
            fd = os.open(target, flags | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue  # no lock file: nobody announced themselves that way
        try:
            if _held(fd):
                return True
        finally:
            os.close(fd)
    return False


@contextmanager
def work_dir_claimed(path: Path) -> Iterator[bool]:
    """Take the work directory's lock file (if it has one) for the duration; yields False if
    someone else holds it. The lock file itself is removed after the directory, like its
    ingest does, while still held."""
    sibling = path.with_name(path.name + LOCK_SUFFIX)
    try:
        fd = os.open(sibling, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        yield not work_dir_in_use(path)
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                yield False
                return
            raise
        yield True
        if not path.exists():
            sibling.unlink(missing_ok=True)
    finally:
        os.close(fd)
