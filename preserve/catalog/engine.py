"""Engines, connection settings and the Alembic history of the catalog (DESIGN.md, "Catalog",
"Repository home").

SQLite is the embedded default: WAL mode, a busy timeout, foreign keys on, and every
transaction begins IMMEDIATE so that writers queue at BEGIN instead of failing half-way (and
so that the event chain is appended by one writer at a time). PostgreSQL replaces it when
settings name a PostgreSQL URL; the same Alembic history serves both.

Alembic is configured here, in code, with no alembic.ini: the history lives in the top-level
`alembic/` directory, shipped inside the package as `preserve/_migrations`, and the
connection is handed to `env.py` through `Config.attributes`. Nothing here runs at import time.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

from preserve.errors import CatalogError

log = logging.getLogger(__name__)

#: The revision this preserve's models match; `Catalog` refuses any other.
HEAD_REVISION = "0012_format_names"

#: Milliseconds a SQLite writer waits for another before giving up (setting
#: catalog.busy_timeout, carried in the URL's `busy_timeout` query parameter, in seconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: The URL query parameter `with_busy_timeout` sets; make_engine takes it out again.
BUSY_TIMEOUT_PARAM = "busy_timeout"

#: Seconds to wait for a PostgreSQL server before reporting it unreachable.
POSTGRES_CONNECT_TIMEOUT_S = 10


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite catalog file at `path` (any characters allowed)."""
    url = URL.create("sqlite+pysqlite", database=str(Path(path).absolute()))
    return url.render_as_string(hide_password=False)


def is_postgres(url: str) -> bool:
    """True when the catalog at `url` is a PostgreSQL database (the job queue's home)."""
    try:
        return make_url(url).get_backend_name() == "postgresql"
    except ArgumentError:
        return False


def libpq_url(url: str) -> str:
    """The libpq connection URI of the PostgreSQL catalog at `url` (`postgresql://…`, the
    query kept: `options=-csearch_path=…` reaches the job queue's connections too)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise CatalogError(detail=f"{display_url(url)} is not a PostgreSQL database")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def display_url(url: str) -> str:
    """`url` with any password hidden, for messages and logs."""
    try:
        parsed = make_url(url).difference_update_query([BUSY_TIMEOUT_PARAM])
        return parsed.render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def with_busy_timeout(url: str, seconds: float) -> str:
    """`url` with a bounded wait for a locked SQLite catalog (no change for other databases).

    SQLite lets one writer at a time in; the others wait up to this long (busy handler), then
    fail with a CatalogError that says the catalog is locked. Kept in the URL so that every
    command's Catalog gets it without another argument.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # make_engine reports it
    if parsed.get_backend_name() != "sqlite":
        return url
    return parsed.update_query_dict({BUSY_TIMEOUT_PARAM: f"{seconds:g}"}).render_as_string(
        hide_password=False)


def _busy_timeout_ms(url: object) -> int:
    try:
        parsed = make_url(url)  # type: ignore[arg-type]
        value = parsed.query.get(BUSY_TIMEOUT_PARAM)
        if isinstance(value, tuple):  # given twice in the URL: the last one counts
            value = value[-1]
        return SQLITE_BUSY_TIMEOUT_MS if value is None else max(0, int(float(value) * 1000))
    except (ArgumentError, ValueError, TypeError):
        return SQLITE_BUSY_TIMEOUT_MS


def sqlite_path(url: str) -> Path | None:
    """The file of a file-backed SQLite URL; None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # make_engine reports it
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    """An engine for `url` with the catalog's connection settings; connects lazily."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CatalogError(detail=f"{url!r} is not a database URL ({exc})") from None
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            busy_ms = _busy_timeout_ms(parsed)
            parsed = parsed.difference_update_query([BUSY_TIMEOUT_PARAM])
            read_only = _read_only_file(parsed.database)
            if read_only is not None:
                # A mounted replica or a snapshot (issue 18): readers open it read-only, and
                # on a read-only filesystem as immutable (no journal, no locks: nothing can
                # write there), so list, show, log and export work; writers get a clear error.
                uri = f"file:{quote(str(parsed.database))}?mode=ro" + (
                    "&immutable=1" if read_only == "filesystem" else "")
                engine = sa.create_engine(
                    "sqlite+pysqlite://", creator=lambda: sqlite3.connect(
                        uri, uri=True, timeout=busy_ms / 1000, check_same_thread=False))
                _configure_sqlite(engine, busy_ms, read_only=True)
                return engine
            engine = sa.create_engine(parsed, connect_args={"timeout": busy_ms / 1000})
            _configure_sqlite(engine, busy_ms)
        elif backend == "postgresql":
            engine = sa.create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
            )
        else:
            raise CatalogError(
                detail=f"unsupported database {backend!r} in {display_url(url)}; "
                "use SQLite or PostgreSQL"
            )
    except (NoSuchModuleError, ImportError) as exc:
        raise CatalogError(
            detail=f"no driver for {display_url(url)} ({exc}); for PostgreSQL install "
            "`preserve[postgres]` and use a postgresql+psycopg:// URL"
        ) from None
    return engine


def _read_only_file(database: str | None) -> str | None:
    """"filesystem" when the SQLite file is on a read-only filesystem, "permissions" when
    this user cannot write it or its directory (SQLite writes a journal beside it), None
    when it is writable (or does not exist yet: it is being created)."""
    if not database or database == ":memory:":
        return None
    path = Path(database)
    if not path.is_file():
        return None
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "filesystem"
    except OSError:
        return None
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return "permissions"
    return None


def is_read_only(url: str) -> bool:
    """True when the catalog at `url` is a SQLite file this process can only read."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    return parsed.get_backend_name() == "sqlite" and _read_only_file(parsed.database) is not None


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: Engine, busy_ms: int = SQLITE_BUSY_TIMEOUT_MS,
                      read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        # SQLite's built-in lower() folds ASCII only; titles are Cyrillic, Arabic, Uzbek
        # Latin with ʻ: Python's str.lower() replaces it, as PostgreSQL's lower() already
        # folds every script (SQLite lets an application function override a built-in).
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not read_only:
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Take the write lock up front: a deferred transaction that reads and then writes
        # could otherwise fail with SQLITE_BUSY mid-way, or fork the event chain.
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def unreachable(url: str, exc: BaseException) -> CatalogError:
    """The CatalogError for a database that cannot be opened or queried."""
    cause = getattr(exc, "orig", None) or exc
    first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    if "readonly database" in first_line or "read-only" in first_line:
        return CatalogError(detail=(
            f"the catalog at {display_url(url)} is read-only (a mounted replica, a snapshot, or "
            "no write permission) and this command writes to it; run it on the writable "
            "repository. Reading commands work here: list, show, log, log verify, export"))
    if "database is locked" in first_line or "database table is locked" in first_line:
        waited = _busy_timeout_ms(url) / 1000
        return CatalogError(
            detail=f"the catalog at {display_url(url)} is locked by another process and stayed "
            f"locked for {waited:g} s (setting catalog.busy_timeout); this step was not recorded. "
            "Try again when the other writer (an ingest, audit, check or a tool holding a write "
            "transaction) has finished, or raise catalog.busy_timeout")
    return CatalogError(
        detail=f"cannot use the catalog at {display_url(url)}: {first_line}. Check the URL and "
        "that the database exists and is reachable."
    )


@contextmanager
def connection_for(url: str) -> Iterator[Connection]:
    """A connection inside one transaction, committed at the end; errors become CatalogError."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            yield connection
    except SQLAlchemyError as exc:
        raise unreachable(url, exc) from None
    finally:
        engine.dispose()


def script_location() -> Path:
    """The migration history: the top-level `alembic/` directory of the source tree, which
    the package reaches as `preserve/_migrations` (a symlink in a checkout, real files in an
    installed wheel), so an installed preserve finds it without the checkout."""
    import preserve
    return Path(preserve.__file__).resolve().parent / "_migrations"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic Config with no ini file: script location and connection set in code."""
    from alembic.config import Config  # Alembic only to migrate: 0.1 s off every command
    config = Config()
    # ConfigParser interpolation would read a '%' in the path as a placeholder.
    config.set_main_option("script_location", str(script_location()).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    if url is not None:
        config.attributes["url"] = url
    return config


def script_head() -> str | None:
    """The head revision of the Alembic history on disk (equals HEAD_REVISION)."""
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the catalog at `url` up to `revision`, creating a SQLite file if needed."""
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise CatalogError(detail=f"directory {path.parent} for the catalog does not exist")
    log.info("upgrading catalog %s to %s", display_url(url), revision)
    from alembic import command
    with connection_for(url) as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the catalog at `url` down to `revision` (`base` drops every table)."""
    log.info("downgrading catalog %s to %s", display_url(url), revision)
    from alembic import command
    with connection_for(url) as connection:
        command.downgrade(alembic_config(connection), revision)


def current_revision(url: str) -> str | None:
    """The revision the catalog at `url` is at; None for an empty (never migrated) database."""
    require_sqlite_file(url)
    with connection_for(url) as connection:
        return read_revision(connection)


#: The table where Alembic keeps the revision a database is at (alembic.runtime.migration).
VERSION_TABLE = "alembic_version"


def read_revision(connection: Connection) -> str | None:
    """The revision the connected catalog is at, read from Alembic's version table with plain
    SQL, so that opening a catalog does not import Alembic (issue 17: 0.1 s of every command);
    None for a database never migrated. The history is linear: more than one row is an error."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    if len(rows) > 1:
        raise CatalogError(detail=f"the catalog is at several revisions at once "
                                  f"({', '.join(sorted(r[0] for r in rows))}); the history "
                                  "of preserve has one line: `preserve db upgrade`")
    return str(rows[0][0]) if rows else None


def schema_differences(url: str) -> list[str]:
    """How the database at `url` differs from the models (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from preserve.catalog.records import Base
    with connection_for(url) as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": _compare_type, "include_name": _ours})
        return [repr(diff) for diff in compare_metadata(context, Base.metadata)]


#: Tables, types and functions of the job queue (migration 0005, procrastinate's own schema):
#: part of the database, not of the catalog's models.
QUEUE_PREFIX = "procrastinate_"


def _ours(name: str | None, type_: str, _parent_names: Any) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(QUEUE_PREFIX))


def _compare_type(context, inspected_column, metadata_column, inspected_type,  # type: ignore[no-untyped-def]
                  metadata_type):
    """Alembic's type comparison, except that SQLite's VARCHAR(n) equals TEXT.

    SQLite never enforces a declared length (both have TEXT affinity), so migration 0002
    widens `events.type`/`outcome` to TEXT on PostgreSQL only; on SQLite the 0001 declaration
    stays and is equivalent. Returning None defers to Alembic's default comparison.
    """
    if (context.dialect.name == "sqlite" and isinstance(inspected_type, sa.String)
            and isinstance(metadata_type, sa.Text)):
        return False
    return None


def require_sqlite_file(url: str) -> None:
    # Opening a missing SQLite file would silently create an empty one.
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise CatalogError(
            detail=f"no catalog database at {path}; run `preserve init` or `preserve db upgrade`"
        )
