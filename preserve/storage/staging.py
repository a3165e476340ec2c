"""The staging area next to a storage root: work directories and the commit lock.

Versions are staged on the storage root's filesystem and renamed in (DESIGN.md, "Storage";
OCFL 1.1 implementation notes). Two ingests, or an ingest and a crash it did not see, share
that area, so two rules make it safe:

* Every work directory `ingest-<hex>/` has a lock file `ingest-<hex>.lock` beside it, taken
  (flock, exclusive) *before* the directory is made and held until it is gone. fcntl.flock
  locks belong to the open file, so the kernel drops them when the process ends, however it
  ends (SIGKILL included): a work directory whose lock can be taken is stale, its writer is
  gone. No clock or age is needed to tell a live ingest from a dead one.
* A commit lock (`ingest.lock` in the repository home; flock, exclusive, waiting) is held from the last duplicate check of an
  ingest through its move into the storage root and its catalog transaction, so two ingests
  cannot both decide "not held yet", and crash recovery never runs beside a commit.

The lock files are empty; a stale `.lock` without its directory is harmless and removed by
`tidy_lock_files`. `work_dir_in_use` and `work_dir_claimed` let another process (`preserve
check`) tell a live work directory from an orphan by the same locks.

`run_lock` is the one-run-at-a-time lock of the commands that must not overlap themselves
(`audit.lock`, `check.lock` in the repository home): exclusive, non-blocking, with the
holder's pid written inside for the message.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from preserve.errors import StorageError

log = logging.getLogger(__name__)

WORK_PREFIX = "ingest-"
LOCK_SUFFIX = ".lock"

#: The commit lock's file name in the repository home.
COMMIT_LOCK = "ingest.lock"
#: the audit's one-run lock in the home (held by `preserve audit` for its whole run)
AUDIT_LOCK = "audit.lock"
#: a note an export leaves in its work directory: the path of its `.partial-*` file, so
#: `preserve check` can remove what a killed export left beside its destination
EXPORT_PARTIAL_NOTE = "partial"

#: The intent record an ingest writes into its work directory before it moves a version into
#: storage (written and read by preserve.ingest.recovery; `preserve check` keeps such a
#: directory rather than delete the one record that makes the version recordable).
INTENT_FILE = "intent.json"

#: How long an ingest waits for another's commit (a rename and one catalog transaction;
#: the catalog's own busy timeout bounds the latter) before giving up.
COMMIT_LOCK_TIMEOUT_S = 600.0


class CommitLockTimeout(StorageError):
    """{path} has been held by another preserve process for {seconds:.0f} s; nothing was
    committed or changed. Check for a hung preserve process, then run the command again."""


class LockHeld(Exception):
    """`run_lock` found the lock taken; `holder` is the pid written in the file."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def _open_lock(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        # A read-only repository (a replica, a snapshot) or one this user cannot write: the
        # command that needs the lock writes, so it cannot run here (issue 18).
        raise StorageError(detail=(
            f"cannot take the lock {path}: {exc.strerror}; this command writes to the "
            "repository, which is read-only or not writable by this user. Run it on the "
            "writable repository (or as its owner); list, show, log and export only read")) from None


class WorkDir:
    """A work directory owned by this process for as long as it is open."""

    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path = path
        self._fd: int | None = lock_fd

    @classmethod
    def create(cls, staging: Path) -> WorkDir:
        staging.mkdir(parents=True, exist_ok=True)
        name = f"{WORK_PREFIX}{uuid.uuid4().hex}"
        fd = _open_lock(staging / f"{name}{LOCK_SUFFIX}")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new name: nobody else has it
            path = staging / name
            path.mkdir()
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + LOCK_SUFFIX)

    def remove(self) -> None:
        """Remove the directory, then its lock file, then let go of the lock."""
        if self._fd is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        try:
            self.lock_path.unlink()
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None

    def release(self) -> None:
        """Let go of the lock and leave the directory as it is."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WorkDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def stale_work_dirs(staging: Path) -> list[WorkDir]:
    """Work directories whose writer is gone, each now locked by us.

    The caller `remove()`s those it deletes and `release()`s those it keeps.
    """
    found: list[WorkDir] = []
    if not staging.is_dir():
        return found
    for entry in sorted(os.listdir(staging)):
        path = staging / entry
        if not entry.startswith(WORK_PREFIX) or entry.endswith(LOCK_SUFFIX) or not path.is_dir():
            continue
        fd = _open_lock(path.with_name(entry + LOCK_SUFFIX))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # a live ingest owns it
            continue
        if not path.is_dir():  # its owner finished between listdir and flock
            os.close(fd)
            continue
        found.append(WorkDir(path, fd))
    return found


def tidy_lock_files(staging: Path) -> None:
    """Remove lock files whose work directory is gone and that nobody holds."""
    if not staging.is_dir():
        return
    for entry in os.listdir(staging):
        if not (entry.startswith(WORK_PREFIX) and entry.endswith(LOCK_SUFFIX)):
            continue
        lock = staging / entry
        if (staging / entry[: -len(LOCK_SUFFIX)]).exists():
            continue
        try:
            fd = os.open(lock, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            lock.unlink(missing_ok=True)
        except BlockingIOError:
            pass
        finally:
            os.close(fd)


@contextmanager
def commit_lock(path: Path, timeout: float = COMMIT_LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the commit lock file `path`; StorageError after `timeout` seconds of waiting."""
    fd = _open_lock(path)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    raise StorageError(detail=f"cannot lock {path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise CommitLockTimeout(path=str(path), seconds=timeout)
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold the exclusive lock file `path` for the duration; LockHeld if another holds it."""
    fd = _open_lock(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise LockHeld(holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def lock_held(path: Path) -> bool:
    """True while a process holds the flock on `path` (a missing file is not held)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        return _held(fd)
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
