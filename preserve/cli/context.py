"""What every command needs from the global options: repository, settings, output mode.

Only the CLI reads settings and the environment (DESIGN.md, "Command line"); this module
turns them into the explicit arguments library functions take.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from preserve import service
from preserve import settings as settings_mod
from preserve.cli import units
from preserve.deposit import Limits, ProfileChoice, read_profile_file
from preserve.home import Home, open_home
from preserve.metadata import SchemaSet
from preserve.model import Agent, person_agent
from preserve.storage.configured import LocationConfig
from preserve.storage.location import Location

if TYPE_CHECKING:
    from preserve.catalog import Catalog
    from preserve.jobs.work import JobEnvironment

DEFAULT_REPO = Path("storage")


@dataclass
class AppState:
    """Global options, parsed before the command."""

    repo: Path
    json: bool = False
    verbosity: int = 0  # -1 quiet, 0 normal, 1 info, 2 debug
    _settings: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    def settings(self) -> dict[str, Any]:
        if self._settings is None:
            self._settings = settings_mod.load(self.repo)
        return self._settings

    def home(self) -> Home:
        return open_home(self.repo)

    def catalog_url(self) -> str:
        from preserve.catalog import with_busy_timeout  # SQLAlchemy: only commands that need it
        url = Home(self.repo.absolute()).catalog_url(self.settings()["catalog.url"])
        return with_busy_timeout(url, self.settings()["catalog.busy_timeout"])

    def open_catalog(self) -> Catalog:
        """The catalog as the service layer opens it (preserve/service): the event log's head
        anchored in the default storage root, so every transaction that appends events moves
        the anchor, and `log verify` and `audit` compare with it."""
        return service.catalog_opener(self.repo, self.settings())()

    def repository(self) -> service.Repository:
        """The repository through the service layer, as the web app and scripts open it."""
        return service.open_repository(self.repo, self.settings(), os.environ)

    def queue_conninfo(self, what: str) -> str:
        """The libpq URI of the job queue: the catalog's PostgreSQL database. A SQLite
        catalog has no queue, and asking for one is a usage error (exit 2)."""
        from preserve.catalog.engine import is_postgres, libpq_url
        url = self.catalog_url()
        if not is_postgres(url):
            from preserve.errors import UsageError
            raise UsageError(detail=(
                f"{what} needs the job queue, which lives in a PostgreSQL catalog; this "
                "repository's catalog is SQLite, where every command does its work in "
                "process: run the command without --enqueue or --defer (see docs/workers.md)"))
        return libpq_url(url)

    def job_environment(self, max_rate: float | None = None) -> JobEnvironment:
        """What queued jobs need from this repository (see preserve/jobs/work.py)."""
        from preserve.jobs.work import JobEnvironment
        return JobEnvironment(open_catalog=self.open_catalog, locations=self.locations,
                              quarantine=self.home().quarantine,
                              copies=self.settings()["replication.copies"],
                              replication_threads=max(4, self.workers() * 4),
                              max_rate=max_rate, staging=self.home().staging,
                              organization=self.settings()["repository.name"],
                              schemas=self.schemas,
                              audit_interval_days=self.settings()["audit.interval_days"],
                              audit_max_rate=units.rate(self.settings()["audit.max_rate"]
                                                        or None, "audit.max_rate"))

    def workers(self) -> int:
        return self.settings()["ingest.workers"] or os.cpu_count() or 1

    def limits(self) -> Limits:
        s = self.settings()
        return Limits(max_members=s["limits.max_members"], max_total_size=s["limits.max_total_size"],
                      max_ratio=s["limits.max_ratio"])

    def profiles(self, given: Path | None = None) -> ProfileChoice:
        """The BagIt profile choice (issue 16 §4): `--profile FILE`, else the settings."""
        s = self.settings()
        if given is not None:
            profile, problems = read_profile_file(given)
            return ProfileChoice(explicit=profile, problems=tuple(problems))
        directory = Path(s["profiles.dir"]) if s["profiles.dir"] else None
        return ProfileChoice(directory=directory, by_organization=settings_mod.organization_profiles(
            s["profiles.by_organization"]))

    def location_configs(self) -> list[LocationConfig]:
        return settings_mod.location_configs(self.repo)

    def locations(self) -> list[Location]:
        """Every configured storage location, the home's own root (`local`) first; S3
        credentials from this process's environment (preserve/service `open_locations`)."""
        self.home()
        return service.open_locations(self.repo, os.environ)

    def schemas(self) -> SchemaSet | None:
        return service.configured_schemas(self.settings(), os.environ)


def utf8_text(value: str | None) -> str | None:
    """A text option (a package id, an identifier) must be UTF-8; command lines are bytes, and
    Python hands undecodable ones over as surrogate escapes. File paths may be any bytes and
    do not use this check."""
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise typer.BadParameter(f"{shown!r} is not valid UTF-8 text; package ids and "
                                     "identifiers are UTF-8 (check the terminal's encoding)") from None
    return value


def existing_path(value: Path | None) -> Path | None:
    """A deposit path that names nothing is the user's typo, not a deposit: a usage error,
    and nothing is recorded (a dangling symlink does name something: ingest reports it)."""
    if value is not None and not os.path.lexists(value):
        raise typer.BadParameter(f"{value} does not exist; name an existing bag directory, "
                                 "folder, .zip, .tar or .tar.gz")
    return value


def existing_metadata_file(value: Path | None) -> Path | None:
    """`--metadata FILE` must name something (what it holds is the library's to judge)."""
    if value is not None and not os.path.lexists(value):
        raise typer.BadParameter(f"{value} does not exist; name a descriptive CSV, Dublin "
                                 "Core or MODS XML file")
    return value


def version_number(text: str | None) -> int | None:
    """A version as every command spells it: `v2` or `2` (OCFL names it v2)."""
    if text is None:
        return None
    match = re.fullmatch(r"[vV]?([1-9][0-9]*)", text.strip())
    if match is None:
        raise typer.BadParameter(f"{text!r}: give a version as v2 or 2", param_hint="--version")
    return int(match.group(1))


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState), "the root callback sets the state"
    return obj


def repo_from(option: Path | None) -> Path:
    if option is not None:
        return option
    env = os.environ.get("PRESERVE_REPO")
    return Path(env) if env else DEFAULT_REPO


def configure_logging(verbosity: int) -> None:
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logger = logging.getLogger("preserve")
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        # With -v the time of each line helps an operator see where a long ingest spends it.
        fmt = "%(asctime)s " if verbosity > 0 else ""
        handler.setFormatter(logging.Formatter(fmt + "%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    else:
        for existing in logger.handlers:
            existing.setLevel(level)


def acting_person_of_command() -> Agent | None:
    """Whom the events of this command name: the web app's account when the web app runs the
    command for it (`PRESERVE_ACTING_ACCOUNT`, set by preserve/web/tasks.py), else the
    operating-system user. Setting that variable grants nothing: whoever sets a command's
    environment can set its login name (USER, LOGNAME) as well."""
    account = os.environ.get("PRESERVE_ACTING_ACCOUNT", "")
    if account:
        return person_agent(account, kind="account")
    return operating_system_person()


def operating_system_person() -> Agent | None:
    """The operating-system user running this command, as a PREMIS person (issue 15: the
    CLI names its person as the web app names the account). None when the system cannot
    say (no login name and no passwd entry, as in some containers)."""
    import getpass
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        return None
    return person_agent(name, kind="os-user") if name else None
