"""Catalog queries about copies per storage location (DESIGN.md, "Catalog": locations, copies;
issue 13: replication and self-repair).

Every file row of every version has one `copies` row per location that holds it, with its
status (`ok`, `damaged`, `missing`) and its last fixity check. A location holds a package
completely when every file row of the package has an `ok` copy there. Functions of an open
session, wired into `repository.Catalog` as methods (like `audits.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from preserve.catalog import eventlog
from preserve.catalog.audits import AuditCopy
from preserve.catalog.records import CopyRecord, FileRecord, LocationRecord, PackageRecord
from preserve.errors import CatalogError
from preserve.model import Event


@dataclass(frozen=True, slots=True)
class LocationHoldings:
    """What the catalog says one location holds: copies and bytes, by status."""

    name: str
    uri: str
    copies: int
    bytes: int
    damaged: int
    missing: int


@dataclass(frozen=True, slots=True)
class PackageCopies:
    """How completely each location holds one package: ok copies out of its file rows."""

    package_id: str
    files: int
    ok: dict[str, int]  # location name -> ok copies

    def complete_at(self) -> list[str]:
        return [name for name, count in self.ok.items() if count == self.files and self.files]


@dataclass(frozen=True, slots=True)
class CopyToRepair:
    """A copy that is damaged or missing, with what the file should be."""

    file_id: int
    package_id: str
    version: int
    path: str
    content_path: str
    size: int
    sha256: str
    sha512: str
    location: str
    status: str


def location_id(session: Session, name: str) -> int:
    found = session.scalar(select(LocationRecord.id).where(LocationRecord.name == name))
    if found is None:
        raise CatalogError(detail=f"unknown location {name!r}: add it with `preserve "
                           "locations add` (which registers it) before copying to it")
    return found


def holdings(session: Session) -> list[LocationHoldings]:
    """Copies and bytes per registered location (one grouped query)."""
    rows = session.execute(
        select(LocationRecord.name, LocationRecord.uri, CopyRecord.status,
               func.count(CopyRecord.file_id), func.coalesce(func.sum(FileRecord.size), 0))
        .select_from(LocationRecord)
        .outerjoin(CopyRecord, CopyRecord.location_id == LocationRecord.id)
        .outerjoin(FileRecord, CopyRecord.file_id == FileRecord.id)
        .group_by(LocationRecord.name, LocationRecord.uri, CopyRecord.status)
        .order_by(LocationRecord.name))
    table: dict[str, dict[str, Any]] = {}
    for name, uri, status, count, size in rows:
        entry = table.setdefault(name, {"uri": uri, "ok": 0, "bytes": 0, "damaged": 0,
                                        "missing": 0})
        if status is None:
            continue
        if status == "ok":
            entry["ok"] += count
            entry["bytes"] += int(size)
        elif status in ("damaged", "missing"):
            entry[status] += count
    return [LocationHoldings(name, e["uri"], e["ok"], e["bytes"], e["damaged"], e["missing"])
            for name, e in table.items()]


def package_copies(session: Session, package_ids: Sequence[str] | None) -> list[PackageCopies]:
    """For each active package (all when None), its file count and ok copies per location.

    A deaccessioned package (issue 16 §2) has no copies to keep: replication skips it."""
    files_q = (select(FileRecord.package_id, func.count(FileRecord.id))
               .join(PackageRecord, PackageRecord.id == FileRecord.package_id)
               .where(PackageRecord.state == "active")
               .group_by(FileRecord.package_id))
    ok_q = (select(FileRecord.package_id, LocationRecord.name, func.count(CopyRecord.file_id))
            .join(CopyRecord, CopyRecord.file_id == FileRecord.id)
            .join(LocationRecord, CopyRecord.location_id == LocationRecord.id)
            .where(CopyRecord.status == "ok")
            .group_by(FileRecord.package_id, LocationRecord.name))
    if package_ids is not None:
        files_q = files_q.where(FileRecord.package_id.in_(list(package_ids)))
        ok_q = ok_q.where(FileRecord.package_id.in_(list(package_ids)))
    ok: dict[str, dict[str, int]] = {}
    for package_id, name, count in session.execute(ok_q):
        ok.setdefault(package_id, {})[name] = count
    order = {pid: n for n, pid in enumerate(session.scalars(
        select(PackageRecord.id).order_by(PackageRecord.created, PackageRecord.id)))}
    result = [PackageCopies(package_id, count, ok.get(package_id, {}))
              for package_id, count in session.execute(files_q)]
    return sorted(result, key=lambda p: order.get(p.package_id, len(order)))


def record_replica(session: Session, package_id: str, location: str,
                   verified: Iterable[str], checked_at: dt.datetime,
                   events: Sequence[Event]) -> int:
    """Mark `ok` (checked now) the copies at `location` of every file row of the package
    whose content path (relative to the object root) was verified there; append `events`.
    Returns how many copies were recorded. One transaction."""
    eventlog.lock_chain(session)
    target = location_id(session, location)
    verified_paths = set(verified)
    files = session.execute(
        select(FileRecord.id, FileRecord.content_path)
        .where(FileRecord.package_id == package_id)).all()
    existing = {c.file_id: c for c in session.scalars(
        select(CopyRecord).join(FileRecord, CopyRecord.file_id == FileRecord.id)
        .where(FileRecord.package_id == package_id)
        .where(CopyRecord.location_id == target))}
    recorded = 0
    for file_id, content_path in files:
        if content_path not in verified_paths:
            continue
        copy = existing.get(file_id)
        if copy is None:
            session.add(CopyRecord(file_id=file_id, location_id=target,
                                   content_path=content_path, status="ok",
                                   last_fixity_at=checked_at, last_fixity_outcome="pass"))
        else:
            copy.status, copy.last_fixity_at, copy.last_fixity_outcome = ("ok", checked_at,
                                                                          "pass")
        recorded += 1
    eventlog.append(session, events)
    return recorded


def copies_to_repair(session: Session, package_id: str | None,
                     location: str | None) -> list[CopyToRepair]:
    """Every damaged or missing copy (of one package / at one location when given)."""
    query = (select(CopyRecord, FileRecord, LocationRecord.name)
             .join(FileRecord, CopyRecord.file_id == FileRecord.id)
             .join(LocationRecord, CopyRecord.location_id == LocationRecord.id)
             .where(CopyRecord.status.in_(("damaged", "missing")))
             .order_by(FileRecord.package_id, LocationRecord.name, FileRecord.content_path,
                       FileRecord.id))
    if package_id is not None:
        query = query.where(FileRecord.package_id == package_id)
    if location is not None:
        query = query.where(LocationRecord.name == location)
    return [CopyToRepair(f.id, f.package_id, f.version, f.path, f.content_path, f.size,
                         f.sha256, f.sha512, name, c.status)
            for c, f, name in session.execute(query)]


def ok_locations(session: Session, file_id: int) -> list[str]:
    """The locations whose copy of this file the catalog holds as `ok`."""
    return list(session.scalars(
        select(LocationRecord.name)
        .join(CopyRecord, CopyRecord.location_id == LocationRecord.id)
        .where(CopyRecord.file_id == file_id).where(CopyRecord.status == "ok")
        .order_by(LocationRecord.id)))


def set_copy_status(session: Session, file_ids: Iterable[int], location: str, status: str,
                    checked_at: dt.datetime, events: Sequence[Event]) -> int:
    """Set the status of these files' copies at `location` (after a repair: ok, checked
    now), append `events`; one transaction. Returns how many copies changed."""
    eventlog.lock_chain(session)
    target = location_id(session, location)
    changed = 0
    ids = list(file_ids)
    for copy in session.scalars(select(CopyRecord).where(CopyRecord.location_id == target)
                                .where(CopyRecord.file_id.in_(ids))):
        copy.status = status
        copy.last_fixity_at = checked_at
        copy.last_fixity_outcome = "pass" if status == "ok" else "fail"
        changed += 1
    eventlog.append(session, events)
    return changed


def contents_lacking(session: Session, package_id: str, location: str
                     ) -> list[tuple[str, int, str]]:
    """(content path, size, sha512) of the package's content that has no `ok` copy at
    `location`, each content path once (versions share unchanged content)."""
    target = session.scalar(select(LocationRecord.id).where(LocationRecord.name == location))
    held = select(CopyRecord.file_id).where(CopyRecord.status == "ok")
    if target is not None:
        held = held.where(CopyRecord.location_id == target)
    else:
        held = held.where(false())
    rows = session.execute(
        select(FileRecord.content_path, FileRecord.size, FileRecord.sha512)
        .where(FileRecord.package_id == package_id)
        .where(FileRecord.id.not_in(held))
        .order_by(FileRecord.content_path))
    seen: dict[str, tuple[str, int, str]] = {}
    for content_path, size, sha512 in rows:
        seen.setdefault(content_path, (content_path, size, sha512))
    return list(seen.values())


def damaged_at(session: Session, location: str, package_id: str | None) -> list[AuditCopy]:
    """The copies at `location` marked damaged or missing, as an audit re-checks them."""
    query = (select(CopyRecord.file_id, CopyRecord.location_id, FileRecord.package_id,
                    FileRecord.version, FileRecord.path, CopyRecord.content_path,
                    FileRecord.size, FileRecord.sha256, FileRecord.sha512,
                    CopyRecord.last_fixity_at)
             .join(FileRecord, CopyRecord.file_id == FileRecord.id)
             .join(LocationRecord, CopyRecord.location_id == LocationRecord.id)
             .where(LocationRecord.name == location)
             .where(CopyRecord.status.in_(("damaged", "missing")))
             .order_by(CopyRecord.file_id))
    if package_id is not None:
        query = query.where(FileRecord.package_id == package_id)
    return [AuditCopy(*row) for row in session.execute(query)]
