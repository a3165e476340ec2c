"""Identification while an ingest is still reading: each file as soon as it is staged (issue 17).

`FormatIdentifier.identify_many` starts after the last payload file is read; on many small
files siegfried then costs about as long again as the read (docs/performance.md). Here
helper processes (`preserve.formats.worker --stream`, the same Python and siegfried) are
started when the read starts, and each file is handed to them as soon as it is in the staged
version: its bytes are still in the page cache, and the helpers' work overlaps the reading
threads' (which wait on the disk and the GIL between files). The calling process never loads
the Go runtime.

Files go in batches of `CHUNK` (one line of JSON each way), round robin over the helpers. A
helper that fails leaves its unanswered batches to this process at the end: the answer never
depends on whether helpers ran (as in `identify_many`). Only files this process wrote or
renamed into its own staging are submitted, so siegfried opens nothing a depositor can swap.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
from collections.abc import Hashable
from pathlib import Path
from typing import IO

from preserve.formats.identify import FormatIdentifier, FormatInfo, from_answer, worker_command

log = logging.getLogger(__name__)

#: Files per line sent to a helper: small enough that the last batch does not keep a helper
#: busy long after the read, large enough that a line's overhead does not count.
CHUNK = 64


class _StreamHelper:
    """One helper process and the batches it was sent, answered in order by a reader thread."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.sent: list[tuple[list[Hashable], list[str]]] = []
        self.answers: list[tuple[list[FormatInfo], str | None, str | None]] = []
        self.failed: str | None = None
        self.reader = threading.Thread(target=self._read, name="identify-reader", daemon=True)
        self.reader.start()

    @classmethod
    def start(cls) -> _StreamHelper | None:
        try:
            process = subprocess.Popen(worker_command("--stream"), stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError as exc:
            log.info("no helper process for format identification: %s", exc)
            return None
        return cls(process)

    def _read(self) -> None:
        out: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        for line in out:
            try:
                self.answers.append(from_answer(json.loads(line)))
            except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                self.failed = f"answered nonsense: {exc}"
                return

    def send(self, keys: list[Hashable], names: list[str]) -> None:
        """Send one batch (called with the stream's lock held: batches stay in order)."""
        self.sent.append((keys, names))
        if self.failed is not None:
            return
        try:
            stdin: IO[bytes] = self.process.stdin  # type: ignore[assignment]
            stdin.write(json.dumps(names).encode() + b"\n")
            stdin.flush()
        except OSError as exc:  # it died (BrokenPipeError): its batches are done here
            self.failed = f"stopped: {exc}"

    def finish(self) -> None:
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass
        self.reader.join()
        code = self.process.wait()
        if code != 0 and self.failed is None:
            self.failed = f"exit {code}"

    def kill(self) -> None:
        self.process.kill()
        self.finish()


class IdentifyStream:
    """Files identified as they are submitted; `results` waits for every answer.

    `submit` may be called from several threads. `key` names the answer (the ingest uses the
    file's sha512, so each content is identified once); the path is the file to scan."""

    def __init__(self, identifier: FormatIdentifier, helpers: int) -> None:
        self._identifier = identifier
        self._lock = threading.Lock()
        self._keys: list[Hashable] = []
        self._names: list[str] = []
        self._helpers = [h for h in (_StreamHelper.start() for _ in range(max(1, helpers)))
                         if h is not None]
        self._next = 0
        self._local: list[tuple[list[Hashable], list[str]]] = []  # no helper could start

    def submit(self, key: Hashable, path: Path | str) -> None:
        with self._lock:
            self._keys.append(key)
            self._names.append(str(path))
            if len(self._names) >= CHUNK:
                self._flush()

    def _flush(self) -> None:  # with the lock held
        if not self._names:
            return
        keys, names, self._keys, self._names = self._keys, self._names, [], []
        if not self._helpers:
            self._local.append((keys, names))
            return
        helper = self._helpers[self._next % len(self._helpers)]
        self._next += 1
        helper.send(keys, names)

    def results(self) -> dict[Hashable, FormatInfo]:
        """Every submitted key's format, once all helpers have answered."""
        with self._lock:
            self._flush()
        found: dict[Hashable, FormatInfo] = {}
        leftover = list(self._local)
        for helper in self._helpers:
            helper.finish()
            if helper.failed is not None:
                log.warning("format identification helper failed (%s): its files are "
                            "identified here", helper.failed)
            answered = helper.answers[:len(helper.sent)]
            # zip stops at the answers: batches sent after a failure are left over below
            for (keys, names), (infos, version, signature) in zip(helper.sent, answered,
                                                                  strict=False):
                if len(infos) != len(names):
                    leftover.append((keys, names))
                    continue
                found.update(zip(keys, self._identifier.adopt_answer(infos, version, signature),
                                 strict=True))
            leftover += helper.sent[len(answered):]
        for keys, names in leftover:
            found.update(zip(keys, self._identifier.identify_names(names), strict=True))
        return found

    def cancel(self) -> None:
        """Stop every helper now (the ingest failed or was rejected)."""
        for helper in self._helpers:
            helper.kill()
