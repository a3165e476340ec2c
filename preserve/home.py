"""The repository home: one directory holding settings, catalog and storage (DESIGN.md,
"Repository home").

```
preserve.toml      settings
catalog.sqlite     the default catalog (unless catalog.url names another database)
ocfl/              the default location: an OCFL 1.1 storage root
staging/           work directories of ingests in progress (same filesystem as ocfl/)
quarantine/        damaged copies moved aside by audits, never deleted
```
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from preserve.errors import RepositoryExists, RepositoryNotFound, StorageError
from preserve.storage import StorageRoot

log = logging.getLogger(__name__)

SETTINGS_FILE = "preserve.toml"
DEFAULT_LOCATION = "local"


@dataclass(frozen=True, slots=True)
class Home:
    """Paths of one repository home."""

    path: Path

    @property
    def settings_file(self) -> Path:
        return self.path / SETTINGS_FILE

    @property
    def ocfl(self) -> Path:
        return self.path / "ocfl"

    @property
    def staging(self) -> Path:
        return self.path / "staging"

    @property
    def quarantine(self) -> Path:
        return self.path / "quarantine"

    def catalog_url(self, configured: str = "") -> str:
        """The configured catalog URL, or the default SQLite file in the home."""
        from preserve import catalog  # SQLAlchemy is loaded by the commands that use it only
        return configured or catalog.sqlite_url(self.path / "catalog.sqlite")

    def exists(self) -> bool:
        return self.settings_file.is_file() and self.ocfl.is_dir()


def open_home(path: Path) -> Home:
    """The home at `path`; RepositoryNotFound if `preserve init` never ran there."""
    home = Home(path.absolute())
    if not home.exists():
        raise RepositoryNotFound(path=str(path))
    for directory in (home.staging, home.quarantine):
        try:
            directory.mkdir(exist_ok=True)
        except OSError:  # a read-only repository: readers need neither; writers say so
            log.debug("cannot create %s", directory)
    return home


def _undo_init(path: Path, created_dir: bool, before: set[str]) -> None:
    """Remove what a failed `init_home` made: the directory if it made it, else the entries
    it added (never anything that was there before)."""
    if created_dir:
        shutil.rmtree(path, ignore_errors=True)
        return
    if not path.is_dir():
        return
    for entry in path.iterdir():
        if entry.name in before:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    log.debug("undid a failed init in %s", path)


def init_home(path: Path, settings_toml: str, catalog_url: str = "") -> Home:
    """Create a repository home: directories, settings, OCFL storage root, migrated catalog.

    Refuses a directory that already holds a repository, or that holds anything but an
    (ignored) README: an archivist's files are never mixed into a repository by accident.
    """
    home = Home(path.absolute())
    if home.settings_file.exists():
        raise RepositoryExists(path=str(path))
    if path.exists() and not path.is_dir():
        raise RepositoryNotFound(path=str(path))
    # A failed init leaves nothing behind (issue 11): everything it made is removed again,
    # so the next `init` starts from the same place. Only what this call created is removed.
    created_dir = not path.exists()
    before = {p.name for p in path.iterdir()} if path.is_dir() else set()
    try:
        path.mkdir(parents=True, exist_ok=True)
        StorageRoot.create(home.ocfl)
        for directory in (home.staging, home.quarantine):
            directory.mkdir(exist_ok=True)
        from preserve import catalog

        url = home.catalog_url(catalog_url)
        catalog.upgrade(url)
        with catalog.Catalog(url) as cat:
            cat.ensure_location(DEFAULT_LOCATION, home.ocfl.as_uri())
        # The settings file is written last: its presence marks a finished init.
        tmp = home.settings_file.with_suffix(".toml.tmp")
        tmp.write_text(settings_toml, encoding="utf-8")
        os.replace(tmp, home.settings_file)
    except BaseException as exc:
        _undo_init(path, created_dir, before)
        if isinstance(exc, OSError):  # the user's directory, not a bug (issue 18: no exit 3)
            raise StorageError(detail=f"cannot create the repository at {path}: "
                               f"{exc.strerror} ({exc.filename}); choose a directory this user "
                               "can write, on a writable filesystem") from None
        raise
    log.info("initialised repository at %s", home.path)
    return home
