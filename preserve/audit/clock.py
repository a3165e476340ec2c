"""Whether this machine's clock can be trusted for check times (issue 18, "The clock").

`faketime +3650d preserve audit --all` once stamped every copy as checked ten years ahead,
and a later normal audit then checked nothing for ten years. The catalog has a clock of its
own on PostgreSQL (`now()`), and on any database a record of the latest time it holds; an
audit compares with both before it starts, times its checks by the database when ours runs
ahead, and says so (AUD-W002, also in the run's events).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from preserve.catalog import Catalog

#: Clock differences below this are ordinary drift, not a clock to distrust.
CLOCK_TOLERANCE = dt.timedelta(minutes=5)



def trusted_clock(catalog: Catalog, clock: Callable[[], dt.datetime]
                   ) -> tuple[Callable[[], dt.datetime], list[str]]:
    """A clock that never runs ahead of the catalog's own, and what was wrong with ours
    (issue 18, "The clock"). PostgreSQL's now() is the catalog's clock: ahead of it, check
    times are taken from it instead. SQLite has none; the latest time recorded in the
    catalog shows a clock that jumped back (or an earlier run whose clock was ahead)."""
    database_now, latest = catalog.clock_reference()
    local = clock()
    notes: list[str] = []
    offset = dt.timedelta(0)
    if database_now is not None:
        skew = local - database_now
        if abs(skew) > CLOCK_TOLERANCE:
            way = "ahead of" if skew > dt.timedelta(0) else "behind"
            notes.append(f"this machine's clock ({when(local)}) is {span(abs(skew))} {way} the "
                         f"catalog database's ({when(database_now)})"
                         + ("; check times are taken from the database's clock"
                            if skew > dt.timedelta(0) else ""))
            if skew > dt.timedelta(0):
                offset = skew
    now = local - offset
    if latest is not None and latest - now > CLOCK_TOLERANCE:
        notes.append(f"the catalog holds times up to {when(latest)}, {span(latest - now)} "
                     f"after now ({when(now)}): the clock jumped back, or an earlier run "
                     "ran with a clock set ahead; copies stamped after now are due again")
    if offset:
        return (lambda: clock() - offset), notes
    return clock, notes


def when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def span(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 7200:
        return f"{seconds // 3600} hours"
    return f"{seconds // 60} minutes"
