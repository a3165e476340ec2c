"""Durable writes: fsync of files and directories, atomic replacement of small files.

A rename is only durable once the directory that holds the new name has been fsynced, and a
file's bytes only once the file has been (POSIX fsync(2); the pattern of borg's `SaveFile`,
STYLE.md "Crash safety and I/O"). OCFL 1.1 section 3.5 makes the root `inventory.json` the
state of an object, so it is always replaced through a temp file, never rewritten in place.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

# Directories cannot be opened for fsync on Windows; there the rename itself is what we get.
_CAN_FSYNC_DIRS = os.name == "posix"


def fsync_dir(path: Path) -> None:
    """Flush the directory entry list of `path` (names created, renamed or removed in it)."""
    if not _CAN_FSYNC_DIRS:
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush the bytes of an existing file (cheap if they were flushed already)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush every file and directory under `path`.

    On Linux one syncfs(2) of the filesystem holding `path` does it: it flushes every dirty
    file and directory of that filesystem in one call instead of one fsync per file (20,000
    small files: about 6 s of fsyncs become one call), and since Linux 5.8 it reports
    writeback errors. Elsewhere, or if syncfs is unavailable, every file and directory is
    fsynced, deepest first.
    """
    if _syncfs(path):
        return
    for dirpath, _dirnames, filenames in os.walk(path, topdown=False):
        for name in filenames:
            fsync_file(Path(dirpath, name))
        fsync_dir(Path(dirpath))


def _syncfs(path: Path) -> bool:
    """syncfs(2) on the filesystem of `path`; False if this platform has no syncfs."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if syncfs(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"syncfs failed: {os.strerror(error)}", str(path))
    finally:
        os.close(fd)
    return True


def write_new(path: Path, data: bytes) -> None:
    """Create `path` (which must not exist) with `data` and flush it; the caller syncs the dir."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:  # os.write may write less than asked
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new_pieces(path: Path, pieces: Iterable[bytes]) -> None:
    """`write_new` of the concatenation of `pieces`, written as they come (a document too
    large to be held whole)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        for piece in pieces:
            view = memoryview(piece)
            while view:
                view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes | Iterable[bytes], *,
                 temp_dir: Path | None = None) -> None:
    """Replace (or create) `path` with `data` (bytes, or pieces of them written as they come)
    so that readers see the old or the new bytes.

    The temp file is written in `temp_dir` (default: the target's directory; it must be on the
    same filesystem), flushed, renamed over the target with `os.replace`, and the target's
    directory is flushed. A temp file in another directory (a staging area) means a crash
    leaves no stray file next to the target.
    """
    path = Path(path)
    where = Path(temp_dir) if temp_dir is not None else path.parent
    temp = where / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        if isinstance(data, bytes):
            write_new(temp, data)
        else:
            write_new_pieces(temp, data)
        os.replace(temp, path)
    except BaseException:
        try:
            temp.unlink()
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)
    if where != path.parent:
        fsync_dir(where)
    log.debug("replaced %s atomically", path)
