"""`preserve users …` and `preserve tokens …` (issue 15 "Accounts"), and the person the CLI
records on every event: the operating-system user who typed the command."""

from __future__ import annotations

import getpass
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from tests.builders import write_bag

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Qoʻlyozmalar-2026"


@pytest.fixture
def stdin(monkeypatch):
    """Give the next command `text` on standard input."""
    def give(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    return give


def test_add_list_and_change_accounts(cli, repo, stdin):
    stdin(PASSWORD + "\n")
    assert cli("--repo", repo, "users", "add", "Дилноза", "--role", "admin",
               "--password-stdin").code == 0
    stdin(PASSWORD + "\n")
    assert cli("--repo", repo, "users", "add", "Gʻulom", "--role", "viewer",
               "--password-stdin").code == 0
    listed = cli("--repo", repo, "--json", "users", "list").json()["users"]
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [
        ("Gʻulom", "viewer", False), ("Дилноза", "admin", False)]
    assert all("hash" not in key for u in listed for key in u)
    assert cli("--repo", repo, "users", "role", "Gʻulom", "archivist").code == 0
    assert cli("--repo", repo, "users", "disable", "Gʻulom").code == 0
    listed = cli("--repo", repo, "--json", "users", "list").json()["users"]
    assert listed[0]["role"] == "archivist" and listed[0]["disabled"] is True
    assert cli("--repo", repo, "users", "enable", "Gʻulom").code == 0
    stdin("a new password of enough length\n")
    assert cli("--repo", repo, "users", "passwd", "Gʻulom", "--password-stdin").code == 0
    from preserve import accounts
    from preserve.cli.context import AppState
    with AppState(repo=repo).open_catalog() as catalog:
        assert accounts.authenticate(catalog, "Gʻulom", "a new password of enough length")
        with pytest.raises(accounts.AccountRefused):
            accounts.authenticate(catalog, "Gʻulom", PASSWORD)
        stored = catalog.credentials("Gʻulom")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(("args", "given", "code"), [
    (["users", "add", "aziz", "--role", "owner", "--password-stdin"], PASSWORD, "ACC-E002"),
    (["users", "add", "aziz", "--role", "viewer", "--password-stdin"], "short", "ACC-E003"),
    (["users", "add", " aziz", "--role", "viewer", "--password-stdin"], PASSWORD, "ACC-E004"),
    (["users", "add", "a\u202eb", "--role", "viewer", "--password-stdin"], PASSWORD, "ACC-E004"),
    (["users", "add", "aziz", "--role", "viewer", "--password-stdin"], "", "ACC-E010"),
    (["users", "passwd", "nobody", "--password-stdin"], PASSWORD, "ACC-E005"),
    (["users", "role", "nobody", "admin"], "", "ACC-E005"),
    (["tokens", "create", "nobody"], "", "ACC-E005"),
    (["tokens", "revoke", "99"], "", "ACC-E008"),
])
def test_refusals_are_findings_and_change_nothing(cli, repo, stdin, args, given, code):
    stdin(given + "\n" if given else "")
    result = cli("--repo", repo, *args)
    assert result.code == 2, (result.out, result.err)
    assert code in result.err and "Traceback" not in result.err
    assert cli("--repo", repo, "--json", "users", "list").json()["users"] == []


def test_a_taken_name_is_refused(cli, repo, stdin):
    stdin(PASSWORD + "\n")
    assert cli("--repo", repo, "users", "add", "aziz", "--role", "viewer",
               "--password-stdin").code == 0
    stdin(PASSWORD + "\n")
    taken = cli("--repo", repo, "users", "add", "aziz", "--role", "admin", "--password-stdin")
    assert taken.code == 2 and "ACC-E001" in taken.err
    assert cli("--repo", repo, "--json", "users", "list").json()["users"][0]["role"] == "viewer"


def test_tokens_are_shown_once_and_stored_hashed(cli, repo, stdin):
    stdin(PASSWORD + "\n")
    assert cli("--repo", repo, "users", "add", "aziz", "--role", "archivist",
               "--password-stdin").code == 0
    made = cli("--repo", repo, "--json", "tokens", "create", "aziz", "--label", "nightly")
    assert made.code == 0
    token = made.json()["token"]
    assert token.startswith("pt_") and len(token) > 40
    listed = cli("--repo", repo, "--json", "tokens", "list").json()
    assert token not in json.dumps(listed)
    catalog_bytes = (repo / "catalog.sqlite").read_bytes()
    assert token.encode() not in catalog_bytes
    from preserve import accounts
    from preserve.cli.context import AppState
    with AppState(repo=repo).open_catalog() as catalog:
        user = accounts.token_user(catalog, token)
        assert user is not None and user.name == "aziz"
    token_id = made.json()["id"]
    assert cli("--repo", repo, "tokens", "revoke", str(token_id)).code == 0
    with AppState(repo=repo).open_catalog() as catalog:
        assert accounts.token_user(catalog, token) is None


def _run(*args: str | Path, env: dict[str, str] | None = None, text: str = ""):
    return subprocess.run([sys.executable, "-m", "preserve", *map(str, args)],
                          input=text.encode(), capture_output=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def test_a_command_records_the_operating_system_user_and_the_chain_holds(repo, tmp_path):
    bag = write_bag(tmp_path / "bag", {"Қўлёзма.txt": b"leaf"})
    env = {k: v for k, v in os.environ.items() if k != "PRESERVE_ACTING_ACCOUNT"}
    done = subprocess.run([sys.executable, "-m", "preserve", "--repo", str(repo), "ingest",
                           str(bag), "--id", "os-1"], capture_output=True, check=False,
                          env={**env, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr.decode()
    shown = json.loads(_run("--repo", repo, "--json", "show", "os-1").stdout)
    people = {(e["person"]["identifier"], e["person"]["type"]) for e in shown["events"]}
    assert people == {("os-user:" + getpass.getuser(), "person")}
    # The person is in each event's hash: the chain verifies, and a changed person would not.
    assert _run("--repo", repo, "log", "verify").returncode == 0
    # The package's METS holds the person as a PREMIS agent of type person, linked from each
    # event as its implementer (and the ingest validated the METS against the official METS
    # and PREMIS schemas, or it would have exited 1 with META-W004).
    mets = next((repo / "ocfl").rglob("mets.xml"))
    premis = {"premis": "http://www.loc.gov/premis/v3"}
    tree = etree.parse(str(mets))
    people = tree.xpath("//premis:agent[premis:agentType='person']/premis:agentIdentifier/"
                        "premis:agentIdentifierValue/text()", namespaces=premis)
    assert people == ["os-user:" + getpass.getuser()]
    links = tree.xpath("//premis:linkingAgentIdentifier[premis:linkingAgentRole="
                       "'implementer']/premis:linkingAgentIdentifierValue/text()",
                       namespaces=premis)
    assert links and set(links) == set(people)


def test_a_changed_person_breaks_the_chain(repo, tmp_path):
    import sqlite3
    bag = write_bag(tmp_path / "bag", {"a.txt": b"a"})
    assert _run("--repo", repo, "ingest", bag, "--id", "p-1").returncode == 0
    with sqlite3.connect(repo / "catalog.sqlite") as db:
        # Someone with write access to the database file: the append-only triggers are in
        # the way, so they go first; the hash chain is what still tells.
        db.execute("DROP TRIGGER events_no_update")
        other = db.execute("SELECT id FROM agents WHERE type = 'person'").fetchone()
        assert other is not None
        db.execute("INSERT INTO agents (identifier, name, type) VALUES "
                   "('os-user:someone-else', 'someone-else', 'person')")
        new = db.execute("SELECT id FROM agents WHERE identifier = 'os-user:someone-else'"
                         ).fetchone()[0]
        db.execute("UPDATE events SET person_agent_id = ? WHERE id = "
                   "(SELECT min(id) FROM events)", (new,))
    verified = _run("--repo", repo, "log", "verify")
    assert verified.returncode != 0, verified.stdout.decode()


def test_the_web_account_is_recorded_when_the_app_runs_a_command(repo, tmp_path):
    bag = write_bag(tmp_path / "bag", {"a.txt": b"a"})
    done = _run("--repo", repo, "ingest", bag, "--id", "acc-1",
                env={"PRESERVE_ACTING_ACCOUNT": "Дилноза"})
    assert done.returncode == 0, done.stderr.decode()
    shown = json.loads(_run("--repo", repo, "--json", "show", "acc-1").stdout)
    assert {e["person"]["identifier"] for e in shown["events"]} == {"account:Дилноза"}
