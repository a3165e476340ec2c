"""A normal install works (issue 11, item 1): the wheel and the sdist carry the migration
history and the schema source list inside the package, and a failed `init` leaves nothing.

`scripts/wheel_smoke.sh` (run by .ci/run) installs the wheel into a fresh virtualenv outside
the checkout and runs init, ingest, audit, export and check from it."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from preserve.cli import run

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["preserve/_migrations/env.py", "preserve/_migrations/script.py.mako",
           "preserve/_migrations/versions/0001_initial.py", "preserve/_schemas/sources.json"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    # PyPA's front end, in an isolated build environment, as a packager would build them.
    done = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir",
                           str(out), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheels = list(out.glob("*.whl"))
    sdists = list(out.glob("*.tar.gz")) + list(out.glob("*.zip"))
    assert wheels, list(out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0] if sdists else None}


def test_the_wheel_carries_migrations_schema_sources_and_license(built):
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    missing = [n for n in SHIPPED if n not in names]
    assert missing == []
    versions = sorted(n for n in names if n.startswith("preserve/_migrations/versions/"))
    assert len(versions) == len(list((ROOT / "alembic" / "versions").glob("*.py")))
    assert any(n.endswith("licenses/LICENSE") for n in names)


def test_the_sdist_carries_the_top_level_folders(built):
    if built["sdist"] is None:
        pytest.fail("no sdist was built")
    with tarfile.open(built["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for name in ("alembic/env.py", "schemas/sources.json", "LICENSE", "preserve/_migrations"):
        assert name in names, name


def test_a_failed_init_leaves_nothing_and_a_second_init_works(tmp_path, monkeypatch, capsys):
    home = tmp_path / "repo"
    # A catalog server that refuses connections: the migration step fails after the storage
    # root and directories were made.
    monkeypatch.setenv("PRESERVE_CATALOG_URL", "postgresql+psycopg://postgres@127.0.0.1:1/test")
    assert run(["--repo", str(home), "init"]) == 14
    assert not home.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "README").write_text("kept", encoding="utf-8")
    assert run(["--repo", str(existing), "init"]) == 14
    assert sorted(p.name for p in existing.iterdir()) == ["README"]
    monkeypatch.delenv("PRESERVE_CATALOG_URL")
    assert run(["--repo", str(home), "init"]) == 0
    assert (home / "preserve.toml").is_file() and (home / "ocfl" / "0=ocfl_1.1").is_file()
