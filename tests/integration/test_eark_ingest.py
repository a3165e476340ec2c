"""E-ARK packages from other archives: every declared checksum is checked (issue 12 §4).

Packages are built by `tests.builders.write_eark`; a byte flipped in transit under an MD5 (or
SHA-1, SHA-384) declaration is a rejection, not a "cannot verify" warning.
"""

from __future__ import annotations

import pytest

from tests.builders import mets_document, write_eark

FILES = {"page 1.txt": b"first page\n", "Қолжазба/бет.txt": "бет\n".encode()}
REJECTED = 11


def codes_of(result) -> list[str]:
    return [f["code"] for f in result.json()["findings"]]


def ingest(cli, repo, path, *args):
    return cli("--repo", repo, "--json", "ingest", path, *args)


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-1", "SHA-384", "SHA-512"])
def test_declared_checksums_are_verified(cli, repo, tmp_path, algorithm):
    package = write_eark(tmp_path / "eark", FILES, algorithm=algorithm)
    result = ingest(cli, repo, package, "--id", "e-1")
    assert result.code in (0, 1), result.out
    assert "IMP-W003" not in codes_of(result) and "IMP-E001" not in codes_of(result)


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-1", "SHA-256"])
def test_a_flipped_byte_is_a_rejection(cli, repo, tmp_path, algorithm):
    package = write_eark(tmp_path / "eark", FILES, algorithm=algorithm)
    target = package / "representations" / "rep1" / "data" / "page 1.txt"
    data = bytearray(target.read_bytes())
    data[3] ^= 0x01
    target.write_bytes(bytes(data))
    result = ingest(cli, repo, package, "--id", "e-1")
    assert result.code == REJECTED, result.out
    assert [f["path"] for f in result.json()["findings"] if f["code"] == "IMP-E001"] == [
        "page 1.txt"]
    assert cli("--repo", repo, "--json", "show", "e-1").code != 0  # nothing stored


def test_size_only_declaration_is_checked(cli, repo, tmp_path):
    package = write_eark(tmp_path / "eark", FILES, algorithm="")
    (package / "representations" / "rep1" / "data" / "page 1.txt").write_bytes(b"first page")
    result = ingest(cli, repo, package)
    assert result.code == REJECTED and "IMP-E001" in codes_of(result)


def test_root_mets_filesec_is_checked(cli, repo, tmp_path):
    metadata = {"metadata/descriptive/notes.txt": b"notes\n",
                "documentation/readme.txt": b"read me\n"}
    package = write_eark(tmp_path / "eark", FILES, metadata=metadata)
    (package / "documentation" / "readme.txt").write_bytes(b"read me!")
    (package / "metadata" / "descriptive" / "notes.txt").unlink()
    result = ingest(cli, repo, package)
    assert result.code == REJECTED
    found = {(f["code"], f["path"]) for f in result.json()["findings"]}
    assert ("IMP-E001", "documentation/readme.txt") in found
    assert ("IMP-E002", "metadata/descriptive/notes.txt") in found


def test_root_mets_filesec_intact_is_accepted(cli, repo, tmp_path):
    package = write_eark(tmp_path / "eark", FILES,
                         metadata={"documentation/readme.txt": b"read me\n"})
    result = ingest(cli, repo, package)
    assert result.code in (0, 1), result.out
    assert not {"IMP-E001", "IMP-E002", "IMP-W001"} & set(codes_of(result))


@pytest.mark.parametrize("name", ["mets.xml", "METS.XML", "METS.xml.xml"])
def test_misnamed_root_mets_is_still_eark(cli, repo, tmp_path, name):
    package = write_eark(tmp_path / "eark", FILES, mets_name=name)
    result = ingest(cli, repo, package, "--id", "e-1")
    assert result.code == 1, result.out
    assert "EARK-W001" in codes_of(result)
    shown = cli("--repo", repo, "--json", "show", "e-1")
    assert shown.code == 0
    # read as E-ARK: the payload is the representation's data, not the whole folder
    assert "data/page 1.txt" in shown.out and "data/representations" not in shown.out

    flipped = write_eark(tmp_path / "eark2", FILES, mets_name=name, objid="eark-2")
    (flipped / "representations" / "rep1" / "data" / "page 1.txt").write_bytes(b"First page\n")
    assert "IMP-E001" in codes_of(ingest(cli, repo, flipped))


def test_hrefs_outside_the_package_are_never_followed(cli, repo, tmp_path):
    package = write_eark(tmp_path / "eark", FILES)
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"secret")
    root = mets_document({"representations/rep1/METS.xml": (
        (package / "representations/rep1/METS.xml").read_bytes(), "SHA-256"),
        "../outside.txt": (b"secret", "SHA-256"),
        "https://example.org/evil.xml": (b"x", "MD5"),
        "/etc/passwd": (b"x", "MD5")}, objid="eark-pkg")
    (package / "METS.xml").write_text(root, encoding="utf-8")
    result = ingest(cli, repo, package)
    assert result.code == 1, result.out
    messages = [f["message"] for f in result.json()["findings"] if f["code"] == "IMP-W004"]
    assert len(messages) == 3
    assert any("a URL" in m for m in messages) and any("outside the package" in m
                                                       for m in messages)
    assert "IMP-E002" not in codes_of(result)


def test_validate_checks_what_ingest_checks(cli, repo, tmp_path):
    package = write_eark(tmp_path / "eark", FILES, algorithm="MD5", mets_name="mets.xml")
    result = cli("--json", "validate", package)
    assert "IMP-W003" not in codes_of(result) and "EARK-W001" in codes_of(result)
    (package / "representations" / "rep1" / "data" / "page 1.txt").write_bytes(b"First page\n")
    result = cli("--json", "validate", package)
    assert result.code == REJECTED and "IMP-E001" in codes_of(result)
