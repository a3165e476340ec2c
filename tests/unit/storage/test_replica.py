"""OCFL objects copied between locations (preserve/storage/replica.py), on disks and on the
real Swift server: verified copies, the commit order, resuming after a kill, damaged sources
refused, repair of one file. ocfl-py validates every local copy."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from preserve.errors import ExitCode, StorageError
from preserve.storage import StorageRoot
from preserve.storage import inventory as inv
from preserve.storage.layout import object_path_for
from preserve.storage.local import LocalLocation
from preserve.storage import replica
from preserve.storage.location import Location, LocationError, StoredFileMissing
from preserve.storage.replica import (
    ReplicaMismatch,
    copy_object,
    copy_version,
    ensure_root,
    hash_stored,
    read_inventory,
    restore_file,
)

from .conftest import Stager
from .ocfl_oracle import validate_root
from .test_versions import OBJECT_ID, write_three_versions

BASE = object_path_for(OBJECT_ID)


@pytest.fixture
def source(tmp_path: Path) -> LocalLocation:
    root = StorageRoot.create(tmp_path / "ocfl")
    write_three_versions(root, Stager(tmp_path / "staging"))
    return LocalLocation("local", root.path)


@pytest.fixture(params=["local", "s3"])
def target(request, tmp_path: Path) -> Location:
    if request.param == "local":
        (tmp_path / "vault").mkdir()
        return LocalLocation("vault", tmp_path / "vault")
    return request.getfixturevalue("s3_location")("tashkent-s3", prefix="ocfl/")


def files_of(location: Location) -> dict[str, bytes]:
    out = {}
    for entry in location.iter_entries():
        with location.open_read(entry.path) as stream:
            out[entry.path] = stream.read()
    return out


def flip_byte(location: Location, path: str) -> None:
    with location.open_read(path) as stream:
        data = bytearray(stream.read())
    data[0] ^= 0x01
    location.write(path, io.BytesIO(bytes(data)), len(data))


def test_copy_object_gives_an_identical_valid_object(source, target):
    ensure_root(target)
    results = copy_object(source, target, OBJECT_ID, workers=4)
    assert [r.version for r in results] == [1, 2, 3]
    assert files_of(target) == files_of(source)
    inventory, digest = read_inventory(target, OBJECT_ID)
    assert inventory.head == 3 and digest == read_inventory(source, OBJECT_ID)[1]
    for result in results:
        added = inventory.content_paths_added_in(result.version)
        assert [f.path for f in result.files] == sorted(f"{BASE}/{p}" for p in added)
        for verified in result.files:
            data = files_of(source)[verified.path]
            assert verified.copied and verified.size == len(data)
            assert verified.sha512 == hashlib.sha512(data).hexdigest()
            assert verified.sha256 == hashlib.sha256(data).hexdigest()
    assert results[0].bytes_copied == sum(f.size for f in results[0].files)
    if isinstance(target, LocalLocation):
        report = validate_root(target.root)
        assert report.valid, report.messages
    # again: nothing left to copy; one version again: every file verified, none moved
    assert copy_object(source, target, OBJECT_ID) == []
    again = copy_version(source, target, OBJECT_ID, 2)
    assert again.files and not any(f.copied for f in again.files)
    assert read_inventory(target, OBJECT_ID)[0].head == 3  # the target stays at its head


class Dying(Location):
    """A real location that dies (as a killed process would) after `writes` writes."""

    def __init__(self, inner: Location, writes: int) -> None:
        self.inner, self.left = inner, writes
        self.name, self.kind = inner.name, inner.kind

    def write(self, path, source, size):
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        self.inner.write(path, source, size)

    def describe(self):
        return self.inner.describe()

    def probe(self):
        self.inner.probe()

    def open_read(self, path):
        return self.inner.open_read(path)

    def size(self, path):
        return self.inner.size(path)

    def iter_entries(self, prefix=""):
        return self.inner.iter_entries(prefix)

    def remove(self, path):
        self.inner.remove(path)


# v2 writes its one new content file, v2/inventory.json, its sidecar, the root inventory and
# its sidecar: killed before each of them
@pytest.mark.parametrize("writes", [0, 1, 2, 3, 4])
def test_a_killed_copy_never_shows_a_partial_version_and_resumes(source, target, writes):
    ensure_root(target)
    copy_version(source, target, OBJECT_ID, 1)
    v2_files = len(read_inventory(source, OBJECT_ID, 2)[0].content_paths_added_in(2))
    assert v2_files == 1
    with pytest.raises(KeyboardInterrupt):
        copy_version(source, Dying(target, writes), OBJECT_ID, 2, workers=1)
    if writes < 4:  # the commit point was not reached: readers still see v1, complete
        assert read_inventory(target, OBJECT_ID)[0].head == 1
    else:  # the root inventory is v2's, its sidecar still v1's: it does not verify
        with pytest.raises(StorageError, match="does not match its sidecar"):
            read_inventory(target, OBJECT_ID)
        # ... and the resume trusts v2/inventory.json, written after every v2 file verified
        assert replica._target_head(target, OBJECT_ID) == 2
    resumed = copy_version(source, target, OBJECT_ID, 2, workers=1)
    assert sum(not f.copied for f in resumed.files) == min(writes, v2_files)
    assert read_inventory(target, OBJECT_ID)[0].head == 2
    copy_version(source, target, OBJECT_ID, 3)
    assert files_of(target) == files_of(source)


def test_a_root_inventory_without_its_sidecar_is_completed(source, target):
    ensure_root(target)
    copy_object(source, target, OBJECT_ID)
    # killed between the root inventory and its sidecar, while copying v3 over v2
    v2 = source.read_bytes(f"{BASE}/v2/inventory.json", 1 << 20)
    target.write(f"{BASE}/inventory.json.sha512", io.BytesIO(inv.sidecar(v2)),
                 len(inv.sidecar(v2)))
    with pytest.raises(StorageError):
        read_inventory(target, OBJECT_ID)
    assert [r.version for r in copy_object(source, target, OBJECT_ID)] == [3]
    assert files_of(target) == files_of(source)


def test_a_damaged_source_file_is_never_copied(source, target):
    ensure_root(target)
    added = read_inventory(source, OBJECT_ID, 1)[0].content_paths_added_in(1)
    damaged = f"{BASE}/{sorted(added)[0]}"
    flip_byte(source, damaged)
    with pytest.raises(ReplicaMismatch) as raised:
        copy_version(source, target, OBJECT_ID, 1, workers=1)
    assert raised.value.exit_code == ExitCode.FIXITY_FAILURE
    assert "'local'" in str(raised.value) and damaged in str(raised.value)
    assert target.size(damaged) is None
    assert target.size(f"{BASE}/inventory.json") is None  # v1 never committed there


def test_damage_at_the_target_is_recopied(source, target):
    ensure_root(target)
    copy_object(source, target, OBJECT_ID)
    added = read_inventory(source, OBJECT_ID, 1)[0].content_paths_added_in(1)
    damaged = f"{BASE}/{sorted(added)[-1]}"
    flip_byte(target, damaged)
    result = copy_version(source, target, OBJECT_ID, 1)
    assert [f.path for f in result.files if f.copied] == [damaged]
    assert files_of(target) == files_of(source)


def test_restore_file_verifies_both_ends(source, target):
    ensure_root(target)
    copy_object(source, target, OBJECT_ID)
    inventory, _ = read_inventory(source, OBJECT_ID)
    content, digest = sorted(inventory.content_paths_added_in(1).items())[0]
    path = f"{BASE}/{content}"
    good = files_of(source)[path]
    target.remove(path)
    restored = restore_file(source, target, path, digest, len(good))
    assert restored.sha512 == digest and files_of(target)[path] == good
    # both copies damaged: the restore refuses, and the target's bytes stay as they were
    flip_byte(target, path)
    flip_byte(source, path)
    before = files_of(target)[path]
    with pytest.raises(ReplicaMismatch):
        restore_file(source, target, path, digest, len(good))
    assert files_of(target)[path] == before
    with pytest.raises(StoredFileMissing):
        restore_file(source, target, f"{BASE}/v1/content/none", digest, 1)


def test_read_inventory_checks_sidecar_and_id(source, target):
    ensure_root(target)
    with pytest.raises(StoredFileMissing):
        read_inventory(target, OBJECT_ID)
    copy_object(source, target, OBJECT_ID)
    inventory, digest = read_inventory(target, OBJECT_ID, 1)
    assert inventory.head == 1 and inventory.id == OBJECT_ID
    assert digest == hashlib.sha512(target.read_bytes(f"{BASE}/v1/inventory.json", 1 << 20)).hexdigest()
    flip_byte(target, f"{BASE}/inventory.json")
    with pytest.raises(StorageError, match="does not match its sidecar"):
        read_inventory(target, OBJECT_ID)
    with pytest.raises(StoredFileMissing):
        read_inventory(target, "another object")


def test_ensure_root_writes_and_checks_the_declaration(source, target):
    ensure_root(target)
    assert target.read_bytes("0=ocfl_1.1", 100) == b"ocfl_1.1\n"
    assert {e.path for e in target.iter_entries()} == {
        e.path for e in source.iter_entries() if not e.path.startswith(BASE.split("/")[0])}
    ensure_root(target)  # present and ours: unchanged
    target.write("ocfl_layout.json", io.BytesIO(b'{"extension": "other"}'), 22)
    with pytest.raises(LocationError, match="not a preserve storage root"):
        ensure_root(target)


def test_hash_stored(target):
    data = b"\x00\xffpreserve" * 100_000
    target.write("some/file", io.BytesIO(data), len(data))
    assert hash_stored(target, "some/file") == (
        len(data), hashlib.sha256(data).hexdigest(), hashlib.sha512(data).hexdigest())


def test_inventory_value(source):
    inventory, _ = read_inventory(source, OBJECT_ID)
    assert inventory.head == 3 and inventory.digest_algorithm == "sha512"
    assert set(inventory.state(1)) >= {"data/readme.txt", "data/copy of readme.txt"}
    assert inventory.state(1)["data/readme.txt"] == inventory.state(3)["data/readme.txt"]
    assert set(inventory.content_paths_added_in(3)) == {"v3/content/metadata/mets.xml"}
    assert all(p.startswith("v2/") for p in inventory.content_paths_added_in(2))
    assert inventory.fixity_of("v1/content/data/readme.txt").keys() >= {"md5"}
    with pytest.raises(StorageError):
        inv.Inventory.from_dict({"id": "x"})
