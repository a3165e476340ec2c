"""Output: one JSON document on stdout with --json, text otherwise; logs and progress on stderr.

The text view and the JSON document are built from the same dict (STYLE.md, "Output").
File names are always printed escaped (control and bidi characters made visible).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from preserve.model import Finding
from preserve.names import escape_name, json_visible

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def emit(document: dict[str, Any], as_json: bool, text: Callable[[dict[str, Any]], None]) -> None:
    """Print `document` as JSON, or hand it to the text renderer."""
    if as_json:
        sys.stdout.write(json_visible(json.dumps(document, ensure_ascii=False, indent=2)) + "\n")
        sys.stdout.flush()
    else:
        text(document)


#: `-q`: only errors. Set by the global options; status lines on stdout are dropped, so a
#: cron job mails only when something went wrong (errors and findings go to stderr).
quiet = False


def line(text: str = "") -> None:
    """One line of plain text on stdout (no markup interpretation); nothing under `-q`."""
    if not quiet:
        stdout.print(text, markup=False)


def findings_text(findings: Iterable[Finding | dict[str, str]]) -> None:
    """Each finding once (several METS of one export may each lack their schemas: one line)."""
    shown: set[tuple[str, str, str]] = set()
    for f in findings:
        d = f.as_dict() if isinstance(f, Finding) else f
        key = (d["code"], d["path"], d["message"])
        if key in shown:
            continue
        shown.add(key)
        path = f" {escape_name(d['path'])}" if d["path"] else ""
        stderr.print(f"{d['severity'].upper():7} {d['code']}{path}: {d['message']}", markup=False)


def human_size(size: int) -> str:
    """1536 -> "1.5 KiB": binary units, as storage is sold and filled."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def human_time(iso: str | None) -> str:
    """An ISO 8601 time to the second with its zone: "2026-12-04 19:02:55 UTC"."""
    if not iso:
        return ""
    moment = dt.datetime.fromisoformat(iso)
    zone = "UTC" if moment.utcoffset() == dt.timedelta(0) else moment.strftime("%z")
    return f"{moment.strftime('%Y-%m-%d %H:%M:%S')} {zone}"


class _Bar:
    """A rich byte-progress bar as a `preserve.checksums.Progress`."""

    def __init__(self, progress: Progress, description: str) -> None:
        self._progress = progress
        self._task = progress.add_task(description, total=None)

    def start(self, total_bytes: int) -> None:
        self._progress.update(self._task, total=total_bytes)

    def advance(self, n: int) -> None:
        self._progress.advance(self._task, n)


#: A file to keep a command's progress in, for whoever started it without a terminal (the web
#: app's tasks, preserve/web/tasks.py): `{"what": …, "done": bytes, "total": bytes}`.
PROGRESS_FILE_VARIABLE = "PRESERVE_PROGRESS_FILE"


class _ProgressFile:
    """Progress written to a file, replaced whole (never half written) at most twice a
    second; thread-safe, as `advance` is called from reading threads."""

    INTERVAL = 0.5

    def __init__(self, path: Path, description: str) -> None:
        self._path, self._description = path, description
        self._done, self._total = 0, 0
        self._written = 0.0
        self._lock = threading.Lock()

    def start(self, total_bytes: int) -> None:
        with self._lock:
            self._total = total_bytes
            self._write()

    def advance(self, n: int) -> None:
        with self._lock:
            self._done += n
            if time.monotonic() - self._written >= self.INTERVAL:
                self._write()

    def finish(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        self._written = time.monotonic()
        partial = self._path.with_name(self._path.name + ".partial")
        try:
            partial.write_text(json.dumps({"what": self._description, "done": self._done,
                                           "total": self._total}), encoding="utf-8")
            os.replace(partial, self._path)
        except OSError:
            pass  # progress is a courtesy: the command's work never fails for it


@contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[_Bar | _ProgressFile | None]:
    """A byte-progress bar on stderr when it is a terminal and not quiet; progress kept in
    the file PRESERVE_PROGRESS_FILE names, when it names one; else None."""
    target = os.environ.get(PROGRESS_FILE_VARIABLE)
    if target:
        recorder = _ProgressFile(Path(target), description)
        try:
            yield recorder
        finally:
            recorder.finish()
        return
    if not enabled or not stderr.is_terminal:
        yield None
        return
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), console=stderr,
                  transient=True) as progress:
        yield _Bar(progress, description)


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, datetimes and tuples as plain JSON values."""
    import dataclasses
    import datetime as dt
    from enum import Enum

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
