"""A deaccession killed (SIGKILL, tests/faults/runner.py) at any step of its removal leaves
either nothing removed or a removal that `preserve check --repair` completes (issue 16 §2)."""

from __future__ import annotations

import json

import pytest

from preserve.storage import layout
from tests.faults.conftest import assert_valid_storage, catalog_of, run_faulted

PACKAGE = "Рукопись-ҳужжат-9"
KILLED = -9


def _person(name: str) -> dict[str, str]:
    return {"LOGNAME": name, "USER": name, "LNAME": name, "USERNAME": name}


@pytest.fixture
def approved_setup(cli, repo, deposits, tmp_path):
    vault = tmp_path / "vault"
    assert cli("--repo", repo, "locations", "add", "vault", "--kind", "local",
               "--path", vault).code == 0
    ingested = cli("--repo", repo, "ingest", deposits["v1"], "--id", PACKAGE)
    assert ingested.code == 0, ingested.err
    assert cli("--repo", repo, "replicate", "--location", "vault").code == 0
    made = run_faulted(repo, "--json", "deaccession", "request", PACKAGE, "--reason",
                       "муаллифлик ҳуқуқи", env=_person("dilnoza"))
    assert made.code == 0, made.err
    return vault, json.loads(made.out)["id"]


@pytest.mark.parametrize("fault", [
    # in the middle of emptying the first location (some files gone, the object torn)
    {"point": "call", "match": "preserve.storage.local:LocalLocation.remove", "nth": 3,
     "when": "before", "action": "kill"},
    # every copy removed, the catalog transaction not run
    {"point": "call", "nth": 1, "when": "before", "action": "kill",
     "match": "preserve.catalog.deaccession_catalog:DeaccessionCatalog.complete_deaccession"},
], ids=["mid-removal", "before-catalog"])
def test_killed_removal_is_completed_by_check_repair(cli, repo, approved_setup, fault):
    vault, request_id = approved_setup
    base = layout.object_path_for(PACKAGE)
    killed = run_faulted(repo, "deaccession", "approve", str(request_id), "--yes",
                         faults=[fault], env=_person("aigerim"))
    assert killed.code == KILLED, killed.err
    with catalog_of(repo) as catalog:
        assert catalog.deaccession_request(request_id).state == "approved"
        assert catalog.final_mets(request_id) is not None  # the intent, before any removal
    checked = cli("--repo", repo, "--json", "check")
    assert checked.code == 12
    assert [f["code"] for f in checked.json()["found"]] == ["CHK-E016"]
    repaired = cli("--repo", repo, "--json", "check", "--repair", "--yes")
    assert repaired.code == 0, repaired.out + repaired.err
    assert not (repo / "ocfl" / base).exists() and not (vault / base).exists()
    assert_valid_storage(repo)
    with catalog_of(repo) as catalog:
        assert catalog.deaccession_request(request_id).state == "completed"
        assert catalog.package_state(PACKAGE) == "deaccessioned"
        assert [e.type for e in catalog.events(PACKAGE)].count("deaccession") == 1
    assert cli("--repo", repo, "check").code == 0
    assert cli("--repo", repo, "log", "verify").code == 0
    assert cli("--repo", repo, "audit", "--all").code == 0


def test_killed_before_the_approval_is_recorded_removes_nothing(cli, repo, approved_setup):
    vault, request_id = approved_setup
    base = layout.object_path_for(PACKAGE)
    fault = {"point": "call", "nth": 1, "when": "before", "action": "kill",
             "match": "preserve.catalog.deaccession_catalog:DeaccessionCatalog.decide_deaccession"}
    killed = run_faulted(repo, "deaccession", "approve", str(request_id), "--yes",
                         faults=[fault], env=_person("aigerim"))
    assert killed.code == KILLED, killed.err
    assert (repo / "ocfl" / base).is_dir() and (vault / base).is_dir()
    assert cli("--repo", repo, "check").code == 0
    assert cli("--repo", repo, "audit", "--all").code == 0
    again = run_faulted(repo, "deaccession", "approve", str(request_id), "--yes",
                        env=_person("aigerim"))
    assert again.code == 0, again.err
    assert not (repo / "ocfl" / base).exists()
