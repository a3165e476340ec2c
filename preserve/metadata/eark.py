"""E-ARK CSIP 2.1 / SIP 2.1 documents of an exported package (pure builders, no I/O, no clock).

An E-ARK export of one package version is laid out as CSIP 2.1 section 4 fixes it:

```
METS.xml                                   the package METS (`build_package_mets`)
metadata/descriptive/dc.xml                Dublin Core (`build_dc`), mods.xml when supplied
metadata/preservation/premis.xml           the package's complete PREMIS history (`build_premis`)
documentation/README.txt                   what the package is, for people (`build_readme`)
schemas/…                                  the XSDs the documents use
representations/rep1/METS.xml              the representation METS (`build_representation_mets`)
representations/rep1/metadata/preservation/premis.xml   its files (`build_representation_premis`)
representations/rep1/data/…                payload, names exactly as deposited
```

Both METS documents follow the CSIP METS profile and the SIP extension (csip:OAISPACKAGETYPE
"SIP": another archive ingests what we export): `mets/@OBJID`, `@TYPE` from the content-category
vocabulary, `@csip:CONTENTINFORMATIONTYPE`, `@PROFILE` (CSIP1-CSIP6, SIP2); `metsHdr` with
CREATEDATE, LASTMODDATE, RECORDSTATUS "NEW", the software as the CREATOR agent with its
version in a `SOFTWARE VERSION` note (CSIP7-CSIP16, SIP3-SIP4), the exporting archive as
submitting and preservation agent (SIP15-SIP17, SIP26-SIP28); `dmdSec` and `amdSec/digiprovMD`
each with one `mdRef` (LOCTYPE URL, xlink:type simple, MDTYPE, MIMETYPE, SIZE, CREATED,
CHECKSUM, CHECKSUMTYPE: CSIP17-CSIP44); `fileSec` with the `Documentation`, `Schemas` and
`Representations/rep1` file groups (CSIP58-CSIP79, CSIP113, CSIP114); one `structMap`
TYPE "PHYSICAL" LABEL "CSIP" whose division holds `Metadata`, `Documentation`, `Schemas`,
`Representations` and one `Representations/rep1` division with an `mptr` to the
representation METS (CSIP80-CSIP112). The representation METS describes the payload files the
same way under its own `Representations/rep1` file group.

Every checksum is SHA-512 (the digest preserve keeps for every file). Hrefs are the paths
percent-encoded as relative URI references (`preserve.metadata.mets.href_for`); text is made
XML-safe with `xml_safe`. Identifiers inside the documents are derived from the paths, so the
same inputs always give the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from preserve.checksums import is_hex_digest
from preserve.metadata import namespaces as ns
from preserve.metadata import premis
from preserve.metadata.mets import DC_ELEMENTS, DcValue, file_ids, href_for, xml_safe
from preserve.metadata.premis import FileFormat, PremisEvent
from preserve.metadata.rights import RightsStatement, rights_element
from preserve.model import Agent

CSIP_PROFILE = "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
OAIS_PACKAGE_TYPE = "SIP"
REPRESENTATION = "rep1"
#: No E-ARK content information type specification (CITS) covers a generic preserved package.
CONTENT_INFORMATION_TYPE = "OTHER"
OTHER_CONTENT_INFORMATION_TYPE = "preserve package version (BagIt payload with METS/PREMIS)"
#: DCMI Type terms (lower case) and the CSIP content category each one names: a package whose
#: Dublin Core has exactly one of them as `dc:type` is filed under it, any other under "Mixed".
_DCMI_CATEGORIES = {term.lower(): term for term in (
    "Collection", "Event", "Image", "Interactive resource", "Moving image", "Sound",
    "Still image", "Text", "Physical object", "Service", "Software")} | {"dataset": "Datasets"}
DEFAULT_CONTENT_CATEGORY = "Mixed"
CHECKSUM_TYPE = "SHA-512"
XML_MIME = "text/xml"
UNKNOWN_MIME = "application/octet-stream"

METS_FILE = "METS.xml"
DC_PATH = "metadata/descriptive/dc.xml"
MODS_PATH = "metadata/descriptive/mods.xml"
PREMIS_PATH = "metadata/preservation/premis.xml"
README_PATH = "documentation/README.txt"
SCHEMAS_DIR = "schemas"
REPRESENTATION_DIR = f"representations/{REPRESENTATION}"
REPRESENTATION_USE = f"Representations/{REPRESENTATION}"

_SCHEMA_LOCATION = (f"{ns.METS} {ns.METS_SCHEMA_URL} {ns.XLINK} {ns.XLINK_SCHEMA_URL} "
                    f"{ns.CSIP} {ns.CSIP_SCHEMA_URL}")
_NSMAP = {"mets": ns.METS, "csip": ns.CSIP, "xlink": ns.XLINK, "xsi": ns.XSI}


@dataclass(frozen=True, slots=True)
class PackageHeader:
    """What both METS documents say about the package and who made it.

    `created` is the moment of the export (CREATEDATE, LASTMODDATE and every CREATED of a
    file the export writes); `content_category` a term of the CSIP content-category
    vocabulary (see `content_category`).
    """

    package_id: str
    version: int
    created: dt.datetime
    label: str | None
    organization: str
    software_name: str
    software_version: str
    content_category: str = DEFAULT_CONTENT_CATEGORY
    #: the package METS's OBJID when it must differ from the package id: the package folder's
    #: name (CSIP1), which is the id made portable (`names.portable_name`) in a zip export
    objid: str | None = None


@dataclass(frozen=True, slots=True)
class PackagedFile:
    """A file a METS document points at: its path relative to that document's folder.

    `mdtype` is set for metadata files referenced from a dmdSec/digiprovMD (METS MDTYPE:
    "DC", "MODS", "PREMIS"); `label` names the file in the structMap (default: its name).
    """

    path: str
    size: int
    sha512: str
    mime: str
    created: dt.datetime
    mdtype: str = ""
    mdtype_version: str = ""


def content_category(dc_values: Sequence[DcValue]) -> str:
    """The CSIP content category (`mets/@TYPE`) for a package's Dublin Core.

    One distinct `dc:type` that is a DCMI Type term of the CSIP vocabulary (case-insensitive,
    e.g. "Text", "Still image") gives that term; none or several give "Mixed".
    """
    found = {_DCMI_CATEGORIES[key] for v in dc_values
             if v.element == "type" and (key := v.value.strip().lower()) in _DCMI_CATEGORIES}
    return found.pop() if len(found) == 1 else DEFAULT_CONTENT_CATEGORY


# --- METS documents -----------------------------------------------------------------------


def build_package_mets(*, header: PackageHeader, descriptive: Sequence[PackagedFile],
                       preservation: Sequence[PackagedFile],
                       documentation: Sequence[PackagedFile], schemas: Sequence[PackagedFile],
                       representation_mets: PackagedFile) -> bytes:
    """The package METS.xml (CSIP 2.1 section 5; SIP 2.1 section 4).

    `descriptive` and `preservation` are the metadata files (with `mdtype`), one dmdSec or
    digiprovMD each; `representation_mets` is `representations/rep1/METS.xml`. A `Schemas`
    or `Documentation` group is written only when it has files.
    """
    for item in (*descriptive, *preservation, *documentation, *schemas, representation_mets):
        _check(item)
    root = _root(header, header.objid or header.package_id)
    dmd_ids = _md_sections(root, "dmdSec", "dmd", descriptive, header.created)
    amd_ids = _md_sections(etree.SubElement(root, _m("amdSec"), ID="amd"), "digiprovMD",
                           "digiprov", preservation, header.created) if preservation else []
    file_sec = etree.SubElement(root, _m("fileSec"), ID="filesec")
    groups: list[tuple[str, str]] = []  # (division LABEL, fileGrp ID)
    if documentation:
        groups.append(("Documentation", _file_group(file_sec, "Documentation", documentation)))
    if schemas:
        groups.append(("Schemas", _file_group(file_sec, "Schemas", schemas)))
    rep_group = _file_group(file_sec, REPRESENTATION_USE, [representation_mets])

    struct_map = etree.SubElement(root, _m("structMap"), ID="structmap-csip", TYPE="PHYSICAL",
                                  LABEL="CSIP")
    top = etree.SubElement(struct_map, _m("div"), ID="div-package",
                           LABEL=xml_safe(header.package_id))
    metadata = etree.SubElement(top, _m("div"), ID="div-metadata", LABEL="Metadata")
    if amd_ids:
        metadata.set("ADMID", " ".join(amd_ids))
    if dmd_ids:
        metadata.set("DMDID", " ".join(dmd_ids))
    for label, group_id in groups:
        division = etree.SubElement(top, _m("div"), ID=f"div-{label.lower()}", LABEL=label)
        etree.SubElement(division, _m("fptr"), FILEID=group_id)
    # CSIP101-CSIP104: the content division points at the Representations file group;
    # CSIP105-CSIP112: each representation has its own division with an mptr to its METS.
    content = etree.SubElement(top, _m("div"), ID="div-representations", LABEL="Representations")
    etree.SubElement(content, _m("fptr"), FILEID=rep_group)
    division = etree.SubElement(top, _m("div"), ID=f"div-{REPRESENTATION}",
                                LABEL=REPRESENTATION_USE)
    pointer = etree.SubElement(division, _m("mptr"), LOCTYPE="URL")
    _xlink(pointer, representation_mets.path)
    pointer.set(ns.qname(ns.XLINK, "title"), rep_group)
    return _serialize(root)


def build_representation_mets(*, header: PackageHeader, preservation: Sequence[PackagedFile],
                              data: Sequence[PackagedFile]) -> bytes:
    """`representations/rep1/METS.xml`: the payload files of the version (CSIP 2.1 5.1-5.6).

    `data` paths are relative to the representation folder (`data/…`); `preservation` is the
    representation's PREMIS document (its file objects).
    """
    for item in (*preservation, *data):
        _check(item)
    root = _root(header, REPRESENTATION)
    amd_ids = _md_sections(etree.SubElement(root, _m("amdSec"), ID="amd"), "digiprovMD",
                           "digiprov", preservation, header.created) if preservation else []
    file_sec = etree.SubElement(root, _m("fileSec"), ID="filesec")
    group_id = _file_group(file_sec, REPRESENTATION_USE, data)
    struct_map = etree.SubElement(root, _m("structMap"), ID="structmap-csip", TYPE="PHYSICAL",
                                  LABEL="CSIP")
    top = etree.SubElement(struct_map, _m("div"), ID="div-representation",
                           LABEL=REPRESENTATION_USE)
    metadata = etree.SubElement(top, _m("div"), ID="div-metadata", LABEL="Metadata")
    if amd_ids:
        metadata.set("ADMID", " ".join(amd_ids))
    content = etree.SubElement(top, _m("div"), ID="div-data", LABEL="Representations")
    etree.SubElement(content, _m("fptr"), FILEID=group_id)
    return _serialize(root)


# --- metadata documents -------------------------------------------------------------------


def build_dc(*, package_id: str, title: str | None, external_ids: Sequence[str],
             dc_values: Sequence[DcValue]) -> bytes:
    """`metadata/descriptive/dc.xml`: simple Dublin Core in an `oai_dc:dc` record.

    The package id and its external identifiers come first as `dc:identifier`, the title (if
    the values carry none), then every value with its BCP 47 `xml:lang`, text unchanged.
    """
    root = etree.Element(ns.qname(ns.OAI_DC, "dc"),
                         nsmap={"oai_dc": ns.OAI_DC, "dc": ns.DC, "xsi": ns.XSI})
    root.set(ns.qname(ns.XSI, "schemaLocation"), f"{ns.OAI_DC} {ns.OAI_DC_SCHEMA_URL}")
    seen: set[tuple[str, str, str]] = set()

    def add(element: str, value: str, lang: str = "") -> None:
        if element not in DC_ELEMENTS:
            raise ValueError(f"not a Dublin Core element: {element!r}")
        if (element, value, lang) in seen:
            return
        seen.add((element, value, lang))
        node = etree.SubElement(root, ns.qname(ns.DC, element))
        node.text = xml_safe(value)
        if lang:
            node.set(ns.qname(ns.XML, "lang"), lang)

    add("identifier", package_id)
    for external in external_ids:
        add("identifier", external)
    if title and not any(v.element == "title" for v in dc_values):
        add("title", title)
    for value in dc_values:
        add(value.element, value.value, value.lang)
    return _serialize(root)


def build_premis(*, package_id: str, version: int, external_ids: Sequence[str],
                 events: Sequence[PremisEvent], agents: Sequence[Agent],
                 rights: Sequence[RightsStatement] = ()) -> bytes:
    """`metadata/preservation/premis.xml`: the package's history as one PREMIS 3.0 document.

    The intellectual entity (package id, external identifiers, represented by the exported
    version, linked to every event), every event in time order (ties keep the given order),
    then every agent once: those given, then those of the events.
    """
    root = _premis_root()
    entity, _ = premis.package_objects(
        package_id=package_id, version=version, external_ids=external_ids, file_paths=(),
        event_ids=[(e.identifier_type, e.identifier) for e in events], text=xml_safe)
    root.append(entity)
    for event in sorted(events, key=lambda e: e.time):
        root.append(premis.event_element(event, package_id, xml_safe))
    found: dict[str, Agent] = {}
    for agent in (*agents, *(e.agent for e in events),
                  *(e.recorded_by for e in events if e.recorded_by is not None)):
        found.setdefault(agent.identifier, agent)
    for agent in found.values():
        root.append(premis.agent_element(agent, xml_safe))
    if rights:  # PREMIS 3.0: object, event, agent, rights (issue 16 §1)
        root.append(rights_element(rights, package_id, xml_safe))
    return _serialize(root)


@dataclass(frozen=True, slots=True)
class PremisFile:
    """A payload file as its PREMIS object describes it (logical path `data/…`)."""

    path: str
    size: int
    sha256: str
    sha512: str
    format: FileFormat | None = None


def build_representation_premis(*, package_id: str, version: int,
                                files: Sequence[PremisFile]) -> bytes:
    """`representations/rep1/metadata/preservation/premis.xml`: the representation (the
    exported version, including every file) and one `file` object per payload file with its
    SHA-256 and SHA-512 fixity, size, PRONOM format and original name."""
    root = _premis_root()
    ordered = sorted(files, key=lambda f: f.path)
    _, representation = premis.package_objects(
        package_id=package_id, version=version, external_ids=(),
        file_paths=[f.path for f in ordered], event_ids=(), text=xml_safe)
    root.append(representation)
    for item in ordered:
        root.append(premis.file_object(
            path=item.path, original_name=item.path, size=item.size,
            digests=(("sha256", item.sha256), ("sha512", item.sha512)),
            file_format=item.format, text=xml_safe))
    return _serialize(root)


def build_readme(*, header: PackageHeader, titles: Sequence[DcValue], file_count: int,
                 payload_bytes: int, events: int) -> bytes:
    """`documentation/README.txt`: the package explained for the people who receive it."""
    created = premis.xsd_datetime(header.created)
    lines = [
        f"E-ARK SIP exported by {header.organization}",
        "",
        f"Package: {header.package_id}, version v{header.version}",
    ]
    lines += [f"Title{f' [{t.lang}]' if t.lang else ''}: {t.value}" for t in titles]
    lines += [
        f"Exported: {created} by {header.software_name} {header.software_version}",
        f"Payload: {file_count} file(s), {payload_bytes} bytes, in {REPRESENTATION_DIR}/data/ "
        "with names exactly as deposited",
        f"History: {events} PREMIS event(s) in {PREMIS_PATH}",
        "",
        "Layout (E-ARK CSIP 2.1 / SIP 2.1):",
        f"  {METS_FILE}  the package METS; every file it lists carries its size and SHA-512",
        f"  {DC_PATH}  descriptive metadata (Dublin Core, languages as BCP 47 tags)",
        f"  {PREMIS_PATH}  every preservation event of the package, with its agents",
        f"  {SCHEMAS_DIR}/  the XML schemas the documents use",
        f"  {REPRESENTATION_DIR}/{METS_FILE}  the payload files with size and SHA-512",
        f"  {REPRESENTATION_DIR}/metadata/preservation/premis.xml  fixity (SHA-256, SHA-512) "
        "and PRONOM format of every payload file",
    ]
    return ("\n".join(xml_safe(line) for line in lines) + "\n").encode("utf-8")


# --- reading back -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetsReference:
    """One `file`, `mdRef` or `mptr` of an E-ARK METS document, as written there.

    `href` is the raw xlink:href (percent-encoded); `size`/`checksum`/`checksum_type` are None
    when the element has none (an `mptr` never has).
    """

    kind: str  # "file", "mdRef" or "mptr"
    href: str
    size: str | None
    checksum: str | None
    checksum_type: str | None


def read_references(document: bytes) -> list[MetsReference]:
    """Every file, mdRef and mptr of a METS document, in document order.

    The bytes are untrusted: no DTD, no entities, no network. Raises ValueError if they are
    not a well-formed METS document.
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False,
                             huge_tree=True)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    if root.tag != _m("mets"):
        raise ValueError(f"the root element is {root.tag}, not a METS document")
    href = ns.qname(ns.XLINK, "href")
    found: list[MetsReference] = []
    for element in root.iter(_m("file"), _m("mdRef"), _m("mptr")):
        kind = etree.QName(element).localname
        holder = element.find(_m("FLocat")) if kind == "file" else element
        if holder is None or not holder.get(href):
            raise ValueError(f"line {element.sourceline}: {kind} without an xlink:href")
        found.append(MetsReference(kind, holder.get(href), element.get("SIZE"),
                                   element.get("CHECKSUM"), element.get("CHECKSUMTYPE")))
    return found


# --- helpers ------------------------------------------------------------------------------


def _root(header: PackageHeader, object_id: str) -> etree._Element:
    if header.created.tzinfo is None or header.created.utcoffset() is None:
        raise ValueError("created must be timezone-aware (UTC)")
    root = etree.Element(_m("mets"), nsmap=_NSMAP)
    root.set(ns.qname(ns.XSI, "schemaLocation"), _SCHEMA_LOCATION)
    root.set("OBJID", xml_safe(object_id))
    if header.label:
        root.set("LABEL", xml_safe(header.label))
    root.set("TYPE", header.content_category)
    root.set(ns.qname(ns.CSIP, "CONTENTINFORMATIONTYPE"), CONTENT_INFORMATION_TYPE)
    root.set(ns.qname(ns.CSIP, "OTHERCONTENTINFORMATIONTYPE"), OTHER_CONTENT_INFORMATION_TYPE)
    root.set("PROFILE", SIP_PROFILE)
    created = premis.xsd_datetime(header.created)
    mets_header = etree.SubElement(root, _m("metsHdr"), CREATEDATE=created, LASTMODDATE=created,
                                   RECORDSTATUS="NEW")
    mets_header.set(ns.qname(ns.CSIP, "OAISPACKAGETYPE"), OAIS_PACKAGE_TYPE)
    software = etree.SubElement(mets_header, _m("agent"), ROLE="CREATOR", TYPE="OTHER",
                                OTHERTYPE="SOFTWARE")
    etree.SubElement(software, _m("name")).text = xml_safe(header.software_name)
    note = etree.SubElement(software, _m("note"))
    note.text = xml_safe(header.software_version)
    note.set(ns.qname(ns.CSIP, "NOTETYPE"), "SOFTWARE VERSION")
    # SIP15-SIP17: the submitting agent (METS has no such role: OTHER/SUBMITTER); SIP26-SIP28:
    # the archive that preserved the package. Both are the exporting archive. Not CREATOR:
    # CSIP12 requires every CREATOR agent to be the software.
    submitter = etree.SubElement(mets_header, _m("agent"), ROLE="OTHER", OTHERROLE="SUBMITTER",
                                 TYPE="ORGANIZATION")
    etree.SubElement(submitter, _m("name")).text = xml_safe(header.organization)
    keeper = etree.SubElement(mets_header, _m("agent"), ROLE="PRESERVATION",
                              TYPE="ORGANIZATION")
    etree.SubElement(keeper, _m("name")).text = xml_safe(header.organization)
    return root


def _md_sections(parent: etree._Element, section: str, prefix: str,
                 files: Sequence[PackagedFile], created: dt.datetime) -> list[str]:
    ids: list[str] = []
    for item in files:
        if not item.mdtype:
            raise ValueError(f"{item.path!r}: a metadata file needs its MDTYPE")
        md_id = f"{prefix}-{item.mdtype.lower()}"
        n = 1
        while md_id in ids:
            n += 1
            md_id = f"{prefix}-{item.mdtype.lower()}-{n}"
        ids.append(md_id)
        element = etree.SubElement(parent, _m(section), ID=md_id,
                                   CREATED=premis.xsd_datetime(created), STATUS="CURRENT")
        ref = etree.SubElement(element, _m("mdRef"), LOCTYPE="URL")
        _xlink(ref, item.path)
        ref.set("MDTYPE", item.mdtype)
        if item.mdtype_version:
            ref.set("MDTYPEVERSION", item.mdtype_version)
        _file_attributes(ref, item)
    return ids


def _file_group(file_sec: etree._Element, use: str, files: Sequence[PackagedFile]) -> str:
    group_id = "grp-" + "".join(c if c.isalnum() else "-" for c in use.lower())
    group = etree.SubElement(file_sec, _m("fileGrp"), ID=group_id, USE=use)
    # CSIP62 wants the type on representation groups; on the others it is optional (0..1),
    # but eark-validator 1.1.3 reports CSIP63 as an error for any group without "OTHER" and
    # an OTHERCONTENTINFORMATIONTYPE, so every group states it.
    group.set(ns.qname(ns.CSIP, "CONTENTINFORMATIONTYPE"), CONTENT_INFORMATION_TYPE)
    group.set(ns.qname(ns.CSIP, "OTHERCONTENTINFORMATIONTYPE"), OTHER_CONTENT_INFORMATION_TYPE)
    ids = file_ids([f.path for f in files])
    for item in sorted(files, key=lambda f: f.path):
        element = etree.SubElement(group, _m("file"), ID=ids[item.path])
        _file_attributes(element, item)
        locat = etree.SubElement(element, _m("FLocat"), LOCTYPE="URL")
        _xlink(locat, item.path)
    return group_id


def _file_attributes(element: etree._Element, item: PackagedFile) -> None:
    element.set("MIMETYPE", item.mime or UNKNOWN_MIME)
    element.set("SIZE", str(item.size))
    element.set("CREATED", premis.xsd_datetime(item.created))
    element.set("CHECKSUM", item.sha512)
    element.set("CHECKSUMTYPE", CHECKSUM_TYPE)


def _xlink(element: etree._Element, path: str) -> None:
    element.set(ns.qname(ns.XLINK, "type"), "simple")
    element.set(ns.qname(ns.XLINK, "href"), href_for(path))


def _check(item: PackagedFile) -> None:
    parts = item.path.split("/")
    if not item.path or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a relative path without empty, '.' or '..' parts: {item.path!r}")
    if item.size < 0:
        raise ValueError(f"{item.path!r}: negative size {item.size}")
    if not is_hex_digest(item.sha512, "sha512"):
        raise ValueError(f"{item.path!r}: not a sha512 hex digest: {item.sha512!r}")


def _premis_root() -> etree._Element:
    root = etree.Element(ns.qname(ns.PREMIS, "premis"), version=premis.PREMIS_VERSION,
                         nsmap={"premis": ns.PREMIS, "xsi": ns.XSI})
    root.set(ns.qname(ns.XSI, "schemaLocation"), f"{ns.PREMIS} {ns.PREMIS_SCHEMA_URL}")
    return root


def _serialize(root: etree._Element) -> bytes:
    etree.cleanup_namespaces(root, top_nsmap=root.nsmap)
    return etree.tostring(etree.ElementTree(root), xml_declaration=True, encoding="UTF-8",
                          pretty_print=True)


def _m(local: str) -> str:
    return ns.qname(ns.METS, local)
