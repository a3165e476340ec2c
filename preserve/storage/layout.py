"""Object id -> object root path: OCFL Community Extension 0004, hashed n-tuple storage layout.

https://ocfl.github.io/extensions/0004-hashed-n-tuple-storage-layout.html ("Procedure"):
the id, UTF-8 encoded, is hashed with `digestAlgorithm`; the lowercase hex digest is cut into
`numberOfTuples` segments of `tupleSize` characters, joined by `/`, and the whole digest is
appended (`shortObjectRoot` false). We always use the extension's defaults (sha256, 3, 3,
false), so an id of any length and any script maps to `abc/def/012/<64 hex>`: nothing of
the id reaches the filesystem, and the id is recovered only from the object's inventory.

The storage root declares the layout in `ocfl_layout.json` (OCFL 1.1 section 4.1) and the
parameters in `extensions/0004-hashed-n-tuple-storage-layout/config.json` (section 4.3).
"""

from __future__ import annotations

from typing import Any

import hashlib
import json
import re

from preserve.errors import StorageError

EXTENSION_NAME = "0004-hashed-n-tuple-storage-layout"
DESCRIPTION = (
    "OCFL object identifiers are hashed with sha256 and the lowercase hex digest is split into "
    "3 directories of 3 characters, followed by the whole digest (OCFL Community Extension "
    "0004-hashed-n-tuple-storage-layout)"
)
DIGEST_ALGORITHM = "sha256"
TUPLE_SIZE = 3
NUMBER_OF_TUPLES = 3
SHORT_OBJECT_ROOT = False

#: Where the parameters live, relative to the storage root (OCFL 1.1 section 4.3).
CONFIG_PATH = f"extensions/{EXTENSION_NAME}/config.json"

_OBJECT_PATH = re.compile(
    r"^" + "/".join([f"[0-9a-f]{{{TUPLE_SIZE}}}"] * NUMBER_OF_TUPLES) + r"/([0-9a-f]{64})$"
)


def config() -> dict[str, object]:
    """The extension's `config.json`, as written into every storage root we create."""
    return {
        "extensionName": EXTENSION_NAME,
        "digestAlgorithm": DIGEST_ALGORITHM,
        "tupleSize": TUPLE_SIZE,
        "numberOfTuples": NUMBER_OF_TUPLES,
        "shortObjectRoot": SHORT_OBJECT_ROOT,
    }


def layout_declaration() -> dict[str, str]:
    """The storage root's `ocfl_layout.json` (OCFL 1.1 section 4.1.1)."""
    return {"extension": EXTENSION_NAME, "description": DESCRIPTION}


def to_json_bytes(value: dict[str, Any]) -> bytes:
    """The bytes we write for the small JSON files of a storage root."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def object_path_for(object_id: str) -> str:
    """The object root of `object_id`, relative to the storage root, with `/` separators."""
    if not isinstance(object_id, str) or object_id == "":
        raise StorageError(detail="an OCFL object id must be a non-empty string")
    try:
        encoded = object_id.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 form, so no 0004 path either
        raise StorageError(
            detail=f"object id {object_id!r} is not valid Unicode text; choose another id"
        ) from None
    digest = hashlib.new(DIGEST_ALGORITHM, encoded).hexdigest()
    tuples = [digest[i * TUPLE_SIZE : (i + 1) * TUPLE_SIZE] for i in range(NUMBER_OF_TUPLES)]
    return "/".join([*tuples, digest])


def is_object_path(relative: str) -> bool:
    """True if `relative` (with `/` separators) has the shape this layout gives object roots."""
    match = _OBJECT_PATH.match(relative)
    return match is not None and relative.startswith(
        "/".join(match.group(1)[i * TUPLE_SIZE : (i + 1) * TUPLE_SIZE] for i in range(NUMBER_OF_TUPLES))
    )
