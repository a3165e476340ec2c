"""Reading facts back out of a stored METS document, for rebuilding catalog rows from storage
(DESIGN.md, "Rules": catalog rows about files can be rebuilt from storage).

The document is one preserve wrote (`mets.py`), but it is read as untrusted bytes all the
same: no DTD, no entities, no network.
"""

from __future__ import annotations

from lxml import etree

from preserve.metadata.namespaces import METS, PREMIS, qname
from preserve.metadata.premis import PATH_ID_TYPE, PRONOM


def _parse(document: bytes) -> etree._Element:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False,
                             huge_tree=True)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:  # a SyntaxError, not a ValueError: callers get one
        raise ValueError(f"not well-formed XML: {exc}") from None
    if root.tag != qname(METS, "mets"):
        raise ValueError(f"the root element is {root.tag}, not a METS document")
    return root


def mets_label(document: bytes) -> str | None:
    """The METS root's LABEL: the package title ingest chose (bag-info Title, descriptive
    title, ...); None if it has none. ValueError if the document is not well-formed METS."""
    return _parse(document).get("LABEL")


def mets_file_formats(document: bytes) -> dict[str, str]:
    """Logical path -> PRONOM PUID of every PREMIS file object in the METS that has one.

    ValueError if the document is not well-formed METS.
    PREMIS 3.0: `objectIdentifier` of type "preserve logical path", `format/formatRegistry`
    with `formatRegistryName` PRONOM.
    """
    root = _parse(document)
    formats: dict[str, str] = {}
    for obj in root.iter(qname(PREMIS, "object")):
        path = None
        for identifier in obj.iterfind(qname(PREMIS, "objectIdentifier")):
            if identifier.findtext(qname(PREMIS, "objectIdentifierType")) == PATH_ID_TYPE:
                path = identifier.findtext(qname(PREMIS, "objectIdentifierValue"))
        if not path:
            continue
        for registry in obj.iter(qname(PREMIS, "formatRegistry")):
            if registry.findtext(qname(PREMIS, "formatRegistryName")) == PRONOM:
                key = registry.findtext(qname(PREMIS, "formatRegistryKey"))
                if key:
                    formats[path] = key
    return formats
