"""Reading an E-ARK CSIP/SIP 2.x package directory as a deposit (issue 5: packages from
other archives).

An E-ARK package (CSIP 2.1, section 5.1 "Folder structure") is a folder holding `METS.xml`,
`metadata/`, `schemas/`, `documentation/` and `representations/<name>/` with its own
`METS.xml`, `metadata/` and `data/`. As a deposit:

* payload: the files under `representations/<name>/data/`; with one representation (as
  preserve's own E-ARK exports have) the paths below its `data/`, exactly as named, so a
  package keeps its names through BagIt -> E-ARK -> BagIt transfers; with several, each
  path is prefixed with its representation's folder name;
* tag files: everything else (both METS levels, PREMIS, descriptive metadata, schemas,
  documentation), stored as received in `metadata/submission/`.

The same lstat-only listing and name checks as every deposit (`tree.walk`). The package has
no BagIt manifests: its fixity information is the METS `fileSec` CHECKSUMs, which the ingest
workflow compares with the digests it computes (XML is parsed in `preserve.metadata` only).

A root METS misnamed by its maker (`mets.xml`, `METS.XML`, `METS.xml.xml`: CSIPSTR4 wants
`METS.xml`) still makes the folder an E-ARK package, with warning EARK-W001.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType

from preserve.deposit.report import make
from preserve.deposit.tree import walk
from preserve.deposit.values import Deposit, DepositKind, Limits, PayloadEntry, TagEntry

METS_FILE = "METS.xml"
REPRESENTATIONS = "representations"
#: Names makers give the root METS: any case, `.xml` once or repeated (EARK-W001 unless exact).
_METS_NAME = re.compile(r"mets(\.xml)+", re.IGNORECASE)


def mets_name(names: Iterable[str]) -> str | None:
    """The root METS among the top-level `names`: `METS.xml`, else the one misnamed form."""
    names = list(names)
    if METS_FILE in names:
        return METS_FILE
    found = sorted(name for name in names if _METS_NAME.fullmatch(name))
    return found[0] if len(found) == 1 else None


def root_mets(directory: Path) -> str | None:
    """The name of the regular file that is `directory`'s root METS, if there is one."""
    try:
        with os.scandir(directory) as listing:
            names = [e.name for e in listing if e.is_file(follow_symlinks=False)]
    except OSError:
        return None
    return mets_name(names)


def is_eark_package(directory: Path) -> bool:
    """A folder with a root METS and `representations/` (and no bagit.txt) is E-ARK."""
    return (root_mets(directory) is not None
            and (directory / REPRESENTATIONS).is_dir()
            and not (directory / REPRESENTATIONS).is_symlink())


def read_eark(root: Path, source: Path, limits: Limits,
              kind: DepositKind = DepositKind.EARK) -> Deposit:
    """Read the E-ARK package folder `root` (its listing only) into a `Deposit`."""
    tree = walk(root, limits)
    findings = list(tree.findings)
    representations = sorted({f.path.split("/")[1] for f in tree.files
                              if _payload_parts(f.path) is not None})
    single = len(representations) == 1
    payload, tags = [], []
    for entry in tree.files:
        parts = _payload_parts(entry.path)
        if parts is None:
            tags.append(TagEntry(entry.path, entry.source, entry.size))
        else:
            name, below = parts
            payload.append(PayloadEntry(below if single else f"{name}/{below}",
                                        entry.os_path, entry.size))
    if not payload:
        findings.append(make("PAY-W001", f"{REPRESENTATIONS}/"))
    mets = root_mets(root)
    if mets is not None and mets != METS_FILE:
        findings.append(make("EARK-W001", mets))
    return Deposit(
        kind=kind, source=source, root=root, bagit_version=None, encoding="utf-8",
        bag_info=(), manifests=MappingProxyType({}), tag_manifests=MappingProxyType({}),
        fetch=(), payload=tuple(sorted(payload, key=lambda p: p.path)),
        tag_files=tuple(tags), findings=tuple(findings))


def package_paths(deposit: Deposit) -> dict[str, str]:
    """Path in the package (as METS hrefs name it, from the package root) -> payload path."""
    return {entry.source.relative_to(deposit.root).as_posix(): entry.path
            for entry in deposit.payload}


def _payload_parts(path: str) -> tuple[str, str] | None:
    parts = path.split("/", 3)
    if len(parts) == 4 and parts[0] == REPRESENTATIONS and parts[2] == "data" and parts[3]:
        return parts[1], parts[3]
    return None
