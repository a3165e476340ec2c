"""`preserve get ID PATH` (issue 16, §6): one stored file, verified on the way out."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from preserve.storage import layout
from tests.builders import MULTILINGUAL, write_bag

PACKAGE = "uz-get-1"
NAME = "نسخه‌های خطی/برگ ۱.txt"


def _ingest(cli, repo: Path, tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "deposit", MULTILINGUAL)
    assert cli("--repo", repo, "-q", "ingest", bag, "--id", PACKAGE).code == 0


def _stored(root: Path) -> Path:
    return root / layout.object_path_for(PACKAGE) / "v1" / "content" / "data" / NAME


def test_a_file_comes_out_byte_exact_and_verified(cli, repo, tmp_path):
    _ingest(cli, repo, tmp_path)
    out = tmp_path / "page.txt"
    result = cli("--repo", repo, "--json", "get", PACKAGE, NAME, "-o", out)
    assert result.code == 0, result.err
    assert out.read_bytes() == MULTILINGUAL[NAME]
    document = result.json()
    assert document["path"] == "data/" + NAME and document["read_from"] == "local"
    assert document["sha512"] == hashlib.sha512(MULTILINGUAL[NAME]).hexdigest()
    # The same with data/ spelled out and the version named; nothing is overwritten.
    again = cli("--repo", repo, "get", PACKAGE, "data/" + NAME, "--version", "v1", "-o", out)
    assert again.code == 2 and "already exists" in again.err
    assert out.read_bytes() == MULTILINGUAL[NAME]


def test_to_standard_output(repo, cli, tmp_path):
    _ingest(cli, repo, tmp_path)
    done = subprocess.run([sys.executable, "-m", "preserve", "--repo", str(repo), "get",
                           PACKAGE, NAME], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == MULTILINGUAL[NAME]


def test_unknown_file_and_version_are_usage_errors(cli, repo, tmp_path):
    _ingest(cli, repo, tmp_path)
    missing = cli("--repo", repo, "get", PACKAGE, "nope.txt", "-o", tmp_path / "x")
    assert missing.code == 2 and "has no file 'nope.txt'" in missing.err
    assert cli("--repo", repo, "get", PACKAGE, NAME, "--version", "v7",
               "-o", tmp_path / "x").code == 2
    assert cli("--repo", repo, "--json", "get", PACKAGE, NAME).code == 2
    assert not (tmp_path / "x").exists()


def test_a_damaged_file_is_refused_and_nothing_is_written(cli, repo, tmp_path):
    _ingest(cli, repo, tmp_path)
    stored = _stored(repo / "ocfl")
    data = bytearray(stored.read_bytes())
    data[0] ^= 1
    stored.write_bytes(bytes(data))
    out = tmp_path / "page.txt"
    result = cli("--repo", repo, "get", PACKAGE, NAME, "-o", out)
    assert result.code == 12
    assert "nothing was written" in result.err and "local" in result.err
    assert list(tmp_path.glob("*page.txt*")) == []


def test_a_damaged_local_copy_is_skipped_for_a_good_replica(cli, repo, tmp_path):
    vault = tmp_path / "vault"
    assert cli("--repo", repo, "locations", "add", "vault", "--kind", "local",
               "--path", vault).code == 0
    _ingest(cli, repo, tmp_path)
    assert cli("--repo", repo, "-q", "replicate", "--location", "vault").code == 0
    stored = _stored(repo / "ocfl")
    stored.write_bytes(b"damaged")
    out = tmp_path / "page.txt"
    result = cli("--repo", repo, "--json", "get", PACKAGE, NAME, "-o", out)
    assert result.code == 0, result.err
    assert result.json()["read_from"] == "vault" and out.read_bytes() == MULTILINGUAL[NAME]
    assert "did not verify" in result.err
