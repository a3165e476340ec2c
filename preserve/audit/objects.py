"""What an audit checks about whole OCFL objects, besides re-reading content (OCFL 1.1
sections 3.1, 3.5, 4): inventories and their sidecars, files nobody listed, content the
manifest lists but storage lacks, and whether storage and catalog hold the same packages.

Nothing here writes to storage.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from preserve.audit.report import Problem
from preserve.errors import StorageError
from preserve.findings import finding
from preserve.storage import StorageRoot, object_path_for
from preserve.storage import inventory as inv
from preserve.storage.listing import is_structural, object_entries

log = logging.getLogger(__name__)

#: Object-root entries that are not content: the declaration, inventory and sidecar, and the
#: directories OCFL 1.1 reserves (section 3.1: `extensions/`, `logs/`).


@dataclass(slots=True)
class ObjectState:
    """What one object's inventory says, read once per run."""

    package_id: str
    path: Path
    exists: bool
    manifest: dict[str, str] = field(default_factory=dict)  # content path -> sha512
    sha256: dict[str, str] = field(default_factory=dict)  # content path -> fixity sha256
    inventory_ok: bool = False
    missing: set[str] = field(default_factory=set)  # manifest content paths not on disk


def _problem(code: str, package_id: str | None, path: str = "", content_path: str = "",
             **fields: object) -> Problem:
    message = finding(code, path, package_id=package_id, content_path=content_path,
                      **fields).message
    return Problem(code, message, package_id, path, content_path)


def inspect_object(storage: StorageRoot, package_id: str) -> tuple[ObjectState, list[Problem]]:
    """Read the object's inventories and list its directory: E005 (inventory), E008 (unexpected).

    Missing content files are only collected in `ObjectState.missing`: the caller reports them
    once, with the logical path when a catalog copy names the same content.
    """
    path = storage.object_path(package_id)
    state = ObjectState(package_id, path, exists=path.is_dir())
    if not state.exists:
        return state, []
    problems: list[Problem] = []
    try:
        inventory = storage.read_inventory(package_id)
    except StorageError as exc:
        problems.append(_problem("AUD-E005", package_id, inv.INVENTORY, detail=exc.message))
        return state, problems
    state.inventory_ok = True
    for digest, paths in inventory["manifest"].items():
        for content in paths:
            state.manifest[content] = digest.lower()
    for digest, paths in inventory.get("fixity", {}).get("sha256", {}).items():
        for content in paths:
            state.sha256[content] = digest.lower()
    for version in inventory["versions"]:
        if (path / version / inv.INVENTORY).exists() or (path / version / inv.SIDECAR).exists():
            try:
                inv.load(path / version)
            except StorageError as exc:
                problems.append(_problem("AUD-E005", package_id, f"{version}/{inv.INVENTORY}",
                                         detail=exc.message))
    present = set()
    for relative in object_entries(path):
        present.add(relative)
        if relative not in state.manifest and not is_structural(relative, inventory["versions"]):
            problems.append(_problem("AUD-E008", package_id, relative, entry=relative))
    state.missing = {c for c in state.manifest if c not in present}
    return state, problems






def cross_check(storage: StorageRoot, package_ids: Iterable[str]) -> list[Problem]:
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
            inventory, _digest = inv.load(object_path)
        except StorageError as exc:
            problems.append(_problem("AUD-E012", None, relative, object_path=relative,
                                     detail=exc.message))
            continue
        problems.append(_problem("AUD-E010", None, relative, object_id=inventory["id"],
                                 object_path=relative))
    for relative, pid in expected.items():
        if relative not in seen:
            problems.append(_problem("AUD-E009", pid, "", object_path=relative))
    return problems
