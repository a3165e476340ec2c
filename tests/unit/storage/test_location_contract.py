"""One contract for every storage backend (preserve/storage/location.py): each test runs
against `LocalLocation` (a directory) and `S3Location` (the real Swift server of
tests/conftest.py, a fresh bucket per test). dvc's `remote_tests.py` idea: a backend is done
when it passes the same tests as the others."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
import unicodedata

import pytest

from preserve.storage.local import LocalLocation
from preserve.storage.location import LocationError, StoredEntry, StoredFileMissing

MIB = 1 << 20
#: the smallest part S3 (and Swift's s3api) accepts, so the multipart path runs on small files
SMALL_THRESHOLD = 5 * MIB


@pytest.fixture(params=["local", "s3"])
def location(request, tmp_path):
    if request.param == "local":
        (tmp_path / "root").mkdir()
        return LocalLocation("disk", tmp_path / "root")
    return request.getfixturevalue("s3_location")("s3", multipart_threshold=SMALL_THRESHOLD)


def put(location, path: str, data: bytes) -> None:
    location.write(path, io.BytesIO(data), len(data))


def read(location, path: str) -> bytes:
    with location.open_read(path) as stream:
        return stream.read()


class Failing(io.RawIOBase):
    """Gives `good` bytes, then raises (a deposit disk failing mid-way)."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left <= 0:
            raise OSError(5, "Input/output error")
        n = min(len(buffer), self.left)
        buffer[:n] = b"z" * n
        self.left -= n
        return n


def test_write_read_size_overwrite(location):
    put(location, "obj/v1/content/a.txt", b"first")
    assert read(location, "obj/v1/content/a.txt") == b"first"
    assert location.size("obj/v1/content/a.txt") == 5
    assert location.exists("obj/v1/content/a.txt")
    put(location, "obj/v1/content/a.txt", b"second, longer")
    assert read(location, "obj/v1/content/a.txt") == b"second, longer"
    assert location.size("obj/v1/content/a.txt") == 14
    put(location, "empty", b"")
    assert location.size("empty") == 0 and read(location, "empty") == b""
    assert location.read_bytes("obj/v1/content/a.txt", 100) == b"second, longer"
    with pytest.raises(LocationError):
        location.read_bytes("obj/v1/content/a.txt", 4)


def test_missing_file(location):
    assert location.size("no/such/file") is None
    assert not location.exists("no/such/file")
    with pytest.raises(StoredFileMissing) as raised:
        location.open_read("no/such/file")
    assert location.name in str(raised.value) and "no/such/file" in str(raised.value)


def test_iter_entries_and_prefixes(location):
    files = {"0=ocfl_1.1": b"ocfl_1.1\n", "ab/o1/inventory.json": b"{}",
             "ab/o1/v1/content/x": b"xx", "ab/o2/v1/content/y": b"yyy", "abc/z": b"z"}
    for path, data in files.items():
        put(location, path, data)
    location.probe()  # its probe file is never an entry
    assert set(location.iter_entries()) == {StoredEntry(p, len(d)) for p, d in files.items()}
    assert sorted(e.path for e in location.iter_entries("ab/")) == [
        "ab/o1/inventory.json", "ab/o1/v1/content/x", "ab/o2/v1/content/y"]
    assert list(location.iter_entries("nothing/here/")) == []
    with pytest.raises(ValueError):
        list(location.iter_entries("ab"))


def test_remove_and_remove_prefix(location):
    for path in ("o/1", "o/d/2", "o/d/3", "p/4"):
        put(location, path, b"x")
    location.remove("o/1")
    location.remove("o/1")  # missing: not an error
    assert location.size("o/1") is None
    assert location.remove_prefix("o/") == 2
    assert [e.path for e in location.iter_entries()] == ["p/4"]
    with pytest.raises(ValueError):
        location.remove_prefix("p")


@pytest.mark.parametrize("path", ["", "/abs", "a/../b", "a//b", "./a", "a/"])
def test_paths_outside_the_root_are_refused(location, path):
    with pytest.raises(ValueError):
        location.size(path)
    with pytest.raises(ValueError):
        put(location, path, b"x")


def test_probe(location):
    location.probe()
    assert list(location.iter_entries()) == []


@pytest.mark.parametrize("size", [300_000, 12 * MIB], ids=["single", "multipart"])
def test_a_source_failing_midway_leaves_no_file(location, size):
    put(location, "keep/old", b"old bytes")
    # the source's OSError as it is, or as the location's error: either way nothing is stored
    with pytest.raises((OSError, LocationError)):
        location.write("keep/old", io.BufferedReader(Failing(size // 2)), size)
    with pytest.raises((OSError, LocationError)):
        location.write("new/file", io.BufferedReader(Failing(size // 2)), size)
    assert read(location, "keep/old") == b"old bytes"
    assert location.size("new/file") is None
    assert [e.path for e in location.iter_entries()] == ["keep/old"]


@pytest.mark.parametrize("size", [1000, 11 * MIB], ids=["single", "multipart"])
@pytest.mark.parametrize("given", [-1, +1], ids=["short", "long"])
def test_a_source_of_the_wrong_size_fails_and_leaves_nothing(location, size, given):
    data = b"w" * (size + given)
    with pytest.raises(LocationError) as raised:
        location.write("wrong/size", io.BytesIO(data), size)
    assert "expected" in str(raised.value) and location.name in str(raised.value)
    assert location.size("wrong/size") is None
    assert list(location.iter_entries()) == []


NAMES = [
    "data/Ўзбекистон тарихи/қўлёзма №1.txt",      # Uzbek Cyrillic
    "data/نسخه‌های خطی/دیوان حافظ.txt",             # Persian, with a zero-width non-joiner
    "data/مخطوطات عربية.txt",                       # Arabic
    unicodedata.normalize("NFC", "data/café résumé.txt"),
    unicodedata.normalize("NFD", "data/café résumé.txt"),
    "data/100% sure & (really) + more=yes?.txt",
    "data/  leading and trailing spaces  .txt",
    "data/percent %41 %2F %0A.txt",
]


def test_names_are_byte_exact(location):
    for number, name in enumerate(NAMES):
        put(location, name, f"file {number}".encode())
    listed = {entry.path for entry in location.iter_entries()}
    assert listed == set(NAMES)  # NFC and NFD stay two files, nothing normalised or escaped
    for number, name in enumerate(NAMES):
        assert read(location, name) == f"file {number}".encode()
        assert location.size(name) == len(f"file {number}")


def test_large_file_round_trip_and_streaming_read(location):
    block = hashlib.sha512(b"seed").digest() * 2048  # 128 KiB, not compressible to nothing
    data = block * 160  # 20 MiB: four parts of 5 MiB on S3
    put(location, "big/file.bin", data)
    assert location.size("big/file.bin") == len(data)
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        with location.open_read("big/file.bin") as stream:
            while chunk := stream.read(256 * 1024):
                digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert peak < 6 * MIB, f"reading held {peak} bytes at once: not streamed"
