"""Long actions started from the web app or the API (issue 15 "Actions"): an ingest of an
uploaded deposit, an audit, a repair, an export.

Each action runs the very command the CLI runs (`preserve --json …`) as a child process, one
at a time, so the web app ingests, audits and repairs exactly as an archivist at the terminal
would: the same validation and findings, locks, replication, crash recovery and exit codes,
and a crash of the action cannot take the server down. The child names the account in its
events through `PRESERVE_ACTING_ACCOUNT` (cli/__init__.py): whoever can set a command's
environment can set its login name too, so this trusts no one more than the CLI already does.

A task lives in this process: a page reload (or another browser) finds it by its id while the
server runs; its effects (deposits, versions, audit runs, events) are in the catalog. Tasks
are kept for `KEEP` after they end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preserve.errors import ExitCode
from preserve.model import utc_now

KEEP = dt.timedelta(days=1)
#: How much of a failed command's standard error a task keeps to show.
STDERR_TAIL = 4000


@dataclass
class Task:
    """One action: who started it, what it runs, how far it got."""

    id: str
    kind: str  # ingest, audit, repair, export
    label: str
    owner: str
    argv: list[str]
    state: str = "queued"  # queued, running, succeeded, warnings, damage, failed
    created: dt.datetime = field(default_factory=utc_now)
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    exit_code: int | None = None
    result: Any = None
    error: str = ""
    #: Called when the task ends, however it ends (an uploaded deposit is removed).
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    #: A file the task made for the archivist to download (an export).
    product: Path | None = None

    #: Where the command keeps its progress (PRESERVE_PROGRESS_FILE; cli/render.py).
    progress_file: Path | None = None
    final_progress: dict[str, Any] | None = None

    def progress(self) -> dict[str, Any] | None:
        """What the command last said of its progress: {"what", "done", "total"} in bytes,
        or None before it said anything (or for a command that reads no bytes)."""
        if self.progress_file is None:
            return self.final_progress
        try:
            said = json.loads(self.progress_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return said if isinstance(said, dict) else None

    def as_dict(self) -> dict[str, Any]:
        def iso(t: dt.datetime | None) -> str | None:
            return t.isoformat() if t is not None else None
        return {"id": self.id, "kind": self.kind, "label": self.label, "owner": self.owner,
                "state": self.state, "created": iso(self.created), "started": iso(self.started),
                "finished": iso(self.finished), "exit_code": self.exit_code,
                "result": self.result, "error": self.error, "progress": self.progress(),
                "download": self.product is not None and self.state in ("succeeded", "warnings")}

    @property
    def done(self) -> bool:
        return self.state in ("succeeded", "warnings", "damage", "failed")


class TaskRunner:
    """Runs tasks one after another on a background thread, in start order."""

    def __init__(self, repo: Path, *, python: str = sys.executable,
                 env: dict[str, str] | None = None) -> None:
        self.repo = repo
        self.python = python
        self.env = env
        self._tasks: dict[str, Task] = {}
        self._queue: list[Task] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None

    def start(self, kind: str, label: str, owner: str, args: Sequence[str], *,
              cleanup: Sequence[Callable[[], None]] = (),
              product: Path | None = None) -> Task:
        """Queue `preserve --repo REPO --json ARGS…` on behalf of account `owner`."""
        task = Task(id=uuid.uuid4().hex, kind=kind, label=label, owner=owner,
                    argv=[self.python, "-m", "preserve", "--repo", str(self.repo), "--json",
                          *args], cleanup=list(cleanup), product=product)
        with self._lock:
            self._forget_old()
            self._tasks[task.id] = task
            self._queue.append(task)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="preserve-tasks",
                                                daemon=True)
                self._worker.start()
            self._wake.notify()
        return task

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def recent(self) -> list[Task]:
        with self._lock:
            return sorted(self._tasks.values(), key=lambda t: t.created, reverse=True)

    def wait(self, task_id: str, timeout: float = 600.0) -> Task | None:
        """Block until the task ends (tests and the API's `?wait=1`)."""
        deadline = utc_now() + dt.timedelta(seconds=timeout)
        with self._lock:
            while True:
                task = self._tasks.get(task_id)
                if task is None or task.done:
                    return task
                left = (deadline - utc_now()).total_seconds()
                if left <= 0:
                    return task
                self._wake.wait(timeout=min(left, 1.0))

    def _forget_old(self) -> None:
        cutoff = utc_now() - KEEP
        for task_id in [t.id for t in self._tasks.values()
                        if t.finished is not None and t.finished < cutoff]:
            gone = self._tasks.pop(task_id)
            if gone.product is not None:
                shutil.rmtree(gone.product.parent, ignore_errors=True)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue:
                    if not self._wake.wait(timeout=30):
                        self._worker = None
                        return
                task = self._queue.pop(0)
                task.state, task.started = "running", utc_now()
            self._execute(task)
            with self._lock:
                self._wake.notify_all()

    def _execute(self, task: Task) -> None:
        scratch = Path(tempfile.mkdtemp(prefix="preserve-task-"))
        task.progress_file = scratch / "progress.json"
        env = {**(self.env if self.env is not None else os.environ),
               "PRESERVE_ACTING_ACCOUNT": task.owner,
               "PRESERVE_PROGRESS_FILE": str(task.progress_file)}
        try:
            done = subprocess.run(task.argv, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, check=False)
            code, out, err = done.returncode, done.stdout, done.stderr
        except OSError as exc:  # the interpreter could not be started
            code, out, err = -1, b"", str(exc).encode()
        finally:
            for action in task.cleanup:
                action()
        final = task.progress()  # kept with the task; its file goes with the scratch folder
        shutil.rmtree(scratch, ignore_errors=True)
        result: Any = None
        try:
            result = json.loads(out.decode("utf-8")) if out.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            result = {"output": out.decode("utf-8", "replace")[-STDERR_TAIL:]}
        with self._lock:
            task.progress_file, task.final_progress = None, final
            task.exit_code, task.result = code, result
            task.error = (err.decode("utf-8", "replace")[-STDERR_TAIL:]
                          if code not in (ExitCode.OK, ExitCode.WARNINGS) else "")
            # An audit or repair that ran to its end and found damage (exit 12) did its job:
            # "damage", not "failed", which means the action itself could not be done.
            states: dict[int, str] = {ExitCode.OK: "succeeded", ExitCode.WARNINGS: "warnings",
                                      ExitCode.FIXITY_FAILURE: "damage"}
            task.state = states.get(code, "failed")
            task.finished = utc_now()


