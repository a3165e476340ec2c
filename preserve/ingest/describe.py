"""`preserve describe ID --metadata FILE`: a metadata-only version (issue 16 §3).

A package's description changes over its life (a cataloguer corrects a title, adds the
Kazakh one); its payload does not. The new version is made without a deposit:

```
read FILE (CSV / DC / MODS, META-E001 if unusable) ─▶ the head version's state from the
catalog ─▶ every payload and submission file declared as content the object already holds
(OCFL 1.1 section 3.3: a version's state may point at earlier versions' content; no byte is
copied or read) ─▶ FILE kept as metadata/description/<name> ─▶ new METS (the package's whole
event history, a PREMIS `metadata modification` event) and the bag's tag files ─▶ intent
record ─▶ commit ─▶ one catalog transaction
```

The METS's Dublin Core is FILE's (the bag-info Title and External-Description labels, which
ingest turns into DC, are left out of the METS: FILE replaces the description; bag-info.txt
itself keeps them, as the depositor wrote them). A crash after the version reached storage
is completed by running the same describe again (the interrupted commit is rolled forward and
the version recorded from the intent record, as an ingest re-run is: `recovery.py`), or by
`preserve check --repair` once the commit itself is complete.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve import SOFTWARE_NAME, __version__
from preserve.catalog import Catalog, EventView, IngestRecord, StoredFile
from preserve.catalog.intent import Intent
from preserve.catalog.views import FileView
from preserve.deposit import Limits
from preserve.deposit.tagfiles import parse_tag_file
from preserve.errors import (
    CatalogError,
    ConfigurationError,
    InvalidMetadata,
    PackageDeaccessioned,
    StorageError,
)
from preserve.findings import finding
from preserve.home import DEFAULT_LOCATION, Home
from preserve.ingest import bagging, recovery
from preserve.ingest.ingest import (
    METS_PATH,
    SOFTWARE_AGENT,
    _event,
    _premis_event,
    write_staged,
)
from preserve.ingest.stored import stored_description, stored_rights
from preserve.ingest.supplied import GIVEN_METADATA_DIR, GivenMetadata, read_given_metadata
from preserve.metadata import FileFormat, MetsFile, SchemaSet, build_mets
from preserve.metadata.history import MetsRecord
from preserve.metadata.rights import RightsStatement
from preserve.model import Event, EventOutcome, EventType, Finding, PayloadFile, utc_now
from preserve.storage import StorageRoot, VersionBuilder, object_path_for
from preserve.storage import inventory as inv
from preserve.storage.local import LocalLocation
from preserve.storage.objects import read_logical
from preserve.storage.staging import COMMIT_LOCK, WorkDir, commit_lock

log = logging.getLogger(__name__)

#: The tag files every version makes anew (bagging.py); everything else is carried.
_REMADE = {"bagit.txt", "bag-info.txt", METS_PATH,
           *(f"manifest-{a}.txt" for a in bagging.MANIFEST_ALGORITHMS),
           *(f"tagmanifest-{a}.txt" for a in bagging.MANIFEST_ALGORITHMS)}
#: bag-info labels ingest turns into Dublin Core: the given file replaces them in the METS.
_DESCRIPTIVE_LABELS = {"title", "external-description"}
_BAG_INFO_LIMIT = 1 << 20
#: GivenMetadata.kind of a rights CSV added by `rights --add`
RIGHTS_KIND = "rights"


@dataclass(frozen=True, slots=True)
class DescribeResult:
    package_id: str
    version: int
    metadata: str  # the logical path the given file is kept under
    kind: str  # csv | dc | mods
    title: str | None
    findings: tuple[Finding, ...]  # warnings about the given file

    def as_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "version": self.version,
                "metadata": self.metadata, "kind": self.kind, "title": self.title,
                "payload_copied_bytes": 0,
                "findings": [f.as_dict() for f in self.findings]}


def describe_package(home: Home, catalog: Catalog, reference: str, metadata: Path, *,
                     schemas: SchemaSet | None, schemas_required: bool = False,
                     limits: Limits = Limits(),
                     clock: Callable[[], dt.datetime] = utc_now,
                     given: GivenMetadata | None = None,
                     rights: Sequence[RightsStatement] | None = None) -> DescribeResult:
    """Store a new version of package `reference` (its id or External-Identifier) whose
    descriptive metadata is `metadata` and whose payload is the head version's.

    `rights --add` (preserve.ingest.rights_add) passes `given` already read, of kind
    `rights` (the description is then the head version's, kept), and the version's complete
    `rights` statements; otherwise the head version's statements are carried (issue 16 §1)."""
    if schemas is None and schemas_required:
        raise ConfigurationError(
            detail="schemas.required is true but no schema directory is configured, so the "
            "METS could not be validated; nothing was stored. Set schemas.dir (or "
            "PRESERVE_SCHEMAS) to a folder with the official XSDs and catalog.xml")
    package_id = catalog.resolve_package(reference)
    if catalog.package_state(package_id) == "deaccessioned":  # issue 16 §2: nothing to describe
        found = finding("ING-E011", "", package_id=package_id)
        raise PackageDeaccessioned(detail=f"{found.code}: {found.message}")
    created = clock()
    if given is None:
        given = read_given_metadata(metadata.absolute(), schemas, created,
                                    limits.max_tag_file_size)
    if schemas is None:  # said as ingest says it: the new METS is not checked against the XSDs
        given.supplied.findings.append(finding("META-W004", METS_PATH))
    storage = StorageRoot.open(home.ocfl)
    with commit_lock(home.path / COMMIT_LOCK):
        pending = recovery.tidy(storage, catalog, home.staging)
        try:
            adopted = _adopt_own(storage, catalog, pending, package_id, metadata, given,
                                 created)
        finally:
            recovery.release(pending)
    if adopted is not None:
        return adopted
    if any(item.intent.package_id == package_id for item in pending):
        raise StorageError(detail=f"an interrupted ingest or describe of {package_id} stored a "
                           "version the catalog does not record yet; run `preserve check "
                           "--repair` first, then describe again")
    head = catalog.head_version(package_id) or 0
    if (storage.head_version(package_id) or 0) != head:
        raise StorageError(detail=f"storage and catalog disagree on the head version of "
                           f"{package_id}; run `preserve check` first")
    detail = catalog.get_package(package_id)
    files = [f for f in detail.files if f.version == head]
    deposit_id = catalog.begin_deposit(source=str(metadata.absolute()), kind="metadata",
                                       started=created)
    work_dir = WorkDir.create(home.staging)
    stored_unrecorded = False
    try:
        (work_dir.path / "version").mkdir()
        builder = storage.begin_version(package_id, work_dir.path / "version")
        try:
            plan = _Plan(home, package_id, head, files, catalog.events(package_id), given,
                         schemas, created, rights)
            record, events, inventory_sha512 = plan.build(
                builder, deposit_id, detail.external_identifiers, detail.payload_fingerprint)
            intent = Intent(deposit_id=deposit_id, source=str(metadata.absolute()),
                            requested_id=None, version_of=package_id,
                            inventory_sha512=inventory_sha512, record=record,
                            events=tuple(events))
            with commit_lock(home.path / COMMIT_LOCK):
                if (catalog.head_version(package_id) or 0) != head:
                    raise StorageError(detail=f"{package_id} got a new version while this "
                                       "describe ran; nothing was stored: describe again")
                recovery.write_intent(work_dir.path, intent)
                stored_unrecorded = True
                builder.commit()
                try:
                    catalog.record_ingest(record, events)
                except CatalogError as exc:
                    raise CatalogError(detail=f"{exc.fields.get('detail', exc.message)}; "
                                       f"{package_id} v{record.version} is stored but not "
                                       "recorded in the catalog: run `preserve check --repair` "
                                       "once the catalog can be written") from None
                stored_unrecorded = False
        except BaseException:
            if not stored_unrecorded:
                builder.abort()
            raise
    except BaseException as exc:
        why = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        try:
            catalog.finish_deposit(deposit_id, status="failed", findings=(),
                                   finished=clock(),
                                   events=[_event(EventType.METADATA_MODIFICATION,
                                                  EventOutcome.FAILURE, clock(),
                                                  detail="describe did not complete",
                                                  outcome_detail=why, package_id=package_id,
                                                  deposit_id=deposit_id)])
        except Exception:  # the catalog may be what failed: the first error is the one to see
            log.debug("recording the failed describe", exc_info=True)
        raise
    finally:
        if stored_unrecorded:
            work_dir.release()  # the intent record stays for `check --repair`
        else:
            work_dir.remove()
    log.info("described %s v%d from %s", package_id, record.version, metadata)
    return DescribeResult(package_id, record.version, given.name, given.kind, record.title,
                          tuple(given.supplied.findings))


def _adopt_own(storage: StorageRoot, catalog: Catalog, pending: list[recovery.Pending],
               package_id: str, metadata: Path, given: GivenMetadata,
               created: dt.datetime) -> DescribeResult | None:
    """The same describe run again after it was killed with its version in storage (its
    intent record names the same package and file, and the stored version is exactly the one
    it prepared): record that version, as an ingest re-run does (recovery.py)."""
    for item in pending:
        intent = item.intent
        if intent.package_id != package_id or intent.source != str(metadata.absolute()):
            continue
        if recovery.verify_stored(storage, intent, intent.fingerprint) is not None:
            return None
        deposit_id = catalog.begin_deposit(source=intent.source, kind="metadata",
                                           started=created)
        record = recovery.adopt(catalog, intent, deposit_id)
        item.work.remove()
        pending.remove(item)
        return DescribeResult(package_id, record.version, given.name, given.kind, record.title,
                              tuple(given.supplied.findings))
    return None


class _Plan:
    """The new version's files, METS and catalog record, built into `builder`."""

    def __init__(self, home: Home, package_id: str, head: int, files: Sequence[FileView],
                 earlier: Sequence[EventView], given: GivenMetadata, schemas: SchemaSet | None,
                 created: dt.datetime, rights: Sequence[RightsStatement] | None = None) -> None:
        self.home, self.package_id, self.head, self.files = home, package_id, head, files
        self.earlier = earlier  # every event of the package so far: the METS carries them
        self.given, self.schemas, self.created = given, schemas, created
        self._mets_record: MetsRecord | None = None
        self._mets_read = False
        # The version's rights statements: given (rights --add), else the head version's.
        self.rights = list(rights) if rights is not None else (
            stored_rights(home, package_id) or [])
        self.rights_only = given.kind == RIGHTS_KIND  # the description stays the head's

    def build(self, builder: VersionBuilder, deposit_id: int, identifiers: Sequence[str],
              fingerprint: str) -> tuple[IngestRecord, list[Event], str]:
        """(the catalog record, this version's events, the sha512 of its inventory)."""
        package_id, version = self.package_id, builder.version
        entries: dict[str, dict[str, str]] = {}
        sizes: dict[str, int] = {}
        formats: dict[str, str | None] = {}
        names: dict[str, dict[str, str]] = {}  # the catalog's PRONOM name and version, kept
        for f in self.files:
            if f.path in _REMADE or (f.path.startswith(GIVEN_METADATA_DIR + "/")
                                     and not self.rights_only):
                continue
            digests = {"sha256": f.sha256, "sha512": f.sha512}
            builder.add(f.path, digests, written=False)  # content the object already holds
            entries[f.path], sizes[f.path], formats[f.path] = digests, f.size, f.format
            names[f.path] = {"format_name": f.format_name, "format_version": f.format_version}
        self._write(builder, self.given.name, self.given.data, entries, sizes)
        bag_info = self._bag_info()
        software = f"{SOFTWARE_NAME} {__version__}"
        supplied = self.given.supplied
        descriptive, mods = supplied.descriptive, supplied.mods
        what = (f"descriptive metadata of {package_id} replaced by {self.given.name} "
                f"({self.given.kind})")
        if self.rights_only:
            kept = self._record()
            descriptive = [v for v in (kept.dublin_core if kept else ())
                           if v.element != "identifier"]
            mods = kept.mods if kept else None
            what = (f"rights statements of {package_id} added from {self.given.name} "
                    f"({len(self.rights)} in all)")
        titles = [v.value for v in descriptive if v.element == "title"]
        title = titles[0] if titles else self._old_title()
        event = _event(
            EventType.METADATA_MODIFICATION, EventOutcome.SUCCESS, self.created,
            detail=(f"{what} in v{version}; the payload is v{self.head}'s: no "
                    "content copied"),
            outcome_detail=("METS validated offline against the official XSDs"
                            if self.schemas is not None else
                            "METS schema validation skipped: no schemas configured"),
            package_id=package_id, version=version, deposit_id=deposit_id,
            object_paths=(self.given.name,))
        events = [event]
        payload = [p for p in entries if p.startswith("data/")]
        record = self._record()
        mets = build_mets(
            package_id=package_id, version=version, created=self.created,
            files=[MetsFile(p, sizes[p], entries[p]["sha256"], entries[p]["sha512"],
                            original_name=self._original_name(record, p),
                            format=self._format(record, p, formats[p]))
                   for p in sorted(payload)],
            bag_info=[(k, v) for k, v in bag_info if k.lower() not in _DESCRIPTIVE_LABELS],
            software=software, label=title, software_agent=SOFTWARE_AGENT,
            events=[*map(_premis_event, self.earlier), *map(_premis_event, events)],
            descriptive=descriptive, mods=mods, rights=self.rights)
        if self.schemas is not None:
            problems = self.schemas.validate_mets(mets)
            if problems:
                raise InvalidMetadata(problems="; ".join(problems[:5]))
        self._write(builder, METS_PATH, mets, entries, sizes)
        payload_files = [PayloadFile(p.removeprefix("data/"), sizes[p], entries[p])
                         for p in payload]
        tags = {"bagit.txt": bagging.BAGIT_TXT,
                "bag-info.txt": bagging.bag_info(bag_info, payload_files, created=self.created,
                                                 software=software, package_id=package_id,
                                                 version=version)}
        for algorithm in bagging.MANIFEST_ALGORITHMS:
            tags[f"manifest-{algorithm}.txt"] = bagging.manifest(
                [(p, entries[p]) for p in payload], algorithm)
        for name, data in tags.items():
            self._write(builder, name, data, entries, sizes)
        tag_entries = [(p, d) for p, d in entries.items() if not p.startswith("data/")]
        for algorithm in bagging.MANIFEST_ALGORITHMS:
            self._write(builder, f"tagmanifest-{algorithm}.txt",
                        bagging.manifest(tag_entries, algorithm), entries, sizes)
        message = (f"rights --add: rights statements from {self.given.name}" if self.rights_only
                   else f"describe: descriptive metadata from {self.given.name}")
        inventory_sha512 = builder.prepare(created=self.created, message=message,
                                           user_name=software)
        stored = tuple(StoredFile(path=p, size=sizes[p], sha256=d["sha256"], sha512=d["sha512"],
                                  content_path=builder.content_path(p), format=formats.get(p),
                                  **names.get(p, {}))
                       for p, d in sorted(entries.items()))
        return IngestRecord(
            package_id=package_id, version=version, created=self.created, title=title,
            external_identifiers=tuple(identifiers), payload_fingerprint=fingerprint,
            location=DEFAULT_LOCATION, deposit_id=deposit_id, message=message, files=stored,
            findings=tuple(supplied.findings), inventory_sha512=inventory_sha512), events, \
            inventory_sha512

    # -- what the head version says --------------------------------------------------------
    def _record(self) -> MetsRecord | None:
        """The head version's METS read back, once."""
        if not self._mets_read:
            self._mets_record = stored_description(self.home, self.package_id)
            self._mets_read = True
        return self._mets_record

    def _old_title(self) -> str | None:
        record = self._record()
        return record.label if record is not None else None

    @staticmethod
    def _original_name(record: MetsRecord | None, path: str) -> str | None:
        return record.original_names.get(path) if record is not None else None

    @staticmethod
    def _format(record: MetsRecord | None, path: str, puid: str | None) -> FileFormat | None:
        """The format the head version's METS gives the file (name, version, MIME type),
        else the PUID the catalog holds."""
        if record is not None and path in record.formats:
            return record.formats[path]
        return FileFormat(puid=puid) if puid else None  # identified later by a queued job

    def _bag_info(self) -> list[tuple[str, str]]:
        """The head version's bag-info labels, without those each version makes anew."""
        location = LocalLocation("local", StorageRoot.open(self.home.ocfl).path)
        base = object_path_for(self.package_id)
        inventory, _digest = inv.read(location, base)
        data = read_logical(location, base, inventory, self.head, "bag-info.txt",
                            _BAG_INFO_LIMIT)
        if data is None:
            return []
        pairs, _findings = parse_tag_file(data.decode("utf-8", "replace"), "bag-info.txt")
        own = f"{self.package_id} v{self.head}"
        return [(k, v) for k, v in pairs
                if not (k.lower() == "internal-sender-identifier" and v == own)]

    def _write(self, builder: VersionBuilder, logical: str, data: bytes,
               entries: dict[str, dict[str, str]], sizes: dict[str, int]) -> None:
        digests = write_staged(builder, logical, data)
        builder.add(logical, digests)
        entries[logical], sizes[logical] = digests, len(data)
