"""Payload files copied out of storage into a bag directory: in parallel threads, every
stored byte read once, checked against the catalog as it passes, and read back from the
file it was written to (issue 5: "read back and checksummed"; issue 17: each byte read once).

```
stored content ──read 1 MiB──▶ sha256 + sha512 ──write──▶ new file ──pread the same range──▶
compared byte for byte with the block ─▶ … ─▶ size and digests == the catalog's (else FixityError)
```

Why this proves what a second hashing pass proved: a block is hashed, written, and read back
from the new file (through the page cache, as any later reader sees it) and must be equal
to the block byte for byte. When the file's digests then match the catalog's (RFC 8493
section 2.1.3: the manifests list exactly those), the written file holds exactly the bytes
whose digests were computed, so its digests are the manifests' without hashing it again.
The read-back costs a copy out of the page cache and a memcmp instead of sha256 + sha512
over every byte a second time (docs/performance.md, "Export (issue 17)").

hashlib and the file I/O release the GIL, so the threads use every core, and the caller's
thread is free meanwhile: the export builds its METS while the payload is being copied.
Bytes are handed to the disk as they are written (`checksums.Writeback`, as ingest's
copies are), so the sync before the export is named waits for little.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from preserve.checksums import (
    BLOCK_SIZE,
    MultiHasher,
    Writeback,
)
from preserve.errors import FixityError, StorageError
from preserve.export.bag import ALGORITHMS, Entry

FILE_MODE = 0o644
DIR_MODE = 0o755
_CREATE = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)

ByteProgress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Copied:
    """One payload file as written and read back: its size and digests (those of the bytes
    the new file holds, equal to the catalog's), or `problem` if the read-back differed."""

    path: str
    size: int
    digests: dict[str, str]
    problem: str | None = None


def check_digests(entry: Entry, got: dict[str, str]) -> None:
    """FixityError unless `got` are the entry's digests (the catalog's): stored bytes that
    changed are never exported."""
    for algorithm in ALGORITHMS:
        if got[algorithm] != entry.digests[algorithm]:
            raise FixityError(detail=(
                f"stored content {entry.content} of {entry.path} does not match its {algorithm} "
                f"in the catalog; nothing was exported. Run `preserve audit` and restore the "
                "package from a good copy"))


def make_folders(target: Path, paths: Sequence[str]) -> None:
    """Every folder the bag's files need under `target` (which exists), made once each, in
    the calling thread, so the copying threads never race to make one."""
    made: set[str] = set()
    for path in paths:
        folder = path.rpartition("/")[0]
        missing: list[str] = []
        while folder and folder not in made:
            missing.append(folder)
            folder = folder.rpartition("/")[0]
        for name in reversed(missing):
            os.mkdir(target / name, DIR_MODE)
            made.add(name)


class ParallelCopy:
    """The payload `entries` copied into the bag directory `target` by `workers` threads,
    which start at once; `result()` waits for them. Folders must exist (`make_folders`).

    The first failure (in entry order: a FixityError, a StoredFileMissing, an OSError
    reading storage, a StorageError writing the copy) stops every thread from taking
    another file and is raised by `result()`; `cancel()` stops them without raising.
    """

    def __init__(self, entries: Sequence[Entry], target: Path, workers: int,
                 progress: ByteProgress | None = None) -> None:
        self._entries, self._target, self._progress = entries, target, progress
        self._results: list[Copied | None] = [None] * len(entries)
        self._failures: dict[int, BaseException] = {}
        self._next = iter(range(len(entries)))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"export_copy_{n}",
                                          daemon=True)
                         for n in range(max(1, min(workers, len(entries))))]
        for thread in self._threads:
            thread.start()

    def result(self) -> list[Copied]:
        """Every file's `Copied`, in entry order, once all are written and read back."""
        self._join()
        if self._failures:
            raise self._failures[min(self._failures)]
        return [c for c in self._results if c is not None]

    def cancel(self) -> None:
        self._stop.set()
        self._join()

    def _join(self) -> None:
        try:
            for thread in self._threads:
                thread.join()
        except BaseException:  # KeyboardInterrupt: let each thread finish its current file
            self._stop.set()
            for thread in self._threads:
                thread.join()
            raise

    def _work(self) -> None:
        buffers = (bytearray(BLOCK_SIZE), bytearray(BLOCK_SIZE))
        while not self._stop.is_set():
            with self._lock:
                index = next(self._next, None)
            if index is None:
                return
            try:
                self._results[index] = copy_file(self._entries[index], self._target, buffers,
                                                 self._progress)
            except BaseException as exc:  # raised in the caller's thread by result()
                self._failures[index] = exc
                self._stop.set()


def copy_file(entry: Entry, target: Path, buffers: tuple[bytearray, bytearray],
              progress: ByteProgress | None = None) -> Copied:
    """Copy one stored content file to `target / entry.path` (a new file), verified and read
    back as the module docstring says. `buffers` are two of BLOCK_SIZE, the thread's own."""
    assert entry.content is not None
    block, back = buffers
    view, back_view = memoryview(block), memoryview(back)
    path = target / entry.path
    hasher = MultiHasher(ALGORITHMS)
    problem = None
    with entry.content.open() as stored:
        fd = _writing(os.open, path, path, _CREATE, FILE_MODE)
        try:
            writeback = Writeback(fd)
            while n := stored.readinto(block):
                chunk = view[:n]
                hasher.update(chunk)
                offset = hasher.size - n
                written = 0
                while written < n:  # writes may be partial
                    written += _writing(os.pwrite, path, fd, chunk[written:], offset + written)
                if problem is None and not _reads_back(fd, offset, n, block, back, back_view):
                    problem = (f"{entry.path}: the bytes read back from the export differ "
                               f"from those written at offset {offset}")
                if progress:
                    progress(n)
                writeback.wrote(hasher.size)
            writeback.finish(hasher.size)
            # Nothing may follow the last block (a file that grew or was written past its end).
            if problem is None and os.pread(fd, 1, hasher.size):
                problem = f"{entry.path}: the export holds more bytes than were written"
        finally:
            os.close(fd)
    if hasher.size != entry.size:
        raise FixityError(detail=f"stored content {entry.content} of {entry.path} has "
                          f"{hasher.size} bytes, the catalog says {entry.size}; run "
                          "`preserve audit`")
    digests = hasher.hexdigests()
    check_digests(entry, digests)
    return Copied(entry.path, hasher.size, digests, problem)


def _reads_back(fd: int, offset: int, n: int, block: bytearray, back: bytearray,
                back_view: memoryview) -> bool:
    """True if the file holds `block[:n]` at `offset`. bytearray equality is one memcmp (a
    memoryview compares element by element, 30 times slower)."""
    got = os.preadv(fd, [back_view[:n]], offset)
    if got != n:
        return False
    if n == len(block):
        return back == block
    return back[:n] == block[:n]


def _writing(function: Callable[..., int], path: Path, *args: object) -> int:
    try:
        return function(*args)
    except OSError as exc:
        raise StorageError(detail=f"cannot write {path}: {exc.strerror or exc}; nothing was "
                           "exported (check free space)") from exc


class ReadAhead:
    """Stored content read and verified ahead of a writer that must take it in order (one
    zip or tar stream): `workers` threads each read one file at a time, in 1 MiB blocks,
    hashing them (sha256 + sha512) while the writer writes the files before it, so hashing
    and writing use two cores. `blocks(i)` yields entry i's blocks in order and returns once
    its size and digests are the catalog's (else raises the FixityError, StoredFileMissing
    or OSError its reader met).

    Memory is bounded: a reader holds at most `_QUEUED` blocks of its file, and starts no
    file more than `_AHEAD` entries beyond the one being written.
    """

    _QUEUED = 8
    _AHEAD = 4

    def __init__(self, entries: Sequence[Entry], workers: int,
                 progress: ByteProgress | None = None) -> None:
        self._entries, self._progress = entries, progress
        self._queues: dict[int, queue.Queue[bytes | _Done]] = {}
        self._next = iter(i for i, e in enumerate(entries) if e.content is not None)
        self._writing = 0  # the entry the writer is at
        self._turn = threading.Condition()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"export_read_{n}",
                                          daemon=True) for n in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def blocks(self, index: int) -> Iterator[bytes]:
        with self._turn:
            self._writing = index
            self._turn.notify_all()
            while index not in self._queues:
                self._turn.wait()
            blocks = self._queues.pop(index)
        while not isinstance(item := blocks.get(), _Done):
            yield item
        if item.error is not None:
            raise item.error

    def close(self) -> None:
        """Stop the readers (after the last file, or when the writer gave up)."""
        self._stop.set()
        with self._turn:
            self._turn.notify_all()
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while not self._stop.is_set():
            with self._turn:
                index = next(self._next, None)
                if index is None:
                    return
                while index > self._writing + self._AHEAD and not self._stop.is_set():
                    self._turn.wait()
                blocks: queue.Queue[bytes | _Done] = queue.Queue(self._QUEUED)
                self._queues[index] = blocks
                self._turn.notify_all()
            done = _Done()
            try:
                self._read(self._entries[index], blocks)
            except BaseException as exc:  # raised in the writer's thread by blocks()
                done = _Done(exc)
            self._put(blocks, done)

    def _read(self, entry: Entry, blocks: queue.Queue[bytes | _Done]) -> None:
        assert entry.content is not None
        hasher = MultiHasher(ALGORITHMS)
        with entry.content.open() as stored:
            while block := stored.read(BLOCK_SIZE):
                hasher.update(block)
                if not self._put(blocks, block):
                    return
                if self._progress:
                    self._progress(len(block))
        if hasher.size != entry.size:
            raise FixityError(detail=f"stored content {entry.content} of {entry.path} has "
                              f"{hasher.size} bytes, the catalog says {entry.size}; run "
                              "`preserve audit`")
        check_digests(entry, hasher.hexdigests())

    def _put(self, blocks: queue.Queue[bytes | _Done], item: bytes | _Done) -> bool:
        while not self._stop.is_set():
            try:
                blocks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


@dataclass(frozen=True, slots=True)
class _Done:
    """The end of one file's blocks: `error` if it could not be read or did not verify."""

    error: BaseException | None = None
