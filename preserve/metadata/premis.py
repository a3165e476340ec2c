"""PREMIS 3.0 objects, events and agents for the METS amdSec (PREMIS Data Dictionary 3.0).

Pure builders of lxml elements from plain values; `preserve.metadata.mets` places them in
`techMD` (one `premis:object xsi:type="premis:file"` per file, one `intellectualEntity` for the package and
one `representation` for the version, with their structural relationships) and `digiprovMD` (one
`premis:event` per event, one `premis:agent` per agent) sections, each `mdWrap MDTYPE="PREMIS:…"`.

Vocabulary: event types and outcomes are the LoC PREMIS vocabularies as `EventType` and
`EventOutcome` spell them; agent roles the LoC `eventRelatedAgentRole` values. Digest
algorithms are named the hashlib way everywhere else in preserve and become the LoC
`cryptographicHashFunctions` spelling (`SHA-256`, `SHA-512`) only here (STYLE.md). Format
comes from PRONOM: `formatDesignation` (name, version) plus `formatRegistry` (PRONOM, PUID,
role `specification`); a file siegfried could not place gets the PREMIS convention
`formatName` "Unknown" with the reason in `formatNote`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lxml import etree

from preserve.metadata import namespaces as ns
from preserve.model import Agent, AgentType, vocabulary_value

PREMIS_VERSION = "3.0"
PRONOM = "PRONOM"
#: LoC cryptographicHashFunctions spelling of hashlib algorithm names (this module only).
_PREMIS_DIGEST = {"sha256": "SHA-256", "sha512": "SHA-512", "md5": "MD5", "sha1": "SHA-1"}
#: Identifier types of preserve's own identifiers (PREMIS lets the repository name them).
PATH_ID_TYPE = "preserve logical path"
PACKAGE_ID_TYPE = "preserve package"
VERSION_ID_TYPE = "preserve package version"
EVENT_ID_TYPE = "UUID"
AGENT_ID_TYPE = "preserve agent"

#: Makes a value safe for XML 1.0 (`preserve.metadata.mets.xml_safe`), passed in by the caller.
TextCleaner = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class FileFormat:
    """A file's format as PRONOM names it; `puid` None means not identified (`note` says why)."""

    puid: str | None
    name: str = ""
    version: str = ""
    mime: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class PremisEvent:
    """One event as PREMIS records it: the catalog's events, or this ingest's, as plain values.

    `identifier` is a UUID (`identifier_type` "UUID"), or for an event imported from another
    archive that archive's own identifier and type; `object_paths` the logical paths the
    event concerns (none: the package as a whole). `recorded_by`, when set, is the archive
    (an organisation agent) that carried the event out, linked with the LoC role
    "implementer": exports set it on every event, so history keeps its custodian across
    transfers.
    """

    identifier: str
    type: str
    time: dt.datetime
    outcome: str
    agent: Agent
    detail: str = ""
    outcome_detail: str = ""
    version: int | None = None
    object_paths: tuple[str, ...] = ()
    identifier_type: str = "UUID"
    recorded_by: Agent | None = None
    # The person on whose behalf the software acted (issue 15), linked with the LoC role
    # "implementer" like the archive; told apart from it by agentType "person".
    person: Agent | None = None


def file_object(*, path: str, original_name: str, size: int, digests: Sequence[tuple[str, str]],
                file_format: FileFormat | None, text: TextCleaner) -> etree._Element:
    """`premis:object xsi:type="premis:file"` for one file of the version."""
    obj = _p("object", version=PREMIS_VERSION)
    obj.set(ns.qname(ns.XSI, "type"), "premis:file")
    _identifier(obj, "objectIdentifier", PATH_ID_TYPE, text(path))
    characteristics = etree.SubElement(obj, _q("objectCharacteristics"))
    etree.SubElement(characteristics, _q("compositionLevel")).text = "0"
    for algorithm, digest in digests:
        fixity = etree.SubElement(characteristics, _q("fixity"))
        etree.SubElement(fixity, _q("messageDigestAlgorithm")).text = _PREMIS_DIGEST.get(
            algorithm, algorithm.upper())
        etree.SubElement(fixity, _q("messageDigest")).text = digest
        etree.SubElement(fixity, _q("messageDigestOriginator")).text = "preserve"
    etree.SubElement(characteristics, _q("size")).text = str(size)
    _format(characteristics, file_format or FileFormat(None, note="not identified"), text)
    etree.SubElement(obj, _q("originalName")).text = text(original_name)
    return obj


def file_object_lines(*, path: str, original_name: str, size: int,
                      digests: Sequence[tuple[str, str]], file_format: FileFormat | None,
                      text: TextCleaner, indent: str) -> list[str]:
    """`file_object` as the lines lxml serialises it to, indented by `indent` and two
    spaces a level (`etree.indent`), written from a template: building and serialising the
    elements costs about 50 µs a file, a fifth of writing a METS of many files, and this a
    tenth of that. tests/unit/metadata/test_premis_template.py holds the two to the same
    bytes for any name and format."""
    i1, i2, i3, i4 = (indent + "  " * n for n in range(1, 5))
    lines = [f'{indent}<premis:object version="{PREMIS_VERSION}" xsi:type="premis:file">',
             f"{i1}<premis:objectIdentifier>",
             f"{i2}<premis:objectIdentifierType>{PATH_ID_TYPE}</premis:objectIdentifierType>",
             f"{i2}<premis:objectIdentifierValue>{_text(text(path))}"
             "</premis:objectIdentifierValue>",
             f"{i1}</premis:objectIdentifier>",
             f"{i1}<premis:objectCharacteristics>",
             f"{i2}<premis:compositionLevel>0</premis:compositionLevel>"]
    for algorithm, digest in digests:
        name = _PREMIS_DIGEST.get(algorithm, algorithm.upper())
        lines += [f"{i2}<premis:fixity>",
                  f"{i3}<premis:messageDigestAlgorithm>{_text(name)}"
                  "</premis:messageDigestAlgorithm>",
                  f"{i3}<premis:messageDigest>{_text(digest)}</premis:messageDigest>",
                  f"{i3}<premis:messageDigestOriginator>preserve</premis:messageDigestOriginator>",
                  f"{i2}</premis:fixity>"]
    lines.append(f"{i2}<premis:size>{size}</premis:size>")
    found = file_format or FileFormat(None, note="not identified")
    known = found.puid is not None
    name = _text(text(found.name or found.puid or "")) if known else "Unknown"
    lines += [f"{i2}<premis:format>", f"{i3}<premis:formatDesignation>",
              f"{i4}<premis:formatName>{name}</premis:formatName>"]
    if known and found.version:
        lines.append(f"{i4}<premis:formatVersion>{_text(text(found.version))}"
                     "</premis:formatVersion>")
    lines.append(f"{i3}</premis:formatDesignation>")
    if known:
        lines += [f"{i3}<premis:formatRegistry>",
                  f"{i4}<premis:formatRegistryName>{PRONOM}</premis:formatRegistryName>",
                  f"{i4}<premis:formatRegistryKey>{_text(text(found.puid or ''))}"
                  "</premis:formatRegistryKey>",
                  f"{i4}<premis:formatRegistryRole>specification</premis:formatRegistryRole>",
                  f"{i3}</premis:formatRegistry>"]
    if found.note:
        lines.append(f"{i3}<premis:formatNote>{_text(text(found.note))}</premis:formatNote>")
    lines += [f"{i2}</premis:format>", f"{i1}</premis:objectCharacteristics>",
              f"{i1}<premis:originalName>{_text(text(original_name))}</premis:originalName>",
              f"{indent}</premis:object>"]
    return lines


def _text(value: str) -> str:
    """Character data as lxml escapes it (XML 1.0 section 2.4; CR as a reference, so a
    parser does not turn it into LF)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        "\r", "&#13;")


def package_objects(*, package_id: str, version: int, external_ids: Sequence[str],
                    file_paths: Sequence[str], event_ids: Sequence[tuple[str, str]],
                    text: TextCleaner) -> tuple[etree._Element, etree._Element]:
    """The `intellectualEntity` (the package) and the `representation` (this version).

    The entity is represented by the version, which includes every file (PREMIS 3.0
    relationshipType/SubType "structural": "is represented by", "represents", "includes");
    the entity links every event carried in the document (`event_ids`: identifier type and
    value of each).
    """
    representation_id = f"{package_id}/v{version}"
    entity = _p("object", version=PREMIS_VERSION)
    entity.set(ns.qname(ns.XSI, "type"), "premis:intellectualEntity")
    _identifier(entity, "objectIdentifier", PACKAGE_ID_TYPE, text(package_id))
    for external in external_ids:
        _identifier(entity, "objectIdentifier", "External-Identifier", text(external))
    _relationship(entity, "is represented by", [(VERSION_ID_TYPE, text(representation_id))])
    for id_type, event_id in event_ids:
        _identifier(entity, "linkingEventIdentifier", text(id_type), text(event_id))
    representation = _p("object", version=PREMIS_VERSION)
    representation.set(ns.qname(ns.XSI, "type"), "premis:representation")
    _identifier(representation, "objectIdentifier", VERSION_ID_TYPE, text(representation_id))
    _relationship(representation, "represents", [(PACKAGE_ID_TYPE, text(package_id))])
    if file_paths:
        _relationship(representation, "includes",
                      [(PATH_ID_TYPE, text(path)) for path in file_paths])
    return entity, representation


def event_element(event: PremisEvent, package_id: str, text: TextCleaner) -> etree._Element:
    """`premis:event` with its outcome, executing agent and the objects it concerns."""
    element = _p("event", version=PREMIS_VERSION)
    _identifier(element, "eventIdentifier", text(event.identifier_type), text(event.identifier))
    etree.SubElement(element, _q("eventType")).text = event.type
    etree.SubElement(element, _q("eventDateTime")).text = xsd_datetime(event.time)
    if event.detail:
        info = etree.SubElement(element, _q("eventDetailInformation"))
        etree.SubElement(info, _q("eventDetail")).text = text(event.detail)
    outcome = etree.SubElement(element, _q("eventOutcomeInformation"))
    etree.SubElement(outcome, _q("eventOutcome")).text = event.outcome
    if event.outcome_detail:
        detail = etree.SubElement(outcome, _q("eventOutcomeDetail"))
        etree.SubElement(detail, _q("eventOutcomeDetailNote")).text = text(event.outcome_detail)
    agent = _identifier(element, "linkingAgentIdentifier", AGENT_ID_TYPE,
                        text(event.agent.identifier))
    role = "executing program" if event.agent.type == AgentType.SOFTWARE else "implementer"
    etree.SubElement(agent, _q("linkingAgentRole")).text = role
    if event.recorded_by is not None and event.recorded_by.identifier != event.agent.identifier:
        custodian = _identifier(element, "linkingAgentIdentifier", AGENT_ID_TYPE,
                                text(event.recorded_by.identifier))
        etree.SubElement(custodian, _q("linkingAgentRole")).text = "implementer"
    if event.person is not None:
        person = _identifier(element, "linkingAgentIdentifier", AGENT_ID_TYPE,
                             text(event.person.identifier))
        etree.SubElement(person, _q("linkingAgentRole")).text = "implementer"
    if event.object_paths:
        for path in event.object_paths:
            _identifier(element, "linkingObjectIdentifier", PATH_ID_TYPE, text(path))
    else:
        _identifier(element, "linkingObjectIdentifier", PACKAGE_ID_TYPE, text(package_id))
    return element


def agent_element(agent: Agent, text: TextCleaner, note: str = "") -> etree._Element:
    """`premis:agent`; software agents named `name/version` get `agentVersion`."""
    element = _p("agent", version=PREMIS_VERSION)
    _identifier(element, "agentIdentifier", AGENT_ID_TYPE, text(agent.identifier))
    etree.SubElement(element, _q("agentName")).text = text(agent.name)
    etree.SubElement(element, _q("agentType")).text = text(vocabulary_value(agent.type))
    if agent.type == AgentType.SOFTWARE and "/" in agent.identifier:
        etree.SubElement(element, _q("agentVersion")).text = text(
            agent.identifier.rsplit("/", 1)[1])
    if note:
        etree.SubElement(element, _q("agentNote")).text = text(note)
    return element


def xsd_datetime(moment: dt.datetime) -> str:
    """xs:dateTime in UTC with `Z` (naive datetimes are refused: the log is UTC)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- helpers ------------------------------------------------------------------------------

def _format(parent: etree._Element, file_format: FileFormat, text: TextCleaner) -> None:
    element = etree.SubElement(parent, _q("format"))
    designation = etree.SubElement(element, _q("formatDesignation"))
    known = file_format.puid is not None
    etree.SubElement(designation, _q("formatName")).text = (
        text(file_format.name or file_format.puid or "") if known else "Unknown")
    if known and file_format.version:
        etree.SubElement(designation, _q("formatVersion")).text = text(file_format.version)
    if known:
        registry = etree.SubElement(element, _q("formatRegistry"))
        etree.SubElement(registry, _q("formatRegistryName")).text = PRONOM
        etree.SubElement(registry, _q("formatRegistryKey")).text = text(file_format.puid or "")
        etree.SubElement(registry, _q("formatRegistryRole")).text = "specification"
    if file_format.note:
        etree.SubElement(element, _q("formatNote")).text = text(file_format.note)


def _relationship(parent: etree._Element, sub_type: str,
                  related: Sequence[tuple[str, str]]) -> None:
    element = etree.SubElement(parent, _q("relationship"))
    etree.SubElement(element, _q("relationshipType")).text = "structural"
    etree.SubElement(element, _q("relationshipSubType")).text = sub_type
    for id_type, value in related:
        _identifier(element, "relatedObjectIdentifier", id_type, value)


def _identifier(parent: etree._Element, name: str, id_type: str, value: str) -> etree._Element:
    element = etree.SubElement(parent, _q(name))
    etree.SubElement(element, _q(name + "Type")).text = id_type
    etree.SubElement(element, _q(name + "Value")).text = value
    return element


def _p(local: str, **attributes: str) -> etree._Element:
    return etree.Element(_q(local), attributes, nsmap={"premis": ns.PREMIS, "xsi": ns.XSI})


def _q(local: str) -> str:
    return ns.qname(ns.PREMIS, local)
