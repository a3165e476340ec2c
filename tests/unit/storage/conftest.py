"""Fixtures for the OCFL storage tests: a fresh root and staging area in tmp_path."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from preserve.storage import StorageRoot, VersionBuilder

CREATED = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.timezone.utc)


def digests_of(data: bytes, *extra: str) -> dict[str, str]:
    return {alg: hashlib.new(alg, data).hexdigest() for alg in ("sha256", "sha512", *extra)}


def put(builder: VersionBuilder, logical_path: str, data: bytes, *extra: str,
        write: bool = True) -> bool:
    """Write `data` for `logical_path` (unless write=False) and declare it."""
    if write:
        builder.content_target(logical_path).write_bytes(data)
    return builder.add(logical_path, digests_of(data, *extra), written=write)


class Stager:
    """Hands out fresh, empty staging directories next to the root (same filesystem)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.count = 0

    def __call__(self) -> Path:
        self.count += 1
        path = self.base / f"s{self.count}"
        path.mkdir(parents=True)
        return path


@pytest.fixture
def root(tmp_path: Path) -> StorageRoot:
    return StorageRoot.create(tmp_path / "ocfl")


@pytest.fixture
def staging(tmp_path: Path) -> Stager:
    return Stager(tmp_path / "staging")


def commit(builder: VersionBuilder, message: str = "ingest") -> Path:
    return builder.commit(created=CREATED, message=message, user_name="Preserve test",
                          user_address="mailto:archivist@example.org")


def tree(path: Path) -> dict[str, bytes]:
    """Every file under `path` with its bytes (to compare before and after)."""
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
