"""Fixtures of the catalog tests: every test runs on SQLite and on PostgreSQL.

`backend` gives a fresh database URL (a SQLite file in tmp_path, or a fresh PostgreSQL schema
from `postgres_url`) and a raw DB-API connection for the tests that play the attacker
(dropping the append-only trigger, editing rows behind the catalog's back).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from preserve.catalog import Catalog, sqlite_url, upgrade

from .helpers import Backend


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        path = tmp_path / "catalog.sqlite"
        return Backend("sqlite", sqlite_url(path), path)
    return Backend("postgres", request.getfixturevalue("postgres_url"))


@pytest.fixture
def catalog(backend: Backend) -> Iterator[Catalog]:
    upgrade(backend.url)
    with Catalog(backend.url) as opened:
        yield opened
