"""A `preserve describe` killed at any point of its commit leaves either nothing or a state
`preserve check --repair` completes (issue 16 §3; the ingest's guarantees, docs/faults.md)."""

from __future__ import annotations

import pytest

from tests.cli.test_describe import CSV
from tests.faults.cases import KILLED
from tests.faults.conftest import (
    assert_bag_valid,
    assert_catalog_within_storage,
    assert_valid_storage,
    catalog_of,
    run_faulted,
    stored_objects,
    work_dirs,
)

_CONTENT = "*/staging/ingest-*/version/object/v2/content/*"
KILLS = {
    "mets-opened": {"point": "open", "match": _CONTENT + "metadata/mets.xml", "when": "after"},
    "intent-written": {"point": "write", "match": "*/intent.json", "when": "after"},
    "v2-renamed-in": {"point": "rename", "match": "*/ocfl/*/v2", "when": "after"},
    "root-inventory-replaced": {"point": "replace", "match": "*/ocfl/*/inventory.json",
                                "when": "after"},
    "catalog-write": {"point": "call", "match": "preserve.catalog.eventlog:append",
                      "when": "after"},
}


@pytest.mark.parametrize("where", sorted(KILLS))
def test_kill_during_describe(where, cli, repo, deposits, tmp_path):
    assert cli("--repo", repo, "ingest", deposits["v1"], "--id", "pkg").code == 0
    csv = tmp_path / "тавсиф.csv"
    csv.write_text(CSV, encoding="utf-8")
    fault = {**KILLS[where], "nth": 1, "action": "kill"}
    killed = run_faulted(repo, "describe", "pkg", "--metadata", csv, faults=[fault])
    assert killed.code == KILLED, (killed.out, killed.err)
    repaired = cli("--repo", repo, "check", "--repair", "--yes", "--min-age", "0")
    assert repaired.code in (0, 12), (repaired.out, repaired.err)
    # Describing again is always safe: it finishes what the killed run left (a commit
    # interrupted between the root inventory and its sidecar, a version stored but not
    # recorded: recorded as planned) or clears it (nothing stored), then adds its version.
    again = cli("--repo", repo, "--json", "describe", "pkg", "--metadata", csv)
    assert again.code == 0, (again.out, again.err)
    head = stored_objects(repo)["pkg"]
    assert again.json()["version"] == head and head in (2, 3)
    with catalog_of(repo) as catalog:
        assert catalog.head_version("pkg") == head
        changes = [e for e in catalog.events("pkg")
                   if str(getattr(e.type, "value", e.type)) == "metadata modification"
                   and str(getattr(e.outcome, "value", e.outcome)) == "success"]
        # one per metadata-only version: the killed run's recorded once, or not at all
        assert sorted(e.version for e in changes) == list(range(2, head + 1))
    assert cli("--repo", repo, "check", "--min-age", "0").code == 0
    assert_catalog_within_storage(repo)
    assert work_dirs(repo) == []
    assert_valid_storage(repo)
    assert_bag_valid(repo, tmp_path)
