"""`preserve export ID DEST --format eark` through the real ingest -> audit -> export path."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

from lxml import etree

from preserve.export.eark import verify_eark
from tests.builders import MULTILINGUAL, write_bag

from .conftest import errors_of
from .test_eark_export import VALIDATOR_DEFECTS

PREMIS = "{http://www.loc.gov/premis/v3}"
CSV = ("title,title[uz-Cyrl],title[fa-Arab],type\n"
       "Qoʻlyozmalar toʻplami,Қўлёзмалар тўплами,مجموعه نسخه‌های خطی,Text\n")

KILLER = """
import os, signal, sys
from preserve.export import eark
original, calls = eark.copy_stream_and_hash, []
def killed(*args, **kwargs):
    calls.append(1)
    if len(calls) == 3:  # halfway through the payload
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)
eark.copy_stream_and_hash = killed
from preserve.cli import main
main(sys.argv[1:])
"""


def _ingest(cli, repo: Path, tmp_path: Path) -> str:
    bag = write_bag(tmp_path / "deposit", MULTILINGUAL, bag_info=(
        ("Source-Organization", "Oʻzbekiston Milliy kutubxonasi"),
        ("External-Identifier", "UZ-NL-MS-0042")), tag_manifests=False)
    (bag / "metadata").mkdir()
    (bag / "metadata" / "descriptive.csv").write_text(CSV, encoding="utf-8")
    assert cli("--repo", repo, "ingest", bag, "--id", "pkg-42").code == 0
    assert cli("--repo", repo, "audit", "--all").code == 0  # a fixity check in the history
    return "pkg-42"


def test_ingested_package_exports_as_eark_accepted_by_the_validator(
        cli, repo, tmp_path, eark_validator):
    package = _ingest(cli, repo, tmp_path)
    dest = tmp_path / "out"
    dest.mkdir()
    result = cli("--repo", repo, "--json", "export", package, dest, "--format", "eark")
    assert result.code == 0, result.err
    document = result.json()
    target = Path(document["path"])
    assert target == dest / "pkg-42-v1-eark" and document["format"] == "eark"
    assert os.listdir(dest) == ["pkg-42-v1-eark"]  # nothing temporary left beside it
    assert verify_eark(target) == []

    for name, data in MULTILINGUAL.items():
        assert (target / "representations/rep1/data" / name).read_bytes() == data
    premis = etree.parse(str(target / "metadata/preservation/premis.xml")).getroot()
    ids = {e.findtext(f"{PREMIS}eventIdentifier/{PREMIS}eventIdentifierValue")
           for e in premis.iter(f"{PREMIS}event")}
    kinds = [e.findtext(f"{PREMIS}eventType") for e in premis.iter(f"{PREMIS}event")]
    assert {"ingestion", "fixity check", "transfer"} <= set(kinds)
    assert document["transfer_event"] in ids
    assert len(ids) == document["events"]
    log = cli("--repo", repo, "--json", "log", package).json()["events"]
    assert ids <= {e["identifier"] for e in log} | {document["transfer_event"]}

    report = eark_validator(target)["packages"][0]["report"]
    assert report["structure"]["status"] == "WellFormed"
    assert report["metadata"]["schema_results"]["status"] == "VALID"
    errors = errors_of(report["metadata"]["schematron_results"]["messages"])
    assert {e["rule_id"] for e in errors} <= VALIDATOR_DEFECTS, errors


def test_a_killed_eark_export_leaves_nothing_that_looks_complete(cli, repo, tmp_path):
    package = _ingest(cli, repo, tmp_path)
    dest = tmp_path / "out"
    dest.mkdir()
    env = dict(os.environ, PRESERVE_SCHEMAS=os.environ.get("PRESERVE_SCHEMAS", ""))
    done = subprocess.run([sys.executable, "-c", KILLER, "--repo", str(repo), "export", package,
                           str(dest), "--format", "eark"], env=env, capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    left = os.listdir(dest)
    assert left and all(n.startswith(".pkg-42-v1-eark") and ".partial-" in n for n in left), left
    assert cli("--repo", repo, "export", package, dest, "--format", "eark").code == 0
    assert verify_eark(dest / "pkg-42-v1-eark") == []


def test_eark_zip_is_one_portable_folder_named_by_objid_and_keeps_the_id(
        cli, repo, tmp_path, eark_validator):
    """--format eark-zip (issue 12 §4): one zip, its one folder the package id made portable
    (a `urn:uuid:` id has colons Windows refuses), mets/@OBJID equal to that folder's name;
    the validator accepts it, and another archive ingesting it keeps the real id."""
    bag = write_bag(tmp_path / "deposit", MULTILINGUAL, tag_manifests=False)
    stored = cli("--repo", repo, "--json", "ingest", bag)  # a generated urn:uuid: id
    assert stored.code == 0, stored.err
    package = stored.json()["package_id"]
    assert package.startswith("urn:uuid:")
    dest = tmp_path / "out"
    dest.mkdir()
    result = cli("--repo", repo, "--json", "export", package, dest, "--format", "eark-zip")
    assert result.code == 0, result.err
    target = Path(result.json()["path"])
    folder = package.replace(":", "_")
    assert target.name == f"{folder}-v1-eark.zip" and ":" not in target.name
    assert os.listdir(dest) == [target.name]
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert {n.split("/")[0] for n in names} == {folder}
        assert not any(":" in n for n in names)
        mets = etree.fromstring(archive.read(f"{folder}/METS.xml"))
        assert mets.get("OBJID") == folder
        for name, data in MULTILINGUAL.items():
            assert archive.read(f"{folder}/representations/rep1/data/{name}") == data
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(target) as archive:
        archive.extractall(unpacked)
    report = eark_validator(unpacked / folder)["packages"][0]["report"]
    assert report["structure"]["status"] == "WellFormed"
    assert report["metadata"]["schema_results"]["status"] == "VALID"
    errors = errors_of(report["metadata"]["schematron_results"]["messages"])
    assert {e["rule_id"] for e in errors} <= VALIDATOR_DEFECTS, errors
    # The receiving archive takes the zip as it is and keeps the id and the history.
    other = tmp_path / "other"
    assert cli("--repo", other, "init").code == 0
    received = cli("--repo", other, "--json", "ingest", target)
    assert received.code in (0, 1), received.err
    assert received.json()["package_id"] == package
    log = cli("--repo", other, "--json", "log", package).json()["events"]
    assert {"ingestion", "transfer"} <= {e["type"] for e in log}
    # DEST named with another extension is refused for a zip format.
    assert cli("--repo", repo, "export", package, tmp_path / "x.tar",
               "--format", "eark-zip").code == 2
