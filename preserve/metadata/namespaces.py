"""XML namespaces and official schema locations used by preserve's metadata (the one place).

Every namespace URI, prefix and `xsi:schemaLocation` URL the METS/PREMIS writers emit or the
validator loads is defined here, so documents and the schema set cannot drift apart
(STYLE.md, "Namespaces and schema locations in one module").

Schema URLs are the official, versioned locations published by the maintainers (METS 1.12.1:
https://www.loc.gov/standards/mets/version1121/mets.xsd; PREMIS 3.0; DCMI 2008-02-11). They
are never fetched: `preserve.metadata.schemas` maps them to local files through an OASIS XML
catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
DC = "http://purl.org/dc/elements/1.1/"
PREMIS = "http://www.loc.gov/premis/v3"
#: PREMIS 2.x (2.0-2.2), as Archivematica and others still write it: read, mapped to PREMIS 3.0
PREMIS2 = "info:lc/xmlns/premis-v2"
XML = "http://www.w3.org/XML/1998/namespace"
MODS = "http://www.loc.gov/mods/v3"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OASIS_CATALOG = "urn:oasis:names:tc:entity:xmlns:xml:catalog"
#: E-ARK CSIP METS extension (the `csip:` attributes of DILCISExtensionMETS.xsd)
CSIP = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"

#: Prefixes used when writing; the METS namespace is written with the `mets:` prefix (not as
#: the default namespace) so embedded metadata in other namespaces reads unambiguously.
NSMAP: dict[str, str] = {
    "mets": METS,
    "xlink": XLINK,
    "xsi": XSI,
    "dc": DC,
    "premis": PREMIS,
}

METS_VERSION = "1.12.1"
METS_SCHEMA_URL = "http://www.loc.gov/standards/mets/version1121/mets.xsd"
DC_SCHEMA_URL = "http://dublincore.org/schemas/xmls/qdc/2008/02/11/dc.xsd"
PREMIS_SCHEMA_URL = "http://www.loc.gov/standards/premis/v3/premis-v3-0.xsd"
#: Loaded only to check a sender's PREMIS 2 (`SchemaSet.validate_premis2`), never written.
PREMIS2_SCHEMA_URL = "http://www.loc.gov/standards/premis/v2/premis-v2-2.xsd"
MODS_SCHEMA_URL = "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd"
XLINK_SCHEMA_URL = "http://www.loc.gov/standards/xlink/xlink.xsd"
CSIP_SCHEMA_URL = "https://earkcsip.dilcis.eu/schema/DILCISExtensionMETS.xsd"
OAI_DC_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"

#: Other URLs under which the METS 1.12.1 schema is published; a catalog may map any of them.
METS_SCHEMA_ALIASES: tuple[str, ...] = (
    METS_SCHEMA_URL,
    "https://www.loc.gov/standards/mets/version1121/mets.xsd",
    "http://www.loc.gov/standards/mets/mets.xsd",
    "https://www.loc.gov/standards/mets/mets.xsd",
)

#: File names tried when a schema directory has no catalog entry for METS (diagnostics only).
METS_SCHEMA_FILENAMES: tuple[str, ...] = ("mets-1.12.1.xsd", "mets.xsd")


@dataclass(frozen=True, slots=True)
class SchemaRef:
    """One namespace and the official URL of the schema that defines it."""

    namespace: str
    url: str
    required: bool


#: What the validator loads. METS is required; the others make the embedded DC (and later
#: PREMIS) be checked strictly instead of being skipped by METS's lax `xmlData` wildcard.
VALIDATION_SCHEMAS: tuple[SchemaRef, ...] = (
    SchemaRef(METS, METS_SCHEMA_URL, required=True),
    SchemaRef(DC, DC_SCHEMA_URL, required=False),
    SchemaRef(PREMIS, PREMIS_SCHEMA_URL, required=False),
    SchemaRef(MODS, MODS_SCHEMA_URL, required=False),
    SchemaRef(CSIP, CSIP_SCHEMA_URL, required=False),
)

#: `xsi:schemaLocation` of every METS document preserve writes.
METS_SCHEMA_LOCATION = (f"{METS} {METS_SCHEMA_URL} {DC} {DC_SCHEMA_URL} "
                        f"{PREMIS} {PREMIS_SCHEMA_URL}")


def qname(namespace: str, local: str) -> str:
    """Clark notation (`{namespace}local`), the form lxml uses for element and attribute names."""
    return f"{{{namespace}}}{local}"
