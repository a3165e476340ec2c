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


#: METS CHECKSUMTYPE -> hashlib name, for the E-ARK packages tests build.
_METS_TYPES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
               "SHA-512": "sha512"}


def mets_document(files: Mapping[str, tuple[bytes, str]], *, objid: str = "pkg",
                  extra: str = "") -> str:
    """A minimal schema-valid METS 1.12.1 whose fileSec lists {href: (content, CHECKSUMTYPE)}
    with CHECKSUM and SIZE (an empty CHECKSUMTYPE: SIZE only); `extra` goes before fileSec."""
    from xml.sax.saxutils import quoteattr

    entries = []
    for number, (href, (content, kind)) in enumerate(sorted(files.items())):
        checksum = (f' CHECKSUMTYPE="{kind}" CHECKSUM="'
                    f'{hashlib.new(_METS_TYPES[kind], content).hexdigest()}"' if kind else "")
        entries.append(f'<mets:file ID="f{number}" SIZE="{len(content)}"{checksum}>'
                       f'<mets:FLocat LOCTYPE="URL" xlink:type="simple" xlink:href='
                       f'{quoteattr(href)}/></mets:file>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<mets:mets xmlns:mets="http://www.loc.gov/METS/" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'OBJID="{objid}">{extra}<mets:fileSec><mets:fileGrp USE="all">{"".join(entries)}'
            '</mets:fileGrp></mets:fileSec><mets:structMap><mets:div/></mets:structMap>'
            '</mets:mets>\n')


def write_eark(root: Path, files: Mapping[str, bytes], *, algorithm: str = "MD5",
               mets_name: str = "METS.xml", metadata: Mapping[str, bytes] | None = None,
               objid: str = "eark-pkg") -> Path:
    """An E-ARK package folder: `files` in representations/rep1/data/, listed with
    `algorithm` checksums and SIZE in the representation METS; the package METS (named
    `mets_name`) lists the representation METS and `metadata` files (SHA-256)."""
    rep = root / "representations" / "rep1"
    write_folder(rep / "data", files)
    rep_mets = mets_document({f"data/{p}": (c, algorithm) for p, c in files.items()},
                             objid=objid).encode()
    (rep / "METS.xml").write_bytes(rep_mets)
    listed = {"representations/rep1/METS.xml": (rep_mets, "SHA-256")}
    for rel, content in (metadata or {}).items():
        write_folder(root, {rel: content})
        listed[rel] = (content, "SHA-256")
    (root / mets_name).write_text(mets_document(listed, objid=objid), encoding="utf-8")
    return root
