"""Fixtures for `preserve check`: real repositories built through the CLI, and the aftermath
of crashes and mistakes made for real (copied, removed or restored files; no mocks)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from preserve.catalog import Catalog
from preserve.home import Home
from preserve.storage import object_path_for
from tests.builders import write_bag
from tests.cli.conftest import cli, repo, schemas_dir  # noqa: F401  (shared fixtures)

OLD = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)


def ingest(cli, home: Path, source_root: Path, package_id: str,  # noqa: F811  (cli: the fixture's value)
           files: dict[str, bytes] | None = None, *, as_version_of: bool = False,
           info: tuple[tuple[str, str], ...] = ()) -> None:
    bag = write_bag(source_root / f"{package_id}-{len(list(source_root.glob('*')))}",
                    files or {"page 1.txt": b"first page\n",
                              "Рукопись.txt": f"текст {package_id}\n".encode()},
                    bag_info=(("Source-Organization", "Milliy kutubxona"), *info))
    args = ["--repo", home, "-q", "ingest", bag]
    args += ["--as-version-of", package_id] if as_version_of else ["--id", package_id]
    result = cli(*args)
    assert result.code == 0, result.err


def object_dir(home: Path, package_id: str) -> Path:
    return home / "ocfl" / object_path_for(package_id)


def age(path: Path, when: dt.datetime = OLD) -> None:
    """Make `path` and everything under it look last written at `when`."""
    stamp = when.timestamp()
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [*dirnames, *filenames]:
            os.utime(os.path.join(dirpath, name), (stamp, stamp), follow_symlinks=False)
    os.utime(path, (stamp, stamp))


def copy_object(source_home: Path, target_home: Path, package_id: str) -> Path:
    """Copy an OCFL object into another repository's storage root, as an operator might."""
    target = object_dir(target_home, package_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(object_dir(source_home, package_id), target)
    return target


def staging_leftover(home: Path, name: str = "ingest-0123456789abcdef0123456789abcdef") -> Path:
    """What an ingest killed mid-copy leaves: its work directory with a half-staged version."""
    work = home / "staging" / name
    content = work / "version" / "object" / "v1" / "content" / "data"
    content.mkdir(parents=True)
    (content / "page 1.txt").write_bytes(b"first pa")
    (work / "deposit").mkdir()
    return work


def stuck_deposit(catalog_url: str, started: dt.datetime = OLD) -> int:
    with Catalog(catalog_url) as catalog:
        return catalog.begin_deposit(source="/deposits/killed-bag", kind="bag", started=started)


def sqlite_url(home: Path) -> str:
    return Home(home).catalog_url()


@pytest.fixture
def other_repo(tmp_path, cli) -> Path:  # noqa: F811
    """A second repository whose objects get copied into the first."""
    home = tmp_path / "other"
    if schemas_dir() is None:
        pytest.skip("official XSDs not found: set PRESERVE_SCHEMAS")
    assert cli("--repo", home, "init", "--schemas-dir", schemas_dir()).code == 0
    return home
