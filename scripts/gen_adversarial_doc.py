"""Regenerate docs/adversarial.md from the adversarial suite's case table.

Usage: python scripts/gen_adversarial_doc.py   (tests/adversarial/test_doc.py fails when the
committed page differs from what this writes)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the case table lives in the test package

from tests.adversarial.registry import markdown  # noqa: E402

if __name__ == "__main__":
    target = ROOT / "docs" / "adversarial.md"
    target.write_text(markdown(), encoding="utf-8")
    print(f"wrote {target}")
