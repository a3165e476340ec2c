"""`preserve check --repair` asks before it changes anything: on a terminal it waits for the
answer, without one it refuses (exit 2) instead of hanging; `--yes` skips the question."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.builders import tree_snapshot
from tests.check.conftest import age, staging_leftover


def test_without_a_terminal_and_without_yes_it_refuses(cli, repo):
    work = staging_leftover(repo)
    age(work)
    before = tree_snapshot(repo / "staging")
    result = cli("--repo", repo, "--json", "check", "--repair")
    assert result.code == 2
    assert "--yes" in result.json()["error"]
    assert tree_snapshot(repo / "staging") == before
    # Nothing to repair: nothing to ask, so no terminal is needed.
    assert cli("--repo", repo, "check", "--repair", "--min-age", "1000").code == 0


def _on_a_terminal(repo: Path, answer: bytes) -> tuple[int, str]:
    """Run `preserve check --repair` with a pseudo-terminal as stdin, answering `answer`."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "preserve", "--repo", str(repo), "check", "--repair"],
            stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PRESERVE_SCHEMAS": os.environ.get("PRESERVE_SCHEMAS", "")})
        os.write(controller, answer)
        out, err = process.communicate(timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    return process.returncode, (out + err).decode()


def test_answering_no_on_a_terminal_changes_nothing(cli, repo):
    work = staging_leftover(repo)
    age(work)
    events = len(cli("--repo", repo, "--json", "log").json()["events"])
    code, output = _on_a_terminal(repo, b"n\n")
    assert code == 12, output
    assert "Repair 1 item(s)" in output and "nothing was changed" in output
    assert work.is_dir()
    assert len(cli("--repo", repo, "--json", "log").json()["events"]) == events
