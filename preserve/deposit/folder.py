"""Reading a plain folder deposit: every regular file is payload, there are no tag files.

The same lstat-only listing and name checks as bags (`tree.walk`); there are no manifests,
so fixity starts with the digests `preserve` computes at ingest (DESIGN.md, "Data flow").
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from preserve.deposit.report import make
from preserve.deposit.tree import walk
from preserve.deposit.values import Deposit, DepositKind, Limits, PayloadEntry


def read_folder(root: Path, source: Path, limits: Limits) -> Deposit:
    """Read the folder `root` (its listing only) into a `Deposit`."""
    tree = walk(root, limits)
    findings = list(tree.findings)
    if not tree.files:
        findings.append(make("PAY-W001", "."))
    return Deposit(
        kind=DepositKind.FOLDER,
        source=source,
        root=root,
        bagit_version=None,
        encoding="utf-8",
        bag_info=(),
        manifests=MappingProxyType({}),
        tag_manifests=MappingProxyType({}),
        fetch=(),
        payload=tuple(PayloadEntry(f.path, f.os_path, f.size) for f in tree.files),
        tag_files=(),
        findings=tuple(findings),
    )
