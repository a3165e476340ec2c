"""The locks `preserve check --repair` shares with ingests (check/lock.py): real flocks held
by this process on another open file, as a running ingest would hold them."""

from __future__ import annotations

import fcntl
import os

import pytest

from preserve.check.lock import (
    CheckRunning,
    check_lock,
    commit_lock,
    work_dir_claimed,
    work_dir_in_use,
)
from preserve.storage.staging import CommitLockTimeout


def _hold(path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_commit_lock_waits_then_gives_up_while_an_ingest_commits(tmp_path):
    fd = _hold(tmp_path / "ingest.lock")
    try:
        with pytest.raises(CommitLockTimeout):
            with commit_lock(tmp_path, timeout=0.05):
                pass
    finally:
        os.close(fd)
    with commit_lock(tmp_path, timeout=0.05):
        pass


def test_one_repair_at_a_time(tmp_path):
    with check_lock(tmp_path):
        with pytest.raises(CheckRunning) as raised:
            with check_lock(tmp_path):
                pass
        assert str(os.getpid()) in raised.value.message


def test_work_directory_lock_file_decides(tmp_path):
    work = tmp_path / "ingest-abc"
    work.mkdir()
    assert not work_dir_in_use(work)  # no lock file, no flock: nobody announced themselves
    lock = tmp_path / "ingest-abc.lock"
    fd = _hold(lock)
    try:
        assert work_dir_in_use(work)
        with work_dir_claimed(work) as claimed:
            assert not claimed
    finally:
        os.close(fd)
    with work_dir_claimed(work) as claimed:
        assert claimed
        work.rmdir()
    assert not lock.exists()  # removed after its directory, while held
