"""`preserve export` (issue 5): bag, zip and tar exports, checked by independent oracles.

bagit-python validates every export (zip and tar unpacked), the official XSDs every METS; the
METS carries every event of the package with its identifier; serializing is deterministic;
nothing is ever left at DEST by a failed or killed export.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import bagit
import pytest
from lxml import etree

from preserve.catalog import Catalog
from preserve.export.bag import bag_entries
from preserve.export.export import export_mets
from preserve.export.serialize import write_tar, write_zip
from preserve.export.source import collect
from preserve.metadata import find_schemas
from preserve.storage.local import LocalLocation
from tests.builders import MULTILINGUAL, write_bag
from tests.cli.conftest import schemas_dir

PREMIS = "{http://www.loc.gov/premis/v3}"
DESCRIPTIVE_CSV = ("title,title[uz-Cyrl],title[fa-Arab],creator,language\n"
                   "Qoʻlyozmalar toʻplami,Қўлёзмалар тўплами,مجموعه نسخه‌های خطی,"
                   "Alisher Navoiy,uz\n")


def multilingual_deposit(path: Path) -> Path:
    bag = write_bag(path, MULTILINGUAL, bag_info=(
        ("Source-Organization", "Oʻzbekiston Milliy kutubxonasi"),
        ("External-Identifier", "UZ-NL-MS-0042"), ("Contact-Name", "Dilnoza Karimova")),
        tag_manifests=False)
    (bag / "metadata").mkdir()
    (bag / "metadata" / "descriptive.csv").write_text(DESCRIPTIVE_CSV, encoding="utf-8")
    return bag


@pytest.fixture
def stored(cli, repo, tmp_path) -> str:
    """A multilingual package, audited once (so its history holds a fixity check)."""
    result = cli("--repo", repo, "ingest", multilingual_deposit(tmp_path / "deposit"),
                 "--id", "pkg-42")
    assert result.code == 0, result.err
    assert cli("--repo", repo, "audit", "--all").code == 0
    return "pkg-42"


def unpack(archive: Path, into: Path) -> Path:
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")
    (top,) = into.iterdir()
    return top


def payload_digests(bag: Path) -> dict[str, str]:
    return {str(p.relative_to(bag)): hashlib.sha512(p.read_bytes()).hexdigest()
            for p in (bag / "data").rglob("*") if p.is_file()}


def mets_events(bag: Path) -> list[tuple[str, str, str]]:
    root = etree.parse(str(bag / "metadata" / "mets.xml")).getroot()
    return [(e.findtext(f"{PREMIS}eventIdentifier/{PREMIS}eventIdentifierValue"),
             e.findtext(f"{PREMIS}eventType"), e.findtext(f"{PREMIS}eventDateTime"))
            for e in root.iter(f"{PREMIS}event")]


@pytest.mark.parametrize("fmt", ["bag", "zip", "tar"])
def test_export_is_a_valid_bag_with_the_complete_history(cli, repo, stored, tmp_path, fmt):
    dest = tmp_path / "out"
    dest.mkdir()
    result = cli("--repo", repo, "--json", "export", stored, dest, "--format", fmt)
    assert result.code == 0, result.err
    document = result.json()
    path = Path(document["path"])
    assert path.parent == dest and path.name == f"pkg-42-v1{'' if fmt == 'bag' else '.' + fmt}"
    assert sorted(os.listdir(dest)) == [path.name]  # no partial file left beside it
    if fmt == "bag":
        bag_dir = path
        assert document["sha256"] is None
    else:
        assert document["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        bag_dir = unpack(path, tmp_path / "unpacked")
        assert bag_dir.name == "pkg-42-v1"
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # bagit-python, the independent oracle: raises on any problem
    assert {"sha256", "sha512"} <= set(bag.algorithms)
    info = bag.info
    assert info["Source-Organization"] == "preserve repository"
    assert info["Original-Source-Organization"] == "Oʻzbekiston Milliy kutubxonasi"
    assert info["External-Identifier"] == ["pkg-42", "UZ-NL-MS-0042"]
    assert info["Bag-Group-Identifier"] == "pkg-42"
    assert info["Payload-Oxum"] == f"{sum(map(len, MULTILINGUAL.values()))}.{len(MULTILINGUAL)}"
    assert "Bagging-Date" in info
    # Names byte-exact, contents identical to the deposit.
    assert payload_digests(bag_dir) == {f"data/{p}": hashlib.sha512(c).hexdigest()
                                        for p, c in MULTILINGUAL.items()}
    # The METS is valid and carries every event of the package, this transfer included.
    mets = (bag_dir / "metadata" / "mets.xml").read_bytes()
    assert find_schemas(schemas_dir()).validate_mets(mets) == []
    with Catalog(f"sqlite:///{repo / 'catalog.sqlite'}") as catalog:
        logged = catalog.events("pkg-42")
    carried = mets_events(bag_dir)
    assert [e[0] for e in carried] == [e.identifier for e in logged]
    types = [e[1] for e in carried]
    assert "fixity check" in types and types[-1] == "transfer"
    assert logged[-1].outcome_detail.endswith(document["sha256"] or "bytes")
    # Descriptive metadata keeps its languages.
    text = mets.decode()
    assert 'xml:lang="uz-Cyrl">Қўлёзмалар тўплами<' in text
    assert 'xml:lang="fa-Arab">مجموعه نسخه‌های خطی<' in text


def test_serializing_the_same_bag_twice_gives_identical_bytes(cli, repo, stored, tmp_path):
    clock = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    with Catalog(f"sqlite:///{repo / 'catalog.sqlite'}") as catalog:
        source = collect(catalog, LocalLocation("local", repo / "ocfl"), stored, None, "Archive",
                         clock)
    (tmp_path / "work").mkdir()
    entries = bag_entries(source, export_mets(source, None, [], tmp_path / "work"))
    for writer, suffix in ((write_zip, ".zip"), (write_tar, ".tar")):
        first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
        digest_a = writer(entries, first, "bag")
        digest_b = writer(entries, second, "bag")
        assert first.read_bytes() == second.read_bytes()
        assert digest_a == digest_b == hashlib.sha256(first.read_bytes()).hexdigest()
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        names = zf.namelist()
        assert names[0] == "bag/bagit.txt" and names[-1] == sorted(names[-len(MULTILINGUAL):])[-1]
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    with tarfile.open(tmp_path / "a.tar") as tf:
        assert {(m.mtime, m.mode, m.uid, m.gid, m.uname) for m in tf} == {(0, 0o644, 0, 0, "")}


def test_existing_dest_is_refused_and_left_alone(cli, repo, stored, tmp_path):
    dest = tmp_path / "taken.zip"
    dest.write_bytes(b"someone else's file")
    result = cli("--repo", repo, "export", stored, dest, "--format", "zip")
    assert result.code == 2
    assert "already exists" in result.err and "Traceback" not in result.err
    assert dest.read_bytes() == b"someone else's file"
    missing = cli("--repo", repo, "export", stored, tmp_path / "no" / "such" / "dir")
    assert missing.code == 2 and "not an existing directory" in missing.err


def test_unknown_package_and_version(cli, repo, stored, tmp_path):
    assert cli("--repo", repo, "export", "nope", tmp_path / "x").code == 2
    result = cli("--repo", repo, "export", stored, tmp_path / "x", "--version", "v7")
    assert result.code == 13 and "has no version v7" in result.err
    assert cli("--repo", repo, "export", stored, tmp_path / "x", "--version", "seven").code == 2
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("fmt", ["bag", "zip", "tar"])
def test_damaged_storage_is_never_exported(cli, repo, stored, tmp_path, fmt):
    """Stored bytes that no longer match the catalog stop the export: exit 12, nothing at
    DEST, and a failed transfer in the log."""
    content = next((repo / "ocfl").rglob("Летопись.txt"))
    damaged = bytearray(content.read_bytes())
    damaged[0] ^= 0x01  # one bit, same size: only the digests can tell
    content.write_bytes(bytes(damaged))
    dest = tmp_path / "out"
    dest.mkdir()
    result = cli("--repo", repo, "export", stored, dest, "--format", fmt)
    assert result.code == 12, result.err
    assert "does not match" in result.err
    assert os.listdir(dest) == []
    with Catalog(f"sqlite:///{repo / 'catalog.sqlite'}") as catalog:
        last = catalog.events(stored)[-1]
    assert (last.type, last.outcome) == ("transfer", "failure")


@pytest.mark.parametrize("fmt", ["bag", "zip", "tar"])
def test_a_mets_that_fails_its_schema_check_is_never_exported(cli, repo, stored, tmp_path,
                                                              monkeypatch, fmt):
    """The METS is checked in a thread beside the copying: its verdict still stops the
    export (exit 3: a METS we built that is invalid is our bug), nothing at DEST, a failed
    transfer in the log."""
    from preserve.metadata.schemas import SchemaSet
    monkeypatch.setattr(SchemaSet, "validate_mets_file",
                        lambda self, path: ["line 1: made invalid by the test"])
    dest = tmp_path / "out"
    dest.mkdir()
    result = cli("--repo", repo, "export", stored, dest, "--format", fmt)
    assert result.code == 3, result.err
    assert "made invalid by the test" in result.err
    assert os.listdir(dest) == []
    with Catalog(f"sqlite:///{repo / 'catalog.sqlite'}") as catalog:
        last = catalog.events(stored)[-1]
    assert (last.type, last.outcome) == ("transfer", "failure")


RUNNER = """
import os, signal, sys
from preserve.export import payload
calls = []
def killed(*args, **kwargs):
    calls.append(1)
    if len(calls) == 3:  # halfway through the payload
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)
if sys.argv[1] == "bag":
    original = payload.copy_file
    payload.copy_file = killed
else:
    original = payload.check_digests
    payload.check_digests = killed
from preserve.cli import main
main(sys.argv[2:])
"""


@pytest.mark.parametrize("fmt", ["bag", "zip", "tar"])
def test_a_killed_export_leaves_nothing_that_looks_complete(cli, repo, stored, tmp_path, fmt):
    dest = tmp_path / "out"
    dest.mkdir()
    env = dict(os.environ, PRESERVE_SCHEMAS=str(schemas_dir()))
    done = subprocess.run([sys.executable, "-c", RUNNER, fmt, "--repo", str(repo), "export",
                           stored, str(dest), "--format", fmt], env=env, capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    left = os.listdir(dest)
    assert all(name.startswith(".pkg-42-v1") and ".partial-" in name for name in left), left
    assert not (dest / f"pkg-42-v1{'' if fmt == 'bag' else '.' + fmt}").exists()
    # A second export after the crash succeeds beside the leftover.
    assert cli("--repo", repo, "export", stored, dest, "--format", fmt).code == 0


def test_an_earlier_version_is_exported_with_the_whole_history(cli, repo, stored, tmp_path):
    changed = dict(MULTILINGUAL, **{"yangi varaq.txt": b"added in v2\n"})
    changed.pop("empty.txt")
    assert cli("--repo", repo, "ingest", write_bag(tmp_path / "v2", changed),
               "--as-version-of", stored).code == 0
    old = cli("--repo", repo, "--json", "export", stored, tmp_path / "old", "--version", "v1")
    assert old.code == 0, old.err
    bag_dir = Path(old.json()["path"])
    bagit.Bag(str(bag_dir)).validate()
    assert payload_digests(bag_dir) == {f"data/{p}": hashlib.sha512(c).hexdigest()
                                        for p, c in MULTILINGUAL.items()}
    assert bagit.Bag(str(bag_dir)).info["Internal-Sender-Identifier"] == "pkg-42 v1"
    carried = [e[1] for e in mets_events(bag_dir)]
    assert carried.count("ingestion") == 2  # v2's ingestion is history too
    new = cli("--repo", repo, "--json", "export", stored, tmp_path / "new")
    assert payload_digests(Path(new.json()["path"])) == {
        f"data/{p}": hashlib.sha512(c).hexdigest() for p, c in changed.items()}


def test_an_inventory_that_does_not_verify_is_not_exported(cli, repo, tmp_path):
    """issue 18: export verifies the inventories it relies on, or refuses with exit 12."""
    from preserve.storage import StorageRoot
    bag = write_bag(tmp_path / "bag", {"a.txt": b"alpha"})
    assert cli("--repo", repo, "ingest", bag, "--id", "inv-1").code == 0
    version_dir = StorageRoot.open(repo / "ocfl").object_path("inv-1") / "v1"
    inventory = version_dir / "inventory.json"
    original = inventory.read_bytes()
    inventory.write_bytes(original.replace(b'"message": "', b'"message": "rewritten '))
    broken = cli("--repo", repo, "export", "inv-1", tmp_path / "out1.zip", "--format", "zip")
    assert broken.code == 12 and "cannot be trusted" in broken.err
    # The sidecar recomputed too (an attacker with storage access): the catalog's pin catches it.
    data = inventory.read_bytes()
    (version_dir / "inventory.json.sha512").write_text(
        f"{hashlib.sha512(data).hexdigest()} inventory.json\n", encoding="utf-8")
    pinned = cli("--repo", repo, "export", "inv-1", tmp_path / "out2.zip", "--format", "zip")
    assert pinned.code == 12 and "recorded at its ingest" in pinned.err
    assert not (tmp_path / "out1.zip").exists() and not (tmp_path / "out2.zip").exists()


def test_bag_and_eark_into_one_folder_and_dest_extensions(cli, repo, tmp_path):
    """issue 11: exports of one version in two forms do not collide; a zip/tar DEST without
    an extension gets the right one, a wrong one is refused."""
    bag = write_bag(tmp_path / "bag", {"a.txt": b"alpha"})
    assert cli("--repo", repo, "ingest", bag, "--id", "two-1").code == 0
    out = tmp_path / "out"
    out.mkdir()
    for form in ("bag", "eark"):
        result = cli("--repo", repo, "export", "two-1", out, "--format", form)
        assert result.code == 0, result.err
    assert sorted(p.name for p in out.iterdir()) == ["two-1-v1", "two-1-v1-eark"]
    plain = cli("--repo", repo, "--json", "export", "two-1", out / "transfer", "--format", "zip")
    assert plain.code == 0 and plain.json()["path"].endswith("transfer.zip")
    wrong = cli("--repo", repo, "export", "two-1", out / "transfer.tar", "--format", "zip")
    assert wrong.code == 2 and "transfer.zip" in wrong.err
