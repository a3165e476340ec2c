"""The hash-chained, append-only event log: canonical hashing, verification, tampering,
the database triggers, and concurrent appenders keeping one linear chain."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import threading

import pytest
from psycopg.errors import IntegrityError as IntegrityErrorOfPostgres

from preserve.catalog import Catalog
from preserve.catalog.chain import GENESIS_HASH, ChainLink, canonical_bytes, link_hash
from preserve.errors import CatalogError
from preserve.model import Agent, AgentType

from .helpers import Backend, make_event

LINK = ChainLink(
    identifier="5f0c6f5e-8a0e-4d5e-9a51-0d7b5c1e2f3a", type="ingestion",
    time=dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC), outcome="success",
    detail="Қабул қилинди", outcome_detail="", agent="preserve/0.1.0", package_id="pkg-1",
    version=1, deposit_id=7, object_paths=("data/مخطوطة.tif",), prev_hash=GENESIS_HASH,
)


def test_canonical_serialisation_is_fixed():
    text = canonical_bytes(LINK).decode("utf-8")
    assert text.startswith('{"agent":"preserve/0.1.0","deposit_id":7,"detail":"Қабул қилинди"')
    assert '"time":"2026-03-01T09:30:00.000000Z"' in text
    assert " " not in text.replace("Қабул қилинди", "")
    # the same instant in another zone hashes the same; any changed field does not
    plus5 = LINK.time.astimezone(dt.timezone(dt.timedelta(hours=5)))
    assert link_hash(dataclasses.replace(LINK, time=plus5)) == link_hash(LINK)
    for change in ({"detail": "x"}, {"version": 2}, {"object_paths": ()}, {"prev_hash": "1" * 64},
                   {"time": LINK.time + dt.timedelta(microseconds=1)}, {"agent": "someone"}):
        assert link_hash(dataclasses.replace(LINK, **change)) != link_hash(LINK)
    with pytest.raises(ValueError):
        link_hash(dataclasses.replace(LINK, time=LINK.time.replace(tzinfo=None)))


def test_chain_links_every_event(catalog: Catalog):
    assert catalog.verify_chain().ok and catalog.verify_chain().checked == 0
    other_agent = Agent("Национальная библиотека", "НБ", AgentType.ORGANIZATION)
    catalog.append_events([make_event(1), make_event(2, agent=other_agent)])
    catalog.append_events([make_event(3)])
    events = catalog.events()
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[1].agent == other_agent
    report = catalog.verify_chain()
    assert (report.ok, report.checked, report.first_bad_id, report.problem) == (True, 3, None, "")


def test_append_only_triggers(catalog: Catalog, backend: Backend):
    catalog.append_events([make_event(1)])
    for statement in ("UPDATE events SET detail = 'forged'", "DELETE FROM events"):
        with pytest.raises(Exception, match="append-only"):
            backend.execute(statement)
    assert len(catalog.events()) == 1 and catalog.verify_chain().ok


def test_edited_row_is_detected(catalog: Catalog, backend: Backend):
    catalog.append_events([make_event(n) for n in range(4)])
    target = catalog.events()[2]
    backend.drop_append_only_triggers()
    backend.execute(f"UPDATE events SET detail = 'forged' WHERE id = {target.id}")
    report = catalog.verify_chain()
    assert not report.ok and report.first_bad_id == target.id and "edited" in report.problem


def test_edited_agent_is_detected(catalog: Catalog, backend: Backend):
    catalog.append_events([make_event(0), make_event(1)])
    backend.execute("UPDATE agents SET identifier = 'someone else'")
    report = catalog.verify_chain()
    assert not report.ok and report.first_bad_id == catalog.events()[0].id


def test_deleted_row_is_detected(catalog: Catalog, backend: Backend):
    catalog.append_events([make_event(n) for n in range(4)])
    events = catalog.events()
    backend.drop_append_only_triggers()
    backend.execute(f"DELETE FROM events WHERE id = {events[1].id}")
    report = catalog.verify_chain()
    assert not report.ok and report.first_bad_id == events[2].id and "deleted" in report.problem


def test_rehashed_forgery_still_breaks_the_next_link(catalog: Catalog, backend: Backend):
    catalog.append_events([make_event(n) for n in range(3)])
    first = catalog.events()[0]
    backend.drop_append_only_triggers()
    # An attacker who recomputes the edited row's own hash still breaks the next prev_hash.
    forged = link_hash(ChainLink(
        identifier=first.identifier, type=first.type.value, time=first.time,
        outcome=first.outcome.value, detail="forged", outcome_detail=first.outcome_detail,
        agent=first.agent.identifier, package_id=None, version=None, deposit_id=None,
        object_paths=(), prev_hash=GENESIS_HASH))
    backend.execute(f"UPDATE events SET detail = 'forged', hash = '{forged}' WHERE id = {first.id}")
    report = catalog.verify_chain()
    assert not report.ok and report.first_bad_id == catalog.events()[1].id


def test_bad_hash_values_are_refused_by_the_database(catalog: Catalog, backend: Backend):
    catalog.append_events([make_event(0)])
    backend.drop_append_only_triggers()
    # The CHECK constraint: sqlite3's or psycopg's integrity error, whichever backend runs.
    with pytest.raises((sqlite3.IntegrityError, IntegrityErrorOfPostgres)):
        backend.execute("UPDATE events SET hash = 'ABC'")


def test_concurrent_appenders_keep_one_linear_chain(catalog: Catalog, backend: Backend):
    writers, rounds = 3, 12
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with Catalog(backend.url) as own:
                barrier.wait()
                for i in range(rounds):
                    own.append_events([make_event(n * 100 + i), make_event(n * 100 + i + 50)])
        except BaseException as exc:  # reported below; a thread cannot raise into the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    events = catalog.events()
    assert len(events) == writers * rounds * 2
    assert len({e.prev_hash for e in events}) == len(events)  # no fork
    report = catalog.verify_chain()
    assert report.ok and report.checked == len(events)
    # each call's two events are adjacent: appends are serialised whole
    for a, b in zip(events[::2], events[1::2], strict=False):
        assert b.time - a.time == dt.timedelta(seconds=50)


def test_event_with_naive_time_is_refused(catalog: Catalog):
    naive = dataclasses.replace(make_event(), time=dt.datetime(2026, 1, 1))
    with pytest.raises((ValueError, CatalogError)):
        catalog.append_events([naive])
    assert catalog.events() == []
