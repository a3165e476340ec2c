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
PASSWORD = "qoʻlyozma-kitob-2026"
#: One account per role (an admin with a Cyrillic name: names are kept as given).
ACCOUNTS = {"admin": "Дилноза", "archivist": "aziz", "viewer": "vera"}
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
    add_accounts(repo)
    return repo


def add_accounts(repository: Path) -> None:
    from preserve import accounts
    from preserve.cli.context import AppState
    with AppState(repo=repository).open_catalog() as catalog:
        for role, name in ACCOUNTS.items():
            accounts.add_user(catalog, name, role, PASSWORD)


def make_app(repository: Path, **options):
    from preserve.cli.context import AppState
    from preserve.web import create_app
    state = AppState(repo=repository)
    home = state.home()
    return create_app(state.open_catalog, repository_name="Milliy kutubxona",
                      locations=state.locations, repo=home.path, staging=home.staging,
                      **options)


def log_in(client, name: str, password: str = PASSWORD):
    """Log `client` in through the login form, as a browser does; the response."""
    import re
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf": token,
                                       "next": "/"}, follow_redirects=False)


def csrf_of(client) -> str:
    """The session's CSRF token, as its pages carry it in every form."""
    import re
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)


@pytest.fixture
def client(web_repo: Path):
    """A browser logged in as the admin (https: the session cookie is Secure)."""
    from starlette.testclient import TestClient
    with TestClient(make_app(web_repo), base_url="https://testserver") as c:
        assert log_in(c, ACCOUNTS["admin"]).status_code == 303
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
