"""Export under faults (issue 18): a read-only destination, a stored file deleted behind our
back, an I/O error reading storage — each a clear error with its exit code (13, 12, 13), never
an internal error, and nothing left at the destination."""

from __future__ import annotations

import subprocess

from tests.builders import write_bag
from tests.faults.conftest import PAYLOAD, remount_ro, run_faulted


def _stored(cli, repo, tmp_path):
    bag = write_bag(tmp_path / "bag", PAYLOAD)
    assert cli("--repo", repo, "ingest", bag, "--id", "exp-1").code == 0
    return sorted((repo / "ocfl").rglob("content/data/*/*"))


def test_export_to_a_read_only_destination(cli, repo, tmp_path, read_only_mount):
    _stored(cli, repo, tmp_path)
    remount_ro(read_only_mount)
    result = cli("--repo", repo, "export", "exp-1", read_only_mount / "p.zip", "--format", "zip")
    assert result.code == 13 and "Choose a writable destination" in result.err
    assert list(read_only_mount.iterdir()) == []
    subprocess.run(["mount", "-o", "remount,rw", str(read_only_mount)], check=True)


def test_export_after_a_stored_file_was_deleted(cli, repo, tmp_path):
    stored = _stored(cli, repo, tmp_path)
    stored[0].unlink()
    out = tmp_path / "out"
    out.mkdir()
    result = cli("--repo", repo, "export", "exp-1", out / "p.zip", "--format", "zip")
    assert result.code == 12 and "is missing" in result.err
    assert list(out.iterdir()) == []


def test_export_under_an_io_error_reading_storage(cli, repo, tmp_path):
    _stored(cli, repo, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    result = run_faulted(repo, "export", "exp-1", out / "p.zip", "--format", "zip", faults=[{
        "point": "call", "match": "preserve.storage.local:open_regular", "action": "eio"}])
    assert result.code == 13, result.err
    assert "internal error" not in result.err
    assert list(out.iterdir()) == []
