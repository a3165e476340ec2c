"""What an audit checks about whole OCFL objects, besides re-reading content (OCFL 1.1
sections 3.1, 3.5, 4): inventories and their sidecars, files nobody listed, content the
manifest lists but storage lacks, and whether storage and catalog hold the same packages.

Everything is read through the storage `Location` interface (the local root is a
`LocalLocation`), inventories as `Inventory` values. Nothing here writes to storage.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from preserve.audit.report import Problem
from preserve.deposit.tagfiles import parse_manifest
from preserve.errors import PreserveError, StorageError
from preserve.findings import finding
from preserve.storage import StorageRoot, object_path_for
from preserve.storage import inventory as inv
from preserve.storage.listing import UNDECLARED, is_structural
from preserve.storage.location import Location

log = logging.getLogger(__name__)

#: A bag manifest larger than this is not read for the four-way comparison (its own copy is
#: still checked): 20,000 payload lines of 128 hex digits and a path fit many times over.
MAX_MANIFEST_BYTES = 256 << 20


@dataclass(slots=True)
class ObjectState:
    """What one object's inventory says, read once per run."""

    package_id: str
    location: Location
    base: str  # the object's root, relative to the storage root
    exists: bool
    manifest: dict[str, str] = field(default_factory=dict)  # content path -> sha512
    sha256: dict[str, str] = field(default_factory=dict)  # content path -> fixity sha256
    inventory_ok: bool = False
    missing: set[str] = field(default_factory=set)  # manifest content paths not stored
    states: dict[int, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    by_digest: dict[str, str] = field(default_factory=dict)  # sha512 -> a content path
    bags: dict[int, dict[str, str]] = field(default_factory=dict)  # version -> path -> sha512

    def bag_sha512(self, version: int, path: str) -> str | None:
        """What the version's own bag manifest (payload) or tag manifest (tag files) says
        `path` holds; None if it does not list it or cannot be read (its own copy's check
        reports why). Read once per version and kept."""
        if version not in self.bags:
            self.bags[version] = self._read_bag(version)
        return self.bags[version].get(path)

    def _read_bag(self, version: int) -> dict[str, str]:
        state = self.states.get(version, {})
        entries: dict[str, str] = {}
        for name, payload in (("manifest-sha512.txt", True), ("tagmanifest-sha512.txt", False)):
            digest = next((d for d, paths in state.items() if name in paths), None)
            content = self.by_digest.get(digest.lower()) if digest else None
            if content is None:
                continue
            try:
                text = self.location.read_bytes(f"{self.base}/{content}",
                                                MAX_MANIFEST_BYTES).decode("utf-8")
            except (OSError, UnicodeDecodeError, PreserveError):
                continue
            found, _findings = parse_manifest(text, name, "sha512", payload)
            entries.update(found)
        return entries


def _problem(code: str, package_id: str | None, path: str = "", content_path: str = "",
             **fields: object) -> Problem:
    message = finding(code, path, package_id=package_id, content_path=content_path,
                      **fields).message
    return Problem(code, message, package_id, path, content_path)


def inspect_object(location: Location, package_id: str,
                   pins: dict[int, str | None] | None = None) -> tuple[ObjectState, list[Problem]]:
    """Read the object's inventories and list its files: E005 (inventory), E008
    (unexpected), E014 (an inventory other than the one the catalog pinned at ingest).

    Missing content files are only collected in `ObjectState.missing`: the caller reports them
    once, with the logical path when a catalog copy names the same content.
    """
    base = object_path_for(package_id)
    present = {entry.path[len(base) + 1:] for entry in location.iter_entries(f"{base}/")}
    state = ObjectState(package_id, location, base, exists=bool(present))
    if not state.exists:
        return state, []
    problems: list[Problem] = []
    try:
        inventory, root_digest = inv.read(location, base)
        if inventory.id != package_id:
            raise StorageError(detail=f"{base}/{inv.INVENTORY} belongs to {inventory.id!r}, "
                               f"not {package_id!r}; the object is misplaced")
    except StorageError as exc:
        problems.append(_problem("AUD-E005", package_id, inv.INVENTORY, detail=exc.message))
        return state, problems
    state.inventory_ok = True
    pins = pins or {}
    state.states = dict(inventory.states)
    state.by_digest = {d.lower(): sorted(paths)[0] for d, paths in inventory.manifest.items()}
    head_pin = pins.get(inventory.head)
    if head_pin is not None and head_pin != root_digest:
        problems.append(_problem("AUD-E014", package_id, inv.INVENTORY, version="the root",
                                 found=root_digest, expected=head_pin))
    state.manifest = {path: digest.lower()
                      for path, digest in inventory.content_digests().items()}
    for digest, paths in inventory.fixity.get("sha256", {}).items():
        for content in paths:
            state.sha256[content] = digest.lower()
    versions = [inv.version_name(number) for number in inventory.states]
    for version in versions:
        if f"{version}/{inv.INVENTORY}" in present or f"{version}/{inv.SIDECAR}" in present:
            try:
                _own, own_digest = inv.read(location, f"{base}/{version}")
            except StorageError as exc:
                problems.append(_problem("AUD-E005", package_id, f"{version}/{inv.INVENTORY}",
                                         detail=exc.message))
                continue
            pin = pins.get(inv.version_number(version))
            if pin is not None and pin != own_digest:
                problems.append(_problem("AUD-E014", package_id, f"{version}/{inv.INVENTORY}",
                                         version=version, found=own_digest, expected=pin))
    for relative in sorted(present):
        if relative not in state.manifest and not is_structural(relative, versions):
            problems.append(_problem("AUD-E008", package_id, relative, entry=relative))
    state.missing = {c for c in state.manifest if c not in present}
    return state, problems


def cross_check(storage: StorageRoot, location: Location,
                package_ids: Iterable[str]) -> list[Problem]:
    """Packages without an object (E009) and objects without a package (E010, E012).

    Known objects are matched by their layout path, so their inventories are not read here;
    only directories nobody claims are opened to say whose they are.
    """
    expected = {object_path_for(pid): pid for pid in package_ids}
    problems: list[Problem] = []
    seen = set()
    for object_path in storage.iter_object_paths():
        relative = object_path.relative_to(storage.path).as_posix()
        if relative in expected:
            seen.add(relative)
            continue
        try:
            inventory, _digest = inv.read(location, relative)
        except StorageError as exc:
            problems.append(_problem("AUD-E012", None, relative, object_path=relative,
                                     detail=exc.message))
            continue
        problems.append(_problem("AUD-E010", None, relative, object_id=inventory.id,
                                 object_path=relative))
    for relative, pid in expected.items():
        if relative not in seen:
            problems.append(_problem("AUD-E009", pid, "", object_path=relative))
    # Everything else in the root (issue 11 item 4; storage/listing.py).
    for kind, relative in storage.unaccounted():
        code = "AUD-E017" if kind == UNDECLARED else "AUD-E016"
        problems.append(_problem(code, None, relative, entry=relative))
    return problems
