"""Selecting due copies in a catalog of a million copies (issue 7, item 3: under 100 ms).

A fresh catalog (SQLite file, and PostgreSQL in a fresh schema when reachable) is migrated to
head with Alembic and filled server-side (recursive CTE / generate_series, so loading takes
seconds): 1,000 packages of 1,000 files, one copy each at one location. Then
`Catalog.due_copies` — the query every audit batch runs, 1,000 copies at a time — is timed
in the situations an archive meets:

- `first audit`: no copy ever checked (right after a large ingest);
- `nightly`: every copy checked once, at times spread over a year; due = older than 90 days,
  oldest first (the ordered half of the query);
- `--all`: the same, due = everything checked before now;
- `--package`: the same, one package's copies;
- `nothing due`: every check newer than the cutoff (the query must say "none" quickly);
- `one check time`: every copy checked at the same instant, due (ties on the first column
  the query orders by: without an index on both, all of them are sorted before the LIMIT).

Each is asked once to warm the cache, then `SAMPLES` times; the median is reported. SQLite is
measured without ANALYZE (nothing in preserve runs it); PostgreSQL after ANALYZE, and after
VACUUM once copies were marked checked (autovacuum would have run both on a real server).
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from preserve.catalog import Catalog
from preserve.catalog.engine import make_engine, upgrade

if TYPE_CHECKING:
    from benchmarks.run import Session

SAMPLES = 7
LIMIT = 1000  # preserve.audit.run.BATCH
FILES_PER_PACKAGE = 1000
LOCATION = "bench"
YEAR_SECONDS = 365 * 24 * 3600
BASE = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)  # first check time; checks spread over a year

_FILL = {
    "sqlite": [
        "WITH RECURSIVE g(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM g WHERE x + 1 < :packages) "
        "INSERT INTO packages (id, title, created, payload_fingerprint) "
        "SELECT printf('pkg-%06d', x), NULL, '2025-01-01 00:00:00.000000', printf('%064x', x) "
        "FROM g",
        "INSERT INTO package_versions (package_id, number, created, message, file_count, "
        "byte_count, payload_fingerprint) SELECT id, 1, created, '', :per, :per * 4096, "
        "payload_fingerprint FROM packages",
        "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :copies) "
        "INSERT INTO files (id, package_id, version, path, size, sha256, sha512, format, "
        "content_path) SELECT x, printf('pkg-%06d', (x - 1) / :per), 1, "
        "printf('data/folder-%03d/file-%07d.tif', x % 100, x), 4096, printf('%064x', x), "
        "printf('%0128x', x), 'fmt/353', printf('v1/content/data/folder-%03d/file-%07d.tif', "
        "x % 100, x) FROM g",
        "INSERT INTO copies (file_id, location_id, content_path, last_fixity_at, "
        "last_fixity_outcome, status) SELECT id, 1, content_path, NULL, NULL, 'ok' FROM files",
    ],
    "postgresql": [
        "INSERT INTO packages (id, title, created, payload_fingerprint) "
        "SELECT 'pkg-' || lpad(x::text, 6, '0'), NULL, '2025-01-01T00:00:00Z', "
        "lpad(to_hex(x), 64, '0') FROM generate_series(0, :packages - 1) AS x",
        "INSERT INTO package_versions (package_id, number, created, message, file_count, "
        "byte_count, payload_fingerprint) SELECT id, 1, created, '', :per, :per * 4096, "
        "payload_fingerprint FROM packages",
        "INSERT INTO files (id, package_id, version, path, size, sha256, sha512, format, "
        "content_path) SELECT x, 'pkg-' || lpad(((x - 1) / :per)::text, 6, '0'), 1, "
        "'data/folder-' || lpad((x % 100)::text, 3, '0') || '/file-' || lpad(x::text, 7, '0') "
        "|| '.tif', 4096, lpad(to_hex(x), 64, '0'), lpad(to_hex(x), 128, '0'), 'fmt/353', "
        "'v1/content/data/folder-' || lpad((x % 100)::text, 3, '0') || '/file-' || "
        "lpad(x::text, 7, '0') || '.tif' FROM generate_series(1, :copies) AS x",
        "INSERT INTO copies (file_id, location_id, content_path, last_fixity_at, "
        "last_fixity_outcome, status) SELECT id, 1, content_path, NULL, NULL, 'ok' FROM files",
    ],
}
# Check times spread over a year, in an order unrelated to file ids (a multiplicative hash).
_CHECKED = {
    "sqlite": "UPDATE copies SET last_fixity_outcome = 'pass', last_fixity_at = "
              "strftime('%Y-%m-%d %H:%M:%S', '2025-11-01 00:00:00', "
              "'+' || ((file_id * 7919) % 31536000) || ' seconds') || '.000000'",
    "postgresql": "UPDATE copies SET last_fixity_outcome = 'pass', last_fixity_at = "
                  "TIMESTAMPTZ '2025-11-01T00:00:00Z' + ((file_id::bigint * 7919) % 31536000) "
                  "* INTERVAL '1 second'",
}


def _fill(url: str, dialect: str, copies: int) -> float:
    from sqlalchemy import text

    started = time.perf_counter()
    packages = max(1, -(-copies // FILES_PER_PACKAGE))
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO locations (id, name, uri) "
                                    "VALUES (1, :name, 'file:///bench')"), {"name": LOCATION})
            for statement in _FILL[dialect]:
                connection.execute(text(statement), {"packages": packages, "copies": copies,
                                                     "per": FILES_PER_PACKAGE})
        if dialect == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return time.perf_counter() - started


def _mark_checked(url: str, dialect: str, *, one_time: bool = False) -> None:
    from sqlalchemy import text

    statement = _CHECKED[dialect]
    if one_time:  # every copy checked at the first instant of the year
        statement = statement.replace("(file_id * 7919) % 31536000", "0").replace(
            "(file_id::bigint * 7919) % 31536000", "0")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
        if dialect == "postgresql":
            # What autovacuum does after a bulk update on a real server (a fifth of the table
            # changed): without it every index entry the update left dead is still walked,
            # and an empty range of the due index (nothing due, or no never-checked copy)
            # costs ~100 ms at ten million copies instead of well under one.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM (ANALYZE) copies"))
    finally:
        engine.dispose()


def _time_query(catalog: Catalog, **kwargs: object) -> tuple[float, list[float], int]:
    catalog.due_copies(location=LOCATION, limit=LIMIT, **kwargs)  # warm
    samples = []
    rows = 0
    for _ in range(SAMPLES):
        started = time.perf_counter()
        rows = len(catalog.due_copies(location=LOCATION, limit=LIMIT, **kwargs))
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), samples, rows


def _plans(url: str, dialect: str, catalog: Catalog, **kwargs: object) -> list[str]:
    """The database's plan of every statement one `due_copies` call sends."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    sent: list[tuple[str, object]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _many) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", remember)
    try:
        catalog.due_copies(location=LOCATION, limit=LIMIT, **kwargs)
    finally:
        event.remove(Engine, "before_cursor_execute", remember)
    plans = []
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            for statement, parameters in sent:
                cursor = raw.cursor()
                prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
                cursor.execute(prefix + statement, parameters)
                rows = cursor.fetchall()
                plans.append("\n".join(str(r[-1] if dialect == "sqlite" else r[0])
                                        for r in rows))
                cursor.close()
    finally:
        engine.dispose()
    return plans


def measure(url: str, dialect: str, copies: int) -> list[dict]:
    """Fill the empty catalog at `url` and time each situation; one record per situation."""
    upgrade(url)
    fill_seconds = _fill(url, dialect, copies)
    results = []
    now = BASE + dt.timedelta(days=400)
    with Catalog(url) as catalog:
        median, samples, rows = _time_query(catalog, checked_before=now)
        results.append(("first audit", median, samples, rows,
                        _plans(url, dialect, catalog, checked_before=now)))
    _mark_checked(url, dialect)
    some_package = f"pkg-{(copies // FILES_PER_PACKAGE) // 2:06d}"
    situations = [
        ("nightly", {"checked_before": now - dt.timedelta(days=90)}),
        ("--all", {"checked_before": now}),
        ("--package", {"checked_before": now, "package_id": some_package}),
        ("nothing due", {"checked_before": BASE}),
    ]
    with Catalog(url) as catalog:
        for name, kwargs in situations:
            median, samples, rows = _time_query(catalog, **kwargs)
            results.append((name, median, samples, rows, _plans(url, dialect, catalog,
                                                                 **kwargs)))
    _mark_checked(url, dialect, one_time=True)
    with Catalog(url) as catalog:
        median, samples, rows = _time_query(catalog, checked_before=now)
        results.append(("one check time", median, samples, rows,
                        _plans(url, dialect, catalog, checked_before=now)))
    return [{"type": "due-copies", "backend": dialect, "copies": copies, "situation": name,
             "limit": LIMIT, "median_ms": round(median, 2),
             "samples_ms": [round(s, 2) for s in samples], "rows": rows,
             "fill_seconds": round(fill_seconds, 1), "plans": plans}
            for name, median, samples, rows, plans in results]


def _postgres_schema(server: str) -> tuple[str, str, str] | None:
    """(url with a fresh schema on its search_path, admin libpq url, schema) or None."""
    try:
        import psycopg
    except ImportError:
        return None
    scheme, sep, rest = server.partition("://")
    admin = f"{scheme.split('+')[0]}{sep}{rest}"
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        print(f"due-copies: PostgreSQL at {server} not used: {exc}", file=sys.stderr)
        return None
    joiner = "&" if "?" in server else "?"
    return f"{server}{joiner}options=-csearch_path%3D{schema}", admin, schema


def run(session: Session, copies: int, postgres: str) -> None:
    """Measure on SQLite and (if reachable) PostgreSQL; append the records to the session."""
    records: list[dict] = []
    with tempfile.TemporaryDirectory(dir=session.work, prefix="due-copies-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'catalog.sqlite'}"
        print(f"due-copies: SQLite, {copies} copies", file=sys.stderr)
        records += measure(url, "sqlite", copies)
    if postgres != "none":
        made = _postgres_schema(postgres)
        if made is not None:
            url, admin, schema = made
            print(f"due-copies: PostgreSQL, {copies} copies", file=sys.stderr)
            try:
                records += measure(url, "postgresql", copies)
            finally:
                import psycopg

                with psycopg.connect(admin, autocommit=True) as connection:
                    connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    for record in records:
        print(f"  {record['backend']:10s} {record['situation']:12s} "
              f"{record['median_ms']:8.1f} ms ({record['rows']} rows)", file=sys.stderr)
        session.append({**record, "scale": session.scale})
