"""Every path of a storage root is accounted for (issue 11 item 4), and the event log head
file only moves forward (issue 11 item 3)."""

from __future__ import annotations

import pytest

from preserve.errors import StorageError
from preserve.model import ChainHead
from preserve.storage import StorageRoot, object_path_for
from preserve.storage.chainhead import HEAD_PATH, ChainHeadFile
from preserve.storage.listing import STRAY, UNDECLARED


def test_unaccounted_paths(tmp_path):
    root = StorageRoot.create(tmp_path / "ocfl")
    assert root.unaccounted() == []
    obj = root.path / object_path_for("pkg-1")
    obj.mkdir(parents=True)
    (obj / "0=ocfl_object_1.1").write_text("ocfl_object_1.1\n")
    (obj / "anything-inside-an-object.txt").write_text("audit's business, not the root's")
    (root.path / HEAD_PATH).write_text("{}")
    (root.path / "ocfl_1.1.txt").write_text("the specification")
    assert root.unaccounted() == []
    tuples = obj.parent
    (tuples / "stray.txt").write_text("x")
    (tuples.parent / "XYZ").mkdir()
    (tuples / ("a" * 64)).mkdir()
    (root.path / "extensions" / "loose.json").write_text("{}")
    (root.path / "README").write_text("x")
    rel = tuples.relative_to(root.path).as_posix()
    assert set(root.unaccounted()) == {
        (STRAY, "README"),
        (STRAY, f"{tuples.parent.relative_to(root.path).as_posix()}/XYZ"),
        (STRAY, f"{rel}/stray.txt"),
        (UNDECLARED, f"{rel}/{'a' * 64}"),
        (STRAY, "extensions/loose.json"),
    }
    assert len(root.unaccounted()) == 5


def test_head_file_only_moves_forward(tmp_path):
    root = StorageRoot.create(tmp_path / "ocfl")
    anchor = ChainHeadFile(root.path)
    assert anchor.read() is None
    assert anchor.advance(ChainHead(5, "a" * 64))
    assert not anchor.advance(ChainHead(4, "b" * 64))
    assert not anchor.advance(ChainHead(5, "c" * 64))
    assert anchor.read() == ChainHead(5, "a" * 64)
    (root.path / HEAD_PATH).write_text("not json")
    with pytest.raises(StorageError):
        anchor.read()


def test_head_file_never_creates_a_root(tmp_path):
    with pytest.raises(OSError):
        ChainHeadFile(tmp_path / "nowhere").advance(ChainHead(1, "a" * 64))
    assert not (tmp_path / "nowhere").exists()
