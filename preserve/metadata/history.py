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
  `file` attributes): the fixity an E-ARK package declares;
* PREMIS 2.x (`info:lc/xmlns/premis-v2`, as Archivematica writes it) is read as PREMIS 3.0:
  the event and agent semantic units kept their names, so each PREMIS 2 element is renamed
  into the 3.0 namespace as it is parsed; `eventDetail`, a direct child of `event` in 2.x,
  is read where 3.0 has `eventDetailInformation/eventDetail`; `premis2_events` counts them;
* per `fileSec` file linked (ADMID) to an `amdSec` whose techMD holds a PREMIS file object
  (Archivematica's layout): that object's `originalName`, verbatim, and its PRONOM format;
* every `FLocat` and `mdRef` href as written, so the caller can say which point outside the
  package or to a URL (they are never followed).
* every PREMIS rights statement (4.1, 3.0 or 2.2) of a `rightsMD` or PREMIS `rights`, with
  its links unresolved (`rights_import.read_statement`), and each sender file object's
  identifiers, which those links name (Archivematica links a statement to a file's UUID).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from lxml import etree

from preserve.checksums import supported_algorithms
from preserve.metadata import namespaces as ns
from preserve.metadata.mets import DcValue
from preserve.metadata.premis import PATH_ID_TYPE, PRONOM, FileFormat, PremisEvent
from preserve.metadata.rights_import import SenderStatement, read_statement
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
    #: logical path (PREMIS objectIdentifier of type path) -> its originalName
    original_names: dict[str, str] = field(default_factory=dict)
    events: tuple[PremisEvent, ...] = ()
    agents: tuple[Agent, ...] = ()
    checksums: dict[str, FileChecksum] = field(default_factory=dict)  # href path -> declared
    problems: tuple[str, ...] = ()  # events that could not be read whole, said in words
    references: tuple[str, ...] = ()  # every FLocat/mdRef xlink:href, as written, in order
    premis2_events: int = 0  # events read from PREMIS 2.x (mapped to 3.0)
    #: href -> what the PREMIS object its fileSec file links to (ADMID) says of it
    sender_files: dict[str, SenderFile] = field(default_factory=dict)
    #: every PREMIS 3.0 or 2.2 rightsStatement (rightsMD, PREMIS `rights`), links unresolved
    rights: tuple[SenderStatement, ...] = ()


@dataclass(frozen=True, slots=True)
class SenderFile:
    """What a sender's PREMIS object says of one of its files: its original name (verbatim,
    e.g. Archivematica's `%transferDirectory%objects/…`) and format, when it says."""

    original_name: str | None
    format: FileFormat | None
    #: its objectIdentifierValues (Archivematica: the file's UUID), which rights statements
    #: link to (PREMIS 3.0 4.1.8 linkingObjectIdentifier)
    identifiers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FileChecksum:
    """What a METS `file` declares of its content: CHECKSUM with CHECKSUMTYPE, and SIZE.

    `algorithm` is the hashlib name (`sha512`) or, for a type preserve does not compute, the
    METS spelling as given; "" (and `digest` "") when the file declares only its SIZE.
    """

    algorithm: str
    digest: str
    size: int | None


def checksum_algorithm(kind: str) -> str:
    """The hashlib name of a METS CHECKSUMTYPE (METS 1.12.1 / CSIP vocabulary: `MD5`, `SHA-1`,
    `SHA-256`, `SHA-384`, `SHA-512`, `WHIRLPOOL`, ...; `SHA3-256` too), if this Python's
    hashlib offers it; else the METS spelling as given (Adler-32, CRC32, HAVAL, TIGER, MNP)."""
    name = kind.strip().lower().replace("-", "").replace("_", "")
    if name in ("sha3224", "sha3256", "sha3384", "sha3512"):  # SHA3-256 -> sha3_256
        name = f"sha3_{name[4:]}"
    return name if name in supported_algorithms() else kind


class UnreadableDocument(ValueError):
    """The document is not well-formed XML, declares a DOCTYPE, or is too large."""


def read_record(document: bytes, *extra: bytes) -> MetsRecord:
    """The record of a METS document, plus the events and agents of `extra` PREMIS documents.

    Read as a stream: each section (metsHdr, a dmdSec, a techMD or digiprovMD, a fileSec
    `file`, a PREMIS object, event or agent) is taken in when it is complete and then
    dropped, so memory holds the record, not the document (a METS of 20,000 files is 60 MB,
    its tree several times that). Raises UnreadableDocument if any document cannot be
    parsed safely.
    """
    collected = _Collected()
    root_tag, objid, label = _stream(document, collected)
    for more in extra:
        _stream(more, collected)
    problems: list[str] = list(collected.problems)
    events = tuple(_resolve(raw, collected.agents, problems) for raw in collected.events)
    formats = {path: dataclasses.replace(found, mime=collected.mimetypes.get(path, ""))
               for path, found in collected.formats.items()}
    is_mets = root_tag == _m("mets")
    return MetsRecord(
        objid=objid if is_mets else None,
        label=label if is_mets else None,
        organisations=tuple(collected.organisations),
        dublin_core=collected.dublin_core or (),
        mods=collected.mods,
        entity_identifiers=tuple(collected.entity_identifiers),
        formats=formats,
        original_names=dict(collected.original_names),
        events=tuple(e for e in events if e is not None),
        agents=tuple(collected.agents.values()),
        checksums=collected.checksums,
        problems=tuple(problems),
        references=tuple(collected.references),
        premis2_events=collected.premis2_events,
        sender_files={href: collected.amd_objects[ids[0]] for href, ids in
                      ((h, [i for i in admids if i in collected.amd_objects])
                       for h, admids in collected.file_admids.items()) if ids},
        rights=tuple(collected.rights),
    )


@dataclass(slots=True)
class _RawEvent:
    """An event's values as read, before its agents are known (agents may come after it)."""

    id_type: str
    identifier: str
    type: str
    time: dt.datetime | None
    details: list[str]
    outcome: str
    notes: list[str]
    links: list[tuple[str, set[str]]]  # linked agent identifier, its roles
    paths: tuple[str, ...]


@dataclass(slots=True)
class _Collected:
    organisations: list[str] = field(default_factory=list)
    dublin_core: tuple[DcValue, ...] | None = None
    mods: bytes | None = None
    entity_identifiers: list[tuple[str, str]] = field(default_factory=list)
    formats: dict[str, FileFormat] = field(default_factory=dict)
    original_names: dict[str, str] = field(default_factory=dict)
    mimetypes: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, FileChecksum] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    events: list[_RawEvent] = field(default_factory=list)
    seen_events: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    premis2_events: int = 0
    amd_objects: dict[str, SenderFile] = field(default_factory=dict)  # amdSec ID -> object
    rights: list[SenderStatement] = field(default_factory=list)
    file_admids: dict[str, list[str]] = field(default_factory=dict)  # href -> ADMIDs


_PREMIS2 = f"{{{ns.PREMIS2}}}"
_PREMIS2_EVENT = f"{_PREMIS2}event"

#: Elements taken in whole when they end, then dropped from the tree.
_SECTIONS = frozenset({
    ns.qname(ns.METS, "metsHdr"), ns.qname(ns.METS, "dmdSec"), ns.qname(ns.METS, "techMD"),
    ns.qname(ns.METS, "digiprovMD"), ns.qname(ns.METS, "rightsMD"),
    ns.qname(ns.METS, "sourceMD"), ns.qname(ns.METS, "file"), ns.qname(ns.METS, "div"),
    ns.qname(ns.PREMIS, "object"), ns.qname(ns.PREMIS, "event"), ns.qname(ns.PREMIS, "agent"),
    ns.qname(ns.PREMIS, "rights"),
})


_DIV = ns.qname(ns.METS, "div")


def _stream(document: bytes, collected: _Collected) -> tuple[str, str | None, str | None]:
    """Take in every section of `document`; return its root tag, OBJID and LABEL."""
    if len(document) > MAX_BYTES:
        raise UnreadableDocument(f"it is larger than {MAX_BYTES} bytes")
    root: etree._Element | None = None
    try:
        for event, element in etree.iterparse(
                io.BytesIO(document), events=("start", "end"), resolve_entities=False,
                no_network=True, load_dtd=False, dtd_validation=False, remove_comments=True,
                remove_pis=True, collect_ids=False):
            if root is None:
                root = element
                docinfo = element.getroottree().docinfo
                if docinfo.doctype or docinfo.internalDTD is not None:
                    raise UnreadableDocument(
                        "it has a DOCTYPE (DTDs and entities are not accepted)")
            if event == "end" and isinstance(element.tag, str) and element.tag.startswith(
                    _PREMIS2):  # PREMIS 2.x: the same semantic units, read as 3.0
                if element.tag == _PREMIS2_EVENT:
                    collected.premis2_events += 1
                element.tag = ns.qname(ns.PREMIS, element.tag[len(_PREMIS2):])
            if event == "end" and element.tag in _SECTIONS:
                parent = element.getparent()
                if element.tag == _DIV:  # the structMap holds nothing the record needs
                    if parent is not None:
                        parent.remove(element)
                    continue
                if parent is not None and parent.tag in _SECTIONS:
                    continue  # a PREMIS object inside a techMD: taken in with its section
                _take(element, collected)
                if parent is not None:
                    parent.remove(element)
    except etree.XMLSyntaxError as exc:
        raise UnreadableDocument(f"it is not well-formed XML: {exc.msg}") from None
    if root is None:
        raise UnreadableDocument("it is empty")
    return root.tag, root.get("OBJID"), root.get("LABEL")


def _take(section: etree._Element, collected: _Collected) -> None:
    tag = section.tag
    for reference in section.iter(_m("FLocat"), _m("mdRef")):
        href = reference.get(ns.qname(ns.XLINK, "href"))
        if href:
            collected.references.append(href)
    if tag == _m("metsHdr"):
        for name in _organisations(section):
            if name not in collected.organisations:
                collected.organisations.append(name)
    elif tag == _m("dmdSec"):
        for wrap in section.iterfind(_m("mdWrap")):
            data = wrap.find(_m("xmlData"))
            if data is None:
                continue
            if wrap.get("MDTYPE") == "DC" and collected.dublin_core is None:
                collected.dublin_core = _dublin_core(data)
            elif wrap.get("MDTYPE") == "MODS" and collected.mods is None:
                collected.mods = _mods(data)
    elif tag == _m("file"):
        _file(section, collected)
    else:
        if tag in (_m("techMD"), _p("object")):
            _amd_object(section, collected)
        for pair in _entity_identifiers(section):
            if pair not in collected.entity_identifiers:
                collected.entity_identifiers.append(pair)
        collected.formats.update(_formats(section))
        collected.original_names.update(_original_names(section))
        for agent in _agents(section):
            collected.agents.setdefault(agent.identifier, agent)
        for raw in _raw_events(section, collected):
            collected.events.append(raw)
        if tag in (_m("rightsMD"), _p("rights")):  # PREMIS 2.2 renamed to 3.0 by now
            collected.rights += [read_statement(e) for e in section.iter(_p("rightsStatement"))]


# --- METS ---------------------------------------------------------------------------------

def _organisations(header: etree._Element) -> list[str]:
    found = []
    for agent in header.iterfind(_m("agent")):
        if agent.get("TYPE") == "ORGANIZATION":
            name = (agent.findtext(_m("name")) or "").strip()
            if name and name not in found:
                found.append(name)
    return found


def _dublin_core(data: etree._Element) -> tuple[DcValue, ...]:
    values = []
    for element in data.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{ns.DC}}}"):
            continue
        values.append(DcValue(etree.QName(element).localname, element.text or "",
                              element.get(ns.qname(ns.XML, "lang"), "")))
    return tuple(values)


def _mods(data: etree._Element) -> bytes | None:
    for child in data:
        if isinstance(child.tag, str):
            return etree.tostring(child, encoding="UTF-8")
    return None


def _file(file: etree._Element, collected: _Collected) -> None:
    """A fileSec `file`: its MIMETYPE, and its CHECKSUM by its FLocat href (percent-decoded,
    relative)."""
    locat = file.find(_m("FLocat"))
    href = locat.get(ns.qname(ns.XLINK, "href")) if locat is not None else None
    if not href:
        return
    path = unquote_to_bytes(href).decode("utf-8", "surrogateescape")
    admids = (file.get("ADMID") or "").split()
    if admids:
        collected.file_admids[path.removeprefix("./")] = admids
    mime = file.get("MIMETYPE")
    if mime:
        collected.mimetypes[path] = mime
    digest, kind, size = file.get("CHECKSUM"), file.get("CHECKSUMTYPE"), file.get("SIZE")
    declared_size = int(size) if size and size.strip().isdigit() else None
    if digest and kind:
        collected.checksums[path.removeprefix("./")] = FileChecksum(
            checksum_algorithm(kind), digest.strip().lower(), declared_size)
    elif declared_size is not None:
        collected.checksums[path.removeprefix("./")] = FileChecksum("", "", declared_size)


# --- PREMIS -------------------------------------------------------------------------------

def _amd_object(section: etree._Element, collected: _Collected) -> None:
    """A file object in a techMD of an amdSec (Archivematica: one amdSec per file). Called
    with the techMD, or with the object itself when it was taken in first (it ends first)."""
    amd = next(section.iterancestors(_m("amdSec")), None)
    amd_id = amd.get("ID") if amd is not None else None
    if not amd_id or amd_id in collected.amd_objects:
        return
    for obj in section.iter(_p("object")):
        original = obj.findtext(_p("originalName"))
        element = obj.find(f"{_p('objectCharacteristics')}/{_p('format')}")
        found = None
        if element is not None:
            for registry in element.iterfind(_p("formatRegistry")):
                if (registry.findtext(_p("formatRegistryName")) or "").strip() == PRONOM:
                    puid = (registry.findtext(_p("formatRegistryKey")) or "").strip()
                    designation = element.find(_p("formatDesignation"))
                    found = FileFormat(
                        puid or None,
                        (designation.findtext(_p("formatName")) or "") if designation is not None
                        else "",
                        (designation.findtext(_p("formatVersion")) or "")
                        if designation is not None else "")
        if original is not None or found is not None:
            identifiers = tuple(value for value in (
                (v.text or "").strip() for v in obj.iterfind(
                    f"{_p('objectIdentifier')}/{_p('objectIdentifierValue')}")) if value)
            collected.amd_objects[amd_id] = SenderFile(original, found, identifiers)
            return


def _entity_identifiers(section: etree._Element) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for obj in section.iter(_p("object")):
        if not (obj.get(ns.qname(ns.XSI, "type")) or "").endswith("intellectualEntity"):
            continue
        for pair in _identifiers(obj, "objectIdentifier"):
            if pair not in found:
                found.append(pair)
    return found


def _original_names(section: etree._Element) -> dict[str, str]:
    """Logical path -> `originalName` of each file object (PREMIS 3.0 1.6): the name as
    deposited, which a metadata-only version carries forward."""
    names: dict[str, str] = {}
    for obj in section.iter(_p("object")):
        paths = [value for id_type, value in _identifiers(obj, "objectIdentifier")
                 if id_type == PATH_ID_TYPE]
        original = obj.findtext(_p("originalName"))
        if paths and original:
            names[paths[0]] = original
    return names


def _formats(section: etree._Element) -> dict[str, FileFormat]:
    """Format designation and PRONOM key per file object (MIME types come from the fileSec,
    later in the document: `read_record` adds them)."""
    formats: dict[str, FileFormat] = {}
    for obj in section.iter(_p("object")):
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
        formats[paths[0]] = FileFormat(puid, name, version, "",
                                       element.findtext(_p("formatNote")) or "")
    return formats


def _agents(section: etree._Element) -> list[Agent]:
    agents = []
    for element in section.iter(_p("agent")):
        pairs = _identifiers(element, "agentIdentifier")
        if not pairs:
            continue
        identifier = pairs[0][1]
        name = (element.findtext(_p("agentName")) or identifier).strip() or identifier
        agent_type = (element.findtext(_p("agentType")) or _UNKNOWN_AGENT_TYPE).strip()
        agents.append(Agent(identifier, name, _agent_type(agent_type)))
    return agents


def _agent_type(value: str) -> AgentType | str:
    try:
        return AgentType(value.lower())
    except ValueError:
        return value


def _raw_events(section: etree._Element, collected: _Collected) -> Iterable[_RawEvent]:
    for element in section.iter(_p("event")):
        pairs = _identifiers(element, "eventIdentifier")
        if not pairs:
            collected.problems.append("an event without eventIdentifier was not imported")
            continue
        id_type, identifier = pairs[0]
        if (id_type, identifier) in collected.seen_events:  # in the METS and a PREMIS file
            continue
        collected.seen_events.add((id_type, identifier))
        details = [text.strip() for text in element.xpath(  # 3.0, and 2.x's direct child
            "p:eventDetailInformation/p:eventDetail/text() | p:eventDetail/text()",
            namespaces={"p": ns.PREMIS})]
        outcome = ""
        notes: list[str] = []
        for info in element.findall(_p("eventOutcomeInformation")):
            outcome = outcome or (info.findtext(_p("eventOutcome")) or "").strip()
            notes.extend(text.strip() for text in info.xpath(
                "p:eventOutcomeDetail/p:eventOutcomeDetailNote/text()",
                namespaces={"p": ns.PREMIS}))
        links = []
        for link in element.iterfind(_p("linkingAgentIdentifier")):
            value = link.findtext(_p("linkingAgentIdentifierValue")) or ""
            if value:
                links.append((value, {(role.text or "").strip().lower()
                                      for role in link.iterfind(_p("linkingAgentRole"))}))
        paths = tuple(value for link_type, value in
                      _identifiers(element, "linkingObjectIdentifier")
                      if link_type == PATH_ID_TYPE)
        yield _RawEvent(id_type, identifier, (element.findtext(_p("eventType")) or "").strip(),
                        _datetime(element.findtext(_p("eventDateTime")) or ""), details,
                        outcome, notes, links, paths)


def _resolve(raw: _RawEvent, agents: dict[str, Agent], problems: list[str]) -> PremisEvent | None:
    """The event with its agents: the executing one (role "executing program", else the
    first linked) and the archive that carried it out (an organisation, role "implementer")."""
    if not raw.type or raw.time is None:
        problems.append(f"event {raw.id_type} {raw.identifier}: no eventType or no readable "
                        "eventDateTime; not imported")
        return None
    links = [(agents.get(value) or Agent(value, value, _UNKNOWN_AGENT_TYPE), roles)
             for value, roles in raw.links]
    custodian = next((agent for agent, roles in links if "implementer" in roles
                      and agent.type == AgentType.ORGANIZATION), None)
    # The person who had the event carried out (role "implementer", agentType "person"),
    # as this software writes it (issue 15); only when another agent executed the event.
    person = next((agent for agent, roles in links if "implementer" in roles
                   and agent.type == AgentType.PERSON), None)
    executing = (next((agent for agent, roles in links if "executing program" in roles), None)
                 or next((agent for agent, _ in links
                          if agent is not custodian and agent is not person), None)
                 or person or custodian
                 or Agent("unknown", "unknown agent", _UNKNOWN_AGENT_TYPE))
    return PremisEvent(identifier=raw.identifier, identifier_type=raw.id_type, type=raw.type,
                       time=raw.time, outcome=raw.outcome, agent=executing,
                       detail="\n".join(raw.details), outcome_detail="\n".join(raw.notes),
                       object_paths=raw.paths, recorded_by=custodian,
                       person=person if person is not executing else None)


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
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


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
