"""Supplied DC/MODS XML: parsed safely (no DTD, no entities, limits), embedded and validated."""

from __future__ import annotations

from lxml import etree

from preserve.metadata import DcValue, SchemaSet, build_mets, supplied
from preserve.metadata.namespaces import METS, MODS
from preserve.metadata.supplied import parse_untrusted, read_dc_xml, read_mods_xml

from .conftest import CREATED, mets_file

MODS_DOC = ('<mods xmlns="http://www.loc.gov/mods/v3" version="3.8">'
            '<titleInfo lang="uzb" script="Cyrl"><title>Бобурнома</title></titleInfo>'
            '<titleInfo lang="per" script="Arab"><title>بابرنامه</title></titleInfo>'
            '</mods>').encode()
DC_DOC = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/">'
          '<dc:title xml:lang="uz-Latn">Boburnoma</dc:title>'
          '<dc:title xml:lang="uz-cyrl">Бобурнома</dc:title>'
          '<dc:title xml:lang="fa_Arab">بابرنامه</dc:title>'
          '<dc:creator>Bobur</dc:creator><other>x</other></oai_dc:dc>').encode()

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<dc xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&lol3;</dc:title></dc>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<dc xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&secret;</dc:title></dc>"""


def test_dc_xml_values_keep_their_languages():
    values, findings = read_dc_xml(DC_DOC, "metadata/dc.xml")
    assert values == [DcValue("title", "Boburnoma", "uz-Latn"),
                      DcValue("title", "Бобурнома", "uz-Cyrl"),
                      DcValue("title", "بابرنامه", ""), DcValue("creator", "Bobur", "")]
    assert [f.code for f in findings] == ["META-W001"]


def test_dtds_entities_and_bombs_are_refused_without_expansion():
    for hostile in (LAUGHS, EXTERNAL):
        values, findings = read_dc_xml(hostile, "metadata/dc.xml")
        assert values == [] and [f.code for f in findings] == ["META-W005"]
        assert "DOCTYPE" in findings[0].message
    deep = b"<a>" * (supplied.MAX_DEPTH + 5) + b"</a>" * (supplied.MAX_DEPTH + 5)
    assert parse_untrusted(deep, "x.xml")[1][0].code == "META-W005"
    assert parse_untrusted(b"<a>", "x.xml")[1][0].code == "META-W005"
    big = b"<a>" + b" " * (supplied.MAX_BYTES + 1) + b"</a>"
    assert "larger" in parse_untrusted(big, "x.xml")[1][0].message
    assert read_mods_xml(DC_DOC, "metadata/mods.xml")[1][0].code == "META-W005"


def test_mods_goes_into_its_own_valid_dmd_sec(schemas: SchemaSet):
    mods, findings = read_mods_xml(MODS_DOC, "metadata/mods.xml")
    assert findings == [] and mods is not None
    document = build_mets(package_id="p", version=1, created=CREATED,
                          files=[mets_file("data/a.txt")], bag_info=[], software="t", mods=mods)
    assert schemas.validate_mets(document) == []
    root = etree.fromstring(document)
    wrap = root.find(f"{{{METS}}}dmdSec[@ID='dmd-mods']/{{{METS}}}mdWrap")
    assert wrap.get("MDTYPE") == "MODS"
    titles = [t.text for t in wrap.iter(f"{{{MODS}}}title")]
    assert titles == ["Бобурнома", "بابرنامه"]
    assert root.find(f".//{{{METS}}}structMap/{{{METS}}}div").get("DMDID") == "dmd-dc dmd-mods"
    invalid = document.replace(b"<title>", b"<titel>", 1).replace(b"</title>", b"</titel>", 1)
    assert any("titel" in p for p in schemas.validate_mets(invalid))
