"""Crash safety (issue 6, item 2): the real CLI killed or failing at every step of an ingest.

Each case (cases.py) runs `preserve ingest` in a subprocess with one fault installed by
runner.py; nothing in preserve knows about it. Afterwards: the exit code and message, the
storage root (unchanged, or one complete object), the catalog (nothing it lists is not fully
stored), the deposits row; then the same ingest again, without faults, must leave exactly one
package, OCFL-valid (ocfl-py), bag-valid (bagit-python), with a verified event chain.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.builders import storage_snapshot
from tests.faults.cases import CASES, KILLED, FaultCase
from tests.faults.conftest import (
    assert_bag_valid,
    assert_catalog_within_storage,
    assert_valid_storage,
    catalog_of,
    run_faulted,
    stored_objects,
    work_dirs,
)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case: FaultCase, cli, repo, deposits, tmp_path):
    id_args = ("--id", case.package_id) if case.package_id else ()
    deposit = deposits["v1"]
    if case.extra.get("archive"):  # the bag serialized, as a depositor would send it
        deposit = Path(shutil.make_archive(str(tmp_path / "v1-bag"), case.extra["archive"],
                                           root_dir=deposit.parent, base_dir=deposit.name))
    args: tuple = ("ingest", deposit, *id_args)
    versions = 1
    if case.new_version:
        first = cli("--repo", repo, "--json", "ingest", deposits["v1"], *id_args)
        assert first.code == 0, first.err
        package_id = first.json()["package_id"]
        args = ("ingest", deposits["v2"], "--as-version-of", package_id)
        versions = 2
    before = storage_snapshot(repo / "ocfl")
    with catalog_of(repo) as catalog:
        attempts = len(catalog.deposits())

    faulted = run_faulted(repo, *args, faults=case.faults)

    # -- right after the fault --------------------------------------------------------------
    assert faulted.code == case.exit, (faulted.out, faulted.err)
    assert "Traceback" not in faulted.err, faulted.err
    if case.exit != KILLED:
        assert faulted.err.startswith("error: Storage error:"), faulted.err
        assert case.message in faulted.err, faulted.err
        # a failed ingest cleans up after itself, unless it may have stored something
        assert len(work_dirs(repo)) == (1 if case.work_dir_kept else 0)
    objects = stored_objects(repo) if case.valid_after_fault else None
    if case.objects_after_fault == 0 or (case.new_version and case.exit != KILLED
                                         and not case.work_dir_kept):
        assert storage_snapshot(repo / "ocfl") == before  # untouched
    elif objects is not None:
        assert len(objects) == case.objects_after_fault
    if case.valid_after_fault:
        assert_valid_storage(repo)
    with catalog_of(repo) as catalog:
        deposits_rows = catalog.deposits()
        assert len(deposits_rows) == attempts + 1
        assert deposits_rows[-1].status == case.deposit
        if not case.valid_after_fault:  # the half-committed object is not read here
            assert [p.package_id for p in catalog.list_packages()] == [package_id]
            assert catalog.head_version(package_id) == 1
    if case.valid_after_fault:
        assert_catalog_within_storage(repo)

    # -- the same ingest again, without faults ----------------------------------------------
    again = cli("--repo", repo, "--json", *args)
    assert again.code in case.rerun_exit, (again.out, again.err)
    if case.rerun_code:
        assert [f["code"] for f in again.json()["findings"]] == [case.rerun_code]
    objects = stored_objects(repo)
    assert list(objects.values()) == [versions]  # exactly one package, at the right version
    with catalog_of(repo) as catalog:
        packages = catalog.list_packages()
        assert [p.package_id for p in packages] == list(objects)
        assert catalog.head_version(packages[0].package_id) == versions
        rows = catalog.deposits()
        assert rows[-1].status == ("rejected" if case.rerun_code else "accepted")
        if case.package_id:
            assert packages[0].package_id == case.package_id
    assert_valid_storage(repo)
    assert_catalog_within_storage(repo)
    assert_bag_valid(repo, tmp_path)
    assert cli("--repo", repo, "log", "verify").code == 0
    assert work_dirs(repo) == []  # whatever the fault left in staging is gone
