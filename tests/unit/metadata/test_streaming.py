"""The METS written as a stream (`write_mets`) and validated as a stream
(`SchemaSet.validate_mets_file`): same document, same verdicts, memory that does not grow
with the number of files."""

from __future__ import annotations

import datetime as dt
import hashlib
import tracemalloc

import pytest

from preserve.metadata import MetsFile, SchemaSet, build_mets
from preserve.metadata import schemas as schemas_module
from preserve.metadata.mets import write_mets
from tests.unit.metadata.test_premis import multilingual

CREATED = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def streaming(monkeypatch):
    """Every document takes the streaming path, however small."""
    monkeypatch.setattr(schemas_module, "IN_MEMORY_BYTES", -1)


def many_files(count: int) -> list[MetsFile]:
    files = []
    for n in range(count):
        data = n.to_bytes(4, "big")
        files.append(MetsFile(f"data/папка {n // 100}/варақ {n}.tif", 4,
                              hashlib.sha256(data).hexdigest(), hashlib.sha512(data).hexdigest()))
    return files


def test_streamed_validation_agrees_with_in_memory_validation(schemas: SchemaSet, tmp_path,
                                                              streaming):
    good = tmp_path / "good.xml"
    good.write_bytes(multilingual())
    assert schemas.validate_mets_file(good) == []
    bad = tmp_path / "bad.xml"
    bad.write_bytes(multilingual().replace(b"<mets:metsHdr", b"<mets:bogus/><mets:metsHdr", 1))
    problems = schemas.validate_mets_file(bad)
    assert problems and "bogus" in problems[0]
    assert schemas.validate_mets(bad.read_bytes())  # the in-memory path says so too


def test_streamed_validation_checks_embedded_roots(schemas: SchemaSet, tmp_path, streaming):
    # Not an element of Dublin Core: lax validation would let it pass, the embedded-root
    # rule does not, in memory or streaming.
    document = multilingual().replace(b"<dc:identifier>", b"<dc:bogus>x</dc:bogus><dc:identifier>", 1)
    path = tmp_path / "embedded.xml"
    path.write_bytes(document)
    streamed = schemas.validate_mets_file(path)
    assert any("cannot be embedded metadata" in p for p in streamed), streamed
    assert any("cannot be embedded metadata" in p for p in schemas.validate_mets(document))


def test_a_streamed_document_is_the_document(schemas: SchemaSet, tmp_path, streaming):
    files = many_files(3000)
    built = build_mets(package_id="p", version=1, created=CREATED, files=files, bag_info=(),
                       software="preserve test")
    path = tmp_path / "mets.xml"
    with open(path, "wb") as out:
        write_mets(out, package_id="p", version=1, created=CREATED, files=files, bag_info=(),
                   software="preserve test")
    assert path.read_bytes() == built
    assert schemas.validate_mets_file(path) == []


def test_memory_per_file_is_small():
    """Writing the METS holds a few hundred bytes per file (ids, the folder tree), not the
    document (about 3 KB per file, which building it whole in memory kept twice over)."""
    def peak(count: int) -> int:
        files = many_files(count)
        tracemalloc.start()
        write_mets(_Discard(), package_id="p", version=1, created=CREATED, files=files,
                   bag_info=(), software="preserve test")
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top
    small, large = peak(500), peak(5000)
    per_file = (large - small) / 4500
    assert per_file < 2048, per_file


class _Discard:
    """A sink that keeps nothing."""

    def write(self, data: bytes) -> int:
        return len(data)
