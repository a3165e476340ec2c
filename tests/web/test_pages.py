"""The web app's pages, API and languages over a real repository (issue 15 "The web app",
"Languages", "Security": hostile names escaped)."""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from jinja2.ext import babel_extract
from markupsafe import escape as markup_escape

from preserve.names import escape_name
from preserve.web import i18n
from tests.web.conftest import ACCOUNTS, HOSTILE_TITLE, PERSIAN_TITLE

TEMPLATES = Path(i18n.__file__).with_name("templates")
PAGES = ["/", "/packages", "/packages/fa-1", "/packages/evil-1", "/locations", "/deposits",
         "/audits"]


def template_messages() -> set[str]:
    found: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        with template.open("rb") as handle:
            for _line, _function, message, _comments in babel_extract(
                    handle, ["_"], [], {"extensions": ""}):
                assert isinstance(message, str), (template, message)
                found.add(message)
    return found


def test_every_template_message_is_translated_in_every_catalog():
    wanted = template_messages()
    assert len(wanted) > 25
    for tag in i18n.LANGUAGES:
        if tag == i18n.DEFAULT:
            continue
        catalog = i18n.messages(tag)
        assert set(catalog) == wanted, (tag, wanted ^ set(catalog))
        untranslated = [m for m, s in catalog.items() if not s.strip()]
        assert not untranslated, (tag, untranslated)
        # A translation identical to English is allowed only for loanwords.
        same = {m for m, s in catalog.items() if s == m}
        assert same <= {"Format", "Package"}, (tag, same)


def test_uzbek_latin_uses_the_modifier_letters_not_apostrophes():
    for message in i18n.messages("uz-Latn").values():
        assert "'" not in message and "‘" not in message and "’" not in message, message
    assert "Yoʻqolgan" in i18n.messages("uz-Latn").values()  # U+02BB, as the 1995 alphabet


@pytest.mark.parametrize(("header", "expected"), [
    (None, "en"), ("", "en"), ("ru-RU,ru;q=0.9,en;q=0.8", "ru"), ("uz", "uz-Latn"),
    ("uz-Cyrl-UZ", "uz-Cyrl"), ("de;q=1.0,kk;q=0.5", "kk"), ("en;q=0.1,tk;q=0.9", "tk"),
    ("fr", "en"), ("ru;q=0", "en"), ("uz-latn", "uz-Latn"),
])
def test_language_from_accept_language(header, expected):
    assert i18n.choose(None, header) == expected


def test_cookie_wins_over_accept_language_and_unknown_cookie_is_ignored():
    assert i18n.choose("kk", "ru") == "kk"
    assert i18n.choose("xx", "ru") == "ru"


@pytest.mark.parametrize("tag", list(i18n.LANGUAGES))
def test_every_page_in_every_language(client, tag):
    client.cookies.set(i18n.COOKIE, tag)
    word = i18n.Translator(tag).gettext("Packages")
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, (page, response.text[:300])
        assert f'<html lang="{tag}"' in response.text
        assert word in response.text, (tag, page)
        assert "default-src 'self'" in response.headers["content-security-policy"]


def test_language_switch_sets_a_cookie_and_never_redirects_off_site(client):
    response = client.get("/lang/uz-Cyrl?next=/packages", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/packages"
    assert "preserve_lang=uz-Cyrl" in response.headers["set-cookie"]
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "Пакетлар" in client.get("/packages").text
    for hostile in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        response = client.get("/lang/ru", params={"next": hostile}, follow_redirects=False)
        assert response.headers["location"] == "/"


def test_persian_title_is_isolated_and_numbers_follow_the_locale(client):
    page = client.get("/packages/fa-1").text
    assert f'<bdi dir="auto" id="package-title">{PERSIAN_TITLE}</bdi>' in page
    assert '<bdi dir="auto" class="file">data/دفتر.txt</bdi>' in page
    client.cookies.set(i18n.COOKIE, "ru")
    assert "Создан" in client.get("/packages/fa-1").text


def test_hostile_names_and_metadata_are_escaped_on_every_page(client):
    for page in [*PAGES, "/packages?q=evil"]:
        text = client.get(page).text
        assert "<script>" not in text and "<img" not in text, page
        assert "\u202e" not in text, page
    listing = client.get("/packages").text
    assert str(markup_escape(escape_name(HOSTILE_TITLE))) in listing
    assert "\\u202e" in escape_name(HOSTILE_TITLE)
    # The API gives the data byte-exact, as JSON that no browser may sniff as HTML, with the
    # bidi control written as an escape as `preserve --json` does.
    api = client.get("/api/v1/packages/evil-1")
    assert api.headers["content-type"] == "application/json"
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "\u202e" not in api.text and api.json()["title"] == HOSTILE_TITLE


def test_search_ignores_case_in_cyrillic(client):
    # SQLite's own lower() is ASCII only; the catalog installs a Unicode one (engine.py)
    assert "/packages/uz-1" in client.get("/packages", params={"q": "ҚЎЛЁЗМА"}).text


def test_search_by_title_in_cyrillic_and_by_identifier(client):
    found = client.get("/packages", params={"q": "Қўлёзма"}).text
    assert "/packages/uz-1" in found and "/packages/fa-1" not in found
    by_id = client.get("/packages", params={"q": "id-fa-1"}).text
    assert "/packages/fa-1" in by_id and "/packages/uz-1" not in by_id
    assert "/packages/" not in client.get("/packages", params={"q": "nothing-like-this"}).text


def test_api_matches_the_cli_json(client, cli, web_repo):
    listed = cli("--repo", web_repo, "--json", "list").json()["packages"]
    api = client.get("/api/v1/packages").json()
    assert api["total"] == 3 and api["pages"] == 1
    # The service's PackageRow: the CLI's fields, problem_copies for open_problems.
    for row, cli_row in zip(api["packages"], listed, strict=True):
        for key in ("package_id", "title", "external_identifiers", "versions", "files",
                    "bytes", "created"):
            assert row[key] == cli_row[key], key
    assert client.get("/api/v1/packages", params={"q": "ID-uz"}).json()["total"] == 1
    shown = cli("--repo", web_repo, "--json", "show", "fa-1").json()
    detail = client.get("/api/v1/packages/fa-1").json()
    assert detail["package_id"] == "fa-1" and detail["title"] == PERSIAN_TITLE
    assert [f["path"] for f in detail["files"]] == [f["path"] for f in shown["files"]]
    assert client.get("/api/v1/packages/nope").status_code == 404
    assert client.get("/packages/nope").status_code == 404


def test_dashboard_shows_damage_after_an_audit_finds_a_flipped_byte(client, cli, web_repo):
    assert "bad" not in client.get("/").text.split('id="health"')[1].split("</section>")[0]
    stored = next(p for p in (web_repo).rglob("*.txt") if p.read_bytes() == b"persian")
    stored.write_bytes(b"pErsian")
    assert cli("--repo", web_repo, "audit").code != 0
    health = client.get("/").text.split('id="health"')[1].split("</section>")[0]
    assert 'class="bad"' in health and "/packages/fa-1" in health


def test_single_file_download_is_verified_and_never_rendered(client):
    response = client.get("/download/fa-1", params={"path": "data/دفتر.txt"})
    assert response.status_code == 200 and response.content == b"persian"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''%D8%AF%D9%81%D8%AA%D8%B1.txt")
    # Without data/ as `preserve get`; the METS is linked from the package page.
    assert client.get("/download/fa-1", params={"path": "دفتر.txt"}).content == b"persian"
    assert "/download/fa-1?path=metadata%2Fmets.xml" in client.get("/packages/fa-1").text
    assert b"<mets" in client.get("/download/fa-1", params={"path": "metadata/mets.xml"}).content
    hostile = client.get("/download/evil-1",
                         params={"path": 'data/<img src=x onerror="alert(1)">\u202etxt.exe'})
    assert hostile.status_code == 200 and hostile.content == b"x"
    assert "%E2%80%AE" in hostile.headers["content-disposition"]  # percent-encoded, inert


@pytest.mark.parametrize("path", [
    "../../catalog.sqlite", "/etc/passwd", "data/../../../preserve.toml", "..", "",
    "data/../metadata/mets.xml", "%2e%2e/catalog.sqlite", "data\\..\\..\\catalog.sqlite",
])
def test_no_path_traversal_through_file_download(client, path):
    response = client.get("/download/fa-1", params={"path": path})
    assert response.status_code == 404, path
    assert response.headers["content-type"].startswith("text/html")
    assert client.get("/download/../../etc/passwd", params={"path": "x"}).status_code == 404


def test_a_damaged_copy_is_never_handed_out(client, web_repo):
    stored = next(p for p in web_repo.rglob("*.txt") if p.read_bytes() == b"persian")
    stored.write_bytes(b"pErsian")
    before = set(Path(tempfile.gettempdir()).glob("preserve-web-*"))
    response = client.get("/download/fa-1", params={"path": "data/دفتر.txt"})
    assert response.status_code == 409 and b"pErsian" not in response.content
    assert "nothing was written" in response.text
    assert set(Path(tempfile.gettempdir()).glob("preserve-web-*")) == before


def test_deposits_and_audit_runs_pages(client, cli, web_repo):
    deposits = client.get("/deposits").text
    assert deposits.count("/packages/") == 3 and "NAME-W002" in deposits
    assert cli("--repo", web_repo, "audit").code == 0
    client.cookies.set(i18n.COOKIE, "tk")
    audits = client.get("/audits").text
    assert "Audit barlaglary" in audits and "<td>1</td>" in audits


def test_preserve_serve_answers_over_real_http(served, web_repo):
    with urllib.request.urlopen(served + "/health", timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "ok" and body["chain_head"]["events"] > 0
    # Anonymous: the login page, in the browser's language, with 401.
    request = urllib.request.Request(served + "/packages", headers={"Accept-Language": "kk"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 401 and "Кіру" in refused.value.read().decode()
    # A script with an API token of the account: the same list the CLI gives.
    from preserve import accounts
    from preserve.cli.context import AppState
    with AppState(repo=web_repo).open_catalog() as catalog:
        token = accounts.create_token(catalog, ACCOUNTS["viewer"], "test").secret
    request = urllib.request.Request(served + "/api/v1/packages",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        listed = json.load(response)["packages"]
    assert {p["package_id"] for p in listed} == {"fa-1", "uz-1", "evil-1"}


def test_package_filters_and_paged_listings(client):
    api = client.get("/api/v1/packages", params={"since": "2000-01-01"}).json()
    assert api["total"] == 3
    assert client.get("/api/v1/packages", params={"until": "2000-01-01"}).json()["total"] == 0
    # A date that is not one is ignored, never an error.
    assert client.get("/api/v1/packages", params={"since": "31.12.2026"}).json()["total"] == 3
    page = client.get("/packages", params={"format": "x-fmt/111", "q": "ID-uz"})
    assert page.status_code == 200 and 'value="x-fmt/111"' in page.text
    deposits = client.get("/api/v1/deposits", params={"per_page": 2}).json()
    assert deposits["total"] == 3 and deposits["pages"] == 2 and len(deposits["deposits"]) == 2
    assert deposits["deposits"][0]["package_id"] == "evil-1"  # newest first
    assert client.get("/api/v1/audits").json() == {"audit_runs": [], "total": 0, "page": 1,
                                                   "per_page": 50, "pages": 1}


def test_package_page_shows_the_description_in_every_language_and_imported_history(client):
    page = client.get("/packages/uz-1").text
    assert 'id="description"' in page and "dc:title" in page
    assert "Қўлёзмалар тўплами" in page
    # Events recorded here name this repository; imported ones their archive (none here).
    assert 'class="imported"' not in page and "Milliy kutubxona" in page


def test_description_languages_and_history_imported_from_another_archive(cli, web_repo,
                                                                        tmp_path):
    from starlette.testclient import TestClient

    from tests.builders import write_bag
    from tests.cli.conftest import schemas_dir
    from tests.web.conftest import add_accounts, log_in, make_app
    # A deposit described in three scripts, exported to a second archive and ingested there.
    csv = tmp_path / "tavsif.csv"
    csv.write_text("title[uz-Cyrl],title[fa-Arab],creator\nҒазаллар,غزلیات,Навоий\n",
                   encoding="utf-8")
    bag = write_bag(tmp_path / "gazal", {"varaq.txt": b"leaf"})
    assert cli("--repo", web_repo, "ingest", bag, "--id", "gz-1", "--metadata", csv).code in (0, 1)
    exported = cli("--repo", web_repo, "--json", "export", "gz-1", tmp_path / "out",
                   "--format", "zip").json()["path"]
    other = tmp_path / "archive-b"
    assert cli("--repo", other, "init", "--schemas-dir", schemas_dir()).code == 0
    assert cli("--repo", other, "ingest", exported).code in (0, 1)
    add_accounts(other)
    with TestClient(make_app(other), base_url="https://testserver") as client:
        assert log_in(client, "vera").status_code == 303
        page = client.get("/packages/gz-1").text
    assert '<bdi dir="auto" lang="fa-Arab">غزلیات</bdi>' in page
    assert '<bdi dir="auto" lang="uz-Cyrl">Ғазаллар</bdi>' in page
    assert "Навоий" in page
    # The first archive's events are marked with the archive that recorded them.
    assert 'class="imported"' in page


def test_dashboard_shows_copies_overdue_for_audit_and_the_last_runs(cli, web_repo):
    import datetime as dt
    import re

    from starlette.testclient import TestClient

    from tests.web.conftest import log_in, make_app
    assert cli("--repo", web_repo, "audit", "--all").code == 0
    for interval, overdue in ((dt.timedelta(days=90), "0"), (dt.timedelta(0), None)):
        app = make_app(web_repo, audit_interval=interval)
        with TestClient(app, base_url="https://testserver") as client:
            assert log_in(client, "vera").status_code == 303
            page = client.get("/").text
        counts = re.findall(r'<bdi>local</bdi> <span class="(?:due|good)">(\d+)</span>',
                            page)
        assert counts and (counts[0] == overdue if overdue else int(counts[0]) > 0), counts
        assert 'id="last-runs"' in page and "#1" in page


def test_package_page_shows_rights_statements(cli, client, web_repo, tmp_path):
    from tests.builders import write_bag
    bag = write_bag(tmp_path / "rights", {"a.txt": b"a"},
                    bag_info=[("Title", "Cheklangan qoʻlyozma"),
                              ("Access-Restriction", "Faqat oʻquv zalida — только в зале")])
    assert cli("--repo", web_repo, "ingest", bag, "--id", "r-1").code in (0, 1)
    page = client.get("/packages/r-1").text
    assert 'id="rights"' in page and "disseminate" in page and "Disallow" in page
    assert "Faqat oʻquv zalida — только в зале" in page


def test_a_deaccessioned_package_is_marked_and_its_files_are_not_handed_out(
        cli, client, web_repo, tmp_path, monkeypatch):
    from tests.builders import write_bag

    def as_person(name: str) -> None:
        for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
            monkeypatch.setenv(variable, name)
    bag = write_bag(tmp_path / "gone", {"a.txt": b"a"}, bag_info=[("Title", "Olib tashlanadi")])
    assert cli("--repo", web_repo, "ingest", bag, "--id", "gone-1").code in (0, 1)
    as_person("dilnoza")
    made = cli("--repo", web_repo, "--json", "deaccession", "request", "gone-1",
               "--reason", "huquq egasi talabi")
    as_person("aigerim")
    assert cli("--repo", web_repo, "deaccession", "approve", str(made.json()["id"]),
               "--yes").code == 0
    page = client.get("/packages/gone-1")
    assert page.status_code == 200 and 'id="deaccessioned"' in page.text
    assert "deaccession" in page.text  # the PREMIS event stays on the timeline
    gone = client.get("/download/gone-1", params={"path": "data/a.txt"})
    assert gone.status_code == 410 and "DEA-E009" in gone.text
