"""The fault cases: where an ingest is killed or fails, and what must hold afterwards.

`docs/faults.md` is generated from this list (`python -m tests.faults.cases`) and
tests/faults/test_docs.py fails when the two drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

KILLED = -9  # subprocess return code of a process ended by SIGKILL
STORAGE = 13

DOC = Path(__file__).resolve().parents[2] / "docs" / "faults.md"


@dataclass(frozen=True)
class FaultCase:
    id: str
    step: str  # where in "Ingest, step by step" (docs/design.md) the fault hits
    faults: tuple[dict, ...]
    exit: int  # exit code of the faulted run
    deposit: str  # status of the faulted attempt's deposits row afterwards
    guarantee: str  # what holds afterwards (for the docs table)
    objects_after_fault: int = 0  # objects in the storage root right after the fault
    new_version: bool = False  # the fault hits the ingest of v2 of a package
    valid_after_fault: bool = True  # ocfl-py accepts the root right after the fault
    message: str = ""  # part of the error message of a failed (not killed) run
    rerun_exit: tuple[int, ...] = (0, 1)
    rerun_code: str | None = None  # finding code of the re-run, if it is refused
    package_id: str | None = None  # --id for the first ingest
    work_dir_kept: bool = False  # a failed run keeps its work dir and intent (partly stored)
    extra: dict = field(default_factory=dict)


def _kill(point: str, match: str, when: str = "before", nth: int = 1) -> dict:
    return {"point": point, "match": match, "when": when, "nth": nth, "action": "kill"}


def _fail(action: str, point: str, match: str, nth: int = 1) -> dict:
    return {"point": point, "match": match, "when": "before", "nth": nth, "action": action}


STAGED_DATA = "*/staging/ingest-*/version/object/v*/content/data/*"
STAGED_INVENTORY = "*/staging/ingest-*/version/object/inventory.json"
IN_ROOT = "*/ocfl/*"
UNTOUCHED = "storage root unchanged; re-run stores one package"

CASES: tuple[FaultCase, ...] = (
    FaultCase("staging-write-kill", "3 copy into staging", (_kill("write", STAGED_DATA, "after", 2),),
              KILLED, "in_progress", UNTOUCHED + "; the dead work directory is removed by it"),
    FaultCase("staging-write-enospc", "3 copy into staging", (_fail("enospc", "write", STAGED_DATA, 2),),
              STORAGE, "failed", UNTOUCHED + "; staging emptied at once",
              message="No space left on device"),
    FaultCase("staging-write-eio", "3 copy into staging", (_fail("eio", "write", STAGED_DATA),),
              STORAGE, "failed", UNTOUCHED + "; staging emptied at once",
              message="Input/output error"),
    FaultCase("unpack-zip-enospc", "2 unpack a zip deposit into staging",
              (_fail("enospc", "write", "*/staging/ingest-*/deposit/*", 2),),
              STORAGE, "failed", UNTOUCHED + "; a storage error (13), not a rejected deposit",
              message="No space left on device", extra={"archive": "zip"}),
    FaultCase("unpack-tar-enospc", "2 unpack a tar deposit into staging",
              (_fail("enospc", "write", "*/staging/ingest-*/deposit/*", 2),),
              STORAGE, "failed", UNTOUCHED + "; a storage error (13), not a rejected deposit",
              message="No space left on device", extra={"archive": "tar"}),
    FaultCase("mets-write-enospc", "6 METS and tag files",
              (_fail("enospc", "open", "*/content/metadata/mets.xml"),),
              STORAGE, "failed", UNTOUCHED, message="No space left on device"),
    FaultCase("inventory-write-kill", "7 inventory written in staging",
              (_kill("write", STAGED_INVENTORY),), KILLED, "in_progress", UNTOUCHED),
    FaultCase("inventory-write-eio", "7 inventory written in staging",
              (_fail("eio", "write", STAGED_INVENTORY),), STORAGE, "failed", UNTOUCHED,
              message="Input/output error"),
    FaultCase("intent-write-enospc", "7 intent record written", (_fail("enospc", "write", "*/intent.json"),),
              STORAGE, "failed", UNTOUCHED, message="No space left on device"),
    FaultCase("before-rename-kill", "7 staged and flushed, before the rename",
              (_kill("rename", IN_ROOT),), KILLED, "in_progress",
              UNTOUCHED + "; the staged object and intent are removed by it"),
    FaultCase("after-rename-kill", "7 after the rename, before the catalog transaction",
              (_kill("rename", IN_ROOT, "after"),), KILLED, "in_progress",
              "object complete but uncatalogued; re-run adopts it (no second copy)",
              objects_after_fault=1),
    FaultCase("after-rename-kill-with-id", "7 after the rename, before the catalog transaction (--id)",
              (_kill("rename", IN_ROOT, "after"),), KILLED, "in_progress",
              "as above, with --id: the re-run adopts v1 and adds no v2",
              objects_after_fault=1, package_id="fault-pkg-1"),
    FaultCase("catalog-transaction-kill", "8 inside the catalog transaction (uncommitted)",
              (_kill("call", "preserve.catalog.eventlog:append", "after"),), KILLED, "in_progress",
              "the transaction rolls back; re-run adopts the stored object", objects_after_fault=1),
    FaultCase("after-catalog-commit-kill", "8 after the catalog commit",
              (_kill("call", "preserve.catalog.repository:Catalog.record_ingest", "after"),),
              KILLED, "accepted", "package complete; re-run is refused as a duplicate",
              objects_after_fault=1, rerun_exit=(11,), rerun_code="ING-E002"),
    FaultCase("version-inventory-eio", "7 v2 inventory written in staging",
              (_fail("eio", "write", STAGED_INVENTORY),), STORAGE, "failed",
              "v1 unchanged; re-run stores v2", objects_after_fault=1, new_version=True,
              message="Input/output error"),
    FaultCase("version-rename-kill", "7 v2 renamed in, root inventory not yet replaced",
              (_kill("rename", IN_ROOT + "/v2", "after"),), KILLED, "in_progress",
              "v2 not yet named by the root inventory (OCFL-invalid until then); the next ingest "
              "rolls the commit forward, the re-run adopts v2", objects_after_fault=1,
              new_version=True, valid_after_fault=False),
    FaultCase("version-root-inventory-enospc", "7 v2 renamed in, new root inventory cannot be written",
              (_fail("enospc", "write", "*/staging/ingest-*/version/.inventory.json.*.tmp"),),
              STORAGE, "failed", "v2 not yet named by the root inventory (OCFL-invalid until "
              "then); the intent is kept, the next ingest rolls the commit forward, the re-run "
              "adopts v2", objects_after_fault=1, new_version=True, valid_after_fault=False,
              message="No space left on device", work_dir_kept=True),
    FaultCase("version-inventory-replace-kill", "7 root inventory replaced, sidecar not yet",
              (_kill("replace", IN_ROOT + "/inventory.json", "after"),), KILLED, "in_progress",
              "root sidecar stale (OCFL-invalid until then); the next ingest rewrites it from "
              "v2's own, the re-run adopts v2", objects_after_fault=1, new_version=True,
              valid_after_fault=False),
    FaultCase("version-sidecar-replace-kill", "7 root inventory and sidecar replaced",
              (_kill("replace", IN_ROOT + "/inventory.json.sha512", "after"),), KILLED,
              "in_progress", "v2 committed in storage, not catalogued; re-run adopts it",
              objects_after_fault=1, new_version=True),
)


@dataclass(frozen=True)
class WindowCase:
    """A kill in the commit window (issue 11 section 5): after the intent record is written,
    while the version moves into storage, up to the catalog commit. Each runs twice: followed
    by `check`, `check --repair --yes` and the same ingest again, and by the re-run alone."""

    id: str
    step: str
    fault: dict
    new_version: bool = False


INTENT = "*/staging/ingest-*/intent.json"
LAYOUT = "*/staging/ingest-*/layout/*"
ROOT_INVENTORY = IN_ROOT + "/inventory.json"
ROOT_SIDECAR = IN_ROOT + "/inventory.json.sha512"
CATALOG_APPEND = "preserve.catalog.eventlog:append"
CATALOG_COMMIT = "preserve.catalog.repository:Catalog.record_ingest"

WINDOW_CASES: tuple[WindowCase, ...] = (
    WindowCase("window-new-intent-written", "intent record written and flushed",
               _kill("write", INTENT, "after")),
    WindowCase("window-new-layout-rename", "object renamed into its layout chain in staging",
               _kill("rename", LAYOUT, "after")),
    WindowCase("window-new-before-root-rename", "before the rename into the storage root",
               _kill("rename", IN_ROOT)),
    WindowCase("window-new-after-root-rename", "after the rename into the storage root",
               _kill("rename", IN_ROOT, "after")),
    WindowCase("window-new-catalog-write", "inside the catalog transaction (uncommitted)",
               _kill("call", CATALOG_APPEND, "after")),
    WindowCase("window-new-catalog-commit", "after the catalog commit",
               _kill("call", CATALOG_COMMIT, "after")),
    WindowCase("window-version-intent-written", "v2: intent record written and flushed",
               _kill("write", INTENT, "after"), new_version=True),
    WindowCase("window-version-before-rename", "v2: before the rename of v2 into the object",
               _kill("rename", IN_ROOT + "/v2"), new_version=True),
    WindowCase("window-version-after-rename", "v2: renamed in, root inventory not replaced",
               _kill("rename", IN_ROOT + "/v2", "after"), new_version=True),
    WindowCase("window-version-inventory-write", "v2: new root inventory written, not renamed",
               _kill("write", "*/staging/ingest-*/version/.inventory.json.*.tmp", "after"),
               new_version=True),
    WindowCase("window-version-inventory-replace", "v2: root inventory replaced, sidecar not",
               _kill("replace", ROOT_INVENTORY, "after"), new_version=True),
    WindowCase("window-version-sidecar-replace", "v2: root inventory and sidecar replaced",
               _kill("replace", ROOT_SIDECAR, "after"), new_version=True),
    WindowCase("window-version-catalog-write", "v2: inside the catalog transaction",
               _kill("call", CATALOG_APPEND, "after"), new_version=True),
    WindowCase("window-version-catalog-commit", "v2: after the catalog commit",
               _kill("call", CATALOG_COMMIT, "after"), new_version=True),
)

WINDOW_GUARANTEE = ("then `check`, `check --repair --yes` and the same ingest again, or the "
                    "re-run alone: one version per deposit, one event of each type per version, "
                    "`check` exit 0, `staging/` empty, `log verify` and `audit` pass")


def faults_md() -> str:
    rows = []
    for case in CASES:
        exit_text = "SIGKILL" if case.exit == KILLED else str(case.exit)
        rerun = ", ".join(str(c) for c in case.rerun_exit)
        if case.rerun_code:
            rerun += f" `{case.rerun_code}`"
        faults = "; ".join(f"{f['action']} {f['when']} {f['point']} `{f['match']}`"
                           + (f" #{f['nth']}" if f.get("nth", 1) != 1 else "")
                           for f in case.faults)
        rows.append(f"| `{case.id}` | {case.step} | {faults} | {exit_text} | {case.deposit} | "
                    f"{rerun} | {case.guarantee} |")
    return "\n".join([
        "# Fault cases", "",
        "Every case runs the real CLI in a subprocess (`tests/faults/runner.py`) with one fault",
        "installed, then checks the storage root (ocfl-py and a listing), the catalog (no",
        "package that is not fully stored), the deposits row, and re-runs the same ingest without",
        "faults: it must end with exactly one package, OCFL-valid and bag-valid, and a verified",
        "event chain. Generated from `tests/faults/cases.py` (`python -m tests.faults.cases`);",
        "`tests/faults/test_docs.py` fails when they differ. See docs/design.md, \"Crash safety",
        "and concurrency\".", "",
        "| case | step | fault | exit | deposit row | re-run exit | guarantee |",
        "| --- | --- | --- | --- | --- | --- | --- |", *rows, "",
        "## Kills in the commit window", "",
        "Issue 11 section 5: SIGKILL at every write, rename and commit between the intent record",
        "and the catalog commit, for a new package and for a new version; each case runs twice",
        "(`tests/faults/test_commit_window.py`): " + WINDOW_GUARANTEE + ". A re-run after the",
        "repair recorded the version is refused as a duplicate (`ING-E002`, `ING-E003` or",
        "`ING-E009`, exit 11); nothing is stored twice.", "",
        "| case | step | fault |", "| --- | --- | --- |",
        *(f"| `{c.id}` | {c.step} | kill {c.fault['when']} {c.fault['point']} `{c.fault['match']}` |"
          for c in WINDOW_CASES), ""])


if __name__ == "__main__":
    DOC.write_text(faults_md(), encoding="utf-8")
    print(f"wrote {DOC}")
