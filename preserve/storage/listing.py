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
from collections.abc import Callable, Iterable
from pathlib import Path

from preserve.storage import inventory as inv
from preserve.storage.chainhead import HEAD_PATH

_ROOT_FILES = frozenset({inv.OBJECT_NAMASTE, inv.INVENTORY, inv.SIDECAR})
_RESERVED_DIRS = frozenset({"extensions", "logs"})


def object_entries(root: Path) -> list[str]:
    """Every non-directory entry under `root`, sorted, as POSIX paths relative to it.

    Symlinks are listed and never followed (os.walk lists a link to a directory among the
    directories without entering it; it is listed here as an entry): an object holds none,
    so each is something to report.
    """
    found: list[str] = []
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


# --- the storage root (issue 11 item 4) -------------------------------------------------------

#: The root's own declared files (OCFL 1.1 section 4.1: the declaration, the layout
#: declaration, an optional copy of the specification, and the event log head we anchor); `extensions/` holds one
#: directory per extension (section 4.3), whatever each keeps inside.
_STORAGE_ROOT_FILES = frozenset({"0=ocfl_1.1", "ocfl_layout.json", "ocfl_1.1.txt", HEAD_PATH})
STRAY = "stray"  # neither an object, nor a layout directory, nor the root's own files
UNDECLARED = "undeclared-object"  # where an object belongs, but no 0=ocfl_object_ declaration


def unaccounted_paths(root: Path, tuple_size: int, tuples: int,
                      object_name: Callable[[str], bool]) -> list[tuple[str, str]]:
    """Every path under the storage root that is not an object, a layout directory or one of
    the root's own files, as (STRAY | UNDECLARED, POSIX path relative to `root`), each directory's
    entries in name order.

    The hashed n-tuple layout (extension 0004) puts objects `tuples` directories of
    `tuple_size` lowercase hex characters down, in a directory `object_name` accepts. A
    directory holding an object declaration is an object wherever it is (audit and check
    judge misplaced objects), and is never entered. Only the topmost stray path is named.
    Empty layout directories are `check`'s business (CHK-E008), not reported here.
    """
    found: list[tuple[str, str]] = []

    def walk(directory: Path, depth: int) -> None:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            relative = Path(entry.path).relative_to(root).as_posix()
            is_dir = entry.is_dir(follow_symlinks=False)
            if depth == 0 and not is_dir and entry.name in _STORAGE_ROOT_FILES:
                continue
            if depth == 0 and is_dir and entry.name == "extensions":
                for extension in sorted(os.scandir(entry.path), key=lambda e: e.name):
                    if not extension.is_dir(follow_symlinks=False):
                        found.append((STRAY, f"extensions/{extension.name}"))
                continue
            if not is_dir:
                found.append((STRAY, relative))
                continue
            if _declares_object(Path(entry.path)):
                continue
            if depth < tuples and _is_tuple(entry.name, tuple_size):
                walk(Path(entry.path), depth + 1)
            elif depth == tuples and object_name(entry.name):
                found.append((UNDECLARED, relative))
            else:
                found.append((STRAY, relative))

    walk(root, 0)
    return found


def _declares_object(directory: Path) -> bool:
    try:
        return any(n.startswith("0=ocfl_object_") for n in os.listdir(directory))
    except OSError:
        return False


def _is_tuple(name: str, size: int) -> bool:
    return len(name) == size and all(c in "0123456789abcdef" for c in name)
