"""Catalog support for audit integrity (issues 11 and 18), on SQLite and PostgreSQL: open
problems with the date found, the chain head anchored outside, missing append-only
triggers, the catalog's own clock, and check times from the future made due again."""

from __future__ import annotations

import datetime as dt

from preserve.catalog import Catalog, CopyOutcome
from preserve.model import ChainHead

from .helpers import T0, Backend, make_event
from .test_repository import FILES, ingest

DAY = dt.timedelta(days=1)


def test_open_problems_keep_the_date_found_until_a_pass(catalog: Catalog):
    ingest(catalog, "pkg-1")
    due = catalog.due_copies(location="local", checked_before=T0, limit=100)
    first, second = due[0], due[1]

    def record(copy, when, outcome, status):
        catalog.record_fixity([CopyOutcome(copy.file_id, copy.location_id, outcome, status,
                                           when)])

    record(first, T0 + DAY, "fail", "damaged")
    record(second, T0 + DAY, "fail", "missing")
    record(first, T0 + 2 * DAY, "fail", "damaged")  # found again: still since day 1
    problems = {p.content_path: p for p in catalog.open_problems()}
    assert set(problems) == {first.content_path, second.content_path}
    assert problems[first.content_path].since == T0 + DAY
    assert problems[first.content_path].status == "damaged"
    assert problems[second.content_path].status == "missing"
    assert {c.file_id for c in catalog.damaged_copies(location="local")} == {first.file_id,
                                                                               second.file_id}
    [summary] = catalog.list_packages()
    assert summary.open_problems == 2
    assert len(catalog.get_package("pkg-1").open_problems) == 2
    record(first, T0 + 3 * DAY, "pass", "ok")
    assert [p.content_path for p in catalog.open_problems()] == [second.content_path]
    copy = next(f.copies[0] for f in catalog.get_package("pkg-1").files
                if f.content_path == first.content_path)
    assert copy.status == "ok"


def test_future_check_times_are_reset(catalog: Catalog):
    ingest(catalog, "pkg-1")
    due = catalog.due_copies(location="local", checked_before=T0, limit=100)
    future = T0 + 3650 * DAY
    catalog.record_fixity([CopyOutcome(c.file_id, c.location_id, "pass", "ok", future)
                           for c in due])
    assert catalog.due_copies(location="local", checked_before=T0 + DAY, limit=100) == []
    _database_now, latest = catalog.clock_reference()
    assert latest == future
    assert catalog.reset_future_checks(T0 + DAY) == len(FILES)
    assert len(catalog.due_copies(location="local", checked_before=T0, limit=100)) == len(FILES)


def test_clock_reference_is_the_database_clock_on_postgres(catalog: Catalog, backend: Backend):
    database_now, _latest = catalog.clock_reference()
    if backend.name == "sqlite":
        assert database_now is None  # SQLite has no clock of its own
    else:
        assert database_now is not None
        assert abs(database_now - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_missing_append_only_triggers_are_named(catalog: Catalog, backend: Backend):
    assert catalog.missing_guards() == []
    backend.drop_append_only_triggers()
    assert catalog.missing_guards() != []


class _Anchor:
    """An anchor kept in memory, as storage/chainhead.py keeps it in a file."""

    def __init__(self) -> None:
        self.head: ChainHead | None = None

    def read(self) -> ChainHead | None:
        return self.head

    def advance(self, head: ChainHead) -> bool:
        if self.head is None or head.events > self.head.events:
            self.head = head
            return True
        return False


def test_every_append_moves_the_anchor_and_verify_compares(backend: Backend):
    from preserve.catalog import upgrade
    upgrade(backend.url)
    anchor = _Anchor()
    with Catalog(backend.url, anchor=anchor) as catalog:
        catalog.append_events([make_event(n) for n in range(3)])
        assert anchor.head == catalog.chain_head() and anchor.head.events == 3
        assert catalog.verify_chain().ok
        backend.drop_append_only_triggers()
        backend.execute("DELETE FROM events WHERE id = (SELECT max(id) FROM events)")
        report = catalog.verify_chain()
        assert not report.ok and "cut off its end" in report.problem
        assert report.anchored == ChainHead(3, anchor.head.hash)
        # A forged event appended to the shorter log does not hide the cut either.
        catalog.append_events([make_event(9)])
        assert anchor.head.events == 3  # the anchor never moves back or sideways
        report = catalog.verify_chain()
        assert not report.ok and "anchored in storage" in report.problem
