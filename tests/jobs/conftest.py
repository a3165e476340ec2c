"""A repository on a PostgreSQL catalog with three locations (local, a disk, a real S3
bucket), and `preserve worker` processes run as real subprocesses against it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import write_bag
from tests.cli.conftest import cli, schemas_dir  # noqa: F401  (fixtures)
from tests.cli.conftest import repo as repo  # noqa: F401  (the SQLite fixture)
from tests.conftest import new_bucket_name

ROOT = Path(__file__).resolve().parents[2]


def set_copies(home: Path, copies: int) -> None:
    settings = home / "preserve.toml"
    text = settings.read_text(encoding="utf-8")
    assert "\ncopies = 1\n" in text
    settings.write_text(text.replace("\ncopies = 1\n", f"\ncopies = {copies}\n"),
                        encoding="utf-8")


@pytest.fixture
def pg_repo(cli, tmp_path, postgres_url, swift_server, monkeypatch) -> Path:  # noqa: F811
    """A home on PostgreSQL with locations local, vault (a disk) and s3; copies = 3."""
    schemas = schemas_dir()
    if schemas is None:
        pytest.skip("official XSDs not found: set PRESERVE_SCHEMAS")
    home = tmp_path / "pgrepo"
    made = cli("--repo", home, "init", "--catalog-url", postgres_url, "--schemas-dir", schemas)
    assert made.code == 0, made.err
    monkeypatch.setenv("PRESERVE_LOCATION_S3_ACCESS_KEY", swift_server.access_key)
    monkeypatch.setenv("PRESERVE_LOCATION_S3_SECRET_KEY", swift_server.secret_key)
    assert cli("--repo", home, "locations", "add", "vault", "--kind", "local",
               "--path", tmp_path / "vault").code == 0
    added = cli("--repo", home, "locations", "add", "s3", "--kind", "s3", "--endpoint",
                swift_server.endpoint, "--bucket", new_bucket_name(), "--prefix", "ocfl/")
    assert added.code == 0, added.err
    set_copies(home, 3)
    return home


def ingest(cli, home: Path, tmp_path: Path, package: str,  # noqa: F811
           files: dict[str, bytes]) -> None:
    # Each package's payload is its own (an identical one is refused as a duplicate).
    bag = write_bag(tmp_path / f"deposit-{package}", files | {"id.txt": package.encode()})
    result = cli("--repo", home, "ingest", bag, "--id", package, "--no-replicate")
    assert result.code == 0, result.err


class Worker:
    """A `preserve worker` subprocess; its log goes to a file."""

    def __init__(self, home: Path, log: Path, *args: str) -> None:
        self.log = log
        self._out = open(log, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "preserve", "--repo", str(home), "worker",
             "--heartbeat", "0.5", "--stalled-after", "2", *args],
            stdout=self._out, stderr=subprocess.STDOUT, cwd=ROOT, env=os.environ.copy())

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self._out.close()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._out.close()

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def workers(tmp_path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


def jobs(cli, home: Path, *statuses: str) -> list[dict]:  # noqa: F811
    args = [a for s in statuses for a in ("--status", s)]
    result = cli("--repo", home, "--json", "jobs", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)["jobs"]


def wait_for(predicate, timeout: float = 120, every: float = 0.3, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what or predicate}")
