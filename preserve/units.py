"""Sizes, durations and rates as people type them (issue 11): `--max-bytes 500G`,
`--max-duration 6h`, `--max-rate 200MB/s`.

Sizes: a number with an optional unit — B, K/KB, M/MB, G/GB, T/TB (powers of 1000, as disks
are sold) or KiB, MiB, GiB, TiB (powers of 1024); a bare number is bytes. Durations: a number
of seconds, or parts with s, m (min), h, d (`90m`, `1h30m`, `2d`). Rates: a size per second
(`200MB/s`, `50MiB/s`); a bare number is megabytes (10^6 bytes) per second, as before.
Everything must be finite and positive (nan, inf, 0 and negatives are refused).

Core: standard library only; the CLI (cli/units.py) turns QuantityError into a usage error,
the settings (preserve/settings.py) into a configuration error.
"""

from __future__ import annotations

import math
import re

_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
               "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20,
               "gib": 2**30, "tib": 2**40}
_TIME_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"


class QuantityError(ValueError):
    """`message` says what is wrong with the text given for `option`."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.message = message
        self.option = option


def _positive(value: float, text: str, option: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise QuantityError(f"{text!r} is not a positive finite amount", option)
    return value


def size(text: str | None, option: str = "--max-bytes") -> int | None:
    """Bytes from `500G`, `1.5TiB`, `2048`."""
    if text is None:
        return None
    match = re.fullmatch(_NUMBER + r"\s*([a-zA-Z]*)", text.strip())
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _SIZE_UNITS:
        raise QuantityError(f"{text!r}: give bytes, or a number with B, K, M, G, T (10^3 "
                                 "steps) or KiB, MiB, GiB, TiB (2^10 steps), e.g. 500G", option)
    return int(_positive(float(match.group(1)) * _SIZE_UNITS[unit], text, option))


def duration(text: str | None, option: str = "--max-duration") -> float | None:
    """Seconds from `6h`, `1h30m`, `90m`, `45s`, `3600`."""
    if text is None:
        return None
    cleaned = text.strip().lower().replace(" ", "")
    try:
        seconds = float(cleaned)
    except ValueError:
        parts = re.findall(_NUMBER + r"(min|sec|[smhd])", cleaned)
        if not parts or "".join(n + u for n, u in parts) != cleaned:
            raise QuantityError(f"{text!r}: give seconds, or parts such as 6h, 1h30m, "
                                     "90m, 2d", option) from None
        seconds = sum(float(n) * _TIME_UNITS[u] for n, u in parts)
    if math.isfinite(seconds) and seconds == 0:
        return 0.0  # stop at once: take no new file
    return _positive(seconds, text, option)


def rate(text: str | None, option: str = "--max-rate") -> float | None:
    """Bytes per second from `200MB/s`, `50MiB/s`, or a bare number of MB/s."""
    if text is None:
        return None
    cleaned = text.strip()
    try:
        return _positive(float(cleaned) * 10**6, text, option)
    except ValueError:
        pass
    if not cleaned.lower().endswith("/s"):
        raise QuantityError(f"{text!r}: give a size per second such as 200MB/s or "
                                 "50MiB/s (a bare number is MB/s)", option)
    per_second = size(cleaned[:-2], option)
    assert per_second is not None
    return float(per_second)
