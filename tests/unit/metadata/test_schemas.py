"""SchemaSet: offline METS validation through an OASIS XML catalog; readable errors."""

from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path

import pytest

from preserve.errors import ConfigurationError, ExitCode
from preserve.metadata import SchemaSet, build_mets, find_schemas
from preserve.metadata.namespaces import CSIP, DC, METS, MODS, PREMIS
from preserve.metadata.schemas import Catalog

from .conftest import CREATED, mets_file

CATALOG_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"


def small_mets() -> bytes:
    return build_mets(package_id="p", version=1, created=CREATED,
                      files=[mets_file("data/Рукописи/a.txt"), mets_file("data/b.txt")],
                      bag_info=[("Title", "Қолжазбалар")], software="preserve test")


def write_catalog(path: Path, entries: str) -> None:
    path.write_text(f'<?xml version="1.0"?>\n<catalog xmlns="{CATALOG_NS}">{entries}</catalog>\n',
                    encoding="utf-8")


def test_official_directory_loads_mets_dc_and_premis(schemas: SchemaSet):
    assert set(schemas.loaded) == {METS, DC, PREMIS, MODS, CSIP}
    assert schemas.validate_mets(small_mets()) == []


@pytest.mark.parametrize("breakage, expected", [
    (lambda d: d.replace(b' ID="file-', b' XID="file-', 1), "ID"),
    (lambda d: d.replace(b"<mets:fileSec>", b"<mets:fileSection/><mets:fileSec>"),
     "fileSection"),
    (lambda d: d.replace(b'CHECKSUMTYPE="SHA-512"', b'CHECKSUMTYPE="SHA-3"', 1), "CHECKSUMTYPE"),
    (lambda d: d.replace(b'SIZE="', b'SIZE="many', 1), "SIZE"),
    (lambda d: d.replace(b"</dc:title>", b"<dc:date>nested</dc:date></dc:title>"), "date"),
    (lambda d: d.replace(b"</mets:mets>", b""), "line"),
])
def test_broken_documents_give_readable_line_errors(schemas: SchemaSet, breakage, expected):
    errors = schemas.validate_mets(breakage(small_mets()))
    assert errors
    assert all(e.startswith("line ") for e in errors)
    assert any(expected in e for e in errors), errors


def test_the_second_validator_also_rejects_broken_documents(schemas: SchemaSet):
    broken = small_mets().replace(b' ID="file-', b' XID="file-', 1)
    assert schemas.validate_mets_independently(broken)


def test_a_document_that_is_not_mets_is_rejected(schemas: SchemaSet):
    errors = schemas.validate_mets(f'<dc:title xmlns:dc="{DC}">x</dc:title>'.encode())
    assert errors and "not {http://www.loc.gov/METS/}mets" in errors[0]


def test_entities_are_not_expanded(schemas: SchemaSet, tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    document = small_mets().replace(
        b"<mets:mets ", f'<!DOCTYPE m [<!ENTITY s SYSTEM "{secret.as_uri()}">]>\n<mets:mets '
        .encode(), 1).replace(b"<mets:name>preserve test", b"<mets:name>&s;")
    errors = schemas.validate_mets(document)
    assert errors == ["line 1: a DOCTYPE is not allowed in a METS document"]
    assert not any("SECRET" in e for e in schemas.validate_mets_independently(document))


def test_empty_directory_is_a_configuration_error(tmp_path: Path):
    with pytest.raises(ConfigurationError) as caught:
        SchemaSet.from_directory(tmp_path)
    message = str(caught.value)
    assert str(tmp_path.resolve()) in message
    assert "catalog.xml" in message and "PRESERVE_SCHEMAS" in message
    assert caught.value.exit_code == ExitCode.CONFIGURATION


def test_missing_directory_is_a_configuration_error(tmp_path: Path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        SchemaSet.from_directory(tmp_path / "nowhere")


def test_without_a_catalog_imports_are_not_fetched(schema_dir: Path, tmp_path: Path):
    shutil.copy(schema_dir / "mets-1.12.1.xsd", tmp_path)  # METS found by name, xlink not
    with pytest.raises(ConfigurationError, match="do not compile offline"):
        SchemaSet.from_directory(tmp_path)


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).requests.append(self.path)
        self.send_error(404)

    def log_message(self, *args):
        pass


def test_unmapped_remote_imports_never_reach_the_network(schema_dir: Path, tmp_path: Path):
    # libxml2 >= 2.14 is built without HTTP, so there this guards older builds (lxml 5.x).
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/xlink.xsd"
        mets = (schema_dir / "mets-1.12.1.xsd").read_text(encoding="utf-8")
        assert "http://www.loc.gov/standards/xlink/xlink.xsd" in mets
        (tmp_path / "mets.xsd").write_text(
            mets.replace("http://www.loc.gov/standards/xlink/xlink.xsd", url), encoding="utf-8")
        write_catalog(tmp_path / "catalog.xml",
                      '<uri name="http://www.loc.gov/standards/mets/mets.xsd" uri="mets.xsd"/>')
        with pytest.raises(ConfigurationError):
            SchemaSet.from_directory(tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.requests == []


def test_rewrite_entries_group_xml_base_and_next_catalog(schema_dir: Path, tmp_path: Path):
    # Lay the schemas out like their URLs, reachable only through rewriteURI/rewriteSystem
    # in a second catalog inside a group with xml:base.
    loc = tmp_path / "mirror" / "loc"
    (loc / "mets" / "version1121").mkdir(parents=True)
    (loc / "xlink").mkdir()
    shutil.copy(schema_dir / "mets-1.12.1.xsd", loc / "mets" / "version1121" / "mets.xsd")
    shutil.copy(schema_dir / "xlink.xsd", loc / "xlink" / "xlink.xsd")
    write_catalog(tmp_path / "mirror" / "catalog.xml",
                  '<group xml:base="loc/">'
                  '<rewriteURI uriStartString="http://www.loc.gov/standards/mets/"'
                  ' rewritePrefix="mets/"/>'
                  '<rewriteSystem systemIdStartString="http://www.loc.gov/standards/"'
                  ' rewritePrefix="./"/>'
                  '</group>')
    write_catalog(tmp_path / "catalog.xml", '<nextCatalog catalog="mirror/catalog.xml"/>')

    catalog = Catalog.load(tmp_path / "catalog.xml")
    assert catalog.lookup("http://www.loc.gov/standards/xlink/xlink.xsd") == (
        loc / "xlink" / "xlink.xsd").resolve()
    assert catalog.lookup("http://example.org/other.xsd") is None

    schemas = SchemaSet.from_directory(tmp_path)
    assert set(schemas.loaded) == {METS}  # no DC or PREMIS offered: METS alone
    assert schemas.validate_mets(small_mets()) == []


def test_first_exact_entry_wins(tmp_path: Path):
    write_catalog(tmp_path / "catalog.xml",
                  '<system systemId="http://x/a.xsd" uri="first.xsd"/>'
                  '<uri name="http://x/a.xsd" uri="second.xsd"/>')
    assert Catalog.load(tmp_path / "catalog.xml").lookup("http://x/a.xsd") == (
        tmp_path.resolve() / "first.xsd")


def test_broken_catalog_is_a_configuration_error(tmp_path: Path):
    (tmp_path / "catalog.xml").write_text("<catalog")
    with pytest.raises(ConfigurationError, match="cannot read XML catalog"):
        SchemaSet.from_directory(tmp_path)


def test_find_schemas(schema_dir: Path, tmp_path: Path):
    assert find_schemas(None) is None
    assert find_schemas(schema_dir).loaded[METS].name == "mets-1.12.1.xsd"
    with pytest.raises(ConfigurationError):
        find_schemas(tmp_path)
