"""`preserve report` on SQLite and PostgreSQL: ingests, a rejected deposit, a damaged copy
(issue 16 §6)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from preserve.storage import object_path_for
from tests.builders import write_bag
from tests.cli.conftest import schemas_dir


@pytest.fixture(params=["sqlite", "postgresql"])
def any_repo(request, cli, tmp_path):
    home = tmp_path / "repo"
    args = ["--repo", home, "init", "--schemas-dir", schemas_dir()]
    if request.param == "postgresql":
        args += ["--catalog-url", request.getfixturevalue("postgres_url")]
    assert cli(*args).code == 0
    return home


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
    assert sum(f["files"] for f in d["formats"]) == local["copies"]

    rows = list(csv.reader(io.StringIO(cli("--repo", repo, "report", "--format", "csv").out)))
    assert ["deposits_by_month", month, "3", "2", "1", "0"] in rows
    text = cli("--repo", repo, "report").out
    assert "Deposits per month" in text and month in text


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
