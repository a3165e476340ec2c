"""The METS document of one package version (METS 1.12.1; DESIGN.md, "Metadata").

`build_mets` is a pure function of its arguments: no clock, no random identifiers, no I/O, so
the same inputs give the same bytes (STYLE.md, "XML builders are pure functions"). It writes:

* `metsHdr` (METS 1.12.1 schema, `metsHdr`): CREATEDATE in UTC, the software agent
  (ROLE=CREATOR, TYPE=OTHER, OTHERTYPE=SOFTWARE), the depositing organisation (bag-info
  `Source-Organization`; ROLE=OTHER, OTHERROLE=SUBMITTER, as E-ARK CSIP spells it) and the
  OCFL version as `altRecordID`;
* one `dmdSec` holding simple Dublin Core (`mdWrap MDTYPE="DC"`), built from bag-info.txt
  (RFC 8493 section 2.2.2 reserved labels; no `xml:lang`: bag-info has no language) and then
  the deposit's descriptive values (`DcValue`, each with its BCP 47 `xml:lang`); values keep
  their text exactly;
* one `amdSec` (PREMIS 3.0, built by `preserve.metadata.premis`): a `techMD` with one PREMIS
  `file` object per payload file, then a `digiprovMD` per event and per agent;
* `fileSec` with one `fileGrp USE="payload"`: one `file` per payload file with SIZE, the
  SHA-512 CHECKSUM, MIMETYPE (from PRONOM, when identified), ADMID (its techMD) and one
  `FLocat` whose `xlink:href` is the logical path percent-encoded as a relative URI reference
  (RFC 3986 section 4.2);
* a physical `structMap` mirroring the folders: a `div TYPE="Version"` (ADMID: every
  digiprovMD), a `div TYPE="Directory"` per folder and a `div TYPE="Item"` per file holding
  its one `fptr`, LABELs in the names' original script.

Characters XML 1.0 cannot carry (section 2.2 `Char`: C0 controls other than tab, LF, CR; lone
surrogates; U+FFFE/U+FFFF) can occur in deposited file names. They never reach the XML raw:
the `xlink:href` percent-encodes them (so it stays the lossless form of the name), and in
LABELs and other text they are written as `\\uXXXX` (four upper-case hex digits), readable but
not reversible; a literal backslash is left alone. Tab, LF and CR are legal XML and are kept
(lxml writes them as character references inside attributes, so they survive parsing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from lxml import etree

from preserve.checksums import ByteSink, is_hex_digest
from preserve.metadata import namespaces as ns
from preserve.metadata import premis
from preserve.metadata.premis import FileFormat, PremisEvent
from preserve.metadata.rights import RightsStatement, rights_element
from preserve.model import Agent, AgentType
from preserve.names import NOT_XML_CHAR

#: File group and structMap vocabulary of preserve's METS profile.
PAYLOAD_USE = "payload"
DMD_ID = "dmd-dc"
MODS_DMD_ID = "dmd-mods"
AMD_ID = "amd"
RIGHTS_ID = "rights-package"
ENTITY_ID = "tech-package"
REPRESENTATION_ID = "tech-version"
_FILE_ID_PREFIX = "file-"
_FILE_ID_HEX = 16

# Everything outside XML 1.0's Char production (tab, LF, CR and the rest are allowed).
_NOT_XML_CHAR = NOT_XML_CHAR

#: The fifteen elements of simple Dublin Core (DCMES 1.1), the only names dc: allows.
DC_ELEMENTS = frozenset({
    "contributor", "coverage", "creator", "date", "description", "format", "identifier",
    "language", "publisher", "relation", "rights", "source", "subject", "title", "type"})

# bag-info.txt labels (RFC 8493 section 2.2.2) -> simple DC element, in output order.
# Only what describes the work. Source-Organization is the depositor, not the work's
# publisher: it is the METS header's SUBMITTER agent and a PREMIS agent. Bagging-Date is the
# day the bag was made, not the work's date: it stays in the version's bag-info.txt, which
# the fileSec lists (issue 16 §3).
_DC_FROM_BAG_INFO: tuple[tuple[str, str], ...] = (
    ("external-identifier", "identifier"),
    ("title", "title"),
    ("external-description", "description"),
)


@dataclass(frozen=True, slots=True)
class MetsFile:
    """One file of a version as METS lists it.

    `path` is the logical path in the version (e.g. `data/Qoʻlyozma/варақ 1.tif`), POSIX
    separators, exactly as deposited; `sha256`/`sha512` are hex digests of its content.
    """

    path: str
    size: int
    sha256: str
    sha512: str
    original_name: str | None = None  # as deposited, if not `path` itself
    format: FileFormat | None = None


@dataclass(frozen=True, slots=True)
class DcValue:
    """One simple Dublin Core value with its language: `lang` is a BCP 47 tag or "" (none)."""

    element: str  # a DCMES 1.1 element name: title, creator, date, language...
    value: str
    lang: str = ""


def xml_safe(text: str) -> str:
    """`text` with every character XML 1.0 cannot carry written as `\\uXXXX` (see module doc)."""
    return _NOT_XML_CHAR.sub(lambda m: f"\\u{ord(m.group()):04X}", text)


def href_for(path: str) -> str:
    """The relative URI reference of a logical path: UTF-8, percent-encoded, `/` kept.

    Lone surrogates (names that were not UTF-8, smuggled in by `surrogateescape`) are encoded
    back to the original bytes so the href still names the file.
    """
    return quote(_path_bytes(path), safe="/")


def file_ids(paths: Sequence[str]) -> dict[str, str]:
    """Deterministic METS IDs: `file-` + 16 hex digits of sha256(path), `-2`, `-3`... on clash.

    Clashes are resolved in sorted path order, so the ID of a path depends only on the set of
    paths, never on the order they were given in.
    """
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for path in sorted(paths):
        base = _FILE_ID_PREFIX + hashlib.sha256(_path_bytes(path)).hexdigest()[:_FILE_ID_HEX]
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate)
        ids[path] = candidate
    return ids


def build_mets(**arguments: Any) -> bytes:
    """The METS document as bytes: `write_mets` into memory (see it for the arguments)."""
    out = io.BytesIO()
    write_mets(out, **arguments)
    return out.getvalue()


def write_mets(
    out: ByteSink,
    *,
    package_id: str,
    version: int,
    created: dt.datetime,
    files: Sequence[MetsFile],
    bag_info: Sequence[tuple[str, str]],
    software: str,
    label: str | None = None,
    software_agent: Agent | None = None,
    events: Sequence[PremisEvent] = (),
    descriptive: Sequence[DcValue] = (),
    mods: bytes | None = None,
    dublin_core: Sequence[DcValue] | None = None,
    rights: Sequence[RightsStatement] = (),
) -> None:
    """Write the METS document (UTF-8, XML declaration, indented) of one package version.

    `events` are the PREMIS events to carry (for a later version: every event of the package
    so far); `software_agent` is the repository software (default: an agent named
    `software`); the depositing organisation (`Source-Organization`) and the person
    (`Contact-Name`) become PREMIS agents from `bag_info`. `descriptive` values are added
    to the Dublin Core after those taken from bag-info, each with its `xml:lang`. `mods` is
    a MODS document (already checked by `preserve.metadata.supplied`) for a second dmdSec.
    `dublin_core`, when given, is the complete Dublin Core record instead (an export carries
    the stored record as it is: nothing is derived from `bag_info` or added to it).

    Written as a stream so memory does not grow with the number of files: the parts that
    are one per file (a techMD, a fileSec `file`, a structMap `div`) are built, written and
    dropped one at a time into the places the rest of the document leaves for them.

    Raises ValueError for inputs no caller should produce: a naive `created`, a version < 1,
    duplicate or malformed paths, a path that is both a file and a folder, a bad digest.
    """
    if created.tzinfo is None or created.utcoffset() is None:
        raise ValueError("created must be timezone-aware (UTC)")
    if version < 1:
        raise ValueError(f"version must be >= 1, not {version}")
    ordered = sorted(files, key=lambda f: f.path)
    for mets_file in ordered:
        _check_file(mets_file)
    tree = _Tree.build(f.path for f in ordered)
    ids = file_ids([f.path for f in ordered])

    titles = _values(bag_info, "title")
    mets_label = label if label is not None else (titles[0] if titles else None)
    root = etree.Element(_m("mets"), nsmap=ns.NSMAP)
    root.set(ns.qname(ns.XSI, "schemaLocation"), ns.METS_SCHEMA_LOCATION)
    root.set("OBJID", xml_safe(package_id))
    if mets_label is not None:
        root.set("LABEL", xml_safe(mets_label))

    organisations = _values(bag_info, "source-organization")
    _add_header(root, created, software, version, organisations)
    if dublin_core is None:
        _add_dublin_core(root, package_id, bag_info, label, descriptive)
    else:
        _add_dc_values(root, dublin_core)
    if mods is not None:
        dmd = etree.SubElement(root, _m("dmdSec"), ID=MODS_DMD_ID)
        wrap = etree.SubElement(dmd, _m("mdWrap"), MDTYPE="MODS")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        etree.SubElement(wrap, _m("xmlData")).append(etree.fromstring(mods, parser))
    agent = software_agent or Agent(software, software, AgentType.SOFTWARE)
    provenance = _add_amd_sec(root, package_id, version,
                              _values(bag_info, "external-identifier"), ordered, ids, events,
                              _agents(agent, events, bag_info), rights)
    file_sec = etree.SubElement(root, _m("fileSec"))
    group = etree.SubElement(file_sec, _m("fileGrp"), USE=PAYLOAD_USE)
    group.append(etree.Comment(_FILES_HERE))
    struct_map = etree.SubElement(root, _m("structMap"), TYPE="physical")
    top = etree.SubElement(struct_map, _m("div"), TYPE="Version",
                           DMDID=DMD_ID if mods is None else f"{DMD_ID} {MODS_DMD_ID}")
    if provenance:
        top.set("ADMID", " ".join(provenance))
    top.set("LABEL", xml_safe(mets_label if mets_label is not None else package_id))
    top.append(etree.Comment(_DIVS_HERE))

    skeleton = etree.tostring(
        etree.ElementTree(root), xml_declaration=True, encoding="UTF-8", pretty_print=True)
    del root, file_sec, group, struct_map, top
    parts = _split(skeleton, (_TECH_MD_HERE, _FILES_HERE, _DIVS_HERE))
    out.write(parts[0])
    for mets_file in ordered:
        out.write(_tech_md_xml(mets_file, ids))
    out.write(parts[1])
    for mets_file in ordered:
        out.write(_file_xml(mets_file, ids))
    out.write(parts[2])
    _write_divs(out, tree, ids, _DIV_LEVEL)
    out.write(parts[3])


# Places the skeleton leaves for what is written one file at a time (XML comments in the
# skeleton, replaced in the output: none of them reaches the document).
_TECH_MD_HERE = "preserve: one techMD per file"
_FILES_HERE = "preserve: one file per payload file"
_DIVS_HERE = "preserve: the folder tree"
_INDENT = b"  "
_TECH_MD_LEVEL = 2  # mets/amdSec/techMD
_FILE_LEVEL = 3  # mets/fileSec/fileGrp/file
_DIV_LEVEL = 3  # mets/structMap/div[@TYPE="Version"]/div
# Namespace declarations a fragment repeats from the root, where they are already in scope.
_ROOT_DECLARATIONS = tuple(f' xmlns:{prefix}="{uri}"'.encode() for prefix, uri in ns.NSMAP.items())


def _split(skeleton: bytes, markers: Sequence[str]) -> list[bytes]:
    """The skeleton cut at each marker comment (its line's indentation dropped with it)."""
    parts: list[bytes] = []
    rest = skeleton
    for marker in markers:
        comment = f"<!--{marker}-->".encode()
        before, found, after = rest.partition(comment)
        if not found:
            raise AssertionError(f"the METS skeleton lost its place for {marker!r}")
        parts.append(before.rstrip(b" ") )
        rest = after.lstrip(b"\n")
    parts.append(rest)
    return parts


def _fragment(element: etree._Element, level: int) -> bytes:
    """One element serialised for its place `level` deep in the document, on lines of its
    own and indented like the rest; the root's namespace declarations, in scope there, are
    not repeated on it. (etree.indent only adds whitespace where an element holds elements,
    never inside text, so names with line breaks stay exact.)"""
    etree.indent(element, space=_INDENT.decode(), level=level)
    data = etree.tostring(element, encoding="UTF-8")
    end = data.index(b">")  # lxml escapes ">" in attribute values, so this ends the tag
    start_tag = data[:end]
    for declaration in _ROOT_DECLARATIONS:
        start_tag = start_tag.replace(declaration, b"", 1)
    return _INDENT * level + start_tag + data[end:] + b"\n"


# The element builders of the per-file parts: what the templates (`_tech_md_xml`,
# `_file_xml`, the divs of `_write_divs`) must write, byte for byte; the tests hold
# them to it (tests/unit/metadata/test_premis_template.py).
def _tech_md(mets_file: MetsFile, ids: dict[str, str]) -> etree._Element:
    md = etree.Element(_m("techMD"), nsmap=ns.NSMAP, ID=tech_id(ids[mets_file.path]))
    wrap = etree.SubElement(md, _m("mdWrap"), MDTYPE="PREMIS:OBJECT",
                            MDTYPEVERSION=premis.PREMIS_VERSION)
    etree.SubElement(wrap, _m("xmlData")).append(premis.file_object(
        path=mets_file.path, original_name=mets_file.original_name or mets_file.path,
        size=mets_file.size, digests=(("sha256", mets_file.sha256), ("sha512", mets_file.sha512)),
        file_format=mets_file.format, text=xml_safe))
    return md


def _tech_md_xml(mets_file: MetsFile, ids: dict[str, str]) -> bytes:
    """`_fragment(_tech_md(mets_file, ids), _TECH_MD_LEVEL)`, from a template (the same bytes,
    tested; see `premis.file_object_lines`)."""
    indent = (_INDENT * _TECH_MD_LEVEL).decode()
    lines = [f'{indent}<mets:techMD ID="{_attribute(tech_id(ids[mets_file.path]))}">',
             f'{indent}  <mets:mdWrap MDTYPE="PREMIS:OBJECT" '
             f'MDTYPEVERSION="{premis.PREMIS_VERSION}">',
             f"{indent}    <mets:xmlData>"]
    lines += premis.file_object_lines(
        path=mets_file.path, original_name=mets_file.original_name or mets_file.path,
        size=mets_file.size, digests=(("sha256", mets_file.sha256), ("sha512", mets_file.sha512)),
        file_format=mets_file.format, text=xml_safe, indent=indent + "      ")
    lines += [f"{indent}    </mets:xmlData>", f"{indent}  </mets:mdWrap>",
              f"{indent}</mets:techMD>", ""]
    return "\n".join(lines).encode("utf-8")


def _file_xml(mets_file: MetsFile, ids: dict[str, str]) -> bytes:
    """`_fragment(_file_element(mets_file, ids), _FILE_LEVEL)`, from a template (the same
    bytes, tested)."""
    indent = (_INDENT * _FILE_LEVEL).decode()
    file_id = _attribute(ids[mets_file.path])
    mime = ""
    if mets_file.format is not None and mets_file.format.mime:
        if _NOT_XML_CHAR.search(mets_file.format.mime):  # as lxml refuses it
            raise ValueError(f"{mets_file.path!r}: MIME type {mets_file.format.mime!r} is not "
                             "XML text")
        mime = f' MIMETYPE="{_attribute(mets_file.format.mime)}"'
    return (f'{indent}<mets:file ID="{file_id}" SIZE="{mets_file.size}" '
            f'CHECKSUM="{_attribute(mets_file.sha512)}" CHECKSUMTYPE="SHA-512"{mime} '
            f'ADMID="tech-{file_id}">\n'
            f'{indent}  <mets:FLocat LOCTYPE="URL" xlink:type="simple" '
            f'xlink:href="{_attribute(href_for(mets_file.path))}"/>\n'
            f"{indent}</mets:file>\n").encode()


def _attribute(value: str) -> str:
    """An attribute value as lxml escapes it (XML 1.0 section 3.3.3: tab, LF and CR as
    references, so they survive normalisation)."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
            .replace("\r", "&#13;"))


# --- sections -----------------------------------------------------------------------------


def _add_header(root: etree._Element, created: dt.datetime, software: str, version: int,
                organisations: Sequence[str]) -> None:
    header = etree.SubElement(root, _m("metsHdr"), CREATEDATE=_xsd_datetime(created))
    agent = etree.SubElement(header, _m("agent"), ROLE="CREATOR", TYPE="OTHER")
    agent.set("OTHERTYPE", "SOFTWARE")
    etree.SubElement(agent, _m("name")).text = xml_safe(software)
    for organisation in organisations:
        # METS has no "depositor" role; OTHERROLE=SUBMITTER is the E-ARK CSIP spelling.
        agent = etree.SubElement(header, _m("agent"), ROLE="OTHER", OTHERROLE="SUBMITTER",
                                 TYPE="ORGANIZATION")
        etree.SubElement(agent, _m("name")).text = xml_safe(organisation)
    # METS has no version attribute; altRecordID names this document's version of the object.
    etree.SubElement(header, _m("altRecordID"), TYPE="version").text = f"v{version}"


def _add_dublin_core(
    root: etree._Element,
    package_id: str,
    bag_info: Sequence[tuple[str, str]],
    label: str | None,
    descriptive: Sequence[DcValue],
) -> None:
    dmd = etree.SubElement(root, _m("dmdSec"), ID=DMD_ID)
    wrap = etree.SubElement(dmd, _m("mdWrap"), MDTYPE="DC")
    data = etree.SubElement(wrap, _m("xmlData"))
    elements: list[tuple[str, str]] = [("identifier", package_id)]
    for bag_label, dc_name in _DC_FROM_BAG_INFO:
        values = _values(bag_info, bag_label)
        described = any(item.element == "title" for item in descriptive)
        if dc_name == "title" and not values and label is not None and not described:
            values = [label]
        elements.extend((dc_name, value) for value in values)
    # bag-info values carry no language (RFC 8493 has none): no xml:lang is better than a guess.
    dc_values = [DcValue(dc_name, value) for dc_name, value in elements] + list(descriptive)
    _dc_elements(data, dc_values)


def _add_dc_values(root: etree._Element, values: Sequence[DcValue]) -> None:
    dmd = etree.SubElement(root, _m("dmdSec"), ID=DMD_ID)
    wrap = etree.SubElement(dmd, _m("mdWrap"), MDTYPE="DC")
    _dc_elements(etree.SubElement(wrap, _m("xmlData")), values)


def _dc_elements(data: etree._Element, values: Sequence[DcValue]) -> None:
    for item in values:
        if item.element not in DC_ELEMENTS:
            raise ValueError(f"not a Dublin Core element: {item.element!r}")
        element = etree.SubElement(data, ns.qname(ns.DC, item.element))
        element.text = xml_safe(item.value)
        if item.lang:
            element.set(ns.qname(ns.XML, "lang"), item.lang)


def _add_amd_sec(root: etree._Element, package_id: str, version: int,
                 external_ids: Sequence[str], files: Sequence[MetsFile],
                 ids: dict[str, str], events: Sequence[PremisEvent],
                 agents: Sequence[tuple[Agent, str]],
                 rights: Sequence[RightsStatement] = ()) -> list[str]:
    """techMD for the package, its version and each file, digiprovMD per event and agent.

    Returns the IDs the version's structMap div points at (package objects, provenance).
    """
    amd = etree.SubElement(root, _m("amdSec"), ID=AMD_ID)
    entity, representation = premis.package_objects(
        package_id=package_id, version=version, external_ids=external_ids,
        file_paths=[f.path for f in files], event_ids=[(e.identifier_type, e.identifier) for e in events],
        text=xml_safe)
    _md(amd, "techMD", ENTITY_ID, "PREMIS:OBJECT", entity)
    _md(amd, "techMD", REPRESENTATION_ID, "PREMIS:OBJECT", representation)
    amd.append(etree.Comment(_TECH_MD_HERE))  # one techMD per file, written by write_mets
    provenance: list[str] = [ENTITY_ID, REPRESENTATION_ID]
    taken: set[str] = set(provenance)
    if rights:  # METS amdSec order: techMD, rightsMD, sourceMD, digiprovMD (issue 16 §1)
        _md(amd, "rightsMD", RIGHTS_ID, "PREMIS:RIGHTS",
            rights_element(rights, package_id, xml_safe))
        provenance.append(RIGHTS_ID)
        taken.add(RIGHTS_ID)
    for event in sorted(events, key=lambda e: e.time):  # stable: ties keep the given order
        md_id = _unique(f"event-{_ncname_part(event.identifier)}", taken)
        _md(amd, "digiprovMD", md_id, "PREMIS:EVENT",
            premis.event_element(event, package_id, xml_safe))
        provenance.append(md_id)
    for agent, note in agents:
        digest = hashlib.sha256(agent.identifier.encode("utf-8", "surrogatepass")).hexdigest()
        md_id = _unique(f"agent-{digest[:12]}", taken)
        _md(amd, "digiprovMD", md_id, "PREMIS:AGENT", premis.agent_element(agent, xml_safe, note))
        provenance.append(md_id)
    return provenance


def _md(amd: etree._Element, section: str, md_id: str, md_type: str,
        content: etree._Element) -> None:
    md = etree.SubElement(amd, _m(section), ID=md_id)
    wrap = etree.SubElement(md, _m("mdWrap"), MDTYPE=md_type, MDTYPEVERSION=premis.PREMIS_VERSION)
    etree.SubElement(wrap, _m("xmlData")).append(content)


def _agents(software: Agent, events: Sequence[PremisEvent],
            bag_info: Sequence[tuple[str, str]]) -> list[tuple[Agent, str]]:
    """Every agent once: the software, the agents of the events, the depositor and contact."""
    found: dict[str, tuple[Agent, str]] = {software.identifier: (software, "")}
    for event in events:
        found.setdefault(event.agent.identifier, (event.agent, ""))
        if event.recorded_by is not None:
            found.setdefault(event.recorded_by.identifier, (event.recorded_by, ""))
        if event.person is not None:
            found.setdefault(event.person.identifier, (event.person, ""))
    for name in _values(bag_info, "source-organization"):
        found.setdefault(name, (Agent(name, name, AgentType.ORGANIZATION),
                                "depositing organisation (bag-info Source-Organization)"))
    for name in _values(bag_info, "original-source-organization"):  # set by exports
        found.setdefault(name, (Agent(name, name, AgentType.ORGANIZATION),
                                "first depositing organisation (bag-info "
                                "Original-Source-Organization)"))
    for name in _values(bag_info, "contact-name"):
        found.setdefault(name, (Agent(name, name, AgentType.PERSON),
                                "contact person of the deposit (bag-info Contact-Name)"))
    return list(found.values())


def tech_id(file_id: str) -> str:
    """The techMD ID of a file's PREMIS object: `tech-` + the file's METS ID."""
    return "tech-" + file_id


def _file_element(mets_file: MetsFile, ids: dict[str, str]) -> etree._Element:
    element = etree.Element(_m("file"), nsmap=ns.NSMAP, ID=ids[mets_file.path])
    element.set("SIZE", str(mets_file.size))
    element.set("CHECKSUM", mets_file.sha512)
    element.set("CHECKSUMTYPE", "SHA-512")
    if mets_file.format is not None and mets_file.format.mime:
        element.set("MIMETYPE", mets_file.format.mime)
    element.set("ADMID", tech_id(ids[mets_file.path]))
    locat = etree.SubElement(element, _m("FLocat"), LOCTYPE="URL")
    locat.set(ns.qname(ns.XLINK, "type"), "simple")
    locat.set(ns.qname(ns.XLINK, "href"), href_for(mets_file.path))
    return element


def _write_divs(out: ByteSink, tree: _Tree, ids: dict[str, str], level: int) -> None:
    # One sorted listing per folder (files and folders interleaved by name), like `ls`.
    indent = (_INDENT * level).decode()
    for name in sorted({*tree.files, *tree.folders}):
        label = _attribute(xml_safe(name))
        if name in tree.files:
            # What `_fragment` makes of the div and its fptr, from a template (tested).
            out.write(f'{indent}<mets:div TYPE="Item" LABEL="{label}">\n{indent}  <mets:fptr '
                      f'FILEID="{_attribute(ids[tree.files[name]])}"/>\n{indent}</mets:div>\n'
                      .encode())
        else:
            out.write(f'{indent}<mets:div TYPE="Directory" LABEL="{label}">\n'.encode())
            _write_divs(out, tree.folders[name], ids, level + 1)
            out.write(_INDENT * level + b"</mets:div>\n")


# --- helpers ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Tree:
    """The folder structure of a set of logical paths: names -> full path / sub-tree."""

    files: dict[str, str] = field(default_factory=dict)
    folders: dict[str, _Tree] = field(default_factory=dict)

    @classmethod
    def build(cls, paths: Iterable[str]) -> _Tree:
        top = cls()
        for path in paths:
            *folders, name = path.split("/")
            node = top
            for folder in folders:
                if folder in node.files:
                    raise ValueError(f"{path!r}: {folder!r} is both a file and a folder")
                node = node.folders.setdefault(folder, cls())
            if name in node.files:
                raise ValueError(f"duplicate path {path!r}")
            if name in node.folders:
                raise ValueError(f"{path!r} is both a file and a folder")
            node.files[name] = path
        return top


def _check_file(mets_file: MetsFile) -> None:
    path = mets_file.path
    parts = path.split("/")
    if not path or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a relative POSIX path without empty, '.' or '..' parts: {path!r}")
    if mets_file.size < 0:
        raise ValueError(f"{path!r}: negative size {mets_file.size}")
    if not is_hex_digest(mets_file.sha512, "sha512"):
        raise ValueError(f"{path!r}: not a sha512 hex digest: {mets_file.sha512!r}")
    if not is_hex_digest(mets_file.sha256, "sha256"):
        raise ValueError(f"{path!r}: not a sha256 hex digest: {mets_file.sha256!r}")


def _values(bag_info: Sequence[tuple[str, str]], label: str) -> list[str]:
    # bag-info labels are matched case-insensitively: deposits spell them variously.
    return [value for key, value in bag_info if key.strip().lower() == label]


def _path_bytes(path: str) -> bytes:
    try:
        return path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates outside U+DC80..U+DCFF: keep them visible
        return path.encode("utf-8", "surrogatepass")


def _xsd_datetime(moment: dt.datetime) -> str:
    return premis.xsd_datetime(moment)


def _ncname_part(value: str) -> str:
    # UUIDs pass unchanged; anything else is reduced to NCName characters.
    return re.sub(r"[^A-Za-z0-9._-]", "_", value)


def _unique(candidate: str, taken: set[str]) -> str:
    base, n = candidate, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def _m(local: str) -> str:
    return ns.qname(ns.METS, local)
