"""`preserve check --repair` against a PostgreSQL catalog: adoption (bulk inserts and the
advisory-locked event chain), copies marked missing, a stuck deposit marked failed."""

from __future__ import annotations

import shutil

import pytest

from preserve.catalog import Catalog
from tests.check.conftest import age, copy_object, ingest, object_dir, stuck_deposit
from tests.cli.conftest import schemas_dir


@pytest.mark.postgres
def test_repair_with_a_postgresql_catalog(cli, tmp_path, postgres_url, other_repo):
    home = tmp_path / "pgrepo"
    assert cli("--repo", home, "init", "--catalog-url", postgres_url,
               "--schemas-dir", schemas_dir()).code == 0
    ingest(cli, home, tmp_path, "gone")
    shutil.rmtree(object_dir(home, "gone").parents[2])  # all of it, layout dirs too
    ingest(cli, other_repo, tmp_path, "found", info=(("External-Identifier", "PG-2"),))
    age(copy_object(other_repo, home, "found"))
    deposit = stuck_deposit(postgres_url)
    result = cli("--repo", home, "--json", "check", "--repair", "--yes")
    assert result.code == 12, result.out + result.err  # "gone" needs restoring
    assert sorted(a["action"] for a in result.json()["actions"]) == [
        "adopted", "marked failed", "marked missing"]
    shown = cli("--repo", home, "--json", "show", "found").json()
    assert shown["external_identifiers"] == ["PG-2"] and len(shown["files"]) > 2
    with Catalog(postgres_url) as catalog:
        assert {d.id: d.status for d in catalog.deposits()}[deposit] == "failed"
        assert catalog.verify_chain().ok
        gone = catalog.get_package("gone")
    assert {c.status for f in gone.files for c in f.copies} == {"missing"}
