"""PRONOM format identification with siegfried, through `pygfried` (DESIGN.md, "Standards").

PRONOM (The National Archives, UK) names formats by a persistent unique identifier, the PUID
(`fmt/13` is PNG 1.2, `x-fmt/111` plain text). siegfried matches the DROID byte signatures
and container signatures that ship with it; `pygfried` embeds siegfried's Go engine, so no
external program or network is involved.

Many files are identified in batches (`identify_many`): the Python/Go boundary is crossed
once per `BATCH` files, which keeps 20,000 small files from costing 20,000 round trips and
keeps the Go heap flat (one call over 20,000 files held about 280 MB, batches of 1,000 about
160 MB whatever the total). siegfried costs about 1 ms of CPU per small file of random bytes
(0.3 ms at 4 KiB, 3 ms at 1 MiB: it scans for signatures), and the engine holds the GIL while it
works; its own `workers` goroutines use a second core only in part (1.5 × one, against
2 × for two processes: docs/performance.md). So a large list is cut into `workers` shares,
each identified by a helper process (`preserve.formats.worker`, started with this Python, so
the same siegfried and signatures answer), and this process never loads the Go runtime. A
helper that cannot start or fails leaves its share to this process: the answer never depends
on whether helpers ran.

A file siegfried cannot place gets `FormatInfo.puid is None` with siegfried's warning (e.g.
the PUIDs its extension alone suggests); an unreadable or empty file does too, with the error
as warning. Identification never raises for one bad file: it is a description, not a check.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from preserve.formats.stream import IdentifyStream

log = logging.getLogger(__name__)

#: siegfried's identifier for "no match".
_NO_MATCH = "UNKNOWN"
#: Files per call into siegfried (bounds the Go heap and the JSON answer).
BATCH = 1000
#: Zip payload files declaring more than this ratio unpacked:packed (and more than the floor)
#: are not opened by siegfried (see `_zip_bomb`); files under ZIP_SMALL bytes not checked.
MAX_ZIP_RATIO = 1000
ZIP_RATIO_FLOOR = 64 << 20
ZIP_SMALL = 64 << 10
#: Files per extra process at least: starting one (Python, siegfried, signatures) costs about
#: 0.1 s, the time of a hundred small files.
PARALLEL_MIN = 500


@dataclass(frozen=True, slots=True)
class FormatInfo:
    """What PRONOM says a file is.

    `puid` is the PRONOM identifier (`fmt/353`) or None when no format matched; `name`,
    `version` and `mime` are PRONOM's (empty when unknown); `basis` says why siegfried
    matched (byte offsets, extension, container); `warning` is siegfried's caveat, if any.
    """

    puid: str | None
    name: str
    version: str
    mime: str
    basis: str
    warning: str

    @property
    def known(self) -> bool:
        return self.puid is not None


#: The answer for a file no signature matched and no error explained.
UNKNOWN = FormatInfo(None, "", "", "", "", "no match")


class FormatIdentifier:
    """A siegfried scanner with PRONOM signatures, loaded once and reused (thread-safe).

    `workers` is how many processes share a large batch (this one and helpers); 0 means one
    per CPU, 1 keeps everything in this process.
    """

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self._scanner: object | None = None  # loaded on first use in this process
        self._version: str | None = None
        self._signature: str | None = None
        self._answers: dict[FormatInfo, FormatInfo] = {}

    def _scan(self, names: list[str]) -> dict[str, Any]:
        if self._scanner is None:
            import pygfried  # only here: the Go runtime costs time and ~150 MB of memory

            self._scanner = pygfried.Scanner()
            self._version = pygfried.version()
        return self._scanner.identify_many(names, workers=1)  # type: ignore[attr-defined]

    @property
    def tool(self) -> str:
        """siegfried's version and signature set, e.g. `siegfried 1.11.9 (default.sig; DROID…)`."""
        if self._version is None:
            import pygfried

            self._version = pygfried.version()
        if self._signature is None:
            return f"siegfried {self._version}"
        return f"siegfried {self._version} ({self._signature})"

    def adopt_answer(self, infos: Sequence[FormatInfo], version: str | None,
                     signature: str | None) -> list[FormatInfo]:
        """A helper's answers, one object per distinct answer (shared with this identifier's
        own), its siegfried version and signature set kept for `tool`."""
        self._version = self._version or version
        self._signature = self._signature or signature
        return [self._answers.setdefault(info, info) for info in infos]

    def stream(self, helpers: int) -> IdentifyStream:
        """Identification of files submitted one by one, in `helpers` helper processes
        (`preserve.formats.stream`)."""
        from preserve.formats.stream import IdentifyStream

        return IdentifyStream(self, helpers)

    def identify(self, path: Path) -> FormatInfo:
        """The format of one file."""
        return self.identify_many([path])[Path(path)]

    def identify_many(self, paths: Sequence[Path]) -> dict[Path, FormatInfo]:
        """The format of every file in `paths`; keys are the given paths."""
        if not paths:
            return {}
        names = [os.fspath(p) for p in paths]
        shares = min(self.workers, len(names) // PARALLEL_MIN) if self.workers > 1 else 1
        if shares <= 1:
            infos = self.identify_names(names)
        else:
            # Every share goes to a helper, none is done here: this process never loads the
            # Go runtime and its heap (about 150 MB), which matters to a large ingest's peak.
            size = -(-len(names) // shares)
            parts = [names[i:i + size] for i in range(0, len(names), size)]
            helpers = [_Helper.start(part) for part in parts]
            infos = []
            for part, helper in zip(parts, helpers, strict=True):
                answer = helper.result() if helper is not None else None
                if answer is None:  # the helper could not help: do its share here
                    infos += self.identify_names(part)
                    continue
                infos += self.adopt_answer(*answer)
        return {Path(given): info for given, info in zip(paths, infos, strict=True)}

    def identify_names(self, names: Sequence[str]) -> list[FormatInfo]:
        """The formats of the files named, in order, identified in this process."""
        infos: list[FormatInfo] = []
        for start in range(0, len(names), BATCH):
            infos += self._batch(names[start:start + BATCH])
        return infos

    def _batch(self, names: Sequence[str]) -> list[FormatInfo]:
        bombs = {name: why for name in names if (why := _zip_bomb(name)) is not None}
        if bombs:  # answered without siegfried; the others in one call as usual
            rest = [name for name in names if name not in bombs]
            answers = dict(zip(rest, self._batch(rest), strict=True)) if rest else {}
            return [FormatInfo(None, "", "", "", "", bombs[name]) if name in bombs
                    else answers[name] for name in names]
        try:
            result = self._scan(list(names))
        except (OSError, ValueError) as exc:  # GoError, or a name Go cannot take (not UTF-8)
            if len(names) > 1:  # one hostile name (e.g. a control character siegfried's JSON
                # cannot carry) must not cost the rest of the batch their formats
                return [info for name in names for info in self._batch([name])]
            log.warning("format identification failed: %s", exc)
            return [FormatInfo(None, "", "", "", "", f"identification failed: {exc}")] * len(names)
        self._remember_signature(result)
        by_name = {entry.get("filename", ""): entry for entry in result.get("files", [])}
        # Most files share one answer (e.g. "no match; possibilities based on extension are
        # …", 600 bytes): keep one object per distinct answer, not one per file.
        same = self._answers
        return [same.setdefault(info, info) for info in (
            _format_of(entry) if entry is not None else FormatInfo(
                None, "", "", "", "", "siegfried returned no result for this file")
            for entry in map(by_name.get, names))]

    def _remember_signature(self, result: dict[str, Any]) -> None:
        if self._signature is not None:
            return
        details = [i.get("details", "") for i in result.get("identifiers", [])
                   if i.get("name") == "pronom"]
        parts = [result.get("signature", "")] + details
        self._signature = "; ".join(p for p in parts if p)


def _zip_bomb(name: str) -> str | None:
    """Why the zip `name` is not handed to siegfried, or None.

    siegfried unpacks the members of a zip that its container signatures name (e.g.
    `[Content_Types].xml`, `mimetype`) to match them: about 6 s of CPU per MB of a deflate
    bomb, so a 1 GB payload file could keep an ingest busy for hours. Go's zip reader stops
    at each member's declared size, so the declared sizes bound the work: a zip declaring
    more than `MAX_ZIP_RATIO` times its own size (and over `ZIP_RATIO_FLOOR` bytes) is left
    unidentified. Small files are not even opened (a bomb under 64 KiB costs < 0.5 s)."""
    try:
        size = os.stat(name).st_size
        if size < ZIP_SMALL:
            return None
        with open(name, "rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                return None
        with zipfile.ZipFile(name) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile):
        return None  # not a zip Python can read: siegfried judges it as any other file
    if declared > ZIP_RATIO_FLOOR and declared > MAX_ZIP_RATIO * size:
        return (f"not identified: a zip whose members unpack to {declared} bytes from "
                f"{size} (over {MAX_ZIP_RATIO}:1) is not opened (decompression bomb)")
    return None


def _format_of(entry: dict[str, Any]) -> FormatInfo:
    matches = [m for m in entry.get("matches", []) if m.get("ns", "pronom") == "pronom"]
    error = entry.get("errors", "") or ""
    if not matches:
        return FormatInfo(None, "", "", "", "", error or UNKNOWN.warning)
    first = matches[0]
    warnings = [w for w in (error, first.get("warning", "")) if w]
    if len(matches) > 1:  # siegfried reports ties; PRONOM cannot decide between them
        warnings.append("also matched " + ", ".join(m.get("id", "") for m in matches[1:]))
    puid = first.get("id") or None
    if puid == _NO_MATCH:
        puid = None
    return FormatInfo(
        puid=puid,
        name=first.get("format", "") if puid else "",
        version=first.get("version", "") if puid else "",
        mime=first.get("mime", "") if puid else "",
        basis=first.get("basis", "") or "",
        warning="; ".join(warnings),
    )


def worker_command(*args: str) -> list[str]:
    """The command line of a helper process (`preserve.formats.worker`) with `args`."""
    # -I: no PYTHON* variables or user site; the package is found where this one lives.
    here = os.fspath(Path(__file__).resolve().parents[2])
    code = (f"import sys; sys.path.insert(0, {here!r}); "
            "from preserve.formats.worker import main; sys.exit(main())")
    return [sys.executable, "-I", "-c", code, *args]


def from_answer(answer: dict[str, Any]) -> tuple[list[FormatInfo], str | None, str | None]:
    """A helper's answer (`as_answer`) read back: the FormatInfo of each file in order, and
    siegfried's version and signature set. Raises ValueError, KeyError, TypeError or
    IndexError on nonsense."""
    distinct = [FormatInfo(*row) for row in answer["rows"]]
    return [distinct[i] for i in answer["index"]], answer.get("version"), answer.get("signature")


class _Helper:
    """A helper process identifying one share of a batch (see `preserve.formats.worker`)."""

    def __init__(self, process: subprocess.Popen[bytes], count: int) -> None:
        self._process = process
        self._count = count

    @classmethod
    def start(cls, names: Sequence[str]) -> _Helper | None:
        try:
            process = subprocess.Popen(worker_command(), stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            log.info("no helper process for format identification: %s", exc)
            return None
        stdin, process.stdin = process.stdin, None  # communicate() must not touch it later
        assert stdin is not None
        try:
            # The helper reads all of its input before it writes anything: no deadlock.
            stdin.write(json.dumps(list(names)).encode("utf-8", "surrogateescape"))
            stdin.close()
        except OSError as exc:  # it died at once (BrokenPipeError)
            log.warning("format identification helper failed: %s", exc)
            try:
                stdin.close()
            except OSError:
                pass
            process.communicate()
            return None
        return cls(process, len(names))

    def result(self) -> tuple[list[FormatInfo], str | None, str | None] | None:
        """The helper's answers in order, siegfried's version and signature set; or None
        (logged) if it failed."""
        out, err = self._process.communicate()
        if self._process.returncode != 0:
            log.warning("format identification helper failed (exit %s): %s",
                        self._process.returncode, err.decode(errors="replace").strip()[-500:])
            return None
        try:
            infos, version, signature = from_answer(json.loads(out))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            log.warning("format identification helper answered nonsense: %s", exc)
            return None
        if len(infos) != self._count:
            log.warning("format identification helper answered %d of %d files", len(infos),
                        self._count)
            return None
        return infos, version, signature


def as_answer(identifier: FormatIdentifier, infos: Sequence[FormatInfo]) -> dict[str, object]:
    """The helper's answer: each distinct FormatInfo once (`rows`), and per file its row
    number (`index`), since 100,000 files would otherwise be 70 MB of repeated warnings; and
    the siegfried version and signature set that answered."""
    numbers: dict[FormatInfo, int] = {}
    index = [numbers.setdefault(info, len(numbers)) for info in infos]
    return {"rows": [list(astuple(info)) for info in numbers], "index": index,
            "version": identifier._version, "signature": identifier._signature}
