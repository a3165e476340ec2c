"""Reading an OCFL object on any location (OCFL 1.1 section 3.5.3): a version's logical file
by its digest, checked before it is handed out.

The workflows (audit, export) read stored objects only through `Location` and `Inventory`,
never through filesystem paths, so the same code reads the local root, another disk or an
S3 bucket.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from preserve.errors import FixityError, PreserveError, StorageError
from preserve.storage import inventory as inv
from preserve.storage.inventory import Inventory
from preserve.storage.location import Location, LocationError, StoredContent, StoredFileMissing


def content_of(location: Location, base: str, inventory: Inventory, version: int,
               logical_path: str) -> StoredContent | None:
    """Where the bytes of `logical_path` in `version` lie (the first content path the
    manifest lists for its digest); None if the version has no such logical path."""
    digest = inventory.state(version).get(logical_path)
    if digest is None:
        return None
    return StoredContent(location, f"{base}/{inventory.manifest[digest][0]}")


def read_logical(location: Location, base: str, inventory: Inventory, version: int,
                 logical_path: str, max_bytes: int) -> bytes | None:
    """The bytes of a small logical file (a METS, a bag-info) of `version`, checked against
    the inventory's digest: a damaged file is never handed out as if it were the record
    (FixityError). None if the version has no such logical path; StorageError if it cannot
    be read or is larger than `max_bytes`."""
    stored = content_of(location, base, inventory, version, logical_path)
    if stored is None:
        return None
    try:
        data = location.read_bytes(stored.path, max_bytes)
    except LocationError as exc:
        raise StorageError(detail=f"cannot read {stored}: {exc.message}; audit package "
                           f"{inventory.id}") from exc
    digest = inventory.state(version)[logical_path]
    if hashlib.new(inventory.digest_algorithm, data).hexdigest() != digest.lower():
        raise FixityError(detail=f"{stored} does not match its {inventory.digest_algorithm} in "
                          f"the inventory; run `preserve audit` and restore package "
                          f"{inventory.id} from a good copy")
    return data


def inventory_files(pins: dict[int, str | None]) -> list[tuple[str, str | None]]:
    """(directory relative to the object root, the sha512 its inventory must have) for the
    root inventory and every version's, the root first."""
    if not pins:
        return []
    head = max(pins)
    return [("", pins[head])] + [(inv.version_name(n), pins[n]) for n in sorted(pins)]


#: check_inventory's verdicts
MISSING, UNVERIFIED, REWRITTEN = "missing", "does not verify", "rewritten"


def check_inventory(location: Location, directory: str,
                    pinned: str | None) -> tuple[str, str] | None:
    """(MISSING | UNVERIFIED | REWRITTEN, why in words) when the inventory in `directory`
    (relative to the storage root) of `location` is not good; None when it verifies against
    its sidecar and, if given, the digest pinned at ingest."""
    return inspect_inventory(location, directory, pinned).trouble


@dataclass(frozen=True, slots=True)
class InventoryCheck:
    """One read of an inventory and its sidecar: `trouble` as `check_inventory` gives it,
    and when the inventory is good, the bytes that were verified (so that a repair copies
    exactly what it checked, reading each inventory once)."""

    trouble: tuple[str, str] | None
    data: bytes = b""
    sidecar: bytes = b""
    digest: str = ""


def inspect_inventory(location: Location, directory: str, pinned: str | None) -> InventoryCheck:
    """`check_inventory`, keeping the verified bytes of a good inventory."""
    try:
        _inventory, data, sidecar, digest = inv.read_verified(location, directory)
    except StoredFileMissing as error:
        return InventoryCheck((MISSING, error.message))
    except PreserveError as error:
        return InventoryCheck((UNVERIFIED, error.message))
    if pinned is not None and digest != pinned:
        return InventoryCheck((REWRITTEN, f"its sha512 is {digest}, not the {pinned} recorded "
                               "when the version was stored (a field of it was rewritten)"))
    return InventoryCheck(None, data, sidecar, digest)
