"""Judging one stored copy: its bytes against every record of what they should be (issue 4;
issue 18, "four sources").

Four sources say what a content file holds: the file itself, the catalog's `files` row, the
OCFL inventory (manifest and sha256 fixity block) and the version's own bag manifest
(`manifest-sha512.txt` for payload, `tagmanifest-sha512.txt` for tag files), written at
ingest inside the version. An attacker who rewrites the file, its inventory digest, the
sidecar and the catalog row still leaves the bag manifest holding the original digest.

`check_copy` is the seam for storage backends: it takes the copy's bytes as a binary stream
(a local file, an S3 object body) and the expected digests, and returns a `Verdict`. The
local audit reads in worker threads (`read_copy`) and judges in the main thread (`compare`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from preserve.checksums import REQUIRED_ALGORITHMS, ByteSource, hash_stream


@dataclass(frozen=True, slots=True)
class Read:
    """The result of reading one copy."""

    size: int = 0
    digests: dict[str, str] | None = None  # sha512 and sha256
    missing: bool = False
    error: str = ""


@dataclass(frozen=True, slots=True)
class Expected:
    """What the records say a copy holds. None: that source does not list the file."""

    size: int
    sha512: str  # the catalog's
    sha256: str  # the catalog's
    inventory_readable: bool = True  # False: the inventory is untrusted (AUD-E005), not compared
    inventory_sha512: str | None = None
    inventory_sha256: str | None = None  # the inventory's fixity block
    bag_sha512: str | None = None  # the version's own bag manifest


@dataclass(frozen=True, slots=True)
class Verdict:
    """`code` None is a pass. `status` is the copy's new status (None: unchanged);
    `damaged` asks for a copy in quarantine; `detail` fills the finding's message."""

    code: str | None
    outcome: str  # pass, fail, could-not-check
    status: str | None
    damaged: bool = False
    detail: str = ""


def read_copy(stream: ByteSource, on_bytes: Callable[[int], None] | None = None) -> Read:
    """Hash `stream` to its end with every required algorithm."""
    size, digests = hash_stream(stream, REQUIRED_ALGORITHMS, on_bytes)
    return Read(size=size, digests=digests)


def check_copy(stream: ByteSource, expected: Expected,
               on_bytes: Callable[[int], None] | None = None) -> Verdict:
    """Read one copy from `stream` and judge it against `expected`."""
    return compare(read_copy(stream, on_bytes), expected)


def _short(digest: str | None) -> str:
    return "nothing" if digest is None else f"{digest[:16]}…"


def sides(found: str, expected: Expected) -> str:
    """Which sources agree on which sha512: 'file and bag manifest: 1a2b…; catalog and
    inventory: 3c4d…'."""
    values = {"file": found, "catalog": expected.sha512}
    if expected.inventory_readable:
        values["inventory"] = expected.inventory_sha512 or "(not listed)"
    if expected.bag_sha512 is not None:
        values["bag manifest"] = expected.bag_sha512
    groups: dict[str, list[str]] = {}
    for source, value in values.items():
        groups.setdefault(value, []).append(source)
    parts = []
    for value, names in groups.items():
        said = value if value.startswith("(") else f"sha512 {_short(value)}"
        verb = "agree on" if len(names) > 1 else "says"
        parts.append(f"{' and '.join(names)} {verb} {said}")
    return "; ".join(parts)


def compare(read: Read, expected: Expected) -> Verdict:
    """The verdict on one copy read as `read` (see the finding codes AUD-E001..E013)."""
    if read.missing:
        return Verdict("AUD-E006", "fail", "missing")
    if read.digests is None:
        return Verdict("AUD-E007", "could-not-check", None, detail=read.error)
    found = read.digests
    catalog_ok = (read.size == expected.size and found["sha512"] == expected.sha512
                  and found["sha256"] == expected.sha256)
    listed = expected.inventory_sha512
    inventory_ok: bool | None
    if not expected.inventory_readable:
        inventory_ok = None  # unknown: reported as AUD-E005 for the object
    else:
        inventory_ok = (listed == found["sha512"]
                        and expected.inventory_sha256 in (None, found["sha256"]))
    bag_ok = None if expected.bag_sha512 is None else expected.bag_sha512 == found["sha512"]
    if catalog_ok and inventory_ok is not False and bag_ok is not False:
        return Verdict(None, "pass", "ok")
    if bag_ok is False and (catalog_ok or inventory_ok):
        # The file matches records that can be rewritten together, not the bag manifest the
        # version was written with: replaced content, or a forged manifest. Either is damage.
        return Verdict("AUD-E013", "fail", "damaged", damaged=True,
                       detail=sides(found["sha512"], expected))
    if catalog_ok:
        detail = ("the inventory does not list it" if listed is None
                  else f"inventory sha512 {listed}, file and catalog {found['sha512']}")
        return Verdict("AUD-E003", "fail", None, detail=detail)
    if inventory_ok:
        return Verdict("AUD-E002", "fail", None,
                       detail=f"catalog: {expected.size} bytes, sha512 {expected.sha512}; file "
                       f"and inventory: {read.size} bytes, sha512 {found['sha512']}")
    if inventory_ok is None or listed == expected.sha512:
        return Verdict("AUD-E001", "fail", "damaged", damaged=True)
    return Verdict("AUD-E004", "fail", "damaged", damaged=True,
                   detail=f"file sha512 {found['sha512']} ({read.size} bytes), catalog "
                   f"{expected.sha512} ({expected.size} bytes), inventory {listed}")
