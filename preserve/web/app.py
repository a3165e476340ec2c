"""The ASGI app (issue 15 "The web app"): pages, the JSON API and actions over one repository.

The catalog is reached through `open_catalog`, handed in by `preserve serve`; package lists
are paged in SQL (preserve/service, catalog/queries.py). Every route but the login page, the
health check, the language switch and the style sheet needs an account (auth.py); `ROUTES`
names the role each one needs, and tests/web/test_access.py checks every route against every
role. Actions (upload and ingest, audit, repair, export) run as the CLI's own commands in the
background (tasks.py).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from preserve import __version__, accounts
from preserve.accounts import allows, person_of
from preserve.errors import FixityError, PackageDeaccessioned, PreserveError, UsageError
from preserve.export.single import get_file
from preserve.metadata.history import read_record
from preserve.metadata.mets import DcValue
from preserve.metadata.rights import RightsStatement
from preserve.metadata.rights_import import read_rights
from preserve.model import acting_as, utc_now
from preserve.names import escape_name, json_visible
from preserve.web import i18n
from preserve.web.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Caller,
    LoginLimiter,
    csrf_ok,
    identify,
    new_login_token,
)
from preserve.web.tasks import Task, TaskRunner
from preserve.web.upload import UploadRefused, receive

if TYPE_CHECKING:
    from preserve.catalog import Catalog
    from preserve.catalog.queries import PackageRow, Page
    from preserve.storage.location import Location

HERE = Path(__file__).parent
PAGE_SIZE = 50
#: The largest stored METS the package page reads for its description (8 MiB: a package of
#: some thousands of files); a larger one is linked, not read for each page view.
DESCRIPTION_MAX = 8 * 2**20
#: The most rows one API page gives (`?per_page=`), as the catalog queries allow.
MAX_PER_PAGE = 500
#: Uploads larger than this are refused (setting web.max_upload).
DEFAULT_MAX_UPLOAD = 20 * 2**30

Handler = Callable[[Request], Awaitable[Response]]


def _jsonable(value: Any) -> Any:
    """The CLI's --json conventions: dataclasses as objects, enums by value, times in ISO."""
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class VisibleJSON(JSONResponse):
    """JSON as the CLI's --json writes it: UTF-8 text kept, bidi and C1 controls written as
    \\uXXXX escapes (preserve/names.py json_visible), the same data for programs."""

    def __init__(self, content: Any, status_code: int = 200) -> None:
        super().__init__(content, status_code=status_code)
        # Data is byte-exact (a title may hold "<script>"): never to be sniffed as HTML.
        self.headers["X-Content-Type-Options"] = "nosniff"

    def render(self, content: Any) -> bytes:
        return json_visible(json.dumps(content, ensure_ascii=False)).encode("utf-8")


@dataclass(frozen=True)
class RouteRule:
    """One route, the methods it answers and the least role it needs (None: anyone)."""

    path: str
    methods: tuple[str, ...]
    needs: str | None
    api: bool = False
    csrf_in_body: bool = False


#: Every route of the app and who may use it (issue 15, "Security: a table test of every
#: route x role"). Pages and the API answer 401 to the anonymous, 403 to a lesser role.
ROUTES: tuple[RouteRule, ...] = (
    RouteRule("/health", ("GET",), None, api=True),
    RouteRule("/login", ("GET", "POST"), None),
    RouteRule("/lang/{tag}", ("GET",), None),
    RouteRule("/logout", ("POST",), "viewer"),
    RouteRule("/", ("GET",), "viewer"),
    RouteRule("/packages", ("GET",), "viewer"),
    RouteRule("/download/{package_id:path}", ("GET",), "viewer"),
    RouteRule("/export/{package_id:path}", ("POST",), "archivist"),
    RouteRule("/packages/{package_id:path}", ("GET",), "viewer"),
    RouteRule("/deposits", ("GET",), "viewer"),
    RouteRule("/upload", ("POST",), "archivist", csrf_in_body=True),
    RouteRule("/audits", ("GET",), "viewer"),
    RouteRule("/audit", ("POST",), "archivist"),
    RouteRule("/repair", ("POST",), "archivist"),
    RouteRule("/locations", ("GET",), "viewer"),
    RouteRule("/tasks", ("GET",), "viewer"),
    RouteRule("/tasks/{task_id}/download", ("GET",), "archivist"),
    RouteRule("/tasks/{task_id}", ("GET",), "viewer"),
    RouteRule("/users", ("GET",), "admin"),
    RouteRule("/api/v1/openapi.json", ("GET",), "viewer", api=True),
    RouteRule("/api/v1/me", ("GET",), "viewer", api=True),
    RouteRule("/api/v1/packages", ("GET",), "viewer", api=True),
    RouteRule("/api/v1/packages/{package_id:path}", ("GET",), "viewer", api=True),
    RouteRule("/api/v1/deposits", ("GET",), "viewer", api=True),
    RouteRule("/api/v1/deposits/upload", ("POST",), "archivist", api=True),
    RouteRule("/api/v1/audits", ("GET",), "viewer", api=True),
    RouteRule("/api/v1/audits/start", ("POST",), "archivist", api=True),
    RouteRule("/api/v1/repairs/start", ("POST",), "archivist", api=True),
    RouteRule("/api/v1/exports/start", ("POST",), "archivist", api=True),
    RouteRule("/api/v1/tasks/{task_id}/download", ("GET",), "archivist", api=True),
    RouteRule("/api/v1/tasks/{task_id}", ("GET",), "viewer", api=True),
    RouteRule("/api/v1/users", ("GET",), "admin", api=True),
)


class SharedCatalog:
    """One catalog for every request of the app, opened on first use: its engine keeps a pool
    of connections, so a request pays neither a new engine, a new (PostgreSQL) connection
    nor the revision check each time. `with shared() as catalog:` hands it out unclosed;
    `close()` (the app's shutdown) disposes of it."""

    def __init__(self, open_catalog: Callable[[], Catalog]) -> None:
        self._open = open_catalog
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self) -> Iterator[Catalog]:
        with self._lock:
            if self._catalog is None:
                self._catalog = self._open()
            catalog = self._catalog
        yield catalog

    def close(self) -> None:
        with self._lock:
            if self._catalog is not None:
                self._catalog.close()
                self._catalog = None


def create_app(connect: Callable[[], Catalog], *, repository_name: str = "",
               locations: Callable[[], Sequence[Location]] = tuple,
               repo: Path | None = None, staging: Path | None = None,
               secure_cookies: bool = True, max_upload: int = DEFAULT_MAX_UPLOAD,
               runner: TaskRunner | None = None,
               audit_interval: dt.timedelta = dt.timedelta(days=90)) -> Starlette:
    """The app over one repository's catalog; `locations` opens its storage locations (for
    file downloads; none: downloads answer 404). Actions need `repo` (the repository the
    background commands run on) and `staging` (where uploads are received). `connect` opens
    the catalog; the app opens it once and shares it (SharedCatalog). A copy not checked
    within `audit_interval` (the setting audit.interval_days) is overdue on the dashboard."""
    open_catalog = SharedCatalog(connect)
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    # Names as the CLI shows them: bidi controls and other invisibles escaped (preserve/names.py).
    env.filters["name"] = escape_name
    limiter = LoginLimiter()
    tasks = runner or (TaskRunner(repo) if repo is not None else None)

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        tr = translator(request)
        caller: Caller | None = getattr(request.state, "caller", None)
        body = env.get_template(template).render(
            _=tr.gettext, tr=tr, lang=tr.tag, languages=i18n.LANGUAGES,
            language_names=_language_names(), path=request.url.path,
            query=request.url.query, repository_name=repository_name,
            caller=caller, csrf=caller.csrf if caller else None,
            can=lambda needs: caller is not None and allows(caller.user.role, needs),
            **context)
        response = HTMLResponse(body, status_code=status)
        _harden(response)
        return response

    def refuse(request: Request, rule: RouteRule, status: int, why: str) -> Response:
        if rule.api:
            response: Response = VisibleJSON({"error": why}, status_code=status)
            if status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="preserve"'
            return response
        if status == 401:
            return login_form(request, status=401, target=_local_target(
                request.url.path + ("?" + request.url.query if request.url.query else "")))
        return render(request, "refused.html", status=status, message=why)

    def guarded(rule: RouteRule, handler: Handler) -> Handler:
        """`handler` behind the rule's role, and behind the CSRF check for a session's
        state-changing request (forms give the token as a field, scripts as a header)."""
        async def endpoint(request: Request) -> Response:
            caller = identify(request, open_catalog)
            request.state.caller = caller
            if rule.needs is None:
                return await handler(request)
            if caller is None:
                return refuse(request, rule, 401, "log in first")
            if not allows(caller.user.role, rule.needs):
                return refuse(request, rule, 403,
                              f"this needs the role {rule.needs} (you are {caller.user.role})")
            if request.method == "POST" and not caller.by_token:
                given = request.headers.get(CSRF_HEADER)
                if given is None and _is_form(request):
                    form = await request.form()
                    value = form.get(CSRF_FIELD)
                    given = value if isinstance(value, str) else None
                # An upload's token is a field of its multipart body, which only the
                # upload's own streaming parser reads (upload_action checks it there).
                if not rule.csrf_in_body and not csrf_ok(caller, given):
                    return refuse(request, rule, 403, "the form's CSRF token is missing or "
                                  "wrong: reload the page and try again")
            with acting_as(person_of(caller.user)):
                return await handler(request)
        return endpoint

    # --- login and logout -----------------------------------------------------------------

    def login_form(request: Request, status: int = 200, target: str = "/",
                   error: str = "") -> Response:
        """The login page; `error` is one of the keys login.html words (expired,
        address-throttled, account-throttled, wrong) or empty."""
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_token()
        response = render(request, "login.html", status=status, login_csrf=token,
                          target=target, error=error)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=secure_cookies, path="/login")
        return response

    async def login(request: Request) -> Response:
        if request.method == "GET":
            if request.state.caller is not None:
                return RedirectResponse(_local_target(request.query_params.get("next", "/")),
                                        status_code=303)
            return login_form(request, target=_local_target(
                request.query_params.get("next", "/")))
        form = await request.form()
        target = _local_target(str(form.get("next") or "/"))
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        field = str(form.get(CSRF_FIELD) or "")
        if not cookie or not hmac.compare_digest(cookie.encode(), field.encode()):
            return login_form(request, 403, target, "expired")
        address = request.client.host if request.client else "unknown"
        if not limiter.allow(address):
            return login_form(request, 429, target, "address-throttled")
        name, password = str(form.get("name") or ""), str(form.get("password") or "")
        with open_catalog() as catalog:
            try:
                user = accounts.authenticate(catalog, name, password)
            except accounts.AccountRefused as refused:
                # The page says which of the few things went wrong in the reader's language;
                # ACC-E006 is one answer for an unknown name, a wrong password and a disabled
                # account, so a login never tells which accounts exist.
                error = ("account-throttled" if refused.finding.code == "ACC-E007"
                         else "wrong")
                return login_form(request, 401 if error == "wrong" else 429, target, error)
            started = accounts.start_session(catalog, user)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, started.secret, httponly=True, samesite="strict",
                            secure=secure_cookies, path="/",
                            max_age=int((started.expires_at - utc_now()).total_seconds()))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    async def logout(request: Request) -> Response:
        caller: Caller = request.state.caller
        if caller.session_secret:
            with open_catalog() as catalog:
                accounts.end_session(catalog, caller.session_secret)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # --- pages ----------------------------------------------------------------------------

    async def health(request: Request) -> Response:
        with open_catalog() as catalog:
            head = catalog.chain_head()
        return VisibleJSON({"status": "ok", "chain_head": head.as_dict()})

    async def dashboard(request: Request) -> Response:
        """Holdings and health from aggregate queries only: the package count from the paged
        query, damage from the (few) damaged or missing copies, never the whole package list
        (3.1 s on 100,000 packages; this is tens of ms)."""
        now = utc_now()
        with open_catalog() as catalog:
            holdings = catalog.location_holdings()
            package_count = catalog.package_page(per_page=1).total
            problems = catalog.copies_to_repair()
            head = catalog.chain_head()
            # Per location: copies not checked within the audit interval (one indexed count).
            overdue = {h.name: catalog.coverage(location=h.name,
                                                due_before=now - audit_interval)[1]
                       for h in holdings}
            last_runs = catalog.audit_run_page(per_page=3).items
        damaged: dict[str, int] = {}
        for copy in problems:
            damaged[copy.package_id] = damaged.get(copy.package_id, 0) + 1
        return render(request, "dashboard.html", holdings=holdings, head=head,
                      package_count=package_count, damaged=sorted(damaged.items()),
                      max_upload=max_upload, overdue=overdue, last_runs=last_runs,
                      interval_days=audit_interval.total_seconds() / 86400)

    def _listing(request: Request) -> tuple[Page[PackageRow], dict[str, str]]:
        """One page of packages, searched and filtered in SQL by the service layer
        (preserve/service, catalog/queries.py): the page's rows only, so 100,000 packages
        cost what 50 do. The filters as given, for the form and the page links."""
        filters = {key: request.query_params.get(key, "").strip()
                   for key in ("q", "depositor", "format", "since", "until")}
        since, until = _day(filters["since"]), _day(filters["until"])
        filters["since"] = since.date().isoformat() if since else ""
        filters["until"] = until.date().isoformat() if until else ""
        with open_catalog() as catalog:
            listing = catalog.package_page(
                page=_page_number(request), per_page=PAGE_SIZE, text=filters["q"] or None,
                depositor=filters["depositor"] or None, puid=filters["format"] or None,
                since=since, until=until)
        return listing, filters

    async def packages_page(request: Request) -> Response:
        listing, filters = _listing(request)

        def link(number: int) -> str:
            return "/packages?" + urlencode({**{k: v for k, v in filters.items() if v},
                                             "page": number})

        return render(request, "packages.html", packages=listing.items, total=listing.total,
                      page=listing.page, pages=listing.pages, filters=filters, link=link)

    async def package_page(request: Request) -> Response:
        package_id = request.path_params["package_id"]
        with open_catalog() as catalog:
            if not catalog.package_exists(package_id):
                return render(request, "not_found.html", status=404)
            detail = catalog.get_package(package_id)
            head_files = detail.files_of(detail.head)
            description, rights = _stored_metadata(catalog, package_id, head_files)
        return render(request, "package.html", p=detail, head_files=head_files,
                      description=description, rights=rights)

    def _stored_metadata(catalog: Catalog, package_id: str, head_files: Sequence[Any]
                         ) -> tuple[list[DcValue], list[RightsStatement]]:
        """The head version's Dublin Core (every value with its language) and its PREMIS
        rights statements (issue 16 §1), read from its stored METS, verified on the way out
        as a download is. Not for a METS over DESCRIPTION_MAX bytes (a package of many
        thousands of files): the page links the METS instead. Unreadable or damaged: none
        (the copy's status already says so)."""
        mets = next((f for f in head_files if f.path == "metadata/mets.xml"), None)
        if mets is None or mets.size > DESCRIPTION_MAX:
            return [], []
        workdir = Path(tempfile.mkdtemp(prefix="preserve-web-"))
        try:
            get_file(catalog, list(locations()), package_id, mets.path, workdir / "mets.xml")
            document = (workdir / "mets.xml").read_bytes()
            return list(read_record(document).dublin_core), list(read_rights(document))
        except (PreserveError, ValueError, OSError):  # UnreadableDocument is a ValueError
            return [], []
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    async def locations_page(request: Request) -> Response:
        with open_catalog() as catalog:
            holdings = catalog.location_holdings()
        return render(request, "locations.html", holdings=holdings)

    async def download(request: Request) -> Response:
        """One stored file, verified against the catalog's size, sha256 and sha512 on the way
        out (preserve/export/single.py, as `preserve get`). The path is only ever looked up
        among the catalog's names of the version, never joined onto a directory, so `..` or an
        absolute path names no file. Always an attachment of type octet-stream: a stored HTML
        or SVG file is never rendered in this site's origin."""
        package_id = request.path_params["package_id"]
        path = request.query_params.get("path", "")
        version_text = request.query_params.get("version", "")
        version = int(version_text) if version_text.isdigit() else None
        with open_catalog() as catalog:
            if not catalog.package_exists(package_id):
                return render(request, "not_found.html", status=404)
            workdir = Path(tempfile.mkdtemp(prefix="preserve-web-"))
            try:
                retrieved = get_file(catalog, list(locations()), package_id, path,
                                     workdir / "file", version=version)
            except PackageDeaccessioned as gone:  # DEA-E009: the tombstone stays, not the bytes
                shutil.rmtree(workdir, ignore_errors=True)
                return render(request, "refused.html", status=410, message=gone.message)
            except UsageError:
                shutil.rmtree(workdir, ignore_errors=True)
                return render(request, "not_found.html", status=404)
            except FixityError as error:
                shutil.rmtree(workdir, ignore_errors=True)
                return render(request, "refused.html", status=409, message=error.message)
            except PreserveError:
                shutil.rmtree(workdir, ignore_errors=True)
                raise
        name = retrieved.path.rsplit("/", 1)[-1]
        return _attachment(workdir / "file", name, {"Digest": f"sha-256={retrieved.sha256}"},
                           BackgroundTask(shutil.rmtree, workdir, ignore_errors=True))

    def _pages_of(path: str) -> Callable[[int], str]:
        return lambda number: f"{path}?page={number}"

    async def deposits_page(request: Request) -> Response:
        with open_catalog() as catalog:
            listing = catalog.deposit_page(page=_page_number(request), per_page=PAGE_SIZE)
        return render(request, "deposits.html", deposits=listing.items, max_upload=max_upload,
                      page=listing.page, pages=listing.pages, link=_pages_of("/deposits"))

    async def audits_page(request: Request) -> Response:
        with open_catalog() as catalog:
            listing = catalog.audit_run_page(page=_page_number(request), per_page=PAGE_SIZE)
        return render(request, "audits.html", runs=listing.items, page=listing.page,
                      pages=listing.pages, link=_pages_of("/audits"))

    async def users_page(request: Request) -> Response:
        with open_catalog() as catalog:
            users = catalog.users()
        return render(request, "users.html", users=users)

    async def set_language(request: Request) -> Response:
        """Switch language: a cookie only (no server state), then back where the user was."""
        tag = request.path_params["tag"]
        target = _local_target(request.query_params.get("next", "/"))
        response = RedirectResponse(target, status_code=303)
        if tag in i18n.LANGUAGES:
            response.set_cookie(i18n.COOKIE, tag, max_age=365 * 24 * 3600, httponly=True,
                                samesite="strict")
        return response

    # --- actions --------------------------------------------------------------------------

    def _runner() -> TaskRunner:
        if tasks is None:
            raise UsageError(detail="this app was started without a repository to act on")
        return tasks

    def _started(request: Request, task: Task, api: bool) -> Response:
        if api:
            return VisibleJSON(task.as_dict(), status_code=202)
        return RedirectResponse(f"/tasks/{task.id}", status_code=303)

    async def upload_action(request: Request, api: bool = False) -> Response:
        """Receive a zip or tar deposit into staging and ingest it (`preserve ingest`)."""
        caller: Caller = request.state.caller
        if staging is None:
            return VisibleJSON({"error": "uploads are not configured"}, status_code=503)
        try:
            upload = await receive(request, staging, max_upload)
        except UploadRefused as refused:
            if api:
                return VisibleJSON({"error": refused.reason}, status_code=refused.status)
            return render(request, "refused.html", status=refused.status,
                          message=refused.reason)
        if not api and not csrf_ok(caller, upload.fields.get(CSRF_FIELD)):
            upload.work.remove()
            return render(request, "refused.html", status=403, message=(
                "the form's CSRF token is missing or wrong: reload the page and try again"))
        assert upload.path is not None
        args = ["ingest", str(upload.path)]
        package_id = upload.fields.get("id", "").strip()
        if package_id:
            args += ["--id", package_id]
        task = _runner().start("ingest", upload.path.name, caller.user.name, args,
                               cleanup=[upload.work.remove])
        return _started(request, task, api)

    async def api_upload(request: Request) -> Response:
        return await upload_action(request, api=True)

    async def audit_action(request: Request, api: bool = False) -> Response:
        caller: Caller = request.state.caller
        form = await request.form() if _is_form(request) else {}
        package = str(form.get("package") or request.query_params.get("package") or "")
        args = ["audit", "--package", package] if package else ["audit", "--all"]
        task = _runner().start("audit", package or "all", caller.user.name, args)
        return _started(request, task, api)

    async def api_audit(request: Request) -> Response:
        return await audit_action(request, api=True)

    async def repair_action(request: Request, api: bool = False) -> Response:
        caller: Caller = request.state.caller
        task = _runner().start("repair", "all", caller.user.name, ["repair"])
        return _started(request, task, api)

    async def api_repair(request: Request) -> Response:
        return await repair_action(request, api=True)

    async def export_action(request: Request, api: bool = False) -> Response:
        """Export a package as a zip bag for another archive (`preserve export`); the zip is
        downloadable from the task page for a day. The page names the package in its path,
        the API in `?package_id=`."""
        caller: Caller = request.state.caller
        package_id = (request.path_params.get("package_id")
                      or request.query_params.get("package_id", ""))
        with open_catalog() as catalog:
            known = bool(package_id) and catalog.package_exists(package_id)
        if not known:
            if api:
                return VisibleJSON({"error": "not found", "package_id": package_id},
                                   status_code=404)
            return render(request, "not_found.html", status=404)
        if staging is None:
            if api:
                return VisibleJSON({"error": "exports need a staging directory"},
                                   status_code=503)
            return render(request, "refused.html", status=503, message="exports need staging")
        target = Path(tempfile.mkdtemp(prefix="export-", dir=staging.parent / "exports"
                                       if (staging.parent / "exports").is_dir() else None))
        task = _runner().start("export", package_id, caller.user.name,
                               ["export", package_id, str(target), "--format", "zip"],
                               product=target)
        return _started(request, task, api)

    async def api_export(request: Request) -> Response:
        return await export_action(request, api=True)

    async def tasks_page(request: Request) -> Response:
        return render(request, "tasks.html", tasks=tasks.recent() if tasks else [])

    def _task(request: Request) -> Task | None:
        return tasks.get(request.path_params["task_id"]) if tasks else None

    async def task_page(request: Request) -> Response:
        task = _task(request)
        if task is None:
            return render(request, "not_found.html", status=404)
        return render(request, "task.html", task=task, findings=_findings(task.result))

    async def task_download(request: Request) -> Response:
        """The zip an export task made: only the file the command named, inside the task's
        own directory."""
        task = _task(request)
        if task is None or task.product is None or task.state not in ("succeeded", "warnings"):
            return render(request, "not_found.html", status=404)
        made = Path(str((task.result or {}).get("path", "")))
        if made.parent.resolve() != task.product.resolve() or not made.is_file():
            return render(request, "not_found.html", status=404)
        return _attachment(made, made.name, {})

    async def api_task(request: Request) -> Response:
        task = _task(request)
        if task is None:
            return VisibleJSON({"error": "not found"}, status_code=404)
        if request.query_params.get("wait") and tasks is not None:
            task = tasks.wait(task.id, timeout=float(request.query_params.get("wait") or 60))
            assert task is not None
        return VisibleJSON(task.as_dict())

    # --- the API --------------------------------------------------------------------------

    async def api_me(request: Request) -> Response:
        caller: Caller = request.state.caller
        return VisibleJSON(caller.user.as_dict())

    async def api_packages(request: Request) -> Response:
        listing, _filters = _listing(request)
        return VisibleJSON({"packages": _jsonable(listing.items), "total": listing.total,
                            "page": listing.page, "per_page": listing.per_page,
                            "pages": listing.pages})

    async def api_package(request: Request) -> Response:
        package_id = request.path_params["package_id"]
        with open_catalog() as catalog:
            if not catalog.package_exists(package_id):
                return VisibleJSON({"error": "not found", "package_id": package_id},
                                    status_code=404)
            detail = catalog.get_package(package_id)
        return VisibleJSON(_jsonable(detail))

    async def api_deposits(request: Request) -> Response:
        status = request.query_params.get("status") or None
        with open_catalog() as catalog:
            listing = catalog.deposit_page(page=_page_number(request),
                                           per_page=_per_page(request), status=status)
        return VisibleJSON({"deposits": _jsonable(listing.items), **_paging(listing)})

    async def api_audits(request: Request) -> Response:
        with open_catalog() as catalog:
            listing = catalog.audit_run_page(page=_page_number(request),
                                             per_page=_per_page(request))
        return VisibleJSON({"audit_runs": _jsonable(listing.items), **_paging(listing)})

    async def api_users(request: Request) -> Response:
        with open_catalog() as catalog:
            return VisibleJSON({"users": [u.as_dict() for u in catalog.users()]})

    async def openapi(request: Request) -> Response:
        return VisibleJSON(openapi_document(ROUTES))

    handlers: dict[str, Handler] = {
        "/health": health, "/login": login, "/lang/{tag}": set_language, "/logout": logout,
        "/": dashboard, "/packages": packages_page, "/download/{package_id:path}": download,
        "/export/{package_id:path}": export_action,
        "/packages/{package_id:path}": package_page, "/deposits": deposits_page,
        "/upload": upload_action, "/audits": audits_page, "/audit": audit_action,
        "/repair": repair_action, "/locations": locations_page, "/tasks": tasks_page,
        "/tasks/{task_id}/download": task_download, "/tasks/{task_id}": task_page,
        "/users": users_page, "/api/v1/openapi.json": openapi, "/api/v1/me": api_me,
        "/api/v1/packages": api_packages, "/api/v1/packages/{package_id:path}": api_package,
        "/api/v1/deposits": api_deposits, "/api/v1/deposits/upload": api_upload,
        "/api/v1/audits": api_audits, "/api/v1/audits/start": api_audit,
        "/api/v1/repairs/start": api_repair, "/api/v1/exports/start": api_export,
        "/api/v1/tasks/{task_id}/download": task_download,
        "/api/v1/tasks/{task_id}": api_task, "/api/v1/users": api_users,
    }
    routes: list[Route | Mount] = [
        Route(rule.path, guarded(rule, handlers[rule.path]), methods=list(rule.methods))
        for rule in ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            open_catalog.close()

    return Starlette(routes=routes, lifespan=lifespan)


def _page_number(request: Request) -> int:
    """`?page=N` (1 when absent or not a positive number)."""
    text = request.query_params.get("page", "1")
    return max(1, int(text)) if text.isdigit() else 1


def _per_page(request: Request) -> int:
    """`?per_page=N` of the API, within 1..500 (50 when absent)."""
    text = request.query_params.get("per_page", "")
    return min(MAX_PER_PAGE, max(1, int(text))) if text.isdigit() else PAGE_SIZE


def _paging(listing: Page[Any]) -> dict[str, int]:
    return {"total": listing.total, "page": listing.page, "per_page": listing.per_page,
            "pages": listing.pages}


def _day(text: str) -> dt.datetime | None:
    """A date of a filter (YYYY-MM-DD) as midnight UTC; None when empty or not a date."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _harden(response: Response) -> None:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"


def _attachment(path: Path, name: str, headers: dict[str, str],
                background: BackgroundTask | None = None) -> FileResponse:
    return FileResponse(
        path, media_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                 "X-Content-Type-Options": "nosniff", **headers},
        background=background)


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded")


def _local_target(target: str) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _findings(result: Any) -> list[dict[str, Any]]:
    if isinstance(result, dict) and isinstance(result.get("findings"), list):
        return [f for f in result["findings"] if isinstance(f, dict)]
    return []


def openapi_document(rules: Sequence[RouteRule]) -> dict[str, Any]:
    """OpenAPI 3.1 of the API routes: paths, methods, the role each needs, bearer auth."""
    paths: dict[str, Any] = {}
    for rule in rules:
        if not rule.api:
            continue
        path = rule.path.replace(":path}", "}")
        operations = {}
        for method in rule.methods:
            operation: dict[str, Any] = {
                "summary": f"{method} {path}",
                "responses": {"200": {"description": "OK"}},
            }
            if rule.needs is None:
                operation["security"] = []
            else:
                operation["description"] = f"Needs the role {rule.needs} (or higher)."
                operation["responses"].update({"401": {"description": "not logged in"},
                                               "403": {"description": "role too low"}})
            if method == "POST":
                operation["responses"]["202"] = {"description": "task started"}
            operations[method.lower()] = operation
        params = [{"name": part[1:-1], "in": "path", "required": True,
                   "schema": {"type": "string"}}
                  for part in path.split("/") if part.startswith("{")]
        if params:
            for operation in operations.values():
                operation["parameters"] = params
        paths[path] = operations
    return {"openapi": "3.1.0",
            "info": {"title": "preserve", "version": __version__},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}], "paths": paths}


def translator(request: Request) -> i18n.Translator:
    return i18n.Translator(i18n.choose(request.cookies.get(i18n.COOKIE),
                                       request.headers.get("accept-language")))


def _language_names() -> dict[str, str]:
    """Each language named in itself, as a switcher shows it."""
    return {"en": "English", "uz-Latn": "Oʻzbekcha", "uz-Cyrl": "Ўзбекча", "ru": "Русский",
            "kk": "Қазақша", "tk": "Türkmençe"}
