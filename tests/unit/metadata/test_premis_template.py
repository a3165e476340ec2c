"""The per-file parts of a METS written from templates (`mets._tech_md_xml`, `_file_xml`,
`premis.file_object_lines`) are byte for byte what the lxml builders serialise to, for any
name (controls, `&<>"`, tabs, CR/LF, lone surrogates, any script) and any format."""

from __future__ import annotations

import hashlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preserve.metadata import mets
from preserve.metadata.premis import FileFormat

NAMES = st.text(min_size=1, max_size=30).map(lambda s: "data/" + s.replace("/", "_"))
TEXT = st.text(max_size=20)
FORMATS = st.none() | st.builds(FileFormat, puid=st.none() | TEXT, name=TEXT, version=TEXT,
                                mime=TEXT, note=TEXT)


@settings(max_examples=300, deadline=None)
@given(path=NAMES, original=st.none() | NAMES, size=st.integers(0, 2**63), fmt=FORMATS)
def test_templates_write_what_lxml_writes(path, original, size, fmt):
    item = mets.MetsFile(path=path, size=size, sha256=hashlib.sha256(path.encode(
        "utf-8", "surrogatepass")).hexdigest(), sha512=hashlib.sha512(b"x").hexdigest(),
        original_name=original, format=fmt)
    ids = mets.file_ids([path])
    assert mets._tech_md_xml(item, ids) == mets._fragment(mets._tech_md(item, ids),
                                                          mets._TECH_MD_LEVEL)
    try:
        expected = mets._fragment(mets._file_element(item, ids), mets._FILE_LEVEL)
    except ValueError:  # lxml refuses a MIME type that is not XML text: so does the template
        with pytest.raises(ValueError):
            mets._file_xml(item, ids)
        return
    assert mets._file_xml(item, ids) == expected


@settings(max_examples=200, deadline=None)
@given(name=st.text(min_size=1, max_size=20).map(lambda s: s.replace("/", "_")))
def test_the_structmap_divs_are_what_lxml_writes(name):
    from lxml import etree

    from preserve.metadata import namespaces as ns
    path = f"data/{name}/{name}"
    ids = mets.file_ids([path])
    got = io.BytesIO()
    mets._write_divs(got, mets._Tree.build([path]), ids, 3)
    folder = etree.Element(mets._m("div"), nsmap=ns.NSMAP, TYPE="Directory", LABEL="data")
    item = etree.Element(mets._m("div"), nsmap=ns.NSMAP, TYPE="Item", LABEL=mets.xml_safe(name))
    etree.SubElement(item, mets._m("fptr"), FILEID=ids[path])
    inner = etree.Element(mets._m("div"), nsmap=ns.NSMAP, TYPE="Directory",
                          LABEL=mets.xml_safe(name))
    expected = b"".join(
        [mets._fragment(folder, 3).rstrip()[:-2] + b">\n",
         mets._fragment(inner, 4).rstrip()[:-2] + b">\n",
         mets._fragment(item, 5), b"        </mets:div>\n", b"      </mets:div>\n"])
    assert got.getvalue() == expected
