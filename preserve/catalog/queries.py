"""Paged read queries computed in SQL, for the service layer (issue 15, "First: a service
layer"): one page of rows and the total, never every row loaded into Python.

Each function takes an open `Session` (the `Catalog` methods that wrap them open it) and
returns frozen dataclasses; ORM records never leave `preserve.catalog`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from preserve.catalog import search
from preserve.catalog.records import (
    CopyRecord,
    DepositRecord,
    FileRecord,
    PackageIdentifierRecord,
    PackageRecord,
    PackageVersionRecord,
)

T = TypeVar("T")

#: The sort orders `package_page` accepts: oldest first (as `preserve list`), newest first, id.
PackageSort = Literal["created", "-created", "id"]
MAX_PER_PAGE = 500


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a query: `items`, the `total` of rows matching, 1-based `page`."""

    items: tuple[T, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True, slots=True)
class PackageRow:
    """One package in a listing: counts are those of the head version (as `preserve list`);
    `problem_copies` counts damaged or missing copies of any version's files."""

    package_id: str
    title: str | None
    external_identifiers: tuple[str, ...]
    versions: int
    files: int
    bytes: int
    created: dt.datetime
    latest_version_created: dt.datetime | None
    problem_copies: int


def bounds(page: int, per_page: int) -> tuple[int, int]:
    """`page` and `per_page` checked: ValueError unless page >= 1 and per_page in range."""
    return _bounds(page, per_page)


def _bounds(page: int, per_page: int) -> tuple[int, int]:
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"page must be >= 1 and per_page in 1..{MAX_PER_PAGE}")
    return page, per_page


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def package_page(session: Session, *, page: int = 1, per_page: int = 50,
                 text: str | None = None, sort: PackageSort = "created",
                 depositor: str | None = None, puid: str | None = None,
                 since: dt.datetime | None = None,
                 until: dt.datetime | None = None) -> Page[PackageRow]:
    """Packages, `per_page` at a time. `text` matches a part of the package id, of an
    external identifier or of the catalog title, ignoring case in every script and the
    okina's many apostrophes (catalog/search.py).
    Filters: `depositor`, a part of the Source-Organization of an accepted deposit of the
    package (any case); `puid`, a PRONOM identifier of one of its files (exact); `since` and
    `until`, the package's first ingest at or after / before."""
    page, per_page = _bounds(page, per_page)
    where: list[ColumnElement[bool]] = []
    if depositor:
        where.append(PackageRecord.id.in_(
            select(DepositRecord.package_id).where(
                DepositRecord.status == "accepted",
                func.lower(DepositRecord.depositor).like(func.lower(_like(depositor)),
                                                         escape="\\"))))
    if puid:
        where.append(PackageRecord.id.in_(
            select(FileRecord.package_id).where(FileRecord.format == puid)))
    if since is not None:
        where.append(PackageRecord.created >= since)
    if until is not None:
        where.append(PackageRecord.created < until)
    if text:
        where.append(search.matches(session, text))
    total = session.scalar(select(func.count()).select_from(PackageRecord).where(*where)) or 0
    order = {"created": (PackageRecord.created, PackageRecord.id),
             "-created": (PackageRecord.created.desc(), PackageRecord.id.desc()),
             "id": (PackageRecord.id,)}[sort]
    # The index on (created, id) (migration 0011) lets a page stop after its rows.
    ids_on_page = list(session.scalars(
        select(PackageRecord.id).where(*where).order_by(*order)
        .limit(per_page).offset((page - 1) * per_page)))
    counts = (select(PackageVersionRecord.package_id,
                     func.count().label("versions"),
                     func.max(PackageVersionRecord.number).label("head"))
              .where(PackageVersionRecord.package_id.in_(ids_on_page))
              .group_by(PackageVersionRecord.package_id).subquery())
    head = PackageVersionRecord
    rows = session.execute(
        select(PackageRecord.id, PackageRecord.title, PackageRecord.created, counts.c.versions,
               head.file_count, head.byte_count, head.created)
        .where(PackageRecord.id.in_(ids_on_page))
        .outerjoin(counts, counts.c.package_id == PackageRecord.id)
        .outerjoin(head, and_(head.package_id == PackageRecord.id, head.number == counts.c.head))
    ).all()
    identifiers: dict[str, list[str]] = {}
    for pid, identifier in session.execute(
            select(PackageIdentifierRecord.package_id, PackageIdentifierRecord.identifier)
            .where(PackageIdentifierRecord.package_id.in_(ids_on_page))
            .order_by(PackageIdentifierRecord.package_id, PackageIdentifierRecord.type,
                      PackageIdentifierRecord.identifier)):
        identifiers.setdefault(pid, []).append(identifier)
    problems: dict[str, int] = dict(session.execute(
        select(FileRecord.package_id, func.count())
        .join(CopyRecord, CopyRecord.file_id == FileRecord.id)
        .where(FileRecord.package_id.in_(ids_on_page), CopyRecord.status != "ok")
        .group_by(FileRecord.package_id)).all())
    by_id = {r[0]: PackageRow(
        package_id=r[0], title=r[1], external_identifiers=tuple(identifiers.get(r[0], ())),
        versions=r[3] or 0, files=r[4] or 0, bytes=r[5] or 0, created=r[2],
        latest_version_created=r[6], problem_copies=int(problems.get(r[0], 0)))
        for r in rows}
    return Page(tuple(by_id[i] for i in ids_on_page), int(total), page, per_page)
