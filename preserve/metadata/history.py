"""Reading a package's record back out of a METS (or PREMIS) document: ours or another archive's.

Three callers need the same facts from the same documents:
* export re-reads the METS preserve stored with a version, to carry its descriptive metadata
  and format identifications into the METS it writes for the receiving archive;
* ingest reads the METS a deposit brings (an export of ours or of another repository, a
  bag's `metadata/mets.xml` or an E-ARK package's `METS.xml` and `metadata/preservation/*.xml`)
  to import the sender's PREMIS events and agents as the package's history;
* `preserve check` re-reads a stored METS to rebuild catalog rows (title, formats, events)
  for an object found in storage without them.

The document is untrusted input in both cases (DESIGN.md): parsed with no DTD (a DOCTYPE is
refused), no entities, no network, within `MAX_BYTES`. Nothing here validates against the
XSDs; the caller does that with `SchemaSet` and decides what an invalid document means.

What is read (METS 1.12.1, PREMIS 3.0 Data Dictionary section numbers):
* `mets/@OBJID` and `@LABEL`, and the organisations in `metsHdr/agent` (the archive that wrote it);
* Dublin Core: the first `dmdSec` with `mdWrap MDTYPE="DC"`, every `dc:*` value with its
  `xml:lang`; MODS: the first `mdWrap MDTYPE="MODS"` document;
* PREMIS `object`s: the intellectual entity's identifiers (1.1), and per file (identifier of
  type "preserve logical path") its format designation and PRONOM key (1.5.4);
* every PREMIS `event` (2.1-2.5) anywhere in the document, with its identifier type and
  value verbatim, type, time, detail, outcome and outcome detail; its executing agent
  (role "executing program", else the first linking agent) and the archive that carried it
  out (a linked organisation with role "implementer"); linked file paths;
* every PREMIS `agent` (3.1-3.3): identifier, name, type;
* per `fileSec` file: CHECKSUM, CHECKSUMTYPE and SIZE, by its `FLocat` href (METS 1.12.1
  `file` attributes): the fixity an E-ARK package declares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from lxml import etree

from preserve.metadata import namespaces as ns
from preserve.metadata.mets import DcValue
from preserve.metadata.premis import PATH_ID_TYPE, PRONOM, FileFormat, PremisEvent
from preserve.model import Agent, AgentType

#: The largest document read (a METS of a 200,000-file package is about 400 MB).
MAX_BYTES = 2**31
_UNKNOWN_AGENT_TYPE = "unknown"


@dataclass(frozen=True, slots=True)
class MetsRecord:
    """What a METS or PREMIS document says about a package (see the module docstring)."""

    objid: str | None = None
    label: str | None = None  # mets/@LABEL: the title the package was stored under
    organisations: tuple[str, ...] = ()
    dublin_core: tuple[DcValue, ...] = ()
    mods: bytes | None = None
    entity_identifiers: tuple[tuple[str, str], ...] = ()  # (type, value)
    formats: dict[str, FileFormat] = field(default_factory=dict)
    events: tuple[PremisEvent, ...] = ()
    agents: tuple[Agent, ...] = ()
    checksums: dict[str, FileChecksum] = field(default_factory=dict)  # href path -> declared
    problems: tuple[str, ...] = ()  # events that could not be read whole, said in words


@dataclass(frozen=True, slots=True)
class FileChecksum:
    """What a METS `file` declares of its content: CHECKSUM with CHECKSUMTYPE, and SIZE.

    `algorithm` is the hashlib name (`sha512`) or, for a type preserve does not compute, the
    METS spelling as given.
    """

    algorithm: str
    digest: str
    size: int | None


#: METS 1.12.1 CHECKSUMTYPE values -> hashlib names (the others are kept as spelled).
_CHECKSUM_TYPES = {"SHA-512": "sha512", "SHA-256": "sha256", "SHA-1": "sha1", "MD5": "md5",
                   "SHA-384": "sha384"}


class UnreadableDocument(ValueError):
    """The document is not well-formed XML, declares a DOCTYPE, or is too large."""


def parse_document(document: bytes) -> etree._Element:
    """The root element of an untrusted XML document (no DTD, entities or network)."""
    if len(document) > MAX_BYTES:
        raise UnreadableDocument(f"it is larger than {MAX_BYTES} bytes")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, remove_comments=True, remove_pis=True,
                             collect_ids=False)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise UnreadableDocument(f"it is not well-formed XML: {exc.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnreadableDocument("it has a DOCTYPE (DTDs and entities are not accepted)")
    return root


def read_record(document: bytes, *extra: bytes) -> MetsRecord:
    """The record of a METS document, plus the events and agents of `extra` PREMIS documents.

    Raises UnreadableDocument if any of them cannot be parsed safely.
    """
    root = parse_document(document)
    roots = [root] + [parse_document(more) for more in extra]
    agents = _agents(roots)
    problems: list[str] = []
    events = tuple(_events(roots, agents, problems))
    return MetsRecord(
        objid=root.get("OBJID") if root.tag == _m("mets") else None,
        label=root.get("LABEL") if root.tag == _m("mets") else None,
        organisations=_organisations(root),
        dublin_core=_dublin_core(root),
        mods=_mods(root),
        entity_identifiers=_entity_identifiers(roots),
        formats=_formats(root),
        events=events,
        agents=tuple(agents.values()),
        checksums=_checksums(root),
        problems=tuple(problems),
    )


# --- METS ---------------------------------------------------------------------------------

def _organisations(root: etree._Element) -> tuple[str, ...]:
    found = []
    for agent in root.iterfind(f"{_m('metsHdr')}/{_m('agent')}"):
        if agent.get("TYPE") == "ORGANIZATION":
            name = (agent.findtext(_m("name")) or "").strip()
            if name and name not in found:
                found.append(name)
    return tuple(found)


def _wraps(root: etree._Element, md_type: str) -> Iterable[etree._Element]:
    for dmd in root.iterfind(_m("dmdSec")):
        for wrap in dmd.iterfind(_m("mdWrap")):
            if wrap.get("MDTYPE") == md_type:
                data = wrap.find(_m("xmlData"))
                if data is not None:
                    yield data


def _dublin_core(root: etree._Element) -> tuple[DcValue, ...]:
    for data in _wraps(root, "DC"):
        values = []
        for element in data.iter():
            if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{ns.DC}}}"):
                continue
            values.append(DcValue(etree.QName(element).localname, element.text or "",
                                  element.get(ns.qname(ns.XML, "lang"), "")))
        return tuple(values)
    return ()


def _mods(root: etree._Element) -> bytes | None:
    for data in _wraps(root, "MODS"):
        for child in data:
            if isinstance(child.tag, str):
                return etree.tostring(child, encoding="UTF-8")
    return None


def _mimetypes(root: etree._Element) -> dict[str, str]:
    """Logical path -> MIMETYPE from the fileSec (`FLocat` hrefs are percent-encoded)."""
    found = {}
    for file in root.iter(_m("file")):
        mime = file.get("MIMETYPE")
        locat = file.find(_m("FLocat"))
        href = locat.get(ns.qname(ns.XLINK, "href")) if locat is not None else None
        if mime and href:
            found[unquote_to_bytes(href).decode("utf-8", "surrogateescape")] = mime
    return found


def _checksums(root: etree._Element) -> dict[str, FileChecksum]:
    """Every fileSec file with a CHECKSUM, by its FLocat href (percent-decoded, relative)."""
    found: dict[str, FileChecksum] = {}
    for file in root.iter(_m("file")):
        digest, kind = file.get("CHECKSUM"), file.get("CHECKSUMTYPE")
        locat = file.find(_m("FLocat"))
        href = locat.get(ns.qname(ns.XLINK, "href")) if locat is not None else None
        if not (digest and kind and href):
            continue
        size = file.get("SIZE")
        path = unquote_to_bytes(href).decode("utf-8", "surrogateescape")
        found[path.removeprefix("./")] = FileChecksum(
            _CHECKSUM_TYPES.get(kind, kind), digest.strip().lower(),
            int(size) if size and size.isdigit() else None)
    return found


# --- PREMIS -------------------------------------------------------------------------------

def _entity_identifiers(roots: list[etree._Element]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for root in roots:
        for obj in root.iter(_p("object")):
            if not (obj.get(ns.qname(ns.XSI, "type")) or "").endswith("intellectualEntity"):
                continue
            for pair in _identifiers(obj, "objectIdentifier"):
                if pair not in found:
                    found.append(pair)
    return tuple(found)


def _formats(root: etree._Element) -> dict[str, FileFormat]:
    mimes = _mimetypes(root)
    formats: dict[str, FileFormat] = {}
    for obj in root.iter(_p("object")):
        paths = [value for id_type, value in _identifiers(obj, "objectIdentifier")
                 if id_type == PATH_ID_TYPE]
        element = obj.find(f"{_p('objectCharacteristics')}/{_p('format')}")
        if not paths or element is None:
            continue
        puid = None
        for registry in element.iterfind(_p("formatRegistry")):
            if registry.findtext(_p("formatRegistryName")) == PRONOM:
                puid = registry.findtext(_p("formatRegistryKey")) or None
        designation = element.find(_p("formatDesignation"))
        name = version = ""
        if designation is not None and puid is not None:
            name = designation.findtext(_p("formatName")) or ""
            version = designation.findtext(_p("formatVersion")) or ""
        formats[paths[0]] = FileFormat(puid, name, version, mimes.get(paths[0], ""),
                                       element.findtext(_p("formatNote")) or "")
    return formats


def _agents(roots: list[etree._Element]) -> dict[str, Agent]:
    agents: dict[str, Agent] = {}
    for root in roots:
        for element in root.iter(_p("agent")):
            pairs = _identifiers(element, "agentIdentifier")
            if not pairs:
                continue
            identifier = pairs[0][1]
            name = (element.findtext(_p("agentName")) or identifier).strip() or identifier
            agent_type = (element.findtext(_p("agentType")) or _UNKNOWN_AGENT_TYPE).strip()
            agents.setdefault(identifier, Agent(identifier, name, _agent_type(agent_type)))
    return agents


def _agent_type(value: str) -> AgentType | str:
    try:
        return AgentType(value.lower())
    except ValueError:
        return value


def _events(roots: list[etree._Element], agents: dict[str, Agent],
            problems: list[str]) -> Iterable[PremisEvent]:
    seen: set[tuple[str, str]] = set()
    for root in roots:
        for element in root.iter(_p("event")):
            pairs = _identifiers(element, "eventIdentifier")
            if not pairs:
                problems.append("an event without eventIdentifier was not imported")
                continue
            id_type, identifier = pairs[0]
            if (id_type, identifier) in seen:  # the same event in METS and a PREMIS file
                continue
            seen.add((id_type, identifier))
            event = _event(element, id_type, identifier, agents, problems)
            if event is not None:
                yield event


def _event(element: etree._Element, id_type: str, identifier: str, agents: dict[str, Agent],
           problems: list[str]) -> PremisEvent | None:
    event_type = (element.findtext(_p("eventType")) or "").strip()
    when = _datetime(element.findtext(_p("eventDateTime")) or "")
    if not event_type or when is None:
        problems.append(f"event {id_type} {identifier}: no eventType or no readable "
                        "eventDateTime; not imported")
        return None
    details = [text.strip() for text in element.xpath(
        "p:eventDetailInformation/p:eventDetail/text()", namespaces={"p": ns.PREMIS})]
    outcomes = element.findall(_p("eventOutcomeInformation"))
    outcome = ""
    notes: list[str] = []
    for info in outcomes:
        outcome = outcome or (info.findtext(_p("eventOutcome")) or "").strip()
        notes.extend(text.strip() for text in info.xpath(
            "p:eventOutcomeDetail/p:eventOutcomeDetailNote/text()", namespaces={"p": ns.PREMIS}))
    links: list[tuple[Agent, set[str]]] = []
    for link in element.iterfind(_p("linkingAgentIdentifier")):
        value = link.findtext(_p("linkingAgentIdentifierValue")) or ""
        if value:
            roles = {(role.text or "").strip().lower()
                     for role in link.iterfind(_p("linkingAgentRole"))}
            links.append((agents.get(value) or Agent(value, value, _UNKNOWN_AGENT_TYPE), roles))
    custodian = next((agent for agent, roles in links if "implementer" in roles
                      and agent.type == AgentType.ORGANIZATION), None)
    executing = (next((agent for agent, roles in links if "executing program" in roles), None)
                 or next((agent for agent, _ in links if agent is not custodian), None)
                 or custodian or Agent("unknown", "unknown agent", _UNKNOWN_AGENT_TYPE))
    paths = tuple(value for link_type, value in _identifiers(element, "linkingObjectIdentifier")
                  if link_type == PATH_ID_TYPE)
    return PremisEvent(identifier=identifier, identifier_type=id_type, type=event_type,
                       time=when, outcome=outcome, agent=executing, detail="\n".join(details),
                       outcome_detail="\n".join(notes), object_paths=paths,
                       recorded_by=custodian)


def _datetime(text: str) -> dt.datetime | None:
    """xs:dateTime or xs:date (PREMIS 2.2 allows both, and EDTF); naive times are taken as UTC."""
    value = text.strip()
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def _identifiers(element: etree._Element, name: str) -> list[tuple[str, str]]:
    pairs = []
    for identifier in element.iterfind(_p(name)):
        id_type = (identifier.findtext(_p(name + "Type")) or "").strip()
        value = identifier.findtext(_p(name + "Value")) or ""
        if value:
            pairs.append((id_type, value))
    return pairs


def _m(local: str) -> str:
    return ns.qname(ns.METS, local)


def _p(local: str) -> str:
    return ns.qname(ns.PREMIS, local)
