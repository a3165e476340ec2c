"""Serialized bags: inspecting zip and tar archives, then extracting them safely.

RFC 8493 section 4.2 lets a bag travel as one archive; section 7.2 warns that names in it
may point anywhere. Every member is inspected BEFORE anything is written: unsafe names
(absolute, `..`, backslash, drive letter), NUL characters, links, devices, FIFOs,
sparse files, duplicates (also after dropping `./` and empty segments, and file/directory
clashes), encrypted or oddly compressed zip members, and size/ratio bombs (declared sizes,
and bytes counted while decompressing). tarfile/zipfile filters are not relied on: they
rename or drop members silently. Only when no error was found are members written, one by
one, below `work_dir` with O_EXCL|O_NOFOLLOW; on any failure what was written is removed.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import os
import re
import shutil
import stat
import struct
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO, cast

from preserve.checksums import ByteSource
from preserve.deposit.report import make
from preserve.deposit.tree import special_kind
from preserve.deposit.values import DepositKind, Limits
from preserve.errors import StorageError
from preserve.model import Finding
from preserve.names import is_utf8

log = logging.getLogger(__name__)

#: Ratios are only judged above this many bytes: tiny files compress "infinitely" and harm no one.
RATIO_FLOOR = 1 << 20
_CHUNK = 1 << 20
_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_DRIVE = re.compile(r"[A-Za-z]:")


_COMPRESSED: tuple[tuple[bytes, Callable[[BinaryIO], ByteSource]], ...] = (
    (b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")),
    (b"BZh", lambda raw: bz2.BZ2File(raw)),
    (b"\xfd7zXZ\x00", lambda raw: lzma.LZMAFile(raw)),
)
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
               NotImplementedError, struct.error, UnicodeDecodeError)
_TAR_ERRORS = (tarfile.TarError, OSError, ValueError, EOFError, lzma.LZMAError,
               UnicodeDecodeError)


class _Exceeded(Exception):
    """More bytes came out of the archive than the limits allow."""


class _WriteFailed(Exception):
    """Writing into the work directory failed (full disk, I/O error): ours, not the deposit's."""

    def __init__(self, target: Path, error: OSError) -> None:
        super().__init__(f"{target}: {error.strerror or error}")
        self.target, self.error = target, error


@dataclass(frozen=True, slots=True)
class Member:
    """One inspected archive member: normalised relative name and declared size."""

    name: str
    is_dir: bool
    size: int


@dataclass(slots=True)
class Inspection:
    members: list[Member] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    declared: int = 0
    seen: dict[str, bool] = field(default_factory=dict)  # name -> is a directory
    parents: set[str] = field(default_factory=set)  # directories implied by deeper names


def detect(path: Path) -> DepositKind | None:
    """ZIP or TAR by content (magic numbers), else None. `path` must be a regular file."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return DepositKind.ZIP
    if any(head.startswith(magic) for magic, _ in _COMPRESSED) or head[257:262] == b"ustar":
        return DepositKind.TAR
    if path.name.lower().endswith(".tar") and len(head) == 512:  # old v7 tar: no magic
        return DepositKind.TAR
    if path.name.lower().endswith(".zip") and zipfile.is_zipfile(path):  # zip with a prefix
        return DepositKind.ZIP
    return None


def extract(path: Path, kind: DepositKind, work_dir: Path,
            limits: Limits) -> tuple[Path | None, list[Finding]]:
    """Inspect then extract the archive into `work_dir`; (deposit root or None, findings).

    None means nothing was kept: `work_dir` is left empty.
    """
    reader = _ZipReader(path, limits) if kind is DepositKind.ZIP else _TarReader(path, limits)
    found = reader.inspect()
    if any(f.severity.value == "error" for f in found.findings):
        return None, found.findings
    root = _deposit_root(found.members)
    if root is None:
        return None, [*found.findings, make("SER-E008", path.name)]
    try:
        reader.write(found.members, work_dir)
    except _WriteFailed as exc:
        _empty(work_dir)
        raise StorageError(detail=f"cannot unpack {path.name} into the staging area: "
                           f"{exc.error.strerror or exc.error} ({exc.target}); the deposit was "
                           "not at fault and nothing was stored: free space (or fix the disk), "
                           "then ingest it again") from None
    except (_Exceeded, *_TAR_ERRORS, *_ZIP_ERRORS) as exc:
        _empty(work_dir)
        if isinstance(exc, _Exceeded):
            return None, [*found.findings, make("SER-E007", path.name, what="bytes extracted",
                                                 value=str(exc), limit=limits.max_total_size)]
        return None, [*found.findings, make("SER-E009", path.name, detail=str(exc))]
    return work_dir.joinpath(*root.split("/")) if root else work_dir, found.findings


# --- names, shared by zip and tar ------------------------------------------------------------


def _normalise(raw: str, limits: Limits, out: list[Finding]) -> str | None:
    """The member name as a safe relative path ("" = the root), or None after a finding."""
    if "\0" in raw:
        # The one character no file system call takes. Other control characters are kept,
        # with NAME-W002 from the listing, as in a bag directory: what preserve accepts as a
        # folder it must accept zipped (its own exports are zipped; issue 18).
        out.append(make("SER-E005", raw))
        return None
    if not is_utf8(raw):
        out.append(make("NAME-E001", raw))
        return None
    if raw.startswith("/") or "\\" in raw or _DRIVE.match(raw):
        out.append(make("SER-E002", raw))
        return None
    segments = [s for s in raw.split("/") if s not in ("", ".")]
    if ".." in segments:
        out.append(make("SER-E002", raw))
        return None
    for segment in segments:
        if len(segment.encode("utf-8")) > limits.max_name_bytes:
            out.append(make("NAME-E003", raw, size=len(segment.encode("utf-8")),
                            limit=limits.max_name_bytes))
            return None
    joined = "/".join(segments)
    if len(joined.encode("utf-8")) > limits.max_path_bytes:
        out.append(make("NAME-E004", raw, size=len(joined.encode("utf-8")),
                        limit=limits.max_path_bytes))
        return None
    if len(segments) > limits.max_depth:
        out.append(make("PAY-E002", raw, depth=len(segments), limit=limits.max_depth))
        return None
    return joined


def _add(found: Inspection, member: Member, limits: Limits) -> None:
    """Record a member; duplicates and file/directory clashes are findings."""
    if not member.name:
        return  # "./": the archive root itself
    seen, parents = found.seen, found.parents
    if member.name in seen or (not member.is_dir and member.name in parents):
        found.findings.append(make("SER-E004", member.name, other=member.name))
        return
    parts = member.name.split("/")
    ancestors = ["/".join(parts[:depth]) for depth in range(1, len(parts))]
    for parent in ancestors:
        if seen.get(parent) is False:  # a file used as a directory
            found.findings.append(make("SER-E004", member.name, other=parent))
            return
    seen[member.name] = member.is_dir
    parents.update(ancestors)
    found.members.append(member)
    found.declared += member.size
    if found.declared > limits.max_total_size:
        raise _Exceeded(found.declared)


#: The files that make a directory a bag (RFC 8493 section 2) or an E-ARK package (CSIP).
_MARKERS = ("bagit.txt", "METS.xml")


def _deposit_root(members: list[Member]) -> str | None:
    """Where the deposit is in the archive ("" = its root), or None if that is unclear.

    A bag or E-ARK package at the root or in the one top-level directory (what `zip -r p.zip
    folder` and `tar cf p.tar folder` make); else, if no bag or package marker lies deeper,
    a plain folder: the one top-level directory, or the root. None (SER-E008) for an archive
    without files, or with a marker at a place that is neither.
    """
    files = {m.name for m in members if not m.is_dir}
    if not files:
        return None
    if any(marker in files for marker in _MARKERS):
        return ""
    tops = {m.name.split("/", 1)[0] for m in members}
    top = tops.pop() if len(tops) == 1 else None
    if top is not None and top in files:
        top = None  # a single file, not a directory
    if top is not None and any(f"{top}/{marker}" in files for marker in _MARKERS):
        return top
    if any(name.rsplit("/", 1)[-1] in _MARKERS for name in files):
        return None  # a bag or package somewhere else: refuse rather than guess
    return top or ""


# --- writing ---------------------------------------------------------------------------------


def _target(work_dir: Path, name: str) -> Path:
    """Create the parent directories of `name` below work_dir; return its path."""
    parts = name.split("/")
    current = work_dir
    for part in parts[:-1]:
        current = current / part
        try:
            _mkdir(current)
        except FileExistsError:
            raise
        except OSError as exc:
            raise _WriteFailed(current, exc) from None
    return current / parts[-1]


def _mkdir(path: Path) -> None:
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise


def _write(source: ByteSource, target: Path, expected: int, budget: list[int]) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
    except FileExistsError:
        raise
    except OSError as exc:
        raise _WriteFailed(target, exc) from None
    written = 0
    try:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            budget[0] -= len(chunk)
            if written > expected or budget[0] < 0:
                raise _Exceeded(written)
            view = memoryview(chunk)
            while view:  # os.write may write less than asked
                try:
                    view = view[os.write(fd, view):]
                except OSError as exc:
                    raise _WriteFailed(target, exc) from None
    finally:
        os.close(fd)
    if written != expected:
        raise OSError(f"{target.name}: {written} bytes extracted, {expected} declared")
    log.debug("extracted %r (%d bytes)", str(target), written)


def _empty(work_dir: Path) -> None:
    """Remove everything below work_dir (all of it was written by this module)."""
    for entry in os.scandir(work_dir):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


# --- zip -------------------------------------------------------------------------------------


class _ZipReader:
    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self.limits = path, limits

    def inspect(self) -> Inspection:
        found = Inspection()
        try:
            with zipfile.ZipFile(self.path) as archive:
                infos = archive.infolist()
                self._inspect(infos, found)
        except _Exceeded as exc:
            found.findings.append(make("SER-E007", self.path.name, what="total size",
                                       value=str(exc), limit=self.limits.max_total_size))
        except _ZIP_ERRORS as exc:
            found.findings.append(make("SER-E001", self.path.name, kind="zip", detail=str(exc)))
        return found

    def _inspect(self, infos: list[zipfile.ZipInfo], found: Inspection) -> None:
        limits = self.limits
        if len(infos) > limits.max_members:
            raise _Exceeded(f"{len(infos)} members")
        for info in infos:
            raw = info.orig_filename
            if not info.flag_bits & 0x800 and not raw.isascii():
                try:  # many tools write UTF-8 names without the flag; zipfile read them as cp437
                    raw = raw.encode("cp437").decode("utf-8")
                    found.findings.append(make("SER-W001", raw))
                except (UnicodeEncodeError, UnicodeDecodeError):
                    found.findings.append(make("NAME-E001", raw))
                    continue
            name = _normalise(raw, limits, found.findings)
            if name is None:
                continue
            mode = info.external_attr >> 16 if info.create_system == 3 else 0
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                found.findings.append(make("SER-E003", raw, kind=special_kind(mode)))
                continue
            if info.flag_bits & 0x1:
                found.findings.append(make("SER-E006", raw))
                continue
            if info.compress_type not in _ZIP_METHODS:
                found.findings.append(make("SER-E010", raw, method=info.compress_type))
                continue
            if (info.file_size >= RATIO_FLOOR
                    and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
                found.findings.append(make("SER-E007", raw, what="compression ratio",
                                           value=round(info.file_size / max(info.compress_size, 1)),
                                           limit=limits.max_ratio))
                continue
            is_dir = info.is_dir() or stat.S_ISDIR(mode)
            _add(found, Member(name, is_dir, 0 if is_dir else info.file_size), limits)
        total, packed = found.declared, max(self.path.stat().st_size, 1)
        if total >= RATIO_FLOOR and total > limits.max_ratio * packed:
            found.findings.append(make("SER-E007", self.path.name, what="compression ratio",
                                       value=round(total / packed), limit=limits.max_ratio))

    def write(self, members: list[Member], work_dir: Path) -> None:
        budget = [self.limits.max_total_size]
        wanted = {m.name: m for m in members}
        with zipfile.ZipFile(self.path) as archive:
            for info in archive.infolist():
                raw = info.orig_filename
                if not info.flag_bits & 0x800 and not raw.isascii():
                    raw = raw.encode("cp437").decode("utf-8")
                name = "/".join(s for s in raw.split("/") if s not in ("", "."))
                member = wanted.pop(name, None)
                if member is None:
                    if name:
                        raise OSError(f"member {name!r} was not inspected")
                    continue
                if member.is_dir:
                    _target(work_dir, name + "/.")  # creates the directory and its parents
                    continue
                with archive.open(info) as source:
                    _write(source, _target(work_dir, name), member.size, budget)


# --- tar -------------------------------------------------------------------------------------


class _Budgeted:
    """A read-only stream that fails once more than `limit` bytes came through."""

    def __init__(self, raw: ByteSource, limit: int) -> None:
        self.raw, self.left, self.total = raw, limit, 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size if size >= 0 else _CHUNK)
        self.left -= len(data)
        self.total += len(data)
        if self.left < 0:
            raise _Exceeded("decompressed stream")
        return data


def _tar_type(info: tarfile.TarInfo) -> str | None:
    """None for a regular file or directory, else what the member is, in words."""
    if info.issparse():
        return "sparse file"
    if info.isreg() or info.isdir():
        return None
    for test, kind in ((info.issym, "symbolic link"), (info.islnk, "hard link"),
                       (info.ischr, "character device"), (info.isblk, "block device"),
                       (info.isfifo, "FIFO (named pipe)")):
        if test():
            return kind
    return "special member"


class _TarReader:
    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self.limits = path, limits
        self.packed = max(path.stat().st_size, 1)
        with open(path, "rb") as handle:
            head = handle.read(8)
        self.decompressor = next((cls for magic, cls in _COMPRESSED if head.startswith(magic)),
                                 None)

    def _check_end(self, archive: tarfile.TarFile, found: Inspection) -> None:
        """tarfile ends quietly at a truncated header: demand the end-of-archive marker."""
        if any(f.severity.value == "error" for f in found.findings):
            return
        budgeted = getattr(archive.fileobj, "fileobj", None)  # tarfile._Stream -> _Budgeted
        if not isinstance(budgeted, _Budgeted):
            return
        while budgeted.read(_CHUNK):
            pass
        if budgeted.total < archive.offset + 2 * tarfile.BLOCKSIZE:
            found.findings.append(make("SER-E001", self.path.name, kind="tar",
                                       detail="it ends before its end-of-archive marker"))

    def _open(self, handle: BinaryIO) -> tarfile.TarFile:
        limits = self.limits
        budget = limits.max_total_size + 2048 * (limits.max_members + 1) + 20480
        stream: ByteSource = handle
        if self.decompressor is not None:
            stream = self.decompressor(handle)
            budget = min(budget, max(int(limits.max_ratio * self.packed), 4 * RATIO_FLOOR))
        # Mode "r|" reads the stream front to back with read() alone, all _Budgeted has.
        return tarfile.open(fileobj=cast(IO[bytes], _Budgeted(stream, budget)), mode="r|",
                            encoding="utf-8", errors="surrogateescape")

    def inspect(self) -> Inspection:
        found = Inspection()
        try:
            with open(self.path, "rb") as handle:
                stream = self._open(handle)
                with stream as archive:
                    self._inspect(archive, found)
                    self._check_end(archive, found)
        except _Exceeded as exc:
            found.findings.append(make("SER-E007", self.path.name, what="size",
                                       value=str(exc), limit=self.limits.max_total_size))
        except _TAR_ERRORS as exc:
            found.findings.append(make("SER-E001", self.path.name, kind="tar", detail=str(exc)))
        return found

    def _inspect(self, archive: tarfile.TarFile, found: Inspection) -> None:
        limits, count = self.limits, 0
        for info in archive:  # streaming: each header is judged before its data is read
            count += 1
            if count > limits.max_members:
                raise _Exceeded(f"{count} members")
            name = _normalise(info.name, limits, found.findings)
            if name is None:
                continue
            kind = _tar_type(info)
            if kind is not None:
                found.findings.append(make("SER-E003", info.name, kind=kind))
                continue
            size = info.size if info.isreg() else 0
            _add(found, Member(name, info.isdir(), size), limits)
            if (self.decompressor is not None and found.declared >= RATIO_FLOOR
                    and found.declared > limits.max_ratio * self.packed):
                found.findings.append(make("SER-E007", info.name, what="compression ratio",
                                           value=round(found.declared / self.packed),
                                           limit=limits.max_ratio))
                return  # stop before decompressing the bomb

    def write(self, members: list[Member], work_dir: Path) -> None:
        budget = [self.limits.max_total_size]
        wanted = {m.name: m for m in members}
        with open(self.path, "rb") as handle, self._open(handle) as archive:
            for info in archive:
                name = "/".join(s for s in info.name.split("/") if s not in ("", "."))
                member = wanted.pop(name, None)
                if member is None:
                    if name:
                        raise OSError(f"member {name!r} was not inspected")
                    continue
                if member.is_dir != info.isdir() or (info.isreg() and info.size != member.size):
                    raise OSError(f"member {name!r} changed since it was inspected")
                if member.is_dir:
                    _target(work_dir, name + "/.")  # creates the directory and its parents
                    continue
                source = archive.extractfile(info)
                if source is None:
                    raise OSError(f"member {name!r} has no data")
                _write(source, _target(work_dir, name), member.size, budget)
        if wanted:
            raise OSError(f"{len(wanted)} member(s) missing on the second read")
