"""`open_deposit`: what kind of deposit a path is, and reading it (DESIGN.md, "Data flow").

A directory with bagit.txt is a bag (RFC 8493 section 2), one with `METS.xml` and
`representations/` an E-ARK package (`eark.py`), any other directory a plain folder; a
regular file is a zip or tar of any of these, told by its content, not only its suffix
(RFC 8493 section 4.2; a zipped plain folder is read as the folder). A directory without
bagit.txt but with BagIt manifests is read as a bag (and gets BAG-E001). A path that is none
of these gives a `Deposit` carrying an error finding, never an exception: the caller
reports findings the same way for every deposit.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import stat
from pathlib import Path
from types import MappingProxyType

from preserve.deposit.archive import detect, extract, is_seven_zip
from preserve.deposit.bag import read_bag
from preserve.deposit.eark import is_eark_package, read_eark
from preserve.deposit.folder import read_folder
from preserve.deposit.report import make
from preserve.deposit.values import Deposit, DepositKind, Limits
from preserve.errors import DepositError
from preserve.model import Finding

log = logging.getLogger(__name__)

_MANIFEST = re.compile(r"(tag)?manifest-[^/]+\.txt")


class WorkDirNotEmpty(DepositError):
    """The work directory {path} for extracting a deposit must be empty; use a fresh one."""


def open_deposit(path: Path, work_dir: Path, limits: Limits = Limits()) -> Deposit:
    """Read the deposit at `path` (structure only; no payload byte is read).

    Zip and tar deposits are extracted below `work_dir` (created if missing, else it must be
    empty); on any error nothing is left there. Raises `WorkDirNotEmpty` only for a caller
    mistake; every problem of the deposit itself is a finding.
    """
    source = Path(path)
    where = Path(os.path.abspath(source))
    try:
        info = os.stat(where)  # the path the user named may itself be a symlink
    except OSError as exc:
        return _failed(source, where, DepositKind.FOLDER,
                       make("BAG-E012", str(source), detail=exc.strerror or str(exc)))
    if stat.S_ISDIR(info.st_mode):
        if os.path.lexists(where / "bagit.txt") or _has_manifests(where):
            log.info("reading bag directory %s", where)
            return read_bag(where, source, DepositKind.BAG, limits)
        if is_eark_package(where):
            log.info("reading E-ARK package %s", where)
            return read_eark(where, source, limits)
        log.info("reading plain folder %s", where)
        return read_folder(where, source, limits)
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device: never opened
        return _failed(source, where, DepositKind.FOLDER,
                       make("BAG-E012", str(source), detail="not a regular file or directory"))
    try:
        kind = detect(where)
    except OSError as exc:
        return _failed(source, where, DepositKind.FOLDER,
                       make("BAG-E012", str(source), detail=exc.strerror or str(exc)))
    if kind is None:
        detail = "not a zip or tar archive"
        if is_seven_zip(where):  # an Archivematica compressed AIP, most likely
            detail = ("a 7-Zip archive (as Archivematica compresses AIPs), which preserve does "
                      "not unpack: extract it (`7z x` into an empty folder) and deposit the "
                      "bag folder it holds")
        return _failed(source, where, DepositKind.FOLDER,
                       make("BAG-E012", str(source), detail=detail))
    _prepare(Path(work_dir))
    log.info("inspecting %s archive %s", kind.value, where)
    root, findings = extract(where, kind, Path(work_dir), limits)
    if root is None:
        return _failed(source, Path(work_dir), kind, *findings)
    if os.path.lexists(root / "bagit.txt") or _has_manifests(root):
        return read_bag(root, source, kind, limits, findings)
    if is_eark_package(root):
        deposit = read_eark(root, source, limits, kind)
    else:  # a zipped plain folder: read like the folder itself (bagged on ingest)
        log.info("reading the plain folder in %s", where)
        deposit = read_folder(root, source, limits)
    return dataclasses.replace(deposit, findings=tuple(findings) + deposit.findings)


def _has_manifests(directory: Path) -> bool:
    """A folder with BagIt manifests is a bag missing its declaration, not a plain folder."""
    try:
        with os.scandir(directory) as listing:
            return any(_MANIFEST.fullmatch(entry.name) for entry in listing)
    except OSError:
        return False


def _prepare(work_dir: Path) -> None:
    try:
        os.mkdir(work_dir, 0o700)
    except FileExistsError:
        if not work_dir.is_dir() or work_dir.is_symlink() or any(work_dir.iterdir()):
            raise WorkDirNotEmpty(path=str(work_dir)) from None


def _failed(source: Path, root: Path, kind: DepositKind, *findings: Finding) -> Deposit:
    return Deposit(kind=kind, source=source, root=root, bagit_version=None, encoding="utf-8",
                   bag_info=(), manifests=MappingProxyType({}),
                   tag_manifests=MappingProxyType({}), fetch=(), payload=(), tag_files=(),
                   findings=tuple(findings))
