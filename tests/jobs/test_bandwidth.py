"""The read budget of a location shared by every worker (issue 14, "Budgets across
workers"): a cell-rate ledger in the PostgreSQL catalog."""

from __future__ import annotations

import threading

import pytest

from preserve.catalog import Catalog, upgrade
from preserve.catalog.job_catalog import BURST_SECONDS
from preserve.jobs.work import FleetRate

pytestmark = pytest.mark.postgres

MB = 1_000_000


def test_bookings_add_up_across_readers(postgres_url):
    upgrade(postgres_url)
    with Catalog(postgres_url) as catalog:
        # 1 MB/s: the first second is the burst; each further MB is booked one second later.
        assert catalog.reserve_bandwidth("vault", MB // 2, MB) == 0
        waits = [catalog.reserve_bandwidth("vault", MB, MB) for _ in range(3)]
        assert waits[0] == pytest.approx(1.5 - BURST_SECONDS, abs=0.2)
        assert waits[1] == pytest.approx(2.5 - BURST_SECONDS, abs=0.2)
        assert waits[2] == pytest.approx(3.5 - BURST_SECONDS, abs=0.2)
        # Another location has its own budget.
        assert catalog.reserve_bandwidth("s3", 10 * MB, 100 * MB) == 0


def test_readers_in_threads_share_one_budget(postgres_url):
    """Eight readers booking 1 MB each at 2 MB/s: together they are held to the rate, as
    workers on several machines would be (each books through its own connection)."""
    upgrade(postgres_url)
    slept: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            slept.append(seconds)

    def read() -> None:
        with Catalog(postgres_url) as catalog:
            FleetRate(catalog, "vault", 2 * MB, sleep=sleep).consume(MB)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 8 MB at 2 MB/s is 4 s of budget; one second of it is the burst: the last reader waits
    # about 3 s, and the waits are spread half a second apart.
    assert max(slept) == pytest.approx(4 - BURST_SECONDS, abs=0.5)
    assert len(slept) >= 5
