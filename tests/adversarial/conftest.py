"""Fixtures of the adversarial suite: the CLI (as in tests/cli), a real repository per case,
one local listener that hostile URLs point at, and a fresh workspace per case.

The repository is initialised once (`preserve init`, with the official XSDs) and copied for
each case: a copy is byte-for-byte what init writes, and it keeps ~130 cases from each
running the Alembic migrations again.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from preserve.cli import run
from tests.adversarial.harness import Listener, Workspace, catalog_of, copy_repo
from tests.cli.conftest import cli, schemas_dir  # noqa: F401  (cli: a fixture, re-exported)


@pytest.fixture(scope="session")
def repo_template(tmp_path_factory) -> Path:
    schemas = schemas_dir()
    if schemas is None:  # as tests/cli/conftest.py: CI has the XSDs and fails on any skip
        pytest.skip("official XSDs not found: set PRESERVE_SCHEMAS (../shared/schemas on dev/CI)")
    home = tmp_path_factory.mktemp("template") / "repo"
    assert run(["--repo", str(home), "-q", "init", "--schemas-dir", str(schemas)]) == 0
    with catalog_of(home) as catalog:
        assert catalog.deposits() == []  # each case counts the rows its ingest added
    return home


@pytest.fixture
def repo(repo_template, tmp_path) -> Path:
    """An initialised repository home (schema-validating), as tests/cli/conftest.py's."""
    return copy_repo(repo_template, tmp_path / "repo")


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def workspace(tmp_path, listener) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    return Workspace(root, listener)


class _CurrentStderr:
    """Whatever sys.stderr is when a line is logged (pytest swaps it per test and phase)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@pytest.fixture(autouse=True)
def _log_to_captured_stderr():
    """preserve's log handler is created once per process, bound to the stderr of the test
    that ran first; make it write to the current (captured) stderr, whose text the cases
    check."""
    from preserve.cli.context import configure_logging

    configure_logging(0)  # creates the handler if no test has yet
    handlers = [h for h in logging.getLogger("preserve").handlers
                if isinstance(h, logging.StreamHandler)]
    previous = [h.stream for h in handlers]
    for handler in handlers:
        handler.stream = _CurrentStderr()  # not setStream: it flushes a stream maybe closed
    yield
    for handler, stream in zip(handlers, previous, strict=True):
        handler.stream = stream
