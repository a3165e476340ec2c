"""A repository on a PostgreSQL catalog with three locations (local, a disk, a real S3
bucket), and `preserve worker` processes run as real subprocesses against it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from preserve.catalog import Catalog
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


def catalog_url(home: Path) -> str:
    """The PostgreSQL catalog URL written into `home`'s settings by `pg_repo`."""
    text = (home / "preserve.toml").read_text(encoding="utf-8")
    return re.search(r'url = "([^"]+)"', text).group(1)


def events_of(home: Path, package: str, type_: str) -> list:
    with Catalog(catalog_url(home)) as catalog:
        return [e for e in catalog.events(package) if str(getattr(e.type, "value", e.type))
                == type_]


def idle(cli, home: Path) -> bool:  # noqa: F811
    return not jobs(cli, home, "todo", "doing")


def doing(home: Path) -> list[str]:
    """Tasks of the running jobs, read straight from the queue (fast enough to catch one)."""
    import psycopg

    from preserve.catalog.engine import libpq_url
    with psycopg.connect(libpq_url(catalog_url(home))) as connection:
        return [row[0] for row in connection.execute(
            "SELECT task_name FROM procrastinate_jobs WHERE status = 'doing'")]


def kill_when_running(worker: Worker, home: Path, task: str, after: float) -> None:
    """kill -9 `worker` `after` seconds into a running `task` job (which must still run)."""
    wait_for(lambda: task in doing(home), every=0.02, what=f"a {task} job running")
    time.sleep(after)
    assert task in doing(home), "the job ended before the kill: make it slower"
    worker.kill()


def kill_mid_task_then_finish(cli, home: Path, tmp_path: Path, workers: list[Worker],  # noqa: F811
                              task: str, after: float, *, first: Sequence[str] = (),
                              second: Sequence[str] = (), names: tuple[str, str] = (
                                  "first", "second"), on_kill: Callable[[], None] | None = None,
                              timeout: float = 180) -> Worker:
    """The kill -9 test's common course: a worker started with `first` arguments is killed
    `after` seconds into a `task` job; another (`second` arguments) takes the stalled job
    over, and the queue is waited on until nothing is to do. Returns the second worker,
    still running, for the caller's checks (`finished_requeued`)."""
    killed = Worker(home, tmp_path / f"{names[0]}.log", *first)
    workers.append(killed)
    kill_when_running(killed, home, task, after)
    if on_kill is not None:
        on_kill()
    taker = Worker(home, tmp_path / f"{names[1]}.log", *second)
    workers.append(taker)
    wait_for(lambda: idle(cli, home), timeout=timeout, what=f"the killed {task} job")
    return taker


def finished_requeued(worker: Worker) -> None:
    """The worker stops cleanly and says it took over a dead worker's job."""
    assert worker.stop() == 0
    assert "queued again" in worker.text()
