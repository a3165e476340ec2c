"""Values that go into and come out of the catalog (DESIGN.md, "Catalog").

ORM records never leave `preserve.catalog`; callers get these frozen dataclasses instead.
`IngestRecord` and `StoredFile` are what the ingest workflow hands in; the `*View` and
`*Summary`/`*Detail` classes are what the catalog hands back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from preserve.catalog.audits import OpenProblem
from preserve.catalog.chain import ChainReport
from preserve.model import Agent, EventOutcome, EventType, Finding, ImportedFrom


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One logical file of a stored version (payload or tag file) and where OCFL keeps it.

    `path` is the logical path in the version state exactly as deposited, e.g.
    `data/рукопись.tif` or `metadata/mets.xml`; `content_path` is the OCFL content path.
    """

    path: str
    size: int
    sha256: str
    sha512: str
    content_path: str
    format: str | None = None
    format_name: str = ""  # PRONOM's name and version of `format` ("" when not known)
    format_version: str = ""


@dataclass(frozen=True, slots=True)
class IngestRecord:
    """Everything the catalog records about one stored version, in one transaction.

    `files` is the complete state of the version (every logical file, not only new ones).
    `findings` are the (warning) findings of the accepted deposit, kept on its deposits row.
    """

    package_id: str
    version: int
    created: dt.datetime
    title: str | None
    external_identifiers: tuple[str, ...]
    payload_fingerprint: str
    location: str
    deposit_id: int
    message: str
    files: tuple[StoredFile, ...]
    findings: tuple[Finding, ...] = ()
    inventory_sha512: str | None = None  # sha512 of the version's inventory.json (pinned)


@dataclass(frozen=True, slots=True)
class AdoptedVersion:
    """One version of an object rebuilt from storage (`preserve check`): its inventory entry
    and the complete logical state, read back and verified."""

    number: int
    created: dt.datetime
    message: str
    payload_fingerprint: str
    files: tuple[StoredFile, ...]
    inventory_sha512: str | None = None  # sha512 of the version's inventory.json (pinned)


@dataclass(frozen=True, slots=True)
class AdoptionRecord:
    """Catalog rows of an object found in storage without them (DESIGN.md, "Rules": catalog
    rows about files can be rebuilt from storage). Versions the catalog already records are
    left out by the caller; the package row is created when it does not exist yet."""

    package_id: str
    title: str | None
    external_identifiers: tuple[str, ...]
    location: str
    versions: tuple[AdoptedVersion, ...]


@dataclass(frozen=True, slots=True)
class EventView:
    """One event of the log, with the id and hash chain the catalog gave it."""

    id: int
    identifier: str
    type: EventType | str  # free text only for events imported from another archive
    outcome: EventOutcome | str
    time: dt.datetime
    agent: Agent
    detail: str
    outcome_detail: str
    package_id: str | None
    version: int | None
    deposit_id: int | None
    object_paths: tuple[str, ...]
    prev_hash: str
    hash: str
    imported: ImportedFrom | None = None  # recorded by another archive (see model.Event)
    person: Agent | None = None  # on whose behalf the software acted (see model.Event)


@dataclass(frozen=True, slots=True)
class PackageSummary:
    """One line of `preserve list`: counts are those of the head version."""

    package_id: str
    title: str | None
    external_identifiers: tuple[str, ...]
    versions: int
    files: int
    bytes: int
    created: dt.datetime
    open_problems: int = 0  # stored files with damaged or missing copies (issue 11 item 2)
    state: str = "active"  # or "deaccessioned" (issue 16 §2)


@dataclass(frozen=True, slots=True)
class VersionView:
    number: int
    created: dt.datetime
    message: str
    deposit_id: int | None
    file_count: int
    byte_count: int
    payload_fingerprint: str


@dataclass(frozen=True, slots=True)
class CopyView:
    """One copy of a file at a location, with its last fixity check."""

    location: str
    content_path: str
    status: str
    last_fixity_at: dt.datetime | None
    last_fixity_outcome: str | None


@dataclass(frozen=True, slots=True)
class FileView:
    version: int
    path: str
    size: int
    sha256: str
    sha512: str
    format: str | None
    content_path: str
    copies: tuple[CopyView, ...]
    format_name: str = ""
    format_version: str = ""


@dataclass(frozen=True, slots=True)
class PackageDetail:
    """`preserve show`: the package, all its versions, files of all versions, its events."""

    package_id: str
    title: str | None
    external_identifiers: tuple[str, ...]
    payload_fingerprint: str
    created: dt.datetime
    versions: tuple[VersionView, ...]
    files: tuple[FileView, ...]
    events: tuple[EventView, ...]
    open_problems: tuple[OpenProblem, ...] = ()  # damaged or missing copies, not yet repaired
    state: str = "active"  # or "deaccessioned": the rows are a tombstone (issue 16 §2)

    @property
    def head(self) -> int:
        return max(v.number for v in self.versions) if self.versions else 0

    def files_of(self, version: int) -> tuple[FileView, ...]:
        return tuple(f for f in self.files if f.version == version)


@dataclass(frozen=True, slots=True)
class DepositView:
    """One deposit attempt, accepted, rejected or still (or forever) in progress."""

    id: int
    source: str
    kind: str
    status: str
    started: dt.datetime
    finished: dt.datetime | None
    package_id: str | None
    version: int | None
    findings: tuple[Finding, ...]
    error_count: int
    warning_count: int


__all__ = [
    "AdoptedVersion", "AdoptionRecord", "ChainReport", "CopyView", "DepositView", "EventView",
    "FileView", "IngestRecord", "PackageDetail", "PackageSummary", "StoredFile", "VersionView",
]
