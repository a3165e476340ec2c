"""docs/faults.md is generated from the case list and must not drift from it."""

from __future__ import annotations

from tests.faults.cases import CASES, DOC, faults_md


def test_faults_doc_matches_the_cases():
    assert DOC.read_text(encoding="utf-8") == faults_md(), (
        "docs/faults.md is stale: run `python -m tests.faults.cases`")
    assert all(f"`{case.id}`" in DOC.read_text(encoding="utf-8") for case in CASES)
