from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preserve.checksums import (
    Digests,
    HashJob,
    MultiHasher,
    copy_and_hash,
    hash_file,
    hash_many,
    hash_stream,
    is_hex_digest,
    supported_algorithms,
)
from preserve.errors import StorageError


@settings(max_examples=30, deadline=None)
@given(content=st.binary(max_size=3 * 1024 * 1024 // 64))
def test_copy_and_hash_matches_hashlib(tmp_path_factory, content):
    tmp = tmp_path_factory.mktemp("c")
    (tmp / "src").write_bytes(content)
    size, digests = copy_and_hash(tmp / "src", tmp / "dst", ["sha256", "sha512", "md5"])
    assert size == len(content)
    assert (tmp / "dst").read_bytes() == content
    for name in ("sha256", "sha512", "md5"):
        assert digests[name] == hashlib.new(name, content).hexdigest()


class _ReadOnly:
    """A stream with read() only, as an S3 body or a decompressor may be."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, (1 << 20) + 7, 3 << 20])
def test_hash_stream_reads_any_stream_to_its_end(tmp_path, size):
    content = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    (tmp_path / "f").write_bytes(content)
    expected = {name: hashlib.new(name, content).hexdigest() for name in ("sha256", "sha512")}
    seen: list[int] = []
    with (tmp_path / "f").open("rb") as local:  # readinto: the thread's reused buffer
        assert hash_stream(local, ["sha512", "sha256"], seen.append) == (size, expected)
    assert sum(seen) == size
    assert hash_stream(_ReadOnly(content), ["sha256", "sha512"]) == (size, expected)


def test_copy_never_overwrites(tmp_path):
    (tmp_path / "src").write_bytes(b"new")
    (tmp_path / "dst").write_bytes(b"precious")
    with pytest.raises(StorageError):
        copy_and_hash(tmp_path / "src", tmp_path / "dst", ["sha256"])
    assert (tmp_path / "dst").read_bytes() == b"precious"


def test_unreadable_source_is_a_result_not_a_crash(tmp_path):
    import os
    os.mkfifo(tmp_path / "fifo")  # must never block
    (tmp_path / "real").write_bytes(b"x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    jobs = [HashJob("fifo", tmp_path / "fifo"), HashJob("link", tmp_path / "link"),
            HashJob("gone", tmp_path / "gone"), HashJob("real", tmp_path / "real", tmp_path / "copy")]
    results = hash_many(jobs, ["sha256"], workers=2)
    assert [r.error is not None for r in results] == [True, True, True, False]
    assert not (tmp_path / "copy-of-fifo").exists()


def test_hash_many_in_parallel_keeps_order_and_reports_changes(tmp_path):
    jobs = []
    for i in range(20):
        path = tmp_path / f"f{i}"
        path.write_bytes(bytes([i]) * (i * 70_000))
        jobs.append(HashJob(key=str(i), source=path, expected_size=i * 70_000 + (i == 5)))
    seen = []
    results = hash_many(jobs, ["sha256"], workers=4, progress=seen.append)
    assert [r.key for r in results] == [str(i) for i in range(20)]
    assert [r.changed for r in results] == [i == 5 for i in range(20)]
    assert sum(seen) == sum(i * 70_000 for i in range(20))
    assert results[3].digests["sha256"] == hashlib.sha256(bytes([3]) * 210_000).hexdigest()
    assert hash_file(jobs[3].source, ["sha256"]) == (210_000, results[3].digests)


def test_algorithms():
    algorithms = supported_algorithms()
    assert {"md5", "sha1", "sha256", "sha512", "sha3_256", "blake2b"} <= algorithms
    assert "shake_128" not in algorithms
    assert is_hex_digest("a" * 64, "sha256")
    assert not is_hex_digest("a" * 63, "sha256")
    assert not is_hex_digest("g" * 64, "sha256")
    assert not is_hex_digest("a" * 64, "nonsense")


def test_hash_many_raises_a_storage_failure_from_its_threads(tmp_path):
    sources, targets = tmp_path / "in", tmp_path / "out"
    sources.mkdir()
    targets.mkdir()
    jobs = []
    for i in range(200):
        (sources / f"f{i:03d}").write_bytes(b"x" * (i + 1))
        jobs.append(HashJob(f"f{i:03d}", sources / f"f{i:03d}", targets / f"f{i:03d}"))
    (targets / "f010").write_bytes(b"already here")  # O_EXCL: the copy must refuse it
    with pytest.raises(StorageError, match="f010"):
        hash_many(jobs, ["sha256"], workers=3, fsync=False)
    assert (targets / "f010").read_bytes() == b"already here"


def test_copy_hands_written_ranges_to_the_disk_early_and_still_copies_exactly(
        tmp_path, monkeypatch):
    import preserve.checksums as checksums

    monkeypatch.setattr(checksums, "WRITEBACK_STEP", 1 << 20)
    monkeypatch.setattr(checksums, "WRITEBACK_MIN", 1 << 19)
    data = bytes(range(256)) * (3 * 4096 + 77)  # about 3 MiB: three steps and a tail
    (tmp_path / "in").write_bytes(data)
    size, digests = copy_and_hash(tmp_path / "in", tmp_path / "out", ["sha256"], fsync=False)
    assert size == len(data)
    assert digests["sha256"] == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "out").read_bytes() == data


def test_the_payload_fingerprint_is_order_free_and_name_exact():
    import hashlib

    from preserve.checksums import payload_fingerprint
    pairs = [("b/ж.txt", "1" * 128), ("a.tif", "2" * 128)]
    expected = hashlib.sha256(f"{'2' * 128} a.tif\n{'1' * 128} b/ж.txt\n".encode()).hexdigest()
    assert payload_fingerprint(pairs) == payload_fingerprint(reversed(pairs)) == expected
    assert payload_fingerprint([("a.tif", "2" * 128)]) != expected
    nfd = "b/ж.txt".replace("ж", "ж")  # same code point: same name
    assert payload_fingerprint([(nfd, "1" * 128), ("a.tif", "2" * 128)]) == expected
    assert payload_fingerprint([("B/ж.txt", "1" * 128), ("a.tif", "2" * 128)]) != expected


def test_digests_is_the_hex_mapping_it_holds() -> None:
    hexdigests = MultiHasher(("sha256", "sha512", "md5")).hexdigests()
    digests = Digests(hexdigests)
    assert digests == hexdigests and hexdigests == digests and dict(digests) == hexdigests
    assert list(digests) == list(hexdigests) and len(digests) == 3
    assert digests["sha512"] == hexdigests["sha512"] and digests.get("sha1") is None
    assert repr(digests) == repr(hexdigests)
    with pytest.raises(KeyError):
        digests["sha1"]


def test_hash_many_gives_compact_digests(tmp_path: Path) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(b"abc")
    [result] = hash_many([HashJob("a.bin", source)], ("sha256", "sha512"), workers=1)
    assert isinstance(result.digests, Digests)
    assert result.digests == {"sha256": hashlib.sha256(b"abc").hexdigest(),
                              "sha512": hashlib.sha512(b"abc").hexdigest()}
