"""The full validation an object passes before `preserve check` adopts it (verify.py).

Objects are written with our own storage adapter, so the OCFL side is consistent and each
case breaks exactly one rule of the bag or the object on top of it."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from preserve.check import ObjectInvalid, payload_fingerprint, verify_object
from preserve.metadata import MetsFile, build_mets
from preserve.metadata.premis import FileFormat
from preserve.storage import StorageRoot, object_path_for
from preserve.storage.local import LocalLocation

CREATED = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
PAYLOAD = {"data/varaq 1.txt": b"Qo'lyozma\n", "data/Рукопись/лист.txt": "лист\n".encode()}


def _manifest(entries: dict[str, bytes], algorithm: str) -> bytes:
    return "".join(f"{hashlib.new(algorithm, data).hexdigest()}  {path}\n"
                   for path, data in sorted(entries.items())).encode()


def bag_files(payload: dict[str, bytes], **override: bytes | None) -> dict[str, bytes]:
    """The logical state of a version as ingest writes it; `override` replaces (None: drops)."""
    files = dict(payload)
    files["bagit.txt"] = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    oxum = f"{sum(map(len, payload.values()))}.{len(payload)}"
    files["bag-info.txt"] = f"Title: Devon\nExternal-Identifier: ms-1\nPayload-Oxum: {oxum}\n".encode()
    files["metadata/mets.xml"] = build_mets(
        package_id="obj-1", version=1, created=CREATED, bag_info=[("Title", "Devon")],
        software="preserve test", label="Devon",
        files=[MetsFile(path, len(data), hashlib.sha256(data).hexdigest(),
                        hashlib.sha512(data).hexdigest(),
                        format=FileFormat("x-fmt/111", "Plain Text File"))
               for path, data in sorted(payload.items())])
    for algorithm in ("sha256", "sha512"):
        files[f"manifest-{algorithm}.txt"] = _manifest(payload, algorithm)
    for name, data in override.items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    tags = {p: d for p, d in files.items() if not p.startswith("data/")}
    for algorithm in ("sha256", "sha512"):
        files[f"tagmanifest-{algorithm}.txt"] = _manifest(tags, algorithm)
    return files


def store(tmp_path: Path, files: dict[str, bytes], object_id: str = "obj-1") -> StorageRoot:
    root = StorageRoot.create(tmp_path / "ocfl")
    staging = tmp_path / "staging"
    staging.mkdir()
    builder = root.begin_version(object_id, staging)
    for path, data in files.items():
        builder.content_target(path).write_bytes(data)
        builder.add(path, {a: hashlib.new(a, data).hexdigest() for a in ("sha256", "sha512")})
    builder.commit(created=CREATED, message="ingest of test", user_name="preserve test")
    return root


def verify(root: StorageRoot, object_id: str = "obj-1"):
    relative = object_path_for(object_id)
    return verify_object(LocalLocation("local", root.path), relative, schemas=None)


def test_a_complete_object_yields_the_rows_ingest_would_record(tmp_path):
    root = store(tmp_path, bag_files(PAYLOAD))
    verified = verify(root)
    assert verified.object_id == "obj-1" and verified.head == 1
    adoption = verified.adoption(0, "local")
    assert adoption.title == "Devon" and adoption.external_identifiers == ("ms-1",)
    [version] = adoption.versions
    assert version.created == CREATED and version.message == "ingest of test"
    by_path = {f.path: f for f in version.files}
    assert set(by_path) >= set(PAYLOAD) | {"metadata/mets.xml", "bagit.txt"}
    assert by_path["data/varaq 1.txt"].format == "x-fmt/111"
    assert by_path["data/varaq 1.txt"].format_name == "Plain Text File"  # from the METS (0011)
    assert by_path["bagit.txt"].format is None and by_path["bagit.txt"].format_name == ""
    assert by_path["data/varaq 1.txt"].sha256 == hashlib.sha256(PAYLOAD["data/varaq 1.txt"]).hexdigest()
    payload = [f for f in version.files if f.path.startswith("data/")]
    assert version.payload_fingerprint == payload_fingerprint(payload)
    assert verified.adoption(1, "local").versions == ()


@pytest.mark.parametrize("override, why", [
    ({"metadata/mets.xml": None}, "has no metadata/mets.xml"),
    ({"metadata/mets.xml": b"<mets"}, "cannot be parsed"),
    ({"bagit.txt": None}, "bagit.txt"),
    ({"manifest-sha512.txt": None}, "manifest-sha512.txt"),
    ({"manifest-sha256.txt": _manifest({**PAYLOAD, "data/extra.txt": b"x"}, "sha256")},
     "differ on data/extra.txt"),
    ({"manifest-sha512.txt": _manifest({"data/varaq 1.txt": b"other\n",
                                        "data/Рукопись/лист.txt": "лист\n".encode()}, "sha512")},
     "the stored file has another"),
    ({"bag-info.txt": b"Payload-Oxum: 1.2\n"}, "Payload-Oxum"),
])
def test_a_version_that_is_no_complete_bag_is_invalid(tmp_path, override, why):
    root = store(tmp_path, bag_files(PAYLOAD, **override))
    with pytest.raises(ObjectInvalid, match=why):
        verify(root)


def _object(root: StorageRoot) -> Path:
    return root.path / object_path_for("obj-1")


def test_a_missing_content_file_is_invalid(tmp_path):
    root = store(tmp_path, bag_files(PAYLOAD))
    (_object(root) / "v1/content/data/varaq 1.txt").unlink()
    with pytest.raises(ObjectInvalid, match="missing"):
        verify(root)


def test_an_unlisted_file_is_invalid(tmp_path):
    root = store(tmp_path, bag_files(PAYLOAD))
    (_object(root) / "v1/content/data/planted.txt").write_bytes(b"x")
    with pytest.raises(ObjectInvalid, match="not in the inventory"):
        verify(root)


def test_a_symlink_in_place_of_content_is_invalid(tmp_path):
    root = store(tmp_path, bag_files(PAYLOAD))
    target = _object(root) / "v1/content/data/varaq 1.txt"
    shutil.copyfile(target, tmp_path / "outside.txt")
    target.unlink()
    os.symlink(tmp_path / "outside.txt", target)
    with pytest.raises(ObjectInvalid, match="regular file"):
        verify(root)


def test_an_edited_inventory_is_invalid(tmp_path):
    root = store(tmp_path, bag_files(PAYLOAD))
    inventory = _object(root) / "inventory.json"
    inventory.write_bytes(inventory.read_bytes().replace(b"ingest of test", b"ingest of tost"))
    with pytest.raises(ObjectInvalid, match="sidecar"):
        verify(root)


def test_an_object_at_another_ids_path_is_invalid(tmp_path):
    root = store(tmp_path, bag_files(PAYLOAD))
    elsewhere = root.path / object_path_for("obj-2")
    elsewhere.parent.mkdir(parents=True)
    os.rename(_object(root), elsewhere)
    with pytest.raises(ObjectInvalid, match="0004 layout"):
        verify(root, "obj-2")
