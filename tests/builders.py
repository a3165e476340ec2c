"""Build deposits from dicts (STYLE.md, "Tests": fixtures build bags from dicts).

`write_bag` writes a BagIt bag the way a careful depositor would; keyword arguments let a test
break one rule at a time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

MULTILINGUAL = {
    "Qoʻlyozmalar/varaq 001.txt": b"Uzbek Latin page\n",
    "Қолжазбалар/бет-1.txt": "Kazakh: Қара сөздер\n".encode(),
    "Рукописи/Летопись.txt": "Летопись\n".encode(),
    "نسخه‌های خطی/برگ ۱.txt": "دیوان حافظ\n".encode(),
    "مخطوطات/كتاب.txt": "كتاب الشفاء\n".encode(),
    "empty.txt": b"",
}


def encode_manifest_path(path: str) -> str:
    return path.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def write_bag(
    root: Path,
    files: Mapping[str, bytes],
    *,
    bag_info: Sequence[tuple[str, str]] = (("Source-Organization", "Milliy kutubxona"),),
    algorithms: Sequence[str] = ("sha256", "sha512"),
    version: str = "1.0",
    oxum: bool = True,
    tag_manifests: bool = True,
) -> Path:
    """Write a valid bag at `root` (created) with `files` under data/; return root."""
    data = root / "data"
    data.mkdir(parents=True)
    for rel, content in files.items():
        target = data / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (root / "bagit.txt").write_bytes(
        f"BagIt-Version: {version}\nTag-File-Character-Encoding: UTF-8\n".encode())
    info = list(bag_info)
    if oxum:
        info.append(("Payload-Oxum", f"{sum(len(c) for c in files.values())}.{len(files)}"))
    (root / "bag-info.txt").write_text("".join(f"{k}: {v}\n" for k, v in info), encoding="utf-8")
    tags = ["bagit.txt", "bag-info.txt"]
    for algorithm in algorithms:
        lines = "".join(f"{hashlib.new(algorithm, c).hexdigest()}  data/{encode_manifest_path(p)}\n"
                        for p, c in sorted(files.items()))
        (root / f"manifest-{algorithm}.txt").write_text(lines, encoding="utf-8")
        tags.append(f"manifest-{algorithm}.txt")
    if tag_manifests:
        for algorithm in algorithms:
            lines = "".join(f"{hashlib.new(algorithm, (root / t).read_bytes()).hexdigest()}  {t}\n"
                            for t in tags)
            (root / f"tagmanifest-{algorithm}.txt").write_text(lines, encoding="utf-8")
    return root


def write_folder(root: Path, files: Mapping[str, bytes]) -> Path:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return root


def storage_snapshot(root: Path) -> dict[str, bytes | None]:
    """`tree_snapshot` of a storage root without the event log's head
    (`preserve-event-log-head.json`), which moves with every event, a failed attempt's too."""
    from preserve.storage.chainhead import HEAD_PATH

    snapshot = tree_snapshot(root)
    snapshot.pop(HEAD_PATH, None)
    return snapshot


def tree_snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path below root with its bytes (None for directories): to assert nothing changed."""
    snapshot: dict[str, bytes | None] = {}
    if not root.exists():
        return snapshot
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            snapshot[os.path.relpath(os.path.join(dirpath, name), root)] = None
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                snapshot[os.path.relpath(path, root)] = handle.read()
    return snapshot
