"""Independent oracles (STYLE.md, "Tests"): ocfl-py must accept the storage root we write, and
bagit-python every version's logical state copied out of its object."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import bagit
import pytest

from preserve.storage import StorageRoot
from tests.builders import MULTILINGUAL, write_bag, write_folder
from tests.cli.conftest import schemas_dir
from tests.unit.storage.ocfl_oracle import validate_root


def extract_version(object_dir: Path, version: str, dest: Path) -> Path:
    """Copy the logical state of `version` out of an OCFL object (using only the inventory)."""
    inventory = json.loads((object_dir / "inventory.json").read_text(encoding="utf-8"))
    manifest = inventory["manifest"]
    for digest, logical_paths in inventory["versions"][version]["state"].items():
        source = object_dir / manifest[digest][0]
        for logical in logical_paths:
            target = dest / logical
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return dest


def zip_bag(bag: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(bag.rglob("*")):
            if path.is_file():
                zf.write(path, f"{bag.name}/{path.relative_to(bag).as_posix()}")
    return archive


def tar_bag(bag: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(bag, arcname=bag.name)
    return archive




def test_storage_root_and_every_version_pass_the_oracles(cli, repo, tmp_path):
    deposits = tmp_path / "deposits"
    bag = write_bag(deposits / "bag", MULTILINGUAL,
                    bag_info=[("External-Identifier", "KZ-1"), ("Title", "Қолжазбалар")])
    zipped = zip_bag(write_bag(deposits / "zipsrc", {"سند/برگ ۱.txt": b"zip"},
                               algorithms=("md5", "sha1", "sha256")), deposits / "bag.zip")
    tarred = tar_bag(write_bag(deposits / "tarsrc", {"Летопись/лист 1.txt": b"tar"},
                               version="0.97", algorithms=("sha512",)), deposits / "bag.tar.gz")
    folder = write_folder(deposits / "folder", {"Qoʻlyozma/1.txt": b"folder", "2.txt": b"two"})
    ids = []
    for source, package in ((bag, "kz-1"), (zipped, "zip-1"), (tarred, "tar-1"), (folder, "dir-1")):
        result = cli("--repo", repo, "--json", "ingest", source, "--id", package)
        assert result.code == 0, (source, result.out, result.err)
        ids.append(package)
    v2 = write_bag(deposits / "bag-v2", {**MULTILINGUAL, "new.txt": b"added"},
                   bag_info=[("External-Identifier", "KZ-1")])
    assert cli("--repo", repo, "ingest", v2, "--as-version-of", "kz-1").code == 0

    report = validate_root(repo / "ocfl")
    assert report.valid, report.messages
    assert report.errors == set()
    # W005: the ids chosen here ("kz-1") are not URIs (default ids are urn:uuid);
    # W008: versions name the software as user, which has no address.
    assert report.warnings <= {"W005", "W008"}, report.messages

    storage = StorageRoot.open(repo / "ocfl")
    # The ocfl-validate.py command too, on an object (ocfl-py 2.1 cannot read the 0004 layout
    # of the root itself, which is why validate_root registers it first).
    command = Path(sys.executable).parent / "ocfl-validate.py"
    for package in ("kz-1", "zip-1"):
        object_dir = storage.object_path(package)
        run = subprocess.run([sys.executable, str(command), str(object_dir)], capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0 and "is VALID" in run.stdout, run.stdout + run.stderr
    checked = 0
    for package in ids:
        object_dir = storage.object_path(package)
        inventory = json.loads((object_dir / "inventory.json").read_text(encoding="utf-8"))
        for version in inventory["versions"]:
            state = extract_version(object_dir, version, tmp_path / "out" / package / version)
            bag_check = bagit.Bag(str(state))
            bag_check.validate()  # raises BagValidationError if invalid
            assert (state / "metadata" / "mets.xml").is_file()
            checked += 1
    assert checked == 5

    kz = extract_version(storage.object_path("kz-1"), "v1", tmp_path / "kz-v1")
    for rel, content in MULTILINGUAL.items():
        assert (kz / "data" / rel).read_bytes() == content  # names and bytes exact
    assert (kz / "metadata" / "submission" / "bag-info.txt").read_bytes() == (
        bag / "bag-info.txt").read_bytes()


@pytest.mark.postgres
def test_ingest_with_a_postgresql_catalog(cli, tmp_path, postgres_url):
    home = tmp_path / "pgrepo"
    schemas = schemas_dir()
    if schemas is None:
        pytest.skip("official XSDs not found: set PRESERVE_SCHEMAS (../shared/schemas on dev/CI)")
    assert cli("--repo", home, "init", "--catalog-url", postgres_url,
               "--schemas-dir", schemas).code == 0
    bag = write_bag(tmp_path / "bag", MULTILINGUAL, bag_info=[("External-Identifier", "PG-1")])
    result = cli("--repo", home, "--json", "ingest", bag, "--id", "pg-1")
    assert result.code == 0, result.err
    shown = cli("--repo", home, "--json", "show", "pg-1").json()
    assert {f["path"] for f in shown["files"] if f["path"].startswith("data/")} == {
        "data/" + p for p in MULTILINGUAL}
