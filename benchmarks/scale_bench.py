"""The catalog at archive scale on PostgreSQL (issue 14, docs/scaling.md).

    .venv/bin/python -m benchmarks.scale_bench [--copies 10000000]

On a fresh schema of the server named by PRESERVE_TEST_POSTGRES_URL (default: the test
server), `benchmarks.catalog_bench.measure` fills the catalog server-side with `copies`
copies (1,000 files per package, one location) and times `due_copies` in each situation an
audit meets. Then this script times the query `audit --enqueue` runs once per location,
`Catalog.due_packages` (a grouped scan of the location's copies), at the nightly cutoff
with every copy checked, and reports the size of each table and of its indexes. One JSON
line per measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time

import psycopg

from benchmarks import catalog_bench
from preserve.catalog import Catalog

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TABLES = ("files", "copies", "packages", "package_versions")


def main() -> None:
    import os
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=10_000_000)
    options = parser.parse_args()
    made = catalog_bench._postgres_schema(os.environ.get("PRESERVE_TEST_POSTGRES_URL",
                                                         DEFAULT_URL))
    if made is None:
        raise SystemExit("no PostgreSQL server")
    url, admin, schema = made
    try:
        started = time.perf_counter()
        for record in catalog_bench.measure(url, "postgresql", options.copies):
            record.pop("plans")
            print(json.dumps(record), flush=True)
        print(f"filled and timed in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        # measure() leaves every copy checked at one instant a year before its "now".
        now = catalog_bench.BASE + dt.timedelta(days=400)
        with Catalog(url) as catalog:
            for label, cutoff in (("nightly, all due", now - dt.timedelta(days=90)),
                                  ("nothing due", catalog_bench.BASE)):
                samples = []
                rows = 0
                for _ in range(3):
                    t = time.perf_counter()
                    rows = len(catalog.due_packages(location=catalog_bench.LOCATION,
                                                    checked_before=cutoff))
                    samples.append((time.perf_counter() - t) * 1000)
                print(json.dumps({"type": "due-packages", "copies": options.copies,
                                  "situation": label, "median_ms": round(
                                      statistics.median(samples), 1), "packages": rows}),
                      flush=True)
        with psycopg.connect(admin) as connection:
            for table in TABLES:
                heap, indexes, rows = connection.execute(
                    "SELECT pg_table_size(c.oid), pg_indexes_size(c.oid), c.reltuples "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relname = %s", (schema, table)).fetchone()
                print(json.dumps({"type": "size", "table": table, "rows": int(rows),
                                  "table_bytes": heap, "index_bytes": indexes}), flush=True)
            for name, size in connection.execute(
                    "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relkind = 'i' AND c.relname LIKE %s",
                    (schema, "%copies%")):
                print(json.dumps({"type": "index", "index": name, "bytes": size}), flush=True)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
