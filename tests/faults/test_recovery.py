"""The refusals of crash recovery: what is *not* rolled forward or adopted, and stale locks."""

from __future__ import annotations

import fcntl
import os
import shutil

import pytest

from preserve.storage import StorageRoot
from preserve.storage import inventory as inv
from preserve.storage.staging import WorkDir, stale_work_dirs
from tests.builders import storage_snapshot, tree_snapshot
from tests.faults.conftest import catalog_of, run_faulted, stored_objects
from tests.unit.storage.conftest import CREATED, put


@pytest.fixture
def root(tmp_path) -> StorageRoot:
    return StorageRoot.create(tmp_path / "ocfl")


def _half_committed_v2(root: StorageRoot, tmp_path) -> str:
    """v1 committed; v2 prepared and its directory moved in, the root inventory not replaced
    (what a crash between the two renames leaves). Returns v2's inventory sha512."""
    b = root.begin_version("urn:x:obj", tmp_path / "s1")
    put(b, "data/a.txt", b"one")
    b.commit(created=CREATED, message="v1", user_name="t")
    b = root.begin_version("urn:x:obj", tmp_path / "s2")
    put(b, "data/a.txt", b"two")
    digest = b.prepare(created=CREATED, message="v2", user_name="t")
    os.rename(tmp_path / "s2" / "object" / "v2", root.object_path("urn:x:obj") / "v2")
    return digest


@pytest.fixture(autouse=True)
def _staging_dirs(tmp_path):
    for name in ("s1", "s2"):
        (tmp_path / name).mkdir()


def test_half_committed_version_rolls_forward_only_when_it_is_the_intended_one(root, tmp_path):
    digest = _half_committed_v2(root, tmp_path)
    assert root.head_version("urn:x:obj") == 1
    before = tree_snapshot(root.path)
    assert root.complete_interrupted_commit("urn:x:obj", "0" * 128) is None  # not ours
    assert tree_snapshot(root.path) == before
    assert root.complete_interrupted_commit("urn:x:obj", digest)
    assert root.head_version("urn:x:obj") == 2
    assert root.complete_interrupted_commit("urn:x:obj", digest) is None  # nothing left to do


def test_damaged_version_inventory_is_never_rolled_forward(root, tmp_path):
    _half_committed_v2(root, tmp_path)
    v2 = root.object_path("urn:x:obj") / "v2"
    (v2 / inv.INVENTORY).write_bytes((v2 / inv.INVENTORY).read_bytes() + b" ")
    before = tree_snapshot(root.path)
    assert root.complete_interrupted_commit("urn:x:obj") is None
    assert tree_snapshot(root.path) == before


def test_a_live_work_dir_is_never_stale_a_dead_ones_is(tmp_path):
    staging = tmp_path / "staging"
    live = WorkDir.create(staging)
    dead = WorkDir.create(staging)
    dead.release()  # as if its process had died: the kernel dropped the flock
    found = stale_work_dirs(staging)
    try:
        assert [w.path for w in found] == [dead.path]
        # while we look at it, nobody else can take it
        fd = os.open(found[0].lock_path, os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
    finally:
        for work in found:
            work.remove()
    live.remove()
    assert list(staging.iterdir()) == []


def test_orphan_without_its_intent_is_refused_not_overwritten(cli, repo, deposits):
    """Killed after the rename, then staging was wiped: the re-run with the same --id cannot
    prove the object is its own, so it stores nothing (ING-E007) and leaves it to check."""
    killed = run_faulted(repo, "ingest", deposits["v1"], "--id", "pkg-x", faults=[
        {"point": "rename", "match": "*/ocfl/*", "when": "after", "action": "kill"}])
    assert killed.code == -9
    shutil.rmtree(repo / "staging")
    (repo / "staging").mkdir()
    before = storage_snapshot(repo / "ocfl")
    again = cli("--repo", repo, "--json", "ingest", deposits["v1"], "--id", "pkg-x")
    assert again.code == 11, again.out
    assert [f["code"] for f in again.json()["findings"]] == ["ING-E007"]
    assert storage_snapshot(repo / "ocfl") == before  # no v2 added to the orphan
    assert stored_objects(repo) == {"pkg-x": 1}
    with catalog_of(repo) as catalog:
        assert catalog.list_packages() == []


def test_another_deposit_under_the_orphans_id_is_refused(cli, repo, deposits):
    """The intent is there but for another payload: not adopted, not overwritten."""
    killed = run_faulted(repo, "ingest", deposits["v1"], "--id", "pkg-y", faults=[
        {"point": "rename", "match": "*/ocfl/*", "when": "after", "action": "kill"}])
    assert killed.code == -9
    before = storage_snapshot(repo / "ocfl")
    other = cli("--repo", repo, "--json", "ingest", deposits["v2"], "--id", "pkg-y")
    assert other.code == 11, other.out
    assert [f["code"] for f in other.json()["findings"]] == ["ING-E007"]
    assert storage_snapshot(repo / "ocfl") == before
    # the right deposit still adopts it afterwards
    assert cli("--repo", repo, "ingest", deposits["v1"], "--id", "pkg-y").code == 0
    with catalog_of(repo) as catalog:
        assert [p.package_id for p in catalog.list_packages()] == ["pkg-y"]


def test_killed_after_the_rename_with_a_postgresql_catalog(cli, tmp_path, deposits, postgres_url):
    """Adoption works the same with PostgreSQL: one package, the object stored once."""
    from preserve.catalog import Catalog
    from tests.faults.conftest import assert_valid_storage, schemas_dir

    home = tmp_path / "pg-repo"
    schemas = schemas_dir()
    if schemas is None:
        pytest.skip("official XSDs not found: set PRESERVE_SCHEMAS")
    assert cli("--repo", home, "init", "--catalog-url", postgres_url,
               "--schemas-dir", schemas).code == 0
    killed = run_faulted(home, "ingest", deposits["v1"], faults=[
        {"point": "call", "match": "preserve.catalog.eventlog:append", "when": "after",
         "action": "kill"}])
    assert killed.code == -9
    orphan = stored_objects(home)
    with Catalog(postgres_url) as catalog:
        assert catalog.list_packages() == []
        assert [d.status for d in catalog.deposits()] == ["in_progress"]
    again = cli("--repo", home, "--json", "ingest", deposits["v1"])
    assert again.code == 0, again.err
    assert stored_objects(home) == orphan == {again.json()["package_id"]: 1}
    with Catalog(postgres_url) as catalog:
        assert [p.package_id for p in catalog.list_packages()] == list(orphan)
        assert catalog.verify_chain().ok
    assert_valid_storage(home)


def test_intent_round_trips_every_field(tmp_path):
    """What is adopted is exactly what the interrupted ingest meant to record, imported
    events (free-text vocabulary, their first archive's identifiers) included."""
    import datetime as dt

    from preserve.catalog import IngestRecord, StoredFile
    from preserve.ingest import recovery
    from preserve.model import (
        Agent,
        AgentType,
        Event,
        EventOutcome,
        EventType,
        Finding,
        ImportedFrom,
        Severity,
    )

    when = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
    record = IngestRecord(
        package_id="urn:x:Ўзбек", version=2, created=when, title="Қолжазба",
        external_identifiers=("KZ-1",), payload_fingerprint="ab" * 32, location="local",
        deposit_id=7, message="ingest of x",
        files=(StoredFile("data/a b.txt", 3, "c" * 64, "d" * 128, "v2/content/data/a b.txt",
                          "x-fmt/111"),
               StoredFile("metadata/mets.xml", 9, "e" * 64, "f" * 128, "v1/content/m.xml")),
        findings=(Finding("META-W004", Severity.WARNING, "metadata/mets.xml", "no schemas"),),
        inventory_sha512="0" * 128)  # the record's pin is the intent's inventory digest
    events = (
        Event(EventType.INGESTION, EventOutcome.SUCCESS, when,
              Agent("preserve/0.1", "preserve", AgentType.SOFTWARE), detail="stored",
              package_id=record.package_id, version=2, deposit_id=7, identifier="u-1"),
        Event("digitization", "done", when - dt.timedelta(days=900),
              Agent("Milliy kutubxona", "Milliy kutubxona", "institution"), version=1,
              object_paths=("data/a b.txt",), identifier="u-2",
              imported=ImportedFrom("Archive A", "local", "evt-17")),
    )
    intent = recovery.Intent(deposit_id=7, source="/deposits/x", requested_id=None,
                             version_of="urn:x:Ўзбек", inventory_sha512="0" * 128,
                             record=record, events=events)
    recovery.write_intent(tmp_path, intent)
    assert recovery.read_intent(tmp_path) == intent
    (tmp_path / recovery.INTENT_FILE).write_bytes(b'{"format": 1, "record": ')  # torn
    assert recovery.read_intent(tmp_path) is None
