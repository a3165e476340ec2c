"""Digest algorithms and single-pass hashing (RFC 8493 section 2.1.3, 2.2.1).

Algorithms are named the BagIt/hashlib way (`sha256`, `sha512`, `md5`, `sha3_256`, ...);
the PREMIS spelling (`SHA-256`) exists only in the metadata writer. Every byte is read once:
`copy_and_hash` computes every digest while writing the copy, and `hash_file` while reading.
hashlib releases the GIL on large buffers, so threads hash files in parallel.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar

from preserve.errors import StorageError
from preserve.safeio import open_regular

#: Block size for streaming reads: large enough for hashlib to release the GIL and for the
#: kernel to read ahead, small enough to keep memory flat with many worker threads.
BLOCK_SIZE = 1 << 20

#: The digests every stored file gets, whatever the deposit declared (DESIGN.md, "Data flow").
REQUIRED_ALGORITHMS: tuple[str, ...] = ("sha256", "sha512")

# SHAKE digests have no fixed length, so a manifest value cannot be checked against them.
_VARIABLE_LENGTH = {"shake_128", "shake_256"}


def payload_fingerprint(payload: Iterable[tuple[str, str]]) -> str:
    """The fingerprint of a payload: sha256 over its `<sha512> <path>\\n` lines sorted by
    path, from (path below `data/`, sha512) pairs. Equal iff two payloads hold the same bytes
    under the same names; ingest records it per version, so a deposit already held is found
    (ING-E002), and check and recovery compare stored objects with it. The one definition
    (STYLE.md: one function per fact)."""
    h = hashlib.sha256()
    for path, sha512 in sorted(payload):
        h.update(f"{sha512} {path}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


@functools.cache
def supported_algorithms() -> frozenset[str]:
    """Every fixed-length algorithm this Python's hashlib offers, by its lowercase name."""
    names = {name.lower() for name in hashlib.algorithms_available}
    return frozenset(n for n in names if n not in _VARIABLE_LENGTH and _constructible(n))


def _constructible(name: str) -> bool:
    try:
        hashlib.new(name)
    except (ValueError, TypeError):
        return False
    return True


def is_hex_digest(value: str, algorithm: str) -> bool:
    """True if `value` is a lowercase-or-uppercase hex digest of the right length."""
    try:
        expected = hashlib.new(algorithm).digest_size * 2
    except ValueError:
        return False
    if len(value) != expected:
        return False
    try:
        int(value, 16)
    except ValueError:
        return False
    return True


class MultiHasher:
    """Feeds the same bytes to several hash objects."""

    __slots__ = ("_hashers", "size")

    def __init__(self, algorithms: Iterable[str]) -> None:
        self._hashers = {name: hashlib.new(name) for name in sorted(set(algorithms))}
        self.size = 0

    def update(self, block: bytes | memoryview) -> None:
        self.size += len(block)
        for h in self._hashers.values():
            h.update(block)

    def hexdigests(self) -> dict[str, str]:
        return {name: h.hexdigest() for name, h in self._hashers.items()}


class Digests(Mapping[str, str]):
    """{algorithm: lowercase hex digest} of one file, held as its raw digest bytes.

    What `hash_many` gives for each file: the same mapping as `MultiHasher.hexdigests`, at
    about a third of the memory (one bytes object instead of a dict and a hex string per
    algorithm), because ingest keeps the digests of every payload file from the read to the
    catalog transaction (docs/performance.md, "Memory per file"). Hex strings are made when
    asked for.
    """

    __slots__ = ("_layout", "_raw")

    def __init__(self, hexdigests: Mapping[str, str]) -> None:
        raws = [bytes.fromhex(value) for value in hexdigests.values()]
        self._layout = _layout(tuple((name, len(raw)) for name, raw in
                                     zip(hexdigests, raws, strict=True)))
        self._raw = b"".join(raws)

    def __getitem__(self, algorithm: str) -> str:
        start, end = self._layout[algorithm]
        return self._raw[start:end].hex()

    def __iter__(self) -> Iterator[str]:
        return iter(self._layout)

    def __len__(self) -> int:
        return len(self._layout)

    def __repr__(self) -> str:
        return repr(dict(self))


@functools.cache
def _layout(sizes: tuple[tuple[str, int], ...]) -> dict[str, tuple[int, int]]:
    """{algorithm: (start, end)} in the raw bytes of a `Digests`; one shared dict for every
    file hashed with the same algorithms."""
    layout: dict[str, tuple[int, int]] = {}
    start = 0
    for name, size in sizes:
        layout[name] = (start, start + size)
        start += size
    return layout


class ByteSource(Protocol):
    """What a reader is asked for: read(size) -> bytes (a file, a stored file of any
    location, a decompressor, an archive member)."""

    def read(self, size: int = -1, /) -> bytes: ...


class ByteSink(Protocol):
    """Where a generated file is written: a file opened "wb", or a HashingWriter."""

    def write(self, data: bytes, /) -> int: ...


class HashingWriter:
    """Writes to a binary file and hashes what passes (`hexdigests`, `size`): a generated
    file's digests without reading it back."""

    def __init__(self, raw: BinaryIO, algorithms: Iterable[str]) -> None:
        self._raw = raw
        self._hasher = MultiHasher(algorithms)

    def write(self, data: bytes) -> int:
        self._hasher.update(data)
        return self._raw.write(data)

    @property
    def size(self) -> int:
        return self._hasher.size

    def hexdigests(self) -> dict[str, str]:
        return self._hasher.hexdigests()


ProgressCallback = Callable[[int], None]
"""Called with the number of bytes just processed."""


class Progress(Protocol):
    """Where workflows report progress: the total once it is known, then bytes as they pass.

    `advance` is called from worker threads and must be thread-safe.
    """

    def start(self, total_bytes: int) -> None: ...

    def advance(self, n: int) -> None: ...


_buffers = threading.local()


def _thread_buffer() -> tuple[bytearray, memoryview]:
    """One read buffer per thread, reused for every file: allocating (and zeroing) 1 MiB per
    file costs about as much as hashing a small file."""
    pair = getattr(_buffers, "pair", None)
    if pair is None:
        buffer = bytearray(BLOCK_SIZE)
        pair = _buffers.pair = (buffer, memoryview(buffer))
    return pair


def hash_file(
    path: Path | str,
    algorithms: Iterable[str],
    progress: ProgressCallback | None = None,
) -> tuple[int, dict[str, str]]:
    """Read `path` once and return (size, {algorithm: hexdigest})."""
    hasher = MultiHasher(algorithms)
    buffer, view = _thread_buffer()
    with open(open_regular(path), "rb", buffering=0) as source:
        while n := source.readinto(buffer):
            hasher.update(view[:n])
            if progress:
                progress(n)
    return hasher.size, hasher.hexdigests()


def hash_stream(
    stream: ByteSource,
    algorithms: Iterable[str],
    progress: ProgressCallback | None = None,
) -> tuple[int, dict[str, str]]:
    """Read an open binary stream to its end once: (size, {algorithm: hexdigest}).

    A stream that can `readinto` (a local file) fills this thread's reused buffer, as
    `hash_file` does; any other (an S3 body, a decompressor) is read block by block. A fresh
    1 MiB bytes object per read costs an allocation and its page faults on top of the
    hashing, which is about a tenth of the CPU for files of a few MB (docs/performance.md,
    "Audit")."""
    hasher = MultiHasher(algorithms)
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        buffer, view = _thread_buffer()
        while n := readinto(buffer):
            hasher.update(view[:n])
            if progress:
                progress(n)
    else:
        while block := stream.read(BLOCK_SIZE):
            hasher.update(block)
            if progress:
                progress(len(block))
    return hasher.size, hasher.hexdigests()


def copy_and_hash(
    source: Path | str,
    target: Path | str,
    algorithms: Iterable[str],
    progress: ProgressCallback | None = None,
    fsync: bool = True,
) -> tuple[int, dict[str, str]]:
    """Copy `source` to the new file `target`, hashing the bytes as they pass.

    The target must not exist (opened with O_EXCL: a deposit can never overwrite anything).
    With `fsync` the copy is on disk before this returns. Returns (size, digests).
    Reading `source` fails with OSError (the deposit's problem); writing `target` fails with
    StorageError (ours: full disk, I/O error), so callers can tell the two apart.
    """
    with open(open_regular(source), "rb", buffering=0) as src:
        return copy_stream_and_hash(src, target, algorithms, progress, fsync)


def copy_stream_and_hash(
    src: io.RawIOBase | io.BufferedIOBase,
    target: Path | str,
    algorithms: Iterable[str],
    progress: ProgressCallback | None = None,
    fsync: bool = True,
) -> tuple[int, dict[str, str]]:
    """`copy_and_hash` from an open stream (a stored file of any location) to the new file
    `target`. Reading errors are the stream's own (OSError, LocationError); writing fails
    with StorageError. Returns (size, digests)."""
    hasher = MultiHasher(algorithms)
    buffer, view = _thread_buffer()
    fd = _storage_call(os.open, target, target, _CREATE_FLAGS, 0o644)
    try:
        writeback = Writeback(fd)
        while n := src.readinto(buffer):
            chunk = view[:n]
            hasher.update(chunk)
            while chunk:  # writes may be partial
                chunk = chunk[_storage_call(os.write, target, fd, chunk):]
            if progress:
                progress(n)
            writeback.wrote(hasher.size)
        writeback.finish(hasher.size)
        if fsync:
            _storage_call(os.fsync, target, fd)
    finally:
        os.close(fd)
    return hasher.size, hasher.hexdigests()


#: Written bytes of a copy are handed to the disk every WRITEBACK_STEP, and the rest at the
#: end if at least WRITEBACK_MIN (smaller files are left to the one sync of the version).
WRITEBACK_STEP = 32 << 20
WRITEBACK_MIN = 1 << 20
_sync_file_range: Callable[[int, int, int, int], int] | None | bool = False  # False: unknown yet


class Writeback:
    """Hands the bytes written to `fd` to the disk as a copy goes: every WRITEBACK_STEP,
    then the rest at the end if at least WRITEBACK_MIN (ingest's and export's copies)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.flushed = 0

    def wrote(self, size: int) -> None:
        """`size` bytes are written so far."""
        if size - self.flushed >= WRITEBACK_STEP:
            _start_writeback(self.fd, self.flushed, size - self.flushed)
            self.flushed = size

    def finish(self, size: int) -> None:
        """The copy is complete at `size` bytes."""
        if size - self.flushed >= WRITEBACK_MIN:
            _start_writeback(self.fd, self.flushed, size - self.flushed)


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Start writing a just-copied range to disk now, without waiting for it: Linux
    sync_file_range(2) with SYNC_FILE_RANGE_WRITE (pages stay cached; a hint, so errors are
    ignored — the fsync or syncfs that makes the copy durable reports them). Otherwise the
    kernel starts writeback only once gigabytes are dirty, and the one sync before a version
    is committed then waits for all of it: 2 GiB copied, 0.9 s of sync -> 0.01 s, same copy
    time (docs/performance.md)."""
    global _sync_file_range
    if _sync_file_range is False:
        _sync_file_range = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes  # only for this hint; ctypes releases the GIL during the call

                function = ctypes.CDLL(None, use_errno=True).sync_file_range
                function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
                                     ctypes.c_uint]
                function.restype = ctypes.c_int
                _sync_file_range = function
            except (OSError, AttributeError):
                pass
    if callable(_sync_file_range):
        _sync_file_range(fd, offset, length, 2)  # SYNC_FILE_RANGE_WRITE


def _fsync_path(path: Path | str) -> None:
    fd = _storage_call(os.open, path, path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        _storage_call(os.fsync, path, fd)
    finally:
        os.close(fd)


_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


_T = TypeVar("_T")


def _storage_call(function: Callable[..., _T], target: Path | str, *args: object) -> _T:
    try:
        return function(*args)
    except OSError as exc:
        raise StorageError(detail=f"cannot write {target}: {exc.strerror or exc}; nothing was "
                           "committed (check free space and the disk)") from exc


@dataclass(frozen=True, slots=True)
class HashJob:
    """One file to read once: hash it, and copy it to `target` if given."""

    key: str
    source: Path
    target: Path | None = None
    expected_size: int | None = None  # size seen when the deposit was listed
    move: bool = False  # source is our own unpacked copy: hash it, then rename it to target


@dataclass(frozen=True, slots=True)
class HashResult:
    key: str
    size: int
    digests: Mapping[str, str]  # a Digests once read
    expected_size: int | None
    error: str | None = None  # why the file could not be read (vanished, not regular, EIO)

    @property
    def changed(self) -> bool:
        """True if the file had another size when listed: it changed while being read."""
        return self.expected_size is not None and self.expected_size != self.size


def hash_many(
    jobs: Iterable[HashJob],
    algorithms: Iterable[str],
    workers: int,
    progress: ProgressCallback | None = None,
    fsync: bool = True,
    done: Callable[[HashJob, HashResult], None] | None = None,
) -> list[HashResult]:
    """Read every job's file once in a pool of threads, in input order.

    hashlib and file I/O release the GIL, so `workers` threads keep that many disks/cores busy.
    The progress callback is called from worker threads with byte counts; it must be thread-safe
    (a rich Progress is). So is `done`, called with each job read without error, once its file
    is in place (copied or renamed to its target).
    """
    algorithms = tuple(sorted(set(algorithms)))

    def run(job: HashJob) -> HashResult:
        try:
            if job.target is None or job.move:
                size, digests = hash_file(job.source, algorithms, progress)
                if job.target is not None:
                    _storage_call(os.rename, job.target, job.source, job.target)
                    if fsync:
                        _fsync_path(job.target)
            else:
                size, digests = copy_and_hash(job.source, job.target, algorithms, progress,
                                              fsync=fsync)
        except OSError as exc:  # reading the deposit failed; writing raises StorageError
            return HashResult(job.key, 0, {}, job.expected_size, exc.strerror or str(exc))
        result = HashResult(job.key, size, Digests(digests), job.expected_size)
        if done is not None:
            done(job, result)
        return result

    job_list = list(jobs)
    if workers <= 1 or len(job_list) <= 1:
        return [run(job) for job in job_list]
    return _in_threads(run, job_list, workers)


def _in_threads(run: Callable[[HashJob], HashResult], jobs: list[HashJob],
                workers: int) -> list[HashResult]:
    """`run` over `jobs` in `workers` threads that take the next job themselves, results in
    input order. A ThreadPoolExecutor's future, work item and queue round trip per job cost
    about a tenth of the CPU time of hashing 20,000 small files, all of it holding the GIL
    (docs/performance.md). The first failure (by job order) is raised once every thread has
    stopped; after a failure or an interrupt no new job is started."""
    results: list[HashResult | None] = [None] * len(jobs)
    failures: dict[int, BaseException] = {}
    taken = iter(range(len(jobs)))
    lock = threading.Lock()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            with lock:
                index = next(taken, None)
            if index is None:
                return
            try:
                results[index] = run(jobs[index])
            except BaseException as exc:  # re-raised in the calling thread below
                failures[index] = exc
                stop.set()

    threads = [threading.Thread(target=work, name=f"hash_{n}", daemon=True)
               for n in range(min(workers, len(jobs)))]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # KeyboardInterrupt: let the threads finish their current file
        stop.set()
        for thread in threads:
            thread.join()
        raise
    if failures:
        raise failures[min(failures)]
    return results  # type: ignore[return-value]  # every slot is filled when none failed
