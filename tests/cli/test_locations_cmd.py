"""More than one copy (issue 13): locations, replication, audit per location, repair, export
from the surviving copy — through the real CLI, on local disks and on a real S3 server
(OpenStack Swift with s3api, started by the `swift_server` fixture)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from preserve.storage import layout
from tests.builders import MULTILINGUAL, write_bag
from tests.unit.storage.ocfl_oracle import validate_root

PACKAGE = "kz-copies-1"


def _set_copies(repo: Path, copies: int) -> None:
    settings = repo / "preserve.toml"
    text = settings.read_text(encoding="utf-8")
    assert "\ncopies = 1\n" in text
    settings.write_text(text.replace("\ncopies = 1\n", f"\ncopies = {copies}\n"), encoding="utf-8")


def _ingest(cli, repo: Path, tmp_path: Path, package: str = PACKAGE) -> dict:
    bag = write_bag(tmp_path / f"deposit-{package}", MULTILINGUAL)
    result = cli("--repo", repo, "--json", "ingest", bag, "--id", package)
    assert result.code == 0, result.err
    return result.json()


def _content(root: Path, package: str, name: str) -> Path:
    """The stored content file of payload file `name` (a key of MULTILINGUAL) in `root`."""
    return root / layout.object_path_for(package) / "v1" / "content" / "data" / name


def _flip(path: Path) -> bytes:
    data = path.read_bytes()
    path.write_bytes(bytes([data[0] ^ 0x01]) + data[1:])
    return data


@pytest.fixture
def two_disks(cli, repo, tmp_path) -> Path:
    vault = tmp_path / "vault" / "ocfl"
    added = cli("--repo", repo, "locations", "add", "vault", "--kind", "local", "--path", vault)
    assert added.code == 0, added.err
    _set_copies(repo, 2)
    return vault


def test_ingest_replicates_and_locations_lists_the_copies(cli, repo, tmp_path, two_disks):
    document = _ingest(cli, repo, tmp_path)
    made = document["replication"]["made"]
    assert [(m["location"], m["source"]) for m in made] == [("vault", "local")]
    listing = cli("--repo", repo, "--json", "locations")
    assert listing.code == 0, listing.err
    rows = {r["name"]: r for r in listing.json()["locations"]}
    assert rows["local"]["copies"] == rows["vault"]["copies"] > 0
    assert rows["vault"]["reachable"] and rows["vault"]["bytes"] == rows["local"]["bytes"]
    # The replica is an OCFL storage root an independent validator accepts.
    report = validate_root(two_disks)
    assert report.valid and not report.errors, report.messages
    name = sorted(MULTILINGUAL)[0]
    assert _content(two_disks, PACKAGE, name).read_bytes() == MULTILINGUAL[name]
    log = cli("--repo", repo, "--json", "log", PACKAGE).json()
    replications = [e for e in log["events"] if e["type"] == "replication"]
    assert len(replications) == 1 and "'vault'" in replications[0]["detail"]
    # Idempotent: nothing more to copy.
    again = cli("--repo", repo, "--json", "replicate")
    assert again.code == 0 and again.json()["made"] == []


def test_damage_at_the_replica_is_found_kept_visible_and_repaired(cli, repo, tmp_path, two_disks):
    _ingest(cli, repo, tmp_path)
    name = sorted(MULTILINGUAL)[0]
    damaged = _content(two_disks, PACKAGE, name)
    original = _flip(damaged)
    first = cli("--repo", repo, "--json", "audit", "--all")
    assert first.code == 12
    problems = [p for r in first.json()["locations"] for p in r["problems"]]
    assert [(p["code"], p["location"]) for p in problems] == [("AUD-E001", "vault")]
    # Known damage is checked again by the next (not --all) run and keeps the exit code.
    assert cli("--repo", repo, "audit").code == 12
    assert cli("--repo", repo, "repair").code == 2  # asks first; no terminal here
    repaired = cli("--repo", repo, "--json", "repair", "--yes")
    assert repaired.code == 0, repaired.err
    (fixed,) = repaired.json()["repaired"]
    assert (fixed["location"], fixed["source"], fixed["was"]) == ("vault", "local", "damaged")
    assert damaged.read_bytes() == original
    kept = Path(fixed["quarantined"])
    assert kept.read_bytes() != original and kept.is_relative_to(repo / "quarantine")
    assert cli("--repo", repo, "audit", "--all").code == 0


def test_local_damage_export_reads_the_replica_then_repair(cli, repo, tmp_path, two_disks):
    _ingest(cli, repo, tmp_path)
    name = sorted(MULTILINGUAL)[-1]
    local = _content(repo / "ocfl", PACKAGE, name)
    original = _flip(local)
    out = tmp_path / "out"
    out.mkdir()
    # The catalog does not know of the damage yet: the export finds it on the way out,
    # exports nothing from it, and takes the replica's verified copy instead.
    exported = cli("--repo", repo, "--json", "export", PACKAGE, out / "p.zip", "--format", "zip")
    assert exported.code == 0, exported.err
    assert exported.json()["read_from"] == "vault"
    assert not list((repo / "staging").iterdir())
    assert cli("--repo", repo, "audit", "--all").code == 12
    assert cli("--repo", repo, "audit", "--all", "--repair").code == 0
    assert local.read_bytes() == original
    assert cli("--repo", repo, "audit", "--all").code == 0


def test_both_copies_damaged_nothing_is_overwritten(cli, repo, tmp_path, two_disks):
    _ingest(cli, repo, tmp_path)
    name = sorted(MULTILINGUAL)[0]
    paths = [_content(repo / "ocfl", PACKAGE, name), _content(two_disks, PACKAGE, name)]
    for path in paths:
        _flip(path)
    damaged = [p.read_bytes() for p in paths]
    assert cli("--repo", repo, "audit", "--all").code == 12
    result = cli("--repo", repo, "--json", "repair", "--yes")
    assert result.code == 12
    unrepaired = result.json()["unrepaired"]
    assert {u["location"] for u in unrepaired} == {"local", "vault"}
    assert all("nothing was overwritten" in u["reason"] for u in unrepaired)
    assert [p.read_bytes() for p in paths] == damaged


def test_location_settings_are_checked(cli, repo, tmp_path):
    settings = repo / "preserve.toml"
    settings.write_text(settings.read_text(encoding="utf-8")
                        + '\n[locations.vault]\nkind = "s3"\nsecret_key = "x"\n', encoding="utf-8")
    result = cli("--repo", repo, "locations")
    assert result.code == 10
    assert "unknown key 'secret_key'" in result.err and "environment" in result.err
    bad = cli("--repo", repo, "locations", "add", "Bad Name", "--kind", "local", "--path", tmp_path)
    assert bad.code in (2, 10)


# --- a real S3 server ---------------------------------------------------------------------

@pytest.fixture
def s3_repo(cli, repo, tmp_path, swift_server, monkeypatch) -> dict:
    from tests.conftest import new_bucket_name
    monkeypatch.setenv("PRESERVE_LOCATION_TASHKENT_S3_ACCESS_KEY", swift_server.access_key)
    monkeypatch.setenv("PRESERVE_LOCATION_TASHKENT_S3_SECRET_KEY", swift_server.secret_key)
    bucket = new_bucket_name()
    added = cli("--repo", repo, "locations", "add", "tashkent-s3", "--kind", "s3",
                "--endpoint", swift_server.endpoint, "--bucket", bucket, "--prefix", "ocfl/")
    assert added.code == 0, added.err
    vault = tmp_path / "vault"
    assert cli("--repo", repo, "locations", "add", "vault", "--kind", "local",
               "--path", vault).code == 0
    _set_copies(repo, 3)
    return {"bucket": bucket, "vault": vault}


def _s3_client(swift_server):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=swift_server.endpoint,
                        aws_access_key_id=swift_server.access_key,
                        aws_secret_access_key=swift_server.secret_key, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"},
                                      request_checksum_calculation="when_required",
                                      response_checksum_validation="when_required"))


def test_three_copies_with_s3_damage_and_loss_behind_our_back(cli, repo, tmp_path, s3_repo,
                                                              swift_server):
    document = _ingest(cli, repo, tmp_path)
    assert {m["location"] for m in document["replication"]["made"]} == {"tashkent-s3", "vault"}
    client = _s3_client(swift_server)
    names = sorted(MULTILINGUAL)
    base = f"ocfl/{layout.object_path_for(PACKAGE)}/v1/content/data/"
    client.put_object(Bucket=s3_repo["bucket"], Key=base + names[0], Body=b"overwritten")
    client.delete_object(Bucket=s3_repo["bucket"], Key=base + names[1])
    audit = cli("--repo", repo, "--json", "audit", "--all", "--location", "tashkent-s3")
    assert audit.code == 12
    found = {(p["code"], p["content_path"].rsplit("/", 1)[-1])
             for r in audit.json()["locations"] for p in r["problems"]}
    assert found == {("AUD-E001", names[0].rsplit("/", 1)[-1]),
                     ("AUD-E003", names[1].rsplit("/", 1)[-1])}
    repaired = cli("--repo", repo, "--json", "repair", "--yes")
    assert repaired.code == 0, repaired.err
    assert len(repaired.json()["repaired"]) == 2
    body = client.get_object(Bucket=s3_repo["bucket"], Key=base + names[1])["Body"].read()
    assert hashlib.sha512(body).digest() == hashlib.sha512(MULTILINGUAL[names[1]]).digest()
    assert cli("--repo", repo, "audit", "--all").code == 0
    # The secret is in no file preserve wrote: settings, catalog, quarantine, reports.
    secret = swift_server.secret_key.encode()
    for path in repo.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path


def test_s3_unreachable_during_replication_then_resumed(cli, repo, tmp_path, s3_repo,
                                                       swift_server):
    swift_server.kill("proxy")
    try:
        bag = write_bag(tmp_path / "deposit", MULTILINGUAL)
        result = cli("--repo", repo, "--json", "ingest", bag, "--id", PACKAGE)
        # Stored and recorded locally (and on the vault); the S3 copy failed: exit 13.
        assert result.code == 13
        document = json.loads(result.out)
        assert document["package_id"] == PACKAGE
        failed = document["replication"]["failed"]
        assert [f["location"] for f in failed] == ["tashkent-s3"]
        rows = {r["name"]: r for r in cli("--repo", repo, "--json", "locations").json()["locations"]}
        assert rows["tashkent-s3"]["copies"] == 0 and not rows["tashkent-s3"]["reachable"]
    finally:
        swift_server.restart("proxy")
    resumed = cli("--repo", repo, "--json", "replicate")
    assert resumed.code == 0, resumed.err
    assert [m["location"] for m in resumed.json()["made"]] == ["tashkent-s3"]
    rows = {r["name"]: r for r in cli("--repo", repo, "--json", "locations").json()["locations"]}
    assert rows["tashkent-s3"]["copies"] == rows["local"]["copies"]


def test_wrong_credentials_name_the_location_and_never_the_secret(cli, repo, s3_repo,
                                                                  monkeypatch):
    monkeypatch.setenv("PRESERVE_LOCATION_TASHKENT_S3_SECRET_KEY", "not-the-secret-4711")
    result = cli("--repo", repo, "locations")
    assert result.code == 13
    assert "tashkent-s3" in result.out + result.err
    assert "not-the-secret-4711" not in result.out + result.err


def _inventory(root: Path, package: str, version: str = "") -> Path:
    base = root / layout.object_path_for(package)
    return (base / version if version else base) / "inventory.json"


def test_a_damaged_inventory_at_the_replica_is_found_and_restored(cli, repo, tmp_path,
                                                                 two_disks):
    _ingest(cli, repo, tmp_path)
    root_inventory = _inventory(two_disks, PACKAGE)
    good = _flip(root_inventory)  # no longer matches its sidecar
    (_inventory(two_disks, PACKAGE, "v1").with_name("inventory.json.sha512")).unlink()
    audit = cli("--repo", repo, "--json", "audit", "--all", "--location", "vault")
    assert audit.code == 12, audit.err
    found = {(p["code"], p["content_path"]) for r in audit.json()["locations"]
             for p in r["problems"]}
    assert found == {("AUD-E005", "inventory.json"), ("AUD-E005", "v1/inventory.json")}
    repaired = cli("--repo", repo, "--json", "repair", "--package", PACKAGE, "--yes")
    assert repaired.code == 0, repaired.err
    fixed = {(r["content_path"], r["location"], r["source"], r["was"])
             for r in repaired.json()["repaired"]}
    assert fixed == {("inventory.json", "vault", "local", "damaged"),
                     ("v1/inventory.json", "vault", "local", "missing")}  # its sidecar was
    assert root_inventory.read_bytes() == good
    # The damaged bytes were kept, not destroyed.
    kept = [r["quarantined"] for r in repaired.json()["repaired"]
            if r["content_path"] == "inventory.json"][0]
    assert Path(kept).read_bytes() != good and len(Path(kept).read_bytes()) == len(good)
    assert validate_root(two_disks).valid
    assert cli("--repo", repo, "audit", "--all").code == 0
    log = cli("--repo", repo, "--json", "log", PACKAGE).json()
    assert any(e["type"] == "replication" and "inventory.json" in e["detail"]
               for e in log["events"])


def test_a_rewritten_inventory_on_s3_is_repaired_by_audit_repair(cli, repo, tmp_path, s3_repo,
                                                                swift_server):
    """Valid JSON with a matching sidecar, but not the inventory pinned at ingest (AUD-E014):
    only the catalog's pin tells it apart."""
    _ingest(cli, repo, tmp_path)
    client = _s3_client(swift_server)
    key = f"ocfl/{layout.object_path_for(PACKAGE)}/inventory.json"
    original = client.get_object(Bucket=s3_repo["bucket"], Key=key)["Body"].read()
    document = json.loads(original)
    document["versions"]["v1"]["message"] = "rewritten behind the archive's back"
    forged = json.dumps(document).encode()
    client.put_object(Bucket=s3_repo["bucket"], Key=key, Body=forged)
    client.put_object(Bucket=s3_repo["bucket"], Key=key + ".sha512",
                      Body=f"{hashlib.sha512(forged).hexdigest()} inventory.json\n".encode())
    audit = cli("--repo", repo, "--json", "audit", "--all", "--location", "tashkent-s3",
                "--repair")
    assert audit.code == 0, audit.err
    problems = [p for r in audit.json()["locations"] for p in r["problems"]]
    assert [(p["code"], p["content_path"]) for p in problems] == [("AUD-E014", "inventory.json")]
    assert [(r["content_path"], r["location"]) for r in audit.json()["repair"]["repaired"]] \
        == [("inventory.json", "tashkent-s3")]
    assert client.get_object(Bucket=s3_repo["bucket"], Key=key)["Body"].read() == original
    assert cli("--repo", repo, "audit", "--all").code == 0


def test_an_inventory_bad_everywhere_is_not_overwritten(cli, repo, tmp_path, two_disks):
    _ingest(cli, repo, tmp_path)
    local = repo / "ocfl"
    _flip(_inventory(local, PACKAGE))
    _flip(_inventory(two_disks, PACKAGE))
    damaged = {root: _inventory(root, PACKAGE).read_bytes() for root in (local, two_disks)}
    repaired = cli("--repo", repo, "--json", "repair", "--package", PACKAGE, "--yes")
    assert repaired.code == 12
    assert {(u["content_path"], u["location"]) for u in repaired.json()["unrepaired"]} == {
        ("inventory.json", "local"), ("inventory.json", "vault")}
    assert all("nothing was overwritten" in u["reason"]
               for u in repaired.json()["unrepaired"])
    for root, data in damaged.items():
        assert _inventory(root, PACKAGE).read_bytes() == data


def test_one_repair_run_keeps_its_evidence_in_one_quarantine_folder(cli, repo, tmp_path,
                                                                    two_disks):
    """Damaged content and a damaged inventory repaired by one `repair` share one
    `quarantine/repair-<time>/` folder, so the run's evidence is found in one place."""
    _ingest(cli, repo, tmp_path)
    name = next(iter(MULTILINGUAL))
    _flip(_content(two_disks, PACKAGE, name))
    _flip(_inventory(two_disks, PACKAGE))
    assert cli("--repo", repo, "audit", "--all", "--location", "vault").code == 12
    repaired = cli("--repo", repo, "--json", "repair", "--package", PACKAGE, "--yes")
    assert repaired.code == 0, repaired.err
    kept = [Path(r["quarantined"]) for r in repaired.json()["repaired"] if r["quarantined"]]
    assert len(kept) == 2
    runs = {path.relative_to(repo / "quarantine").parts[0] for path in kept}
    assert len(runs) == 1 and next(iter(runs)).startswith("repair-")
    assert cli("--repo", repo, "audit", "--all").code == 0
