"""OCFL objects on any `Location`: the storage root's declaration, verified inventories, and
copying a version from one location to another (replication) or one file (repair).

OCFL 1.1 section 4.2 (root declaration), 3.5.6 (inventory sidecar), 3.3 (a version's new
content lives under `vN/`), 3.5.5 ("the root inventory is the commit point"): a version is
copied in the order an ingest commits it — the object's declaration (v1 only) and the content
first stored in that version, then `vN/inventory.json` and its sidecar, then the root
inventory and its sidecar last. A copy interrupted at any point leaves the target's root
inventory at the previous version, so readers of the target never see a version whose files
are missing, and running the copy again completes it.

Nothing counts as copied until it is verified twice: the bytes are hashed while they stream
from the source and compared with the inventory's sha512 before the target's write completes
(a mismatch aborts the write, so a damaged source never becomes a replica), then read back
from the target and hashed again (sha512: equal sha512, equal bytes).

Speed (docs/storage-locations.md, "Speed"): one pool of `workers` threads per copy carries
the content files (largest first), the declaration and each pair of inventory files, so
small files, bound by round trips, have that many requests in flight; an S3 location's
connection pool (`max_connections`) should be at least as large. Each file is read from the
source once, hashed as it goes, and the inventories are copied from the bytes verified
against their sidecar, never read twice.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from preserve.checksums import BLOCK_SIZE, MultiHasher
from preserve.errors import FixityError, StorageError
from preserve.storage import inventory as inv
from preserve.storage import layout
from preserve.storage import root as local_root
from preserve.storage.location import Location, LocationError, StoredFileMissing

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

log = logging.getLogger(__name__)

#: An inventory larger than this is not one we wrote (a million files is about 300 MB).
INVENTORY_LIMIT = 1 << 30


class ReplicaMismatch(FixityError):
    """Storage location {location!r}: {path} {detail}"""


@dataclass(frozen=True, slots=True)
class VerifiedFile:
    """One file verified at the target: its digests, and whether bytes were moved for it."""

    path: str
    size: int
    sha256: str
    sha512: str
    copied: bool


@dataclass(frozen=True, slots=True)
class CopyResult:
    object_id: str
    version: int
    files: tuple[VerifiedFile, ...]  # every content file of the version, in path order

    @property
    def bytes_copied(self) -> int:
        return sum(f.size for f in self.files if f.copied)

    @property
    def files_copied(self) -> int:
        return sum(1 for f in self.files if f.copied)


# --- the storage root ---------------------------------------------------------------------

def ensure_root(location: Location) -> None:
    """Write the OCFL root declaration files where absent (the NAMASTE file last, as
    `StorageRoot.create` does); check the ones present. LocationError if they belong to
    another kind of root."""
    files = local_root._root_files()  # one definition of what an empty root holds
    for relative, data in files.items():
        if location.size(relative) is None:
            location.write(relative, io.BytesIO(data), len(data))
            continue
        present = location.read_bytes(relative, 1 << 20)
        if present == data:
            continue
        if relative.endswith(".json") and _same_json(present, data):
            continue  # another tool's formatting of the same declaration
        raise LocationError(location=location.name, detail=f"{relative} holds other content "
                            "than preserve writes: this is not a preserve storage root "
                            "(0004 hashed n-tuple layout); choose an empty place")


def _same_json(present: bytes, wanted: bytes) -> bool:
    try:
        return bool(json.loads(present) == json.loads(wanted))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False


# --- inventories --------------------------------------------------------------------------

def read_inventory(location: Location, object_id: str,
                   version: int | None = None) -> tuple[inv.Inventory, str]:
    """The object's root inventory (or `vN/inventory.json` for `version`) verified against
    its sidecar: (Inventory, sha512 hex of its bytes). StoredFileMissing if absent;
    StorageError if it does not match its sidecar or is not an inventory."""
    inventory, digest, _data = _read_inventory(location, object_id, version)
    return inventory, digest


def _read_inventory(location: Location, object_id: str,
                    version: int | None) -> tuple[inv.Inventory, str, bytes]:
    """`read_inventory` and the bytes it verified (copied as they are: never read twice)."""
    base = layout.object_path_for(object_id)
    if version is not None:
        base = f"{base}/{inv.version_name(version)}"
    data = location.read_bytes(f"{base}/{inv.INVENTORY}", INVENTORY_LIMIT)
    declared = location.read_bytes(f"{base}/{inv.SIDECAR}", 4096)
    where = f"{location.name}:{base}/{inv.INVENTORY}"
    try:
        text = declared.decode("utf-8")
    except UnicodeDecodeError:
        raise StorageError(detail=f"{location.name}:{base}/{inv.SIDECAR} is not a sidecar") from None
    raw, digest = inv.verify_bytes(data, text, where, f"{location.name}:{base}/{inv.SIDECAR}")
    inventory = inv.Inventory.from_dict(raw, where)
    if inventory.id != object_id:
        raise StorageError(detail=f"{where} is the inventory of {inventory.id!r}, not "
                           f"{object_id!r}: the object is in the wrong place")
    return inventory, digest, data


def _target_head(target: Location, object_id: str) -> int:
    return _target_state(target, object_id)[0]


def _target_state(target: Location, object_id: str) -> tuple[int, bool]:
    """(the newest version the target holds completely (0: none), whether its root inventory
    verifies). A root inventory that does not (a copy killed between inventory and sidecar)
    falls back to the newest version inventory that does."""
    try:
        return read_inventory(target, object_id)[0].head, True
    except StoredFileMissing:
        pass
    except StorageError:
        log.warning("%s: the root inventory of %s does not verify; using its version "
                    "inventories", target.name, object_id)
    base = layout.object_path_for(object_id)
    numbers = []
    for entry in target.iter_entries(f"{base}/"):
        parts = entry.path[len(base) + 1:].split("/")
        if len(parts) == 2 and parts[1] == inv.INVENTORY and inv.is_version_name(parts[0]):
            numbers.append(inv.version_number(parts[0]))
    for number in sorted(numbers, reverse=True):
        try:
            read_inventory(target, object_id, number)
            return number, False
        except StorageError:
            continue
    return 0, False


# --- files --------------------------------------------------------------------------------

def hash_stored(location: Location, path: str) -> tuple[int, str, str]:
    """(size, sha256, sha512) of a stored file, in one streaming read."""
    size, digests = _hash(location, path, ("sha256", "sha512"))
    return size, digests["sha256"], digests["sha512"]


def verify_stored(location: Location, base: str, files: list[tuple[str, int, str]], *,
                  workers: int = 8) -> list[str]:
    """Hash each (path under `base`, size, sha512) stored at `location` again, `workers` at
    a time; the paths, once every one matches. ReplicaMismatch for one that does not."""
    def check(path: str, size: int, sha512: str) -> str:
        got_size, got = _sha512_stored(location, f"{base}/{path}")
        if got_size != size or got != sha512:
            raise ReplicaMismatch(location=location.name, path=path, detail=(
                "is at the target with other bytes than the catalog holds; "
                "run `preserve repair`"))
        return path

    with _pool(workers) as pool:
        return _run(pool, [(check, *file) for file in files])


def _sha512_stored(location: Location, path: str) -> tuple[int, str]:
    size, digests = _hash(location, path, ("sha512",))
    return size, digests["sha512"]


def _hash(location: Location, path: str, algorithms: tuple[str, ...]
          ) -> tuple[int, dict[str, str]]:
    hasher = MultiHasher(algorithms)
    buffer = bytearray(BLOCK_SIZE)
    view = memoryview(buffer)
    with location.open_read(path) as stream:
        while n := stream.readinto(buffer):
            hasher.update(view[:n])
    return hasher.size, hasher.hexdigests()


class _Verifying(io.RawIOBase):
    """The source stream, hashed as it passes; at its end the sha512 and size must be the
    expected ones, or the read raises ReplicaMismatch — inside the target's write, which
    then stores nothing (every Location's write is atomic)."""

    def __init__(self, stream: io.BufferedIOBase, source: Location, path: str, sha512: str,
                 size: int) -> None:
        self._stream, self._source, self._path = stream, source, path
        self._expected, self._size = sha512, size
        self.hasher = MultiHasher(("sha256", "sha512"))

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        n = self._stream.readinto(buffer)
        if n:
            self.hasher.update(memoryview(buffer)[:n])
            return n
        digests = self.hasher.hexdigests()
        if digests["sha512"] != self._expected or self.hasher.size != self._size:
            raise ReplicaMismatch(location=self._source.name, path=self._path, detail=(
                f"does not match its expected sha512 {self._expected} and size {self._size} "
                f"(read sha512 {digests['sha512']}, {self.hasher.size} bytes): this copy is "
                "damaged, so nothing was copied from it"))
        return 0


def restore_file(source: Location, target: Location, path: str, expected_sha512: str,
                 size: int) -> VerifiedFile:
    """Copy one file from `source` to `target` (for repair): the source is verified while it
    streams (a damaged source overwrites nothing), the target read back and verified."""
    with source.open_read(path) as stream:
        verifying = _Verifying(stream, source, path, expected_sha512.lower(), size)
        target.write(path, io.BufferedReader(verifying, BLOCK_SIZE), size)
    # The read-back needs only sha512 (equal sha512, equal bytes); the sha256 is the one of
    # the bytes that were sent. sha512 runs at about 400 MB/s here, sha256 at 900.
    got_size, sha512 = _sha512_stored(target, path)
    sha256 = verifying.hasher.hexdigests()["sha256"]
    if sha512 != expected_sha512.lower() or got_size != size:
        raise ReplicaMismatch(location=target.name, path=path, detail=(
            f"read back as {got_size} bytes with sha512 {sha512} right after it was written "
            f"(expected {size} bytes, {expected_sha512}): the target changed or lost it; "
            "check the location and copy again"))
    log.debug("copied %s from %s to %s", path, source.name, target.name)
    return VerifiedFile(path, size, sha256, sha512, copied=True)


def _copy_if_needed(source: Location, target: Location, path: str, sha512: str,
                    fixity: dict[str, str], size: int | None,
                    held: int | None) -> VerifiedFile:
    if size is None:
        raise StoredFileMissing(location=source.name, path=path,
                                detail="(listed in the inventory; the source copy needs repair)")
    if held == size:
        got_size, sha256, got = hash_stored(target, path)
        if got == sha512 and got_size == size:  # already there, verified: resumable
            return VerifiedFile(path, size, sha256, got, copied=False)
    if held is not None:
        # not a copy of ours that verified: replaced (repair quarantines damage before this)
        log.warning("%s: %s is there with other bytes than its inventory says; copying it "
                    "again from %s", target.name, path, source.name)
    done = restore_file(source, target, path, sha512, size)
    if "sha256" in fixity and fixity["sha256"].lower() != done.sha256:
        raise ReplicaMismatch(location=source.name, path=path, detail=(
            f"matches its sha512 but not the inventory's sha256 fixity {fixity['sha256']}"))
    return done


def _copy_small(source: Location, target: Location, path: str, data: bytes) -> None:
    """An inventory or sidecar whose bytes were verified already: write, then read back."""
    target.write(path, io.BytesIO(data), len(data))
    if target.read_bytes(path, len(data)) != data:
        raise ReplicaMismatch(location=target.name, path=path,
                              detail="did not read back as written; check the location")


def copy_version(source: Location, target: Location, object_id: str, version: int, *,
                 workers: int = 8) -> CopyResult:
    """Copy `version` of `object_id` from `source` to `target`, verified (module doc).

    The target must hold versions 1..version-1 already (`copy_object` copies them in
    order). Content files already at the target with the right size and sha512 are kept.
    A target holding a newer version keeps its root inventory."""
    with _pool(workers) as pool:
        return _copy_version(source, target, object_id, version,
                             _target_state(target, object_id)[0], pool)


def copy_object(source: Location, target: Location, object_id: str, *,
                workers: int = 8) -> list[CopyResult]:
    """Every version the source holds and the target does not, oldest first."""
    head = read_inventory(source, object_id)[0].head
    held, root_ok = _target_state(target, object_id)
    # a root inventory left without its sidecar: that version's commit runs again
    first = held + 1 if root_ok or held == 0 else held
    results = []
    with _pool(workers) as pool:
        for number in range(first, head + 1):
            # the target's state is known: each version copied brings it to that version
            results.append(_copy_version(source, target, object_id, number,
                                         max(held, number - 1), pool))
    return results


def _pool(workers: int) -> contextlib.AbstractContextManager[ThreadPoolExecutor | None]:
    """One pool per copy, shared by the content files and the inventories: small files are
    bound by round trips, not bandwidth, so many requests are in flight at once (an S3
    location's connection pool is sized to match: `max_connections`)."""
    if workers <= 1:
        return contextlib.nullcontext()
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="replica")


def _copy_version(source: Location, target: Location, object_id: str, version: int,
                  held: int, pool: ThreadPoolExecutor | None) -> CopyResult:
    version_inventory, _digest, data = _read_inventory(source, object_id, version)
    if version_inventory.head != version:
        raise StorageError(detail=f"{source.name}: {inv.version_name(version)}/inventory.json "
                           f"of {object_id} names head v{version_inventory.head}")
    if version_inventory.digest_algorithm != inv.DIGEST_ALGORITHM:
        raise StorageError(detail=f"{object_id} uses digestAlgorithm "
                           f"{version_inventory.digest_algorithm}; preserve copies sha512 objects")
    if held < version - 1:
        raise StorageError(detail=f"{target.name} holds {object_id} up to v{held}; copy "
                           f"v{held + 1} first (copy_object copies every missing version)")
    base = layout.object_path_for(object_id)
    declaration = []
    if version == 1:
        # alongside the content: like it, nothing until the root inventory commits
        declaration.append((_copy_declaration, source, target,
                            f"{base}/{inv.OBJECT_NAMASTE}"))
    added = version_inventory.content_paths_added_in(version)
    files = _copy_files(source, target, base, added, version_inventory, pool, declaration)
    # The bytes verified against the source's sidecar above, never a second read. An
    # inventory and its sidecar go together (a reader finds a pair that does not verify
    # until both are there, as with one after the other); the version's pair before the
    # root's, which stays last: the commit point.
    sidecar = inv.sidecar(data)
    for directory in (f"{base}/{inv.version_name(version)}", base):
        if directory == base and held > version:
            break  # the target is ahead: its root inventory stays
        _run(pool, [(_copy_small, source, target, f"{directory}/{inv.INVENTORY}", data),
                    (_copy_small, source, target, f"{directory}/{inv.SIDECAR}", sidecar)])
    result = CopyResult(object_id, version, tuple(sorted(files, key=lambda f: f.path)))
    log.info("%s v%d: %d files (%d bytes) copied from %s to %s, %d already there", object_id,
             version, result.files_copied, result.bytes_copied, source.name, target.name,
             len(files) - result.files_copied)
    return result


def _run(pool: ThreadPoolExecutor | None, calls: list[tuple[Any, ...]]) -> list[Any]:
    """`function(*args)` for each call, in the pool when there is one; the results in order.
    The first failure is raised once every call started has ended; calls not started yet
    are cancelled."""
    if pool is None or len(calls) <= 1:
        return [function(*args) for function, *args in calls]
    futures = [pool.submit(*call) for call in calls]
    _done, pending = wait(futures, return_when=FIRST_EXCEPTION)
    for future in pending:
        future.cancel()
    wait(futures)
    for future in futures:
        error = None if future.cancelled() else future.exception()
        if error is not None:
            raise error
    return [f.result() for f in futures]


def _copy_declaration(source: Location, target: Location, path: str) -> None:
    data = source.read_bytes(path, 4096)
    if data != inv.OBJECT_NAMASTE_CONTENT.encode("ascii"):
        raise StorageError(detail=f"{source.name}:{path} is not an OCFL 1.1 object declaration")
    if target.size(path) != len(data) or target.read_bytes(path, 4096) != data:
        _copy_small(source, target, path, data)


def _copy_files(source: Location, target: Location, base: str, added: dict[str, str],
                inventory: inv.Inventory, pool: ThreadPoolExecutor | None,
                first: list[tuple[Any, ...]]) -> list[VerifiedFile]:
    """Every content file `added` in the version, verified at the target, in the pool with
    the calls `first` (whose results are dropped)."""
    # One listing per side instead of a stat/HEAD per file: on S3 a request per file costs
    # as much as a small file's PUT.
    prefix = f"{base}/{inv.version_name(inventory.head)}/"
    at_source = {e.path: e.size for e in source.iter_entries(prefix)}
    at_target = {e.path: e.size for e in target.iter_entries(prefix)}
    fixity = inventory.fixity_by_path()
    jobs = []
    for content, digest in added.items():
        path = f"{base}/{content}"
        jobs.append((_copy_if_needed, source, target, path, digest.lower(),
                     fixity.get(content, {}), at_source.get(path), at_target.get(path)))
    # The largest first, so that no large file starts last and runs alone at the end.
    jobs.sort(key=lambda job: (-(job[6] or 0), job[3]))
    return _run(pool, first + jobs)[len(first):]
