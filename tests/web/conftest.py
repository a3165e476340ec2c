from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import write_bag
from tests.cli.conftest import cli, repo  # noqa: F401  (the CLI's fixtures, shared)

PERSIAN_TITLE = "نسخه‌های خطی فارسی"
HOSTILE_TITLE = '<script>alert("x")</script> \u202eevil\u202c \'quoted\''


@pytest.fixture
def web_repo(cli, repo: Path, tmp_path: Path) -> Path:  # noqa: F811
    """A repository holding a Persian-titled package, an Uzbek Cyrillic one and a hostile one."""
    for package_id, title, files in [
        ("fa-1", PERSIAN_TITLE, {"دفتر.txt": b"persian"}),
        ("uz-1", "Қўлёзмалар тўплами", {"Қўлёзма.txt": b"cyrillic"}),
        ("evil-1", HOSTILE_TITLE, {'<img src=x onerror="alert(1)">\u202etxt.exe': b"x"}),
    ]:
        bag = write_bag(tmp_path / package_id, files,
                        bag_info=[("External-Identifier", f"ID-{package_id}"), ("Title", title)])
        result = cli("--repo", repo, "ingest", bag, "--id", package_id)
        assert result.code in (0, 1), result.err  # 1: NAME-W002 warns of the bidi control
    return repo


@pytest.fixture
def client(web_repo: Path):
    from starlette.testclient import TestClient

    from preserve.cli.context import AppState
    from preserve.web import create_app
    state = AppState(repo=web_repo)
    app = create_app(state.open_catalog, repository_name="Milliy kutubxona",
                     locations=state.locations)
    with TestClient(app) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(web_repo: Path) -> Iterator[str]:
    """`preserve serve` on a free port in a subprocess (real uvicorn); its base URL."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    server = subprocess.Popen([sys.executable, "-m", "preserve", "--repo", str(web_repo), "serve",
                               "--port", str(port)], env=env, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as response:
                    assert json.load(response)["status"] == "ok"
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "preserve serve did not start"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
