"""BagIt profiles (bagit-profiles 1.4): reading profiles, each rule its own PROF- code."""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path

from preserve.deposit import open_deposit
from preserve.deposit.profile import (
    ProfileChoice,
    check_bag,
    load_profile,
    profile_findings,
    profile_index,
    read_profile_file,
)
from tests.builders import write_bag

PROFILES = Path(__file__).resolve().parents[3] / "profiles"
CONSORTIUM = "https://profiles.example.org/central-asian-manuscripts/v1.json"
FILES = {"Бобурнома/varaq-001.tif": b"II*\x00varaq", "نسخه/صفحه ۱.txt": "بابرنامه".encode()}


def codes(findings) -> list[str]:
    return sorted(f.code for f in findings)


def consortium_bag(root: Path, **overrides) -> Path:
    info = [("Source-Organization", "Қазақстан Ұлттық кітапханасы"),
            ("External-Identifier", "QR-1234/Ә"), ("Bagging-Date", "2026-12-01"),
            ("BagIt-Profile-Identifier", CONSORTIUM)]
    return write_bag(root, FILES, bag_info=overrides.get("bag_info", info),
                     algorithms=overrides.get("algorithms", ("sha512",)))


def zipped(bag: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(bag.rglob("*")):
            if path.is_file():
                archive.write(path, Path(bag.name) / path.relative_to(bag))
    return target


def test_shipped_profiles_are_valid_and_indexed_by_identifier():
    index, found = profile_index(PROFILES)
    assert found == []
    assert set(index) == {CONSORTIUM, "https://profiles.example.org/preserve-minimal/v1.json"}
    assert index[CONSORTIUM].manifests_required == ("sha512",)
    assert index[CONSORTIUM].serialization == "required"


def test_a_conforming_zipped_bag_has_no_profile_findings(tmp_path):
    profile, _ = read_profile_file(PROFILES / "manuscripts-consortium.json")
    assert profile is not None
    archive = zipped(consortium_bag(tmp_path / "Qoʻlyozma"), tmp_path / "qoʻlyozma.zip")
    deposit = open_deposit(archive, tmp_path / "work")
    assert check_bag(profile, deposit) == []


def test_every_broken_rule_is_its_own_code(tmp_path):
    profile, _ = read_profile_file(PROFILES / "manuscripts-consortium.json")
    assert profile is not None
    bag = write_bag(tmp_path / "bag", FILES, algorithms=("sha256", "md5"), version="0.97",
                    bag_info=[("Source-Organization", "Неизвестная библиотека"),
                              ("External-Identifier", "a"), ("External-Identifier", "b")])
    (bag / "notes.txt").write_text("qayd", encoding="utf-8")
    (bag / "fetch.txt").write_text("", encoding="utf-8")
    found = check_bag(profile, open_deposit(bag, tmp_path / "work"))
    assert codes(found) == sorted([
        "PROF-E002", "PROF-E002",  # Bagging-Date, BagIt-Profile-Identifier
        "PROF-E003",  # Source-Organization not among the values
        "PROF-E004",  # External-Identifier twice
        "PROF-E005", "PROF-E006",  # no sha512; md5 not allowed
        "PROF-E007", "PROF-E008",  # no sha512 tag manifest; md5 tag manifest not allowed
        "PROF-E010",  # notes.txt not in Tag-Files-Allowed
        "PROF-E013",  # fetch.txt
        "PROF-E014",  # BagIt 0.97
        "PROF-E017",  # a directory, serialization required
    ])
    assert any("Неизвестная библиотека" in f.message for f in found)


def test_serialization_forbidden_and_not_accepted(tmp_path):
    raw = json.loads((PROFILES / "minimal.json").read_bytes())
    raw["Serialization"] = "forbidden"
    forbidding, _ = load_profile(json.dumps(raw).encode(), "forbid.json")
    raw["Serialization"], raw["Accept-Serialization"] = "optional", ["application/zip"]
    zip_only, _ = load_profile(json.dumps(raw).encode(), "zip-only.json")
    assert forbidding is not None and zip_only is not None
    bag = write_bag(tmp_path / "bag", FILES)
    tar = tmp_path / "bag.tar"
    with tarfile.open(tar, "w") as archive:
        archive.add(bag, "bag")
    deposit = open_deposit(tar, tmp_path / "work")
    assert codes(check_bag(forbidding, deposit)) == ["PROF-E017"]
    assert codes(check_bag(zip_only, deposit)) == ["PROF-E018"]


def test_required_and_allowed_payload_and_tag_files(tmp_path):
    raw = json.loads((PROFILES / "minimal.json").read_bytes())
    raw.update({"Payload-Files-Required": ["data/METS.xml"],
                "Payload-Files-Allowed": ["data/Бобурнома/*"],
                "Tag-Files-Required": ["metadata/dc.xml"]})
    profile, found = load_profile(json.dumps(raw, ensure_ascii=False).encode(), "p.json")
    assert found == [] and profile is not None
    deposit = open_deposit(write_bag(tmp_path / "bag", FILES), tmp_path / "work")
    found = check_bag(profile, deposit)
    assert codes(found) == ["PROF-E009", "PROF-E011", "PROF-E012"]
    assert [f.path for f in found if f.code == "PROF-E012"] == ["data/نسخه/صفحه ۱.txt"]


def test_unusable_profiles_are_prof_e001_never_an_exception(tmp_path):
    for data in (b"\xff", b"[]", b'{"BagIt-Profile-Info": {}}',
                 json.dumps({"BagIt-Profile-Info": {
                     "BagIt-Profile-Identifier": "x", "Source-Organization": "o",
                     "External-Description": "d", "Version": "1"},
                     "Accept-BagIt-Version": ["1.0"], "Serialization": "sometimes",
                     "Manifests-Required": ["sha512"], "Manifests-Allowed": ["sha256"],
                     "Bag-Info": {"Title": {"required": "yes"}}}).encode()):
        profile, found = load_profile(data, "bad.json")
        assert profile is None and codes(found) == ["PROF-E001"]
    message = found[0].message
    assert "Serialization" in message and "Manifests-Required" in message and "Title" in message
    _, found = read_profile_file(tmp_path / "missing.json")
    assert codes(found) == ["PROF-E001"]


def test_choosing_by_identifier_by_organization_and_unknown_identifier(tmp_path):
    bag = consortium_bag(tmp_path / "bag")
    deposit = open_deposit(bag, tmp_path / "work")
    # Named in bag-info and found in the directory: checked (a directory: PROF-E017).
    assert codes(profile_findings(deposit, ProfileChoice(directory=PROFILES))) == ["PROF-E017"]
    # Unknown directory content: a warning, nothing checked.
    empty = tmp_path / "none"
    empty.mkdir()
    assert codes(profile_findings(deposit, ProfileChoice(directory=empty))) == ["PROF-W001"]
    # A depositor's configured profile wins over the one the bag names.
    minimal = "https://profiles.example.org/preserve-minimal/v1.json"
    org = {"Қазақстан Ұлттық кітапханасы": minimal}
    assert profile_findings(deposit, ProfileChoice(directory=PROFILES, by_organization=org)) == []
    assert codes(profile_findings(deposit, ProfileChoice(directory=empty,
                                                         by_organization=org))) == ["PROF-E016"]
    # A plain folder cannot meet a profile.
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "varaq.txt").write_bytes(b"x")
    profile, _ = read_profile_file(PROFILES / "minimal.json")
    assert codes(profile_findings(open_deposit(folder, tmp_path / "w2"),
                                  ProfileChoice(explicit=profile))) == ["PROF-E015"]
