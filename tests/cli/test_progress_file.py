"""PRESERVE_PROGRESS_FILE (cli/render.py): a command started without a terminal (the web
app's tasks) keeps its byte progress in a file, replaced whole, ending at the total."""

from __future__ import annotations

import json

from tests.builders import write_bag


def test_ingest_and_audit_keep_their_progress_in_the_named_file(cli, repo, tmp_path,
                                                                monkeypatch):
    payload = {"Қўлёзма.txt": b"x" * 300_000, "b.txt": b"y" * 1000}
    bag = write_bag(tmp_path / "bag", payload)
    target = tmp_path / "progress.json"
    monkeypatch.setenv("PRESERVE_PROGRESS_FILE", str(target))
    assert cli("--repo", repo, "ingest", bag, "--id", "p-1").code == 0
    said = json.loads(target.read_text(encoding="utf-8"))
    assert said["what"] == "ingesting" and said["done"] == said["total"] > 301_000 - 1
    assert not target.with_name("progress.json.partial").exists()
    assert cli("--repo", repo, "audit", "--all").code == 0
    said = json.loads(target.read_text(encoding="utf-8"))
    assert said["what"] == "auditing" and said["done"] == said["total"] > 0


def test_an_unwritable_progress_file_never_fails_the_command(cli, repo, tmp_path, monkeypatch):
    monkeypatch.setenv("PRESERVE_PROGRESS_FILE", str(tmp_path / "no" / "such" / "dir" / "p"))
    bag = write_bag(tmp_path / "bag", {"a.txt": b"a"})
    assert cli("--repo", repo, "ingest", bag, "--id", "p-2").code == 0
