"""`ingest --move`: the deposit's payload files become the stored files, by rename, not copy.

An ingest copies every payload byte into the staged version as it hashes it (reading.py).
When the deposit lies on the filesystem of the repository's staging and the archive may
consume it (a drop folder it owns), the copy is avoidable: each payload file is renamed into
the staged version, then hashed where it now is. That saves the kernel's two copies and the
wait for the disk (docs/performance.md, "Hashing floors"). The deposit is gone afterwards only
if the ingest succeeded; on any failure it is put back exactly as it was:

* Before anything moves, `moves.json` in the ingest's work directory lists every move: the
  deposit path, the staged path, and where a file whose content the object already holds
  is parked (OCFL 1.1 section 3.7 stores content once, so such a file is not stored again).
  It is flushed to disk first, so a process killed half way leaves a complete list.
* A rejection, an error or an interrupt renames every file back (`restore`). A killed ingest
  leaves its work directory behind: `preserve.ingest.recovery.tidy`, which the next ingest
  runs, restores the deposit from the list before it removes that directory, unless the
  version was committed (then the files are the stored version).
* Renaming first and hashing afterwards, not the other way round: once renamed, nothing can
  open the file under the deposit's name, so the digests describe the bytes that are stored.

A file can move only when moving it cannot let anyone else change the stored bytes: it must
be a regular file with one link (another hard link would be a second name for the stored
file), owned by the user preserve runs as, on the staging filesystem. The checks run over the
whole deposit before the first rename; a failure refuses `--move` (nothing moved).
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from preserve.deposit import PayloadEntry
from preserve.errors import StorageError, UsageError
from preserve.names import escape_name
from preserve.storage.fsync import fsync_dir, write_new

log = logging.getLogger(__name__)

#: The list of moves in an ingest's work directory.
MOVES_FILE = "moves.json"
PARKED_DIR = "parked"


def check_same_filesystem(source: Path, staging: Path) -> None:
    """Refuse `--move` when the deposit is not on the staging filesystem (rename would copy)."""
    staging.mkdir(parents=True, exist_ok=True)
    if source.is_dir() and os.stat(source).st_dev != os.stat(staging).st_dev:
        raise UsageError(detail=f"--move needs the deposit on the filesystem of the repository's "
                         f"staging ({staging}); {escape_name(str(source))} is on another one, "
                         "so nothing was moved. Ingest it without --move (it is copied), or put "
                         "the drop folder on the repository's filesystem")


@dataclass(frozen=True, slots=True)
class Move:
    source: Path  # where the deposit had the file
    staged: Path  # where it is in the staged version
    parked: Path  # where it waits when the object already holds its content


class Moves:
    """The moves of one ingest: made, parked, undone or left as the stored version."""

    def __init__(self, work: Path, moves: dict[str, Move]) -> None:
        self.work = work
        self.by_logical = moves  # logical path in the version ("data/…") -> its move

    @classmethod
    def make(cls, work: Path, payload: Sequence[PayloadEntry],
             staged_for: dict[str, Path]) -> Moves:
        """Check every file, write the list, then rename each into the staged version.

        `staged_for` maps a payload path (relative to data/) to its staged path. Raises
        UsageError (nothing moved) if any file may not move; restores the deposit and re-raises
        if a rename fails.
        """
        _check_movable(payload, work)
        parked = work / PARKED_DIR
        moves = {"data/" + e.path: Move(e.source, staged_for[e.path], parked / str(n))
                 for n, e in enumerate(payload)}
        listed = [{"source": os.fsencode(m.source).decode("utf-8", "surrogateescape"),
                   "staged": os.fsencode(m.staged).decode("utf-8", "surrogateescape"),
                   "parked": os.fsencode(m.parked).decode("utf-8", "surrogateescape")}
                  for m in moves.values()]
        write_new(work / MOVES_FILE, json.dumps(listed, ensure_ascii=False).encode(
            "utf-8", "surrogateescape"))
        fsync_dir(work)
        parked.mkdir()
        done = cls(work, moves)
        try:
            for move in moves.values():
                os.rename(move.source, move.staged)
        except BaseException as exc:
            done.restore()
            if isinstance(exc, OSError):
                raise UsageError(detail=f"--move could not move {escape_name(str(exc.filename))}: "
                                 f"{exc.strerror}; the deposit was put back as it was. Ingest "
                                 "it without --move, or let the archive write to its "
                                 "folders") from None
            raise
        log.info("moved %d payload files into the staged version", len(moves))
        return done

    def park(self, logical: str) -> bool:
        """Set aside the staged file of `logical` (its content is already in the object, so
        the version stores it once); True if `logical` is one of the moved files."""
        move = self.by_logical.get(logical)
        if move is None:
            return False
        try:
            os.rename(move.staged, move.parked)
        except OSError as exc:  # within our own work directory: ours to fix, not the deposit's
            raise StorageError(detail=f"cannot set aside {move.staged}: {exc.strerror or exc}; "
                               "nothing was committed and the deposit is put back") from None
        return True

    def restore(self) -> list[str]:
        """Put every moved file back where the deposit had it; the paths that could not be
        (logged as errors, left in the work directory), empty if all were."""
        return restore_moves(list(self.by_logical.values()))


def restore_moves(moves: Sequence[Move]) -> list[str]:
    failed = []
    for move in reversed(moves):
        if os.path.lexists(move.source):
            if os.path.lexists(move.staged) or os.path.lexists(move.parked):
                log.error("cannot put %s back: something else now has its name; the file is "
                          "kept in the ingest's work directory", move.source)
                failed.append(str(move.source))
            continue
        for here in (move.staged, move.parked):
            if os.path.lexists(here):
                try:
                    move.source.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(here, move.source)
                except OSError as exc:
                    log.error("cannot put %s back: %s; the file is kept as %s", move.source,
                              exc.strerror or exc, here)
                    failed.append(str(move.source))
                break
    return failed


def read_moves(work: Path) -> list[Move] | None:
    """The moves a (dead) ingest listed in `work`, or None if it moved nothing."""
    try:
        listed = json.loads((work / MOVES_FILE).read_bytes().decode("utf-8", "surrogateescape"))
    except FileNotFoundError:
        return None

    def path(text: str) -> Path:
        return Path(os.fsdecode(text.encode("utf-8", "surrogateescape")))

    return [Move(path(m["source"]), path(m["staged"]), path(m["parked"])) for m in listed]


def remove_consumed(root: Path, tag_sources: Sequence[Path]) -> list[str]:
    """After a successful ingest: remove the deposit's tag files and its emptied folders.
    Anything else found there is left (and named in the returned list)."""
    for source in tag_sources:
        try:
            os.unlink(source)
        except FileNotFoundError:
            pass
    left = []
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        left += [os.path.join(dirpath, name) for name in filenames]
        try:
            os.rmdir(dirpath)
        except OSError:
            if not filenames:
                left += [os.path.join(dirpath, d) for d in dirnames
                         if os.path.lexists(os.path.join(dirpath, d))]
    return left


def _check_movable(payload: Sequence[PayloadEntry], work: Path) -> None:
    device, me = os.stat(work).st_dev, os.geteuid()
    problems = []
    for entry in payload:
        try:
            info = os.lstat(entry.source)
        except OSError as exc:
            problems.append(f"{entry.path}: {exc.strerror}")
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append(f"{entry.path}: not a regular file")
        elif info.st_nlink != 1:
            problems.append(f"{entry.path}: has {info.st_nlink} hard links (another name could "
                            "change the stored file)")
        elif info.st_uid != me:
            problems.append(f"{entry.path}: owned by user id {info.st_uid}, not by the user "
                            "preserve runs as")
        elif info.st_dev != device:
            problems.append(f"{entry.path}: on another filesystem than the staging")
        if len(problems) >= 5:
            break
    if problems:
        raise UsageError(detail="--move cannot move these deposit files, so nothing was "
                         "moved: " + "; ".join(escape_name(p) for p in problems)
                         + ". Ingest without --move (the files are copied)")
