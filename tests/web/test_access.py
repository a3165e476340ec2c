"""Who may do what in the web app (issue 15, "Security"): every route x role, including the
anonymous, answers as ROUTES says, through a browser's session and through an API token;
CSRF; login throttling; uploads streamed to staging and checked as the CLI checks them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from preserve import accounts
from preserve.cli.context import AppState
from preserve.web.app import ROUTES
from preserve.web.tasks import TaskRunner
from tests.builders import write_bag
from tests.web.conftest import ACCOUNTS, PASSWORD, csrf_of, log_in, make_app

ROLES = ("anonymous", "viewer", "archivist", "admin")
RANK = {role: index for index, role in enumerate(ROLES)}

#: One concrete request for each (route, method) of ROUTES: what the table test sends.
#: Actions name a package that is not there, or no file, where that keeps the test from
#: starting work it does not need: the role check comes before any of that.
REQUESTS: dict[tuple[str, str], tuple[str, dict]] = {
    ("/health", "GET"): ("/health", {}),
    ("/login", "GET"): ("/login", {}),
    ("/login", "POST"): ("/login", {}),  # sent by log_in(): see _send
    ("/lang/{tag}", "GET"): ("/lang/ru?next=/", {}),
    ("/logout", "POST"): ("/logout", {}),
    ("/", "GET"): ("/", {}),
    ("/packages", "GET"): ("/packages?q=%D2%9A", {}),
    ("/download/{package_id:path}", "GET"): ("/download/uz-1?path=data/Қўлёзма.txt", {}),
    ("/export/{package_id:path}", "POST"): ("/export/no-such-package", {}),
    ("/packages/{package_id:path}", "GET"): ("/packages/fa-1", {}),
    ("/deposits", "GET"): ("/deposits", {}),
    ("/upload", "POST"): ("/upload", {"files": {"deposit": ("", b"")}}),
    ("/audits", "GET"): ("/audits", {}),
    ("/audit", "POST"): ("/audit", {"data": {"package": "uz-1"}}),
    ("/repair", "POST"): ("/repair", {}),
    ("/locations", "GET"): ("/locations", {}),
    ("/tasks", "GET"): ("/tasks", {}),
    ("/tasks/{task_id}/download", "GET"): ("/tasks/0123456789abcdef/download", {}),
    ("/tasks/{task_id}", "GET"): ("/tasks/0123456789abcdef", {}),
    ("/users", "GET"): ("/users", {}),
    ("/api/v1/openapi.json", "GET"): ("/api/v1/openapi.json", {}),
    ("/api/v1/me", "GET"): ("/api/v1/me", {}),
    ("/api/v1/packages", "GET"): ("/api/v1/packages", {}),
    ("/api/v1/packages/{package_id:path}", "GET"): ("/api/v1/packages/uz-1", {}),
    ("/api/v1/deposits", "GET"): ("/api/v1/deposits", {}),
    ("/api/v1/deposits/upload", "POST"): ("/api/v1/deposits/upload",
                                          {"files": {"deposit": ("", b"")}}),
    ("/api/v1/audits", "GET"): ("/api/v1/audits", {}),
    ("/api/v1/audits/start", "POST"): ("/api/v1/audits/start?package=uz-1", {}),
    ("/api/v1/repairs/start", "POST"): ("/api/v1/repairs/start", {}),
    ("/api/v1/exports/start", "POST"): ("/api/v1/exports/start?package_id=no-such", {}),
    ("/api/v1/tasks/{task_id}/download", "GET"): ("/api/v1/tasks/0123456789abcdef/download",
                                                  {}),
    ("/api/v1/tasks/{task_id}", "GET"): ("/api/v1/tasks/0123456789abcdef", {}),
    ("/api/v1/users", "GET"): ("/api/v1/users", {}),
}


def expected(rule_needs: str | None, role: str) -> str:
    """'allowed', '401' or '403': what ROUTES promises `role` on a route needing `rule_needs`."""
    if rule_needs is None:
        return "allowed"
    if role == "anonymous":
        return "401"
    return "allowed" if RANK[role] >= RANK[rule_needs] else "403"


def route_table() -> str:
    """The route x role table as docs/web.md shows it (Markdown)."""
    lines = ["| method | route | " + " | ".join(ROLES) + " |",
             "|---|---|" + "---|" * len(ROLES)]
    for rule in ROUTES:
        for method in rule.methods:
            cells = [{"allowed": "yes"}.get(expected(rule.needs, role),
                                            expected(rule.needs, role)) for role in ROLES]
            lines.append(f"| {method} | `{rule.path}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_the_table_covers_every_route_and_method():
    assert set(REQUESTS) == {(rule.path, method) for rule in ROUTES for method in rule.methods}


def test_docs_show_the_table_as_the_app_has_it():
    docs = (Path(__file__).resolve().parents[2] / "docs/web.md").read_text(encoding="utf-8")
    assert route_table() in docs, "docs/web.md: paste the output of route_table()"


@pytest.fixture
def runner(web_repo):
    made = TaskRunner(web_repo)
    yield made
    for task in made.recent():  # every task ends before the repository goes away
        made.wait(task.id, timeout=120)


def _send(app, client, method: str, url: str, options: dict, role: str, headers: dict):
    if (url, method) == ("/login", "POST"):
        # The login form itself, from a browser of its own (so the table's client keeps its
        # state): a good password gives the role's account a session.
        from starlette.testclient import TestClient
        with TestClient(app, base_url="https://testserver") as fresh:
            return log_in(fresh, ACCOUNTS.get(role, ACCOUNTS["viewer"]))
    return client.request(method, url, headers=headers, follow_redirects=False, **options)


def _outcome(status: int) -> str:
    return str(status) if status in (401, 403) else "allowed"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_by_role_through_a_browser_session(web_repo, runner, role):
    from starlette.testclient import TestClient
    wrong = []
    app = make_app(web_repo, runner=runner)
    with TestClient(app, base_url="https://testserver") as client:
        if role != "anonymous":
            assert log_in(client, ACCOUNTS[role]).status_code == 303
        # Logging out ends the session: it goes last.
        cases = sorted(((rule, method) for rule in ROUTES for method in rule.methods),
                       key=lambda case: case[0].path == "/logout")
        for rule, method in cases:
            url, options = REQUESTS[(rule.path, method)]
            headers = {}
            if method == "POST" and role != "anonymous":
                headers["X-CSRF-Token"] = csrf_of(client)
            response = _send(app, client, method, url, options, role, headers)
            assert response.status_code < 500, (rule.path, role, response.text[:300])
            want = expected(rule.needs, role)
            if (url, method) == ("/login", "POST"):
                want, got = "allowed", _outcome(response.status_code)
            else:
                got = _outcome(response.status_code)
            if got != want:
                wrong.append((method, rule.path, role, want, response.status_code))
            if got == "401":
                if rule.api:
                    assert response.headers["www-authenticate"].startswith("Bearer")
                else:  # a page: the login form, coming back here afterwards
                    assert 'id="login"' in response.text
    assert not wrong, wrong


@pytest.mark.parametrize("role", ROLES[1:])
def test_every_api_route_by_role_through_a_token(web_repo, runner, role):
    from starlette.testclient import TestClient
    with AppState(repo=web_repo).open_catalog() as catalog:
        token = accounts.create_token(catalog, ACCOUNTS[role], "table test").secret
    wrong = []
    with TestClient(make_app(web_repo, runner=runner), base_url="https://testserver") as client:
        for rule in ROUTES:
            if not rule.api or rule.needs is None:
                continue
            for method in rule.methods:
                url, options = REQUESTS[(rule.path, method)]
                # No CSRF token: a bearer token is not sent by a browser on its own.
                response = client.request(method, url, follow_redirects=False,
                                          headers={"Authorization": f"Bearer {token}"},
                                          **options)
                assert response.status_code < 500, (rule.path, role, response.text[:300])
                got, want = _outcome(response.status_code), expected(rule.needs, role)
                if got != want:
                    wrong.append((method, rule.path, role, want, response.status_code))
    assert not wrong, wrong


def test_a_revoked_or_made_up_token_is_refused(web_repo):
    from starlette.testclient import TestClient
    with AppState(repo=web_repo).open_catalog() as catalog:
        made = accounts.create_token(catalog, ACCOUNTS["admin"], "to revoke")
        accounts.revoke_token(catalog, made.id)
    with TestClient(make_app(web_repo), base_url="https://testserver") as client:
        for secret in (made.secret, "pt_" + "0" * 43, "", "pt_../../etc"):
            response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
            assert response.status_code == 401, secret


def test_session_posts_without_the_csrf_token_are_refused(client, runner):
    # Forms and scripts of the session must send the page's token; a cross-site form cannot.
    for url in ("/audit", "/repair", "/export/fa-1", "/logout", "/api/v1/audits/start"):
        response = client.post(url, follow_redirects=False)
        assert response.status_code == 403, url
        response = client.post(url, headers={"X-CSRF-Token": "forged"},
                               follow_redirects=False)
        assert response.status_code == 403, url
    # Nothing was started, and the session is still logged in.
    assert client.get("/tasks").status_code == 200 and "/tasks/" not in client.get("/tasks").text
    assert client.get("/api/v1/me").json()["name"] == ACCOUNTS["admin"]


def test_an_upload_without_the_csrf_field_is_refused_and_removed(client, web_repo):
    staging = AppState(repo=web_repo).home().staging
    response = client.post("/upload", files={"deposit": ("bag.zip", _zip_of_bag(web_repo))},
                           follow_redirects=False)
    assert response.status_code == 403
    assert not any(staging.iterdir()) if staging.exists() else True


def test_the_login_form_needs_its_own_token_and_cookies_are_strict(web_repo):
    from starlette.testclient import TestClient
    with TestClient(make_app(web_repo), base_url="https://testserver") as client:
        refused = client.post("/login", data={"name": ACCOUNTS["admin"], "password": PASSWORD,
                                              "csrf": "forged"}, follow_redirects=False)
        assert refused.status_code == 403 and "preserve_session" not in refused.headers.get(
            "set-cookie", "")
        done = log_in(client, ACCOUNTS["admin"])
        cookie = done.headers["set-cookie"]
        assert "preserve_session=" in cookie
        for flag in ("HttpOnly", "Secure", "SameSite=strict"):
            assert flag.lower() in cookie.lower(), flag


def test_failed_logins_throttle_the_account_and_the_address(web_repo):
    from starlette.testclient import TestClient
    with TestClient(make_app(web_repo), base_url="https://testserver") as client:
        for _ in range(accounts.FREE_FAILURES):
            assert log_in(client, ACCOUNTS["viewer"], "not the password!").status_code == 401
        # Now even the right password waits: the account is throttled (ACC-E007), and the
        # page says so without telling whether the name exists.
        throttled = log_in(client, ACCOUNTS["viewer"])
        assert throttled.status_code == 429
        assert 'data-error="account-throttled"' in throttled.text
        unknown = log_in(client, "nobody-here", "not the password!")
        assert unknown.status_code == 401 and 'data-error="wrong"' in unknown.text
        # Other accounts are not held back by one account's throttle.
        assert log_in(client, ACCOUNTS["archivist"]).status_code == 303


def test_the_address_limit_stops_guessing_across_accounts(web_repo):
    from starlette.testclient import TestClient
    with TestClient(make_app(web_repo), base_url="https://testserver") as client:
        statuses = [log_in(client, f"guess-{n}", "wrong password!").status_code
                    for n in range(25)]
        assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}


def test_a_disabled_account_cannot_log_in_and_its_session_ends(web_repo):
    from starlette.testclient import TestClient
    with TestClient(make_app(web_repo), base_url="https://testserver") as client:
        assert log_in(client, ACCOUNTS["viewer"]).status_code == 303
        assert client.get("/api/v1/me").status_code == 200
        with AppState(repo=web_repo).open_catalog() as catalog:
            accounts.set_disabled(catalog, ACCOUNTS["viewer"], True)
        assert client.get("/api/v1/me").status_code == 401
        assert log_in(client, ACCOUNTS["viewer"]).status_code == 401


def _zip_of_bag(tmp: Path, files: dict[str, bytes] | None = None, name: str = "upbag") -> bytes:
    bag = write_bag(tmp / name, files or {"Qoʻlyozma.txt": b"uzbek latin"},
                    bag_info=[("Source-Organization", "Milliy kutubxona"),
                              ("Title", "Yuklangan qoʻlyozma")])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bag.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(bag).as_posix())
    return buffer.getvalue()


def test_an_upload_is_ingested_and_the_archivist_is_on_the_events(web_repo, runner, tmp_path):
    from starlette.testclient import TestClient
    with TestClient(make_app(web_repo, runner=runner), base_url="https://testserver") as client:
        assert log_in(client, ACCOUNTS["archivist"]).status_code == 303
        started = client.post("/upload", data={"csrf": csrf_of(client), "id": "up-1"},
                              files={"deposit": ("Qoʻlyozma.zip", _zip_of_bag(tmp_path))},
                              follow_redirects=False)
        assert started.status_code == 303
        task_id = started.headers["location"].rsplit("/", 1)[1]
        task = client.get(f"/api/v1/tasks/{task_id}", params={"wait": 120}).json()
        assert task["state"] in ("succeeded", "warnings"), task
        assert task["result"]["package_id"] == "up-1"
        # The command's byte progress, kept by the task once it ended (the whole payload).
        assert task["progress"]["what"] == "ingesting"
        assert task["progress"]["done"] == task["progress"]["total"] > 0
        assert 'id="task-progress"' in client.get(f"/tasks/{task_id}").text
        package = client.get("/api/v1/packages/up-1").json()
    people = {(event["person"]["identifier"], event["person"]["type"])
              for event in package["events"] if event.get("person")}
    assert people == {("account:" + ACCOUNTS["archivist"], "person")}, package["events"]
    assert all(event.get("person") for event in package["events"])
    # The uploaded file was removed from staging once ingested.
    staging = AppState(repo=web_repo).home().staging
    assert not any(staging.rglob("*.zip"))


def test_a_zip_bomb_upload_is_refused_with_the_cli_finding_and_nothing_left(web_repo, runner,
                                                                            tmp_path):
    """A member that inflates far past the ratio the CLI's own unpacker allows: SER-E007,
    the finding `preserve ingest bomb.zip` gives."""
    from starlette.testclient import TestClient
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: "
                                           "UTF-8\n")
        archive.writestr("bomb/data/zeros.bin", b"\0" * (300 * 1024 * 1024))
    bomb = buffer.getvalue()
    assert len(bomb) < 1024 * 1024
    with TestClient(make_app(web_repo, runner=runner), base_url="https://testserver") as client:
        assert log_in(client, ACCOUNTS["archivist"]).status_code == 303
        started = client.post("/api/v1/deposits/upload",
                              headers={"X-CSRF-Token": csrf_of(client)},
                              files={"deposit": ("bomb.zip", bomb)})
        assert started.status_code == 202, started.text
        task = client.get(f"/api/v1/tasks/{started.json()['id']}", params={"wait": 120}).json()
        assert task["state"] == "failed", task
        codes = {f["code"] for f in (task["result"] or {}).get("findings", [])}
        assert codes == {"SER-E007"}, task
        page = client.get(f"/tasks/{task['id']}").text
        assert "SER-E007" in page
    staging = AppState(repo=web_repo).home().staging
    assert not [p for p in staging.rglob("*") if p.is_file()] if staging.exists() else True
    assert client is not None


def test_an_upload_over_the_limit_is_refused_while_it_streams(web_repo, runner, tmp_path):
    from starlette.testclient import TestClient
    app = make_app(web_repo, runner=runner, max_upload=64 * 1024)
    with TestClient(app, base_url="https://testserver") as client:
        assert log_in(client, ACCOUNTS["archivist"]).status_code == 303
        response = client.post("/api/v1/deposits/upload",
                               headers={"X-CSRF-Token": csrf_of(client)},
                               files={"deposit": ("big.zip", b"PK" + b"\0" * (200 * 1024))})
        assert response.status_code == 413
        assert runner.recent() == []
    staging = AppState(repo=web_repo).home().staging
    assert not [p for p in staging.rglob("*") if p.is_file()] if staging.exists() else True


def test_an_upload_that_is_not_an_archive_is_refused(client):
    response = client.post("/api/v1/deposits/upload",
                           headers={"X-CSRF-Token": csrf_of(client)},
                           files={"deposit": ("notes.txt", b"just text")})
    assert response.status_code == 415 and "zip" in response.json()["error"]


def test_an_api_export_is_downloadable_by_an_archivist(web_repo, runner):
    from starlette.testclient import TestClient
    with AppState(repo=web_repo).open_catalog() as catalog:
        token = accounts.create_token(catalog, ACCOUNTS["archivist"], "export").secret
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(make_app(web_repo, runner=runner), base_url="https://testserver") as client:
        started = client.post("/api/v1/exports/start", params={"package_id": "uz-1"},
                              headers=bearer)
        assert started.status_code == 202
        task = client.get(f"/api/v1/tasks/{started.json()['id']}", params={"wait": 120},
                          headers=bearer).json()
        assert task["state"] in ("succeeded", "warnings") and task["download"], task
        got = client.get(f"/api/v1/tasks/{task['id']}/download", headers=bearer)
        assert got.status_code == 200
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        names = archive.namelist()
    assert any(name.endswith("bagit.txt") for name in names)
    assert any(name.endswith("Қўлёзма.txt") for name in names)


def test_a_hostile_account_name_is_escaped_where_it_is_shown(web_repo):
    """Names of accounts are the users' own (any script): shown escaped like file names."""
    from starlette.testclient import TestClient
    hostile = '<b onmouseover="x">Ali</b>\u202egnp.exe'
    with AppState(repo=web_repo).open_catalog() as catalog:
        with pytest.raises(accounts.AccountRefused):  # bidi controls are refused outright
            accounts.add_user(catalog, hostile, "admin", PASSWORD)
        accounts.add_user(catalog, hostile.replace("\u202e", ""), "admin", PASSWORD)
    with TestClient(make_app(web_repo), base_url="https://testserver") as client:
        assert log_in(client, hostile.replace("\u202e", "")).status_code == 303
        for page in ("/", "/users"):
            text = client.get(page).text
            assert "<b onmouseover" not in text and "&lt;b onmouseover=" in text, page
