"""The audit queries of Catalog (due copies, outcomes, audit runs), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from preserve.catalog import Catalog, CopyOutcome
from preserve.model import EventOutcome, EventType

from .helpers import T0, make_event
from .test_repository import FILES, ingest

DAY = dt.timedelta(days=1)


def _outcomes(copies, when, outcome="pass", status="ok"):
    return [CopyOutcome(c.file_id, c.location_id, outcome, status, when) for c in copies]


def test_due_copies_never_checked_first_then_oldest(catalog: Catalog):
    ingest(catalog, "pkg-1")
    ingest(catalog, "pkg-2")
    now = T0 + 200 * DAY
    due = catalog.due_copies(location="local", checked_before=now, limit=100)
    assert len(due) == 2 * len(FILES)
    assert all(c.last_fixity_at is None for c in due)
    # Check some long ago, some recently, in an order that is not the id order.
    old, older, recent = due[0:2], due[2:4], due[4:6]
    catalog.record_fixity(_outcomes(old, T0 + 10 * DAY))
    catalog.record_fixity(_outcomes(older, T0 + 5 * DAY))
    catalog.record_fixity(_outcomes(recent, now - DAY))
    unchecked = len(due) - 6
    first = catalog.due_copies(location="local", checked_before=now - 90 * DAY,
                               limit=unchecked + 3)
    assert all(c.last_fixity_at is None for c in first[:unchecked])
    assert [c.file_id for c in first[unchecked:]] == [c.file_id for c in older] + [old[0].file_id]
    # The recently checked copies are not due; the limit bounds the answer.
    allowed = catalog.due_copies(location="local", checked_before=now - 90 * DAY, limit=1000)
    assert {c.file_id for c in recent}.isdisjoint(c.file_id for c in allowed)
    assert len(catalog.due_copies(location="local", checked_before=now, limit=3)) == 3


def test_due_copies_of_one_package_and_location(catalog: Catalog):
    ingest(catalog, "pkg-1")
    ingest(catalog, "pkg-2")
    due = catalog.due_copies(location="local", checked_before=T0, limit=100, package_id="pkg-2")
    assert {c.package_id for c in due} == {"pkg-2"} and len(due) == len(FILES)
    assert catalog.due_copies(location="elsewhere", checked_before=T0, limit=100) == []


def test_record_fixity_sets_outcome_time_and_status(catalog: Catalog):
    ingest(catalog, "pkg-1")
    due = catalog.due_copies(location="local", checked_before=T0, limit=100)
    when = T0 + DAY
    catalog.record_fixity(_outcomes(due[:1], when, "fail", "damaged")
                          + _outcomes(due[1:2], when, "could-not-check", None)
                          + _outcomes(due[2:3], when, "fail", "missing"))
    copies = {f.content_path: f.copies[0] for f in catalog.get_package("pkg-1").files}
    damaged, unreadable, missing = (copies[c.content_path] for c in due[:3])
    assert (damaged.status, damaged.last_fixity_outcome, damaged.last_fixity_at) == \
        ("damaged", "fail", when)
    assert (unreadable.status, unreadable.last_fixity_outcome) == ("ok", "could-not-check")
    assert missing.status == "missing"
    with pytest.raises(ValueError):
        catalog.record_fixity(_outcomes(due[:1], when, "broken", None))
    with pytest.raises(ValueError):
        catalog.record_fixity(_outcomes(due[:1], when, "pass", "fine"))


def test_audit_run_rows_and_events(catalog: Catalog):
    ingest(catalog, "pkg-1")
    run_id = catalog.begin_audit_run(T0)
    [running] = catalog.audit_runs()
    assert (running.id, running.status, running.finished) == (run_id, "running", None)
    event = make_event(5, type=EventType.FIXITY_CHECK, outcome=EventOutcome.FAILURE,
                       package_id="pkg-1")
    catalog.finish_audit_run(run_id, finished=T0 + DAY, checked=6, bytes_read=40, passed=5,
                             failed=1, status="failed", events=[event])
    [run] = catalog.audit_runs()
    assert (run.checked, run.bytes, run.passed, run.failed, run.status) == (6, 40, 5, 1, "failed")
    assert catalog.events("pkg-1")[-1].type is EventType.FIXITY_CHECK
    assert catalog.verify_chain().ok
    with pytest.raises(ValueError):
        catalog.finish_audit_run(run_id, finished=T0, checked=0, bytes_read=0, passed=0,
                                 failed=0, status="meh")
    assert catalog.package_ids() == ["pkg-1"]
