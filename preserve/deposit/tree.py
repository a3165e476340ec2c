"""Listing a deposit directory safely: `lstat` only, nothing followed, nothing opened.

Shared by bag directories and plain folders. Symlinks, FIFOs, sockets and devices anywhere
are findings (RFC 8493 section 7.2: a bag is regular files and directories); bagit-python
follows symlinks and hangs on a FIFO, this never does. Hard links are counted: a file with
more links than the deposit holds shares its inode with a file outside the deposit, whose
owner can change it at any time (an error; the file is left out and never read); links
among the deposit's own files are a warning. Names are checked here too: not UTF-8, too
long (a segment, or the whole path), control or bidi characters, and siblings that collide
after Unicode normalization or case folding (DESIGN.md, "Metadata"). The only file this
module opens is a tag file, with O_NOFOLLOW and O_NONBLOCK, after checking it is a regular
file.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from preserve.deposit.report import make
from preserve.deposit.values import Limits
from preserve.model import Finding
from preserve.names import CASEFOLD, collisions, has_unsafe_characters, is_utf8

log = logging.getLogger(__name__)

_KINDS = (
    (stat.S_ISLNK, "symbolic link"),
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def special_kind(mode: int) -> str:
    """What a non-regular, non-directory file is, in words."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "special file"


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # relative to the walked root, POSIX
    os_path: str  # as the OS names it (a string: see PayloadEntry)
    size: int

    @property
    def source(self) -> Path:
        return Path(self.os_path)


@dataclass(slots=True)
class Tree:
    """What `walk` found: regular files (sorted), directories, and findings."""

    files: list[FileEntry] = field(default_factory=list)
    directories: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def walk(root: Path, limits: Limits) -> Tree:
    """List every entry under `root` with lstat; see the module docstring."""
    tree = Tree()
    count = 0
    links: dict[tuple[int, int], tuple[int, list[str]]] = {}  # inode -> (st_nlink, paths)
    pending: list[tuple[str, int]] = [("", 0)]  # (relative directory, depth)
    while pending:
        directory, depth = pending.pop()
        where = root / directory if directory else root
        try:
            with os.scandir(where) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            tree.findings.append(make("PAY-E003", directory or ".", detail=exc.strerror or str(exc)))
            continue
        good_names = []
        for entry in entries:
            count += 1
            if count > limits.max_members:
                tree.findings.append(make("PAY-E004", directory or ".", limit=limits.max_members))
                tree.files.sort(key=lambda f: f.path)
                return tree
            rel = f"{directory}/{entry.name}" if directory else entry.name
            if not _check_name(entry.name, rel, depth + 1, limits, tree.findings):
                continue
            good_names.append(entry.name)
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                tree.findings.append(make("PAY-E003", rel, detail=exc.strerror or str(exc)))
                continue
            if stat.S_ISDIR(info.st_mode):
                tree.directories.append(rel)
                pending.append((rel, depth + 1))
            elif stat.S_ISREG(info.st_mode):
                log.debug("file %r (%d bytes)", rel, info.st_size)
                tree.files.append(FileEntry(rel, entry.path, info.st_size))
                if info.st_nlink > 1:
                    links.setdefault((info.st_dev, info.st_ino), (info.st_nlink, []))[1].append(rel)
            else:
                tree.findings.append(make("PAY-E001", rel, kind=special_kind(info.st_mode)))
        tree.findings.extend(_collision_findings(directory, good_names))
    shared = _link_findings(links, tree.findings)
    tree.files = sorted((f for f in tree.files if f.path not in shared), key=lambda f: f.path)
    tree.directories.sort()
    return tree


def _check_name(name: str, rel: str, depth: int, limits: Limits, out: list[Finding]) -> bool:
    """Record name findings; False if the entry must be left out (and not descended into)."""
    if not is_utf8(name):
        out.append(make("NAME-E001", rel))
        return False
    if "\\" in name:  # what a bag or an archive cannot carry, a folder deposit may not bring
        out.append(make("NAME-E005", rel))
        return False
    size = len(name.encode("utf-8"))
    if size > limits.max_name_bytes:
        out.append(make("NAME-E003", rel, size=size, limit=limits.max_name_bytes))
        return False
    if len(rel.encode("utf-8")) > limits.max_path_bytes:
        out.append(make("NAME-E004", rel, size=len(rel.encode("utf-8")),
                        limit=limits.max_path_bytes))
        return False
    if depth > limits.max_depth:
        out.append(make("PAY-E002", rel, depth=depth, limit=limits.max_depth))
        return False
    if has_unsafe_characters(name):
        out.append(make("NAME-W002", rel))
    return True


def _link_findings(links: dict[tuple[int, int], tuple[int, list[str]]],
                   out: list[Finding]) -> set[str]:
    """Hard links: more links than paths seen means some link lies outside the deposit.

    Returns those paths: their bytes belong to a file outside, so they are left out of the
    listing and never read (like symlinks)."""
    shared: set[str] = set()
    for count, paths in links.values():
        paths.sort()
        if count > len(paths):
            out.extend(make("PAY-E005", path, links=count, outside=count - len(paths))
                       for path in paths)
            shared.update(paths)
        else:
            out.extend(make("PAY-W002", path, other=paths[0]) for path in paths[1:])
    return shared


def _collision_findings(directory: str, names: list[str]) -> list[Finding]:
    prefix = f"{directory}/" if directory else ""
    found = []
    for first, other, kind in collisions(names):
        code = "NAME-W001" if kind == CASEFOLD else "NAME-E002"
        found.append(make(code, prefix + first, other=prefix + other, kind=kind))
    return found
