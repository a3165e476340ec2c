"""Opening deposit files safely: never through a symlink, never blocking on a FIFO.

A deposit is untrusted and may change while it is read (DESIGN.md, "Rules that hold
everywhere"): a file listed as regular may have been replaced by a symlink or a FIFO since.
Every read of deposit bytes goes through `open_regular`. Standard library only (core).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def open_regular(path: Path | str) -> int:
    """Open a file for reading only if it is (still) a regular file; returns an fd.

    O_NOFOLLOW refuses a symlink, O_NONBLOCK makes opening a FIFO return at once (instead
    of hanging) so fstat can refuse it; blocking mode is restored for the read. Raises
    OSError. For payload files that may have been swapped since the listing.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(22, "not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, limit: int) -> bytes:
    """Read a small regular file without following a symlink or blocking on a FIFO.

    Raises OSError (ELOOP for a symlink, EINVAL for anything not regular, EFBIG if larger
    than `limit`).
    """
    fd = open_regular(path)
    try:
        info = os.fstat(fd)
        if info.st_size > limit:
            raise OSError(27, f"larger than {limit} bytes")
        chunks = []
        remaining = limit + 1
        while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 20))):
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise OSError(27, f"larger than {limit} bytes")
        return data
    finally:
        os.close(fd)
