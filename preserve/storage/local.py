"""A storage location on a local filesystem or mount (`kind = "local"`).

The OCFL storage root is a directory; a stored file's relative path is its path below it.
Writes go to a temporary name in the target directory, are fsynced and renamed into place,
and the directory is fsynced (STYLE.md "Crash safety and I/O"; borg's `SaveFile`), so a
crash leaves the old file or the whole new one and at worst a `.tmp-*` name that
`iter_entries` never lists.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from preserve.safeio import open_regular
from preserve.storage.fsync import fsync_dir
from preserve.storage.location import (
    Location,
    LocationError,
    LocationUnreachable,
    StoredEntry,
    StoredFileMissing,
)

_TMP_PREFIX = ".tmp-preserve-"
_PROBE_NAME = ".preserve-probe"
_CHUNK = 1 << 20


def _check_relative(path: str) -> None:
    # Paths come from inventories and the catalog; one that climbs out is a bug or tampering.
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a relative storage path: {path!r}")


class LocalLocation(Location):
    """An OCFL storage root in the directory `root`."""

    kind = "local"

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    def _path(self, path: str) -> Path:
        _check_relative(path)
        return self.root / path

    def _error(self, exc: OSError, what: str) -> LocationError:
        return LocationError(location=self.name, detail=f"{what}: {exc.strerror or exc}")

    def probe(self) -> None:
        probe = self.root / f"{_PROBE_NAME}-{uuid.uuid4().hex}"
        try:
            if not self.root.is_dir():
                raise LocationUnreachable(location=self.name,
                                          detail=f"{self.root} is not a directory")
            probe.write_bytes(b"probe")
            if probe.read_bytes() != b"probe":
                raise LocationUnreachable(location=self.name,
                                          detail=f"{probe} did not read back as written")
        except OSError as exc:
            raise LocationUnreachable(location=self.name,
                                      detail=f"{self.root} is not writable: {exc.strerror}") from None
        finally:
            probe.unlink(missing_ok=True)

    def open_read(self, path: str) -> io.BufferedIOBase:
        # Only a regular file is read: a symlink planted in the tree is refused, not followed,
        # and a FIFO does not block the reader (safeio.open_regular).
        target = self._path(path)
        try:
            return open(open_regular(target), "rb")  # the caller closes the stream
        except FileNotFoundError:
            raise StoredFileMissing(location=self.name, path=path,
                                    detail=f"({target} does not exist)") from None
        except OSError as exc:
            raise self._error(exc, f"cannot open {target}") from None

    def size(self, path: str) -> int | None:
        target = self._path(path)
        try:
            return target.lstat().st_size  # of the entry itself: a link is not followed
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(exc, f"cannot stat {target}") from None

    def iter_entries(self, prefix: str = "") -> Iterator[StoredEntry]:
        if prefix and not prefix.endswith("/"):
            raise ValueError("iter_entries takes a directory path ending in '/'")
        start = self.root / prefix if prefix else self.root
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start, onerror=self._raise_walk):
            dirnames.sort()
            base = Path(dirpath)
            # A symlink to a directory is listed, never entered: a storage tree holds no
            # links, so each is something for an audit to report.
            for name in [d for d in dirnames if (base / d).is_symlink()]:
                dirnames.remove(name)
                yield StoredEntry((base / name).relative_to(self.root).as_posix(), 0)
            for name in sorted(filenames):
                if name.startswith(_TMP_PREFIX) or name.startswith(_PROBE_NAME):
                    continue
                full = base / name
                try:
                    size = full.lstat().st_size
                except FileNotFoundError:
                    continue
                yield StoredEntry(full.relative_to(self.root).as_posix(), size)

    def _raise_walk(self, exc: OSError) -> None:
        raise self._error(exc, "cannot list")

    def write(self, path: str, source: BinaryIO, size: int) -> None:
        target = self._path(path)
        temp = target.parent / f"{_TMP_PREFIX}{uuid.uuid4().hex}"
        try:
            created = [p for p in reversed(target.parents) if not p.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with open(temp, "xb") as out:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    if written > size:
                        break
                    out.write(chunk)
                if written != size:
                    raise LocationError(location=self.name,
                                        detail=f"{path}: expected {size} bytes, the source gave "
                                        f"{'more' if written > size else written}")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
            fsync_dir(target.parent)
            for directory in created:
                fsync_dir(directory.parent)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            if exc.errno == errno.ENOSPC:
                raise LocationError(location=self.name,
                                    detail=f"no space left writing {target}") from None
            raise self._error(exc, f"cannot write {target}") from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def remove(self, path: str) -> None:
        target = self._path(path)
        try:
            target.unlink(missing_ok=True)
        except OSError as exc:
            raise self._error(exc, f"cannot remove {target}") from None

    def remove_prefix(self, prefix: str) -> int:
        removed = super().remove_prefix(prefix)
        directory = self._path(prefix.rstrip("/"))
        if directory.is_dir():
            shutil.rmtree(directory, ignore_errors=True)
        # The layout's parent directories the object leaves empty go too: OCFL 1.1 section
        # 4.2 forbids empty directories in the storage hierarchy.
        parent = directory.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break  # not empty (another object lives under it) or already gone
            parent = parent.parent
        return removed
