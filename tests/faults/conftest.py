"""Fixtures of the fault-injection harness: a repository, small deposits, the faulted CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bagit
import pytest

from preserve.catalog import Catalog, sqlite_url
from preserve.home import DEFAULT_LOCATION
from preserve.storage import StorageRoot
from tests.builders import write_bag
from tests.cli.conftest import cli, schemas_dir  # noqa: F401  (shared fixtures)
from tests.unit.storage.ocfl_oracle import validate_root

RUNNER = Path(__file__).with_name("runner.py")

PAYLOAD = {
    "Qoʻlyozmalar/varaq 001.txt": b"Uzbek Latin page\n" * 200,
    "Рукописи/Летопись.txt": "Летопись\n".encode() * 300,
    "نسخه‌های خطی/برگ ۱.txt": "دیوان حافظ\n".encode() * 100,
}
PAYLOAD_V2 = {**PAYLOAD, "new/page 2.txt": b"added in v2\n"}


@dataclass
class Completed:
    code: int
    out: str
    err: str


def run_faulted(repo: Path, *args: str | Path, faults: list[dict] | tuple = (),
                env: dict | None = None, wait: bool = True):
    """Run `preserve --repo REPO ARGS` in a subprocess with `faults` installed."""
    environ = {**os.environ, "PRESERVE_FAULTS": json.dumps(list(faults)),
               "XDG_CACHE_HOME": str(repo.parent / "xdg-cache")}
    environ.pop("PRESERVE_REPO", None)
    environ.update(env or {})
    command = [sys.executable, str(RUNNER), "--repo", str(repo), *map(str, args)]
    process = subprocess.Popen(command, env=environ, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    if not wait:
        return process
    out, err = process.communicate(timeout=120)
    return Completed(process.returncode, out, err)


def finish(process: subprocess.Popen) -> Completed:
    out, err = process.communicate(timeout=120)
    return Completed(process.returncode, out, err)


@pytest.fixture(scope="session")
def _template_repo(tmp_path_factory) -> Path:
    """One `preserve init` per session (migrating the catalog is most of a case's set-up)."""
    schemas = schemas_dir()
    if schemas is None:
        pytest.skip("official XSDs not found: set PRESERVE_SCHEMAS (../shared/schemas on dev/CI)")
    home = tmp_path_factory.mktemp("template") / "repo"
    from preserve.cli import run

    assert run(["--repo", str(home), "-q", "init", "--schemas-dir", str(schemas)]) == 0
    return home


@pytest.fixture
def repo(_template_repo, tmp_path) -> Path:
    """A fresh, initialised repository home: a copy of the template, its location re-pointed."""
    home = tmp_path / "repo"
    shutil.copytree(_template_repo, home)
    with catalog_of(home) as catalog:
        catalog.ensure_location(DEFAULT_LOCATION, (home / "ocfl").as_uri())
    return home


@pytest.fixture
def deposits(tmp_path) -> dict[str, Path]:
    root = tmp_path / "deposits"
    info = [("Source-Organization", "Milliy kutubxona"), ("Title", "Qoʻlyozmalar")]
    return {"v1": write_bag(root / "v1", PAYLOAD, bag_info=info),
            "v2": write_bag(root / "v2", PAYLOAD_V2, bag_info=info)}


def catalog_of(repo: Path) -> Catalog:
    return Catalog(sqlite_url(repo / "catalog.sqlite"))


def stored_objects(repo: Path) -> dict[str, int]:
    """Object id -> head version of every object in the storage root (inventories checked)."""
    storage = StorageRoot.open(repo / "ocfl")
    return {object_id: storage.head_version(object_id) for object_id in storage.iter_objects()}


def object_dirs(repo: Path) -> list[Path]:
    return list(StorageRoot.open(repo / "ocfl").iter_object_paths())


def assert_catalog_within_storage(repo: Path) -> None:
    """The catalog lists no package, and no version, that is not fully stored."""
    storage = StorageRoot.open(repo / "ocfl")
    with catalog_of(repo) as catalog:
        for package in catalog.list_packages():
            head = catalog.head_version(package.package_id)
            assert storage.has_object(package.package_id), package.package_id
            assert storage.head_version(package.package_id) >= head, package.package_id


def assert_valid_storage(repo: Path) -> None:
    report = validate_root(repo / "ocfl")
    assert report.valid and report.errors == set(), report.messages


def assert_bag_valid(repo: Path, tmp_path: Path) -> None:
    """bagit-python accepts the head version of every object, copied out via its inventory."""
    for object_dir in object_dirs(repo):
        inventory = json.loads((object_dir / "inventory.json").read_text("utf-8"))
        dest = tmp_path / "extracted" / object_dir.name
        for digest, paths in inventory["versions"][inventory["head"]]["state"].items():
            for logical in paths:
                target = dest / logical
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(object_dir / inventory["manifest"][digest][0], target)
        bagit.Bag(str(dest)).validate()


def work_dirs(repo: Path) -> list[str]:
    return sorted(p.name for p in (repo / "staging").iterdir() if p.is_dir())


@pytest.fixture
def read_only_mount(tmp_path) -> Iterator[Path]:
    """A tmpfs at tmp_path/mnt (root in this sandbox and in CI), remounted read-only by the
    test with `remount_ro`; unmounted afterwards."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def remount_ro(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
