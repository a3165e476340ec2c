"""The service layer (issue 15, "First: a service layer"): how the command line, the web
application and scripts open a repository and read it, so neither re-implements the other.

Layer: above the workflows and jobs, below `preserve.cli` and `preserve.web`, which never
import each other. Settings are loaded by the caller (`preserve.settings.load`) and handed in
with the environment the location credentials come from; nothing here reads either itself.

    with open_repository(Path("storage"), load(Path("storage")), os.environ) as repo:
        page = repo.packages(page=2, per_page=50, text="қолжазба")
        for copy in repo.damaged_copies(): ...

Every listing is one page computed in SQL (`preserve/catalog/queries.py`): a page of rows and
the total, never every row loaded into Python (docs/service.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from preserve import settings as settings_mod
from preserve.home import Home, open_home
from preserve.metadata import SchemaSet, find_schemas
from preserve.metadata.fetch import default_cache_dir
from preserve.metadata.schemas import CATALOG_FILENAME
from preserve.storage.configured import LocationConfig, open_location
from preserve.storage.location import Location

if TYPE_CHECKING:
    from preserve.catalog import Catalog
    from preserve.catalog.audits import AuditRunView
    from preserve.catalog.copies import CopyToRepair
    from preserve.catalog.queries import PackageRow, PackageSort, Page
    from preserve.catalog.views import DepositView, EventView

__all__ = ["Repository", "catalog_opener", "open_repository", "open_locations",
           "configured_schemas"]


def catalog_opener(path: Path, settings: Mapping[str, Any]) -> Callable[[], Catalog]:
    """How to open the catalog of the repository at `path`: the database
    `settings["catalog.url"]` names (relative SQLite paths inside the home), with the busy
    timeout, and the event log's head anchored in the home's storage root
    (storage/chainhead.py), so every transaction that appends events moves the anchor."""
    def open_catalog() -> Catalog:
        from preserve.catalog import Catalog, with_busy_timeout  # SQLAlchemy: when needed
        from preserve.storage.chainhead import ChainHeadFile
        home = open_home(path)
        url = Home(path.absolute()).catalog_url(settings["catalog.url"])
        return Catalog(with_busy_timeout(url, settings["catalog.busy_timeout"]),
                       anchor=ChainHeadFile(home.ocfl))
    return open_catalog


def open_locations(path: Path, environ: Mapping[str, str]) -> list[Location]:
    """Every configured storage location, the home's own root (`local`) first.

    Credentials come from `environ` only (PRESERVE_LOCATION_<NAME>_ACCESS_KEY /
    _SECRET_KEY), else boto3's own chain; they are never written anywhere."""
    home = open_home(path)
    opened = []
    for config in settings_mod.location_configs(path):
        opened.append(open_location(config, home_root=home.ocfl,
                                    credentials=_credentials(config, environ)))
    return opened


def _credentials(config: LocationConfig,
                 environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    if config.kind != "s3":
        return (None, None)
    from preserve.storage.s3 import credential_variables  # boto3: only for S3 locations
    access, secret = credential_variables(config.name)
    return (environ.get(access), environ.get(secret))


def configured_schemas(settings: Mapping[str, Any],
                       environ: Mapping[str, str]) -> SchemaSet | None:
    """The official XSDs: `schemas.dir` if set, else the user cache `preserve schemas fetch`
    fills (XDG_CACHE_HOME), if it was filled; None when neither (META-W004 on ingest)."""
    configured = settings["schemas.dir"]
    if configured:
        return find_schemas(Path(configured))
    cache = default_cache_dir(environ)
    return find_schemas(cache if (cache / CATALOG_FILENAME).is_file() else None)


@dataclass
class Repository:
    """One opened repository: its home, its settings, its storage locations, its schemas and
    (opened on first use, closed on leaving the `with` block) its catalog."""

    home: Home
    settings: Mapping[str, Any]
    environ: Mapping[str, str]
    open_catalog: Callable[[], Catalog]
    _catalog: Catalog | None = field(default=None, repr=False)

    # --- opening ---------------------------------------------------------------------------

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self.open_catalog()
        return self._catalog

    def locations(self) -> list[Location]:
        """The configured storage locations (opened anew: S3 clients are not shared)."""
        return open_locations(self.home.path, self.environ)

    def schemas(self) -> SchemaSet | None:
        return configured_schemas(self.settings, self.environ)

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- reading ---------------------------------------------------------------------------

    def packages(self, *, page: int = 1, per_page: int = 50, text: str | None = None,
                 sort: PackageSort = "created", depositor: str | None = None,
                 puid: str | None = None, since: dt.datetime | None = None,
                 until: dt.datetime | None = None) -> Page[PackageRow]:
        """One page of packages, searched and filtered in SQL (catalog/queries.py)."""
        return self.catalog().package_page(page=page, per_page=per_page, text=text, sort=sort,
                                           depositor=depositor, puid=puid, since=since,
                                           until=until)

    def deposits(self, *, page: int = 1, per_page: int = 50,
                 status: str | None = None) -> Page[DepositView]:
        """Deposit attempts with their findings, newest first."""
        return self.catalog().deposit_page(page=page, per_page=per_page, status=status)

    def audit_runs(self, *, page: int = 1, per_page: int = 50) -> Page[AuditRunView]:
        """Audit runs, newest first."""
        return self.catalog().audit_run_page(page=page, per_page=per_page)

    def events(self, *, package_id: str | None = None, page: int = 1,
               per_page: int = 50) -> Page[EventView]:
        """Events of the log (or of one package), newest first."""
        return self.catalog().event_page(package_id=package_id, page=page, per_page=per_page)

    def damaged_copies(self) -> list[CopyToRepair]:
        """Copies an audit found damaged or missing and no repair has mended yet (few: the
        query reads only copies whose status is not ok)."""
        return self.catalog().copies_to_repair()

    def overdue(self, *, location: str, interval: dt.timedelta,
                now: dt.datetime) -> tuple[int, int]:
        """(copies at `location`, copies not checked within `interval` before `now`)."""
        return self.catalog().coverage(location=location, due_before=now - interval)


def open_repository(path: Path, settings: Mapping[str, Any],
                    environ: Mapping[str, str] | None = None,
                    open_catalog: Callable[[], Catalog] | None = None) -> Repository:
    """The repository at `path` (its home must exist: `open_home` raises otherwise). Without
    `open_catalog`, the catalog is the one `settings["catalog.url"]` names
    (`catalog_opener`). `environ` is where S3 credentials and the schema cache are looked up
    (the CLI passes `os.environ`; none: no credentials, boto3's own chain)."""
    home = open_home(path)
    return Repository(home=home, settings=settings, environ=environ or {},
                      open_catalog=open_catalog or catalog_opener(path, settings))
