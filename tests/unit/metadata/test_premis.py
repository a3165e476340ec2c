"""METS with PREMIS 3.0: golden document, one object per file, events, agents, XSD-valid.

The golden document is `golden/multilingual.xml`, compared after C14N 2.0. Regenerate it
after an intended change with `PRESERVE_UPDATE_GOLDEN=1 pytest tests/unit/metadata` and
review the diff.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import etree

from preserve.metadata import DcValue, FileFormat, PremisEvent, SchemaSet, build_mets
from preserve.metadata.namespaces import DC, METS, PREMIS, XLINK, XML
from preserve.model import Agent, AgentType

from .conftest import CREATED, MULTILINGUAL_BAG_INFO, MULTILINGUAL_PATHS, mets_file

NS = {"mets": METS, "dc": DC, "xlink": XLINK, "premis": PREMIS}
GOLDEN = Path(__file__).parent / "golden" / "multilingual.xml"
SOFTWARE = Agent("preserve/0.1.0", "preserve 0.1.0", AgentType.SOFTWARE)
AUDITOR = Agent("preserve/0.2.0", "preserve 0.2.0", AgentType.SOFTWARE)

FORMATS = {
    ".tif": FileFormat("fmt/353", "Tagged Image File Format", "", "image/tiff",
                       "byte match at 0, 4"),
    ".txt": FileFormat("x-fmt/111", "Plain Text File", "", "text/plain", "text match UTF-8"),
}
UNKNOWN = FileFormat(None, note="no match; possibilities based on extension are fmt/208")

DESCRIPTIVE = (
    DcValue("title", "Boburnoma"), DcValue("title", "Boburnoma", "uz-Latn"),
    DcValue("title", "Бобурнома", "uz-Cyrl"), DcValue("title", "بابرنامه", "fa-Arab"),
    DcValue("title", "Бабырнама", "kk-Cyrl"), DcValue("title", "Bābur-nāma", "chg-Latn"),
    DcValue("creator", "Zahiriddin Muhammad Bobur", "uz-Latn"),
    DcValue("date", "1530"), DcValue("language", "chg-Arab"),
)


def events(version: int = 1) -> list[PremisEvent]:
    first = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
    found = [
        PremisEvent(f"00000000-0000-4000-8000-00000000000{n}", kind, first, outcome, SOFTWARE,
                    detail, outcome_detail, 1)
        for n, (kind, outcome, detail, outcome_detail) in enumerate([
            ("validation", "success", "RFC 8493 validation of the bag deposit", "valid"),
            ("message digest calculation", "success", "sha256, sha512 of 10 payload files", ""),
            ("format identification", "warning", "PRONOM identification with siegfried 1.11.9",
             "9 identified (2 formats), 1 not identified"),
            ("ingestion", "success", "stored as OCFL object pkg-0001 version v1", ""),
        ])
    ]
    if version > 1:
        found.append(PremisEvent("00000000-0000-4000-8000-0000000000a0", "fixity check",
                                 first + dt.timedelta(days=30), "success", AUDITOR,
                                 "audit run 7", "", 1, ("data/top.txt",)))
    return found


def multilingual(version: int = 1, **overrides) -> bytes:
    files = []
    for path in MULTILINGUAL_PATHS:
        suffix = Path(path).suffix
        base = mets_file(path)
        files.append(type(base)(base.path, base.size, base.sha256, base.sha512,
                                original_name=path, format=FORMATS.get(suffix, UNKNOWN)))
    arguments = dict(package_id="pkg-0001", version=version, created=CREATED, files=files,
                     bag_info=MULTILINGUAL_BAG_INFO, software="preserve 0.1.0",
                     software_agent=SOFTWARE, events=events(version), descriptive=DESCRIPTIVE)
    arguments.update(overrides)
    return build_mets(**arguments)


def c14n(document: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(document, parser), method="c14n2")


def test_golden_multilingual_document_after_c14n():
    document = multilingual()
    if os.environ.get("PRESERVE_UPDATE_GOLDEN"):
        GOLDEN.write_bytes(document)
    assert c14n(document) == c14n(GOLDEN.read_bytes())


@pytest.mark.parametrize("version", [1, 2])
def test_every_generated_document_validates_against_mets_and_premis(schemas: SchemaSet, version):
    document = multilingual(version)
    assert schemas.validate_mets(document) == []
    assert schemas.validate_mets_independently(document) == []


def test_embedded_premis_is_validated_strictly_and_separately(schemas: SchemaSet, schema_dir):
    document = multilingual()
    premis_schema = etree.XMLSchema(etree.parse(str(schema_dir / "premis-v3-0.xsd")))
    root = etree.fromstring(document)
    embedded = root.xpath("//mets:xmlData/premis:*", namespaces=NS)
    # file objects, entity and representation, events, agents
    assert len(embedded) == len(MULTILINGUAL_PATHS) + 2 + 4 + 3
    for element in embedded:  # each one on its own against premis-v3-0.xsd alone
        premis_schema.assertValid(etree.ElementTree(etree.fromstring(etree.tostring(element))))
    for broken, expected in [
        (document.replace(b"<premis:size>", b"<premis:size>many", 1), "size"),
        (document.replace(b"premis:originalName>", b"premis:originalNom>", 2), "originalNom"),
        (document.replace(b'xsi:type="premis:file"', b"", 1), "abstract"),
        (document.replace(b"<premis:agent ", b"<premis:agentX ", 1)
         .replace(b"</premis:agent>", b"</premis:agentX>", 1), "agentX"),
    ]:
        problems = schemas.validate_mets(broken)
        assert any(expected in p for p in problems), problems


def test_every_payload_file_has_one_premis_object_and_one_mets_file_that_agree():
    root = etree.fromstring(multilingual())
    files = root.xpath("//mets:fileSec//mets:file", namespaces=NS)
    assert len(files) == len(MULTILINGUAL_PATHS)
    for path in MULTILINGUAL_PATHS:
        given = mets_file(path)
        element, = [f for f in files
                    if unquote(f.find("mets:FLocat", NS).get(f"{{{XLINK}}}href")) == path]
        objects = root.xpath("//premis:object[premis:objectIdentifier/"
                             "premis:objectIdentifierValue = $p]", namespaces=NS, p=path)
        assert len(objects) == 1
        obj = objects[0]
        tech = obj.getparent().getparent().getparent()
        assert tech.tag == f"{{{METS}}}techMD" and element.get("ADMID") == tech.get("ID")
        fixity = {f.findtext("premis:messageDigestAlgorithm", namespaces=NS):
                  f.findtext("premis:messageDigest", namespaces=NS)
                  for f in obj.iterfind(".//premis:fixity", NS)}
        assert fixity == {"SHA-256": given.sha256, "SHA-512": given.sha512}
        assert element.get("CHECKSUM") == fixity["SHA-512"]
        assert obj.findtext(".//premis:size", namespaces=NS) == element.get("SIZE")
        assert obj.findtext("premis:originalName", namespaces=NS) == path  # as deposited
        expected = FORMATS.get(Path(path).suffix)
        puid = obj.findtext(".//premis:formatRegistryKey", namespaces=NS)
        if expected is None:
            assert puid is None and element.get("MIMETYPE") is None
            assert obj.findtext(".//premis:formatName", namespaces=NS) == "Unknown"
        else:
            assert puid == expected.puid and element.get("MIMETYPE") == expected.mime
            assert obj.findtext(".//premis:formatRegistryName", namespaces=NS) == "PRONOM"
            assert obj.findtext(".//premis:formatName", namespaces=NS) == expected.name


def test_header_agents_and_premis_agents():
    root = etree.fromstring(multilingual(2))
    header = root.find("mets:metsHdr", NS)
    assert [(a.get("ROLE"), a.get("TYPE"), a.findtext("mets:name", namespaces=NS))
            for a in header.findall("mets:agent", NS)] == [
        ("CREATOR", "OTHER", "preserve 0.1.0"),
        ("OTHER", "ORGANIZATION", "Alisher Navoiy nomidagi Oʻzbekiston Milliy kutubxonasi")]
    agents = {a.findtext("premis:agentName", namespaces=NS):
              (a.findtext("premis:agentType", namespaces=NS),
               a.findtext("premis:agentVersion", namespaces=NS))
              for a in root.iterfind(".//premis:agent", NS)}
    assert agents == {
        "preserve 0.1.0": ("software", "0.1.0"), "preserve 0.2.0": ("software", "0.2.0"),
        "Alisher Navoiy nomidagi Oʻzbekiston Milliy kutubxonasi": ("organization", None),
        "not mapped to DC": ("person", None)}
    kinds = [e.findtext("premis:eventType", namespaces=NS)
             for e in root.iterfind(".//premis:event", NS)]
    assert kinds == ["validation", "message digest calculation", "format identification",
                     "ingestion", "fixity check"]
    top = root.find("mets:structMap/mets:div", NS)
    digiprov = root.xpath("//mets:digiprovMD/@ID", namespaces=NS)
    assert top.get("ADMID").split() == ["tech-package", "tech-version", *digiprov]


def test_package_and_version_objects_with_structural_relationships():
    root = etree.fromstring(multilingual())

    def one(kind: str) -> etree._Element:
        found, = root.xpath(f"//premis:object[@xsi:type='premis:{kind}']",
                            namespaces={**NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"})
        return found

    entity, representation = one("intellectualEntity"), one("representation")
    assert entity.xpath("premis:objectIdentifier/premis:objectIdentifierValue/text()",
                        namespaces=NS) == ["pkg-0001", "УзМК-қўлёзма-17", "ark:/12345/қолжазба"]
    assert entity.xpath(".//premis:relatedObjectIdentifierValue/text()",
                        namespaces=NS) == ["pkg-0001/v1"]
    assert len(entity.findall("premis:linkingEventIdentifier", NS)) == 4
    includes = representation.xpath(
        "premis:relationship[premis:relationshipSubType='includes']"
        "//premis:relatedObjectIdentifierValue/text()", namespaces=NS)
    assert sorted(includes) == sorted(MULTILINGUAL_PATHS)


def test_descriptive_values_keep_their_language_bag_info_values_have_none():
    root = etree.fromstring(multilingual())
    titles = [(t.text, t.get(f"{{{XML}}}lang"))
              for t in root.iterfind("mets:dmdSec//dc:title", NS)]
    assert titles == [
        ("Qoʻlyozmalar to‘plami — Қўлёзмалар тўплами", None),
        ("Летопись / دیوان حافظ / كتاب الشفاء", None),
        ("Boburnoma", None), ("Boburnoma", "uz-Latn"), ("Бобурнома", "uz-Cyrl"),
        ("بابرنامه", "fa-Arab"), ("Бабырнама", "kk-Cyrl"), ("Bābur-nāma", "chg-Latn")]


def test_a_value_that_is_not_a_dc_element_is_refused():
    with pytest.raises(ValueError):
        multilingual(descriptive=[DcValue("titel", "x")])
