"""A storage location: one place that holds an OCFL storage root (DESIGN.md, "Scale-out").

An archive keeps every package in more than one place (the LOCKSS / 3-2-1 rule): the local
root under the repository home, another disk or mount, an S3-compatible bucket. Every place is
a `Location`: a flat namespace of files named by their POSIX path relative to the OCFL storage
root (`0=ocfl_1.1`, `ab1/c2d/…/<object>/v1/content/data/x.tif`). The same relative path is the
file name on a disk and the key (after a prefix) in a bucket, so an object's layout (OCFL 1.1
section 4, extension 0004) is the same everywhere and any location can be read by any OCFL tool.

This interface is deliberately file-level: what OCFL means by an object, a version or an
inventory is built on top of it (`preserve.storage.replica`), once, for every backend. Each
backend implements the abstract methods; the contract test suite
(`tests/unit/storage/test_location_contract.py`) runs the same tests against each of them.

Rules every implementation keeps:
- `write` is atomic per file: a reader sees the old file (or none) or the whole new one,
  never a prefix; a failed or interrupted write leaves no file under the name.
- `write` is durable when it returns (fsync on a disk; a completed PUT on S3).
- `open_read` streams: no backend reads a whole file into memory.
- Names are byte-exact UTF-8 (never normalised, never transliterated).
- Errors are `LocationError` (a `StorageError`, exit 13) naming the location, never a raw
  OSError or botocore exception; a missing file is `StoredFileMissing`. No secret (access
  key, secret key, session token) ever appears in a message.
"""

from __future__ import annotations

import abc
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from preserve.errors import StorageError


class LocationError(StorageError):
    """Storage location {location!r}: {detail}"""


class StoredFileMissing(LocationError):
    """Storage location {location!r}: {path} is missing. {detail}"""


class LocationUnreachable(LocationError):
    """Storage location {location!r} cannot be reached: {detail}"""


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One file a location holds: its path relative to the storage root and its size."""

    path: str
    size: int


@dataclass(frozen=True, slots=True)
class StoredContent:
    """Where one stored file's bytes lie: a location and the path in it. What a workflow
    holds instead of a filesystem path, so it reads the same from a disk or a bucket."""

    location: Location
    path: str

    def open(self) -> io.BufferedIOBase:
        """`Location.open_read` of the file (StoredFileMissing if it is gone)."""
        return self.location.open_read(self.path)

    def __str__(self) -> str:
        return f"{self.path} at location {self.location.name!r}"


class Location(abc.ABC):
    """One place holding an OCFL storage root; paths are relative to that root, POSIX style."""

    #: the name the archive gives it in `preserve.toml` (`[locations.<name>]`)
    name: str
    #: "local" or "s3"
    kind: str

    @abc.abstractmethod
    def describe(self) -> str:
        """Where it is, for people and for the catalog's `locations.uri`: a path or an
        `s3://bucket/prefix` with the endpoint. Never a credential."""

    @abc.abstractmethod
    def probe(self) -> None:
        """Check the location is reachable and writable: write, read back and remove a small
        probe file outside the OCFL tree. Raises `LocationUnreachable` saying what failed."""

    @abc.abstractmethod
    def open_read(self, path: str) -> io.BufferedIOBase:
        """A binary stream of the stored file (to be closed by the caller).

        Raises `StoredFileMissing` when there is no such file."""

    @abc.abstractmethod
    def size(self, path: str) -> int | None:
        """The stored file's size in bytes, or None when there is no such file."""

    @abc.abstractmethod
    def iter_entries(self, prefix: str = "") -> Iterator[StoredEntry]:
        """Every file whose path starts with `prefix` (a directory path ending in "/" or ""),
        in any order; directories themselves are not entries."""

    @abc.abstractmethod
    def write(self, path: str, source: BinaryIO, size: int) -> None:
        """Store `size` bytes read from `source` under `path`, atomically and durably,
        replacing any file of that name. Raises `LocationError` if fewer or more bytes come."""

    @abc.abstractmethod
    def remove(self, path: str) -> None:
        """Remove one stored file; a missing file is not an error."""

    # --- conveniences every backend gets --------------------------------------------------

    def exists(self, path: str) -> bool:
        return self.size(path) is not None

    def read_bytes(self, path: str, limit: int) -> bytes:
        """A small file whole (an inventory, a sidecar, a METS), at most `limit` bytes."""
        with self.open_read(path) as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            raise LocationError(location=self.name,
                                detail=f"{path} is larger than {limit} bytes")
        return data

    def remove_prefix(self, prefix: str) -> int:
        """Remove every file under `prefix` (for a later deaccession); returns how many."""
        if not prefix.endswith("/"):
            raise ValueError("remove_prefix takes a directory path ending in '/'")
        removed = 0
        for entry in list(self.iter_entries(prefix)):
            self.remove(entry.path)
            removed += 1
        return removed

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.describe()!r})"
