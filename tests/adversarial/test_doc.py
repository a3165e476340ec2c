"""docs/adversarial.md is generated from the case table and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from tests.adversarial.registry import Case, all_cases, markdown

PAGE = Path(__file__).resolve().parents[2] / "docs" / "adversarial.md"


def test_page_matches_the_case_table():
    assert PAGE.read_text(encoding="utf-8") == markdown(), (
        "docs/adversarial.md is out of date: run `python scripts/gen_adversarial_doc.py`")


def test_every_case_is_on_the_page_with_its_codes():
    text = PAGE.read_text(encoding="utf-8")
    for case in all_cases():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{case.id}` |"))
        assert all(f"`{code}`" in row for code in case.codes), case.id


def test_every_case_states_a_guarantee_and_known_codes():
    from preserve.findings import CATALOGUE

    cases: list[Case] = all_cases()
    assert len({c.id for c in cases}) == len(cases)
    for case in cases:
        assert case.guarantee and case.attack, case.id
        assert set(case.codes) <= set(CATALOGUE), case.id
        if case.ingest_exit == 11:  # a rejection is explained by at least one error code
            assert any(CATALOGUE[c].severity.value == "error" for c in case.codes), case.id
        if case.ingest_exit == 1:
            assert case.codes and all(CATALOGUE[c].severity.value == "warning"
                                      for c in case.codes), case.id
