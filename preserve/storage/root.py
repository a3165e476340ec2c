"""An OCFL 1.1 storage root on a local filesystem (OCFL 1.1 section 4).

The root holds the NAMASTE declaration `0=ocfl_1.1` (section 4.2), `ocfl_layout.json`
(section 4.1.1) naming the 0004 hashed n-tuple layout, and that extension's parameters in
`extensions/0004-hashed-n-tuple-storage-layout/config.json` (section 4.3). Objects live at
the paths `layout.object_path_for` gives. `StorageRoot` only reads objects; new versions are
written through a `VersionBuilder` (version.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from preserve.errors import FixityError, StorageError
from preserve.safeio import read_regular
from preserve.storage import inventory as inv
from preserve.storage import layout
from preserve.storage.fsync import fsync_dir, write_atomic
from preserve.storage.listing import unaccounted_paths
from preserve.storage.version import VersionBuilder

log = logging.getLogger(__name__)

ROOT_NAMASTE = "0=ocfl_1.1"
ROOT_NAMASTE_CONTENT = "ocfl_1.1\n"
LAYOUT_FILE = "ocfl_layout.json"
EXTENSIONS = "extensions"


def _root_files() -> dict[str, bytes]:
    """Every file of an empty root, relative path -> bytes; the NAMASTE file is written last."""
    return {
        LAYOUT_FILE: layout.to_json_bytes(layout.layout_declaration()),
        layout.CONFIG_PATH: layout.to_json_bytes(layout.config()),
        ROOT_NAMASTE: ROOT_NAMASTE_CONTENT.encode("ascii"),
    }


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StorageError(detail=f"cannot read {path}: {exc}") from None


class StorageRoot:
    """A local OCFL 1.1 storage root with the 0004 hashed n-tuple layout."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"StorageRoot({str(self.path)!r})"

    # --- creating and opening --------------------------------------------------------------

    @classmethod
    def create(cls, path: Path) -> StorageRoot:
        """Make `path` an empty storage root; a root we made before is returned unchanged.

        `path` may exist if it is empty. A root whose creation was interrupted (some of our
        files, nothing else) is completed.
        """
        path = Path(path)
        if (path / ROOT_NAMASTE).exists():
            return cls.open(path)
        expected = _root_files()
        if path.exists():
            if not path.is_dir():
                raise StorageError(detail=f"{path} exists and is not a directory; choose another "
                                   "place for the storage root")
            ours = {LAYOUT_FILE, EXTENSIONS}
            foreign = sorted(name for name in os.listdir(path) if name not in ours)
            if foreign:
                raise StorageError(detail=f"{path} is not empty (it holds {foreign[0]!r}) and is "
                                   "not an OCFL storage root; choose an empty or new directory")
            for relative, data in expected.items():
                existing = path / relative
                if existing.exists() and existing.read_bytes() != data:
                    raise StorageError(detail=f"{existing} exists with other content than this "
                                       "preserve writes; choose an empty or new directory")
        created = [p for p in reversed([path, *path.parents]) if not p.exists()]
        path.mkdir(parents=True, exist_ok=True)
        (path / layout.CONFIG_PATH).parent.mkdir(parents=True, exist_ok=True)
        for directory in created:
            fsync_dir(directory.parent)
        fsync_dir(path / EXTENSIONS)
        for relative, data in expected.items():  # NAMASTE last: it declares the root complete
            write_atomic(path / relative, data)
        log.info("created OCFL 1.1 storage root at %s", path)
        return cls.open(path)

    @classmethod
    def open(cls, path: Path) -> StorageRoot:
        """The storage root at `path`, after checking its declaration and layout."""
        path = Path(path)
        if not path.is_dir():
            raise StorageError(detail=f"no storage root at {path}: the directory does not exist; "
                               "create it with `preserve init` or fix the location's path")
        declarations = sorted(name for name in os.listdir(path) if name.startswith("0="))
        if declarations != [ROOT_NAMASTE]:
            found = ", ".join(declarations) or "no 0= declaration file"
            raise StorageError(detail=f"{path} is not an OCFL 1.1 storage root (found {found}); "
                               "point the location at a storage root made by `preserve init`")
        try:
            content = (path / ROOT_NAMASTE).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise StorageError(detail=f"cannot read {path / ROOT_NAMASTE}: {exc}") from None
        if content != ROOT_NAMASTE_CONTENT:
            raise StorageError(detail=f"{path / ROOT_NAMASTE} must contain {ROOT_NAMASTE_CONTENT!r} "
                               "(OCFL 1.1 section 4.2); the storage root is damaged")
        declared = _read_json(path / LAYOUT_FILE)
        if not isinstance(declared, dict) or declared.get("extension") != layout.EXTENSION_NAME:
            raise StorageError(detail=f"{path} does not declare the {layout.EXTENSION_NAME} layout "
                               f"in {LAYOUT_FILE}; preserve writes only to roots with that layout")
        config = _read_json(path / layout.CONFIG_PATH)
        # Absent parameters mean the extension's defaults, which are ours.
        if config is not None:
            wanted = layout.config()
            if not isinstance(config, dict) or any(config.get(k, v) != v for k, v in wanted.items()):
                raise StorageError(detail=f"{path / layout.CONFIG_PATH} sets other layout "
                                   f"parameters than preserve uses ({wanted}); this root cannot "
                                   "be written by preserve")
        return cls(path)

    # --- objects ---------------------------------------------------------------------------

    def object_path(self, object_id: str) -> Path:
        return self.path / layout.object_path_for(object_id)

    def has_object(self, object_id: str) -> bool:
        return (self.object_path(object_id) / inv.OBJECT_NAMASTE).exists()

    def read_inventory(self, object_id: str) -> dict[str, Any]:
        """The object's root inventory, verified against its sidecar."""
        object_path = self.object_path(object_id)
        if not object_path.is_dir():
            raise StorageError(detail=f"no object {object_id!r} in {self.path}")
        inventory, _digest = inv.load(object_path)
        if inventory["id"] != object_id:
            raise StorageError(detail=f"{object_path / inv.INVENTORY} belongs to {inventory['id']!r}, "
                               f"not {object_id!r}; the object is misplaced")
        return inventory

    def read_logical(self, object_id: str, inventory: dict[str, Any], version: int, logical_path: str,
                     max_bytes: int) -> bytes | None:
        """The bytes of `logical_path` in version `version`, checked against the inventory.

        OCFL 1.1 sections 3.5.3 and 3.5.3.1: the version's `state` names the content's
        digest, the `manifest` where that content lies. None if the version has no such
        logical path. StorageError if it cannot be read (or is larger than `max_bytes`);
        FixityError if its bytes no longer match the inventory digest: a damaged file is
        never handed out as if it were the record.
        """
        state = inventory["versions"][f"v{version}"]["state"]
        digest = next((d for d, paths in state.items() if logical_path in paths), None)
        if digest is None:
            return None
        path = self.object_path(object_id) / inventory["manifest"][digest][0]
        try:
            data = read_regular(path, max_bytes)
        except OSError as exc:
            raise StorageError(detail=f"cannot read {path}: {exc}; audit package "
                               f"{object_id}") from exc
        algorithm = inventory.get("digestAlgorithm", "sha512")
        if hashlib.new(algorithm, data).hexdigest() != digest:
            raise FixityError(detail=f"{path} does not match its {algorithm} in the inventory; "
                              f"run `preserve audit` and restore package {object_id} from a "
                              "good copy")
        return data

    def head_version(self, object_id: str) -> int | None:
        if not self.object_path(object_id).exists():
            return None
        return inv.head_number(self.read_inventory(object_id))

    def begin_version(self, object_id: str, staging_dir: Path) -> VersionBuilder:
        """Start the next version of `object_id` (v1 for a new object) in `staging_dir`."""
        staging_dir = Path(staging_dir)
        if not staging_dir.is_dir() or any(staging_dir.iterdir()):
            raise StorageError(detail=f"staging directory {staging_dir} must exist and be empty")
        if os.stat(staging_dir).st_dev != os.stat(self.path).st_dev:
            raise StorageError(detail=f"staging directory {staging_dir} is on another filesystem "
                               f"than the storage root {self.path}; versions are moved in by "
                               "rename, so put staging next to the root")
        object_path = self.object_path(object_id)
        previous = digest = None
        if os.path.lexists(object_path):
            previous, digest = inv.load(object_path)
            if previous["id"] != object_id:
                raise StorageError(detail=f"{object_path} holds object {previous['id']!r}, not "
                                   f"{object_id!r}; the object is misplaced")
            if previous.get("type") != inv.INVENTORY_TYPE:
                raise StorageError(detail=f"object {object_id!r} is not an OCFL {inv.SPEC_VERSION} "
                                   f"object (inventory type {previous.get('type')!r}); preserve "
                                   "adds versions only to OCFL 1.1 objects")
            if previous["digestAlgorithm"] != inv.DIGEST_ALGORITHM:
                raise StorageError(detail=f"object {object_id!r} uses {previous['digestAlgorithm']} "
                                   "as its digest algorithm; preserve only adds versions to "
                                   "sha512 objects")
        return VersionBuilder(object_id=object_id, object_path=object_path,
                              staging_dir=staging_dir, previous=previous, previous_digest=digest)

    def complete_interrupted_commit(self, object_id: str,
                                    expected_sha512: str | None = None) -> str | None:
        """Finish a new version's commit that a crash cut short; say what was done, or None.

        Adding a version takes two renames (version.py): `vN` into the object, then the root
        inventory and its sidecar over the old ones. A crash between them leaves either `vN`
        not yet named by the root inventory, or the new root inventory with the old sidecar.
        `vN` was complete and flushed before it was moved in and carries its own inventory
        and sidecar, the very bytes the root inventory must become (OCFL 1.1 section 3.5: the
        head version's inventory equals the root one). So the commit is rolled forward, never
        back (nothing stored is removed), and only if `vN`'s inventory verifies against its
        sidecar, names this object with head `vN`, keeps every earlier version unchanged and,
        when `expected_sha512` is given, is exactly the inventory the writer prepared.

        The caller must make sure the writer is gone (an ingest holds the commit lock while it
        moves a version in, see staging.py). An object in any other state is left alone.
        """
        object_path = self.object_path(object_id)
        if not (object_path / inv.OBJECT_NAMASTE).exists():
            return None
        root_data = _read_bytes(object_path / inv.INVENTORY)
        current: dict[str, Any] | None
        try:
            current, current_digest = inv.load(object_path)
        except StorageError:
            current = current_digest = None
        if current is None:
            # The new root inventory is in place, its sidecar is the old one.
            if root_data is None:
                return None
            digest = hashlib.sha512(root_data).hexdigest()
            try:
                head = inv.head_number(json.loads(root_data.decode("utf-8")))
            except (ValueError, UnicodeDecodeError, StorageError, KeyError, TypeError):
                return None
            version_dir = object_path / inv.version_name(head)
            if not self._is_committable(version_dir, object_id, root_data, expected_sha512):
                return None
            write_atomic(object_path / inv.SIDECAR, inv.sidecar(root_data))
            log.warning("completed the interrupted commit of %s of %r: sidecar rewritten",
                        inv.version_name(head), object_id)
            return f"rewrote the root inventory sidecar for {inv.version_name(head)} ({digest[:16]}…)"
        # The root inventory is consistent; is a version directory beyond its head waiting?
        head = inv.head_number(current)
        version_dir = object_path / inv.version_name(head + 1)
        if not version_dir.is_dir():
            return None
        data = _read_bytes(version_dir / inv.INVENTORY)
        if data is None or not self._is_committable(version_dir, object_id, data, expected_sha512):
            return None
        new = json.loads(data.decode("utf-8"))
        earlier = {k: v for k, v in new["versions"].items() if k != new["head"]}
        if inv.canonical({**current, "versions": earlier})["versions"] != \
                inv.canonical(current)["versions"]:
            log.warning("%s of %r does not continue the object's versions; left alone",
                        version_dir.name, object_id)
            return None
        write_atomic(object_path / inv.INVENTORY, data)
        write_atomic(object_path / inv.SIDECAR, inv.sidecar(data))
        log.warning("completed the interrupted commit of %s of %r (was %s)",
                    version_dir.name, object_id, current_digest)
        return f"named the moved-in {version_dir.name} in the root inventory"

    @staticmethod
    def _is_committable(version_dir: Path, object_id: str, data: bytes,
                        expected_sha512: str | None) -> bool:
        """`version_dir` holds a verified inventory equal to `data`, naming itself as head."""
        try:
            own, own_digest = inv.load(version_dir)
        except StorageError:
            return False
        if hashlib.sha512(data).hexdigest() != own_digest:
            return False
        if expected_sha512 is not None and own_digest != expected_sha512.lower():
            return False
        return own.get("id") == object_id and own.get("head") == version_dir.name

    def iter_object_paths(self) -> Iterator[Path]:
        """Every object root (a directory holding an `0=ocfl_object_...` file), sorted."""
        for dirpath, dirnames, filenames in os.walk(self.path):
            dirnames.sort()
            if Path(dirpath) == self.path:
                if EXTENSIONS in dirnames:
                    dirnames.remove(EXTENSIONS)
                continue
            if any(name.startswith("0=ocfl_object_") for name in filenames):
                dirnames.clear()  # nothing inside an object is another object
                yield Path(dirpath)

    def unaccounted(self) -> list[tuple[str, str]]:
        """Paths that are no object, layout directory or root file (listing.py, issue 11)."""
        return unaccounted_paths(
            self.path, layout.TUPLE_SIZE, layout.NUMBER_OF_TUPLES,
            lambda name: len(name) == 64 and all(c in "0123456789abcdef" for c in name))

    def iter_objects(self) -> Iterator[str]:
        """The id of every object in the root, read from its inventory (sidecar checked)."""
        for object_path in self.iter_object_paths():
            inventory, _digest = inv.load(object_path)
            yield inventory["id"]
