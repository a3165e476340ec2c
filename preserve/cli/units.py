"""Sizes, durations and rates on the command line (`--max-bytes 500G`, `--max-duration 6h`,
`--max-rate 200MB/s`): preserve/units.py reads them; a mistake is a usage error naming the
option (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer

from preserve import units

T = TypeVar("T")


def _as_usage_error(read: Callable[[str | None, str], T], text: str | None, option: str) -> T:
    try:
        return read(text, option)
    except units.QuantityError as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.option) from None


def size(text: str | None, option: str = "--max-bytes") -> int | None:
    """Bytes from `500G`, `1.5TiB`, `2048`."""
    return _as_usage_error(units.size, text, option)


def duration(text: str | None, option: str = "--max-duration") -> float | None:
    """Seconds from `6h`, `1h30m`, `90m`, `45s`, `3600`."""
    return _as_usage_error(units.duration, text, option)


def rate(text: str | None, option: str = "--max-rate") -> float | None:
    """Bytes per second from `200MB/s`, `50MiB/s`, or a bare number of MB/s."""
    return _as_usage_error(units.rate, text, option)
