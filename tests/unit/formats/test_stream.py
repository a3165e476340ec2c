"""Identification while an ingest reads (preserve.formats.stream): the same answers as
`identify_many`, whether the helpers answer, die, or never start."""

from __future__ import annotations

import sys

from preserve.formats import FormatIdentifier
from preserve.formats import stream as stream_module
from tests.unit.formats.test_identify import _pdf, _png, _tiff

FILES = {"kartinka.png": _png(), "hujjat.pdf": _pdf(), "varaq.tif": _tiff(),
         "matn.txt": "Qoʻlyozma — қўлёзма — دستنویس\n".encode() * 20,
         "шум.bin": bytes(range(256)) * 30}


def _written(tmp_path, copies: int = 30):
    paths = []
    for n in range(copies):
        for name, data in FILES.items():
            path = tmp_path / f"{n:02d}-{name}"
            path.write_bytes(data)
            paths.append(path)
    return paths


def test_streamed_answers_equal_identify_many(tmp_path, monkeypatch):
    monkeypatch.setattr(stream_module, "CHUNK", 7)  # several lines per helper, a short last one
    paths = _written(tmp_path)
    alone = FormatIdentifier(workers=1).identify_many(paths)
    identifier = FormatIdentifier(workers=2)
    stream = identifier.stream(2)
    for path in paths:
        stream.submit(path.name, path)
    found = stream.results()
    assert found == {path.name: alone[path] for path in paths}
    assert identifier.tool.startswith("siegfried ")
    assert "(" in identifier.tool  # the helpers' signature set was kept


def test_a_dead_helper_leaves_its_files_to_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr(stream_module, "CHUNK", 5)
    paths = _written(tmp_path, copies=4)
    alone = FormatIdentifier(workers=1).identify_many(paths)

    def dies(*args: str) -> list[str]:  # reads one line, then exits with an error
        return [sys.executable, "-c", "import sys; sys.stdin.readline(); sys.exit(3)"]

    monkeypatch.setattr(stream_module, "worker_command", dies)
    stream = FormatIdentifier(workers=2).stream(2)
    for path in paths:
        stream.submit(str(path), path)
    assert stream.results() == {str(path): alone[path] for path in paths}


def test_no_helper_at_all(tmp_path, monkeypatch):
    paths = _written(tmp_path, copies=2)
    alone = FormatIdentifier(workers=1).identify_many(paths)

    def missing(*args: str) -> list[str]:
        return [str(tmp_path / "no-such-python")]

    monkeypatch.setattr(stream_module, "worker_command", missing)
    stream = FormatIdentifier(workers=2).stream(2)
    for path in paths:
        stream.submit(path, path)
    assert stream.results() == alone


def test_cancel_stops_the_helpers(tmp_path):
    stream = FormatIdentifier(workers=2).stream(2)
    for path in _written(tmp_path, copies=2):
        stream.submit(path, path)
    stream.cancel()
    assert all(helper.process.poll() is not None for helper in stream._helpers)
