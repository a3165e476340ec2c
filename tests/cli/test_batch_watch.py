"""`ingest --batch DIR` and `watch DIR` with real deposits (issue 16 §5)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from tests.builders import write_bag, write_folder


def drop_folder(root: Path) -> Path:
    root.mkdir()
    write_bag(root / "Бобурнома", {"varaq-001.txt": "Бобурнома".encode()})
    good = write_bag(root.parent / "zip-src" / "Qoʻlyozma", {"sahifa.txt": b"sahifa"})
    with zipfile.ZipFile(root / "qoʻlyozma.zip", "w") as archive:
        for path in sorted(good.rglob("*")):
            if path.is_file():
                archive.write(path, Path("Qoʻlyozma") / path.relative_to(good))
    write_folder(root / "نسخه", {"صفحه ۱.txt": "بابرنامه".encode()})
    broken = write_bag(root / "Сынған", {"бет.txt": b"original"})
    (broken / "data" / "бет.txt").write_bytes(b"changed!")  # same size, wrong digest
    (root / ".DS_Store").write_bytes(b"hidden")
    return root


def test_batch_ingests_each_deposit_and_sums_up(cli, repo, tmp_path):
    folder = drop_folder(tmp_path / "drop")
    result = cli("--repo", repo, "--json", "ingest", "--batch", folder)
    assert result.code == 11, result.err
    document = result.json()
    by_name = {d["name"]: d for d in document["deposits"]}
    assert set(by_name) == {"Бобурнома", "qoʻlyozma.zip", "نسخه", "Сынған"}
    assert {n: d["status"] for n, d in by_name.items()} == {
        "Бобурнома": "ingested", "qoʻlyozma.zip": "ingested", "نسخه": "ingested",
        "Сынған": "rejected"}
    assert by_name["Сынған"]["exit_code"] == 11
    assert any(f["severity"] == "error" for f in by_name["Сынған"]["findings"])
    totals = document["totals"]
    assert totals == {"deposits": 4, "ingested": 3, "rejected": 1, "failed": 0,
                      "files": 3, "bytes": sum(d["bytes"] for d in document["deposits"]),
                      "exit_code": 11}
    # Each its own attempt: four deposit rows.
    listed = cli("--repo", repo, "--json", "deposits")
    assert listed.code == 0
    rows = listed.json()
    rows = rows["deposits"] if isinstance(rows, dict) else rows
    assert len(rows) == 4
    text = cli("--repo", repo, "ingest", "--batch", folder)  # again: all duplicates now
    assert text.code == 11
    assert "4 deposits: 0 ingested, 4 rejected, 0 failed" in text.out


def test_watch_once_moves_to_done_and_failed_and_leaves_a_growing_file(cli, repo, tmp_path):
    folder = drop_folder(tmp_path / "drop")
    result = cli("--repo", repo, "watch", folder, "--once", "--settle", "0.5")
    assert result.code == 11, result.err
    done = sorted(os.listdir(folder / "done"))
    assert done == sorted(["Бобурнома", "Бобурнома.report.json", "qoʻlyozma.zip",
                           "qoʻlyozma.zip.report.json", "نسخه", "نسخه.report.json"])
    assert sorted(os.listdir(folder / "failed")) == ["Сынған", "Сынған.report.json"]
    report = json.loads((folder / "failed" / "Сынған.report.json").read_text("utf-8"))
    assert report["status"] == "rejected" and report["source"] == str(folder / "Сынған")
    assert (folder / "done" / "Бобурнома" / "data" / "varaq-001.txt").exists()  # moved, kept
    assert os.listdir(folder / ".processing") == []
    assert (folder / ".DS_Store").exists()
    # A file still being written is not taken.
    growing = folder / "katta.zip"
    with open(growing, "wb") as stream:
        proc = subprocess.Popen([sys.executable, "-c", (
            "import sys,time\n"
            "f=open(sys.argv[1],'ab')\n"
            "for i in range(40):\n f.write(b'x'*100); f.flush(); time.sleep(0.05)\n"),
            str(growing)])
        try:
            result = cli("--repo", repo, "watch", folder, "--once", "--settle", "0.6")
        finally:
            proc.wait()
        del stream
    assert result.code == 0
    assert growing.exists() and not (folder / "failed" / "katta.zip").exists()


def test_a_watcher_recovers_a_claimed_deposit_and_stops_on_sigterm(cli, repo, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / ".processing").mkdir()
    # A watcher died after claiming this one and before ingesting it.
    write_bag(folder / ".processing" / "Yarim", {"a.txt": b"yarim"})
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "preserve", "--repo", str(repo), "watch",
                             str(folder), "--interval", "0.2", "--settle", "0.3"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        write_bag(folder / "Yangi", {"b.txt": b"yangi"})
        while time.monotonic() < deadline:
            if (folder / "done").is_dir() and {"Yarim", "Yangi"} <= set(os.listdir(folder / "done")):
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopping (SIGTERM)" in err.decode()
    assert {"Yarim", "Yarim.report.json", "Yangi", "Yangi.report.json"} <= set(
        os.listdir(folder / "done"))
    assert os.listdir(folder / ".processing") == []


def test_a_deposit_whose_report_was_written_is_moved_not_ingested_again(cli, repo, tmp_path):
    folder = tmp_path / "drop"
    (folder / ".processing").mkdir(parents=True)
    write_bag(folder / ".processing" / "Tayyor", {"a.txt": b"tayyor"})
    (folder / ".processing" / "Tayyor.report.json").write_text(
        json.dumps({"status": "ingested"}), "utf-8")
    (folder / "done").mkdir()
    write_bag(folder / "done" / "Tayyor", {"old.txt": b"an earlier deposit of the same name"})
    result = cli("--repo", repo, "watch", folder, "--once", "--settle", "0")
    assert result.code == 0, result.err
    assert sorted(os.listdir(folder / "done")) == ["Tayyor", "Tayyor.1", "Tayyor.1.report.json"]
    assert (folder / "done" / "Tayyor.1" / "data" / "a.txt").read_bytes() == b"tayyor"
    rows = cli("--repo", repo, "--json", "deposits").json()
    rows = rows["deposits"] if isinstance(rows, dict) else rows
    assert rows == []  # moved, not ingested a second time
