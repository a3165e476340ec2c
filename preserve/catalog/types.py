"""The one timestamp type of the catalog: aware UTC in, aware UTC out (DESIGN.md, "Catalog").

PostgreSQL stores `timestamp with time zone` and hands values back in the session's time zone;
SQLite has no time type at all and SQLAlchemy stores naive ISO strings. `UTCDateTime` hides
both: it refuses naive datetimes (a naive value is a bug, not a guess to make), stores UTC
(naive UTC text on SQLite, so string order is time order), and always returns
timezone-aware UTC datetimes to the microsecond.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A `DateTime(timezone=True)` that only accepts and only returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; the catalog stores UTC only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite's DateTime storage is a naive string; keep it UTC so it sorts by time.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
