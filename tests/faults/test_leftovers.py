"""Leftovers of killed runs (issue 18): an audit killed mid-run leaves its `audit_runs` row
`running`, an export killed mid-write its `.partial-*` file beside the destination.
`preserve check` reports both and `check --repair` closes the run as interrupted and removes
the partial file — with a real SIGKILL of the real CLI (runner.py)."""

from __future__ import annotations

import json

from tests.faults.conftest import PAYLOAD, run_faulted


def _ingest(cli, repo, tmp_path) -> None:
    from tests.builders import write_bag
    bag = write_bag(tmp_path / "bag", PAYLOAD)
    assert cli("--repo", repo, "ingest", bag, "--id", "left-1").code == 0


def test_a_killed_audit_is_closed_as_interrupted(cli, repo, tmp_path):
    _ingest(cli, repo, tmp_path)
    killed = run_faulted(repo, "audit", "--all", faults=[{
        "point": "call", "match": "preserve.catalog.audit_catalog:AuditCatalog.record_fixity",
        "action": "kill"}])
    assert killed.code == -9, killed.err
    report = cli("--repo", repo, "--json", "check", "--min-age", "0")
    assert report.code == 12
    assert [f["code"] for f in report.json()["findings"]] == ["CHK-E014"]
    assert cli("--repo", repo, "check", "--repair", "--yes", "--min-age", "0").code == 0
    runs = cli("--repo", repo, "--json", "check", "--min-age", "0")
    assert runs.code == 0, runs.out
    assert cli("--repo", repo, "audit", "--all").code == 0


def test_a_killed_export_leaves_a_partial_file_that_check_removes(cli, repo, tmp_path):
    _ingest(cli, repo, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    killed = run_faulted(repo, "export", "left-1", out / "p.zip", "--format", "zip", faults=[{
        "point": "write", "match": "*.partial-*", "nth": 1, "when": "after", "action": "kill"}])
    assert killed.code == -9, killed.err
    (partial,) = [p for p in out.iterdir()]
    assert ".partial-" in partial.name
    report = cli("--repo", repo, "--json", "check", "--min-age", "0")
    assert report.code == 12
    codes = sorted(f["code"] for f in report.json()["findings"])
    assert codes == ["CHK-E001", "CHK-E015"], json.dumps(report.json(), indent=1)
    assert cli("--repo", repo, "check", "--repair", "--yes", "--min-age", "0").code == 0
    assert list(out.iterdir()) == []
    assert cli("--repo", repo, "check", "--min-age", "0").code == 0
    # and the export, run again, succeeds
    assert cli("--repo", repo, "export", "left-1", out / "p.zip", "--format", "zip").code == 0
