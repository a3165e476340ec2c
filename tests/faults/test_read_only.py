"""A read-only repository (a mounted replica, a snapshot) can be read (issue 18): list, show,
log, log verify and export work on a real read-only filesystem; commands that write say so
with their exit code, and nothing is written anywhere in the repository."""

from __future__ import annotations

from tests.builders import MULTILINGUAL, tree_snapshot, write_bag
from tests.faults.conftest import remount_ro


def test_a_read_only_repository_can_be_read_and_refuses_writes_clearly(cli, read_only_mount,
                                                                       tmp_path):
    home = read_only_mount / "repo"
    assert cli("--repo", home, "init").code == 0
    bag = write_bag(tmp_path / "bag", MULTILINGUAL)
    assert cli("--repo", home, "ingest", bag, "--id", "p1").code in (0, 1)
    remount_ro(read_only_mount)
    before = tree_snapshot(home)
    for args in (("list",), ("show", "p1"), ("log", "p1"), ("log", "verify")):
        result = cli("--repo", home, *args)
        assert result.code == 0, (args, result.err)
    exported = cli("--repo", home, "--json", "export", "p1", tmp_path / "out.zip",
                   "--format", "zip")
    assert exported.code == 1, exported.err  # EXP-W001: the transfer is not in this log
    assert "EXP-W001" in [f["code"] for f in exported.json()["findings"]]
    assert (tmp_path / "out.zip").stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    audit = cli("--repo", home, "audit")
    assert audit.code == 13 and "read-only" in audit.err
    ingest = cli("--repo", home, "ingest", bag, "--id", "p2")
    assert ingest.code == 14 and "read-only" in ingest.err
    assert tree_snapshot(home) == before


def test_init_on_a_read_only_filesystem_is_a_storage_error(cli, read_only_mount):
    remount_ro(read_only_mount)
    result = cli("--repo", read_only_mount / "repo", "init")
    assert result.code == 13 and "cannot create the repository" in result.err
    assert list(read_only_mount.iterdir()) == []
