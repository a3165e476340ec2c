"""Service-layer package listing on 100,000 packages (issue 15: every page under 100 ms).

A fresh catalog (SQLite file; PostgreSQL in a fresh schema on 127.0.0.1:5432 when given) is
migrated to head and filled server-side: 100,000 packages with a Cyrillic, Latin or Arabic
title, one external identifier each, one version of 5 files (500,000 file rows). Then
`Catalog.package_page` is timed: page 1, a deep page (the 1,000th of 50), and a Cyrillic
text search. Each is asked once to warm the cache, then SAMPLES times; the median is shown.

    PYTHONPATH=. python -m benchmarks.service_bench [--packages N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from preserve.catalog import Catalog
from preserve.catalog.engine import make_engine, upgrade
from preserve.names import folded

SAMPLES = 5
FILES = 5
TITLES = ("Қўлёзма китоби", "Oʻzbekiston tarixi", "مخطوطة قديمة")

_SQLITE = [
    "WITH RECURSIVE g(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM g WHERE x + 1 < :n) "
    "INSERT INTO packages (id, title, search_text, created, payload_fingerprint) SELECT "
    "printf('pkg-%06d', x), CASE x % 3 WHEN 0 THEN :t0 WHEN 1 THEN :t1 ELSE :t2 END || ' ' || x, "
    "printf('pkg-%06d', x) || char(10) || CASE x % 3 WHEN 0 THEN :f0 WHEN 1 THEN :f1 ELSE :f2 END "
    "|| ' ' || x || char(10) || printf('ms-%06d', x), "
    "datetime('2025-01-01', '+' || x || ' seconds'), printf('%064x', x) FROM g",
    "INSERT INTO package_identifiers (package_id, type, identifier) "
    "SELECT id, 'local', 'MS-' || substr(id, 5) FROM packages",
    "INSERT INTO package_versions (package_id, number, created, message, file_count, byte_count, "
    "payload_fingerprint) SELECT id, 1, created, '', :f, :f * 4096, payload_fingerprint FROM packages",
    "WITH RECURSIVE g(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM g WHERE k + 1 < :f) "
    "INSERT INTO files (package_id, version, path, size, sha256, sha512, format, content_path) "
    "SELECT p.id, 1, 'data/лист-' || k || '.tif', 4096, printf('%064x', k), printf('%0128x', k), "
    "'fmt/353', 'v1/content/data/лист-' || k || '.tif' FROM packages p, g",
]
_POSTGRES = [
    "INSERT INTO packages (id, title, search_text, created, payload_fingerprint) SELECT "
    "'pkg-' || lpad(x::text, 6, '0'), (ARRAY[:t0, :t1, :t2])[x % 3 + 1] || ' ' || x, "
    "'pkg-' || lpad(x::text, 6, '0') || chr(10) || (ARRAY[:f0, :f1, :f2])[x % 3 + 1] || ' ' || x "
    "|| chr(10) || 'ms-' || lpad(x::text, 6, '0'), "
    "timestamp '2025-01-01' + x * interval '1 second', lpad(to_hex(x), 64, '0') "
    "FROM generate_series(0, :n - 1) x",
    _SQLITE[1],
    _SQLITE[2],
    "INSERT INTO files (package_id, version, path, size, sha256, sha512, format, content_path) "
    "SELECT p.id, 1, 'data/лист-' || k || '.tif', 4096, lpad(to_hex(k), 64, '0'), "
    "lpad(to_hex(k), 128, '0'), 'fmt/353', 'v1/content/data/лист-' || k || '.tif' "
    "FROM packages p, generate_series(0, :f - 1) k",
]


def fill(url: str, packages: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    statements = _POSTGRES if url.startswith("postgresql") else _SQLITE
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), {
                "n": packages, "f": FILES, "t0": TITLES[0], "t1": TITLES[1], "t2": TITLES[2],
                # the folded titles, as catalog/search.py writes them (migration 0011)
                "f0": folded(TITLES[0]), "f1": folded(TITLES[1]), "f2": folded(TITLES[2])})
        if url.startswith("postgresql"):
            connection.execute(text("ANALYZE"))
    engine.dispose()


def timed(call: Callable[[], object]) -> float:
    call()
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def measure(name: str, url: str, packages: int) -> None:
    start = time.perf_counter()
    fill(url, packages)
    print(f"{name}: filled {packages:,} packages in {time.perf_counter() - start:.1f} s")
    deep = max(1, packages // 50 - 1)
    with Catalog(url) as catalog:
        cases = {
            "page 1 (50)": lambda: catalog.package_page(page=1, per_page=50),
            f"page {deep} (50)": lambda: catalog.package_page(page=deep, per_page=50),
            "newest first, page 1": lambda: catalog.package_page(sort="-created"),
            "text 'китоби' page 1": lambda: catalog.package_page(text="китоби"),
        }
        for label, call in cases.items():
            print(f"  {label:24} {timed(call):8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=100_000)
    parser.add_argument("--postgres", help="an admin URL; a schema is created and dropped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        measure("SQLite", f"sqlite:///{Path(work) / 'catalog.sqlite'}", args.packages)
    if args.postgres:
        with postgres_schema(args.postgres, "bench") as url:
            measure("PostgreSQL", url, args.packages)


@contextmanager
def postgres_schema(admin_url: str, prefix: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server of `admin_url` (an SQLAlchemy URL), dropped
    afterwards; yields the URL whose connections use it."""
    import psycopg
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{admin_url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
