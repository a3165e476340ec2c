"""Concurrency (issue 6, item 4): racing ingests, ingest beside an audit, a locked catalog.

Races are forced, not hoped for: runner.py's `wait` action stops a process at a named point
until the test releases it, so both ingests have staged everything before either commits.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from preserve.catalog import Catalog
from tests.faults.conftest import (
    assert_bag_valid,
    assert_catalog_within_storage,
    assert_valid_storage,
    catalog_of,
    finish,
    run_faulted,
    schemas_dir,
    stored_objects,
    work_dirs,
)


def _barrier(barrier: Path, name: str, point: str, match: str, *, when: str = "before",
             nth: int = 1) -> dict:
    return {"point": point, "match": match, "when": when, "nth": nth, "action": "wait",
            "barrier": str(barrier), "name": name}


def _await(barrier: Path, *names: str, processes=()) -> None:
    deadline = time.monotonic() + 60
    while not all((barrier / f"{n}.reached").exists() for n in names):
        for process in processes:
            assert process.poll() is None, finish(process)
        assert time.monotonic() < deadline, f"barrier {names} never reached"
        time.sleep(0.01)


def _release(barrier: Path, *names: str) -> None:
    for name in names:
        (barrier / f"{name}.go").touch()


# Both ingests stop just before their commit section (the second commit_lock of an ingest;
# the first is the clean-up at its start), then go at the same moment.
BEFORE_COMMIT = ("call", "preserve.ingest.ingest:commit_lock")


def _race(repo: Path, deposit: Path, tmp_path: Path, *extra: str) -> list:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    processes = [run_faulted(repo, "--json", "ingest", deposit, *extra, wait=False,
                             faults=[_barrier(barrier, name, *BEFORE_COMMIT, nth=2)])
                 for name in ("a", "b")]
    _await(barrier, "a", "b", processes=processes)
    _release(barrier, "a", "b")
    return sorted((finish(p) for p in processes), key=lambda r: r.code)


@pytest.mark.parametrize("extra", [(), ("--id", "same-id")], ids=["new-id-each", "same-id"])
def test_two_ingests_of_one_deposit_at_once_store_one_package(extra, cli, repo, deposits,
                                                              tmp_path):
    won, lost = _race(repo, deposits["v1"], tmp_path, *extra)
    assert won.code == 0, won.err
    assert lost.code == 11, (lost.out, lost.err)
    codes = {f["code"] for f in json.loads(lost.out)["findings"]}
    assert "ING-E002" in codes  # the same payload is already held
    if extra:
        assert "ING-E003" in codes  # and the id is taken
    assert len(stored_objects(repo)) == 1
    with catalog_of(repo) as catalog:
        assert len(catalog.list_packages()) == 1
        assert sorted(d.status for d in catalog.deposits()) == ["accepted", "rejected"]
    assert_valid_storage(repo)
    assert_catalog_within_storage(repo)
    assert work_dirs(repo) == []
    assert cli("--repo", repo, "log", "verify").code == 0


def test_two_ingests_race_with_a_postgresql_catalog(cli, tmp_path, deposits, postgres_url):
    home = tmp_path / "pg-repo"
    schemas = schemas_dir()
    if schemas is None:
        pytest.skip("official XSDs not found: set PRESERVE_SCHEMAS")
    assert cli("--repo", home, "init", "--catalog-url", postgres_url,
               "--schemas-dir", schemas).code == 0
    won, lost = _race(home, deposits["v1"], tmp_path)
    assert (won.code, lost.code) == (0, 11), (won.err, lost.out, lost.err)
    assert len(stored_objects(home)) == 1
    with Catalog(postgres_url) as catalog:
        assert len(catalog.list_packages()) == 1
        assert catalog.verify_chain().ok
    assert_valid_storage(home)


def test_two_new_versions_at_once_one_is_told_to_try_again(cli, repo, deposits, tmp_path):
    first = cli("--repo", repo, "--json", "ingest", deposits["v1"])
    package_id = first.json()["package_id"]
    won, lost = _race(repo, deposits["v2"], tmp_path, "--as-version-of", package_id)
    assert won.code == 0, won.err
    assert lost.code == 11, (lost.out, lost.err)
    # The same deposit both times: once the winner has committed, the loser's payload equals
    # the newest version (ING-E009); had the payloads differed it would be ING-E008.
    assert "ING-E008" in lost.out or "ING-E009" in lost.out
    assert list(stored_objects(repo).values()) == [2]
    with catalog_of(repo) as catalog:
        assert catalog.head_version(package_id) == 2
    assert_valid_storage(repo)


def test_ingest_while_an_audit_runs(cli, repo, deposits, tmp_path):
    """An ingest commits while an audit is between listing the catalog and walking storage,
    and an audit runs while an ingest is between its rename and its catalog transaction."""
    assert cli("--repo", repo, "ingest", deposits["v1"]).code == 0
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    # The ingest of another deposit stops right after its object is in the storage root.
    ingest = run_faulted(repo, "--json", "ingest", deposits["v2"], wait=False, faults=[
        _barrier(barrier, "ingest", "rename", "*/ocfl/*", when="after")])
    _await(barrier, "ingest", processes=[ingest])
    # The audit stops after it has read the catalog's package list, before walking storage.
    audit = run_faulted(repo, "--json", "audit", "--all", wait=False, faults=[
        _barrier(barrier, "audit", "call", "preserve.audit.run:cross_check")])
    _await(barrier, "audit", processes=[audit])
    _release(barrier, "ingest")
    assert finish(ingest).code == 0
    _release(barrier, "audit")
    audited = finish(audit)
    assert audited.code == 0, (audited.out, audited.err)
    report = json.loads(audited.out)
    assert report["status"] == "passed" and report["findings"] == [], report
    assert report["unexpected"] == [] and report["chain_ok"], report
    assert cli("--repo", repo, "log", "verify").code == 0
    again = cli("--repo", repo, "--json", "audit", "--all")
    assert again.code == 0, again.out
    assert_valid_storage(repo)
    assert_catalog_within_storage(repo)


def _hold_write_lock(repo: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(repo / "catalog.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _assert_catalog_intact(cli, repo: Path) -> None:
    check = sqlite3.connect(repo / "catalog.sqlite")
    try:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        check.close()
    assert cli("--repo", repo, "log", "verify").code == 0


BUSY = {"PRESERVE_CATALOG_BUSY_TIMEOUT": "0.3"}


def test_locked_catalog_before_the_ingest_starts(cli, repo, deposits):
    holder = _hold_write_lock(repo)
    try:
        blocked = run_faulted(repo, "ingest", deposits["v1"], env=BUSY)
    finally:
        holder.rollback()
        holder.close()
    assert blocked.code == 14, blocked.err
    assert "is locked by another process" in blocked.err and "0.3 s" in blocked.err
    assert "Traceback" not in blocked.err
    assert stored_objects(repo) == {}
    assert work_dirs(repo) == []
    _assert_catalog_intact(cli, repo)
    assert cli("--repo", repo, "ingest", deposits["v1"]).code == 0


def test_locked_catalog_at_the_ingest_transaction(cli, repo, deposits, tmp_path):
    """Stored, then the catalog stays locked: exit 14, the version is kept with its intent,
    and the same ingest run again records it without copying it again."""
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    ingest = run_faulted(repo, "ingest", deposits["v1"], env=BUSY, wait=False, faults=[
        _barrier(barrier, "catalog", "call", "preserve.catalog.repository:Catalog.record_ingest")])
    _await(barrier, "catalog", processes=[ingest])
    holder = _hold_write_lock(repo)
    try:
        _release(barrier, "catalog")
        blocked = finish(ingest)
    finally:
        holder.rollback()
        holder.close()
    assert blocked.code == 14, blocked.err
    assert "is locked by another process" in blocked.err
    assert "stored but not recorded" in blocked.err
    assert "Traceback" not in blocked.err
    assert len(stored_objects(repo)) == 1  # complete, uncatalogued, its intent kept
    assert len(work_dirs(repo)) == 1
    with catalog_of(repo) as catalog:
        assert catalog.list_packages() == []
        # the failed attempt could not be recorded either (same lock): still in progress
        assert [d.status for d in catalog.deposits()] == ["in_progress"]
    _assert_catalog_intact(cli, repo)
    again = cli("--repo", repo, "--json", "ingest", deposits["v1"])
    assert again.code == 0, again.err
    objects = stored_objects(repo)
    assert list(objects) == [again.json()["package_id"]]
    assert work_dirs(repo) == []
    assert_valid_storage(repo)
    assert_bag_valid(repo, tmp_path)
    _assert_catalog_intact(cli, repo)
