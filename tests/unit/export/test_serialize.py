"""Deterministic zip and tar serialization of a bag (preserve.export.serialize), checked by
the standard library's readers and by the read-back check, for arbitrary Unicode names."""

from __future__ import annotations

import hashlib
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preserve.errors import FixityError, StorageError
from preserve.export import payload, serialize
from preserve.export.bag import Entry
from preserve.export.serialize import write_directory, write_tar, write_zip
from preserve.export.verify import verify_archive
from preserve.storage.local import LocalLocation
from preserve.storage.location import StoredContent

# Names as archives of other repositories have them: any printable Unicode but `/` and NUL,
# Cyrillic, Arabic script, combining marks, spaces, `%`, `#`.
SEGMENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
                           blacklist_characters="/\\"),
    min_size=1, max_size=12).filter(lambda s: s not in (".", "..") and s.strip() == s and s)
PATHS = st.lists(st.lists(SEGMENT, min_size=1, max_size=3).map("/".join),
                 min_size=1, max_size=6, unique_by=lambda p: p.casefold())


def entries_for(root: Path, files: dict[str, bytes]) -> list[Entry]:
    entries = []
    for number, (path, data) in enumerate(sorted(files.items())):
        content = root / f"content-{number}"
        content.write_bytes(data)
        entries.append(Entry(f"data/{path}", len(data), {
            "sha256": hashlib.sha256(data).hexdigest(),
            "sha512": hashlib.sha512(data).hexdigest()},
            content=StoredContent(LocalLocation("test", root), content.name)))
    tag = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    return [Entry("bagit.txt", len(tag), {"sha256": hashlib.sha256(tag).hexdigest(),
                                          "sha512": hashlib.sha512(tag).hexdigest()},
                  data=tag)] + entries


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=PATHS, payload=st.binary(max_size=300))
def test_any_names_round_trip_through_zip_and_tar(tmp_path_factory, paths, payload):
    # A path that is also a folder of another cannot exist in a bag.
    if any(other.startswith(path + "/") for path in paths for other in paths):
        return
    root = tmp_path_factory.mktemp("ser")
    files = {path: payload + path.encode() for path in paths}
    entries = entries_for(root, files)
    for writer, kind in ((write_zip, "zip"), (write_tar, "tar")):
        first, second = root / f"a.{kind}", root / f"b.{kind}"
        digest = writer(entries, first, "bag")
        assert writer(entries, second, "bag", workers=2) == digest
        assert first.read_bytes() == second.read_bytes()
        assert hashlib.sha256(first.read_bytes()).hexdigest() == digest
        assert verify_archive(first, kind, entries, "bag") == []
        if kind == "zip":
            with zipfile.ZipFile(first) as zf:
                got = {i.filename: zf.read(i) for i in zf.infolist()}
        else:
            with tarfile.open(first) as tf:
                got = {m.name: tf.extractfile(m).read() for m in tf.getmembers()}
        assert got == {f"bag/data/{p}": d for p, d in files.items()} | {
            "bag/bagit.txt": entries[0].data}


def test_a_write_the_file_does_not_hold_is_caught_as_it_is_written(tmp_path, monkeypatch):
    # Each write is read back from the file and compared: bytes that land otherwise (here a
    # read-back that returns other bytes, as a failing disk or a bug would) stop the export.
    entries = entries_for(tmp_path, {"ҳужжат.txt": b"one" * 1000, "وثيقة.txt": b"two"})
    real = serialize.os.preadv

    def damaged(fd, buffers, offset):
        n = real(fd, buffers, offset)
        buffers[0][0] ^= 1
        return n

    monkeypatch.setattr(serialize.os, "preadv", damaged)
    for writer, kind in ((write_zip, "zip"), (write_tar, "tar")):
        with pytest.raises(StorageError, match="read back"):
            writer(entries, tmp_path / f"x.{kind}", "bag")


def test_a_written_directory_file_that_reads_back_otherwise_is_a_problem(tmp_path,
                                                                         monkeypatch):
    entries = entries_for(tmp_path, {"a.txt": b"original"})
    real = payload.os.preadv

    def damaged(fd, buffers, offset):
        n = real(fd, buffers, offset)
        buffers[0][0] ^= 1
        return n

    monkeypatch.setattr(payload.os, "preadv", damaged)
    copied = write_directory(entries, tmp_path / "bag", workers=2)
    assert [c.problem for c in copied if c.problem] and "read back" in copied[0].problem


def test_read_back_finds_a_missing_extra_or_resized_member(tmp_path):
    entries = entries_for(tmp_path, {"ҳужжат.txt": b"one", "وثيقة.txt": b"two"})
    for writer, kind in ((write_zip, "zip"), (write_tar, "tar")):
        target = tmp_path / f"x.{kind}"
        writer(entries, target, "bag")
        assert verify_archive(target, kind, entries, "bag") == []
        more = entries + [Entry("data/ещё.txt", 1, {}, data=b"x")]
        assert verify_archive(target, kind, more, "bag") == ["bag/data/ещё.txt: missing from "
                                                             f"the {kind}"]
        fewer = [e for e in entries if e.path != "bagit.txt"]
        assert verify_archive(target, kind, fewer, "bag") == ["bag/bagit.txt: unexpected member"]
        resized = [Entry(e.path, e.size + 1, e.digests, e.data, e.content) for e in entries]
        assert len(verify_archive(target, kind, resized, "bag")) == len(entries)
        data = target.read_bytes()
        target.write_bytes(data[:min(1024, len(data) // 2)])  # cut after the first member
        assert any("cannot be read back" in p or "missing" in p
                   for p in verify_archive(target, kind, entries, "bag"))
        target.unlink()


def test_stored_bytes_that_changed_are_never_written_out(tmp_path):
    entries = entries_for(tmp_path, {"a.txt": b"original"})
    (tmp_path / entries[1].content.path).write_bytes(b"damaged!")  # same size, other bytes
    with pytest.raises(FixityError):
        write_zip(entries, tmp_path / "x.zip", "bag")
    with pytest.raises(FixityError):
        write_tar(entries, tmp_path / "x.tar", "bag")
    with pytest.raises(FixityError):
        write_directory(entries, tmp_path / "bag")
