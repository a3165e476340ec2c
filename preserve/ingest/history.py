"""The sender's history: PREMIS events and agents a deposit brings in its METS (issue 5).

A package exported by another archive (by preserve, or by any repository writing METS with
PREMIS) carries its chain of custody in `metadata/mets.xml`. On ingest that history is kept,
not retold: every event the sender's METS holds is appended to our log with its original
date, type, outcome, detail and agent, linked to the new package and marked as recorded by
the archive it came from (`model.ImportedFrom`: that archive and its own event identifier,
verbatim, so a later export names the event exactly as its first archive did). Our own
events of the ingest follow it.

The archive an event came from: the organisation its PREMIS links with role "implementer"
(preserve's exports link every event so), else the organisation in the METS header, else the
deposit's `Source-Organization`. Our log keys an imported event by a UUID derived from that
archive and the original identifier (RFC 4122 version 5), so the same history brought twice
(a package returning from a round trip, a second version from the same sender) is stored
once.

An E-ARK package (read as a deposit by `preserve.deposit.eark`) brings its history in the
PREMIS files its package METS references (`metadata/preservation/`, and each
representation's), and its fixity in the representation METS `fileSec` CHECKSUMs: those are
compared with the digests ingest computes (`IMP-E001` rejects a package damaged in transit).
A bag's METS fileSec, when it has checksums, is compared the same way.

The METS is untrusted: it is parsed safely (`preserve.metadata.history`), checked against the
METS/PREMIS schemas when they are configured, and a document that fails is warning IMP-W001:
the file is stored as received, only its history is not imported. Never a crash.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from preserve.deposit import Deposit
from preserve.deposit.eark import METS_FILE, package_paths
from preserve.findings import finding
from preserve.metadata import DcValue, PremisEvent, SchemaSet
from preserve.metadata.history import FileChecksum, MetsRecord, UnreadableDocument, read_record
from preserve.metadata.supplied import read_dc_xml, read_mods_xml
from preserve.model import Event, Finding, ImportedFrom, PayloadFile
from preserve.safeio import read_regular

#: Where a deposit carries the sender's METS: a bag's tag file (as preserve's exports write
#: it), or the package METS of an E-ARK package.
SENDER_METS_PATHS = ("metadata/mets.xml", METS_FILE, "mets.xml")
#: Namespace of the UUIDs our log gives imported events (uuid5 of origin + original id).
IMPORTED_EVENT_NAMESPACE = uuid.UUID("5b0c3f5e-2f0b-4c59-9d8e-6f1f6a0d7e11")
_MAX_METS_BYTES = 2**31


@dataclass(frozen=True, slots=True)
class SenderHistory:
    """What the sender's METS gives the new package."""

    path: str  # the tag file it was read from
    record: MetsRecord
    default_origin: str
    # payload path -> (what a METS fileSec declares of it, the METS that says so)
    declared: dict[str, tuple[FileChecksum, str]]
    complete: bool  # an E-ARK package: its METS must declare every payload file

    def check_payload(self, files: Sequence[PayloadFile]) -> list[Finding]:
        """Compare the digests computed at ingest with the sender's METS fileSec."""
        findings = []
        for f in files:
            declared = self.declared.get(f.path)
            if declared is None:
                if self.complete:
                    findings.append(finding("IMP-W003", f.path, name=f.path,
                                            why="no METS fileSec lists it"))
                continue
            checksum, mets = declared
            actual = f.digests.get(checksum.algorithm)
            if actual is None:
                findings.append(finding("IMP-W003", f.path, name=f.path,
                                        why=f"CHECKSUMTYPE {checksum.algorithm} in {mets}"))
            elif actual != checksum.digest or (checksum.size is not None
                                               and checksum.size != f.size):
                size = (f" and SIZE {checksum.size} (read: {f.size})"
                        if checksum.size is not None and checksum.size != f.size else "")
                findings.append(finding("IMP-E001", f.path, name=f.path,
                                        algorithm=checksum.algorithm, actual=actual,
                                        file=mets, declared=checksum.digest, size=size))
        return findings

    @property
    def objid(self) -> str | None:
        return self.record.objid or None

    @property
    def dublin_core(self) -> tuple[DcValue, ...]:
        return self.record.dublin_core

    @property
    def mods(self) -> bytes | None:
        return self.record.mods

    def events(self, package_id: str, skip: Collection[str] = ()) -> list[Event]:
        """The sender's events as our log keeps them, linked to `package_id`, in their order;
        those whose log identifier is in `skip` (already in our log) are left out."""
        imported = []
        for premis in self.record.events:
            origin = premis.recorded_by.identifier if premis.recorded_by else self.default_origin
            event = _event(premis, origin, package_id)
            if event.identifier not in skip:
                imported.append(event)
        return imported

    def log_identifiers(self) -> list[str]:
        """The identifiers our log would give the sender's events (to look up duplicates)."""
        return [log_identifier(e.recorded_by.identifier if e.recorded_by else self.default_origin,
                               e.identifier_type, e.identifier) for e in self.record.events]


def log_identifier(origin: str, identifier_type: str, identifier: str) -> str:
    """The UUID our log gives an imported event: stable for the same archive and identifier."""
    return str(uuid.uuid5(IMPORTED_EVENT_NAMESPACE, f"{origin}\x00{identifier_type}\x00{identifier}"))


def read_sender_history(deposit: Deposit, schemas: SchemaSet | None,
                        max_bytes: int = _MAX_METS_BYTES) -> tuple[SenderHistory | None,
                                                                    list[Finding]]:
    """The history in the deposit's METS, if it has one, and findings about it."""
    tags = {tag.path: tag for tag in deposit.tag_files}
    path = next((p for p in SENDER_METS_PATHS if p in tags), None)
    if path is None:
        return None, []
    try:
        document = read_regular(tags[path].source, min(max_bytes, _MAX_METS_BYTES))
    except OSError as exc:
        return None, [finding("IMP-W001", path, file=path, why=f"it cannot be read: {exc}")]
    findings: list[Finding] = []
    premis = _premis_documents(deposit, tags, findings)
    record = _read_valid(document, path, schemas, findings, premis)
    if record is None:
        return None, findings
    findings += [finding("IMP-W002", path, file=path, why=problem) for problem in record.problems]
    organisations = deposit.bag_info_values("Source-Organization")
    default_origin = (record.organisations[0] if record.organisations
                      else organisations[0] if organisations
                      else f"the archive that sent {deposit.source.name}")
    eark = path == METS_FILE and any(t.startswith("representations/") for t in tags)
    if eark:
        record = _with_referenced_descriptive(record, tags, findings)
    declared = _declared(deposit, tags, path, record, schemas, findings, eark)
    return SenderHistory(path, record, default_origin, declared, eark), findings


def _read_valid(document: bytes, path: str, schemas: SchemaSet | None, findings: list[Finding],
                extra: Sequence[bytes] = ()) -> MetsRecord | None:
    """The record of a METS checked against the XSDs (when configured); None + IMP-W001."""
    if schemas is not None:
        problems = schemas.validate_mets(document)
        if problems:
            why = f"it is not valid METS/PREMIS ({problems[0]}" + (
                f"; and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ")")
            findings.append(finding("IMP-W001", path, file=path, why=why))
            return None
    try:
        return read_record(document, *extra)
    except UnreadableDocument as exc:
        findings.append(finding("IMP-W001", path, file=path, why=str(exc)))
        return None


def _with_referenced_descriptive(record: MetsRecord, tags: dict[str, Any],
                                 findings: list[Finding]) -> MetsRecord:
    """An E-ARK package references its descriptive metadata (CSIP 2.1 dmdSec/mdRef) instead
    of embedding it: take Dublin Core and MODS from `metadata/descriptive/`, read as safely
    as any supplied XML."""
    dc_values, mods = list(record.dublin_core), record.mods
    for tag_path, tag in sorted(tags.items()):
        if not tag_path.startswith("metadata/descriptive/") or not tag_path.endswith(".xml"):
            continue
        try:
            data = read_regular(tag.source, _MAX_METS_BYTES)
        except OSError as exc:  # kept as received all the same; say what was not taken
            findings.append(finding("IMP-W001", tag_path, file=tag_path,
                                    why=f"it cannot be read: {exc}"))
            continue
        if tag_path.endswith("/dc.xml") and not record.dublin_core:
            values, problems = read_dc_xml(data, tag_path)
            dc_values += values
            findings += problems
        elif tag_path.endswith("/mods.xml") and mods is None:
            mods, problems = read_mods_xml(data, tag_path)
            findings += problems
    return dataclasses.replace(record, dublin_core=tuple(dc_values), mods=mods)


def _premis_documents(deposit: Deposit, tags: dict[str, Any], findings: list[Finding]) -> list[bytes]:
    """An E-ARK package's PREMIS files (package and representation `metadata/preservation/`):
    the package METS only references them (CSIP 2.1, amdSec/digiprovMD/mdRef)."""
    found = []
    for tag_path, tag in sorted(tags.items()):
        parts = tag_path.split("/")
        if tag_path.endswith(".xml") and "preservation" in parts and (
                parts[:2] == ["metadata", "preservation"]
                or (parts[0] == "representations" and parts[2:4] == ["metadata", "preservation"])):
            try:
                found.append(read_regular(tag.source, _MAX_METS_BYTES))
            except OSError as exc:
                findings.append(finding("IMP-W001", tag_path, file=tag_path,
                                        why=f"it cannot be read: {exc}"))
    return found


def _declared(deposit: Deposit, tags: dict[str, Any], path: str, record: MetsRecord,
              schemas: SchemaSet | None, findings: list[Finding],
              eark: bool) -> dict[str, tuple[FileChecksum, str]]:
    """Payload path -> its checksum as a METS fileSec declares it.

    A bag's METS names payload files `data/…` from the bag root; an E-ARK package's
    representation METS names them `data/…` from the representation folder.
    """
    declared: dict[str, tuple[FileChecksum, str]] = {}
    if not eark:
        for href, checksum in record.checksums.items():
            if href.startswith("data/"):
                declared[href.removeprefix("data/")] = (checksum, path)
        return declared
    by_package_path = package_paths(deposit)
    for tag_path, tag in sorted(tags.items()):
        parts = tag_path.split("/")
        if len(parts) != 3 or parts[0] != "representations" or parts[2] != METS_FILE:
            continue
        try:
            document = read_regular(tag.source, _MAX_METS_BYTES)
        except OSError as exc:
            findings.append(finding("IMP-W001", tag_path, file=tag_path,
                                    why=f"it cannot be read: {exc}"))
            continue
        representation = _read_valid(document, tag_path, schemas, findings)
        if representation is None:
            continue
        for href, checksum in representation.checksums.items():
            payload = by_package_path.get(f"representations/{parts[1]}/{href}")
            if payload is not None:
                declared[payload] = (checksum, tag_path)
    return declared


def _event(premis: PremisEvent, origin: str, package_id: str) -> Event:
    return Event(
        type=premis.type, outcome=premis.outcome, time=premis.time, agent=premis.agent,
        detail=premis.detail, outcome_detail=premis.outcome_detail, package_id=package_id,
        object_paths=premis.object_paths,
        identifier=log_identifier(origin, premis.identifier_type, premis.identifier),
        imported=ImportedFrom(origin, premis.identifier_type, premis.identifier))
