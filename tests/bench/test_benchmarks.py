"""The benchmark corpus generator and harness (benchmarks/, issue 7) at a tiny scale.

No timings are asserted: these tests keep the harness from rotting. The figures live in
docs/performance.md.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import bagit

from benchmarks import corpus as corpora
from benchmarks import run


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_corpus_is_deterministic_and_a_valid_bag(tmp_path: Path) -> None:
    a = corpora.generate("many-small", tmp_path / "a", scale=0.002, seed=7)
    b = corpora.generate("many-small", tmp_path / "b", scale=0.002, seed=7)
    assert a.files == 40
    assert _tree(a.bag) == _tree(b.bag)
    other = corpora.generate("many-small", tmp_path / "c", scale=0.002, seed=8)
    assert _tree(other.bag).keys() == _tree(a.bag).keys()
    assert _tree(other.bag) != _tree(a.bag)

    sizes = [p.stat().st_size for p in a.payload.rglob("*") if p.is_file()]
    assert sum(sizes) == a.bytes
    assert all(4 * 1024 <= s <= 64 * 1024 for s in sizes)
    names = " ".join(p.name for p in a.payload.rglob("*"))
    assert "қ" in names or "Ў" in names or "р" in names  # Cyrillic
    assert any("\u0600" <= ch <= "\u06ff" for ch in names)  # Arabic script
    assert "\u02bb" in names  # Uzbek Latin oʻ / gʻ
    assert all(unicodedata.is_normalized("NFC", p.name) for p in a.payload.rglob("*"))
    assert any(p.is_dir() for p in (a.payload).iterdir())  # nested folders
    bagit.Bag(str(a.bag)).validate()  # an independent reader accepts it


def test_corpus_is_reused_when_written_alike(tmp_path: Path) -> None:
    first = corpora.generate("large", tmp_path / "l", scale=0.0001)
    marker = tmp_path / "l" / "corpus.json"
    stamp = marker.stat().st_mtime_ns
    again = corpora.generate("large", tmp_path / "l", scale=0.0001)
    assert again == first
    assert marker.stat().st_mtime_ns == stamp
    assert first.files == 2 and first.bytes == 2 * int(1024**3 * 0.0001)


def test_harness_runs_end_to_end(tmp_path: Path) -> None:
    results, out = tmp_path / "results.jsonl", tmp_path / "performance.md"
    code = run.main(["--quick", "--scale", "0.001", "--runs", "1", "--warmup", "0",
                     "--shapes", "many-small,scaling,due-copies", "--due-copies", "2000",
                     "--postgres", "none", "--work", str(tmp_path / "work"),
                     "--results", str(results), "--out", str(out)])
    assert code == 0
    records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    measured = {r["tool"]: r for r in records if r["type"] == "measure"
                and r["shape"] == "many-small"}
    for tool in ("preserve validate", "preserve ingest", "preserve audit --all",
                 "bagit validate", "bagit create", "ocfl-py create", "floor copy+hash",
                 "floor hash", "sha256sum", "sha256sum -P2", "cp -r + sync",
                 *(["preserve export"] if run.preserve_has_export() else [])):
        assert measured[tool]["ok"], (tool, measured[tool])
        assert measured[tool]["max_rss_kib"] > 0
    assert {r["situation"] for r in records if r["type"] == "due-copies"} == {
        "first audit", "nightly", "--all", "--package", "nothing due", "one check time"}
    text = out.read_text(encoding="utf-8")
    for heading in ("## many-small: 20 files", "## Targets", "## Scaling: 200 files",
                    "## Due copies: 2,000 copies"):
        assert heading in text
    assert "failed" not in text
    # the outputs are gone, the corpora stay for the next run
    assert not (tmp_path / "work" / "scratch" / "many-small").exists()
    assert (tmp_path / "work" / "corpora" / "many-small-0.001" / "corpus.json").is_file()


def test_profile_summary_counts_threads_and_functions(tmp_path: Path) -> None:
    from benchmarks import profile

    raw = tmp_path / "raw.txt"
    raw.write_text(
        "thread (1): MainThread;main (/x/cli/__init__.py:8);ingest (/x/ingest/ingest.py:10) 3\n"
        "thread (2): hash_0;work (/x/checksums.py:240);hash_file (/x/checksums.py:120) 1\n",
        encoding="utf-8")
    text = profile.summarise(raw)
    assert text.startswith("4 samples")
    assert " 75.0%  ingest (ingest.py)" in text and " 25.0%  hash_file (checksums.py)" in text


def test_s3_situation_runs_on_the_local_swift(tmp_path: Path, swift_server) -> None:
    # `swift_server`: the same .venv/swift must be there (the harness starts its own server)
    from benchmarks import s3_bench

    results, out = tmp_path / "results.jsonl", tmp_path / "performance.md"
    code = run.main(["--scale", "0.001", "--runs", "1", "--warmup", "0", "--shapes", "s3",
                     "--work", str(tmp_path / "work"), "--results", str(results),
                     "--out", str(out)])
    assert code == 0
    records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    measured = {(r["shape"], r["tool"]) for r in records if r["type"] == "s3"}
    tools = {tool for pair in s3_bench.PAIRS for tool in pair[:2]}
    assert measured == {(shape, tool) for shape in s3_bench.SHAPES for tool in tools}
    rows = s3_bench.summarise(records)
    assert {(r["shape"], r["what"]) for r in rows} == {
        (shape, what) for shape in s3_bench.SHAPES
        for what in ("replication", "read + hash", "replication with read-back")}
    assert all(r["ratio"] > 0 for r in rows)
    assert "## S3: replication to the local Swift" in out.read_text(encoding="utf-8")
    assert not (tmp_path / "work" / "scratch" / "s3-many-small").exists()


def test_ingest_memory_reports_the_peak_and_the_phases(tmp_path: Path) -> None:
    from benchmarks import ingest_memory

    corpus = corpora.generate("scaling", tmp_path / "corpus", scale=0.0001)
    result = ingest_memory.measure(corpus.bag, tmp_path / "repo", None)
    assert result["exit"] in (0, 1)  # 1: finished with warnings (no schemas here)
    assert isinstance(result["peak_rss_mib"], int) and result["peak_rss_mib"] > 0
    assert set(result["rss_at_phase_end_mib"]) <= {"read", "identified", "committed"}
    assert "committed" in result["rss_at_phase_end_mib"]
