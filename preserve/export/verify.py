"""Reading an export back before it is reported as done (issue 5: "validated after it is
written, read back and checksummed").

A directory bag is read with our own strict RFC 8493 reader (`preserve.deposit`): bagit.txt,
bag-info.txt, Payload-Oxum, every manifest and tag manifest, and every payload file's size
and digests compared, the digests those of the bytes read back from each file as it was
written (`preserve.export.payload`); no file may be missing or extra. A zip or tar is read
once from its first byte to its last: the sha256 of the whole file must be the one computed
while writing, and every member's sha512 must be that of the bag's manifest,
each expected member present exactly once under the one top-level directory, nothing else.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

from preserve.deposit import check_payload, open_deposit
from preserve.export.bag import Entry
from preserve.export.payload import Copied
from preserve.export.source import PAYLOAD_PREFIX
from preserve.model import PayloadFile, Severity

_BLOCK = 1 << 20


def verify_directory(target: Path, entries: list[Entry], work_dir: Path,
                     copied: list[Copied]) -> list[str]:
    """Problems found reading the bag directory `target` back ([] when it is sound).

    `copied` is what `preserve.export.payload` read back of each content file as it wrote
    it (its bytes compared with those written, so its digests are the file's): the payload
    is not hashed a second time. Everything else is read here, as a receiving archive would.
    """
    deposit = open_deposit(target, work_dir)
    problems = [f"{f.code} {f.path}: {f.message}" for f in deposit.findings
                if f.severity is Severity.ERROR]
    if problems:
        return problems
    problems += [c.problem for c in copied if c.problem is not None]
    # The deposit names payload files below data/, the bag's entries from the bag's root.
    computed = {c.path.removeprefix(PAYLOAD_PREFIX): PayloadFile(
        c.path.removeprefix(PAYLOAD_PREFIX), c.size, c.digests) for c in copied
        if c.path.startswith(PAYLOAD_PREFIX)}
    problems += [f"{f.code} {f.path}: {f.message}" for f in check_payload(deposit, computed)
                 if f.severity is Severity.ERROR]
    expected = {e.path for e in entries}
    found = {str(path.relative_to(target)) for path in _files(target)}
    problems += [f"{path}: missing from the export" for path in sorted(expected - found)]
    problems += [f"{path}: not expected in the export" for path in sorted(found - expected)]
    return problems


def verify_archive(target: Path, kind: str, entries: list[Entry], top: str,
                   sha256: str) -> list[str]:
    """Problems found reading the zip or tar `target` back ([] when it is sound)."""
    expected = {f"{top}/{e.path}": e for e in entries}
    problems: list[str] = []
    with open(target, "rb") as raw, ThreadPoolExecutor(1) as pool:
        whole = _WholeFileHash(raw)
        # A tar is read once, front to back, for both checks. A zip's members are read
        # through its central directory, so the whole file's hash runs beside that on the
        # other core (hashlib releases the GIL) instead of after it.
        finished = pool.submit(whole.finish) if kind == "zip" else None
        try:
            _check_members(target, kind, whole, expected, problems)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
            # A CRC or header that does not hold: the archive is not what was written.
            problems.append(f"{target}: cannot be read back as {kind}: {exc}")
        digest = finished.result() if finished is not None else whole.finish()
        if digest != sha256:
            problems.append(f"{target}: the file read back does not have the sha256 computed "
                            "while writing it")
    return problems


def _check_members(target: Path, kind: str, whole: _WholeFileHash, expected: dict[str, Entry],
                   problems: list[str]) -> None:
    seen: set[str] = set()
    members = _zip_members(target) if kind == "zip" else _tar_members(whole)
    for name, stream in members:
        entry = expected.get(name)
        if entry is None or name in seen:
            problems.append(f"{name}: {'duplicate' if name in seen else 'unexpected'} member")
            continue
        seen.add(name)
        # One strong digest suffices here: the bytes were checked against both while they
        # were copied in; this proves the file holds what was written.
        hasher = hashlib.sha512()
        size = 0
        while block := stream.read(_BLOCK):
            hasher.update(block)
            size += len(block)
        if size != entry.size or hasher.hexdigest() != entry.digests["sha512"]:
            problems.append(f"{name}: its bytes in the {kind} do not match the manifests")
    problems += [f"{name}: missing from the {kind}" for name in sorted(set(expected) - seen)]


class _WholeFileHash:
    """Reads through `raw` for tarfile, hashing everything; `finish` hashes the rest too."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw, self._hash = raw, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._hash.update(data)
        return data

    def finish(self) -> str:
        while block := self._raw.read(_BLOCK):
            self._hash.update(block)
        return self._hash.hexdigest()


def _tar_members(stream: _WholeFileHash) -> Iterator[tuple[str, IO[bytes]]]:
    with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
        for member in tar:
            if not member.isfile():
                yield member.name, io.BytesIO()
                continue
            extracted = tar.extractfile(member)
            assert extracted is not None
            yield member.name, extracted


def _zip_members(target: Path) -> Iterator[tuple[str, IO[bytes]]]:
    with zipfile.ZipFile(target) as zf:
        for info in zf.infolist():
            with zf.open(info) as member:  # checks the CRC-32 too
                yield info.filename, member


def _files(root: Path) -> Iterator[Path]:
    for directory, _dirs, names in os.walk(root):
        for name in names:
            yield Path(directory) / name
