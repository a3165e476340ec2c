"""Reading an export back before it is reported as done (issue 5: "validated after it is
written, read back and checksummed").

A directory bag is read with our own strict RFC 8493 reader (`preserve.deposit`): bagit.txt,
bag-info.txt, Payload-Oxum, every manifest and tag manifest, and every payload file's size
and digests compared, the digests those of the bytes read back from each file as it was
written (`preserve.export.payload`); no file may be missing or extra. A zip or tar was read back
write by write as it was written (`serialize._HashingSink`); here its structure is read
back: each expected member present exactly once under the one top-level directory, of its
size, nothing else, and every zip member's local header where the central directory says.
"""

from __future__ import annotations

import os
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

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


def verify_archive(target: Path, kind: str, entries: list[Entry], top: str) -> list[str]:
    """Problems found reading the structure of the zip or tar `target` back ([] when sound):
    each expected member present exactly once under `top/`, nothing else, each a regular
    file of the entry's size; for a zip, every local header where the central directory
    says and naming the same member, the members' data in order, none overlapping.

    Member bytes are not read again: the writer read every write back from the file and
    compared it byte for byte (`serialize._HashingSink`), and fed it only bytes verified
    against the catalog's sha256 and sha512 (`payload.ReadAhead`), so the file holds exactly
    the stream whose sha256 it reported (issue 17: each byte read once).
    """
    expected = {f"{top}/{e.path}": e for e in entries}
    problems: list[str] = []
    seen: set[str] = set()
    try:
        members = _zip_members(target, problems) if kind == "zip" else _tar_members(target)
        for name, size, regular in members:
            entry = expected.get(name)
            if entry is None or name in seen:
                problems.append(f"{name}: {'duplicate' if name in seen else 'unexpected'} "
                                "member")
                continue
            seen.add(name)
            if not regular or size != entry.size:
                problems.append(f"{name}: not a file of {entry.size} bytes in the {kind}")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        problems.append(f"{target}: cannot be read back as {kind}: {exc}")
    problems += [f"{name}: missing from the {kind}" for name in sorted(set(expected) - seen)]
    return problems


def _zip_members(target: Path, problems: list[str]) -> Iterator[tuple[str, int, bool]]:
    with zipfile.ZipFile(target) as zf:
        previous = -1
        for info in sorted(zf.infolist(), key=lambda i: i.header_offset):
            if info.header_offset == previous:
                problems.append(f"{info.filename}: shares its local header with another member")
            previous = info.header_offset
            with zf.open(info):  # reads and checks its local header (name, flags), not its data
                pass
            yield info.filename, info.file_size, not info.is_dir()


def _tar_members(target: Path) -> Iterator[tuple[str, int, bool]]:
    with tarfile.open(target, mode="r:") as tar:  # headers only: member data is skipped
        for member in tar:
            yield member.name, member.size, member.isfile()


def _files(root: Path) -> Iterator[Path]:
    for directory, _dirs, names in os.walk(root):
        for name in names:
            yield Path(directory) / name
