"""`preserve report` on SQLite and PostgreSQL: ingests, a rejected deposit, a damaged copy
(issue 16 §6)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import struct
import zlib

from preserve.storage import object_path_for
from tests.builders import write_bag


def test_report_counts_holdings_storage_audit_and_deposits(cli, any_repo, tmp_path):
    repo = any_repo
    for n, files in enumerate(({"Бобурнома.txt": b"abc", "نسخه.txt": b"defgh"},
                               {"Qoʻlyozma.txt": b"x" * 10})):
        bag = write_bag(tmp_path / f"bag{n}", files)
        assert cli("--repo", repo, "-q", "ingest", bag, "--id", f"pkg-{n}").code == 0
    broken = write_bag(tmp_path / "Сынған", {"бет.txt": b"original"})
    (broken / "data" / "бет.txt").write_bytes(b"changed!")
    assert cli("--repo", repo, "-q", "ingest", broken).code == 11
    stored = repo / "ocfl" / object_path_for("pkg-1") / "v1/content/data/Qoʻlyozma.txt"
    stored.write_bytes(b"y" * 10)
    assert cli("--repo", repo, "-q", "audit").code == 12

    d = cli("--repo", repo, "--json", "report").json()
    year = dt.datetime.now(dt.UTC).year
    assert d["holdings_by_year"] == [{"year": year, "packages": 2, "versions": 2, "files": 3,
                                      "bytes": 18}]
    assert d["holdings_by_depositor"] == [{"depositor": "Milliy kutubxona", "year": year,
                                           "packages": 2, "versions": 2, "files": 3,
                                           "bytes": 18}]
    [local] = d["storage"]
    assert local["location"] == "local" and local["damaged"] == 1 and local["missing"] == 0
    assert local["ok"] == local["copies"] - 1
    audit = d["audit"]
    assert audit["damaged"] == 1 and audit["copies"] == local["copies"]
    assert audit["checked_within_interval"] == audit["copies"]  # the audit just ran
    assert audit["overdue"] == 0
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    assert d["deposits_by_month"] == [{"month": month, "deposits": 3, "accepted": 2,
                                       "rejected": 1, "failed": 0}]
    # Formats count what is held as holdings do: the payload of each head version.
    assert sum(f["files"] for f in d["formats"]) == 3
    assert sum(f["bytes"] for f in d["formats"]) == 18

    rows = list(csv.reader(io.StringIO(cli("--repo", repo, "report", "--format", "csv").out)))
    assert ["deposits_by_month", month, "3", "2", "1", "0"] in rows
    text = cli("--repo", repo, "report").out
    assert "Deposits per month" in text and month in text


def _png() -> bytes:
    """A valid 1x1 RGB PNG (PNG specification, 2nd edition: signature, IHDR, IDAT, IEND)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def test_report_names_each_pronom_format_in_every_output(cli, any_repo, tmp_path):
    """The formats section gives PRONOM's name and version beside each PUID (issue 16 §6),
    as siegfried names the file itself: text, JSON, CSV and HTML, on both databases."""
    import pygfried

    png = _png()
    bag = write_bag(tmp_path / "bag", {"сурат.png": png, "matn.txt": b"plain words\n"})
    assert cli("--repo", any_repo, "-q", "ingest", bag, "--id", "img-1").code == 0
    [match] = pygfried.identify(str(bag / "data" / "сурат.png"), detailed=True)["files"][0][
        "matches"]
    puid, name, version = match["id"], match["format"], match["version"]
    assert puid.startswith("fmt/") and name == "Portable Network Graphics" and version

    d = cli("--repo", any_repo, "--json", "report").json()
    assert {"puid": puid, "name": name, "version": version, "files": 1,
            "bytes": len(png)} in d["formats"]
    text_entry = next(f for f in d["formats"] if f["puid"] == "x-fmt/111")
    assert text_entry["name"] == "Plain Text File"

    rows = list(csv.reader(io.StringIO(cli("--repo", any_repo, "report", "--format",
                                           "csv").out)))
    assert ["section", "puid", "name", "version", "files", "bytes"] in rows
    assert ["formats", puid, name, version, "1", str(len(png))] in rows
    text = cli("--repo", any_repo, "report").out
    line = next(x for x in text.splitlines() if x.startswith(puid + " "))
    assert name in line and version in line
    page = tmp_path / "report.html"
    assert cli("--repo", any_repo, "report", "--format", "html", "-o", page).code == 0
    assert f"<td>{puid}</td><td>{name}</td><td>{version}</td>" in page.read_text("utf-8")


def test_html_report_is_self_contained_and_escapes_hostile_names(cli, repo, tmp_path):
    (repo / "preserve.toml").write_text(
        (repo / "preserve.toml").read_text("utf-8").replace(
            'name = ""', 'name = "<script>alert(1)</script> \u202eкутубхона"'), "utf-8")
    bag = write_bag(tmp_path / "bag", {"a.txt": b"a"})
    assert cli("--repo", repo, "-q", "ingest", bag).code == 0
    page_file = tmp_path / "report.html"
    assert cli("--repo", repo, "report", "--format", "html", "-o", page_file).code == 0
    page = page_file.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "\u202e" not in page and "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page
    assert "Holdings by year" in page and "Audit coverage" in page
    assert cli("--repo", repo, "report", "--format", "pdf").code == 2


def test_report_counts_each_held_file_once_and_metadata_versions_by_their_depositor(
        cli, any_repo, tmp_path):
    """A metadata-only version (rights --add) repeats no payload in the formats and belongs
    to the package's depositor; a deaccessioned package is no longer held."""
    repo = any_repo
    bag = write_bag(tmp_path / "bag", {"Бобурнома.txt": b"abc"})
    assert cli("--repo", repo, "-q", "ingest", bag, "--id", "kept").code == 0
    rights = tmp_path / "huquq.csv"
    rights.write_text("basis,status\ncopyright,copyrighted\n", encoding="utf-8")
    assert cli("--repo", repo, "-q", "rights", "kept", "--add", rights).code == 0
    d = cli("--repo", repo, "--json", "report").json()
    assert [(f["puid"], f["files"], f["bytes"]) for f in d["formats"]] == [("x-fmt/111", 1, 3)]
    assert [(h["depositor"], h["versions"]) for h in d["holdings_by_depositor"]] == [
        ("Milliy kutubxona", 2)]
