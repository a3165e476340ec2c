"""Every adversarial deposit of the registry through the real CLI (issue 6, item 1).

For each case: `preserve validate` (text, then --json) and `preserve ingest --json` run against
a real repository, each guarded (harness.py): no hang, no network, nothing under the sentinel
directory opened. Then the assertions of docs/adversarial.md: exit codes, finding codes in the
output and in the one new `deposits` row, the storage root unchanged (rejected) or grown by
exactly one object (stored), nothing written outside staging, staging empty, the sentinel's
secret nowhere, and no raw control or bidi character in any output.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from preserve.names import escape_name, has_unsafe_characters
from preserve.storage.chainhead import HEAD_PATH
from tests.adversarial.harness import (
    Guard,
    Workspace,
    catalog_of,
    contains,
    copy_repo,
    guarded,
    snapshot,
)
from tests.adversarial.registry import REJECTED, Case, all_cases
from tests.cli.conftest import Result

CASES = all_cases()
#: Files of the repository home that change by design: the catalog (asserted through its rows)
#: and the lock files that serialise commits and audits.
CATALOG_FILES = frozenset({"catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm",
                           "catalog.sqlite-journal", "ingest.lock", "audit.lock",
                           # the event log's head, anchored in storage: moves with every event
                           f"ocfl/{HEAD_PATH}"})


def _rebuild(case: Case, ws: Workspace) -> Path:
    """Build the case's deposit afresh (a case that changes its deposit needs one per run)."""
    for name in ("deposits", "source"):
        shutil.rmtree(ws.root / name, ignore_errors=True)
    ws.deposits.mkdir()
    return case.build(ws)


def _run(cli, case: Case, ws: Workspace, deposit: Path, *args) -> tuple[Result, Guard]:
    if case.mutates_deposit:
        deposit = _rebuild(case, ws)
    with guarded() as guard:
        result = cli(*args, deposit)
    return result, guard


def _codes(result: Result) -> list[str]:
    document = result.json()
    assert "error" not in document, document  # an exception, not findings
    return [f["code"] for f in document["findings"]]


def _assert_codes(case: Case, found: list[str], what: str, validate: bool = False) -> None:
    expected = case.validate_findings if validate else case.codes
    if expected:
        missing = [c for c in expected if c not in found]
        assert not missing, f"{what}: expected {missing} among {found}"
    else:
        assert found == [], f"{what}: expected no finding, got {found}"


def _assert_clean_output(result: Result, what: str) -> None:
    for stream, text in (("stdout", result.out), ("stderr", result.err)):
        assert "Traceback" not in text, f"{what} {stream}: {text}"
        assert not has_unsafe_characters(text.replace("\n", "")), \
            f"{what} {stream} carries a raw control or bidi character: {text!r}"


def _rows(repo: Path):
    with catalog_of(repo) as catalog:
        return catalog.deposits()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_adversarial_deposit(case: Case, cli, repo, repo_template, workspace: Workspace,
                             monkeypatch, tmp_path):
    ws = workspace
    deposit = case.build(ws)
    for name, value in case.settings.items():
        monkeypatch.setenv(name, value)
    # validate unpacks archives under TMPDIR: keep that inside the workspace, and watch it.
    monkeypatch.setattr(tempfile, "tempdir", str(ws.tmp))
    second_repo = tmp_path / "repo-text"
    if case.names:  # the text view of an ingest is checked in a second repository
        copy_repo(repo_template, second_repo)
    ws_skip = frozenset({"deposits", "source"}) if case.mutates_deposit else frozenset()
    ws_before = snapshot(ws.root, ws_skip)
    repo_before = snapshot(repo, CATALOG_FILES)
    connections_before = ws.listener.settle()
    if case.during is not None:
        case.during(ws, deposit, monkeypatch)

    runs = {
        "validate": _run(cli, case, ws, deposit, "--repo", repo, "validate"),
        "validate --json": _run(cli, case, ws, deposit, "--repo", repo, "--json", "validate"),
        "ingest --json": _run(cli, case, ws, deposit, "--repo", repo, "--json", "ingest"),
    }
    if case.names:
        runs["ingest"] = _run(cli, case, ws, deposit, "--repo", second_repo, "ingest")
        with guarded() as guard:  # the event log names the deposit: shown escaped too
            runs["log"] = (cli("--repo", repo, "log"), guard)

    # Exit codes (3 would be a traceback) and finding codes.
    for what, (result, _) in runs.items():
        expected = (case.validate_code if what.startswith("validate") else
                    0 if what == "log" else case.ingest_exit)
        assert result.code == expected, f"{what}: exit {result.code}, expected {expected}\n" \
                                        f"{result.out}\n{result.err}"
        _assert_clean_output(result, what)
    _assert_codes(case, _codes(runs["validate --json"][0]), "validate --json", validate=True)
    _assert_codes(case, _codes(runs["ingest --json"][0]), "ingest --json")
    assert runs["ingest --json"][0].json()["rejected"] is (case.ingest_exit == REJECTED)

    # No hang (the guard's alarm), no network, nothing opened below the sentinel directory.
    sentinel = os.path.realpath(ws.sentinel)
    for what, (_, guard) in runs.items():
        assert guard.network == [], f"{what} tried the network: {guard.network}"
        # Paths as opened (not resolved: a deposit path may be a symlink to the sentinel by
        # now, and opening it with O_NOFOLLOW is exactly right).
        opened = [p for p in guard.touched if os.path.normpath(p).startswith(sentinel + os.sep)]
        assert opened == [], f"{what} opened files outside the deposit: {opened}"
    assert ws.listener.settle() == connections_before, "a connection reached the listener"

    # Names with control or bidi characters are printed escaped, in text and in JSON.
    for name in case.names:
        shown = escape_name(name)
        for what in ("validate", "ingest"):
            if what in runs:
                result = runs[what][0]
                assert shown in result.out + result.err, f"{what} does not show {shown!r}"
        if case.validate_findings:
            messages = " ".join(f["message"] for f in runs["validate --json"][0].json()["findings"])
            assert shown in messages, f"JSON messages do not show {shown!r}"

    # One new deposits row (the repository is a copy of a new one: none before), with the
    # findings.
    rows = _rows(repo)
    assert len(rows) == 1, [r.status for r in rows]
    row = rows[0]
    assert row.status == ("accepted" if case.stored else "rejected")
    _assert_codes(case, [f.code for f in row.findings], "deposits row")

    # Nothing written outside staging; staging empty; storage unchanged or one object more.
    assert snapshot(ws.root, ws_skip) == ws_before, "the workspace (deposit, sentinel, TMPDIR) " \
                                                    "changed"
    assert list(ws.tmp.iterdir()) == []
    assert list((repo / "staging").iterdir()) == []
    repo_after = snapshot(repo, CATALOG_FILES)
    if case.stored:
        changed = [p for p, v in repo_before.items() if repo_after.get(p) != v]
        assert changed == [], f"stored case changed existing paths: {changed}"
        added = [p for p in repo_after if p not in repo_before]
        assert all(p.startswith("ocfl/") for p in added), added
        assert len([p for p in added if p.endswith("/0=ocfl_object_1.1")]) == 1
    else:
        assert repo_after == repo_before, "a rejected deposit changed the repository"

    # The sentinel's secret appears in no output, no stored file, not the catalog.
    secret = ws.secret.encode()
    for what, (result, _) in runs.items():
        assert ws.secret not in result.out + result.err, f"{what} printed the sentinel's secret"
    assert contains(repo, secret) == []
    if second_repo.exists():
        assert contains(second_repo, secret) == []

    if case.check is not None:
        case.check(ws, repo)
