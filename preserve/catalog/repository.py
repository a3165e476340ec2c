"""The catalog: the one class the rest of preserve talks to (DESIGN.md, "Catalog").

Every public method is one transaction and returns frozen dataclasses (`views.py`); ORM
records never leave this module. Events are appended to the hash chain by `eventlog.py`,
one writer at a time; transactions that append take the chain lock before any other write.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from preserve.catalog import audits, copies, eventlog, queries, report_queries, search
from preserve.catalog.account_catalog import AccountCatalog
from preserve.catalog.audit_catalog import AuditCatalog
from preserve.catalog.deaccession_catalog import DeaccessionCatalog
from preserve.catalog.engine import (
    HEAD_REVISION,
    display_url,
    is_read_only,
    make_engine,
    read_revision,
    require_sqlite_file,
    unreachable,
)
from preserve.catalog.job_catalog import JobCatalog
from preserve.catalog.records import (
    EXTERNAL_IDENTIFIER,
    CopyRecord,
    DepositRecord,
    FileRecord,
    LocationRecord,
    PackageIdentifierRecord,
    PackageRecord,
    PackageVersionRecord,
)
from preserve.catalog.views import (
    AdoptionRecord,
    ChainReport,
    CopyView,
    DepositView,
    EventView,
    FileView,
    IngestRecord,
    PackageDetail,
    PackageSummary,
    VersionView,
)
from preserve.errors import CatalogError, MigrationNeeded, PackageNotFound, PreserveError
from preserve.model import ChainHead, Event, Finding, Severity

log = logging.getLogger(__name__)

#: Statuses a deposit can finish with.
FINISHED_STATUSES = ("accepted", "rejected", "failed")
#: Files (and their copies) inserted per statement by `record_ingest`.
FILE_BATCH = 4000


class ChainAnchor(Protocol):
    """Where the event log's head is kept outside the catalog (storage/chainhead.py)."""

    def read(self) -> ChainHead | None: ...

    def advance(self, head: ChainHead) -> bool: ...


class Catalog(AuditCatalog, JobCatalog, DeaccessionCatalog, AccountCatalog):
    """The SQL catalog at `url` (SQLite or PostgreSQL), which must be at HEAD_REVISION.

    With `anchor`, every transaction that appends events hands the chain's new head to it
    after the commit, and `verify_chain` compares the log with the anchored head.
    """

    def __init__(self, url: str, anchor: ChainAnchor | None = None) -> None:
        self._url = url
        require_sqlite_file(url)
        #: a SQLite file this process can only read (a replica, a snapshot): readers work,
        #: writers get a clear CatalogError, and the anchor in storage is not moved
        self.read_only = is_read_only(url)
        self._anchor = anchor
        self._engine = make_engine(url)
        try:
            self._check_revision()
        except BaseException:
            self._engine.dispose()
            raise
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def _check_revision(self) -> None:
        try:
            with self._engine.connect() as connection:
                current = read_revision(connection)
        except SQLAlchemyError as exc:
            raise unreachable(self._url, exc) from None
        if current != HEAD_REVISION:
            raise MigrationNeeded(
                url=display_url(self._url), current=current or "none (empty)", head=HEAD_REVISION
            )

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalog({display_url(self._url)!r})"

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """One session in one transaction; database failures become CatalogError."""
        try:
            with self._sessions() as session:
                with session.begin():
                    yield session
                head = session.info.pop("chain_head", None)
            if head is not None and self._anchor is not None:
                self._advance_anchor(head)
        except IntegrityError as exc:
            raise CatalogError(
                detail=f"the catalog refused the change: {_first_line(exc)}"
            ) from None
        except StatementError as exc:
            if isinstance(exc.orig, (ValueError, TypeError)):  # a bad value, e.g. a naive time
                raise exc.orig from None
            raise unreachable(self._url, exc) from None
        except SQLAlchemyError as exc:
            raise unreachable(self._url, exc) from None

    def _advance_anchor(self, head: ChainHead) -> None:
        if self.read_only:  # verify still compares with the anchor; nothing moves it here
            return
        try:
            self._anchor.advance(head)  # type: ignore[union-attr]
        except (OSError, PreserveError) as exc:
            # The events are committed; the anchor only lags (audit and log verify say so).
            log.warning("could not anchor the event log head (%s events) in storage: %s",
                        head.events, exc)

    # --- deposits -------------------------------------------------------------------------

    def begin_deposit(self, *, source: str, kind: str, started: dt.datetime) -> int:
        """Record the start of a deposit attempt; returns its id."""
        with self._transaction() as session:
            record = DepositRecord(
                source=source, kind=kind, status="in_progress", started=started, findings=[],
                error_count=0, warning_count=0,
            )
            session.add(record)
            session.flush()
            return record.id

    def finish_deposit(
        self,
        deposit_id: int,
        *,
        status: str,
        findings: Sequence[Finding],
        finished: dt.datetime,
        package_id: str | None = None,
        version: int | None = None,
        events: Sequence[Event] = (),
    ) -> None:
        """Close a deposit attempt and append its events, in one transaction."""
        if status not in FINISHED_STATUSES:
            raise ValueError(f"a deposit finishes as one of {FINISHED_STATUSES}, not {status!r}")
        with self._transaction() as session:
            if events:
                eventlog.lock_chain(session)
            record = _deposit(session, deposit_id)
            _finish(record, status, findings, finished, package_id, version)
            eventlog.append(session, events)

    def set_depositor(self, deposit_id: int, depositor: str | None) -> None:
        """Record who handed the deposit in (its Source-Organization), for the report."""
        with self._transaction() as session:
            _deposit(session, deposit_id).depositor = depositor

    def deposit_in_progress(self, deposit_id: int) -> bool:
        """Whether deposit attempt `deposit_id` exists and is not finished yet."""
        with self._transaction() as session:
            record = session.get(DepositRecord, deposit_id)
            return record is not None and record.status == "in_progress"

    def deposits(self) -> list[DepositView]:
        with self._transaction() as session:
            records = session.scalars(select(DepositRecord).order_by(DepositRecord.id))
            return [_deposit_view(r) for r in records]

    def deposit_page(self, *, page: int = 1, per_page: int = 50,
                     status: str | None = None) -> queries.Page[DepositView]:
        """Deposit attempts, newest first, `per_page` at a time (and only those of `status`:
        accepted, rejected, failed, in_progress), computed in SQL."""
        page, per_page = queries.bounds(page, per_page)
        where = [DepositRecord.status == status] if status else []
        with self._transaction() as session:
            total = session.scalar(
                select(func.count()).select_from(DepositRecord).where(*where)) or 0
            records = session.scalars(
                select(DepositRecord).where(*where).order_by(DepositRecord.id.desc())
                .limit(per_page).offset((page - 1) * per_page))
            return queries.Page(tuple(_deposit_view(r) for r in records), int(total), page,
                                per_page)

    # --- locations and look-ups -----------------------------------------------------------

    def ensure_location(self, name: str, uri: str) -> None:
        """Make sure location `name` exists and points at `uri`."""
        with self._transaction() as session:
            record = session.scalar(select(LocationRecord).where(LocationRecord.name == name))
            if record is None:
                session.add(LocationRecord(name=name, uri=uri))
            elif record.uri != uri:
                log.warning("location %s moved from %s to %s", name, record.uri, uri)
                record.uri = uri

    def report_figures(self, now: dt.datetime, interval: dt.timedelta) -> dict[str, Any]:
        """Every figure of `preserve report` (catalog/report_queries.py), one transaction."""
        with self._transaction() as session:
            return report_queries.report_figures(session, now, interval)

    def location_holdings(self) -> list[copies.LocationHoldings]:
        with self._transaction() as session:
            return copies.holdings(session)

    def package_copies(self, package_ids: Sequence[str] | None = None
                       ) -> list[copies.PackageCopies]:
        with self._transaction() as session:
            return copies.package_copies(session, package_ids)

    def record_replica(self, package_id: str, location: str, verified: Sequence[str],
                       checked_at: dt.datetime, events: Sequence[Event]) -> int:
        with self._transaction() as session:
            return copies.record_replica(session, package_id, location, verified, checked_at,
                                         events)

    def copies_to_repair(self, package_id: str | None = None, location: str | None = None
                         ) -> list[copies.CopyToRepair]:
        with self._transaction() as session:
            return copies.copies_to_repair(session, package_id, location)

    def contents_lacking(self, package_id: str, location: str) -> list[tuple[str, int, str]]:
        with self._transaction() as session:
            return copies.contents_lacking(session, package_id, location)

    def damaged_copies_at(self, location: str, package_id: str | None = None
                          ) -> list[audits.AuditCopy]:
        with self._transaction() as session:
            return copies.damaged_at(session, location, package_id)

    def ok_locations(self, file_id: int) -> list[str]:
        with self._transaction() as session:
            return copies.ok_locations(session, file_id)

    def set_copy_status(self, file_ids: Sequence[int], location: str, status: str,
                        checked_at: dt.datetime, events: Sequence[Event]) -> int:
        with self._transaction() as session:
            return copies.set_copy_status(session, file_ids, location, status, checked_at,
                                          events)

    def package_exists(self, package_id: str) -> bool:
        with self._transaction() as session:
            return session.get(PackageRecord, package_id) is not None

    def packages_with_identifiers(self, identifiers: Sequence[str]) -> dict[str, str]:
        """Which of `identifiers` (External-Identifier) are held already: identifier -> package."""
        if not identifiers:
            return {}
        with self._transaction() as session:
            rows = session.execute(
                select(PackageIdentifierRecord.identifier, PackageIdentifierRecord.package_id)
                .where(PackageIdentifierRecord.type == EXTERNAL_IDENTIFIER)
                .where(PackageIdentifierRecord.identifier.in_(list(identifiers)))
                .order_by(PackageIdentifierRecord.package_id)
            )
            found: dict[str, str] = {}
            for identifier, package_id in rows:
                found.setdefault(identifier, package_id)
            return found

    def head_version(self, package_id: str) -> int | None:
        """The highest version number recorded for `package_id`; None if it is unknown."""
        with self._transaction() as session:
            return session.scalar(
                select(func.max(PackageVersionRecord.number))
                .where(PackageVersionRecord.package_id == package_id)
            )

    def resolve_package(self, reference: str) -> str:
        """The id of the package `reference` names: its id, or else an identifier recorded
        for exactly one package (External-Identifier, the sender's ids). PackageNotFound
        otherwise (also when an identifier is shared by several packages: give the id)."""
        with self._transaction() as session:
            if session.get(PackageRecord, reference) is not None:
                return reference
            owners = sorted(set(session.scalars(
                select(PackageIdentifierRecord.package_id)
                .where(PackageIdentifierRecord.identifier == reference))))
        if len(owners) == 1:
            return owners[0]
        raise PackageNotFound(package_id=reference)

    def head_fingerprint(self, package_id: str) -> tuple[int, str] | None:
        """(number, payload fingerprint) of the package's newest version; None if unknown."""
        with self._transaction() as session:
            row = session.execute(
                select(PackageVersionRecord.number, PackageVersionRecord.payload_fingerprint)
                .where(PackageVersionRecord.package_id == package_id)
                .order_by(PackageVersionRecord.number.desc()).limit(1)).first()
            return (row[0], row[1]) if row is not None else None

    def package_with_fingerprint(self, fingerprint: str) -> str | None:
        """The package any of whose versions has exactly this payload fingerprint, if any."""
        with self._transaction() as session:
            return session.scalar(
                select(PackageVersionRecord.package_id)
                .where(PackageVersionRecord.payload_fingerprint == fingerprint)
                .order_by(PackageVersionRecord.id)
                .limit(1)
            )

    def held_formats(self, package_id: str) -> dict[str, tuple[str, str, str, int, str]]:
        """PRONOM formats the package's files were identified as, by content: sha512 ->
        (PUID, name, version, version number, path) of the newest identified file with that
        content. Files never identified (or not identified as anything) are left out."""
        with self._transaction() as session:
            rows = session.execute(
                select(FileRecord.sha512, FileRecord.format, FileRecord.format_name,
                       FileRecord.format_version, FileRecord.version, FileRecord.path)
                .where(FileRecord.package_id == package_id, FileRecord.format.is_not(None))
                .order_by(FileRecord.version, FileRecord.id))
            return {sha512: (str(puid), name, version, number, path)
                    for sha512, puid, name, version, number, path in rows}

    # --- ingest ---------------------------------------------------------------------------

    def record_ingest(self, ingest: IngestRecord, events: Sequence[Event]) -> None:
        """Record a stored version, its files, copies and events, and accept its deposit.

        One transaction: the packages row (created for version 1; title, identifiers and
        fingerprint updated for later versions), the package_versions row, a files row and a
        copies row per logical file, the events (hash-chained), and the deposits row, which
        becomes `accepted` with `finished = ingest.created`.
        """
        with self._transaction() as session:
            eventlog.lock_chain(session)  # first, so no row lock is held while waiting for it
            deposit = _deposit(session, ingest.deposit_id)
            location = session.scalar(
                select(LocationRecord).where(LocationRecord.name == ingest.location)
            )
            if location is None:
                raise CatalogError(
                    detail=f"unknown location {ingest.location!r}; call ensure_location first"
                )
            _upsert_package(session, ingest)
            payload = [f for f in ingest.files if f.path.startswith("data/")]
            session.add(
                PackageVersionRecord(
                    package_id=ingest.package_id,
                    number=ingest.version,
                    created=ingest.created,
                    message=ingest.message,
                    deposit_id=ingest.deposit_id,
                    # Counts are of the payload (data/), what the depositor handed in; tag
                    # and metadata files are listed in `files` too but not counted here.
                    file_count=len(payload),
                    byte_count=sum(f.size for f in payload),
                    payload_fingerprint=ingest.payload_fingerprint,
                    inventory_sha512=ingest.inventory_sha512,
                )
            )
            session.flush()
            # Bulk INSERT ... RETURNING (one statement per batch, not one ORM object per
            # file): 20,000 files take a fraction of a second instead of seconds. In batches
            # of FILE_BATCH inside this one transaction, so the parameters of 200,000 rows
            # are never built at once (docs/performance.md, "Memory per file").
            for start in range(0, len(ingest.files), FILE_BATCH):
                batch = ingest.files[start:start + FILE_BATCH]
                file_ids = session.scalars(
                    insert(FileRecord).returning(FileRecord.id, sort_by_parameter_order=True),
                    [dict(package_id=ingest.package_id, version=ingest.version, path=f.path,
                          size=f.size, sha256=f.sha256, sha512=f.sha512, format=f.format,
                          format_name=f.format_name, format_version=f.format_version,
                          content_path=f.content_path) for f in batch],
                ).all()
                session.execute(
                    insert(CopyRecord),
                    [dict(file_id=file_id, location_id=location.id,
                          content_path=f.content_path, status="ok")
                     for file_id, f in zip(file_ids, batch, strict=True)],
                )
            eventlog.append(session, events)
            _finish(deposit, "accepted", ingest.findings, ingest.created,
                    ingest.package_id, ingest.version)

    # --- packages -------------------------------------------------------------------------

    def package_page(self, *, page: int = 1, per_page: int = 50, text: str | None = None,
                     sort: queries.PackageSort = "created", depositor: str | None = None,
                     puid: str | None = None, since: dt.datetime | None = None,
                     until: dt.datetime | None = None) -> queries.Page[queries.PackageRow]:
        """One page of packages computed in SQL (preserve/catalog/queries.py)."""
        with self._transaction() as session:
            return queries.package_page(session, page=page, per_page=per_page, text=text,
                                        sort=sort, depositor=depositor, puid=puid,
                                        since=since, until=until)

    def list_packages(self) -> list[PackageSummary]:
        with self._transaction() as session:
            packages = session.scalars(
                select(PackageRecord).order_by(PackageRecord.created, PackageRecord.id)
            ).all()
            identifiers = _identifiers(session, None)
            damaged: dict[str, int] = defaultdict(int)
            for problem in audits.open_problems(session):
                damaged[problem.package_id] += 1
            heads: dict[str, PackageVersionRecord] = {}
            counts: dict[str, int] = defaultdict(int)
            for version in session.scalars(select(PackageVersionRecord)):
                counts[version.package_id] += 1
                head = heads.get(version.package_id)
                if head is None or version.number > head.number:
                    heads[version.package_id] = version
            summaries = []
            for p in packages:
                head = heads.get(p.id)
                summaries.append(
                    PackageSummary(
                        package_id=p.id, title=p.title,
                        external_identifiers=tuple(identifiers.get(p.id, ())),
                        versions=counts[p.id],
                        files=head.file_count if head else 0,
                        bytes=head.byte_count if head else 0,
                        created=p.created,
                        open_problems=damaged.get(p.id, 0),
                        state=p.state,
                    )
                )
            return summaries

    def get_package(self, package_id: str) -> PackageDetail:
        with self._transaction() as session:
            package = session.get(PackageRecord, package_id)
            if package is None:
                raise PackageNotFound(package_id=package_id)
            versions = session.scalars(
                select(PackageVersionRecord)
                .where(PackageVersionRecord.package_id == package_id)
                .order_by(PackageVersionRecord.number)
            )
            copies: dict[int, list[CopyView]] = defaultdict(list)
            copy_rows = session.execute(
                select(CopyRecord, LocationRecord.name)
                .join(LocationRecord, CopyRecord.location_id == LocationRecord.id)
                .join(FileRecord, CopyRecord.file_id == FileRecord.id)
                .where(FileRecord.package_id == package_id)
                .order_by(LocationRecord.name)
            )
            for copy, location in copy_rows:
                copies[copy.file_id].append(
                    CopyView(location=location, content_path=copy.content_path,
                             status=copy.status, last_fixity_at=copy.last_fixity_at,
                             last_fixity_outcome=copy.last_fixity_outcome)
                )
            files = session.scalars(
                select(FileRecord)
                .where(FileRecord.package_id == package_id)
                .order_by(FileRecord.version, FileRecord.path)
            )
            return PackageDetail(
                package_id=package.id,
                title=package.title,
                external_identifiers=tuple(_identifiers(session, package_id).get(package_id, ())),
                payload_fingerprint=package.payload_fingerprint,
                created=package.created,
                versions=tuple(
                    VersionView(number=v.number, created=v.created, message=v.message,
                                deposit_id=v.deposit_id, file_count=v.file_count,
                                byte_count=v.byte_count, payload_fingerprint=v.payload_fingerprint)
                    for v in versions
                ),
                files=tuple(
                    FileView(version=f.version, path=f.path, size=f.size, sha256=f.sha256,
                             sha512=f.sha512, format=f.format, content_path=f.content_path,
                             copies=tuple(copies.get(f.id, ())), format_name=f.format_name,
                             format_version=f.format_version)
                    for f in files
                ),
                events=tuple(eventlog.event_views(session, package_id)),
                open_problems=tuple(audits.open_problems(session, package_id=package_id)),
                state=package.state,
            )

    # --- events ---------------------------------------------------------------------------

    def events(self, package_id: str | None = None) -> list[EventView]:
        """Events in log order, all or those of one package."""
        with self._transaction() as session:
            return list(eventlog.event_views(session, package_id))

    def event_page(self, *, package_id: str | None = None, page: int = 1,
                   per_page: int = 50) -> queries.Page[EventView]:
        """Events newest first, `per_page` at a time, all or one package's, in SQL."""
        page, per_page = queries.bounds(page, per_page)
        with self._transaction() as session:
            total, views = eventlog.event_page(session, package_id, limit=per_page,
                                               offset=(page - 1) * per_page)
            return queries.Page(tuple(views), total, page, per_page)

    def known_event_identifiers(self, identifiers: Sequence[str]) -> set[str]:
        """Those of `identifiers` that events in the log already have."""
        found: set[str] = set()
        with self._transaction() as session:
            for start in range(0, len(identifiers), 500):  # bounded IN lists
                found.update(eventlog.known_identifiers(session, identifiers[start:start + 500]))
        return found

    def append_events(self, events: Sequence[Event]) -> list[EventView]:
        """Append events to the log (hash-chained, in order); returns them as stored."""
        if not events:
            return []
        with self._transaction() as session:
            eventlog.lock_chain(session)
            return eventlog.append(session, events)

    def record_formats(self, package_id: str, version: int,
                       formats: Mapping[str, tuple[str | None, str, str]], event: Event) -> bool:
        """Set the PRONOM id, format name and version (`format`, `format_name`,
        `format_version`) of files of one version, by logical path, and append `event`, in one
        transaction; nothing if an event with `event.identifier` is already in the log.

        The check runs after the chain lock is taken, so two runs of a deferred
        identification (a job retried after a kill) record one event between them.
        Returns whether this call recorded it."""
        if event.identifier is None:
            raise ValueError("record_formats needs an event with a fixed identifier")
        with self._transaction() as session:
            eventlog.lock_chain(session)
            if eventlog.known_identifiers(session, [event.identifier]):
                return False
            if formats:
                session.connection().execute(
                    update(FileRecord)
                    .where(FileRecord.package_id == bindparam("p_package"),
                           FileRecord.version == bindparam("p_version"),
                           FileRecord.path == bindparam("p_path"))
                    .values(format=bindparam("p_format"), format_name=bindparam("p_name"),
                            format_version=bindparam("p_format_version")),
                    [{"p_package": package_id, "p_version": version, "p_path": path,
                      "p_format": puid, "p_name": name, "p_format_version": format_version}
                     for path, (puid, name, format_version) in formats.items()])
            eventlog.append(session, [event])
        return True

    def verify_chain(self, anchored: ChainHead | None = None) -> ChainReport:
        """Recompute every event's hash and link; report the first bad row.

        The chain is compared with `anchored`, or else with the head kept by this catalog's
        anchor (StorageError if it cannot be read). A chain that verifies and reaches beyond
        the anchored head moves the anchor forward (a writer killed between its commit and
        its anchor write, or a repository from before anchoring).
        """
        unreadable = ""
        if anchored is None and self._anchor is not None:
            try:
                anchored = self._anchor.read()
            except PreserveError as exc:
                unreadable = exc.message
        with self._transaction() as session:
            report = eventlog.verify(session, anchored)
        if unreadable:  # a damaged anchor is never silently replaced
            return ChainReport(False, report.checked, report.first_bad_id,
                               report.problem or f"the anchored head cannot be read: {unreadable}",
                               report.head, None)
        if (report.ok and report.head is not None and self._anchor is not None
                and (anchored is None or report.head.events > anchored.events)):
            self._advance_anchor(report.head)
        return report

    @property
    def anchored(self) -> bool:
        """True if this catalog keeps its chain head outside (an anchor was given)."""
        return self._anchor is not None

    def chain_head(self) -> ChainHead:
        """The event log's head in the catalog: how many events, and the last hash."""
        with self._transaction() as session:
            return eventlog.head(session)

    def missing_guards(self) -> list[str]:
        """Append-only triggers of the events table that someone dropped (issue 18)."""
        with self._transaction() as session:
            return eventlog.missing_guards(session)

    # --- reconciliation (preserve check) ---------------------------------------------------

    def adopt(self, adoption: AdoptionRecord, events: Sequence[Event]) -> None:
        """Record versions found in storage without catalog rows, and their events.

        One transaction: the packages row (created if the package is new, else its title,
        identifiers and fingerprint follow the newest version), a package_versions row per
        version (no deposit: none was recorded), files and copies, the events. The versions
        must follow the catalog's head without a gap.
        """
        if not adoption.versions:
            raise ValueError("nothing to adopt: no versions given")
        with self._transaction() as session:
            eventlog.lock_chain(session)
            location = session.scalar(
                select(LocationRecord).where(LocationRecord.name == adoption.location))
            if location is None:
                raise CatalogError(detail=f"unknown location {adoption.location!r}")
            head = session.scalar(
                select(func.max(PackageVersionRecord.number))
                .where(PackageVersionRecord.package_id == adoption.package_id)) or 0
            versions = sorted(adoption.versions, key=lambda v: v.number)
            if versions[0].number != head + 1 or any(
                    b.number != a.number + 1 for a, b in zip(versions, versions[1:], strict=False)):
                raise CatalogError(detail=f"package {adoption.package_id} is at version {head}; "
                                   f"cannot adopt versions {[v.number for v in versions]}")
            newest = versions[-1]
            package = session.get(PackageRecord, adoption.package_id)
            if package is None:
                session.add(PackageRecord(id=adoption.package_id, title=adoption.title,
                                          created=versions[0].created,
                                          payload_fingerprint=newest.payload_fingerprint))
                session.flush()
            else:
                if adoption.title is not None:
                    package.title = adoption.title
                package.payload_fingerprint = newest.payload_fingerprint
            held = set(session.scalars(
                select(PackageIdentifierRecord.identifier)
                .where(PackageIdentifierRecord.package_id == adoption.package_id)
                .where(PackageIdentifierRecord.type == EXTERNAL_IDENTIFIER)))
            for identifier in dict.fromkeys(adoption.external_identifiers):
                if identifier not in held:
                    session.add(PackageIdentifierRecord(package_id=adoption.package_id,
                                                        type=EXTERNAL_IDENTIFIER,
                                                        identifier=identifier))
            search.refresh(session, adoption.package_id)
            for version in versions:
                payload = [f for f in version.files if f.path.startswith("data/")]
                session.add(PackageVersionRecord(
                    package_id=adoption.package_id, number=version.number,
                    created=version.created, message=version.message, deposit_id=None,
                    file_count=len(payload), byte_count=sum(f.size for f in payload),
                    payload_fingerprint=version.payload_fingerprint,
                    inventory_sha512=version.inventory_sha512))
                session.flush()
                if not version.files:
                    continue
                file_ids = session.scalars(
                    insert(FileRecord).returning(FileRecord.id, sort_by_parameter_order=True),
                    [dict(package_id=adoption.package_id, version=version.number, path=f.path,
                          size=f.size, sha256=f.sha256, sha512=f.sha512, format=f.format,
                          format_name=f.format_name, format_version=f.format_version,
                          content_path=f.content_path) for f in version.files],
                ).all()
                session.execute(insert(CopyRecord), [
                    dict(file_id=file_id, location_id=location.id, content_path=f.content_path,
                         status="ok")
                    for file_id, f in zip(file_ids, version.files, strict=True)])
            eventlog.append(session, events)

    def mark_copies(self, package_id: str, location: str, status: str,
                    events: Sequence[Event]) -> int:
        """Set the status of every copy of the package at `location` (e.g. `missing`) and
        append `events`, in one transaction; returns how many copies changed."""
        with self._transaction() as session:
            eventlog.lock_chain(session)
            location_id = session.scalar(
                select(LocationRecord.id).where(LocationRecord.name == location))
            if location_id is None:
                raise CatalogError(detail=f"unknown location {location!r}")
            copies = session.scalars(
                select(CopyRecord)
                .join(FileRecord, CopyRecord.file_id == FileRecord.id)
                .where(FileRecord.package_id == package_id)
                .where(CopyRecord.location_id == location_id)).all()
            changed = 0
            for copy in copies:
                if copy.status != status:
                    copy.status = status
                    changed += 1
            eventlog.append(session, events)
            return changed


# --- helpers (module level: they only need a session) ----------------------------------------


def _first_line(exc: SQLAlchemyError) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _deposit(session: Session, deposit_id: int) -> DepositRecord:
    """The deposit row, which must still be in progress: an attempt is finished only once."""
    record = session.get(DepositRecord, deposit_id)
    if record is None:
        raise CatalogError(detail=f"no deposit with id {deposit_id}; call begin_deposit first")
    if record.status != "in_progress":
        raise CatalogError(detail=f"deposit {deposit_id} is already {record.status}")
    return record


def _finish(
    record: DepositRecord,
    status: str,
    findings: Sequence[Finding],
    finished: dt.datetime,
    package_id: str | None,
    version: int | None,
) -> None:
    record.status = status
    record.finished = finished
    record.package_id = package_id
    record.version = version
    record.findings = [f.as_dict() for f in findings]
    record.error_count = sum(1 for f in findings if f.severity is Severity.ERROR)
    record.warning_count = sum(1 for f in findings if f.severity is Severity.WARNING)


def _upsert_package(session: Session, ingest: IngestRecord) -> None:
    package = session.get(PackageRecord, ingest.package_id)
    if ingest.version == 1:
        if package is not None:
            raise CatalogError(detail=f"package {ingest.package_id} already exists")
        session.add(
            PackageRecord(id=ingest.package_id, title=ingest.title, created=ingest.created,
                          payload_fingerprint=ingest.payload_fingerprint)
        )
        session.flush()
    else:
        if package is None:
            raise PackageNotFound(package_id=ingest.package_id)
        head = session.scalar(
            select(func.max(PackageVersionRecord.number))
            .where(PackageVersionRecord.package_id == ingest.package_id)
        )
        if head != ingest.version - 1:
            raise CatalogError(
                detail=f"package {ingest.package_id} is at version {head}; "
                f"cannot record version {ingest.version}"
            )
        if ingest.title is not None:
            package.title = ingest.title
        package.payload_fingerprint = ingest.payload_fingerprint
    held = set(
        session.scalars(
            select(PackageIdentifierRecord.identifier)
            .where(PackageIdentifierRecord.package_id == ingest.package_id)
            .where(PackageIdentifierRecord.type == EXTERNAL_IDENTIFIER)
        )
    )
    for identifier in dict.fromkeys(ingest.external_identifiers):
        if identifier not in held:
            session.add(PackageIdentifierRecord(
                package_id=ingest.package_id, type=EXTERNAL_IDENTIFIER, identifier=identifier))
    search.refresh(session, ingest.package_id)


def _identifiers(session: Session, package_id: str | None) -> dict[str, list[str]]:
    query = select(PackageIdentifierRecord).where(
        PackageIdentifierRecord.type == EXTERNAL_IDENTIFIER
    )
    if package_id is not None:
        query = query.where(PackageIdentifierRecord.package_id == package_id)
    found: dict[str, list[str]] = defaultdict(list)
    for record in session.scalars(query.order_by(PackageIdentifierRecord.identifier)):
        found[record.package_id].append(record.identifier)
    return found


def _deposit_view(record: DepositRecord) -> DepositView:
    return DepositView(
        id=record.id, source=record.source, kind=record.kind, status=record.status,
        started=record.started, finished=record.finished, package_id=record.package_id,
        version=record.version,
        findings=tuple(
            Finding(code=f["code"], severity=Severity(f["severity"]), path=f["path"],
                    message=f["message"])
            for f in record.findings
        ),
        error_count=record.error_count, warning_count=record.warning_count,
    )
