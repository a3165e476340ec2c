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

References the METS makes (`FLocat`, `mdRef` hrefs) are never followed; one that points
outside the package (absolute, `..`, another drive) or to a URL is warning IMP-W004.

The METS is untrusted: it is parsed safely (`preserve.metadata.history`), checked against the
METS/PREMIS schemas when they are configured, and a document that fails is warning IMP-W001:
the file is stored as received, only its history is not imported. Never a crash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from preserve.checksums import supported_algorithms
from preserve.deposit import Deposit
from preserve.deposit.eark import METS_FILE, mets_name, package_paths
from preserve.findings import finding
from preserve.metadata import DcValue, PremisEvent, SchemaSet
from preserve.metadata.history import (
    FileChecksum,
    MetsRecord,
    SenderFile,
    UnreadableDocument,
    read_record,
)
from preserve.metadata.supplied import read_dc_xml, read_mods_xml
from preserve.model import Event, Finding, ImportedFrom, PayloadFile
from preserve.safeio import read_regular

#: Where a deposit carries the sender's METS: a bag's tag file (as preserve's exports write
#: it), or the package METS of an E-ARK package.
SENDER_METS_PATHS = ("metadata/mets.xml", METS_FILE, "mets.xml")
#: Namespace of the UUIDs our log gives imported events (uuid5 of origin + original id).
IMPORTED_EVENT_NAMESPACE = uuid.UUID("5b0c3f5e-2f0b-4c59-9d8e-6f1f6a0d7e11")
_MAX_METS_BYTES = 2**31
#: At most this many IMP-W004 findings per document (a METS of URLs would list thousands).
_MAX_REFERENCE_FINDINGS = 20
#: The METS of an Archivematica AIP at the top of its payload: `data/METS.<uuid>.xml`.
_ARCHIVEMATICA_METS = re.compile(r"METS\.[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                                 r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\.xml")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True, slots=True)
class SenderHistory:
    """What the sender's METS gives the new package."""

    path: str  # the tag file it was read from
    record: MetsRecord
    default_origin: str
    # payload path -> (what a METS fileSec declares of it, the METS that says so)
    declared: dict[str, tuple[FileChecksum, str]]
    complete: bool  # an E-ARK package: its METS must declare every payload file

    def payload_files(self) -> dict[str, SenderFile]:
        """Payload path -> what the sender's PREMIS objects say of that file (original name,
        PRONOM format): hrefs are relative to the METS's folder (Archivematica: data/)."""
        base = posixpath.dirname(self.path)
        found = {}
        for href, sender_file in self.record.sender_files.items():
            where = posixpath.normpath(posixpath.join(base, href))
            if where.startswith("data/"):
                found[where.removeprefix("data/")] = sender_file
        return found

    @property
    def algorithms(self) -> frozenset[str]:
        """The algorithms the sender's METS declares that hashlib offers: ingest computes them
        in the same single read as its own (issue 12 §4)."""
        return frozenset(c.algorithm for c, _ in self.declared.values()) & supported_algorithms()

    def check_payload(self, files: Sequence[PayloadFile]) -> list[Finding]:
        """Compare the digests and sizes computed at ingest with the sender's METS fileSec."""
        findings = []
        for f in files:
            declared = self.declared.get(f.path)
            if declared is None:
                if self.complete:
                    findings.append(finding("IMP-W003", f.path, name=f.path,
                                            why="no METS fileSec lists it"))
                continue
            checksum, mets = declared
            findings.extend(_compare(f.path, f.size, f.digests, checksum, mets))
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


def _compare(name: str, size: int, digests: Mapping[str, str], checksum: FileChecksum,
             mets: str) -> list[Finding]:
    """IMP-E001 if the digest or SIZE a METS declares differs; IMP-W003 if its algorithm
    cannot be computed (CRC32, Adler-32, HAVAL, TIGER, MNP: not in hashlib)."""
    bad_size = checksum.size is not None and checksum.size != size
    size_text = f" and SIZE {checksum.size} (read: {size})" if bad_size else ""
    if not checksum.algorithm:
        if bad_size:
            return [finding("IMP-E001", name, name=name, algorithm="size", actual=size,
                            file=mets, declared=f"SIZE {checksum.size}", size="")]
        return []
    actual = digests.get(checksum.algorithm)
    if actual is None:
        found = [finding("IMP-W003", name, name=name,
                         why=f"CHECKSUMTYPE {checksum.algorithm} in {mets}")]
        if bad_size:
            found.append(finding("IMP-E001", name, name=name, algorithm="size", actual=size,
                                 file=mets, declared=f"SIZE {checksum.size}", size=""))
        return found
    if actual != checksum.digest or bad_size:
        return [finding("IMP-E001", name, name=name, algorithm=checksum.algorithm,
                        actual=actual, file=mets, declared=checksum.digest, size=size_text)]
    return []


def log_identifier(origin: str, identifier_type: str, identifier: str) -> str:
    """The UUID our log gives an imported event: stable for the same archive and identifier."""
    return str(uuid.uuid5(IMPORTED_EVENT_NAMESPACE, f"{origin}\x00{identifier_type}\x00{identifier}"))


def read_sender_history(deposit: Deposit, schemas: SchemaSet | None,
                        max_bytes: int = _MAX_METS_BYTES) -> tuple[SenderHistory | None,
                                                                    list[Finding]]:
    """The history in the deposit's METS, if it has one, and findings about it."""
    tags = {tag.path: tag for tag in deposit.tag_files}
    found = sender_mets(deposit)
    if found is None:
        return None, []
    path, source, eark = found
    findings: list[Finding] = []
    if path.startswith("data/"):
        findings.append(finding("IMP-W007", path, file=path))
    try:
        document = read_regular(source, min(max_bytes, _MAX_METS_BYTES))
    except OSError as exc:
        return None, [finding("IMP-W001", path, file=path, why=f"it cannot be read: {exc}")]
    premis = _premis_documents(deposit, tags, findings)
    record = _read_valid(document, path, schemas, findings, [d for d in premis if d])
    if record is None:
        return None, findings
    findings += [finding("IMP-W002", path, file=path, why=problem) for problem in record.problems]
    if record.premis2_events:
        findings += _premis2_findings(record, path, [(path, document), *zip(
            _premis_paths(tags), premis, strict=False)], schemas)
    findings += reference_findings(record.references, path)
    organisations = deposit.bag_info_values("Source-Organization")
    default_origin = (record.organisations[0] if record.organisations
                      else organisations[0] if organisations
                      else f"the archive that sent {deposit.source.name}")
    if eark:
        record = _with_referenced_descriptive(record, tags, findings)
    declared = _declared(deposit, tags, path, record, schemas, findings, eark)
    return SenderHistory(path, record, default_origin, declared, eark), findings


def sender_mets(deposit: Deposit) -> tuple[str, Path, bool] | None:
    """Where the deposit carries a sender's METS: (its path as findings name it, the file,
    whether the deposit is an E-ARK package), or None. An E-ARK package's root METS (also
    misnamed), else a bag's METS tag file (`SENDER_METS_PATHS`), else the METS of an
    Archivematica AIP at the top of the payload (`data/METS.<uuid>.xml`)."""
    tags = {tag.path: tag for tag in deposit.tag_files}
    eark_mets = mets_name(p for p in tags if "/" not in p)
    if eark_mets is not None and any(t.startswith("representations/") for t in tags):
        return eark_mets, tags[eark_mets].source, True
    path = next((p for p in SENDER_METS_PATHS if p in tags), None)
    if path is not None:
        return path, tags[path].source, False
    if deposit.bagit_version is not None:
        entry = next((e for e in deposit.payload if _ARCHIVEMATICA_METS.fullmatch(e.path)), None)
        if entry is not None:
            return f"data/{entry.path}", entry.source, False
    return None


def _premis2_findings(record: MetsRecord, path: str, documents: Sequence[tuple[str, bytes]],
                      schemas: SchemaSet | None) -> list[Finding]:
    """IMP-W005 (PREMIS 2.x mapped to 3.0), and IMP-W006 for each document whose PREMIS 2 is
    not valid against the PREMIS 2.2 schema (when the schema directory has it)."""
    found = [finding("IMP-W005", path, file=path, version="2.x", events=record.premis2_events)]
    if schemas is None:
        return found
    for name, document in documents:
        problems = schemas.validate_premis2(document) if document else None
        if problems:
            why = problems[0] + (f"; and {len(problems) - 1} more problem(s)"
                                 if len(problems) > 1 else "")
            found.append(finding("IMP-W006", name, file=name, why=why))
    return found


def reference_findings(references: Sequence[str], file: str) -> list[Finding]:
    """IMP-W004 for each href pointing outside the package or to a URL (never followed)."""
    found: list[Finding] = []
    outside = [(href, why) for href in dict.fromkeys(references)
               if (why := _outside(href, posixpath.dirname(file))) is not None]
    for href, why in outside[:_MAX_REFERENCE_FINDINGS]:
        found.append(finding("IMP-W004", file, file=file, href=repr(href), why=why))
    if len(outside) > _MAX_REFERENCE_FINDINGS:
        found.append(finding("IMP-W004", file, file=file,
                             href=f"{len(outside) - _MAX_REFERENCE_FINDINGS} more",
                             why="not listed one by one"))
    return found


def _outside(href: str, base: str = "") -> str | None:
    """Why `href` (relative to the folder `base` of its METS) is not a path inside the
    package, or None if it is one."""
    if _SCHEME.match(href) and not re.match(r"[A-Za-z]:[/\\]", href):
        return "a URL"
    path = unquote(href).replace("\\", "/")
    if path.startswith(("/", "~")) or re.match(r"[A-Za-z]:", path):
        return "an absolute path"
    if posixpath.normpath(posixpath.join(base, path)).split("/")[0] == "..":
        return "a path outside the package"
    return None


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
    for tag_path in _premis_paths(tags):
        try:
            found.append(read_regular(tags[tag_path].source, _MAX_METS_BYTES))
        except OSError as exc:
            findings.append(finding("IMP-W001", tag_path, file=tag_path,
                                    why=f"it cannot be read: {exc}"))
            found.append(b"")  # keeps the list aligned with _premis_paths; not read
    return found


def _premis_paths(tags: dict[str, Any]) -> list[str]:
    """The paths of an E-ARK package's PREMIS files, sorted."""
    found = []
    for tag_path in sorted(tags):
        parts = tag_path.split("/")
        if tag_path.endswith(".xml") and "preservation" in parts and (
                parts[:2] == ["metadata", "preservation"]
                or (parts[0] == "representations" and parts[2:4] == ["metadata", "preservation"])):
            found.append(tag_path)
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
    # The package METS lists metadata, schemas and the representation METS (CSIP 2.1
    # CSIP58-CSIP72): their SIZE and CHECKSUM are checked here, they are small tag files.
    _check_listed(record, path, "", by_package_path, tags, declared, findings)
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
        _check_listed(representation, tag_path, f"representations/{parts[1]}/",
                      by_package_path, tags, declared, findings)
    return declared


def _check_listed(record: MetsRecord, mets: str, base: str, by_package_path: dict[str, str],
                  tags: dict[str, Any], declared: dict[str, tuple[FileChecksum, str]],
                  findings: list[Finding]) -> None:
    """Each file an E-ARK METS fileSec lists (hrefs relative to `base`): a payload file's
    declaration goes to `declared` (compared when it is read); a tag file is checked now;
    a file that is not in the package is IMP-E002 (references outside are IMP-W004)."""
    for href, checksum in sorted(record.checksums.items()):
        if _outside(href, base.rstrip("/")) is not None:
            continue
        where = posixpath.normpath(base + href)
        payload = by_package_path.get(where)
        if payload is not None:
            declared[payload] = (checksum, mets)
        elif where in tags:
            findings.extend(_check_tag(where, tags[where], checksum, mets))
        else:
            findings.append(finding("IMP-E002", where, file=mets, href=href))


def _check_tag(path: str, tag: Any, checksum: FileChecksum, mets: str) -> list[Finding]:
    try:
        data = read_regular(tag.source, _MAX_METS_BYTES)
    except OSError as exc:
        return [finding("IMP-W001", path, file=path, why=f"it cannot be read: {exc}")]
    digests = {}
    if checksum.algorithm in supported_algorithms():
        digests[checksum.algorithm] = hashlib.new(checksum.algorithm, data).hexdigest()
    return _compare(path, len(data), digests, checksum, mets)


def _event(premis: PremisEvent, origin: str, package_id: str) -> Event:
    return Event(
        type=premis.type, outcome=premis.outcome, time=premis.time, agent=premis.agent,
        detail=premis.detail, outcome_detail=premis.outcome_detail, package_id=package_id,
        object_paths=premis.object_paths,
        identifier=log_identifier(origin, premis.identifier_type, premis.identifier),
        imported=ImportedFrom(origin, premis.identifier_type, premis.identifier),
        # The sender's person, never the one importing (who is on our own ingest event).
        person=premis.person)
