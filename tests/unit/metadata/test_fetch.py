"""fetch_schemas: download from a local mirror, check pins, write a catalog that validates."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from preserve.errors import ConfigurationError
from preserve.metadata import SchemaSet
from preserve.metadata.fetch import (
    SOURCES_PATH,
    catalog_xml,
    default_cache_dir,
    fetch_schemas,
    load_sources,
)
from preserve.metadata.namespaces import DC, METS, MODS, PREMIS
from preserve.metadata.schemas import Catalog

from .test_mets import build


@contextmanager
def mirror(directory: Path, tamper: str | None = None) -> Iterator[str]:
    """Serve `directory` at the official URL paths; `tamper` names a file served altered."""
    by_path = {urlsplit(s.url).path: s.file for s in load_sources()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            name = by_path.get(urlsplit(self.path).path)
            if name is None:
                self.send_error(404)
                return
            body = (directory / name).read_bytes()
            if name == tamper:
                body = body.replace(b"schema", b"schemA", 1)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_sources_agree_with_the_pins_and_the_shared_folder(schema_dir: Path):
    sources = load_sources()
    pins = dict(reversed(line.split()) for line in
                (SOURCES_PATH.parent / "official-xsds.sha256").read_text().splitlines() if line)
    assert {s.file: s.sha256 for s in sources if s.file in pins} == pins
    shared = Catalog.load(schema_dir / "catalog.xml")
    for source in sources:
        assert shared.lookup(source.url) == schema_dir / source.file


def test_fetch_then_validate_offline(schema_dir: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    with mirror(schema_dir) as base:
        report = fetch_schemas(cache, base_url=base)
    assert report.cache_dir == cache and report.catalog == cache / "catalog.xml"
    assert sorted(f.file for f in report.files) == sorted(s.file for s in load_sources())
    assert all(f.url.startswith(base) for f in report.files)
    assert not list(cache.glob(".fetch-*"))

    schemas = SchemaSet.from_directory(cache)
    assert set(schemas.loaded) == {METS, DC, PREMIS, MODS}
    document = build()
    assert schemas.validate_mets(document) == []
    assert schemas.validate_mets_independently(document) == []
    assert schemas.validate_mets(document.replace(b"<mets:fileSec", b"<mets:fileSex", 1)) != []


def test_every_import_resolves_from_the_generated_catalog(tmp_path: Path):
    catalog_path = tmp_path / "catalog.xml"
    catalog_path.write_text(catalog_xml(load_sources()))
    catalog = Catalog.load(catalog_path)
    for url in ("http://www.loc.gov/standards/xlink/xlink.xsd", "http://www.loc.gov/mods/xml.xsd",
                "http://www.w3.org/2001/03/xml.xsd",
                "https://www.loc.gov/standards/mets/version1121/mets.xsd"):
        assert catalog.lookup(url) is not None, url


def test_a_tampered_file_is_refused_and_nothing_is_left(schema_dir: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    cache.mkdir()
    with mirror(schema_dir, tamper="premis-v3-0.xsd") as base:
        with pytest.raises(ConfigurationError) as raised:
            fetch_schemas(cache, base_url=base)
    message = str(raised.value)
    premis = next(s for s in load_sources() if s.file == "premis-v3-0.xsd")
    assert "premis-v3-0.xsd" in message and premis.sha256 in message
    assert list(cache.iterdir()) == []  # not even the files that matched


def test_unreachable_mirror_is_a_configuration_error(tmp_path: Path):
    with mirror(tmp_path) as base:  # serves nothing: every path is a 404
        with pytest.raises(ConfigurationError, match="cannot download"):
            fetch_schemas(tmp_path / "cache", base_url=base)
    assert list((tmp_path / "cache").iterdir()) == []


def test_default_cache_dir_follows_xdg(tmp_path: Path):
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "preserve" / "schemas"
    assert default_cache_dir({"XDG_CACHE_HOME": "relative", "HOME": str(tmp_path)}) == (
        tmp_path / ".cache" / "preserve" / "schemas")
