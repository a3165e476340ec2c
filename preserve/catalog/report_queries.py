"""The repository report's figures (`preserve report`, issue 16 §6), each one grouped SQL query.

Everything is counted by the database (GROUP BY with COUNT/SUM), on SQLite and PostgreSQL
alike: the report costs a handful of queries whatever the size of the catalog. Years and
months come from `EXTRACT`, which SQLAlchemy renders for both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, extract, func, select
from sqlalchemy.orm import Session, aliased

from preserve.catalog.records import (
    CopyRecord,
    DepositRecord,
    FileRecord,
    LocationRecord,
    PackageRecord,
    PackageVersionRecord,
)


def holdings_by_year(session: Session) -> list[dict[str, Any]]:
    """Per year a version was stored: packages first stored that year, versions, files, bytes
    (the files each version added; a file carried unchanged into a later version is not
    counted again, as the catalog lists each version's files once)."""
    year = extract("year", PackageVersionRecord.created)
    rows = session.execute(
        select(year.label("year"),
               func.count(func.distinct(case((PackageVersionRecord.number == 1,
                                              PackageVersionRecord.package_id)))),
               func.count(PackageVersionRecord.id),
               func.coalesce(func.sum(PackageVersionRecord.file_count), 0),
               func.coalesce(func.sum(PackageVersionRecord.byte_count), 0))
        .group_by(year).order_by(year))
    return [{"year": int(y), "packages": int(p), "versions": int(v), "files": int(f),
             "bytes": int(b)} for y, p, v, f, b in rows]


def holdings_by_depositor(session: Session) -> list[dict[str, Any]]:
    """Per depositor (the deposit's Source-Organization; None: not known) and year: packages
    first stored, versions, files, bytes."""
    year = extract("year", PackageVersionRecord.created)
    # A version made without a deposit (describe, rights --add: metadata only) belongs to the
    # depositor of the package's first accepted deposit.
    first = (select(DepositRecord.package_id, func.min(DepositRecord.id).label("deposit_id"))
             .where(DepositRecord.status == "accepted").group_by(DepositRecord.package_id)
             .subquery())
    original = aliased(DepositRecord)
    depositor = func.coalesce(DepositRecord.depositor, original.depositor)
    rows = session.execute(
        select(depositor, year,
               func.count(func.distinct(case((PackageVersionRecord.number == 1,
                                              PackageVersionRecord.package_id)))),
               func.count(PackageVersionRecord.id),
               func.coalesce(func.sum(PackageVersionRecord.file_count), 0),
               func.coalesce(func.sum(PackageVersionRecord.byte_count), 0))
        .select_from(PackageVersionRecord)
        .outerjoin(DepositRecord, DepositRecord.id == PackageVersionRecord.deposit_id)
        .outerjoin(first, first.c.package_id == PackageVersionRecord.package_id)
        .outerjoin(original, original.id == first.c.deposit_id)
        .group_by(depositor, year).order_by(depositor, year))
    return [{"depositor": who, "year": int(y), "packages": int(p), "versions": int(v),
             "files": int(f), "bytes": int(b)} for who, y, p, v, f, b in rows]


def formats(session: Session) -> list[dict[str, Any]]:
    """Payload files held and their bytes per PRONOM PUID (None: not identified), most files
    first, with PRONOM's
    format name and version as siegfried gave them at identification (`files.format_name`,
    migration 0011). A PUID's files identified before 0011 have no name; the name any of its
    files has is shown (MAX: one answer if signature updates named it differently)."""
    count = func.count(FileRecord.id)
    # What is held: the payload files of each package's head version (not every version's
    # rows again, not tag and metadata files), of packages not deaccessioned.
    head = (select(PackageVersionRecord.package_id,
                   func.max(PackageVersionRecord.number).label("number"))
            .group_by(PackageVersionRecord.package_id).subquery())
    rows = session.execute(
        select(FileRecord.format, func.max(FileRecord.format_name),
               func.max(FileRecord.format_version), count,
               func.coalesce(func.sum(FileRecord.size), 0))
        .join(head, and_(head.c.package_id == FileRecord.package_id,
                         head.c.number == FileRecord.version))
        .join(PackageRecord, PackageRecord.id == FileRecord.package_id)
        .where(FileRecord.path.startswith("data/"), PackageRecord.state == "active")
        .group_by(FileRecord.format).order_by(count.desc(), FileRecord.format))
    return [{"puid": puid, "name": name or "", "version": version or "", "files": int(n),
             "bytes": int(b)} for puid, name, version, n, b in rows]


def storage(session: Session) -> list[dict[str, Any]]:
    """Per location: copies and bytes by status (ok, damaged, missing)."""
    def by(status: str) -> Any:
        return func.coalesce(func.sum(case((CopyRecord.status == status, 1), else_=0)), 0)

    def bytes_by(status: str) -> Any:
        return func.coalesce(func.sum(case((CopyRecord.status == status, FileRecord.size),
                                           else_=0)), 0)

    rows = session.execute(
        select(LocationRecord.name, func.count(CopyRecord.file_id), bytes_by("ok"), by("ok"),
               by("damaged"), by("missing"))
        .select_from(LocationRecord)
        .outerjoin(CopyRecord, CopyRecord.location_id == LocationRecord.id)
        .outerjoin(FileRecord, CopyRecord.file_id == FileRecord.id)
        .group_by(LocationRecord.name).order_by(LocationRecord.name))
    return [{"location": name, "copies": int(c), "bytes": int(b), "ok": int(ok),
             "damaged": int(d), "missing": int(m)} for name, c, b, ok, d, m in rows]


def audit_coverage(session: Session, now: dt.datetime, interval: dt.timedelta
                   ) -> dict[str, Any]:
    """Copies checked within the audit interval, overdue (never or too long ago), damaged or
    missing."""
    since = now - interval
    recent = and_(CopyRecord.last_fixity_at.is_not(None), CopyRecord.last_fixity_at >= since)
    row = session.execute(
        select(func.count(),
               func.coalesce(func.sum(case((recent, 1), else_=0)), 0),
               func.coalesce(func.sum(case((CopyRecord.status == "damaged", 1), else_=0)), 0),
               func.coalesce(func.sum(case((CopyRecord.status == "missing", 1), else_=0)), 0))
        .select_from(CopyRecord)).one()
    total, checked, damaged, missing = (int(v) for v in row)
    return {"copies": total, "checked_within_interval": checked, "overdue": total - checked,
            "damaged": damaged, "missing": missing,
            "interval_days": round(interval.total_seconds() / 86400, 3)}


def deposits_by_month(session: Session) -> list[dict[str, Any]]:
    """Deposit attempts per month started: accepted (ingested), rejected, failed."""
    year = extract("year", DepositRecord.started)
    month = extract("month", DepositRecord.started)

    def status(name: str) -> Any:
        return func.coalesce(func.sum(case((DepositRecord.status == name, 1), else_=0)), 0)

    rows = session.execute(
        select(year, month, func.count(DepositRecord.id), status("accepted"),
               status("rejected"), status("failed"))
        .group_by(year, month).order_by(year, month))
    return [{"month": f"{int(y):04d}-{int(m):02d}", "deposits": int(n), "accepted": int(a),
             "rejected": int(r), "failed": int(f)} for y, m, n, a, r, f in rows]


def report_figures(session: Session, now: dt.datetime, interval: dt.timedelta
                   ) -> dict[str, Any]:
    """Every figure of the report, in one read transaction."""
    return {"holdings_by_year": holdings_by_year(session),
            "holdings_by_depositor": holdings_by_depositor(session), "formats": formats(session),
            "storage": storage(session), "audit": audit_coverage(session, now, interval),
            "deposits_by_month": deposits_by_month(session)}
