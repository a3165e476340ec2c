"""`preserve ingest`: a deposit becomes a package version (DESIGN.md, "Data flow").

```
open deposit ─▶ structural findings ─▶ one read of every payload byte: digests + copy into the
staged OCFL version ─▶ compare with manifests ─▶ duplicate checks ─▶ tag files, METS (schema-
checked) ─▶ inventory ─▶ atomic rename into the storage root ─▶ one catalog transaction
(package, version, files, copies, events, deposit row)
```

A rejected deposit leaves nothing in the storage root or staging and one `rejected` row in
`deposits` with its findings and a failed `validation` event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve import SOFTWARE_NAME, __version__, checksums
from preserve.catalog import Catalog, EventView, IngestRecord, StoredFile
from preserve.catalog.intent import Intent
from preserve.checksums import REQUIRED_ALGORITHMS, HashingWriter, MultiHasher, Progress
from preserve.deposit import (
    Deposit,
    DepositKind,
    Limits,
    ProfileChoice,
    open_deposit,
    profile_findings,
)
from preserve.errors import (
    CatalogError,
    ConfigurationError,
    DepositRejected,
    InvalidMetadata,
    PreserveError,
    StorageError,
    UsageError,
)
from preserve.findings import finding, has_errors
from preserve.formats import FormatIdentifier, FormatInfo
from preserve.formats.identify import PARALLEL_MIN
from preserve.formats.stream import IdentifyStream
from preserve.home import DEFAULT_LOCATION, Home
from preserve.ingest import bagging, decisions, recovery
from preserve.ingest.history import SenderHistory, read_sender_history
from preserve.ingest.moving import Moves, check_same_filesystem, remove_consumed
from preserve.ingest.reading import OnRead, read_payload
from preserve.ingest.rights import RIGHTS_SOURCES, deposit_rights
from preserve.ingest.stored import stored_description, stored_rights
from preserve.ingest.supplied import (
    GivenMetadata,
    folder_metadata,
    read_given_metadata,
    read_supplied,
    supplied_paths,
)
from preserve.metadata import (
    DcValue,
    FileFormat,
    MetsFile,
    PremisEvent,
    SchemaSet,
    write_mets,
)
from preserve.metadata.history import SenderFile
from preserve.metadata.premis import PACKAGE_ID_TYPE
from preserve.model import (
    Agent,
    AgentType,
    Event,
    EventOutcome,
    EventType,
    Finding,
    PayloadFile,
    Severity,
    software_agent,
    utc_now,
    vocabulary_value,
)
from preserve.names import escape_name, portable_name
from preserve.safeio import read_regular
from preserve.storage import StorageRoot, VersionBuilder
from preserve.storage.staging import COMMIT_LOCK, WorkDir, commit_lock

log = logging.getLogger(__name__)

METS_PATH = "metadata/mets.xml"

SOFTWARE_AGENT = software_agent()


@dataclass(frozen=True, slots=True)
class IngestResult:
    package_id: str
    version: int
    files: int
    bytes: int
    findings: tuple[Finding, ...]  # warnings only: errors reject

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "version": self.version,
                "files": self.files, "bytes": self.bytes}


@dataclass(frozen=True, slots=True)
class IngestOptions:
    package_id: str | None = None
    as_version_of: str | None = None
    # Store a version whose payload equals the newest one's (ING-E009 otherwise): for a new
    # version that changes only metadata, asked for explicitly.
    allow_unchanged: bool = False
    # Accept an External-Identifier a deaccessioned package held (ING-E010 otherwise).
    allow_deaccessioned_id: bool = False
    workers: int = 0
    limits: Limits = Limits()
    schemas: SchemaSet | None = None
    schemas_required: bool = False  # no schemas: a ConfigurationError instead of META-W004
    identify_formats: bool = True
    # `ingest --move`: the payload files are renamed into the version instead of copied, and
    # the deposit is removed after success only (preserve.ingest.moving).
    move: bool = False
    # A descriptive metadata file given beside the deposit (`ingest --metadata FILE`): it
    # describes the package instead of the deposit's own (issue 16 §3).
    metadata: Path | None = None
    # Which BagIt profile the deposit must meet (issue 16 §4); None: no profile checks.
    profiles: ProfileChoice | None = None
    clock: Callable[[], dt.datetime] = utc_now


#: A deposit of at least this many files, or bytes, is identified while it is read, in helper
#: processes (preserve.formats.stream); a smaller one after the read, in this process (starting
#: a helper costs about 0.1 s, the time of a hundred small files).
STREAM_MIN_FILES = 100
STREAM_MIN_BYTES = 64 << 20


def payload_fingerprint(files: Sequence[PayloadFile]) -> str:
    """The payload fingerprint (`checksums.payload_fingerprint`) of the files just read."""
    return checksums.payload_fingerprint((f.path, f.digests["sha512"]) for f in files)


def deposit_kind_of(source: Path) -> str:
    """A first guess of the deposit's kind, for the attempt row written before it is opened."""
    if source.is_dir():
        return "bag" if (source / "bagit.txt").exists() else "folder"
    name = source.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar", ".tar.gz", ".tgz")):
        return "tar"
    return "unknown"


def ingest_deposit(
    home: Home,
    catalog: Catalog,
    source: Path,
    options: IngestOptions = IngestOptions(),
    progress: Progress | None = None,
) -> IngestResult:
    """Validate `source` and store it as a new package (or a new version of one)."""
    if options.as_version_of is not None and options.package_id is not None:
        # Checked before anything is recorded: a usage error, not a deposit's fault.
        raise UsageError(detail=f"--id {options.package_id!r} cannot be combined with "
                         f"--as-version-of {options.as_version_of!r}: a new version keeps its "
                         "package's id. Give only --as-version-of to add a version, or only "
                         "--id to make a new package")
    source = source.absolute()
    if options.move:  # refused before anything is recorded: the option's, not the deposit's
        check_same_filesystem(source, home.staging)
    started = options.clock()
    deposit_id = catalog.begin_deposit(source=str(source), kind=deposit_kind_of(source),
                                       started=started)
    # Locked for as long as this process lives: a crash leaves it recognisably stale
    # (preserve.storage.staging), and recovery.tidy in the next ingest deals with it.
    work_dir = WorkDir.create(home.staging)
    work = work_dir.path
    attempt = _Ingest(home, catalog, source, options, progress, deposit_id, work)
    try:
        return attempt.run()
    except DepositRejected as rejected:
        _record_rejection(catalog, deposit_id, rejected.findings, options.clock())
        raise
    except BaseException as exc:  # record the failed attempt, then let the error through
        detail = exc.message if isinstance(exc, PreserveError) else f"{type(exc).__name__}: {exc}"
        try:
            catalog.finish_deposit(deposit_id, status="failed", findings=(),
                                   finished=options.clock(),
                                   events=[_event(EventType.INGESTION, EventOutcome.FAILURE,
                                                  options.clock(), detail="ingest did not complete",
                                                  outcome_detail=detail, deposit_id=deposit_id)])
        except Exception as failed:  # the catalog itself may be what failed; the original
            # error matters, and a user sees no traceback (-vv shows it)
            log.error("could not record the failed ingest attempt %s: %s", deposit_id,
                      failed.message if isinstance(failed, PreserveError) else failed)
            log.debug("recording the failed attempt", exc_info=True)
        raise
    finally:
        if attempt.stored_unrecorded or attempt.keep_work:
            # The version is in the storage root, its catalog transaction failed: keep the
            # intent record so that running the same ingest again records it (recovery.py).
            # Or moved deposit files could not all be put back: they stay here.
            work_dir.release()
        else:
            work_dir.remove()


def _record_rejection(catalog: Catalog, deposit_id: int, findings: Sequence[Finding],
                      when: dt.datetime) -> None:
    errors = [f.code for f in findings if f.severity is Severity.ERROR]
    event = _event(EventType.VALIDATION, EventOutcome.FAILURE, when,
                   detail="RFC 8493 validation of the deposit",
                   outcome_detail=f"rejected: {len(errors)} error(s): {', '.join(sorted(set(errors)))}",
                   deposit_id=deposit_id)
    catalog.finish_deposit(deposit_id, status="rejected", findings=findings, finished=when,
                           events=[event])


def _event(type_: EventType, outcome: EventOutcome, when: dt.datetime, **fields: Any) -> Event:
    """An event by this software, with its PREMIS identifier fixed now: the METS of the version
    and the catalog row carry the same one."""
    fields.setdefault("identifier", str(uuid.uuid4()))
    return Event(type=type_, outcome=outcome, time=when, agent=SOFTWARE_AGENT, **fields)


class _Ingest:
    """One ingest attempt; state kept on the instance so the steps read top to bottom."""

    def __init__(self, home: Home, catalog: Catalog, source: Path, options: IngestOptions,
                 progress: Progress | None, deposit_id: int, work: Path) -> None:
        self.home, self.catalog, self.source, self.options = home, catalog, source, options
        self.progress, self.deposit_id, self.work = progress, deposit_id, work
        self.findings: list[Finding] = []
        self._identifier: FormatIdentifier | None = None
        self.sender: SenderHistory | None = None  # the history a transferred package brings
        self.stored_unrecorded = False  # moved into storage, catalog transaction not done
        self.given: GivenMetadata | None = None  # --metadata FILE, read
        self.moves: Moves | None = None  # `--move`: the deposit files renamed into the version
        self.keep_work = False  # moved files that could not be put back are in the work dir
        self.identified = (0, 0, 0)  # files scanned, carried from earlier versions, duplicates
        self._held: dict[str, tuple[str, str, str, int, str]] = {}  # formats earlier versions hold
        self._stream: IdentifyStream | None = None  # identification while the payload is read

    def run(self) -> IngestResult:
        opts = self.options
        if opts.schemas is None and opts.schemas_required:
            raise ConfigurationError(
                detail="schemas.required is true but no schema directory is configured, so the "
                "METS could not be validated; nothing was stored. Set schemas.dir (or "
                "PRESERVE_SCHEMAS) to a folder with the official XSDs and catalog.xml")
        if opts.metadata is not None:  # refused before anything is opened or stored
            self.given = read_given_metadata(opts.metadata.absolute(), opts.schemas,
                                             opts.clock(), opts.limits.max_tag_file_size)
        deposit = open_deposit(self.source, self.work / "deposit", opts.limits)
        self.findings.extend(deposit.findings)
        organizations = deposit.bag_info_values("Source-Organization")
        if organizations:  # who deposited, for `preserve report` (issue 16 §6)
            self.catalog.set_depositor(self.deposit_id, organizations[0])
        # The deposit as handed in is what a BagIt profile describes (issue 16 §4).
        self.findings.extend(profile_findings(deposit, opts.profiles))
        deposit, taken = folder_metadata(deposit)
        self.findings.extend(taken)
        # A package exported by another archive brings its history in its METS (issue 5).
        self.sender, found = read_sender_history(deposit, opts.schemas,
                                                 opts.limits.max_tag_file_size)
        self.findings.extend(found)
        storage = StorageRoot.open(self.home.ocfl)
        # Finish or clear what crashed ingests left (an object half committed must be
        # completed before a version can be added to it), before any decision: a refused
        # re-run must not leave a dead run's work directory behind either.
        with commit_lock(self.home.path / COMMIT_LOCK):
            recovery.release(recovery.tidy(storage, self.catalog, self.home.staging))
        self.storage = storage
        package_id, version_of = self._choose_package_id(deposit)
        if has_errors(self.findings):
            # Read (without storing) to report every finding at once.
            read = read_payload(deposit, workers=opts.workers, progress=self.progress,
                                algorithms=self.sender.algorithms if self.sender else ())
            self.findings.extend(read.findings)
            if self.sender is not None:
                self.findings.extend(self.sender.check_payload(read.files))
            self._reject()

        version_staging = self.work / "version"
        version_staging.mkdir()
        builder = storage.begin_version(package_id, version_staging)
        try:
            return self._store(deposit, package_id, version_of, builder)
        except BaseException:
            if self._stream is not None:
                self._stream.cancel()
            if self.moves is not None and not self.stored_unrecorded:
                # Before the staged version is removed: it holds the deposit's files.
                self.keep_work = bool(self.moves.restore())
            if not self.keep_work:
                builder.abort()
            raise

    # -- decisions --------------------------------------------------------------------------
    def _choose_package_id(self, deposit: Deposit) -> tuple[str, str | None]:
        opts = self.options
        identifiers = deposit.bag_info_values("External-Identifier")
        self.findings.extend(decisions.identifier_findings(self.catalog, identifiers,
                                                           opts.as_version_of,
                                                           opts.allow_deaccessioned_id))
        if opts.as_version_of:
            return opts.as_version_of, opts.as_version_of
        # The sender's package id (its METS OBJID) is kept unless --id names another.
        chosen = opts.package_id or (self.sender.objid if self.sender is not None else None)
        if not opts.package_id and self.sender is not None and chosen:
            # An E-ARK zip names its folder, and so its OBJID, with the id made portable
            # (`urn:uuid:…` -> `urn_uuid_…`); the id itself is in its PREMIS: take that one.
            chosen = next((value for kind, value in self.sender.record.entity_identifiers
                           if kind == PACKAGE_ID_TYPE and value != chosen
                           and portable_name(value) == chosen), chosen)
        package_id = chosen or f"urn:uuid:{uuid.uuid4()}"
        self.findings.extend(decisions.id_findings(self.catalog, package_id, bool(chosen)))
        return package_id, None

    def _external_identifiers(self, deposit: Deposit, package_id: str) -> tuple[str, ...]:
        """bag-info's External-Identifiers, then those the sender's PREMIS gives the package
        (an E-ARK package has no bag-info)."""
        found = list(deposit.bag_info_values("External-Identifier"))
        if self.sender is not None:
            found += [value for kind, value in self.sender.record.entity_identifiers
                      if kind == "External-Identifier" and value != package_id]
        return tuple(dict.fromkeys(found))

    def _reject(self) -> None:
        raise DepositRejected(path=str(self.source), findings=tuple(self.findings))

    # -- storing ----------------------------------------------------------------------------
    def _store(self, deposit: Deposit, package_id: str, version_of: str | None,
               builder: VersionBuilder) -> IngestResult:
        opts = self.options
        # A zip/tar was unpacked into our staging: its files are renamed into the version
        # instead of copied a second time.
        unpacked = (deposit.kind in (DepositKind.ZIP, DepositKind.TAR)
                    or self.work in deposit.root.parents)  # a zipped plain folder
        staged = _Staged(builder)

        def target_for(path: str) -> Path:
            return builder.content_target("data/" + path)

        to_read = deposit
        if opts.move and not unpacked:
            # Renamed first, then hashed where they now are (preserve.ingest.moving).
            for entry in deposit.payload:
                staged[entry.path] = target_for(entry.path)
            self.moves = Moves.make(self.work, deposit.payload, staged)
            to_read = dataclasses.replace(deposit, payload=tuple(
                dataclasses.replace(entry, os_path=os.fspath(staged[entry.path]))
                for entry in deposit.payload))
        on_read = self._start_identification(deposit, version_of)
        read = read_payload(to_read, workers=opts.workers, progress=self.progress,
                            target_for=None if self.moves is not None else target_for,
                            move=unpacked, algorithms=self.sender.algorithms if self.sender else (),
                            on_read=on_read)
        self.findings.extend(read.findings)
        if self.sender is not None:  # the fixity the sender's METS declares (E-ARK: the only)
            self.findings.extend(self.sender.check_payload(read.files))
        fingerprint = payload_fingerprint(read.files)
        if not has_errors(self.findings):
            self._check_duplicate_payload(fingerprint, version_of)
        if has_errors(self.findings):
            self._reject()

        formats = self._identify(read.files, staged)
        created = opts.clock()
        entries: dict[str, Mapping[str, str]] = {}
        sizes: dict[str, int] = {}
        for f in read.files:
            logical = "data/" + f.path  # one string for both
            entries[logical] = f.digests  # compact (checksums.Digests): not copied
            sizes[logical] = f.size
        tag_paths = [tag.path for tag in deposit.tag_files]
        wanted = supplied_paths(tag_paths)
        supplied_files: dict[str, bytes] = {}
        rights_sources: dict[str, bytes] = {}
        for tag in deposit.tag_files:
            logical = "metadata/submission/" + tag.path
            data = read_regular(tag.source, opts.limits.max_tag_file_size)
            entries[logical], sizes[logical] = self._write(builder, logical, data), len(data)
            if tag.path in wanted:
                supplied_files[tag.path] = data
            if tag.path in RIGHTS_SOURCES:
                rights_sources[tag.path] = data
        rights = deposit_rights(rights_sources, deposit.bag_info,
                                {"data/" + f.path for f in read.files}, self.findings,
                                self.sender)
        if has_errors(self.findings):
            self._reject()
        if version_of is not None and not rights:
            # Rights carry forward like the description (issue 16 §1).
            rights = stored_rights(self.home, version_of) or []
        supplied = read_supplied(supplied_files, tag_paths, opts.schemas, created)
        self.findings.extend(supplied.findings)
        if self.given is not None:  # --metadata FILE describes the package instead
            entries[self.given.name], sizes[self.given.name] = (
                self._write(builder, self.given.name, self.given.data), len(self.given.data))
            own = sorted(wanted)
            if own:
                self.findings.append(finding("META-W007", own[0], file=", ".join(own),
                                             given=str(opts.metadata)))
            self.findings.extend(self.given.supplied.findings)
            supplied = self.given.supplied
        descriptive, mods = supplied.descriptive, supplied.mods
        dublin_core: Sequence[DcValue] | None = None
        if self.sender is not None and self.given is None:  # the sender's record, unless
            # the deposit or --metadata brings its own
            if not descriptive and self.sender.dublin_core:
                dublin_core = self.sender.dublin_core
            mods = mods if mods is not None else self.sender.mods
        if version_of is not None and not descriptive and dublin_core is None:
            # A new version that brings no description of its own keeps the package's: its
            # titles in every language and the rest of its record, and its MODS (issue 16 §3).
            descriptive, carried_mods = _carried_description(self.home, version_of, deposit)
            mods = mods if mods is not None else carried_mods
        software = f"{SOFTWARE_NAME} {__version__}"
        given_titles = [v.value for v in descriptive if v.element == "title"]
        title = (given_titles[0] if self.given is not None and given_titles
                 else _title(deposit, descriptive or dublin_core or ()))
        if opts.schemas is None:
            self.findings.append(finding("META-W004", "metadata/mets.xml"))
        events = self._events(package_id, builder.version, read.files, deposit, created, formats)
        if self.sender is not None:  # the sender's history first, as it happened before ours
            known = self.catalog.known_event_identifiers(self.sender.log_identifiers())
            events[:0] = self.sender.events(package_id, skip=known)
        # Every event of the package so far, then this version's: each carries the PREMIS
        # identifier the catalog stores too (see _event).
        earlier = self.catalog.events(package_id) if version_of else []
        premis_events = [*map(_premis_event, earlier), *map(_premis_event, events)]
        prefix = "" if deposit.kind is DepositKind.FOLDER else "data/"
        # Written straight into the staged version as it is built, and validated from there:
        # memory does not grow with the number of files (20,000 files make 60 MB of METS).
        mets_target = builder.content_target(METS_PATH)
        # What the sender's PREMIS objects say of its files (an Archivematica AIP): their
        # original names and PRONOM ids are kept in ours.
        sender_files = self.sender.payload_files() if self.sender is not None else {}
        with self._staged_file(mets_target) as out:
            write_mets(
                out, package_id=package_id, version=builder.version, created=created,
                files=[MetsFile("data/" + f.path, f.size, f.digests["sha256"],
                                f.digests["sha512"],
                                # None: as its path (data/…), one string less per file
                                original_name=_original_name(sender_files.get(f.path))
                                or (None if prefix else f.path),
                                format=_with_sender_format(_file_format(formats.get(f.path)),
                                                           sender_files.get(f.path)))
                       for f in read.files],
                bag_info=deposit.bag_info, software=software, label=title,
                software_agent=SOFTWARE_AGENT, events=premis_events, descriptive=descriptive,
                mods=mods, dublin_core=dublin_core, rights=rights,
            )
        entries[METS_PATH], sizes[METS_PATH] = out.hexdigests(), out.size
        self._check_mets(mets_target)
        tag_bytes = {
            "bagit.txt": bagging.BAGIT_TXT,
            "bag-info.txt": bagging.bag_info(deposit.bag_info, read.files, created=created,
                                             software=software, package_id=package_id,
                                             version=builder.version),
        }
        for name, data in tag_bytes.items():
            entries[name], sizes[name] = self._write(builder, name, data), len(data)
        # The payload manifests are written as a stream, like the METS (one line per file).
        payload = [(p, d) for p, d in entries.items() if p.startswith("data/")]
        for algorithm in bagging.MANIFEST_ALGORITHMS:
            name = f"manifest-{algorithm}.txt"
            with self._staged_file(builder.content_target(name)) as out:
                bagging.write_manifest(out, payload, algorithm)
            entries[name], sizes[name] = out.hexdigests(), out.size
        del payload
        tags_so_far = [(p, d) for p, d in entries.items() if not p.startswith("data/")]
        for algorithm in bagging.MANIFEST_ALGORITHMS:
            name = f"tagmanifest-{algorithm}.txt"
            data = bagging.manifest(tags_so_far, algorithm)
            entries[name], sizes[name] = self._write(builder, name, data), len(data)

        for logical, digests in entries.items():
            if (self.moves is not None and builder.known_digest(digests["sha512"])
                    and self.moves.park(logical)):
                # Content the object holds is stored once; the deposit's file waits in the
                # work directory, to be put back should the ingest fail.
                builder.add(logical, digests, written=False)
            else:
                builder.add(logical, digests)
        inventory_sha512 = builder.prepare(created=created, message=f"ingest of {self.source.name}",
                                           user_name=software)
        stored = tuple(
            StoredFile(path=p, size=sizes[p], sha256=d["sha256"], sha512=d["sha512"],
                       content_path=builder.content_path(p), **_catalog_format(
                           formats.get(p.removeprefix("data/")) if p.startswith("data/")
                           else None))
            for p, d in sorted(entries.items())
        )
        record = IngestRecord(
            package_id=package_id, version=builder.version, created=created, title=title,
            external_identifiers=self._external_identifiers(deposit, package_id),
            payload_fingerprint=fingerprint, location=DEFAULT_LOCATION,
            deposit_id=self.deposit_id, message=f"ingest of {self.source}", files=stored,
            findings=tuple(self.findings), inventory_sha512=inventory_sha512,
        )
        intent = Intent(deposit_id=self.deposit_id, source=str(self.source),
                                 requested_id=opts.package_id, version_of=opts.as_version_of,
                                 inventory_sha512=inventory_sha512, record=record,
                                 events=tuple(events))
        # The commit section: one ingest at a time decides "not held yet" and commits.
        with commit_lock(self.home.path / COMMIT_LOCK):
            pending = recovery.tidy(self.storage, self.catalog, self.home.staging)
            try:
                adopted = self._commit_checks(deposit, intent, pending, builder)
                if adopted is not None:
                    builder.abort()
                    return adopted
                recovery.write_intent(self.work, intent)
                # From here the version may be (partly) in storage: whatever fails, the work
                # dir and its intent are kept for the next ingest to finish or clear.
                self.stored_unrecorded = True
                object_path = builder.commit()
                log.info("stored %s v%d at %s", package_id, builder.version, object_path)
                try:
                    self.catalog.record_ingest(record, events)
                except CatalogError as exc:
                    raise CatalogError(detail=f"{exc.fields.get('detail', exc.message)}; "
                                       f"{package_id} v{builder.version} is "
                                       "stored but not recorded in the catalog: run the same "
                                       "ingest again once the catalog can be written; it records "
                                       "the stored version without copying it again") from None
                self.stored_unrecorded = False
            finally:
                recovery.release(pending)
        if opts.move:
            self._consume(deposit)
        return IngestResult(package_id, builder.version, len(read.files), read.bytes,
                            tuple(self.findings))

    def _consume(self, deposit: Deposit) -> None:
        """`--move`, after success: what is left of the deposit goes (its payload is stored)."""
        if self.moves is None:  # a zip or tar: we unpacked (and moved) our own copy of it
            if self.source.is_dir():
                return
            try:
                os.unlink(self.source)
            except OSError as exc:
                log.warning("%s is stored, but the deposit could not be removed: %s",
                            escape_name(str(self.source)), exc.strerror or exc)
            return
        left = remove_consumed(deposit.root, [tag.source for tag in deposit.tag_files])
        if left:
            log.warning("%s is stored; %d file(s) the ingest did not take are left in the "
                        "deposit folder (first: %s)", escape_name(str(self.source)), len(left),
                        escape_name(left[0]))

    def _commit_checks(self, deposit: Deposit, intent: Intent,
                       pending: list[recovery.Pending],
                       builder: VersionBuilder) -> IngestResult | None:
        """With the commit lock held: adopt this ingest's own interrupted run, or re-check
        what another ingest may have committed since the first look (ING-E001/E002/E003,
        ING-E007, ING-E008). Returns the result of an adoption, None to go on committing."""
        opts, record = self.options, intent.record
        for item in pending:
            if item.intent.fingerprint != record.payload_fingerprint:
                continue
            if recovery.matches(item.intent, fingerprint=record.payload_fingerprint,
                                requested_id=opts.package_id, version_of=opts.as_version_of):
                problem = recovery.verify_stored(self.storage, item.intent,
                                                 record.payload_fingerprint)
                if problem is None:
                    adopted = recovery.adopt(self.catalog, item.intent, self.deposit_id)
                    item.work.remove()
                    payload = [f for f in adopted.files if f.path.startswith("data/")]
                    self.findings[:] = list(adopted.findings)
                    return IngestResult(adopted.package_id, adopted.version, len(payload),
                                        sum(f.size for f in payload), tuple(adopted.findings))
            else:
                problem = ("an interrupted ingest stored this payload there "
                           f"(deposit {item.intent.deposit_id}, other --id/--as-version-of)")
            self.findings.append(finding("ING-E007", "", package_id=item.intent.package_id,
                                         detail=problem))
            self._reject()
        package_id, version_of = record.package_id, opts.as_version_of
        self.findings.extend(decisions.identifier_findings(
            self.catalog, deposit.bag_info_values("External-Identifier"), version_of,
            opts.allow_deaccessioned_id))
        self._check_duplicate_payload(record.payload_fingerprint, version_of)
        if version_of is None and self.catalog.package_exists(package_id):
            self.findings.append(finding("ING-E003", "", package_id=package_id))
        if has_errors(self.findings):
            self._reject()
        try:
            stored = self.storage.head_version(package_id) or 0
        except StorageError as exc:
            self.findings.append(finding("ING-E007", "", package_id=package_id,
                                         detail=exc.message))
            self._reject()
        recorded = self.catalog.head_version(package_id) or 0
        if stored != recorded:
            self.findings.append(finding(
                "ING-E007", "", package_id=package_id,
                detail=f"storage holds v{stored}, the catalog records v{recorded}"))
        elif builder.version != stored + 1:
            self.findings.append(finding("ING-E008", "", package_id=package_id, version=stored))
        if has_errors(self.findings):
            self._reject()
        return None

    def _check_duplicate_payload(self, fingerprint: str, version_of: str | None) -> None:
        self.findings.extend(decisions.payload_findings(self.catalog, fingerprint, version_of,
                                                        self.options.allow_unchanged))

    def _start_identification(self, deposit: Deposit, version_of: str | None) -> OnRead | None:
        """For a deposit of many files or bytes: identification in helper processes while the
        payload is read, each file once it is staged (preserve.formats.stream); the callback
        for `read_payload`. None: identified after the read, in `_identify`."""
        self._held = self.catalog.held_formats(version_of) if version_of is not None else {}
        count, size = len(deposit.payload), sum(e.size for e in deposit.payload)
        if not self.options.identify_formats or (count < STREAM_MIN_FILES
                                                 and size < STREAM_MIN_BYTES):
            return None
        identifier = self._format_identifier()
        stream = self._stream = identifier.stream(
            min(identifier.workers, max(1, count // PARALLEL_MIN)))
        submitted: set[str] = set()
        lock = threading.Lock()
        held = self._held

        def identify_when_read(path: str, where: Path, digests: Mapping[str, str]) -> None:
            digest = digests["sha512"]
            with lock:  # each content once, none the package holds identified already
                if digest in submitted or digest in held:
                    return
                submitted.add(digest)
            stream.submit(digest, where)

        return identify_when_read

    def _format_identifier(self) -> FormatIdentifier:
        if self._identifier is None:
            self._identifier = FormatIdentifier(workers=self.options.workers)
        return self._identifier

    def _identify(self, files: Sequence[PayloadFile],
                  staged: dict[str, Path]) -> dict[str, FormatInfo]:
        """PRONOM formats of the staged payload (just written: the headers are in page cache).

        siegfried costs about 1 ms of CPU per small file (docs/performance.md), so content is
        identified once: one file per sha512 in the deposit, and none whose content an
        earlier version of the package holds with a format already identified (the answer
        is carried, its basis says from where)."""
        if not self.options.identify_formats or not files:
            return {}
        first: dict[str, PayloadFile] = {}
        for f in files:
            first.setdefault(f.digests["sha512"], f)
        by_digest: dict[str, FormatInfo] = {}
        for digest in first.keys() & self._held.keys():
            puid, name, version, number, path = self._held[digest]
            by_digest[digest] = FormatInfo(
                puid, name, version, "",
                f"identified in v{number} as {path} (same sha512); not scanned again", "")
        todo = [f for digest, f in first.items() if digest not in by_digest]
        if self._stream is not None:  # identified while read
            stream, self._stream = self._stream, None
            by_digest.update((str(k), info) for k, info in stream.results().items())
            todo_left = [f for f in todo if f.digests["sha512"] not in by_digest]
            if todo_left:  # not expected: every file read was submitted
                log.warning("%d files were not identified while read; identifying them now",
                            len(todo_left))
                found = self._format_identifier().identify_many(
                    [staged[f.path] for f in todo_left])
                by_digest.update((f.digests["sha512"], found[staged[f.path]])
                                 for f in todo_left)
        elif todo:
            found = self._format_identifier().identify_many([staged[f.path] for f in todo])
            by_digest.update((f.digests["sha512"], found[staged[f.path]]) for f in todo)
        formats = {f.path: by_digest[f.digests["sha512"]] for f in files}
        self.identified = (len(todo), len(first) - len(todo), len(files) - len(first))
        log.info("identified %d files (%d unknown): %d scanned with %s, %d as in earlier "
                 "versions, %d duplicates of others", len(formats),
                 sum(1 for info in formats.values() if not info.known), len(todo),
                 self.tool_name(), len(first) - len(todo), len(files) - len(first))
        return formats

    def _identified_detail(self) -> str:
        scanned, carried, duplicates = self.identified
        if not carried and not duplicates:
            return ""
        return (f": {scanned} scanned, {carried} as identified in earlier versions (same "
                f"sha512), {duplicates} with the same content as another file of the deposit")

    def tool_name(self) -> str:
        return self._identifier.tool if self._identifier is not None else "siegfried"

    def _write(self, builder: VersionBuilder, logical: str, data: bytes) -> dict[str, str]:
        return write_staged(builder, logical, data)

    def _check_mets(self, path: Path) -> None:
        schemas = self.options.schemas
        if schemas is None:  # META-W004 is already among the findings
            return
        problems = schemas.validate_mets_file(path)
        if problems:
            raise InvalidMetadata(problems="; ".join(problems[:5]))

    @contextmanager
    def _staged_file(self, target: Path) -> Iterator[HashingWriter]:
        """A new file in the staged version, hashed as it is written (sha256, sha512)."""
        try:
            with open(target, "xb") as raw:
                writer = HashingWriter(raw, REQUIRED_ALGORITHMS)
                yield writer
        except OSError as exc:  # ours to fix (full disk, I/O error), not the deposit's
            raise StorageError(detail=f"cannot write {target}: {exc.strerror or exc}; nothing "
                               "was committed (check free space and the disk)") from None

    def _events(self, package_id: str, version: int, files: Sequence[PayloadFile],
                deposit: Deposit, created: dt.datetime,
                formats: dict[str, FormatInfo]) -> list[Event]:
        warnings = sorted({f.code for f in self.findings if f.severity is Severity.WARNING})
        total = sum(f.size for f in files)
        algorithms = sorted({a for f in files for a in f.digests} or set(REQUIRED_ALGORITHMS))
        common = dict(package_id=package_id, version=version, deposit_id=self.deposit_id)
        events = [
            _event(EventType.VALIDATION,
                   EventOutcome.WARNING if warnings else EventOutcome.SUCCESS, created,
                   detail=f"RFC 8493 validation of the {deposit.kind.value} deposit {self.source}; "
                          + ("METS schema validation skipped: no schemas configured"
                             if self.options.schemas is None else
                             "METS validated offline against the XSDs of "
                             + ", ".join(sorted(self.options.schemas.loaded))),
                   outcome_detail=("warnings: " + ", ".join(warnings)) if warnings else "valid",
                   **common),
            _event(EventType.MESSAGE_DIGEST_CALCULATION, EventOutcome.SUCCESS, created,
                   detail=f"{', '.join(algorithms)} of {len(files)} payload files ({total} bytes), "
                          "computed while copying; deposit manifests matched",
                   **common),
        ]
        if formats:
            unknown = sum(1 for info in formats.values() if not info.known)
            puids = len({info.puid for info in formats.values() if info.known})
            tool = self.tool_name()
            events.append(_event(
                EventType.FORMAT_IDENTIFICATION,
                EventOutcome.WARNING if unknown else EventOutcome.SUCCESS, created,
                detail=f"PRONOM identification of {len(formats)} payload files with "
                       f"{tool}" + self._identified_detail(),
                outcome_detail=f"{len(formats) - unknown} identified ({puids} formats), "
                               f"{unknown} not identified", **common))
        events += [
            _event(EventType.INGESTION, EventOutcome.SUCCESS, created,
                   detail=f"stored as OCFL object {package_id} version v{version} in location "
                          f"{DEFAULT_LOCATION}",
                   **common),
        ]
        return events


class _Staged(dict[str, Path]):
    """Payload path -> the file it is staged as. Only the targets of --move are kept; any
    other is made when looked up: a Path per file, kept from the read on, is about 0.6 KiB
    (docs/performance.md, "Memory per file")."""

    def __init__(self, builder: VersionBuilder) -> None:
        super().__init__()
        self._builder = builder

    def __missing__(self, path: str) -> Path:
        return self._builder.staged_path("data/" + path)


def write_staged(builder: VersionBuilder, logical: str, data: bytes) -> dict[str, str]:
    """Write a small generated or tag file into the staged version; return its digests
    (ingest and describe alike)."""
    target = builder.content_target(logical)
    hasher = MultiHasher(REQUIRED_ALGORITHMS)
    hasher.update(data)
    try:
        with open(target, "xb") as out:
            out.write(data)
    except OSError as exc:  # ours to fix (full disk, I/O error), not the deposit's
        raise StorageError(detail=f"cannot write {target}: {exc.strerror or exc}; nothing "
                           "was committed (check free space and the disk)") from None
    return hasher.hexdigests()


def _premis_event(event: Event | EventView) -> PremisEvent:
    """PREMIS names an imported event by its first archive's identifier, credited to it."""
    imported = event.imported
    identifier = imported.identifier if imported else event.identifier
    if identifier is None:  # a bug: _event fixes every identifier before the METS is written
        raise ValueError(f"a {event.type} event has no identifier to write to PREMIS")
    return PremisEvent(
        identifier=identifier,
        identifier_type=imported.identifier_type if imported else "UUID",
        type=vocabulary_value(event.type), time=event.time,
        outcome=vocabulary_value(event.outcome), agent=event.agent, detail=event.detail,
        outcome_detail=event.outcome_detail, version=event.version,
        object_paths=tuple(event.object_paths),
        recorded_by=(Agent(imported.origin, imported.origin, AgentType.ORGANIZATION)
                     if imported else None),
        person=event.person)


def _file_format(info: FormatInfo | None) -> FileFormat | None:
    if info is None:
        return None
    note = "; ".join(part for part in (info.basis, info.warning) if part)
    return FileFormat(puid=info.puid, name=info.name, version=info.version, mime=info.mime,
                      note=note)


def _original_name(sender: SenderFile | None) -> str | None:
    return sender.original_name if sender is not None and sender.original_name else None


def _with_sender_format(ours: FileFormat | None, sender: SenderFile | None) -> FileFormat | None:
    """Our identification, with the sending archive's PRONOM id kept beside it (formatNote);
    the sender's identification where we have none."""
    theirs = sender.format if sender is not None else None
    if theirs is None or theirs.puid is None:
        return ours
    if ours is None or ours.puid is None:
        why = f"{ours.note}; " if ours is not None and ours.note else ""
        return dataclasses.replace(theirs, note=f"{why}as identified by the sending archive "
                                   "(its METS); not confirmed by this ingest")
    said = ("the sending archive identified it the same" if ours.puid == theirs.puid
            else f"the sending archive identified it as {theirs.puid}")
    return dataclasses.replace(ours, note=f"{ours.note}; {said}" if ours.note else said)


def _catalog_format(info: FormatInfo | None) -> dict[str, Any]:
    """The catalog's `format`, `format_name` and `format_version` of a file (PRONOM's PUID,
    name and version as siegfried gave them; issue 16 §6)."""
    if info is None or info.puid is None:
        return {"format": None, "format_name": "", "format_version": ""}
    return {"format": info.puid, "format_name": info.name, "format_version": info.version}


def _carried_description(home: Home, package_id: str,
                         deposit: Deposit) -> tuple[list[DcValue], bytes | None]:
    """The previous version's descriptive record, to carry into the next: its Dublin Core
    values but the identifiers (made anew from the package id and the deposit's bag-info) and
    those the deposit's bag-info gives again, and its MODS. Nothing when that METS cannot be
    read (a warning is logged; the audit reports damage)."""
    record = stored_description(home, package_id)
    if record is None:
        return [], None
    again = {("title", v) for v in deposit.bag_info_values("Title")} | {
        ("description", v) for v in deposit.bag_info_values("External-Description")}
    carried = [v for v in record.dublin_core
               if v.element != "identifier" and (v.element, v.value) not in again]
    return carried, record.mods


def _title(deposit: Deposit, descriptive: Sequence[DcValue] = ()) -> str | None:
    titles = deposit.bag_info_values("Title") or [v.value for v in descriptive
                                                  if v.element == "title"]
    if titles:
        return titles[0]
    for label in ("External-Description", "External-Identifier"):
        values = deposit.bag_info_values(label)
        if values:
            return values[0]
    return deposit.source.name or None
