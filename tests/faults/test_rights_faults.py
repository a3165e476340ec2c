"""`preserve rights ID --add` killed in its commit window (issue 16 §1): nothing is lost or
doubled; `check --repair` records the stored version with its statements as planned."""

from __future__ import annotations

import pytest

from tests.faults.conftest import (
    assert_bag_valid,
    assert_valid_storage,
    catalog_of,
    run_faulted,
    stored_objects,
)

PACKAGE = "fault-rights"
RIGHTS = "basis,jurisdiction,note[uz-Cyrl]\ncopyright,uz,Фақат ўқув залида\n"


@pytest.mark.parametrize("fault", [
    # killed before anything reached storage: nothing stored, the next run adds the rights
    {"point": "write", "match": "*/intent.json", "when": "before", "action": "kill"},
    # the root inventory replaced (committed), the catalog transaction not yet run
    {"point": "call", "match": "preserve.catalog.repository:Catalog.record_ingest",
     "when": "before", "action": "kill"},
], ids=["before-storage", "before-catalog"])
def test_killed_rights_add_leaves_nothing_or_what_check_repair_completes(
        cli, repo, deposits, tmp_path, fault):
    assert cli("--repo", repo, "-q", "ingest", deposits["v1"], "--id", PACKAGE).code == 0
    rights = tmp_path / "huquq.csv"
    rights.write_text(RIGHTS, encoding="utf-8")
    killed = run_faulted(repo, "rights", PACKAGE, "--add", rights, faults=[fault])
    assert killed.code == -9, killed.err
    repaired = cli("--repo", repo, "check", "--repair", "--yes", "--min-age", "0")
    assert repaired.code in (0, 12), repaired.out + repaired.err
    head = stored_objects(repo)[PACKAGE]
    with catalog_of(repo) as catalog:
        assert catalog.head_version(PACKAGE) == head
    shown = cli("--repo", repo, "--json", "rights", PACKAGE).json()["rights"]
    assert len(shown) == head - 1  # v2 stored: its statement is there, recorded once
    if head == 1:
        assert cli("--repo", repo, "rights", PACKAGE, "--add", rights).code == 0
        shown = cli("--repo", repo, "--json", "rights", PACKAGE).json()["rights"]
        assert len(shown) == 1
    assert shown[0]["notes"] == [{"text": "Фақат ўқув залида", "lang": "uz-Cyrl"}]
    assert cli("--repo", repo, "check", "--min-age", "0").code == 0
    with catalog_of(repo) as catalog:
        changes = [e for e in catalog.events(PACKAGE)
                   if str(getattr(e.type, "value", e.type)) == "metadata modification"
                   and str(getattr(e.outcome, "value", e.outcome)) == "success"]
        assert len(changes) == 1
    assert_valid_storage(repo)
    assert_bag_valid(repo, tmp_path)
