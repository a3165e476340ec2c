"""XML carried by a deposit: DOCTYPEs, entity expansion, external entities (local files and
URLs), XInclude, a 20 MiB attribute, 200,000 nested elements.

Two places matter. The tag files `metadata/dc.xml` and `metadata/mods.xml` are parsed by
`preserve.metadata.supplied` (no DTD, no entities, no network, size and depth limits): hostile
ones are kept as received but not used (META-W005, stored with exit 1). `preserve validate`
checks the bag, not supplied metadata, so it reports these bags valid (exit 0). A sender's
METS (`metadata/mets.xml` in a bag, `METS.xml` of an E-ARK package) is parsed by validate
and ingest alike (`preserve.metadata.history`, the same refusals): hostile ones are IMP-W001.
XML in the payload is never parsed by preserve: it is stored byte-exact (format
identification reads its bytes, never resolves anything) and nothing it refers to is
fetched or read.
"""

from __future__ import annotations

from tests.adversarial.build import PAGE, bag, retag
from tests.adversarial.harness import snapshot
from tests.adversarial.registry import OK, REJECTED, WARNINGS, case

GROUP = "XML in deposits"
DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
MODS = 'xmlns="http://www.loc.gov/mods/v3"'

LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
                    for n in range(1, 10))
          + "]>")


def _dc(body: str, doctype: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n'
            f'<metadata {DC}><dc:title xml:lang="uz-Latn">{body}</dc:title></metadata>\n')


def _tag_xml(path: str, text):
    def build(ws):
        root = bag(ws)
        content = text(ws) if callable(text) else text
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
        return retag(root)

    return build


def _payload_xml(text):
    def build(ws):
        content = text(ws) if callable(text) else text
        return bag(ws, {"record.xml": content.encode() if isinstance(content, str) else content,
                        **PAGE})

    return build


def _xxe_file(ws):
    return _dc("&xxe;", f'<!DOCTYPE metadata [<!ENTITY xxe SYSTEM "file://{ws.secret_file}">]>')


def _xxe_url(ws):
    return _dc("&xxe;", f'<!DOCTYPE metadata [<!ENTITY xxe SYSTEM "{ws.url}">]>')


def _external_dtd(ws):
    return _dc("title", f'<!DOCTYPE metadata SYSTEM "{ws.url}">')


def _parameter_entity(ws):
    return _dc("title", f'<!DOCTYPE metadata [<!ENTITY % remote SYSTEM "{ws.url}"> %remote;]>')


def _xinclude(ws):
    return (f'<metadata {DC} xmlns:xi="http://www.w3.org/2001/XInclude">'
            f'<dc:title>Included: <xi:include href="file://{ws.secret_file}" parse="text"/>'
            '</dc:title></metadata>')


def _nested(levels: int, tag: str = "e") -> str:
    return (f"<metadata {DC}><dc:title>t</dc:title>" + f"<{tag}>" * levels
            + f"</{tag}>" * levels + "</metadata>")


def _attribute(size: int) -> bytes:
    return (f'<metadata {DC}><dc:title a="'.encode() + b"A" * size
            + b'">t</dc:title></metadata>')


_KEPT = ("the file is kept as received in metadata/submission/ but nothing is taken from it: "
         "no entity is expanded, nothing is fetched or read")

case(id="dc-doctype", group=GROUP, attack="metadata/dc.xml with an internal DOCTYPE",
     build=_tag_xml("metadata/dc.xml", _dc("title", "<!DOCTYPE metadata []>")),
     codes=("META-W005",), ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="a DOCTYPE is refused outright: " + _KEPT)
case(id="dc-billion-laughs", group=GROUP,
     attack="metadata/dc.xml with the billion-laughs entity expansion (10^9 `lol`s)",
     build=_tag_xml("metadata/dc.xml", _dc("&lol9;", LAUGHS)), codes=("META-W005",),
     ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="no entity is expanded; " + _KEPT)
case(id="dc-external-entity-file", group=GROUP,
     attack="metadata/dc.xml with an external entity naming the sentinel file (file://)",
     build=_tag_xml("metadata/dc.xml", _xxe_file), codes=("META-W005",),
     ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="the sentinel's text appears nowhere: " + _KEPT)
case(id="dc-external-entity-url", group=GROUP,
     attack="metadata/dc.xml with an external entity naming an http URL (the local listener)",
     build=_tag_xml("metadata/dc.xml", _xxe_url), codes=("META-W005",),
     ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="no connection is made: " + _KEPT)
case(id="dc-external-dtd", group=GROUP,
     attack="metadata/dc.xml whose DOCTYPE loads an external DTD from a URL",
     build=_tag_xml("metadata/dc.xml", _external_dtd), codes=("META-W005",),
     ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="DTDs are never loaded: " + _KEPT)
case(id="dc-parameter-entity", group=GROUP,
     attack="metadata/dc.xml with an external parameter entity (out-of-band XXE)",
     build=_tag_xml("metadata/dc.xml", _parameter_entity), codes=("META-W005",),
     ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="no connection is made: " + _KEPT)
case(id="dc-xinclude", group=GROUP,
     attack="metadata/dc.xml with an XInclude of the sentinel file",
     build=_tag_xml("metadata/dc.xml", _xinclude), codes=(), ingest_exit=OK,
     guarantee="XInclude is never processed: the title is taken as written, without the file")
case(id="dc-attribute-20mib", group=GROUP,
     attack="metadata/dc.xml holding a 20 MiB attribute value",
     build=_tag_xml("metadata/dc.xml", _attribute(20 << 20)), codes=("META-W005",),
     ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="supplied XML over 16 MiB is not parsed at all; it is kept as received")
case(id="dc-attribute-12mb", group=GROUP,
     attack="metadata/dc.xml with a 12 MB attribute (under the 16 MiB file limit)",
     build=_tag_xml("metadata/dc.xml", _attribute(12_000_000)), codes=("META-W005",),
     ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="the parser's own limits (no huge_tree) refuse the value; memory stays bounded")
case(id="dc-nested-200000", group=GROUP, attack="metadata/dc.xml with 200,000 nested elements",
     build=_tag_xml("metadata/dc.xml", _nested(200_000)), codes=("META-W005",),
     ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="the parser stops at its depth limit: no recursion, no crash")
case(id="dc-nested-100", group=GROUP,
     attack="metadata/dc.xml nested 100 levels (under the parser's limit, over ours of 64)",
     build=_tag_xml("metadata/dc.xml", _nested(100)), codes=("META-W005",),
     ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="our own depth limit of 64 holds")
case(id="mods-billion-laughs", group=GROUP,
     attack="metadata/mods.xml with the billion-laughs expansion",
     build=_tag_xml("metadata/mods.xml",
                    f'{LAUGHS}<mods {MODS}><titleInfo><title>&lol9;</title></titleInfo></mods>'),
     codes=("META-W005",), ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="MODS is parsed by the same refusing parser: " + _KEPT)
case(id="mods-external-entity", group=GROUP,
     attack="metadata/mods.xml with an external entity naming the sentinel file",
     build=_tag_xml("metadata/mods.xml", lambda ws: (
         f'<!DOCTYPE mods [<!ENTITY xxe SYSTEM "file://{ws.secret_file}">]>'
         f'<mods {MODS}><titleInfo><title>&xxe;</title></titleInfo></mods>')),
     codes=("META-W005",), ingest_exit=WARNINGS, validate_exit=WARNINGS,
     guarantee="the sentinel's text never reaches the METS: " + _KEPT)


# --- XML in the payload: stored as bytes ------------------------------------------------------

def _stored_exactly(name: str, text):
    """Check: the payload file's bytes are held by exactly one content file in storage."""

    def check(ws, repo):
        content = text(ws) if callable(text) else text
        data = content.encode() if isinstance(content, str) else content
        held = [path for path, value in snapshot(repo / "ocfl").items()
                if value[0] == "file" and path.endswith("/" + name) and value[2] == data]
        assert len(held) == 1, f"{name} not stored byte-exact: {held}"

    return check


_PAYLOAD = "stored byte-exact as payload; preserve never parses it, so nothing is expanded, "\
           "fetched or read"

for _id, _text, _what in (
    ("payload-xml-billion-laughs", _dc("&lol9;", LAUGHS), "the billion-laughs expansion"),
    ("payload-xml-external-entity", lambda ws: _dc("&file;&url;", (
        f'<!DOCTYPE metadata [<!ENTITY file SYSTEM "file://{ws.secret_file}">'
        f'<!ENTITY url SYSTEM "{ws.url}">]>')),
     "external entities naming the sentinel file and a URL"),
    ("payload-xml-nested-200000", _nested(200_000), "200,000 nested elements"),
    ("payload-xml-attribute-20mib", _attribute(20 << 20), "a 20 MiB attribute"),
):
    case(id=_id, group=GROUP, attack=f"a payload XML file with {_what}",
         build=_payload_xml(_text), codes=(), ingest_exit=OK,
         check=_stored_exactly("record.xml", _text), guarantee=_PAYLOAD)


# --- a sender's METS (packages from other archives, issue 5): parsed by validate and ingest ----

METS_NS = 'xmlns="http://www.loc.gov/METS/"'


def _mets(body: str, doctype: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n'
            f'<mets {METS_NS} OBJID="{body}"><structMap><div/></structMap></mets>\n')


_SENDER = ("the sender's history is not imported (warning); the METS is kept as received and "
           "nothing in it is expanded, fetched or read")

for _id, _text, _what in (
    ("sender-mets-billion-laughs", _mets("&lol9;", LAUGHS), "the billion-laughs expansion"),
    ("sender-mets-external-entity-file", lambda ws: _mets("&xxe;", (
        f'<!DOCTYPE mets [<!ENTITY xxe SYSTEM "file://{ws.secret_file}">]>')),
     "an external entity naming the sentinel file"),
    ("sender-mets-external-entity-url", lambda ws: _mets("&xxe;", (
        f'<!DOCTYPE mets [<!ENTITY xxe SYSTEM "{ws.url}">]>')),
     "an external entity naming an http URL (the local listener)"),
    ("sender-mets-nested-200000", f"<mets {METS_NS}>" + "<div>" * 200_000 + "</div>" * 200_000
     + "</mets>", "200,000 nested elements"),
    ("sender-mets-attribute-20mib", f'<mets {METS_NS} OBJID="' + "A" * (20 << 20) + '"/>',
     "a 20 MiB attribute"),
):
    case(id=_id, group=GROUP, attack=f"a bag carrying a sender's `metadata/mets.xml` with {_what}",
         build=_tag_xml("metadata/mets.xml", _text), codes=("IMP-W001",),
         ingest_exit=WARNINGS, guarantee=_SENDER)


def _eark(mets):
    """A minimal E-ARK package folder (METS.xml + representations/rep1/data/) with `mets`."""

    def build(ws):
        root = ws.deposits / "eark"
        data = root / "representations" / "rep1" / "data"
        data.mkdir(parents=True)
        (data / "page.txt").write_bytes(PAGE["page.txt"])
        content = mets(ws) if callable(mets) else mets
        (root / "METS.xml").write_text(content, encoding="utf-8")
        return root

    return build


case(id="eark-mets-billion-laughs", group=GROUP,
     attack="an E-ARK package whose root METS.xml holds the billion-laughs expansion",
     build=_eark(_mets("&lol9;", LAUGHS)), codes=("IMP-W001",), ingest_exit=WARNINGS,
     guarantee=_SENDER)
case(id="eark-mets-external-entity", group=GROUP,
     attack="an E-ARK package whose root METS.xml names the sentinel file as an external entity",
     build=_eark(lambda ws: _mets("&xxe;", (
         f'<!DOCTYPE mets [<!ENTITY xxe SYSTEM "file://{ws.secret_file}">]>'))),
     codes=("IMP-W001",), ingest_exit=WARNINGS, guarantee=_SENDER)


def _eark_symlink(ws):
    root = _eark(_mets("x"))(ws)
    (root / "representations" / "rep1" / "data" / "escape").symlink_to(ws.secret_file)
    return root


case(id="eark-symlink-payload", group=GROUP,
     attack="an E-ARK package whose representation data holds a symlink to the sentinel file",
     build=_eark_symlink, codes=("PAY-E001",), ingest_exit=REJECTED,
     guarantee="E-ARK packages get the same lstat-only listing as bags: never followed")
