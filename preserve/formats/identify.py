"""PRONOM format identification with siegfried, through `pygfried` (DESIGN.md, "Standards").

PRONOM (The National Archives, UK) names formats by a persistent unique identifier, the PUID
(`fmt/13` is PNG 1.2, `x-fmt/111` plain text). siegfried matches the DROID byte signatures
and container signatures that ship with it; `pygfried` embeds siegfried's Go engine, so no
external program or network is involved.

Many files are identified in one batch call (`identify_many`): the Go side runs `workers`
goroutines and the Python/Go boundary is crossed once, which keeps 20,000 small files from
costing 20,000 round trips. The engine holds the GIL while it works, so batching (not Python
threads) is what parallelises.

A file siegfried cannot place gets `FormatInfo.puid is None` with siegfried's warning (e.g.
the PUIDs its extension alone suggests); an unreadable or empty file does too, with the error
as warning. Identification never raises for one bad file: it is a description, not a check.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: siegfried's identifier for "no match".
_NO_MATCH = "UNKNOWN"


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

    `workers` is the Go-side concurrency of batch calls; 0 means one per CPU.
    """

    def __init__(self, workers: int = 0) -> None:
        import pygfried  # only here: loading the Go runtime costs time and memory

        self._pygfried = pygfried
        self._scanner = pygfried.Scanner()
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self._signature: str | None = None

    @property
    def tool(self) -> str:
        """siegfried's version and signature set, e.g. `siegfried 1.11.9 (default.sig; DROID…)`."""
        if self._signature is None:
            return f"siegfried {self._pygfried.version()}"
        return f"siegfried {self._pygfried.version()} ({self._signature})"

    def identify(self, path: Path) -> FormatInfo:
        """The format of one file."""
        return self.identify_many([path])[Path(path)]

    def identify_many(self, paths: Sequence[Path]) -> dict[Path, FormatInfo]:
        """The format of every file in `paths`, in one batch call; keys are the given paths."""
        if not paths:
            return {}
        names = [os.fspath(p) for p in paths]
        try:
            result = self._scanner.identify_many(names, workers=min(self.workers, 1024))
        except (OSError, ValueError) as exc:  # GoError, or a name Go cannot take (not UTF-8)
            log.warning("format identification failed: %s", exc)
            broken = FormatInfo(None, "", "", "", "", f"identification failed: {exc}")
            return {Path(p): broken for p in paths}
        self._remember_signature(result)
        by_name = {entry.get("filename", ""): entry for entry in result.get("files", [])}
        answers: dict[Path, FormatInfo] = {}
        for given, name in zip(paths, names):
            entry = by_name.get(name)
            answers[Path(given)] = _format_of(entry) if entry is not None else FormatInfo(
                None, "", "", "", "", "siegfried returned no result for this file")
        return answers

    def _remember_signature(self, result: dict) -> None:
        if self._signature is not None:
            return
        details = [i.get("details", "") for i in result.get("identifiers", [])
                   if i.get("name") == "pronom"]
        parts = [result.get("signature", "")] + details
        self._signature = "; ".join(p for p in parts if p)


def _format_of(entry: dict) -> FormatInfo:
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
