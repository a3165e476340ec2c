"""The schema directory holds exactly the official XSD versions pinned in schemas/."""

from __future__ import annotations

import hashlib
from pathlib import Path

PINS = Path(__file__).resolve().parents[3] / "schemas" / "official-xsds.sha256"


def test_schema_directory_matches_the_pins(schema_dir: Path):
    pins = [line.split(maxsplit=1) for line in PINS.read_text().splitlines() if line.strip()]
    assert {name for _, name in pins} >= {"mets-1.12.1.xsd", "xlink.xsd", "dc.xsd"}
    for digest, name in pins:
        actual = hashlib.sha256((schema_dir / name).read_bytes()).hexdigest()
        assert actual == digest, f"{name} in {schema_dir} is not the pinned version"
