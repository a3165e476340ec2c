"""Writing a bag's entries out: as a directory, or as one zip or tar file, deterministically.

A serialized bag (RFC 8493 section 4.2) is one top-level directory named like the bag,
holding the bag. Zip and tar are written as a stream: each payload file is read once from
storage, by threads reading ahead of the writer, hashed on the way (sha256 and sha512
checked against the manifests: storage is verified, never trusted), and passes straight
into the archive; the archive itself is hashed as it is written and every write is read
back from the file and compared, so its sha256 is known and proven without reading it
again. A directory's payload is copied by threads the same way (`preserve.export.payload`).
No temporary copy of the bag is made.

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from preserve.errors import FixityError, StorageError
from preserve.export.bag import Entry
from preserve.export.payload import (
    DIR_MODE,
    FILE_MODE,
    Copied,
    ParallelCopy,
    ReadAhead,
    make_folders,
)

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
TAR_EPOCH = 0
_BLOCK = 1 << 20

ByteProgress = Callable[[int], None]


class _HashingSink(io.RawIOBase):
    """A write-only, non-seekable stream to `fd` that hashes (sha256) and counts what passes
    and reads every write back from the file (pread at its offset, compared byte for byte):
    so the file holds exactly the stream whose sha256 is reported, without reading the file
    again once it is written (issue 17). StorageError if a write fails or does not read
    back."""

    def __init__(self, fd: int, where: Path) -> None:
        self._fd, self._where = fd, where
        self._hash = hashlib.sha256()
        self._back = bytearray(_BLOCK)
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
        self._read_back(view)
        self.size += len(view)
        return len(view)

    def _read_back(self, view: memoryview) -> None:
        back = self._back
        for start in range(0, len(view), _BLOCK):
            part = view[start:start + _BLOCK]
            n = len(part)
            got = os.preadv(self._fd, [memoryview(back)[:n]], self.size + start)
            # bytearray == buffer is one memcmp; a partial block is compared as a copy.
            if got != n or not (back == part if n == _BLOCK else back[:n] == part):
                raise StorageError(detail=f"{self._where}: the bytes read back at offset "
                                   f"{self.size + start} differ from those written; nothing "
                                   "was exported (check the disk)")

    def tell(self) -> int:
        return self.size

    def hexdigest(self) -> str:
        """The sha256 of the stream, once the file is checked to hold nothing more."""
        if os.fstat(self._fd).st_size != self.size:
            raise StorageError(detail=f"{self._where} holds {os.fstat(self._fd).st_size} bytes "
                               f"after {self.size} were written; nothing was exported")
        return self._hash.hexdigest()


class _BlockReader(io.RawIOBase):
    """The blocks `ReadAhead` hands over for one entry, as a stream for tarfile."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks, self._rest = blocks, memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        if not self._rest:
            self._rest = memoryview(next(self._blocks, b""))
        out = memoryview(buffer).cast("B")
        n = min(len(out), len(self._rest))
        out[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n

    def finish(self) -> None:
        """Read the entry's blocks to their end, so its verdict (size, digests) is known."""
        for _ in self._blocks:
            pass


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
              progress: ByteProgress | None = None, workers: int = 1) -> str:
    """The bag as the zip file `target` (must not exist), entries under `top/`; its sha256.
    Stored content is read and verified ahead by `workers` threads (`payload.ReadAhead`)."""
    fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
    ahead = ReadAhead(entries, workers, progress)
    try:
        sink = _HashingSink(fd, target)
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for index, entry in enumerate(entries):
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
                        for block in ahead.blocks(index):
                            out.write(block)
        return sink.hexdigest()
    finally:
        ahead.close()
        os.close(fd)


def write_tar(entries: list[Entry], target: Path, top: str,
              progress: ByteProgress | None = None, workers: int = 1) -> str:
    """The bag as the (uncompressed, pax) tar file `target`, entries under `top/`; its sha256.
    Stored content is read and verified ahead by `workers` threads (`payload.ReadAhead`)."""
    fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
    ahead = ReadAhead(entries, workers, progress)
    try:
        sink = _HashingSink(fd, target)
        # A stream tarfile writes in records of 10 KiB and copies in pieces of 16 KiB by
        # default: a hundred times the writes (and read-backs) of 1 MiB blocks.
        with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT,
                          encoding="utf-8", bufsize=_BLOCK) as tar:
            tar.copybufsize = _BLOCK  # type: ignore[attr-defined]  # typeshed lacks it
            for index, entry in enumerate(entries):
                info = _tar_info(f"{top}/{entry.path}", entry.size)
                if entry.data is not None:
                    tar.addfile(info, io.BytesIO(entry.data))
                    if progress:
                        progress(entry.size)
                else:
                    reader = _BlockReader(ahead.blocks(index))
                    try:
                        tar.addfile(info, io.BufferedReader(reader, _BLOCK))
                    except OSError as exc:  # the content file is shorter than the catalog says
                        raise FixityError(detail=f"stored content {entry.content} of "
                                          f"{entry.path}: {exc}; run `preserve audit`") from exc
                    reader.finish()  # longer than the catalog says, or other bytes: raises
        return sink.hexdigest()
    finally:
        ahead.close()
        os.close(fd)


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, TAR_EPOCH, FILE_MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info
