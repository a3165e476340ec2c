"""A token bucket that limits the bytes an audit reads per second (`--max-rate`).

Shared by every worker thread: each consumes the bytes it just read and sleeps while the
bucket is in debt, so the whole audit, not each thread, stays under the rate. The bucket holds
at most one second of tokens, so an idle pause cannot be followed by an unthrottled burst.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class RateLimit(Protocol):
    """Anything that takes the bytes just read and sleeps to keep a rate: this module's
    `Throttle` in one process, or a budget shared by every worker (preserve/jobs)."""

    def consume(self, n: int) -> None: ...


class Throttle:
    """At most `rate` bytes per second on average, across all threads."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be above 0 bytes per second")
        self.rate = float(rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.rate  # start with one second's worth
        self._last = clock()

    def consume(self, n: int) -> None:
        """Take `n` bytes' worth of tokens, sleeping until the debt is paid."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= n
            debt = -self._tokens
        # Sleep outside the lock: other threads take their share and sleep in turn.
        if debt > 0:
            self._sleep(debt / self.rate)
