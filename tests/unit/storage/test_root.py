"""Creating and opening OCFL 1.1 storage roots (OCFL 1.1 section 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preserve.errors import ExitCode, StorageError
from preserve.storage import StorageRoot

from .conftest import Stager, commit, put, tree
from .ocfl_oracle import validate_root


def test_create_writes_declaration_layout_and_config(tmp_path: Path) -> None:
    root = StorageRoot.create(tmp_path / "a" / "ocfl")
    assert (root.path / "0=ocfl_1.1").read_text() == "ocfl_1.1\n"
    declared = json.loads((root.path / "ocfl_layout.json").read_text())
    assert declared["extension"] == "0004-hashed-n-tuple-storage-layout"
    assert declared["description"]
    config = json.loads(
        (root.path / "extensions/0004-hashed-n-tuple-storage-layout/config.json").read_text())
    assert config == {"extensionName": "0004-hashed-n-tuple-storage-layout",
                      "digestAlgorithm": "sha256", "tupleSize": 3, "numberOfTuples": 3,
                      "shortObjectRoot": False}
    report = validate_root(root.path)
    assert report.valid and report.warnings == set(), report.messages


def test_constructor_does_not_touch_disk(tmp_path: Path) -> None:
    StorageRoot(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_create_is_idempotent(tmp_path: Path, staging: Stager) -> None:
    root = StorageRoot.create(tmp_path / "ocfl")
    b = root.begin_version("urn:x:1", staging())
    put(b, "a", b"a")
    commit(b)
    before = tree(root.path)
    again = StorageRoot.create(tmp_path / "ocfl")
    assert again.path == root.path
    assert tree(root.path) == before


def test_create_in_empty_existing_dir_and_completes_interrupted(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    StorageRoot.create(tmp_path / "empty")
    half = tmp_path / "half"
    half.mkdir()
    (half / "ocfl_layout.json").write_bytes((tmp_path / "empty/ocfl_layout.json").read_bytes())
    StorageRoot.create(half)
    assert tree(half) == tree(tmp_path / "empty")


def test_create_refuses_non_empty_dir(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(StorageError) as info:
        StorageRoot.create(tmp_path / "full")
    assert info.value.exit_code == ExitCode.STORAGE
    assert "not empty" in info.value.message
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["notes.txt"]


def test_open_rejects_non_roots(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        StorageRoot.open(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(StorageError) as info:
        StorageRoot.open(tmp_path / "plain")
    assert "not an OCFL 1.1 storage root" in info.value.message
    old = tmp_path / "old"
    old.mkdir()
    (old / "0=ocfl_1.0").write_text("ocfl_1.0\n")
    with pytest.raises(StorageError):
        StorageRoot.open(old)


def test_open_rejects_other_layouts(tmp_path: Path) -> None:
    root = StorageRoot.create(tmp_path / "r").path
    (root / "ocfl_layout.json").write_text(
        json.dumps({"extension": "0002-flat-direct-storage-layout", "description": "flat"}))
    with pytest.raises(StorageError):
        StorageRoot.open(root)
    root = StorageRoot.create(tmp_path / "s").path
    config = root / "extensions/0004-hashed-n-tuple-storage-layout/config.json"
    config.write_text(json.dumps({"extensionName": "0004-hashed-n-tuple-storage-layout",
                                  "tupleSize": 2, "numberOfTuples": 15}))
    with pytest.raises(StorageError):
        StorageRoot.open(root)
    (root / "0=ocfl_1.1").write_text("ocfl_1.0\n")
    with pytest.raises(StorageError):
        StorageRoot.open(root)


def test_oracle_sees_damage(root: StorageRoot, staging: Stager) -> None:
    """The validator is not vacuous: a flipped byte in content makes the root invalid."""
    b = root.begin_version("urn:x:2", staging())
    put(b, "data/file.txt", b"original")
    obj = commit(b)
    (obj / "v1/content/data/file.txt").write_bytes(b"0riginal")
    report = validate_root(root.path)
    assert not report.valid
    assert report.errors
