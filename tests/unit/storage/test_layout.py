"""The 0004 hashed n-tuple layout against the extension's worked examples and at random."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preserve.errors import StorageError
from preserve.storage import layout
from preserve.storage.layout import object_path_for

# OCFL Community Extension 0004, "Example 1" (default parameters, which are ours).
SPEC_EXAMPLES = {
    "object-01": "3c0/ff4/240/3c0ff4240c1e116dba14c7627f2319b58aa3d77606d0d90dfc6161608ac987d4",
    "..hor/rib:le-$id": "487/326/d8c/487326d8c2a3c0b885e23da1469b4d6671fd4e76978924b4443e9e3c316cda6d",
}


@pytest.mark.parametrize("object_id", sorted(SPEC_EXAMPLES))
def test_spec_examples(object_id: str) -> None:
    assert object_path_for(object_id) == SPEC_EXAMPLES[object_id]


ids = st.one_of(
    st.text(min_size=1),
    st.text(alphabet="абвгдеёжзийкўқғҳ ʻʼ/%:.\n", min_size=1),  # Cyrillic, Uzbek, separators
    st.text(alphabet="ابتثجحخدذرزسشصضطظعغفقكلمنهوي ۰۱/%", min_size=1),  # Arabic script
)


@given(ids.filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)))
def test_any_id_maps_to_hex_tuples(object_id: str) -> None:
    path = object_path_for(object_id)
    digest = hashlib.sha256(object_id.encode("utf-8")).hexdigest()
    parts = path.split("/")
    assert parts == [digest[0:3], digest[3:6], digest[6:9], digest]
    assert layout.is_object_path(path)
    assert set(path) <= set("0123456789abcdef/")


@given(st.text(min_size=1), st.text(min_size=1))
def test_distinct_ids_distinct_paths(a: str, b: str) -> None:
    try:
        pa, pb = object_path_for(a), object_path_for(b)
    except StorageError:  # lone surrogates have no UTF-8 form
        return
    assert (pa == pb) == (a == b)


def test_empty_and_unencodable_ids_are_rejected() -> None:
    with pytest.raises(StorageError):
        object_path_for("")
    with pytest.raises(StorageError):
        object_path_for("a\udc80b")


def test_is_object_path_rejects_other_shapes() -> None:
    good = SPEC_EXAMPLES["object-01"]
    assert layout.is_object_path(good)
    assert not layout.is_object_path("3c0/ff4/241/" + good.split("/")[-1])
    assert not layout.is_object_path(good.split("/")[-1])
