"""The service layer (issue 15, "First: a service layer"): what the command line, the web
application and scripts call to read a repository, so neither re-implements the other.

Layer: above the workflows and jobs, below `preserve.cli` and `preserve.web`, which never
import each other. Settings are read by the caller and handed in (a mapping as
`preserve.cli.settings.load` returns it); nothing here reads the environment.

    with open_repository(Path("storage"), settings) as repo:
        page = repo.packages(page=2, per_page=50, text="қолжазба")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from preserve.home import Home, open_home

if TYPE_CHECKING:
    from preserve.catalog import Catalog
    from preserve.catalog.queries import PackageRow, PackageSort, Page

__all__ = ["Repository", "open_repository"]


@dataclass
class Repository:
    """One opened repository: its home, its settings and (opened on first use, closed on
    leaving the `with` block) its catalog. `open_catalog` makes the catalog: the CLI passes
    its own, which anchors the event log's head in storage (storage/chainhead.py)."""

    home: Home
    settings: Mapping[str, Any]
    open_catalog: Callable[[], Catalog]
    _catalog: Catalog | None = field(default=None, repr=False)

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self.open_catalog()
        return self._catalog

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def packages(self, *, page: int = 1, per_page: int = 50, text: str | None = None,
                 sort: PackageSort = "created") -> Page[PackageRow]:
        """One page of packages, computed in SQL (preserve/catalog/queries.py)."""
        return self.catalog().package_page(page=page, per_page=per_page, text=text, sort=sort)


def open_repository(path: Path, settings: Mapping[str, Any],
                    open_catalog: Callable[[], Catalog] | None = None) -> Repository:
    """The repository at `path` (its home must exist: `open_home` raises otherwise).
    Without `open_catalog`, the catalog is the one `settings["catalog.url"]` names, with the
    event log's head anchored in the home's storage root as every command does."""
    home = open_home(path)

    def default_catalog() -> Catalog:
        from preserve.catalog import Catalog, with_busy_timeout
        from preserve.storage.chainhead import ChainHeadFile
        url = Home(path.absolute()).catalog_url(settings["catalog.url"])
        return Catalog(with_busy_timeout(url, settings["catalog.busy_timeout"]),
                       anchor=ChainHeadFile(home.ocfl))

    return Repository(home=home, settings=settings, open_catalog=open_catalog or default_catalog)
