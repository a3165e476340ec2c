"""A clock that lies (issue 18, "The clock"), with the real `faketime` (LD_PRELOAD) around a
real `preserve` process: a run ten years ahead must neither excuse copies from checks for ten
years (SQLite) nor record check times ahead of the database's own clock (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from preserve.catalog import Catalog
from tests.cli.conftest import schemas_dir
from tests.integration.test_audit import audit, catalog, ingest

FAKETIME = shutil.which("faketime")


def _faked_audit(repo: Path, *args: str) -> dict:
    if FAKETIME is None:
        pytest.fail("faketime is not installed: `apt-get install -y faketime` (.ci/run does)")
    env = {**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    env.pop("PRESERVE_REPO", None)
    done = subprocess.run([FAKETIME, "-f", "+3650d", sys.executable, "-m", "preserve", "--repo",
                           str(repo), "--json", "audit", *args],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _check_times(cat: Catalog, package_id: str) -> list[dt.datetime]:
    return [c.last_fixity_at for f in cat.get_package(package_id).files for c in f.copies]


def test_a_run_ten_years_ahead_does_not_excuse_copies_on_sqlite(cli, repo, tmp_path):
    ingest(cli, repo, tmp_path, "pkg-1")
    faked = _faked_audit(repo, "--all")
    assert int(faked["started"][:4]) >= dt.date.today().year + 9  # it did run ahead
    with catalog(repo) as cat:
        total = len(cat.get_package("pkg-1").files)
        assert max(_check_times(cat, "pkg-1")).year >= dt.date.today().year + 9
    # The next normal run: every copy is due again (not in ten years), and the jump is
    # reported and recorded.
    result = audit(cli, repo)
    assert result.code == 0, result.out
    d = result.json()
    assert d["checked"] == total
    assert any("jumped back" in w["message"] for w in d["warnings"])
    with catalog(repo) as cat:
        assert max(_check_times(cat, "pkg-1")) < dt.datetime.now(dt.UTC) + \
            dt.timedelta(minutes=1)


@pytest.mark.postgres
def test_check_times_never_run_ahead_of_postgres(cli, tmp_path, postgres_url):
    home = tmp_path / "pgrepo"
    assert cli("--repo", home, "init", "--catalog-url", postgres_url,
               "--schemas-dir", schemas_dir()).code == 0
    ingest(cli, home, tmp_path, "pkg-1")
    faked = _faked_audit(home, "--all")
    [warning] = [w for w in faked["warnings"] if w["code"] == "AUD-W002"]
    assert "ahead of the catalog database's" in warning["message"]
    with Catalog(postgres_url) as cat:
        times = _check_times(cat, "pkg-1")
    now = dt.datetime.now(dt.UTC)
    assert times and all(abs(t - now) < dt.timedelta(minutes=5) for t in times)
