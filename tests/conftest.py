"""Fixtures shared by every test directory.

`postgres_url`: a fresh, empty PostgreSQL schema per test, as an SQLAlchemy URL whose
`search_path` points at it. The server comes from PRESERVE_TEST_POSTGRES_URL; when it cannot
be reached the test is skipped, unless PRESERVE_REQUIRE_POSTGRES=1 (CI), then it fails.

`swift_server`: a real S3 server (OpenStack Swift with s3api, scripts/swift_server.py), started
once per session from `.venv/swift` (made by `make test`) and stopped at the end. When Swift is
not installed or does not start, S3 tests are skipped, unless PRESERVE_REQUIRE_S3=1 (CI), then
they fail. `s3_location`: a factory of `S3Location`s, each on a fresh bucket of that server.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

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


def _load_swift_script():
    name = "preserve_swift_server"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent.parent / "scripts" / "swift_server.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def swift_server():
    """The running Swift server (`.endpoint`, `.access_key`, `.secret_key`, `.kill()`...)."""
    server = _load_swift_script().SwiftServer()
    try:
        server.start()
    except Exception as exc:  # not installed, or it did not start: say why
        server.stop()
        message = f"the local Swift S3 server is not available: {exc}"
        if os.environ.get("PRESERVE_REQUIRE_S3") == "1":
            pytest.fail(message)
        pytest.skip(message)
    yield server
    server.stop()


def new_bucket_name() -> str:
    return f"test-{uuid.uuid4().hex[:20]}"


@pytest.fixture
def s3_location(swift_server) -> Callable[..., object]:
    """`s3_location(name="s3", prefix="ocfl/", **options)`: an S3Location on a new bucket."""
    from preserve.storage.s3 import S3Location

    def make(name: str = "s3", prefix: str = "ocfl/", bucket: str | None = None,
             **options: object) -> S3Location:
        options.setdefault("access_key", swift_server.access_key)
        options.setdefault("secret_key", swift_server.secret_key)
        options.setdefault("endpoint", swift_server.endpoint)
        location = S3Location(name, bucket=bucket or new_bucket_name(), prefix=prefix, **options)
        if bucket is None:
            location.create_bucket_if_missing()
        return location

    return make
