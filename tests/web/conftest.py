from __future__ import annotations

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
    with TestClient(create_app(state.open_catalog, repository_name="Milliy kutubxona")) as c:
        yield c
