"""The one table of adversarial deposits (issue 6): each case, what it attacks, what it must do.

A `Case` builds its hostile deposit in a fresh workspace (no checked-in binaries) and names the
finding codes, the exit codes of `preserve validate` and `preserve ingest`, and the guarantee
in one sentence. `test_cases.py` runs every case through the real CLI against a real
repository; `markdown()` renders the same table as docs/adversarial.md, and a test fails when
the committed page differs, so the page cannot drift from what is tested.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tests.adversarial.harness import Workspace

REJECTED = 11
WARNINGS = 1
OK = 0

Builder = Callable[[Workspace], Path]
#: Installed (with pytest's monkeypatch) while the commands run: fault injection.
During = Callable[[Workspace, Path, Any], None]
#: Extra assertions on the repository after the ingest: (workspace, repository home).
Check = Callable[[Workspace, Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    group: str
    attack: str
    build: Builder
    codes: tuple[str, ...]  # every one must be reported; () with exit 0 means no finding at all
    ingest_exit: int
    guarantee: str
    validate_exit: int | None = None  # None: the same as ingest_exit
    validate_codes: tuple[str, ...] | None = None  # None: the same as codes
    settings: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    names: tuple[str, ...] = ()  # names holding control/bidi characters: must print escaped
    during: During | None = None
    mutates_deposit: bool = False  # `during` changes the deposit on purpose
    check: Check | None = None

    @property
    def stored(self) -> bool:
        return self.ingest_exit in (OK, WARNINGS)

    @property
    def validate_findings(self) -> tuple[str, ...]:
        return self.codes if self.validate_codes is None else self.validate_codes

    @property
    def validate_code(self) -> int:
        return self.ingest_exit if self.validate_exit is None else self.validate_exit


CASES: list[Case] = []


def case(**fields: Any) -> Case:
    """Register a case; ids are unique."""
    new = Case(**fields)
    if any(c.id == new.id for c in CASES):
        raise ValueError(f"adversarial case {new.id} registered twice")
    CASES.append(new)
    return new


def all_cases() -> list[Case]:
    """Every registered case, in the order of the groups' modules."""
    # Registering is importing; the order is the page's order of sections.
    from tests.adversarial import (
        cases_archives,  # noqa: F401
        cases_files,  # noqa: F401
        cases_manifests,  # noqa: F401
        cases_names,  # noqa: F401
        cases_tagfiles,  # noqa: F401
        cases_xml,  # noqa: F401
    )

    return list(CASES)


# --- the documentation page ------------------------------------------------------------------

_INTRO = """\
# Adversarial deposits

Deposits are untrusted input (DESIGN.md, "Rules that hold everywhere"). This page lists every
hostile deposit the test suite builds (`tests/adversarial/`, run by `make test`) and what
`preserve` guarantees for it. It is generated from the suite's case table by
`python scripts/gen_adversarial_doc.py`; `tests/adversarial/test_doc.py` fails if it differs.

Every case runs `preserve validate` (text and `--json`) and `preserve ingest --json` against a
real repository and asserts, besides the finding codes and exit codes below:

* no traceback (exit code 3 never occurs) and no hang (each command must end within
  30 seconds: FIFOs, devices and bombs included);
* no network connection: Python-level connects and name look-ups are refused and recorded, and
  a local listener named by hostile URLs must see no connection;
* nothing read outside the deposit: no file below the sentinel directory (the target of every
  outward link and external entity) is opened or listed, and its secret text appears nowhere
  in the output, the storage root or the catalog;
* nothing written outside staging: the deposit, its parent, the sentinel directory and
  `TMPDIR` are unchanged; staging is empty afterwards;
* a rejected deposit (exit 11) leaves the storage root byte-for-byte unchanged and exactly
  one `deposits` row, status `rejected`, holding its findings; a stored one (exit 0 or 1) adds
  one OCFL object and one `accepted` row;
* output never carries a raw control or bidirectional formatting character: names are shown
  escaped (`\\x1b`, `\\u202e`), in text and in JSON; for cases with such names, also the text
  of `preserve ingest` and of `preserve log`.

Exit codes: 0 stored, 1 stored with warnings, 11 rejected (validate: valid, valid with
warnings, invalid). Finding codes are explained in [findings.md](findings.md).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(cases: list[Case] | None = None) -> str:
    """docs/adversarial.md: one table per group, one row per case."""
    cases = all_cases() if cases is None else cases
    out = [_INTRO]
    groups: dict[str, list[Case]] = {}
    for item in cases:
        groups.setdefault(item.group, []).append(item)
    for group, members in groups.items():
        out += [f"## {group}", "", "| case | attack | finding codes | exit (ingest / validate) | "
                "guarantee |", "| --- | --- | --- | --- | --- |"]
        for item in members:
            codes = ", ".join(f"`{c}`" for c in item.codes) or "none"
            if item.validate_findings != item.codes:
                codes += " (validate: " + (", ".join(f"`{c}`" for c in item.validate_findings)
                                           or "none") + ")"
            settings = "".join(f" (with `{k}={v}`)" for k, v in item.settings.items())
            out.append(f"| `{item.id}` | {_cell(item.attack)}{_cell(settings)} | {codes} | "
                       f"{item.ingest_exit} / {item.validate_code} | {_cell(item.guarantee)} |")
        out.append("")
    return "\n".join(out)
