"""The ASGI app (issue 15 "The web app"): read-only pages and the JSON API over the catalog.

The catalog is reached through `open_catalog`, handed in by `preserve serve`: the seam the
service layer (preserve/service, issue 15 "First: a service layer") replaces with its paged
SQL queries. Until then the package list is filtered and paged here.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
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

from preserve.errors import FixityError, PreserveError, UsageError
from preserve.export.single import get_file
from preserve.names import escape_name, json_visible
from preserve.web import i18n

if TYPE_CHECKING:
    from preserve.catalog import Catalog
    from preserve.catalog.queries import PackageRow, Page
    from preserve.storage.location import Location

HERE = Path(__file__).parent
PAGE_SIZE = 50


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


def create_app(open_catalog: Callable[[], Catalog], *, repository_name: str = "",
               locations: Callable[[], Sequence[Location]] = tuple) -> Starlette:
    """The app over one repository's catalog; `locations` opens its storage locations (for
    file downloads; none: downloads answer 404)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    # Names as the CLI shows them: bidi controls and other invisibles escaped (preserve/names.py).
    env.filters["name"] = escape_name

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        tr = translator(request)
        body = env.get_template(template).render(
            _=tr.gettext, tr=tr, lang=tr.tag, languages=i18n.LANGUAGES,
            language_names=_language_names(), path=request.url.path,
            query=request.url.query, repository_name=repository_name, **context)
        response = HTMLResponse(body, status_code=status)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    async def health(request: Request) -> Response:
        with open_catalog() as catalog:
            head = catalog.chain_head()
        return VisibleJSON({"status": "ok", "chain_head": head.as_dict()})

    async def dashboard(request: Request) -> Response:
        """Holdings and health from aggregate queries only: the package count from the paged
        query, damage from the (few) damaged or missing copies, never the whole package list
        (3.1 s on 100,000 packages; this is tens of ms)."""
        with open_catalog() as catalog:
            holdings = catalog.location_holdings()
            package_count = catalog.package_page(per_page=1).total
            problems = catalog.copies_to_repair()
            head = catalog.chain_head()
        damaged: dict[str, int] = {}
        for copy in problems:
            damaged[copy.package_id] = damaged.get(copy.package_id, 0) + 1
        return render(request, "dashboard.html", holdings=holdings, head=head,
                      package_count=package_count, damaged=sorted(damaged.items()))

    def _listing(request: Request) -> Page[PackageRow]:
        """One page of packages, computed in SQL by the service layer (preserve/service):
        the page's rows only, so 100,000 packages cost what 50 do."""
        query = request.query_params.get("q", "").strip()
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        with open_catalog() as catalog:
            return catalog.package_page(page=page, per_page=PAGE_SIZE, text=query or None)

    async def packages_page(request: Request) -> Response:
        listing = _listing(request)
        query = request.query_params.get("q", "").strip()

        def link(number: int) -> str:
            return "/packages?" + urlencode({"q": query, "page": number})

        return render(request, "packages.html", packages=listing.items, total=listing.total,
                      page=listing.page, pages=listing.pages, q=query, link=link)

    async def package_page(request: Request) -> Response:
        package_id = request.path_params["package_id"]
        with open_catalog() as catalog:
            if not catalog.package_exists(package_id):
                return render(request, "not_found.html", status=404)
            detail = catalog.get_package(package_id)
        return render(request, "package.html", p=detail, head_files=detail.files_of(detail.head))

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
        return FileResponse(
            workdir / "file", media_type="application/octet-stream",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                     "X-Content-Type-Options": "nosniff",
                     "Digest": f"sha-256={retrieved.sha256}"},
            background=BackgroundTask(shutil.rmtree, workdir, ignore_errors=True))

    async def deposits_page(request: Request) -> Response:
        with open_catalog() as catalog:
            deposits = list(reversed(catalog.deposits()))
        return render(request, "deposits.html", deposits=deposits)

    async def audits_page(request: Request) -> Response:
        with open_catalog() as catalog:
            runs = list(reversed(catalog.audit_runs()))
        return render(request, "audits.html", runs=runs)

    async def set_language(request: Request) -> Response:
        """Switch language: a cookie only (no server state), then back where the user was."""
        tag = request.path_params["tag"]
        target = request.query_params.get("next", "/")
        # Only a path on this site: never an open redirect to another host.
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = "/"
        response = RedirectResponse(target, status_code=303)
        if tag in i18n.LANGUAGES:
            response.set_cookie(i18n.COOKIE, tag, max_age=365 * 24 * 3600, httponly=True,
                                samesite="strict")
        return response

    async def api_packages(request: Request) -> Response:
        listing = _listing(request)
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

    routes = [
        Route("/health", health),
        Route("/", dashboard),
        Route("/packages", packages_page),
        Route("/download/{package_id:path}", download),
        Route("/packages/{package_id:path}", package_page),
        Route("/deposits", deposits_page),
        Route("/audits", audits_page),
        Route("/locations", locations_page),
        Route("/lang/{tag}", set_language),
        Route("/api/v1/packages", api_packages),
        Route("/api/v1/packages/{package_id:path}", api_package),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(routes=routes)


def translator(request: Request) -> i18n.Translator:
    return i18n.Translator(i18n.choose(request.cookies.get(i18n.COOKIE),
                                       request.headers.get("accept-language")))


def _language_names() -> dict[str, str]:
    """Each language named in itself, as a switcher shows it."""
    return {"en": "English", "uz-Latn": "Oʻzbekcha", "uz-Cyrl": "Ўзбекча", "ru": "Русский",
            "kk": "Қазақша", "tk": "Türkmençe"}
