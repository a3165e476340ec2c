"""The web app's pages on 100,000 packages (issue 15 "Speed": each under 100 ms server time).

Fills a fresh SQLite catalog as benchmarks/service_bench.py does (100,000 packages, 500,000
files), then times, in process through Starlette's test client (routing, SQL, Jinja2
rendering; no network), the median of 5 requests after one warm-up of each page. Each request
carries a viewer's API token, so the time includes identifying the caller (one indexed
lookup of the token's SHA-256), as every real request does.

    PYTHONPATH=. python -m benchmarks.web_bench [--packages N]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

With --postgres, the same again on a PostgreSQL catalog in a schema made and dropped for it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from benchmarks.service_bench import fill, postgres_schema
from preserve import accounts
from preserve.catalog import Catalog, sqlite_url
from preserve.web import create_app


def measure(name: str, url: str, packages: int) -> None:
    started = time.perf_counter()
    fill(url, packages)
    print(f"{name}: filled {packages} packages in {time.perf_counter() - started:.1f} s")
    with Catalog(url) as catalog:
        accounts.add_user(catalog, "bench", "viewer", "a long benchmark password")
        token = accounts.create_token(catalog, "bench", "web_bench").secret
    client = TestClient(create_app(lambda: Catalog(url)),
                        headers={"Authorization": f"Bearer {token}"})
    first = client.get("/api/v1/packages").json()["packages"][0]["package_id"]
    for name, path in [("dashboard", "/"), ("package list, page 1", "/packages"),
                       ("package list, page 1000", "/packages?page=1000"),
                       ("title search, Cyrillic", "/packages?q=Қўлёзма"),
                       ("API package list", "/api/v1/packages"),
                       ("package page", f"/packages/{first}")]:
        client.get(path)
        times = []
        for _ in range(5):
            begin = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - begin)
            assert response.status_code == 200, (path, response.status_code)
        print(f"{name:28} {statistics.median(times) * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=100_000)
    parser.add_argument("--postgres", help="an admin URL; a schema is created and dropped")
    args = parser.parse_args()
    measure("SQLite", sqlite_url(Path(tempfile.mkdtemp()) / "catalog.sqlite"), args.packages)
    if args.postgres:
        with postgres_schema(args.postgres, "webbench") as url:
            measure("PostgreSQL", url, args.packages)


if __name__ == "__main__":
    main()
