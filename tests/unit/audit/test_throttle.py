"""The token bucket behind `--max-rate`: average rate, no burst after idling, shared by threads."""

from __future__ import annotations

import threading

import pytest

from preserve.audit import Throttle


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_reading_at_the_rate_takes_the_expected_time():
    t = FakeTime()
    throttle = Throttle(1000, clock=t.clock, sleep=t.sleep)
    for _ in range(10):
        throttle.consume(500)  # 5,000 bytes at 1,000 B/s, one second of tokens to start
    assert t.now == pytest.approx(4.0)


def test_idle_time_does_not_allow_a_burst():
    t = FakeTime()
    throttle = Throttle(1000, clock=t.clock, sleep=t.sleep)
    t.now = 3600.0  # an hour idle earns at most one second of tokens
    throttle.consume(3000)
    assert t.now == pytest.approx(3602.0)


def test_threads_share_one_bucket():
    t = FakeTime()
    throttle = Throttle(1000, clock=t.clock, sleep=t.sleep)
    threads = [threading.Thread(target=lambda: [throttle.consume(100) for _ in range(10)])
               for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # 4,000 bytes at 1,000 B/s after the first second's tokens: at least 3 seconds in all.
    assert t.now >= 3.0 - 1e-9


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        Throttle(0)
