"""`ingest --move` (issue 17): files renamed into the version; the deposit gone only on success."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from preserve.deposit import open_deposit
from preserve.errors import UsageError
from preserve.ingest import moving
from preserve.storage.staging import WorkDir
from tests.builders import tree_snapshot, write_bag

FILES = {
    "Қўлёзмалар/Летопись 1847 года.txt": b"chronicle",
    "دیوان/غزل.txt": b"ghazal",
    "qoʻlyozma/nusxa.txt": b"chronicle",  # same content as the first: stored once
    "Golýazma/sahypa.bin": bytes(range(256)) * 40,
}


def _inodes(bag: Path) -> dict[str, int]:
    return {os.path.relpath(os.path.join(d, f), bag / "data"): os.stat(os.path.join(d, f)).st_ino
            for d, _, names in os.walk(bag / "data") for f in names}


def _stored_inodes(repo: Path) -> set[int]:
    return {os.stat(os.path.join(d, f)).st_ino
            for d, _, names in os.walk(repo / "ocfl") for f in names}


def test_move_stores_the_deposit_files_themselves(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", FILES)
    inodes = _inodes(bag)
    result = cli("--repo", repo, "--json", "ingest", "--move", bag, "--id", "moved")
    assert result.code in (0, 1), result.out
    assert result.json()["files"] == len(FILES)
    assert not bag.exists()  # consumed: payload stored, tag files and folders removed
    stored = _stored_inodes(repo)
    # Renamed, not copied: the stored files are the deposit's own inodes (the duplicate's
    # content is stored once, under the first name).
    unique = {FILES[p]: i for p, i in sorted(inodes.items(), reverse=True)}
    assert set(unique.values()) <= stored
    audit = cli("--repo", repo, "--json", "audit", "--all")
    assert audit.code == 0, audit.out
    assert list((repo / "staging").iterdir()) == []
    got = cli("--repo", repo, "get", "moved", "Қўлёзмалар/Летопись 1847 года.txt", "-o",
              tmp_path / "out.txt")
    assert got.code == 0 and (tmp_path / "out.txt").read_bytes() == b"chronicle"


def test_move_of_a_version_parks_content_the_object_holds(cli, repo, tmp_path):
    first = write_bag(tmp_path / "v1", {"a.txt": b"kept", "b.txt": b"old"})
    assert cli("--repo", repo, "ingest", "--move", first, "--id", "p").code in (0, 1)
    second = write_bag(tmp_path / "v2", {"a.txt": b"kept", "b.txt": b"new"})
    result = cli("--repo", repo, "--json", "ingest", "--move", second, "--as-version-of", "p")
    assert result.code in (0, 1), result.out
    assert result.json()["version"] == 2 and not second.exists()
    assert cli("--repo", repo, "audit", "--all").code == 0
    assert list((repo / "staging").iterdir()) == []


def test_rejected_deposit_is_put_back_exactly(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", FILES)
    # Same size, other bytes: found only when the moved file is hashed.
    (bag / "data" / "دیوان" / "غزل.txt").write_bytes(b"GHAZAL")
    before = tree_snapshot(bag)
    inodes = _inodes(bag)
    result = cli("--repo", repo, "--json", "ingest", "--move", bag, "--id", "bad")
    assert result.code == 11
    assert "MAN-E010" in {f["code"] for f in result.json()["findings"]}
    assert tree_snapshot(bag) == before and _inodes(bag) == inodes
    assert list((repo / "staging").iterdir()) == []
    assert cli("--repo", repo, "--json", "show", "bad").code != 0


def test_failure_after_parking_puts_everything_back(repo, tmp_path, monkeypatch):
    """A failure late in the ingest (here: the intent record cannot be written) restores the
    files moved into the version and the one parked as content the object already holds."""
    from preserve.catalog import Catalog
    from preserve.errors import StorageError
    from preserve.home import Home
    from preserve.ingest import IngestOptions, ingest_deposit, recovery

    bag = write_bag(tmp_path / "bag", FILES)
    before = tree_snapshot(bag)

    def broken(work, intent):
        raise StorageError(detail="disk full (test)")

    monkeypatch.setattr(recovery, "write_intent", broken)
    home = Home(repo)
    with Catalog(home.catalog_url()) as catalog, pytest.raises(StorageError):
        ingest_deposit(home, catalog, bag, IngestOptions(package_id="late", move=True))
    assert tree_snapshot(bag) == before
    assert list((repo / "staging").iterdir()) == []


def test_killed_ingest_is_put_back_by_the_next_one(cli, repo, tmp_path):
    """An ingest killed after moving (its work directory's lock free, files in its staged
    version) gets its deposit back when the next ingest tidies the staging area."""
    bag = write_bag(tmp_path / "bag", FILES)
    before = tree_snapshot(bag)
    deposit = open_deposit(bag, tmp_path / "scratch")
    work = WorkDir.create(repo / "staging")
    staged = {}
    for entry in deposit.payload:
        staged[entry.path] = work.path / "version" / "v1" / "content" / "data" / entry.path
        staged[entry.path].parent.mkdir(parents=True, exist_ok=True)
    moving.Moves.make(work.path, deposit.payload, staged)
    assert not (bag / "data" / "دیوان" / "غزل.txt").exists()
    work.release()  # the process is gone
    other = write_bag(tmp_path / "other", {"x.txt": b"x"})
    assert cli("--repo", repo, "ingest", other, "--id", "other").code in (0, 1)
    assert tree_snapshot(bag) == before
    assert list((repo / "staging").iterdir()) == []


def test_hard_linked_file_is_never_moved(cli, repo, tmp_path):
    """Another name for a payload file could change the stored bytes: the deposit reader
    already refuses it (PAY-E005), and `moving` checks again just before the first rename."""
    bag = write_bag(tmp_path / "bag", FILES)
    os.link(bag / "data" / "دیوان" / "غزل.txt", tmp_path / "second-name")
    before = tree_snapshot(bag)
    result = cli("--repo", repo, "--json", "ingest", "--move", bag, "--id", "linked")
    assert result.code == 11 and "PAY-E005" in {f["code"] for f in result.json()["findings"]}
    assert tree_snapshot(bag) == before
    os.unlink(tmp_path / "second-name")
    deposit = open_deposit(bag, tmp_path / "scratch")
    os.link(bag / "data" / "دیوان" / "غزل.txt", tmp_path / "linked-after-listing")
    work = tmp_path / "work"
    work.mkdir()
    staged = {e.path: work / "staged" / str(n) for n, e in enumerate(deposit.payload)}
    with pytest.raises(UsageError, match="hard links"):
        moving.Moves.make(work, deposit.payload, staged)
    assert tree_snapshot(bag) == before and not (work / moving.MOVES_FILE).exists()


def test_other_filesystem_refuses_move(cli, repo, tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(repo).st_dev:
        pytest.skip("no second filesystem to put the deposit on")
    bag = write_bag(shm / f"preserve-move-{os.getpid()}", {"a.txt": b"a"})
    try:
        result = cli("--repo", repo, "--json", "ingest", "--move", bag, "--id", "far")
        assert result.code == 2 and "filesystem" in result.json()["error"]
        assert (bag / "data" / "a.txt").read_bytes() == b"a"
    finally:
        shutil.rmtree(bag)


def test_zip_deposit_is_deleted_only_after_success(cli, repo, tmp_path):
    good = write_bag(tmp_path / "good", {"a.txt": b"a"})
    bad = write_bag(tmp_path / "bad", {"a.txt": b"a"})
    (bad / "data" / "a.txt").write_bytes(b"b")
    for bag in (good, bad):
        with zipfile.ZipFile(bag.with_suffix(".zip"), "w") as archive:
            for path in sorted(bag.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{bag.name}/{path.relative_to(bag)}")
    assert cli("--repo", repo, "ingest", "--move", tmp_path / "bad.zip", "--id", "b").code == 11
    assert (tmp_path / "bad.zip").is_file()
    assert cli("--repo", repo, "ingest", "--move", tmp_path / "good.zip", "--id", "g").code in (0, 1)
    assert not (tmp_path / "good.zip").exists()
