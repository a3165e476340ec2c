"""Logical paths of any script survive the round trip into an OCFL version (OCFL 1.1 3.5.3.1)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preserve.errors import StorageError
from preserve.storage import StorageRoot
from preserve.storage.inventory import check_logical_path

from .conftest import commit, put

LETTERS = "abcXYZ09 %._-~\n\tʻʼ" + "ЎўҚқҒғҲҳкитобжзлм" + "مخطوطةجغتايپچژگ" + "\u200f\u0301e"
element = st.text(alphabet=LETTERS, min_size=1, max_size=12).filter(lambda e: e not in (".", ".."))
logical_path = st.lists(element, min_size=1, max_size=3).map("/".join)


def _no_conflicts(paths: list[str]) -> bool:
    """No path may also be a directory of another (OCFL 1.1 E095)."""
    as_set = set(paths)
    return not any("/".join(p.split("/")[:i]) in as_set
                   for p in paths for i in range(1, p.count("/") + 1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(logical_path, min_size=1, max_size=6, unique=True).filter(_no_conflicts))
def test_round_trip(tmp_path: Path, paths: list[str]) -> None:
    base = tmp_path / uuid.uuid4().hex
    root = StorageRoot.create(base / "ocfl")
    stage = base / "staging"
    stage.mkdir()
    b = root.begin_version("urn:x:paths", stage)
    for i, path in enumerate(paths):
        put(b, path, f"{i}".encode())
    obj = commit(b)
    state = root.read_inventory("urn:x:paths")["versions"]["v1"]["state"]
    assert sorted(p for group in state.values() for p in group) == sorted(paths)
    for i, path in enumerate(paths):
        stored = obj / "v1" / "content" / path
        assert stored.read_bytes() == f"{i}".encode()
        assert stored.resolve().is_relative_to(obj.resolve())


@given(logical_path)
def test_valid_paths_pass(path: str) -> None:
    assert check_logical_path(path) == path


@given(st.lists(element, min_size=1, max_size=3), st.sampled_from(["", ".", ".."]),
       st.integers(min_value=0, max_value=3))
def test_bad_elements_anywhere_fail(elements: list[str], bad: str, where: int) -> None:
    elements.insert(min(where, len(elements)), bad)
    with pytest.raises(StorageError):
        check_logical_path("/".join(elements))
