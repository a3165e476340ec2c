"""Every setting and every finding code is documented (STYLE.md: datasette tests/test_docs.py)."""

from __future__ import annotations

from pathlib import Path

from preserve.findings import CATALOGUE
from preserve.settings import SETTINGS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented():
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in text or f"`{s.env}`" not in text]
    assert missing == []


def test_every_finding_code_is_documented():
    text = (DOCS / "findings.md").read_text(encoding="utf-8")
    missing = [code for code in CATALOGUE if f"`{code}`" not in text]
    assert missing == []
