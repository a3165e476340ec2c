"""`preserve audit` and `preserve log verify` as commands: output shapes, text, exit codes,
and `preserve log [ID]` still working next to `log verify`."""

from __future__ import annotations

from preserve.storage import object_path_for
from tests.builders import write_bag


def _ingest(cli, repo, tmp_path, package_id="pkg-1"):
    bag = write_bag(tmp_path / package_id, {"a.txt": b"a\n", "b\u202e.txt": b"bidi\n"})
    assert cli("--repo", repo, "-q", "ingest", bag, "--id", package_id).code in (0, 1)  # 1: NAME-W002


def test_json_document_shape(cli, repo, tmp_path):
    _ingest(cli, repo, tmp_path)
    d = cli("--repo", repo, "--json", "audit").json()
    assert {"run_id", "checked", "bytes", "passed", "failed", "missing", "unexpected",
            "chain_ok", "packages", "findings"} <= set(d)
    assert isinstance(d["run_id"], int) and isinstance(d["failed"], list)
    assert d["packages"] == [{"package_id": "pkg-1", "status": "ok", "checked": d["checked"],
                              "passed": d["checked"], "failed": 0}]


def test_text_summary_and_html_report_escape_names(cli, repo, tmp_path):
    _ingest(cli, repo, tmp_path)
    stored = repo / "ocfl" / object_path_for("pkg-1") / "v1/content/data/b\u202e.txt"
    stored.write_bytes(b"changed\n")
    report = tmp_path / "audit.html"
    result = cli("--repo", repo, "audit", "--report", report)
    assert result.code == 12
    assert "AUD-E001" in result.err and "failed" in result.out
    assert "\u202e" not in result.out  # names are printed escaped
    page = report.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "\u202e" not in page
    assert "data/b" in page and "damaged" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_log_list_package_and_verify(cli, repo, tmp_path):
    _ingest(cli, repo, tmp_path)
    all_events = cli("--repo", repo, "--json", "log").json()["events"]
    package_events = cli("--repo", repo, "--json", "log", "pkg-1").json()["events"]
    assert all_events and package_events
    assert cli("--repo", repo, "log", "unknown-package").code == 2  # usage error (issue 11)
    verify = cli("--repo", repo, "--json", "log", "verify")
    assert verify.code == 0
    document = verify.json()
    head = document.pop("head")
    assert document == {"ok": True, "checked": len(all_events), "first_bad_id": None,
                        "problem": "", "anchored": head,  # every writer anchored the head
                        "missing_triggers": []}
    assert head["events"] == len(all_events) and head["hash"] == all_events[-1]["hash"]
    text = cli("--repo", repo, "log", "verify")
    assert text.code == 0 and "intact" in text.out
    # A package that happens to be called "verify" is still reachable.
    assert cli("--repo", repo, "log", "--", "verify").code == 2


def test_audit_help_lists_the_options(cli):
    result = cli("audit", "--help")
    assert result.code == 0
    for option in ("--all", "--package", "--max-files", "--max-bytes", "--max-duration",
                   "--max-rate", "--workers", "--report"):
        assert option in result.out
