"""Kills in the commit window never duplicate anything (issue 11 section 5).

A SIGKILL after the intent record is written, while the version moves into storage, or around
the catalog commit; then either `check`, `check --repair --yes` and the same ingest again, or
the re-run alone. Afterwards, always: exactly one package with the expected versions, one
event of each type per version, `check` exit 0, `staging/` empty, `log verify` and `audit`
pass, the storage root OCFL-valid.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.faults.cases import KILLED, WINDOW_CASES, WindowCase
from tests.faults.conftest import (
    assert_catalog_within_storage,
    assert_valid_storage,
    catalog_of,
    run_faulted,
    stored_objects,
)

DUPLICATE = {"ING-E002", "ING-E003", "ING-E009"}


@pytest.mark.parametrize("repair", [True, False], ids=["repair-rerun", "rerun"])
@pytest.mark.parametrize("case", WINDOW_CASES, ids=[c.id for c in WINDOW_CASES])
def test_kill_in_commit_window(case: WindowCase, repair: bool, cli, repo, deposits):
    args: tuple = ("ingest", deposits["v1"], "--id", "pkg")
    versions = 1
    if case.new_version:
        assert cli("--repo", repo, "ingest", deposits["v1"], "--id", "pkg").code == 0
        args = ("ingest", deposits["v2"], "--as-version-of", "pkg")
        versions = 2

    faulted = run_faulted(repo, *args, faults=[case.fault])
    assert faulted.code == KILLED, (faulted.out, faulted.err)

    if repair:
        looked = cli("--repo", repo, "check", "--min-age", "0")
        assert looked.code in (0, 12), (looked.out, looked.err)
        repaired = cli("--repo", repo, "check", "--repair", "--yes", "--min-age", "0")
        assert repaired.code in (0, 12), (repaired.out, repaired.err)
    again = cli("--repo", repo, "--json", *args)
    assert again.code in (0, 1, 11), (again.out, again.err)
    if again.code == 11:
        assert {f["code"] for f in again.json()["findings"]} <= DUPLICATE, again.out

    assert stored_objects(repo) == {"pkg": versions}
    with catalog_of(repo) as catalog:
        assert [p.package_id for p in catalog.list_packages()] == ["pkg"]
        assert catalog.head_version("pkg") == versions
        kinds = Counter((e.version, str(getattr(e.type, "value", e.type)))
                        for e in catalog.events("pkg") if e.version is not None)
        assert set(kinds.values()) == {1}, kinds
        assert {v for v, _t in kinds} == set(range(1, versions + 1))
        accepted = [d for d in catalog.deposits() if d.status == "accepted"]
        assert len(accepted) == versions  # one accepted deposit per version
        assert not [d for d in catalog.deposits() if d.status == "in_progress"]
    final = cli("--repo", repo, "check", "--min-age", "0")
    assert final.code == 0, (final.out, final.err)
    assert list((repo / "staging").iterdir()) == []
    assert cli("--repo", repo, "log", "verify").code == 0
    audited = cli("--repo", repo, "audit", "--all")
    assert audited.code == 0, (audited.out, audited.err)
    assert_valid_storage(repo)
    assert_catalog_within_storage(repo)
