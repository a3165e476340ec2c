"""PRONOM identification scans each content once (issue 17): duplicates within a deposit and
content an earlier version holds carry their format instead of being scanned again."""

from __future__ import annotations

from pathlib import Path

import pytest

from preserve.formats import FormatIdentifier
from preserve.ingest import ingest as ingest_module
from tests.builders import write_bag
from tests.cli.test_metadata_cmd import png


def _formats(cli, repo, package_id: str, version: int | None = None) -> dict[str, str]:
    shown = cli("--repo", repo, "--json", "show", package_id).json()
    return {f["path"]: f["format"] for f in shown["files"]}


def _identification_details(cli, repo, package_id: str) -> list[str]:
    shown = cli("--repo", repo, "--json", "show", package_id).json()
    return [e["detail"] for e in shown["events"] if e["type"] == "format identification"]


@pytest.fixture(params=["after the read", "while reading"])
def scanned(request, monkeypatch) -> list[list[str]]:
    """The names siegfried is given, one list per ingest: after the read in this process
    (a small deposit), or streamed to helper processes while the payload is read."""
    names: list[list[str]] = []
    if request.param == "after the read":
        original = FormatIdentifier.identify_many

        def spy(self, paths):
            names.append(sorted(Path(p).name for p in paths))
            return original(self, paths)

        monkeypatch.setattr(FormatIdentifier, "identify_many", spy)
    else:
        monkeypatch.setattr(ingest_module, "STREAM_MIN_FILES", 1)
        original_stream = FormatIdentifier.stream

        def spy_stream(self, helpers):
            stream = original_stream(self, helpers)
            names.append([])
            submit = stream.submit

            def spy_submit(key, path):
                names[-1].append(Path(path).name)
                names[-1].sort()
                submit(key, path)

            stream.submit = spy_submit
            return stream

        monkeypatch.setattr(FormatIdentifier, "stream", spy_stream)
    return names


def test_each_content_is_scanned_once(cli, repo, tmp_path, scanned):
    text = "Бобурнома\n".encode()
    first = write_bag(tmp_path / "v1", {"varaq.png": png(), "бет 1.txt": text, "нусха.txt": text})
    assert cli("--repo", repo, "ingest", first, "--id", "bobur").code == 0
    assert len(scanned) == 1 and len(scanned[0]) == 2  # the copy's twin is not scanned
    formats = _formats(cli, repo, "bobur")
    assert formats["data/бет 1.txt"] == formats["data/нусха.txt"] == "x-fmt/111"
    assert "2 scanned, 0 as identified in earlier versions (same sha512), 1 with the same " \
           "content as another file" in _identification_details(cli, repo, "bobur")[0]

    second = write_bag(tmp_path / "v2", {"varaq.png": png(), "бет 1.txt": text,
                                         "бет 2.txt": "Бобурнома, 2\n".encode()})
    assert cli("--repo", repo, "ingest", second, "--as-version-of", "bobur").code == 0
    assert scanned[1] == ["бет 2.txt"]  # the rest is held by v1 with its format
    formats = _formats(cli, repo, "bobur")
    assert formats["data/varaq.png"] in {"fmt/11", "fmt/12", "fmt/13"}
    assert formats["data/бет 1.txt"] == formats["data/бет 2.txt"] == "x-fmt/111"
    assert "1 scanned, 2 as identified in earlier versions" in \
           _identification_details(cli, repo, "bobur")[1]
    mets = cli("--repo", repo, "show", "bobur", "--mets").out
    assert "identified in v1 as data/varaq.png (same sha512); not scanned again" in mets
