"""What an export carries, gathered from the catalog and the storage (DESIGN.md, "Data flow").

`collect` turns one package version into plain values (`ExportSource`): its payload files
with their digests and where their bytes lie in the OCFL object, its descriptive metadata and
format identifications read back from the METS stored with the version, its bag-info, and the
complete PREMIS history of the package from the catalog (every event of every version,
fixity checks and events imported from other archives included). Every writer (BagIt, zip,
tar, E-ARK) works from this alone.

Storage is the truth for content: the stored METS and bag-info are read through the version's
inventory state and checked against their sha512 before use; payload bytes are checked while
they are copied (`preserve.export.serialize`). Everything is read through a storage
`Location` (the local root, or any other location holding a complete copy), never through
filesystem paths.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from preserve.catalog import Catalog, EventView, PackageDetail
from preserve.deposit.tagfiles import parse_tag_file
from preserve.errors import FixityError, PackageDeaccessioned, StorageError
from preserve.findings import finding
from preserve.metadata import DcValue, FileFormat, PremisEvent
from preserve.metadata.history import MetsRecord, UnreadableDocument, read_record
from preserve.metadata.rights import RightsStatement
from preserve.metadata.rights_import import own_rights
from preserve.model import Agent, AgentType, vocabulary_value
from preserve.storage import inventory as inv
from preserve.storage.layout import object_path_for
from preserve.storage.location import Location, LocationError, StoredContent, StoredFileMissing
from preserve.storage.objects import read_logical

METS_PATH = "metadata/mets.xml"
BAG_INFO_PATH = "bag-info.txt"
PAYLOAD_PREFIX = "data/"
_MAX_TAG_BYTES = 2**31


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One payload file: logical path (`data/…`, exactly as deposited), size, digests, and the
    content file in the OCFL object its bytes are read from."""

    path: str
    size: int
    sha256: str
    sha512: str
    content: StoredContent
    format: FileFormat | None = None


@dataclass(frozen=True, slots=True)
class ExportSource:
    """A package version as an export writes it out (see the module docstring).

    `events` is the complete history in log order, each naming the archive that recorded it
    (`PremisEvent.recorded_by`); `organization` is the exporting archive.
    """

    package_id: str
    version: int
    created: dt.datetime
    title: str | None
    external_ids: tuple[str, ...]
    files: tuple[ExportFile, ...]
    events: tuple[PremisEvent, ...]
    dc_values: tuple[DcValue, ...]
    mods_xml: bytes | None
    bag_info: tuple[tuple[str, str], ...]
    organization: str
    rights: tuple[RightsStatement, ...] = ()  # the stored METS's (issue 16 §1)

    @property
    def payload_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def with_events(self, *events: PremisEvent) -> ExportSource:
        """This source with `events` appended to the history (the export's own transfer)."""
        return ExportSource(self.package_id, self.version, self.created, self.title,
                            self.external_ids, self.files, self.events + tuple(events),
                            self.dc_values, self.mods_xml, self.bag_info, self.organization,
                            self.rights)


def organization_agent(name: str) -> Agent:
    """An archive as a PREMIS agent (LoC agentType "organization"), identified by its name."""
    return Agent(name, name, AgentType.ORGANIZATION)


def premis_event(event: EventView, organization: str) -> PremisEvent:
    """A catalog event as PREMIS writes it: imported ones under their first archive's name."""
    if event.imported is not None:
        identifier_type, identifier = event.imported.identifier_type, event.imported.identifier
        recorded_by = organization_agent(event.imported.origin)
    else:
        identifier_type, identifier = "UUID", event.identifier
        recorded_by = organization_agent(organization)
    return PremisEvent(identifier=identifier, identifier_type=identifier_type,
                       type=vocabulary_value(event.type), time=event.time,
                       outcome=vocabulary_value(event.outcome), agent=event.agent,
                       detail=event.detail, outcome_detail=event.outcome_detail,
                       version=event.version, object_paths=tuple(event.object_paths),
                       recorded_by=recorded_by, person=event.person)


def _format(stored: FileFormat | None, puid: str | None) -> FileFormat | None:
    """The format the stored METS names; else the PRONOM id the catalog holds for a version
    ingested with `--defer identify`, recorded later by the identify job."""
    if (stored is not None and stored.puid is not None) or puid is None:
        return stored
    return FileFormat(puid=puid, note="identified after ingest (deferred identification); "
                                      "recorded in the catalog, not in the stored METS")


def collect(catalog: Catalog, location: Location, package_id: str, version: int | None,
            organization: str, created: dt.datetime) -> ExportSource:
    """The `ExportSource` of `version` (default: the head) of a package.

    Raises PackageNotFound, StorageError (no such version, object missing) or FixityError
    (a stored METS or bag-info that does not match its inventory digest).
    """
    refuse_deaccessioned(catalog, package_id)
    detail: PackageDetail = catalog.get_package(package_id)
    number = detail.head if version is None else version
    if number not in {v.number for v in detail.versions}:
        raise StorageError(detail=f"package {package_id} has no version v{number}; it has "
                           + ", ".join(f"v{v.number}" for v in detail.versions))
    base = object_path_for(package_id)
    if not location.exists(f"{base}/{inv.OBJECT_NAMASTE}"):
        raise StorageError(detail=f"the OCFL object of package {package_id} is missing from "
                           f"location {location.name!r} ({location.describe()}); run "
                           "`preserve audit` and restore it")
    inventory = _verified_inventory(catalog, location, package_id, number, detail.head)
    record, rights = _stored_record(location, inventory, number, package_id)
    bag_info = _stored_bag_info(location, inventory, number, package_id)
    files = tuple(
        ExportFile(path=f.path, size=f.size, sha256=f.sha256, sha512=f.sha512,
                   content=StoredContent(location, f"{base}/{f.content_path}"),
                   format=_format(record.formats.get(f.path.removeprefix(PAYLOAD_PREFIX))
                                  or record.formats.get(f.path), f.format))
        for f in sorted(detail.files_of(number), key=lambda f: f.path)
        if f.path.startswith(PAYLOAD_PREFIX))
    events = tuple(premis_event(e, organization) for e in detail.events)
    return ExportSource(
        package_id=package_id, version=number, created=created, title=detail.title,
        external_ids=detail.external_identifiers, files=files, events=events,
        dc_values=record.dublin_core, mods_xml=record.mods, bag_info=bag_info,
        organization=organization, rights=tuple(rights))


def refuse_deaccessioned(catalog: Catalog, package_id: str) -> None:
    """PackageDeaccessioned (DEA-E009) for a package whose copies were removed (issue 16 §2):
    its tombstone has nothing to export."""
    if catalog.package_state(package_id) != "deaccessioned":
        return
    done = catalog.deaccession_requests(package_id, states=("completed",))
    found = finding("DEA-E009", "", package_id=package_id,
                    request=done[-1].id if done else "?")
    raise PackageDeaccessioned(detail=f"{found.code}: {found.message}")


def _stored_record(location: Location, inventory: inv.Inventory, number: int,
                   package_id: str) -> tuple[MetsRecord, list[RightsStatement]]:
    data = read_logical(location, object_path_for(package_id), inventory, number, METS_PATH,
                        _MAX_TAG_BYTES)
    if data is None:
        return MetsRecord(), []
    try:
        record = read_record(data)
        return record, own_rights(record.rights)  # one parse of a METS that may be large
    except (UnreadableDocument, ValueError) as exc:
        raise StorageError(detail=f"the stored METS of {package_id} v{number} cannot be read "
                           f"({exc}); run `preserve audit`") from None


def _stored_bag_info(location: Location, inventory: inv.Inventory, number: int,
                     package_id: str) -> tuple[tuple[str, str], ...]:
    data = read_logical(location, object_path_for(package_id), inventory, number,
                        BAG_INFO_PATH, _MAX_TAG_BYTES)
    if data is None:
        return ()
    pairs, _findings = parse_tag_file(data.decode("utf-8", "replace"), BAG_INFO_PATH)
    return tuple(pairs)


def _verified_inventory(catalog: Catalog, location: Location, package_id: str, number: int,
                        head: int) -> inv.Inventory:
    """The root inventory, trusted only after what the export relies on verifies (issue 18):
    the root inventory and the exported version's own inventory against their sidecars
    (OCFL 1.1 section 3.5.6) and against the digests the catalog pinned at ingest, and the
    version's state the same in both. Otherwise FixityError, exit 12: nothing is exported."""
    base = object_path_for(package_id)
    pins = catalog.inventory_digests(package_id)
    try:
        inventory, root_digest = inv.read(location, base)
        version_inventory, version_digest = inv.read(location,
                                                     f"{base}/{inv.version_name(number)}")
    except LocationError as exc:
        if not isinstance(exc, StoredFileMissing):
            raise  # the location could not be read (a disk, a network): exit 13, not damage
        raise FixityError(detail=f"{exc.message}; the inventory of {package_id} cannot be "
                          "trusted, so nothing was exported: run `preserve audit`, then "
                          "`preserve repair` or restore it from another copy") from None
    except StorageError as exc:
        raise FixityError(detail=f"{exc.fields.get('detail', exc.message)}; the inventory of "
                          f"{package_id} cannot be "
                          "trusted, so nothing was exported: run `preserve audit`, then "
                          "`preserve repair` or restore it from another copy") from None
    problems = []
    if pins.get(head) not in (None, root_digest):
        problems.append(f"the root inventory is not the one recorded at ingest of v{head}")
    if pins.get(number) not in (None, version_digest):
        problems.append(f"{inv.version_name(number)}/inventory.json is not the one recorded "
                        "at its ingest")
    name = inv.version_name(number)
    if version_inventory.states.get(number) != inventory.states.get(number):
        problems.append(f"the root inventory and {name}/inventory.json disagree on {name}")
    if inventory.id != package_id:
        problems.append(f"the inventory belongs to {inventory.id!r}")
    if problems:
        raise FixityError(detail=f"the OCFL inventory of {package_id} cannot be trusted: "
                          + "; ".join(problems) + "; nothing was exported: run `preserve "
                          "audit`, then `preserve repair` or restore it from another copy")
    return inventory
