"""The event log's chain head, anchored in the storage root (issue 11 item 3; OCFL 1.1
section 4.1: "the storage root MAY contain other files as direct children").

The catalog's hash chain shows any edited, inserted or deleted row, except rows cut off its
end: a shorter chain is still a valid chain. So after every transaction that appends events
the catalog hands its new head (event count and last hash) to this file, which lives in the
storage root, outside the database: `preserve-event-log-head.json`
(a direct child of the root, which OCFL 1.1 allows; an unregistered extension directory would
draw a validator warning, ocfl-py W901). `log verify` and `audit` compare the chain
with it: the event at position `events` must carry `hash`, and the log must hold at least
`events` events. An attacker who can change the database but not storage cannot shorten or
replace the log unseen; the head is also printed in every audit report so that it can be
kept further away (a mail, another archive). docs/attacker-model.md says what each kind of
access can and cannot hide.

The file only moves forward: a writer whose head is not beyond the stored one leaves it
alone, so two writers racing can at worst leave an older (still true) head, never a wrong one.
Written atomically (temp file, fsync, rename, fsync of the directory).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from preserve.errors import StorageError
from preserve.model import ChainHead
from preserve.storage.fsync import write_atomic

log = logging.getLogger(__name__)

#: Relative to the storage root.
HEAD_PATH = "preserve-event-log-head.json"
FORMAT = 1


class ChainHeadFile:
    """The anchored head of one storage root."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / HEAD_PATH

    def __repr__(self) -> str:
        return f"ChainHeadFile({str(self.path)!r})"

    def read(self) -> ChainHead | None:
        """The anchored head; None if none was written yet. StorageError if it is unreadable."""
        try:
            document = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StorageError(detail=f"cannot read the anchored event log head {self.path}: "
                               f"{exc}") from None
        try:
            events, digest = document["events"], document["hash"]
            if not isinstance(events, int) or events < 0 or not isinstance(digest, str):
                raise TypeError
        except (KeyError, TypeError):
            raise StorageError(detail=f"{self.path} is not an event log head "
                               "(expected {\"events\": N, \"hash\": HEX})") from None
        return ChainHead(events, digest)

    def advance(self, head: ChainHead) -> bool:
        """Store `head` unless the stored one is already as far; True if it was written."""
        try:
            current = self.read()
        except StorageError:
            current = None  # unreadable: replaced by the true head (audit reports the damage)
        if current is not None and current.events >= head.events:
            return False
        document = {"format": FORMAT, **head.as_dict(),
                    "about": "head of preserve's event log hash chain: the number of events "
                             "and the hash of the last one (docs/attacker-model.md)"}
        if not self.path.parent.is_dir():  # no storage root (yet): never create one here
            raise FileNotFoundError(2, "no storage root", str(self.path.parent))
        write_atomic(self.path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
        return True
