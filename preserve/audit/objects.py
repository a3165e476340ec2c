"""What an audit checks about whole OCFL objects, besides re-reading content (OCFL 1.1
sections 3.1, 3.5, 4): inventories and their sidecars, files nobody listed, content the
manifest lists but storage lacks, and whether storage and catalog hold the same packages.

Everything is read through the storage `Location` interface (the local root is a
`LocalLocation`), inventories as `Inventory` values. Nothing here writes to storage.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
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
#: A version's own bag manifests (RFC 8493 sections 2.1.3, 2.2.1), and whether each lists
#: payload files.
BAG_MANIFESTS = (("manifest-sha512.txt", True), ("tagmanifest-sha512.txt", False))


@dataclass(slots=True)
class ObjectState:
    """What one object's inventory says, read once per run.

    Kept for as long as the run may meet the object's copies, so only what judging a copy
    needs is kept, and each digest once: the maps share the inventory's own digest strings
    (one package of 200,000 files held about 2.5 KiB per file when the version states, a
    digest index and lowercased copies of every digest were kept as well)."""

    package_id: str
    location: Location
    base: str  # the object's root, relative to the storage root
    exists: bool
    manifest: dict[str, str] = field(default_factory=dict)  # content path -> sha512
    sha256: dict[str, str] = field(default_factory=dict)  # content path -> fixity sha256
    inventory_ok: bool = False
    missing: set[str] = field(default_factory=set)  # manifest content paths not stored
    #: version -> content paths of its manifest-sha512.txt and tagmanifest-sha512.txt
    bag_files: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    bags: dict[int, dict[str, str]] = field(default_factory=dict)  # version -> path -> sha512

    def bag_sha512(self, version: int, path: str) -> str | None:
        """What the version's own bag manifest (payload) or tag manifest (tag files) says
        `path` holds; None if it does not list it or cannot be read (its own copy's check
        reports why). Read once per version and kept."""
        if version not in self.bags:
            self.bags[version] = self._read_bag(version)
        return self.bags[version].get(path)

    def _read_bag(self, version: int) -> dict[str, str]:
        entries: dict[str, str] = {}
        files = self.bag_files.get(version, (None, None))
        for content, (name, payload) in zip(files, BAG_MANIFESTS, strict=True):
            if content is None:
                continue
            try:
                text = self.location.read_bytes(f"{self.base}/{content}",
                                                MAX_MANIFEST_BYTES).decode("utf-8")
            except (OSError, UnicodeDecodeError, PreserveError):
                continue
            found, _findings = parse_manifest(text, name, "sha512", payload)
            entries.update(found)
        # The manifest's digests are the inventory's in an intact object: keep one string
        # for both, not a second copy of every digest for the whole run.
        same = {d: d for d in self.manifest.values()}
        return {path: same.get(digest, digest) for path, digest in entries.items()}


def _lower(digest: str) -> str:
    """`digest` in lowercase, the same string when it already is (no copy kept)."""
    return digest if digest.islower() else digest.lower()


def _bag_files(inventory: inv.Inventory) -> dict[int, tuple[str | None, str | None]]:
    """Each version's stored manifest-sha512.txt and tagmanifest-sha512.txt: the content
    path (first in sort order) of the digest its state gives those logical paths."""
    lowered: dict[str, tuple[str, ...]] | None = None
    out: dict[int, tuple[str | None, str | None]] = {}
    for number, state in inventory.states.items():
        found: list[str | None] = []
        for name, _payload in BAG_MANIFESTS:
            digest = next((d for d, paths in state.items() if name in paths), None)
            paths = inventory.manifest.get(digest) if digest is not None else None
            if digest is not None and paths is None:  # digests differ only in case
                if lowered is None:
                    lowered = {d.lower(): p for d, p in inventory.manifest.items()}
                paths = lowered.get(digest.lower())
            found.append(sorted(paths)[0] if paths else None)
        out[number] = (found[0], found[1])
    return out


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
    head_pin = pins.get(inventory.head)
    if head_pin is not None and head_pin != root_digest:
        problems.append(_problem("AUD-E014", package_id, inv.INVENTORY, version="the root",
                                 found=root_digest, expected=head_pin))
    state.manifest = {path: _lower(digest)
                      for digest, paths in inventory.manifest.items() for path in paths}
    for digest, paths in inventory.fixity.get("sha256", {}).items():
        for content in paths:
            state.sha256[content] = _lower(digest)
    state.bag_files = _bag_files(inventory)
    versions = [inv.version_name(number) for number in inventory.states]
    del inventory  # the parsed inventory is the largest thing an audit holds: not twice
    for version in versions:
        if f"{version}/{inv.INVENTORY}" in present or f"{version}/{inv.SIDECAR}" in present:
            own_digest = _same_as_root(location, f"{base}/{version}", root_digest)
            if own_digest is None:
                try:
                    _own, own_digest = inv.read(location, f"{base}/{version}")
                except StorageError as exc:
                    problems.append(_problem("AUD-E005", package_id,
                                             f"{version}/{inv.INVENTORY}", detail=exc.message))
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


def _same_as_root(location: Location, directory: str, root_digest: str) -> str | None:
    """`root_digest` if the inventory in `directory` holds the root inventory's very bytes
    and its sidecar says so (the head version's copy, OCFL 1.1 section 3.5.6), else None.

    Such a copy parses to what was just verified, so it is not parsed again: for one object
    of 200,000 files that second parse was the audit's largest use of memory. Anything
    else, or anything unreadable, goes through `inventory.read` for its verdict."""
    try:
        data = location.read_bytes(f"{directory}/{inv.INVENTORY}", inv.INVENTORY_LIMIT)
        sidecar = location.read_bytes(f"{directory}/{inv.SIDECAR}", inv.SIDECAR_LIMIT)
    except (OSError, PreserveError):
        return None
    fields = sidecar.decode("utf-8", "replace").split()
    if len(fields) != 2 or fields[1] != inv.INVENTORY or fields[0].lower() != root_digest:
        return None
    return root_digest if hashlib.sha512(data).hexdigest() == root_digest else None


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
