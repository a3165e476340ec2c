"""Fixtures shared by every test directory.

`postgres_url`: a fresh, empty PostgreSQL schema per test, as an SQLAlchemy URL whose
`search_path` points at it. The server comes from PRESERVE_TEST_POSTGRES_URL; when it cannot
be reached the test is skipped, unless PRESERVE_REQUIRE_POSTGRES=1 (CI), then it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _libpq_url(url: str) -> str:
    # libpq wants postgresql://; SQLAlchemy URLs name the driver (postgresql+psycopg://).
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


@pytest.fixture(scope="session")
def _postgres_server() -> str:
    url = os.environ.get("PRESERVE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        import psycopg

        with psycopg.connect(_libpq_url(url), connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except Exception as exc:  # any failure to reach the server means "no PostgreSQL here"
        message = f"PostgreSQL at {url} unreachable: {exc}"
        if os.environ.get("PRESERVE_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_url(_postgres_server: str) -> Iterator[str]:
    """An SQLAlchemy URL to a new empty schema, dropped after the test."""
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = _libpq_url(_postgres_server)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    joiner = "&" if "?" in _postgres_server else "?"
    yield f"{_postgres_server}{joiner}options=-csearch_path%3D{schema}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
