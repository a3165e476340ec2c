"""Keeping the evidence of damage: a copy of the damaged file and a note (DESIGN.md, "Rules":
an audit never deletes or fixes silently).

The stored file is copied, never moved: the OCFL object stays exactly as it was found, so
other tools (and a repair from a good copy) see the same damage. The copy goes to
`<repo>/quarantine/<run id>/<object path>/<content path>`, the note next to it as
`<name>.audit.json`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

NOTE_SUFFIX = ".audit.json"


def quarantine_copy(
    quarantine_dir: Path,
    run_id: int,
    storage_root: Path,
    object_path: Path,
    content_path: str,
    note: dict[str, Any],
    time: dt.datetime,
) -> Path:
    """Copy the damaged file into quarantine with its note; returns the copy's path.

    OSError if the copy cannot be made (the caller reports it; storage is untouched either way).
    """
    parts = content_path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise OSError(22, f"refusing to quarantine the unsafe content path {content_path!r}")
    relative_object = object_path.relative_to(storage_root)
    target = Path(quarantine_dir, str(run_id), relative_object, *parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    # copyfile reads through the path but never writes to it; follow_symlinks=False so a link
    # planted in place of the content is copied as a link, not followed.
    shutil.copyfile(object_path / content_path, target, follow_symlinks=False)
    document = {**note, "run_id": run_id, "time": time.isoformat(),
                "source": str(object_path / content_path)}
    note_path = target.with_name(target.name + NOTE_SUFFIX)
    note_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    log.info("kept a copy of damaged %s in %s", object_path / content_path, target)
    return target
