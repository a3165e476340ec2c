"""The streamed inventory text is exactly the one-piece JSON text (OCFL 1.1 section 3.5)."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import pytest

from preserve.storage import inventory as inv

NAMES = ["a", "b/c", 'q"uo\\te', "ctl\x01\n\t", "Ўзбекистон/қўлёзма.tif", "دیوان.pdf",
         "qoʻlyozma 😀", "</x>", "\u2028"]


def _one_piece(inventory: dict[str, Any]) -> bytes:
    return (json.dumps(inv.canonical(inventory), indent=2, ensure_ascii=False)
            + "\n").encode("utf-8")


def _inventory(seed: int) -> dict[str, Any]:
    r = random.Random(seed)

    def block(n: int) -> dict[str, list[str]]:
        return {f"{r.getrandbits(64):016x}": [f"{r.choice(NAMES)}{k}"
                                               for k in range(r.randint(1, 3))]
                for _ in range(n)}

    inventory: dict[str, Any] = {
        "id": r.choice(NAMES), "type": inv.INVENTORY_TYPE, "digestAlgorithm": "sha512",
        "head": "v10", "manifest": block(r.randint(0, 6)),
        "versions": {
            "v10": {"created": "2026-01-01T00:00:00+00:00", "message": r.choice(NAMES),
                    "user": {"name": "u", "address": "mailto:u@example.org"},
                    "state": block(r.randint(0, 4))},
            "v2": {"created": "2025-01-01T00:00:00+00:00", "message": "",
                   "user": {"name": "u"}, "state": {}},
        },
    }
    if r.random() < 0.7:
        inventory["contentDirectory"] = "content"
    if r.random() < 0.7:
        inventory["fixity"] = {"sha256": block(r.randint(0, 3)), "md5": block(2)}
    return inventory


@pytest.mark.parametrize("seed", range(50))
def test_streamed_text_equals_one_piece_json(seed: int) -> None:
    inventory = _inventory(seed)
    assert b"".join(inv.iter_serialized(inventory)) == _one_piece(inventory)
    assert inv.serialize(inventory) == _one_piece(inventory)


def test_large_inventory_comes_in_pieces() -> None:
    manifest = {f"{n:0128x}": [f"v1/content/data/{n}.tif"] for n in range(2000)}
    inventory = {"id": "x", "type": inv.INVENTORY_TYPE, "digestAlgorithm": "sha512",
                 "head": "v1", "manifest": manifest,
                 "versions": {"v1": {"created": "c", "message": "m", "user": {"name": "u"},
                                     "state": {d: ["data/" + p[0].rsplit("/", 1)[1]]
                                               for d, p in manifest.items()}}}}
    pieces = list(inv.iter_serialized(inventory))
    assert len(pieces) > 1
    assert b"".join(pieces) == _one_piece(inventory)
    assert inv.sidecar(b"".join(pieces)) == inv.sidecar_for(hashlib.sha512(
        b"".join(pieces)).hexdigest())
