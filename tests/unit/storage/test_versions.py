"""Writing OCFL objects version by version, checked by ocfl-py as the independent validator."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from preserve.errors import StorageError
from preserve.storage import StorageRoot
from preserve.storage.inventory import SIDECAR

from .conftest import CREATED, Stager, commit, digests_of, put, tree
from .ocfl_oracle import validate_root

OBJECT_ID = "urn:uuid:5f0c3c8e-9c1e-4a55-8c1a-0a7c2d1f1a01"
README = b"Hello, archive.\n"
KITOB = "data/Ўзбекистон/китоб.txt"
ARABIC = "data/مخطوطة جغتاي.txt"
UZBEK = "data/Oʻzbek tili/100% file.txt"
NEWLINE = "data/line\nbreak.txt"


def write_three_versions(root: StorageRoot, staging: Stager) -> None:
    # v1: multilingual names, and one file twice within the version
    b = root.begin_version(OBJECT_ID, staging())
    assert b.version == 1
    assert put(b, "data/readme.txt", README, "md5") is True
    assert put(b, "data/copy of readme.txt", README, "md5") is False  # deduplicated in v1
    assert put(b, KITOB, "китоб".encode(), "sha1") is True
    assert put(b, ARABIC, "مخطوطة".encode()) is True
    assert put(b, UZBEK, "Oʻzbek".encode()) is True
    assert put(b, NEWLINE, b"two\nlines\n") is True
    assert b.content_path("data/copy of readme.txt") == "v1/content/data/readme.txt"
    commit(b, "first deposit")
    # v2: unchanged (not rewritten), changed, removed (ARABIC), renamed copy across versions
    b = root.begin_version(OBJECT_ID, staging())
    assert b.version == 2
    assert b.known_digest(digests_of(README)["sha512"])
    assert put(b, "data/readme.txt", README, write=False) is False
    assert put(b, KITOB, "китоб, 2-нашр".encode()) is True
    assert put(b, UZBEK, "Oʻzbek".encode()) is False
    assert put(b, "data/moved/مخطوطة.txt", "مخطوطة".encode()) is False  # written, then dropped
    assert put(b, NEWLINE, b"two\nlines\n", write=False) is False
    assert b.content_path("data/moved/مخطوطة.txt") == "v1/content/" + ARABIC
    commit(b, "second deposit")
    # v3: only metadata changes
    b = root.begin_version(OBJECT_ID, staging())
    assert put(b, "data/readme.txt", README, write=False) is False
    assert put(b, "metadata/mets.xml", b"<mets/>\n") is True
    commit(b, "metadata only")


def test_root_with_versions_is_valid_ocfl(root: StorageRoot, staging: Stager) -> None:
    write_three_versions(root, staging)
    b = root.begin_version("second object", staging())
    put(b, "data/a.txt", b"a")
    commit(b)

    report = validate_root(root.path)
    assert report.valid, report.messages
    assert report.errors == set()
    # W005 "id SHOULD be a URI" is expected for the second object only.
    assert report.warnings == {"W005"}, report.messages
    assert sorted(report.object_codes) == sorted(
        root.object_path(i).relative_to(root.path).as_posix() for i in (OBJECT_ID, "second object")
    )
    assert sorted(root.iter_objects()) == sorted([OBJECT_ID, "second object"])


def test_inventory_content(root: StorageRoot, staging: Stager) -> None:
    write_three_versions(root, staging)
    inventory = root.read_inventory(OBJECT_ID)
    assert root.head_version(OBJECT_ID) == 3
    assert inventory["head"] == "v3"
    assert inventory["type"] == "https://ocfl.io/1.1/spec/#inventory"
    assert inventory["digestAlgorithm"] == "sha512"
    assert inventory["contentDirectory"] == "content"
    assert list(inventory["versions"]) == ["v1", "v2", "v3"]
    v1 = inventory["versions"]["v1"]
    assert v1["created"] == CREATED.isoformat()
    assert v1["user"] == {"name": "Preserve test", "address": "mailto:archivist@example.org"}
    readme = digests_of(README, "md5")
    assert v1["state"][readme["sha512"]] == ["data/copy of readme.txt", "data/readme.txt"]
    assert inventory["manifest"][readme["sha512"]] == ["v1/content/data/readme.txt"]
    assert inventory["fixity"]["sha256"][readme["sha256"]] == ["v1/content/data/readme.txt"]
    assert inventory["fixity"]["md5"][readme["md5"]] == ["v1/content/data/readme.txt"]
    assert list(inventory["fixity"]["sha1"].values()) == [["v1/content/" + KITOB]]
    v2_paths = sorted(p for paths in inventory["versions"]["v2"]["state"].values() for p in paths)
    assert ARABIC not in v2_paths and "data/moved/مخطوطة.txt" in v2_paths
    # Only new content is stored: 5 files in v1, 1 in v2, 1 in v3.
    obj = root.object_path(OBJECT_ID)
    stored = sorted(p for paths in inventory["manifest"].values() for p in paths)
    assert len(stored) == 7
    on_disk = sorted(p.relative_to(obj).as_posix() for p in obj.rglob("*")
                     if p.is_file() and "/content/" in p.relative_to(obj).as_posix())
    assert on_disk == stored
    assert (obj / "v1/content" / NEWLINE).read_bytes() == b"two\nlines\n"
    # The head version's inventory is byte-identical to the root inventory.
    assert (obj / "v3/inventory.json").read_bytes() == (obj / "inventory.json").read_bytes()
    sidecar = (obj / SIDECAR).read_text()
    assert sidecar == hashlib.sha512((obj / "inventory.json").read_bytes()).hexdigest() + " inventory.json\n"
    # Non-ASCII is written as UTF-8, not \u escapes; control characters are escaped by JSON.
    text = (obj / "inventory.json").read_text("utf-8")
    assert "китоб" in text and "Oʻzbek" in text and "line\\nbreak" in text


def test_corrupted_sidecar(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a.txt", b"a")
    obj = commit(b)
    (obj / SIDECAR).write_text("0" * 128 + " inventory.json\n")
    with pytest.raises(StorageError) as info:
        root.read_inventory(OBJECT_ID)
    assert "does not match its sidecar" in info.value.message
    (obj / SIDECAR).unlink()
    with pytest.raises(StorageError):
        root.read_inventory(OBJECT_ID)
    with pytest.raises(StorageError):  # no new version on top of an unverifiable inventory
        root.begin_version(OBJECT_ID, staging())


def test_unparseable_inventory(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a.txt", b"a")
    obj = commit(b)
    data = b"{not json"
    (obj / "inventory.json").write_bytes(data)
    (obj / SIDECAR).write_text(hashlib.sha512(data).hexdigest() + " inventory.json\n")
    with pytest.raises(StorageError):
        root.read_inventory(OBJECT_ID)


def test_new_object_appearing_meanwhile(root: StorageRoot, staging: Stager) -> None:
    mine = root.begin_version(OBJECT_ID, staging())
    put(mine, "mine.txt", b"mine")
    other = root.begin_version(OBJECT_ID, staging())
    put(other, "other.txt", b"other")
    obj = commit(other)
    before = tree(obj)
    staged = tree(staging.base / "s1")
    with pytest.raises(StorageError):
        commit(mine)
    assert tree(obj) == before
    assert root.read_inventory(OBJECT_ID)["head"] == "v1"
    # The staged files are untouched apart from the inventories written for the commit.
    after = tree(staging.base / "s1")
    assert {k: v for k, v in after.items() if k in staged} == staged
    assert validate_root(root.path).valid


def test_new_version_appearing_meanwhile(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a.txt", b"a")
    obj = commit(b)
    mine = root.begin_version(OBJECT_ID, staging())
    put(mine, "a.txt", b"mine")
    other = root.begin_version(OBJECT_ID, staging())
    put(other, "a.txt", b"other")
    commit(other)
    before = tree(obj)
    with pytest.raises(StorageError):
        commit(mine)
    assert tree(obj) == before
    assert root.head_version(OBJECT_ID) == 2
    assert validate_root(root.path).valid


def test_abort_leaves_root_untouched(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a.txt", b"a")
    commit(b)
    before = tree(root.path)
    for object_id in (OBJECT_ID, "new one"):
        stage = staging()
        b = root.begin_version(object_id, stage)
        put(b, "b.txt", b"b")
        b.abort()
        assert list(stage.iterdir()) == []
        with pytest.raises(StorageError):
            b.commit(created=CREATED, message="", user_name="x")
    assert tree(root.path) == before
    assert not root.has_object("new one")
    assert root.head_version("new one") is None


@pytest.mark.parametrize("bad", ["", "/etc/passwd", "../up", "a/../../b", "a//b", "./a",
                                 "a/.", "a/", "nul\x00byte"])
def test_bad_logical_paths(root: StorageRoot, staging: Stager, bad: str) -> None:
    stage = staging()
    b = root.begin_version(OBJECT_ID, stage)
    with pytest.raises(StorageError):
        b.content_target(bad)
    with pytest.raises(StorageError):
        b.add(bad, digests_of(b"x"), written=False)
    b.abort()
    assert list(root.path.parent.rglob("passwd")) == []


def test_conflicting_and_duplicate_logical_paths(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a/b", b"1")
    with pytest.raises(StorageError):  # OCFL E095: "a" cannot be a file and a directory
        b.content_target("a")
    with pytest.raises(StorageError):
        b.content_target("a/b/c")
    with pytest.raises(StorageError):
        b.content_target("a/b")  # declared twice
    b.abort()


def test_declared_digests_are_checked(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    b.content_target("a").write_bytes(b"a")
    with pytest.raises(StorageError):
        b.add("a", {"sha512": digests_of(b"a")["sha512"]})  # no sha256
    with pytest.raises(StorageError):
        b.add("a", {"sha256": "zz", "sha512": digests_of(b"a")["sha512"]})
    with pytest.raises(StorageError):  # not held by the object
        b.add("b", digests_of(b"b"), written=False)
    with pytest.raises(StorageError):  # said to be written, but nothing is there
        b.add("c", digests_of(b"c"))
    b.abort()


def test_undeclared_staged_file_blocks_commit(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a", b"a")
    b.content_target("stray").write_bytes(b"never added")
    with pytest.raises(StorageError):
        commit(b)
    assert not root.has_object(OBJECT_ID)


def test_empty_version_and_unknown_fixity_algorithm(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a", b"a", "sha3_256", "blake2b")
    commit(b)
    b = root.begin_version(OBJECT_ID, staging())
    commit(b, "everything withdrawn")
    inventory = root.read_inventory(OBJECT_ID)
    assert set(inventory["fixity"]) == {"sha256", "blake2b-512"}
    assert inventory["versions"]["v2"]["state"] == {}
    assert not (root.object_path(OBJECT_ID) / "v2" / "content").exists()
    report = validate_root(root.path)
    assert report.valid and report.warnings == set(), report.messages


def test_staging_must_be_empty(root: StorageRoot, tmp_path: Path) -> None:
    stage = tmp_path / "busy"
    stage.mkdir()
    (stage / "x").write_text("x")
    with pytest.raises(StorageError):
        root.begin_version(OBJECT_ID, stage)
    with pytest.raises(StorageError):
        root.begin_version(OBJECT_ID, tmp_path / "missing")


def test_inventory_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for name in ("one", "two"):
        root = StorageRoot.create(tmp_path / name)
        stage = tmp_path / f"stage-{name}"
        stage.mkdir()
        b = root.begin_version(OBJECT_ID, stage)
        files = [("z.txt", b"z"), (KITOB, b"k"), ("a.txt", b"a")]
        for path, data in files if name == "one" else reversed(files):
            put(b, path, data)
        outputs.append(commit(b).joinpath("inventory.json").read_bytes())
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["id"] == OBJECT_ID


def _rewrite_inventory(obj: Path, change) -> None:
    inventory = json.loads((obj / "inventory.json").read_text("utf-8"))
    change(inventory)
    data = json.dumps(inventory).encode("utf-8")
    (obj / "inventory.json").write_bytes(data)
    (obj / SIDECAR).write_text(hashlib.sha512(data).hexdigest() + " inventory.json\n")


def test_foreign_objects_are_not_extended(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a", b"a")
    obj = commit(b)
    _rewrite_inventory(obj, lambda inv: inv.update(type="https://ocfl.io/1.0/spec/#inventory"))
    with pytest.raises(StorageError):
        root.begin_version(OBJECT_ID, staging())
    _rewrite_inventory(obj, lambda inv: inv.update(type="https://ocfl.io/1.1/spec/#inventory",
                                                    digestAlgorithm="sha256"))
    with pytest.raises(StorageError):
        root.begin_version(OBJECT_ID, staging())


def test_uppercase_digests_of_other_writers_still_deduplicate(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a", b"a")
    obj = commit(b)
    digest = digests_of(b"a")["sha512"]

    def upper(inventory: dict) -> None:
        inventory["manifest"] = {digest.upper(): inventory["manifest"][digest]}
        inventory["versions"]["v1"]["state"] = {digest.upper(): ["a"]}

    _rewrite_inventory(obj, upper)
    b = root.begin_version(OBJECT_ID, staging())
    assert b.known_digest(digest)
    assert put(b, "b", b"a") is False
    assert b.content_path("b") == "v1/content/a"


def test_version_metadata_is_checked(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a", b"a")
    with pytest.raises(StorageError):
        b.commit(created=dt.datetime(2026, 1, 1), message="naive time", user_name="x")
    with pytest.raises(StorageError):
        b.commit(created=CREATED, message="no user", user_name="")
    commit(b)  # the builder is still usable after refused commits
    assert root.head_version(OBJECT_ID) == 1


def test_disagreeing_fixity_for_held_content_is_refused(root: StorageRoot, staging: Stager) -> None:
    b = root.begin_version(OBJECT_ID, staging())
    put(b, "a", b"a", "md5")
    commit(b)
    b = root.begin_version(OBJECT_ID, staging())
    wrong = {**digests_of(b"a"), "md5": "0" * 32}
    with pytest.raises(StorageError):
        b.add("a", wrong, written=False)
    assert put(b, "a", b"a", "md5", write=False) is False  # the right md5 is accepted
    commit(b)
    assert validate_root(root.path).valid
