"""`preserve describe ID --metadata FILE`: a metadata-only version (issue 16 §3).

The new version's payload is the head version's, declared by digest in the OCFL inventory
(OCFL 1.1 section 3.5.3: a state may name content an earlier version holds), so no payload
byte is copied or read: the digests come from the catalog rows of the head version, and
`VersionBuilder.add(..., written=False)` checks them against the object's manifest and
fixity. What is new is written and hashed as it is written:

```
metadata/mets.xml               the new description, every event so far, a PREMIS
                                `metadata modification` event
metadata/supplied/<FILE name>   the metadata file, byte-exact
bagit.txt bag-info.txt manifest-*.txt tagmanifest-*.txt   the version stays a complete bag
```

What the file replaces (docs/metadata.md): a CSV or Dublin Core file replaces the package's
Dublin Core values (those bag-info gives stay, as in every version); a MODS file replaces the
MODS record and keeps the Dublin Core. The deposit's own tag files (metadata/submission/)
and earlier supplied files are carried forward unchanged.

Crash safety is the ingest's (preserve.ingest.recovery): the attempt is a `deposits` row of
kind `metadata`, the intent record is written before the version moves into storage, and a
version stored but not recorded is adopted by `preserve check --repair` or left pending for
the next run, which refuses with ING-E007 until then.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve import SOFTWARE_NAME, __version__
from preserve.catalog import Catalog, IngestRecord, StoredFile
from preserve.catalog.intent import Intent
from preserve.catalog.views import FileView
from preserve.checksums import REQUIRED_ALGORITHMS, HashingWriter, MultiHasher
from preserve.deposit.tagfiles import parse_tag_file
from preserve.errors import (
    CatalogError,
    DepositRejected,
    InvalidMetadata,
    PreserveError,
    StorageError,
)
from preserve.findings import finding
from preserve.home import DEFAULT_LOCATION, Home
from preserve.ingest import bagging, recovery
from preserve.ingest.ingest import METS_PATH, premis_event
from preserve.ingest.metadata_file import MetadataFile, read_metadata_file
from preserve.ingest.stored import stored_description, stored_rights
from preserve.metadata import DcValue, MetsFile, SchemaSet, write_mets
from preserve.metadata.history import MetsRecord
from preserve.metadata.rights import RightsStatement
from preserve.model import (
    Event,
    EventOutcome,
    EventType,
    Finding,
    PayloadFile,
    software_agent,
    utc_now,
)
from preserve.storage import StorageRoot, VersionBuilder, object_path_for
from preserve.storage import inventory as inv
from preserve.storage.local import LocalLocation
from preserve.storage.objects import read_logical
from preserve.storage.staging import COMMIT_LOCK, WorkDir, commit_lock

log = logging.getLogger(__name__)

SOFTWARE_AGENT = software_agent()
#: Tag files every version writes anew (RFC 8493 section 2): never carried forward.
_REGENERATED = {METS_PATH, "bagit.txt", "bag-info.txt", "manifest-sha256.txt",
                "manifest-sha512.txt", "tagmanifest-sha256.txt", "tagmanifest-sha512.txt"}
_MAX_BAG_INFO = 16 * 2**20


@dataclass(frozen=True, slots=True)
class DescribeOptions:
    schemas: SchemaSet | None = None
    clock: Callable[[], dt.datetime] = utc_now


@dataclass(frozen=True, slots=True)
class DescribeResult:
    package_id: str
    version: int
    previous: int
    metadata: MetadataFile
    title: str | None
    findings: tuple[Finding, ...]  # warnings

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "version": self.version,
                "previous_version": self.previous, "title": self.title,
                "metadata": self.metadata.as_dict(),
                "findings": [f.as_dict() for f in self.findings]}


@dataclass(frozen=True, slots=True)
class NewVersionParts:
    """What a metadata-only version changes; everything else is the head version's."""

    descriptive: Sequence[DcValue] | None  # None: the head version's Dublin Core values
    mods: bytes | None  # None: the head version's MODS
    extra: dict[str, bytes]  # logical path -> bytes, new files (e.g. metadata/supplied/…)
    event: Event  # the PREMIS event of the change (its version set by the caller)
    title: str | None  # None: the head version's
    rights: Sequence[RightsStatement] | None = None  # None: the head version's


def describe_package(home: Home, catalog: Catalog, reference: str, metadata_path: Path,
                     options: DescribeOptions | None = None) -> DescribeResult:
    """Store a new version of the package `reference` with the description in
    `metadata_path`; an unusable file is refused (META-E010) before anything is written."""
    options = options or DescribeOptions()
    package_id = catalog.resolve_package(reference)
    created = options.clock()
    metadata = read_metadata_file(metadata_path.absolute(), options.schemas, created)
    if not metadata.usable:
        raise DepositRejected(path=str(metadata_path), findings=metadata.findings)
    titles = [v.value for v in metadata.descriptive if v.element == "title"]
    event = Event(type=EventType.METADATA_MODIFICATION, outcome=EventOutcome.SUCCESS,
                  time=created, agent=SOFTWARE_AGENT, identifier=str(uuid.uuid4()),
                  package_id=package_id,
                  detail=f"descriptive metadata ({metadata.kind}) replaced from "
                         f"{metadata_path.name}; payload unchanged, referenced by digest",
                  outcome_detail=(f"{len(metadata.descriptive)} Dublin Core values"
                                  if metadata.kind != "mods" else "MODS record replaced"))
    parts = NewVersionParts(
        descriptive=list(metadata.descriptive) if metadata.kind != "mods" else None,
        mods=metadata.mods if metadata.kind == "mods" else None,
        extra={metadata.logical_path: metadata.data}, event=event,
        title=titles[0] if titles else None)
    version, previous, title = store_metadata_version(
        home, catalog, package_id, parts, source=str(metadata_path.absolute()),
        schemas=options.schemas, created=created)
    return DescribeResult(package_id, version, previous, metadata, title, metadata.findings)


def store_metadata_version(home: Home, catalog: Catalog, package_id: str,
                           parts: NewVersionParts, *, source: str,
                           schemas: SchemaSet | None,
                           created: dt.datetime) -> tuple[int, int, str | None]:
    """Commit a metadata-only version of `package_id`: (new version, head before, title).
    Shared by `describe` and `rights --add`."""
    deposit_id = catalog.begin_deposit(source=source, kind="metadata", started=created)
    work_dir = WorkDir.create(home.staging)
    run = _MetadataVersion(home, catalog, package_id, parts, deposit_id, work_dir.path,
                           schemas, created)
    try:
        return run.run()
    except BaseException as exc:
        detail = exc.message if isinstance(exc, PreserveError) else f"{type(exc).__name__}: {exc}"
        try:
            failure = Event(type=EventType.METADATA_MODIFICATION, outcome=EventOutcome.FAILURE,
                            time=utc_now(), agent=SOFTWARE_AGENT, identifier=str(uuid.uuid4()),
                            deposit_id=deposit_id, detail="metadata-only version not stored",
                            outcome_detail=detail)
            catalog.finish_deposit(deposit_id, status="failed", findings=(),
                                   finished=utc_now(), events=[failure])
        except Exception as failed:  # the original error matters more
            log.error("could not record the failed attempt %s: %s", deposit_id, failed)
        raise
    finally:
        if run.stored_unrecorded:
            work_dir.release()  # kept with its intent: check --repair or the next run
        else:
            work_dir.remove()


class _MetadataVersion:
    def __init__(self, home: Home, catalog: Catalog, package_id: str, parts: NewVersionParts,
                 deposit_id: int, work: Path, schemas: SchemaSet | None,
                 created: dt.datetime) -> None:
        self.home, self.catalog, self.package_id, self.parts = home, catalog, package_id, parts
        self.deposit_id, self.work, self.schemas, self.created = deposit_id, work, schemas, created
        self.stored_unrecorded = False

    def run(self) -> tuple[int, int, str | None]:
        storage = StorageRoot.open(self.home.ocfl)
        with commit_lock(self.home.path / COMMIT_LOCK):
            pending = recovery.tidy(storage, self.catalog, self.home.staging)
            try:
                self._record_interrupted(storage, pending)
            finally:
                recovery.release(pending)
        detail = self.catalog.get_package(self.package_id)
        head = detail.head
        fingerprint = self.catalog.head_fingerprint(self.package_id)
        if fingerprint is None:
            raise CatalogError(detail=f"package {self.package_id} has no recorded version")
        (self.work / "version").mkdir()
        builder = storage.begin_version(self.package_id, self.work / "version")
        try:
            if builder.version != head + 1:
                raise CatalogError(detail=f"storage holds {inv.version_name(builder.version - 1)}"
                                   f" of {self.package_id}, the catalog records "
                                   f"{inv.version_name(head)}: run `preserve check --repair` "
                                   "first")
            return self._build(storage, builder, detail.files_of(head), head,
                               fingerprint[1], detail.title, detail.external_identifiers)
        except BaseException:
            if not self.stored_unrecorded:
                builder.abort()
            raise

    def _record_interrupted(self, storage: StorageRoot, pending: list[recovery.Pending]) -> None:
        """A version of this package stored by a run killed before its catalog commit is
        recorded now exactly as that run planned (what `check --repair` does), once every
        stored file is as its intent says; then this run builds on it."""
        for item in pending:
            intent = item.intent
            if intent.package_id != self.package_id:
                continue
            problem = recovery.verify_stored(storage, intent, intent.fingerprint)
            if problem is not None:
                log.warning("%s: the interrupted version is not recorded: %s", item.work.path,
                            problem)
                continue
            if self.catalog.deposit_in_progress(intent.deposit_id):
                self.catalog.record_ingest(intent.record, intent.events)
            else:  # `check` closed its attempt meanwhile: a new attempt row records it
                attempt = self.catalog.begin_deposit(source=intent.source, kind="metadata",
                                                     started=utc_now())
                recovery.adopt(self.catalog, intent, attempt)
            log.warning("recorded %s %s, stored by the interrupted run of deposit %d",
                        intent.package_id, inv.version_name(intent.version), intent.deposit_id)
            item.work.remove()

    def _build(self, storage: StorageRoot, builder: VersionBuilder, files: Sequence[FileView],
               head: int, fingerprint: str, old_title: str | None,
               identifiers: tuple[str, ...]) -> tuple[int, int, str | None]:
        version, parts, package_id = builder.version, self.parts, self.package_id
        location = LocalLocation("local", storage.path)
        base = object_path_for(package_id)
        inventory, _digest = inv.read(location, base)
        raw_info = read_logical(location, base, inventory, head, "bag-info.txt", _MAX_BAG_INFO)
        bag_info = _depositor_labels(raw_info, package_id, head)
        record = stored_description(self.home, package_id) or MetsRecord()
        entries: dict[str, dict[str, str]] = {}
        sizes: dict[str, int] = {}
        formats: dict[str, str | None] = {}
        # Carried by digest: no byte read or copied (OCFL deduplicates by the manifest).
        for f in files:
            if f.path in _REGENERATED or f.path in parts.extra:
                continue
            digests = {"sha256": f.sha256, "sha512": f.sha512}
            builder.add(f.path, digests, written=False)
            entries[f.path], sizes[f.path], formats[f.path] = digests, f.size, f.format
        for logical, data in parts.extra.items():
            entries[logical], sizes[logical] = self._write(builder, logical, data), len(data)
        payload = [PayloadFile(p.removeprefix("data/"), sizes[p], d)
                   for p, d in sorted(entries.items()) if p.startswith("data/")]
        descriptive = (list(parts.descriptive) if parts.descriptive is not None
                       else _carried(record, bag_info))
        mods = parts.mods if parts.mods is not None else record.mods
        rights = (list(parts.rights) if parts.rights is not None
                  else stored_rights(self.home, package_id) or [])
        title = parts.title or old_title
        software = f"{SOFTWARE_NAME} {__version__}"
        event = _at_version(parts.event, package_id, version, self.deposit_id)
        earlier = self.catalog.events(package_id)
        premis = [*map(premis_event, earlier), premis_event(event)]
        mets_target = builder.content_target(METS_PATH)
        mets_files = []
        for item in payload:
            href = "data/" + item.path
            sender = record.sender_files.get(href)
            mets_files.append(MetsFile(
                href, item.size, item.digests["sha256"], item.digests["sha512"],
                original_name=(sender.original_name if sender and sender.original_name
                               else href),
                format=record.formats.get(href)))
        with open(mets_target, "xb") as raw:
            out = HashingWriter(raw, REQUIRED_ALGORITHMS)
            write_mets(out, package_id=package_id, version=version, created=self.created,
                       files=mets_files, bag_info=bag_info, software=software, label=title,
                       software_agent=SOFTWARE_AGENT, events=premis, descriptive=descriptive,
                       mods=mods, rights=rights)
        entries[METS_PATH], sizes[METS_PATH] = out.hexdigests(), out.size
        if self.schemas is not None:
            problems = self.schemas.validate_mets_file(mets_target)
            if problems:
                raise InvalidMetadata(problems="; ".join(problems[:5]))
        tag_bytes = {
            "bagit.txt": bagging.BAGIT_TXT,
            "bag-info.txt": bagging.bag_info(bag_info, payload, created=self.created,
                                             software=software, package_id=package_id,
                                             version=version),
        }
        for algorithm in bagging.MANIFEST_ALGORITHMS:
            tag_bytes[f"manifest-{algorithm}.txt"] = bagging.manifest(
                [(p, d) for p, d in entries.items() if p.startswith("data/")], algorithm)
        for name, data in tag_bytes.items():
            entries[name], sizes[name] = self._write(builder, name, data), len(data)
        tags = [(p, d) for p, d in entries.items() if not p.startswith("data/")]
        for algorithm in bagging.MANIFEST_ALGORITHMS:
            name = f"tagmanifest-{algorithm}.txt"
            data = bagging.manifest(tags, algorithm)
            entries[name], sizes[name] = self._write(builder, name, data), len(data)
        for logical in set(entries) - set(formats):
            builder.add(logical, entries[logical])
        inventory_sha512 = builder.prepare(created=self.created,
                                           message=f"metadata-only version: {event.detail}",
                                           user_name=software)
        stored = tuple(StoredFile(path=p, size=sizes[p], sha256=d["sha256"], sha512=d["sha512"],
                                  content_path=builder.content_path(p), format=formats.get(p))
                       for p, d in sorted(entries.items()))
        ingest = IngestRecord(
            package_id=package_id, version=version, created=self.created, title=title,
            external_identifiers=identifiers, payload_fingerprint=fingerprint,
            location=DEFAULT_LOCATION, deposit_id=self.deposit_id,
            message=f"metadata-only version of v{head}", files=stored,
            inventory_sha512=inventory_sha512)
        intent = Intent(deposit_id=self.deposit_id, source=str(self.work), requested_id=None,
                        version_of=package_id, inventory_sha512=inventory_sha512,
                        record=ingest, events=(event,))
        with commit_lock(self.home.path / COMMIT_LOCK):
            pending = recovery.tidy(storage, self.catalog, self.home.staging)
            try:
                if pending and any(p.intent.package_id == package_id for p in pending) or (
                        self.catalog.head_version(package_id) != head
                        or storage.head_version(package_id) != head):
                    raise DepositRejected(path=package_id, findings=(finding(
                        "ING-E007", "", package_id=package_id,
                        detail="another version was stored while this one was prepared; "
                               "run `preserve check --repair`, then describe again"),))
                recovery.write_intent(self.work, intent)
                self.stored_unrecorded = True
                builder.commit()
                self.catalog.record_ingest(ingest, [event])
                self.stored_unrecorded = False
            finally:
                recovery.release(pending)
        log.info("stored %s %s (metadata only)", package_id, inv.version_name(version))
        return version, head, title

    def _write(self, builder: VersionBuilder, logical: str, data: bytes) -> dict[str, str]:
        target = builder.content_target(logical)
        hasher = MultiHasher(REQUIRED_ALGORITHMS)
        hasher.update(data)
        try:
            with open(target, "xb") as out:
                out.write(data)
        except OSError as exc:
            raise StorageError(detail=f"cannot write {target}: {exc.strerror or exc}; nothing "
                               "was committed (check free space and the disk)") from None
        return hasher.hexdigests()


def _at_version(event: Event, package_id: str, version: int, deposit_id: int) -> Event:
    from dataclasses import replace
    return replace(event, package_id=package_id, version=version, deposit_id=deposit_id)


def _depositor_labels(data: bytes | None, package_id: str, head: int) -> list[tuple[str, str]]:
    """The depositor's bag-info labels of the head version (bagging.bag_info recomputes the
    rest); our own Internal-Sender-Identifier of the head version is made anew."""
    if data is None:
        return []
    pairs, _findings = parse_tag_file(data.decode("utf-8", errors="replace"), "bag-info.txt")
    ours = f"{package_id} v{head}"
    return [(k, v) for k, v in pairs
            if not (k.lower() == "internal-sender-identifier" and v == ours)]


def _carried(record: MetsRecord, bag_info: Sequence[tuple[str, str]]) -> list[DcValue]:
    """The head version's Dublin Core values but those write_mets derives again (identifiers,
    and the titles and descriptions bag-info gives)."""
    again = {("title", v) for k, v in bag_info if k.lower() == "title"} | {
        ("description", v) for k, v in bag_info if k.lower() == "external-description"}
    return [v for v in record.dublin_core
            if v.element != "identifier" and (v.element, v.value) not in again]
