"""Small tools the case builders share: a valid bag to start from, then one rule broken.

`bag` writes a valid bag (tests/builders.py `write_bag`); `retag` recomputes the tag manifests
after a case edited a tag file, so the deposit breaks only the rule the case is about.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from tests.adversarial.harness import Workspace
from tests.builders import encode_manifest_path, write_bag, write_folder

PAGE = {"page.txt": b"page one\n"}


def bag(ws: Workspace, files: Mapping[str, bytes] = PAGE, name: str = "bag", **options) -> Path:
    return write_bag(ws.deposits / name, files, **options)


def folder(ws: Workspace, files: Mapping[str, bytes] = PAGE, name: str = "folder") -> Path:
    root = ws.deposits / name
    root.mkdir()
    return write_folder(root, files)


def digest(data: bytes, algorithm: str = "sha256") -> str:
    return hashlib.new(algorithm, data).hexdigest()


def manifest_line(path: str, data: bytes, algorithm: str = "sha256") -> str:
    return f"{digest(data, algorithm)}  {encode_manifest_path(path)}\n"


def append(path: Path, text: str | bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(text.encode("utf-8") if isinstance(text, str) else text)


def retag(root: Path) -> Path:
    """Rewrite every tagmanifest-*.txt to list the bag's regular tag files as they are now."""
    manifests = sorted(root.glob("tagmanifest-*.txt"))
    tags = sorted(p.name for p in root.iterdir()
                  if stat.S_ISREG(os.lstat(p).st_mode) and not p.name.startswith("tagmanifest-"))
    tags += sorted(str(p.relative_to(root)) for p in (root / "metadata").rglob("*")
                   if stat.S_ISREG(os.lstat(p).st_mode)) if (root / "metadata").is_dir() else []
    for manifest in manifests:
        algorithm = manifest.name[len("tagmanifest-"):-len(".txt")]
        manifest.write_text("".join(manifest_line(t, (root / t).read_bytes(), algorithm)
                                    for t in tags), encoding="utf-8")
    return root


def rewrite(root: Path, name: str, data: bytes) -> Path:
    """Replace tag file `name` with `data` and refresh the tag manifests."""
    (root / name).write_bytes(data)
    return retag(root)


def bag_members(ws: Workspace, files: Mapping[str, bytes] = PAGE,
                prefix: str = "bag/") -> list[tuple[str, bytes]]:
    """A valid bag's files as (archive member name, bytes), for zip and tar builders."""
    root = write_bag(ws.root / "source" / "bag", files)
    return [(prefix + p.relative_to(root).as_posix(), p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file()]
