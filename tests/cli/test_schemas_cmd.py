"""`preserve schemas fetch`, and the cache it fills used when schemas.dir is not set."""

from __future__ import annotations

import pytest

from tests.builders import write_bag
from tests.cli.conftest import schemas_dir
from tests.unit.metadata.test_fetch import mirror


def test_fetch_fills_the_cache_that_ingest_then_uses(cli, tmp_path, monkeypatch):
    shared = schemas_dir()
    if shared is None or not (shared / "catalog.xml").is_file():
        pytest.skip("official XSDs not found (set PRESERVE_SCHEMAS)")
    monkeypatch.delenv("PRESERVE_SCHEMAS", raising=False)
    xdg = tmp_path / "xdg"
    cache = xdg / "preserve" / "schemas"
    with mirror(shared) as base:
        result = cli("--json", "schemas", "fetch", "--mirror", base, "--cache-dir", cache)
        assert result.code == 0, result.err
        document = result.json()
        assert document["cache_dir"] == str(cache)
        assert len(document["files"]) == 7 and (cache / "catalog.xml").is_file()
        tampered = cli("schemas", "fetch", "--mirror", base + "/nothing-here",
                       "--cache-dir", tmp_path / "other")
        assert tampered.code != 0 and "cannot download" in tampered.err

    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    home = tmp_path / "repo"
    assert cli("--repo", home, "init").code == 0
    bag = write_bag(tmp_path / "bag", {"a.txt": b"x\n"})
    result = cli("--repo", home, "--json", "ingest", bag)
    assert result.code == 0, result.out + result.err
    assert "META-W004" not in result.out + result.err
