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

from preserve.errors import FixityError
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
        assert writer(entries, second, "bag") == digest
        assert first.read_bytes() == second.read_bytes()
        assert verify_archive(first, kind, entries, "bag", digest) == []
        if kind == "zip":
            with zipfile.ZipFile(first) as zf:
                got = {i.filename: zf.read(i) for i in zf.infolist()}
        else:
            with tarfile.open(first) as tf:
                got = {m.name: tf.extractfile(m).read() for m in tf.getmembers()}
        assert got == {f"bag/data/{p}": d for p, d in files.items()} | {
            "bag/bagit.txt": entries[0].data}


def test_read_back_finds_a_changed_member(tmp_path):
    entries = entries_for(tmp_path, {"ҳужжат.txt": b"one", "وثيقة.txt": b"two"})
    for writer, kind in ((write_zip, "zip"), (write_tar, "tar")):
        target = tmp_path / f"x.{kind}"
        digest = writer(entries, target, "bag")
        data = bytearray(target.read_bytes())
        at = data.find(b"two")
        data[at:at + 3] = b"TWO"
        target.write_bytes(bytes(data))
        problems = verify_archive(target, kind, entries, "bag", digest)
        # zip: its CRC-32 no longer holds; tar: the member's digests differ. Either way the
        # file's sha256 is not the one computed while writing it.
        assert any("CRC" in p if kind == "zip" else "do not match the manifests" in p
                   for p in problems), problems
        assert any("sha256 computed" in p for p in problems)


def test_stored_bytes_that_changed_are_never_written_out(tmp_path):
    entries = entries_for(tmp_path, {"a.txt": b"original"})
    (tmp_path / entries[1].content.path).write_bytes(b"damaged!")  # same size, other bytes
    with pytest.raises(FixityError):
        write_zip(entries, tmp_path / "x.zip", "bag")
    with pytest.raises(FixityError):
        write_tar(entries, tmp_path / "x.tar", "bag")
    with pytest.raises(FixityError):
        write_directory(entries, tmp_path / "bag")
