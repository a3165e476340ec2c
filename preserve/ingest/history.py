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

The METS is untrusted: it is parsed safely (`preserve.metadata.history`), checked against the
METS/PREMIS schemas when they are configured, and a document that fails is warning IMP-W001:
the file is stored as received, only its history is not imported. Never a crash.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from preserve.deposit import Deposit
from preserve.findings import finding
from preserve.metadata import DcValue, PremisEvent, SchemaSet
from preserve.metadata.history import MetsRecord, UnreadableDocument, read_record
from preserve.model import Event, Finding, ImportedFrom
from preserve.safeio import read_regular

#: Where a deposit carries the sender's METS (a bag's tag file, as preserve exports write it).
SENDER_METS_PATHS = ("metadata/mets.xml", "METS.xml", "mets.xml")
#: Namespace of the UUIDs our log gives imported events (uuid5 of origin + original id).
IMPORTED_EVENT_NAMESPACE = uuid.UUID("5b0c3f5e-2f0b-4c59-9d8e-6f1f6a0d7e11")
_MAX_METS_BYTES = 2**31


@dataclass(frozen=True, slots=True)
class SenderHistory:
    """What the sender's METS gives the new package."""

    path: str  # the tag file it was read from
    record: MetsRecord
    default_origin: str

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
    if schemas is not None:
        problems = schemas.validate_mets(document)
        if problems:
            why = f"it is not valid METS/PREMIS ({problems[0]}" + (
                f"; and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ")")
            return None, [finding("IMP-W001", path, file=path, why=why)]
    try:
        record = read_record(document)
    except UnreadableDocument as exc:
        return None, [finding("IMP-W001", path, file=path, why=str(exc))]
    findings = [finding("IMP-W002", path, file=path, why=problem) for problem in record.problems]
    organisations = deposit.bag_info_values("Source-Organization")
    default_origin = (record.organisations[0] if record.organisations
                      else organisations[0] if organisations
                      else f"the archive that sent {deposit.source.name}")
    return SenderHistory(path, record, default_origin), findings


def _event(premis: PremisEvent, origin: str, package_id: str) -> Event:
    return Event(
        type=premis.type, outcome=premis.outcome, time=premis.time, agent=premis.agent,
        detail=premis.detail, outcome_detail=premis.outcome_detail, package_id=package_id,
        object_paths=premis.object_paths,
        identifier=log_identifier(origin, premis.identifier_type, premis.identifier),
        imported=ImportedFrom(origin, premis.identifier_type, premis.identifier))
