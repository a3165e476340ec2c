"""The values a deposit reader returns: `Deposit`, its entries, and the `Limits` it obeys.

A `Deposit` is what an archivist handed in (OAIS SIP, DESIGN.md "Words") after its structure
has been read: tag files parsed, payload listed with `lstat` only. No payload byte has been
read when a `Deposit` exists; `check_payload` compares digests computed later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from preserve.model import Finding


class DepositKind(str, Enum):
    """How the deposit was handed in."""

    BAG = "bag"
    ZIP = "zip"
    TAR = "tar"
    FOLDER = "folder"
    EARK = "eark"  # an E-ARK CSIP/SIP package directory (METS.xml, representations/)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a deposit may hold, against decompression bombs and runaway trees."""

    max_members: int = 1_000_000
    max_total_size: int = 4 * 2**40  # uncompressed bytes
    max_ratio: float = 1000.0  # uncompressed / compressed, per member and total
    max_depth: int = 64
    max_name_bytes: int = 255  # per path segment, in UTF-8
    #: Whole relative path, in UTF-8: what is left of Linux's PATH_MAX (4096) once the
    #: repository's own prefix (home, staging or OCFL object, version, content) is added.
    max_path_bytes: int = 3072
    max_tag_file_size: int = 1 << 30  # tag files are read into memory


@dataclass(frozen=True, slots=True)
class PayloadEntry:
    """A payload file: `path` relative to data/ (bags) or to the folder, POSIX, as on disk."""

    path: str
    # The file's path as a string, not a Path: a Path holds its parts as well, and a deposit
    # of 200,000 files keeps every entry for the whole ingest (docs/performance.md, "Memory
    # per file"). `source` makes the Path when asked.
    os_path: str
    size: int

    @property
    def source(self) -> Path:
        return Path(self.os_path)


@dataclass(frozen=True, slots=True)
class TagEntry:
    """A regular file outside data/: `path` relative to the bag root."""

    path: str
    source: Path
    size: int


@dataclass(frozen=True, slots=True)
class Deposit:
    """A deposit after its structure has been read (see the module docstring)."""

    kind: DepositKind
    source: Path  # what the user named
    root: Path  # the directory being read
    bagit_version: str | None  # None for plain folders
    encoding: str  # declared Tag-File-Character-Encoding, normalised ("utf-8")
    bag_info: tuple[tuple[str, str], ...]
    manifests: Mapping[str, Mapping[str, str]]  # algorithm -> {path under data/: hex}
    tag_manifests: Mapping[str, Mapping[str, str]]  # algorithm -> {path from root: hex}
    fetch: tuple[tuple[str, int | None, str], ...]  # (url, length, path), never fetched
    payload: tuple[PayloadEntry, ...]
    tag_files: tuple[TagEntry, ...]
    findings: tuple[Finding, ...]

    def bag_info_values(self, label: str) -> list[str]:
        """Every value of `label` in bag-info.txt, in order; labels match case-insensitively."""
        wanted = label.casefold()
        return [value for name, value in self.bag_info if name.casefold() == wanted]
