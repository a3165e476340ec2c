"""Keeping the evidence of damage: a stored file copied out of a location, with a note
(DESIGN.md, "Rules": nothing is deleted or fixed silently).

The stored file is copied, never moved: the object stays exactly as it was found, so other
tools, and a repair from a good copy, see the same damage. Audit (local root and other
locations) and repair keep their evidence through this one function; each names the file
it writes and the suffix of the note beside it (`.audit.json`, `.repair.json`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from preserve.storage.location import Location

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def keep_copy(location: Location, path: str, target: Path, note: dict[str, Any],
              note_suffix: str) -> Path:
    """Stream the stored file `path` of `location` to the new file `target` (its parent
    directories made), then write `note` as JSON beside it as `<name><note_suffix>`.

    The stored file is only read. `target` must not exist: evidence is never overwritten.
    Raises OSError for the local side, `LocationError` (a PreserveError) for the location's.
    """
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise OSError(22, f"refusing to keep the unsafe stored path {path!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with location.open_read(path) as stream, open(target, "xb") as out:
        while chunk := stream.read(_CHUNK):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    document = {**note, "location": location.name, "source": path}
    target.with_name(target.name + note_suffix).write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("kept a copy of %s at %s in %s", path, location.name, target)
    return target
