"""Sizes, durations and rates with units (issue 11: --max-bytes 500G, --max-duration 6h,
--max-rate 200MB/s), and the values that must be refused."""

from __future__ import annotations

import pytest
import typer

from preserve.cli import units


@pytest.mark.parametrize(("text", "expected"), [
    ("2048", 2048), ("500G", 500 * 10**9), ("500GB", 500 * 10**9), ("1.5TiB", int(1.5 * 2**40)),
    ("10 MiB", 10 * 2**20), ("7k", 7000), ("3B", 3)])
def test_sizes(text, expected):
    assert units.size(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("3600", 3600), ("6h", 6 * 3600), ("1h30m", 5400), ("90m", 5400), ("45s", 45),
    ("2d", 172800), ("1.5h", 5400), ("0", 0)])
def test_durations(text, expected):
    assert units.duration(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("200MB/s", 200e6), ("50MiB/s", 50 * 2**20), ("1.5", 1.5e6), ("1G/s", 1e9)])
def test_rates(text, expected):
    assert units.rate(text) == expected


@pytest.mark.parametrize(("parse", "text"), [
    (units.size, "nan"), (units.size, "inf"), (units.size, "-1"), (units.size, "0"),
    (units.size, "5X"), (units.duration, "nan"), (units.duration, "2w"),
    (units.duration, "-5"), (units.duration, "inf"), (units.rate, "nan"), (units.rate, "inf"),
    (units.rate, "0"), (units.rate, "-3"), (units.rate, "200MB"), (units.rate, "0MB/s")])
def test_refused(parse, text):
    with pytest.raises(typer.BadParameter):
        parse(text)


def test_the_cli_takes_units(cli, repo):
    result = cli("--repo", repo, "audit", "--max-bytes", "500G", "--max-duration", "1h30m",
                 "--max-rate", "200MB/s")
    assert result.code == 0, result.err
    assert cli("--repo", repo, "audit", "--max-rate", "nan").code == 2
