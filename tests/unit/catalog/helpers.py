"""Values and helpers shared by the catalog tests (no fixtures here; see conftest.py)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from preserve.model import Agent, AgentType, Event, EventOutcome, EventType

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
AGENT = Agent(identifier="preserve/0.1.0", name="preserve", type=AgentType.SOFTWARE)


@dataclass(frozen=True)
class Backend:
    name: str
    url: str
    sqlite_file: Path | None = None

    def execute(self, *statements: str) -> None:
        """Run SQL through a raw connection, outside the catalog, and commit."""
        if self.sqlite_file is not None:
            connection = sqlite3.connect(self.sqlite_file)
            try:
                for statement in statements:
                    connection.execute(statement)
                connection.commit()
            finally:
                connection.close()
        else:
            import psycopg

            with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:
                for statement in statements:
                    connection.execute(statement)

    def drop_append_only_triggers(self) -> None:
        if self.sqlite_file is not None:
            self.execute("DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete")
        else:
            self.execute("DROP TRIGGER events_append_only ON events")


def libpq_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def make_event(
    n: int = 0,
    *,
    type: EventType = EventType.INGESTION,
    outcome: EventOutcome = EventOutcome.SUCCESS,
    package_id: str | None = None,
    version: int | None = None,
    deposit_id: int | None = None,
    paths: tuple[str, ...] = (),
    agent: Agent = AGENT,
) -> Event:
    return Event(
        type=type, outcome=outcome, time=T0 + dt.timedelta(seconds=n), agent=agent,
        detail=f"event {n}", outcome_detail="", package_id=package_id, version=version,
        deposit_id=deposit_id, object_paths=paths,
    )
