"""Writing a bag's entries out: as a directory, or as one zip or tar file, deterministically.

A serialized bag (RFC 8493 section 4.2) is one top-level directory named like the bag,
holding the bag. Zip and tar are written as a stream: each payload file is read once from
storage and passes straight into the archive, hashed on the way (sha256 and sha512 checked
against the manifests: storage is verified, never trusted), and the archive itself is
hashed as it is written, so its sha256 is known without reading it again. No temporary copy
of the bag is made.

Identical entries always give identical bytes: entries in the order given (tag files, then
payload sorted by path), fixed timestamps (1980-01-01 in zip, the earliest a zip can hold;
the Unix epoch in tar), fixed permissions (0644 files, 0755 directories), owner 0 and no
owner names, zip entries stored (the payload is mostly compressed images already, and
deflate output depends on the zlib build), tar in POSIX.1-2001 (pax) format so any name and
size is exact. The zip is written to a non-seekable stream, so every entry carries its CRC
and sizes in a data descriptor (APPNOTE 4.3.9), with Zip64 where a file needs it.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from preserve.checksums import MultiHasher
from preserve.errors import FixityError, StorageError
from preserve.export.bag import ALGORITHMS, Entry
from preserve.export.payload import DIR_MODE, FILE_MODE, Copied, ParallelCopy, make_folders
from preserve.export.payload import check_digests as _check_digests

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
TAR_EPOCH = 0
_BLOCK = 1 << 20

ByteProgress = Callable[[int], None]


class _HashingSink(io.RawIOBase):
    """A write-only, non-seekable stream that hashes (sha256) and counts what passes to `fd`."""

    def __init__(self, fd: int, where: Path) -> None:
        self._fd, self._where = fd, where
        self._hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        view = memoryview(data).cast("B")
        self._hash.update(view)
        written = 0
        while written < len(view):
            try:
                written += os.write(self._fd, view[written:])
            except OSError as exc:
                raise StorageError(detail=f"cannot write {self._where}: {exc.strerror or exc}; "
                                   "nothing was exported (check free space)") from exc
        self.size += len(view)
        return len(view)

    def tell(self) -> int:
        return self.size

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class _VerifyingReader(io.RawIOBase):
    """Reads a stored content file for tarfile, hashing it; `check` compares with the entry."""

    def __init__(self, entry: Entry, progress: ByteProgress | None) -> None:
        assert entry.content is not None
        self._entry, self._progress = entry, progress
        self._file = entry.content.open()
        self._hasher = MultiHasher(ALGORITHMS)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        n = self._file.readinto(buffer)
        if n:
            self._hasher.update(memoryview(buffer)[:n])
            if self._progress:
                self._progress(n)
        return n or 0

    def close(self) -> None:
        self._file.close()
        super().close()

    def check(self) -> None:
        _check_digests(self._entry, self._hasher.hexdigests())


def write_directory(entries: list[Entry], target: Path, progress: ByteProgress | None = None,
                    workers: int = 1) -> list[Copied]:
    """The bag as a directory `target` (created; must not exist): stored content copied by
    `workers` threads, verified and read back (`preserve.export.payload`); what each content
    file holds, for the directory's read-back check (`verify.verify_directory`)."""
    os.mkdir(target, DIR_MODE)
    make_folders(target, [e.path for e in entries])
    copied = ParallelCopy([e for e in entries if e.content is not None], target, workers,
                          progress).result()
    write_tag_files([e for e in entries if e.data is not None], target, progress)
    return copied


def write_tag_files(entries: list[Entry], target: Path,
                    progress: ByteProgress | None = None) -> None:
    """The entries held in memory (tag files) as new files under `target`, whose folders
    exist."""
    for entry in entries:
        assert entry.data is not None
        fd = os.open(target / entry.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with open(fd, "wb") as out:
            out.write(entry.data)
        if progress:
            progress(entry.size)


def write_zip(entries: list[Entry], target: Path, top: str,
              progress: ByteProgress | None = None) -> str:
    """The bag as the zip file `target` (must not exist), entries under `top/`; its sha256."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        sink = _HashingSink(fd, target)
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for entry in entries:
                info = zipfile.ZipInfo(f"{top}/{entry.path}", date_time=ZIP_EPOCH)
                info.create_system = 3  # Unix, so external_attr carries the permissions
                info.external_attr = (0o100000 | FILE_MODE) << 16
                info.compress_type = zipfile.ZIP_STORED
                info.file_size = entry.size
                with zf.open(info, "w") as out:
                    if entry.data is not None:
                        out.write(entry.data)
                        if progress:
                            progress(entry.size)
                    else:
                        _copy_into(entry, out, progress)
        return sink.hexdigest()
    finally:
        os.close(fd)


def write_tar(entries: list[Entry], target: Path, top: str,
              progress: ByteProgress | None = None) -> str:
    """The bag as the (uncompressed, pax) tar file `target`, entries under `top/`; its sha256."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        sink = _HashingSink(fd, target)
        with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT,
                          encoding="utf-8") as tar:
            for entry in entries:
                info = _tar_info(f"{top}/{entry.path}", entry.size)
                if entry.data is not None:
                    tar.addfile(info, io.BytesIO(entry.data))
                    if progress:
                        progress(entry.size)
                else:
                    reader = _VerifyingReader(entry, progress)
                    try:
                        tar.addfile(info, io.BufferedReader(reader, _BLOCK))
                    except OSError as exc:  # the content file is shorter than the catalog says
                        raise FixityError(detail=f"stored content {entry.content} of "
                                          f"{entry.path}: {exc}; run `preserve audit`") from exc
                    finally:
                        reader.close()
                    reader.check()
        return sink.hexdigest()
    finally:
        os.close(fd)


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, TAR_EPOCH, FILE_MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def _copy_into(entry: Entry, out: IO[bytes], progress: ByteProgress | None) -> None:
    assert entry.content is not None
    hasher = MultiHasher(ALGORITHMS)
    size = 0
    with entry.content.open() as src:
        while block := src.read(_BLOCK):
            hasher.update(block)
            out.write(block)
            size += len(block)
            if progress:
                progress(len(block))
    if size != entry.size:
        raise FixityError(detail=f"stored content {entry.content} of {entry.path} has {size} "
                          f"bytes, the catalog says {entry.size}; run `preserve audit`")
    _check_digests(entry, hasher.hexdigests())
