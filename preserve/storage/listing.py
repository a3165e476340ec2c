"""What an OCFL object directory holds on disk, for the readers that compare it with its
inventory (audit, check).

OCFL 1.1 section 3.1 (object structure): the object root holds its declaration
(`0=ocfl_object_1.1`), the root inventory and its sidecar, the reserved directories
`extensions/` and `logs/`, and one directory per version holding that version's inventory
and sidecar. Those are the object's own bookkeeping; every other file must be content that
the manifest lists.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from preserve.storage import inventory as inv

_ROOT_FILES = frozenset({inv.OBJECT_NAMASTE, inv.INVENTORY, inv.SIDECAR})
_RESERVED_DIRS = frozenset({"extensions", "logs"})


def object_entries(root: Path) -> list[str]:
    """Every non-directory entry under `root`, sorted, as POSIX paths relative to it.

    Symlinks are listed and never followed (os.walk lists a link to a directory among the
    directories without entering it; it is listed here as an entry): an object holds none,
    so each is something to report.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath).relative_to(root)
        found.extend((base / name).as_posix() for name in sorted(filenames))
        for name in list(dirnames):
            if (Path(dirpath) / name).is_symlink():
                found.append((base / name).as_posix())
                dirnames.remove(name)
    return found


def is_structural(relative: str, versions: Iterable[str]) -> bool:
    """True for the object's own bookkeeping files, which no manifest lists."""
    parts = relative.split("/")
    if len(parts) == 1:
        return parts[0] in _ROOT_FILES
    if parts[0] in _RESERVED_DIRS:
        return True
    return len(parts) == 2 and parts[0] in versions and parts[1] in (inv.INVENTORY, inv.SIDECAR)
