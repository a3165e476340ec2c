"""Descriptive metadata supplied as XML with a deposit: Dublin Core or MODS, parsed safely.

Where: the bag's tag files `metadata/dc.xml` and `metadata/mods.xml` (kept as received in
`metadata/submission/` like every tag file). Deposits are untrusted input (DESIGN.md), so the
XML is parsed with no DTD at all (a DOCTYPE is refused outright: no internal subset, hence no
entity expansion, "billion laughs" or external entities), no network, no XInclude, at most
`MAX_BYTES` bytes and `MAX_DEPTH` levels of nesting.

What is taken:
* Dublin Core: every `dc:*` element (DCMES 1.1) found directly under the root, or the root
  itself if it is one (`oai_dc:dc` and plain container elements both work), becomes a
  `DcValue` with the element's `xml:lang` (checked like the CSV's: META-W001);
* MODS 3.x: the `mods:mods` / `mods:modsCollection` document goes into its own `dmdSec`
  (`MDTYPE="MODS"`) as received; the METS validation checks it against MODS 3.8 when the
  schema directory has it.
Anything else is META-W005 (the file is kept, nothing is taken from it).
"""

from __future__ import annotations

from lxml import etree

from preserve.findings import finding
from preserve.metadata.descriptive import language_tag
from preserve.metadata.mets import DC_ELEMENTS, DcValue
from preserve.metadata.namespaces import DC, MODS, XML, qname
from preserve.model import Finding

DC_XML_PATH = "metadata/dc.xml"
MODS_XML_PATH = "metadata/mods.xml"
MAX_BYTES = 16 * 2**20
MAX_DEPTH = 64


def parse_untrusted(data: bytes, path: str) -> tuple[etree._Element | None, list[Finding]]:
    """The root element of `data`, or None and a META-W005 finding saying why not."""
    if len(data) > MAX_BYTES:
        return None, [_bad(path, f"it is larger than {MAX_BYTES} bytes")]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False, remove_comments=True,
                             remove_pis=True, collect_ids=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return None, [_bad(path, f"it is not well-formed XML: {exc.msg}")]
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        return None, [_bad(path, "it has a DOCTYPE (DTDs and entities are not accepted)")]
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        return None, [_bad(path, "it uses entity references")]
    if _depth(root) > MAX_DEPTH:
        return None, [_bad(path, f"it is nested deeper than {MAX_DEPTH} levels")]
    return root, []


def read_dc_xml(data: bytes, path: str) -> tuple[list[DcValue], list[Finding]]:
    """The Dublin Core values of a supplied DC XML file, with their languages."""
    root, findings = parse_untrusted(data, path)
    if root is None:
        return [], findings
    candidates = [root] if root.tag.startswith(f"{{{DC}}}") else list(root)
    values: list[DcValue] = []
    for element in candidates:
        if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{DC}}}"):
            continue
        name = etree.QName(element).localname
        if name not in DC_ELEMENTS:
            continue
        given = element.get(qname(XML, "lang"), "")
        lang = language_tag(given) if given else ""
        if lang is None:
            findings.append(finding("META-W001", path, file=path, column=f"dc:{name}", tag=given))
            lang = ""
        values.append(DcValue(name, element.text or "", lang))
    if not values:
        findings.append(_bad(path, "it holds no Dublin Core (dc:) elements"))
    return values, findings


def read_mods_xml(data: bytes, path: str) -> tuple[bytes | None, list[Finding]]:
    """The supplied MODS document, re-serialised without DOCTYPE/comments, or None."""
    root, findings = parse_untrusted(data, path)
    if root is None:
        return None, findings
    if root.tag not in (qname(MODS, "mods"), qname(MODS, "modsCollection")):
        return None, [_bad(path, f"its root is {root.tag}, not a MODS 3 mods or "
                                 "modsCollection")]
    return etree.tostring(root, encoding="UTF-8"), findings


def _depth(root: etree._Element) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in element)
    return deepest


def _bad(path: str, why: str) -> Finding:
    return finding("META-W005", path, file=path, why=why)
