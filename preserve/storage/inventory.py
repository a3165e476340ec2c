"""OCFL 1.1 inventories: names, logical path rules, serialization, sidecar, reading back.

OCFL 1.1 section 3.5 (inventory), 3.5.1 (digests: `sha512` for content addressing, the
fixity block keyed by the registered algorithm names), 3.5.3.1 (logical paths), 3.5.6
(sidecar `inventory.json.sha512`: `<digest> inventory.json`). Inventories are plain dicts in
the exact JSON shape of the spec; `serialize` gives them deterministic bytes (digest keys and
path lists sorted, versions in numeric order) so the same state always yields the same file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preserve.errors import StorageError

if TYPE_CHECKING:
    from preserve.storage.location import Location

log = logging.getLogger(__name__)

SPEC_VERSION = "1.1"
INVENTORY_TYPE = "https://ocfl.io/1.1/spec/#inventory"
OBJECT_NAMASTE = "0=ocfl_object_1.1"
OBJECT_NAMASTE_CONTENT = "ocfl_object_1.1\n"
INVENTORY = "inventory.json"
DIGEST_ALGORITHM = "sha512"
SIDECAR = f"{INVENTORY}.{DIGEST_ALGORITHM}"
DEFAULT_CONTENT_DIRECTORY = "content"

#: hashlib names -> OCFL 1.1 fixity names (section 3.5.1 table; blake2b is blake2b-512).
#: Other algorithms (sha224, sha384, sha3_*) have no registered OCFL name, and an unregistered
#: fixity key makes the object invalid, so they stay in the catalog and METS only.
FIXITY_NAMES: dict[str, str] = {
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "blake2b": "blake2b-512",
}

_VERSION = re.compile(r"^v([1-9][0-9]*)$")


def version_name(number: int) -> str:
    """`v1`, `v2`, ...: no zero padding (OCFL 1.1 section 3.3 recommends it)."""
    return f"v{number}"


def is_version_name(name: str) -> bool:
    return bool(_VERSION.match(name))


def version_number(name: object) -> int:
    """The number of a version name `vN`; StorageError for anything else."""
    match = _VERSION.match(name) if isinstance(name, str) else None
    if not match:
        raise StorageError(detail=f"{name!r} is not an OCFL version name (v1, v2, ...)")
    return int(match.group(1))


def check_logical_path(logical_path: object) -> str:
    """Return `logical_path` if OCFL 1.1 section 3.5.3.1 allows it, else raise StorageError.

    Path elements joined by `/`; no leading or trailing `/`, no empty, `.` or `..` element.
    A NUL cannot be part of any file name on the filesystems we write to.
    """
    if not isinstance(logical_path, str) or logical_path == "":
        raise StorageError(detail="a logical path must be a non-empty string")
    problem = None
    if logical_path.startswith("/"):
        problem = "it is absolute (starts with '/')"
    elif "\x00" in logical_path:
        problem = "it contains a NUL character"
    else:
        for element in logical_path.split("/"):
            if element in ("", ".", ".."):
                problem = f"it has an {element!r} path element" if element else "it has an empty path element"
                break
    if problem:
        raise StorageError(
            detail=f"logical path {logical_path!r} is not allowed by OCFL 1.1 section 3.5.3.1: "
            f"{problem}; nothing was stored for it"
        )
    try:
        logical_path.encode("utf-8")
    except UnicodeEncodeError:
        raise StorageError(detail=f"logical path {logical_path!r} is not valid UTF-8 text") from None
    return logical_path


def _sorted_map(block: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: sorted(block[key]) for key in sorted(block)}


def canonical(inventory: dict[str, Any]) -> dict[str, Any]:
    """`inventory` with a fixed key order, digest keys and path lists sorted."""
    out: dict[str, Any] = {
        "id": inventory["id"],
        "type": inventory["type"],
        "digestAlgorithm": inventory["digestAlgorithm"],
        "head": inventory["head"],
    }
    if "contentDirectory" in inventory:
        out["contentDirectory"] = inventory["contentDirectory"]
    if inventory.get("fixity"):
        out["fixity"] = {alg: _sorted_map(inventory["fixity"][alg]) for alg in sorted(inventory["fixity"])}
    out["manifest"] = _sorted_map(inventory["manifest"])
    versions = {}
    for name in sorted(inventory["versions"], key=version_number):
        version = dict(inventory["versions"][name])
        version["state"] = _sorted_map(version["state"])
        versions[name] = {key: version[key] for key in ("created", "message", "user", "state") if key in version}
    out["versions"] = versions
    return out


def serialize(inventory: dict[str, Any]) -> bytes:
    """UTF-8 JSON, indented, non-ASCII kept as is (JSON escapes control characters)."""
    return b"".join(iter_serialized(inventory))


#: `iter_serialized` hands out the text in pieces of about this many characters.
_PIECE = 1 << 16


def iter_serialized(inventory: dict[str, Any]) -> Iterator[bytes]:
    """The bytes of `serialize(inventory)` in pieces, for a writer that streams them.

    The same text as `json.dumps(canonical(inventory), indent=2, ensure_ascii=False)` plus a
    newline, produced without the sorted copy `canonical` makes of every digest map and
    without the whole document in memory: the manifest, fixity and state blocks of an object
    of 200,000 files would otherwise be held three times over (copy, chunks, text) while an
    inventory is written (docs/performance.md, "Memory per file").
    """
    pending: list[str] = []
    size = 0
    for chunk in _encode(_ordered(inventory), 0):
        pending.append(chunk)
        size += len(chunk)
        if size >= _PIECE:
            yield "".join(pending).encode("utf-8")
            pending.clear()
            size = 0
    pending.append("\n")
    yield "".join(pending).encode("utf-8")


class _SortedMap:
    """A digest map (digest -> paths) to be written with its keys and path lists sorted, as
    `canonical` orders it, without being copied."""

    __slots__ = ("block",)

    def __init__(self, block: Mapping[str, Any]) -> None:
        self.block = block


def _ordered(inventory: dict[str, Any]) -> dict[str, Any]:
    """`canonical(inventory)`, with each digest map wrapped rather than copied sorted."""
    out: dict[str, Any] = {key: inventory[key] for key in ("id", "type", "digestAlgorithm",
                                                            "head")}
    if "contentDirectory" in inventory:
        out["contentDirectory"] = inventory["contentDirectory"]
    if inventory.get("fixity"):
        out["fixity"] = {alg: _SortedMap(inventory["fixity"][alg])
                         for alg in sorted(inventory["fixity"])}
    out["manifest"] = _SortedMap(inventory["manifest"])
    versions = {}
    for name in sorted(inventory["versions"], key=version_number):
        version = inventory["versions"][name]
        versions[name] = {key: (_SortedMap(version[key]) if key == "state" else version[key])
                          for key in ("created", "message", "user", "state") if key in version}
    out["versions"] = versions
    return out


def _encode(value: Any, level: int) -> Iterator[str]:
    """JSON text of `value` as `json.dumps(..., indent=2, ensure_ascii=False)` writes it."""
    if isinstance(value, _SortedMap):
        block = value.block
        items: Iterable[tuple[str, Any]] = ((key, sorted(block[key])) for key in sorted(block))
        empty = not block
    elif isinstance(value, dict):
        items, empty = value.items(), not value
    elif isinstance(value, (list, tuple)):
        if not value:
            yield "[]"
            return
        inner = "\n" + "  " * (level + 1)
        yield "[" + inner
        for n, item in enumerate(value):
            if n:
                yield "," + inner
            yield from _encode(item, level + 1)
        yield "\n" + "  " * level + "]"
        return
    else:
        yield json.dumps(value, ensure_ascii=False)
        return
    if empty:
        yield "{}"
        return
    inner = "\n" + "  " * (level + 1)
    yield "{" + inner
    for n, (key, item) in enumerate(items):
        yield ("," + inner if n else "") + json.dumps(key, ensure_ascii=False) + ": "
        yield from _encode(item, level + 1)
    yield "\n" + "  " * level + "}"


def sidecar(data: bytes) -> bytes:
    """The sidecar for inventory bytes `data` (OCFL 1.1 section 3.5.6)."""
    return sidecar_for(hashlib.sha512(data).hexdigest())


def sidecar_for(digest: str) -> bytes:
    """The sidecar naming an inventory whose sha512 is `digest` (OCFL 1.1 section 3.5.6)."""
    return f"{digest} {INVENTORY}\n".encode("ascii")


def load(directory: Path) -> tuple[dict[str, Any], str]:
    """Read `inventory.json` in `directory`, verified against its sidecar.

    Returns (inventory, sha512 hex of its bytes). StorageError if either file is missing,
    the digests differ, or the JSON is not an inventory.
    """
    inventory_file = directory / INVENTORY
    sidecar_file = directory / SIDECAR
    try:
        data = inventory_file.read_bytes()
    except FileNotFoundError:
        raise StorageError(detail=f"{inventory_file} is missing: this is not a complete OCFL object; "
                           "check the copy against another location") from None
    except OSError as exc:
        raise StorageError(detail=f"cannot read {inventory_file}: {exc}") from None
    try:
        declared_text = sidecar_file.read_text("utf-8")
    except FileNotFoundError:
        raise StorageError(detail=f"{sidecar_file} is missing, so {inventory_file} cannot be "
                           "verified; check the copy against another location") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StorageError(detail=f"cannot read {sidecar_file}: {exc}") from None
    inventory, actual = verify_bytes(data, declared_text, inventory_file, sidecar_file)
    return inventory, actual


#: An inventory larger than this is refused rather than read into memory (one of 20,000
#: files with three versions is about 10 MB).
INVENTORY_LIMIT = 1 << 30
#: A sidecar is one line: a sha512 in hex, a space, "inventory.json".
SIDECAR_LIMIT = 4096


def read(location: Location, directory: str) -> tuple[Inventory, str]:
    """The inventory in `directory` (an object root or one of its version directories,
    relative to the storage root) of any location, verified against its sidecar (section
    3.5.6): (Inventory, sha512 hex of its bytes).

    `StoredFileMissing` if either file is absent, StorageError if they do not agree or the
    JSON is not an inventory. Every workflow reads inventories through this, whatever the
    backend.
    """
    inventory, _data, _sidecar, digest = read_verified(location, directory)
    return inventory, digest


def read_verified(location: Location, directory: str) -> tuple[Inventory, bytes, bytes, str]:
    """As `read`, also returning the inventory's and the sidecar's bytes as read and verified:
    (Inventory, inventory bytes, sidecar bytes, sha512 hex), for a caller that copies them
    elsewhere (inventory repair) without reading them a second time."""
    where = f"{location.name}:{directory}/{INVENTORY}"
    data = location.read_bytes(f"{directory}/{INVENTORY}", INVENTORY_LIMIT)
    declared = location.read_bytes(f"{directory}/{SIDECAR}", SIDECAR_LIMIT)
    try:
        text = declared.decode("utf-8")
    except UnicodeDecodeError:
        raise StorageError(detail=f"{location.name}:{directory}/{SIDECAR} is not an OCFL "
                           "sidecar; the object needs repair from a good copy") from None
    raw, digest = verify_bytes(data, text, where, f"{location.name}:{directory}/{SIDECAR}")
    return Inventory.from_dict(raw, where), data, declared, digest


def verify_bytes(data: bytes, declared_text: str, inventory_file: Path | str,
                 sidecar_file: Path | str) -> tuple[dict[str, Any], str]:
    """Inventory bytes checked against their sidecar's text (OCFL 1.1 section 3.5.6) and
    parsed; any location's reader calls this. Returns (inventory, sha512 hex of `data`)."""
    fields = declared_text.split()
    actual = hashlib.sha512(data).hexdigest()
    if len(fields) != 2 or fields[1] != INVENTORY:
        raise StorageError(detail=f"{sidecar_file} is not an OCFL sidecar "
                           "('<sha512> inventory.json'); the object needs repair from a good copy")
    if fields[0].lower() != actual:
        raise StorageError(detail=f"{inventory_file} does not match its sidecar {sidecar_file} "
                           f"(sha512 {actual}, sidecar says {fields[0]}): the inventory or the "
                           "sidecar is damaged or a commit was interrupted; do not write to this "
                           "object until it is repaired from a good copy or its head version's "
                           "inventory")
    try:
        inventory = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StorageError(detail=f"{inventory_file} is not UTF-8 JSON ({exc})") from None
    check_shape(inventory, inventory_file)
    return inventory, actual


def check_shape(inventory: object, where: Path | str) -> None:
    """The few structural facts this adapter relies on (not a full validation)."""

    def bad(why: str) -> StorageError:
        return StorageError(detail=f"{where} is not a usable OCFL inventory: {why}")

    if not isinstance(inventory, dict):
        raise bad("not a JSON object")
    for key, kind in (("id", str), ("head", str), ("manifest", dict), ("versions", dict),
                      ("digestAlgorithm", str)):
        if not isinstance(inventory.get(key), kind):
            raise bad(f"'{key}' is missing or not a {kind.__name__}")
    head = version_number(inventory["head"])
    if version_name(head) not in inventory["versions"]:
        raise bad(f"head {inventory['head']} has no entry in 'versions'")
    for name, version in inventory["versions"].items():
        version_number(name)
        if not isinstance(version, dict) or not isinstance(version.get("state"), dict):
            raise bad(f"version {name} has no 'state' object")


def head_number(inventory: dict[str, Any]) -> int:
    return version_number(inventory["head"])


@dataclass(frozen=True, slots=True)
class Inventory:
    """An OCFL 1.1 inventory (section 3.5) as a value: what new code reads instead of indexing
    the JSON dict. Versions are numbers (`head` 3 is `v3`); `manifest` maps a digest to its
    content paths, `states[n]` a digest to the logical paths of version n."""

    id: str
    head: int
    digest_algorithm: str
    content_directory: str
    manifest: Mapping[str, tuple[str, ...]]
    fixity: Mapping[str, Mapping[str, tuple[str, ...]]]
    states: Mapping[int, Mapping[str, tuple[str, ...]]]
    data: Mapping[str, Any] = field(repr=False, compare=False)  # the JSON as read
    type: str = INVENTORY_TYPE
    #: each version's `created` (RFC 3339 text, as written) and `message` (section 3.5.3)
    created: Mapping[int, str] = field(default_factory=dict)
    messages: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, inventory: dict[str, Any], where: Path | str = "inventory") -> Inventory:
        check_shape(inventory, where)
        if not isinstance(inventory.get("fixity", {}), dict):
            raise StorageError(detail=f"{where} is not a usable OCFL inventory: 'fixity' is "
                               "not an object")

        def paths(block: dict[str, Any]) -> dict[str, tuple[str, ...]]:
            return {key: tuple(value) for key, value in block.items()}

        return cls(
            id=inventory["id"], head=version_number(inventory["head"]),
            digest_algorithm=inventory["digestAlgorithm"],
            content_directory=inventory.get("contentDirectory", DEFAULT_CONTENT_DIRECTORY),
            manifest=paths(inventory["manifest"]),
            fixity={alg: paths(block) for alg, block in inventory.get("fixity", {}).items()},
            states={version_number(name): paths(version["state"])
                    for name, version in inventory["versions"].items()},
            data=inventory, type=str(inventory.get("type", "")),
            created={version_number(name): str(version.get("created", ""))
                     for name, version in inventory["versions"].items()},
            messages={version_number(name): str(version.get("message") or "")
                      for name, version in inventory["versions"].items()})

    def state(self, version: int) -> dict[str, str]:
        """{logical path: digest} of `version` (section 3.5.3.1)."""
        return {path: digest for digest, paths in self.states[version].items()
                for path in paths}

    def content_digests(self) -> dict[str, str]:
        """{content path: digest} over the whole manifest."""
        return {path: digest for digest, paths in self.manifest.items() for path in paths}

    def content_paths_added_in(self, version: int) -> dict[str, str]:
        """{content path: digest} of the content first stored in `version`: its files live
        under `vN/` (section 3.3), and later versions only point at them."""
        start = f"{version_name(version)}/"
        return {path: digest for path, digest in self.content_digests().items()
                if path.startswith(start)}

    def fixity_by_path(self) -> dict[str, dict[str, str]]:
        """{content path: {algorithm: digest}} over the whole fixity block."""
        out: dict[str, dict[str, str]] = {}
        for alg, block in self.fixity.items():
            for digest, paths in block.items():
                for path in paths:
                    out.setdefault(path, {})[alg] = digest
        return out

    def fixity_of(self, content_path: str) -> dict[str, str]:
        """{algorithm: digest} the fixity block records for one content path."""
        return {alg: digest for alg, block in self.fixity.items()
                for digest, paths in block.items() if content_path in paths}
