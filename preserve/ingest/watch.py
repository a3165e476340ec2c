"""The drop-folder watcher (`preserve watch DIR`, issue 16 §5).

A deposit put in DIR is taken once it has stopped changing: the sizes and modification times
of everything in it (listed with lstat, never followed) are the same over `settle` seconds.
It is then claimed by renaming it into DIR/.processing/ (one atomic rename: a second watcher,
or this one after a restart, cannot take it twice), ingested as `preserve ingest` would, and
moved to DIR/done/ or DIR/failed/ beside its report NAME.report.json. The depositor's files
are moved, never deleted.

Crash safety: the report is written into .processing/ (staged, fsynced, renamed) before the
deposit moves on. A watcher that finds a deposit in .processing/ when it starts knows a
previous one died: with its report there it only finishes the moves; without, the ingest
was interrupted and is run again (an interrupted ingest stores nothing or is completed by
the ingest's own recovery, DESIGN.md Rules), so a deposit is neither lost nor moved twice.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from preserve.catalog import Catalog
from preserve.home import Home
from preserve.ingest.batch import RESERVED, DepositOutcome, deposits_in, ingest_one
from preserve.ingest.ingest import IngestOptions
from preserve.storage.fsync import write_atomic

log = logging.getLogger(__name__)

PROCESSING = ".processing"
REPORT_SUFFIX = ".report.json"


def snapshot(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Every entry under `path` (itself included) as (relative path, size, mtime_ns), lstat
    only: what must stay the same over the settle time."""
    info = os.lstat(path)
    entries = [("", info.st_size, info.st_mtime_ns)]
    if os.path.isdir(path) and not os.path.islink(path):
        for top, dirs, files in os.walk(path):
            for name in dirs + files:
                full = os.path.join(top, name)
                try:
                    item = os.lstat(full)
                except OSError:  # vanished while listed: changing, by definition
                    item = os.stat_result((0,) * 10)
                entries.append((os.path.relpath(full, path), item.st_size, item.st_mtime_ns))
    return tuple(sorted(entries))


@dataclass
class Watcher:
    """Watches one drop folder; `run_once` is one pass, `run` loops until `stop` is set."""

    home: Home
    catalog: Catalog
    directory: Path
    options: IngestOptions
    settle: float = 30.0
    clock: Callable[[], float] = time.monotonic
    on_each: Callable[[DepositOutcome], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    _seen: dict[str, tuple[tuple[tuple[str, int, int], ...], float]] = field(
        default_factory=dict)

    def __post_init__(self) -> None:
        for name in (PROCESSING, *RESERVED):
            (self.directory / name).mkdir(exist_ok=True)

    def recover(self) -> list[DepositOutcome]:
        """Finish what a watcher that died left in .processing/ (see the module docstring)."""
        processing = self.directory / PROCESSING
        outcomes = []
        for claimed in deposits_in(processing):
            if claimed.name.endswith(REPORT_SUFFIX):
                continue
            report = processing / (claimed.name + REPORT_SUFFIX)
            if report.exists():
                status = json.loads(report.read_bytes())["status"]
                log.info("finishing the move of %s (its ingest had completed)", claimed.name)
                self._move(claimed, report, "done" if status == "ingested" else "failed")
                continue
            log.info("ingesting %s again: a previous watcher was interrupted", claimed.name)
            outcomes.append(self._ingest(claimed))
        return outcomes

    def run_once(self) -> list[DepositOutcome]:
        """One pass: recover, then take every deposit that has settled."""
        outcomes = self.recover()
        now = self.clock()
        present = deposits_in(self.directory, RESERVED)
        for path in present:
            if self.stop.is_set():
                break
            key = os.fsdecode(path.name)
            try:
                current = snapshot(path)
            except OSError:
                continue
            before = self._seen.get(key)
            if before is None or before[0] != current:
                self._seen[key] = (current, now)  # new or still changing: wait
                if not (self.settle <= 0 and before is None):
                    continue
            elif now - before[1] < self.settle:
                continue
            claimed = self.directory / PROCESSING / path.name
            try:
                os.rename(path, claimed)  # the claim: atomic, so taken once
            except OSError as exc:
                log.warning("could not claim %s: %s", key, exc)
                continue
            self._seen.pop(key, None)
            outcomes.append(self._ingest(claimed))
        names = {os.fsdecode(p.name) for p in present}
        for gone in set(self._seen) - names:
            del self._seen[gone]
        return outcomes

    def run_single(self) -> list[DepositOutcome]:
        """`--once` (for a timer): look, wait the settle time, take what did not change."""
        outcomes = self.run_once()
        if not self.stop.wait(self.settle):
            outcomes += self.run_once()
        return outcomes

    def run(self, interval: float) -> None:
        """Pass after pass until `stop` is set (by SIGTERM/SIGINT); never mid-ingest."""
        while not self.stop.is_set():
            self.run_once()
            self.stop.wait(interval)

    def _ingest(self, claimed: Path) -> DepositOutcome:
        outcome = ingest_one(self.home, self.catalog, claimed, self.options)
        report = claimed.parent / (claimed.name + REPORT_SUFFIX)
        document = outcome.as_dict()
        document["source"] = os.fsdecode(self.directory / claimed.name)
        write_atomic(report, json.dumps(document, ensure_ascii=False, indent=2).encode())
        self._move(claimed, report, "done" if outcome.status == "ingested" else "failed")
        if self.on_each is not None:
            self.on_each(outcome)
        return outcome

    def _move(self, claimed: Path, report: Path, where: str) -> None:
        target = self.directory / where
        name = _free_name(target, claimed.name)
        os.rename(claimed, target / name)
        os.rename(report, target / (name + REPORT_SUFFIX))


def _free_name(directory: Path, name: str) -> str:
    """`name`, or `name.1`, `name.2`…: a deposit of the same name done before is never
    overwritten."""
    candidate, n = name, 0
    while os.path.lexists(directory / candidate) or os.path.lexists(
            directory / (candidate + REPORT_SUFFIX)):
        n += 1
        candidate = f"{name}.{n}"
    return candidate
