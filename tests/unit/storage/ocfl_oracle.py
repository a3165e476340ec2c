"""ocfl-py 2.1 as the independent OCFL 1.1 validator for the storage roots we write.

ocfl-py 2.1 does not know the 0004 hashed n-tuple layout: its storage root check stops with
E071 ("unsupported layout") and its extensions check warns W901 ("unregistered extension")
although 0004 is a registered OCFL Community Extension. So the test registers a minimal 0004
layout in ocfl-py's layout registry and lists 0004 among the registered extensions. Storage
root validation does not map ids to paths (it walks the tree), so this adds nothing of ours to
what is checked; object paths are checked against the layout separately with hashlib.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import ocfl
from ocfl.validator import Validator
from ocfl.layout import Layout
from ocfl.layout_registry import add_layout, layout_is_supported

EXTENSION = "0004-hashed-n-tuple-storage-layout"


class _Layout0004(Layout):
    """Just enough of 0004 for ocfl-py's root check: read and accept the config."""

    def __init__(self) -> None:
        super().__init__()
        self.NAME = EXTENSION
        self.DESCRIPTION = "0004 (test registration)"
        self.PARAMS = {key: (lambda value: None) for key in
                       ("digestAlgorithm", "tupleSize", "numberOfTuples", "shortObjectRoot")}

    def identifier_to_path(self, identifier: str) -> str:
        digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()
        return "/".join([digest[0:3], digest[3:6], digest[6:9], digest])


@dataclass
class Report:
    valid: bool
    root_codes: dict[str, int]
    object_codes: dict[str, dict[str, int]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> set[str]:
        codes = set(c for c in self.root_codes if c.startswith("W"))
        for per_object in self.object_codes.values():
            codes |= {c for c in per_object if c.startswith("W")}
        return codes

    @property
    def errors(self) -> set[str]:
        codes = set(c for c in self.root_codes if c.startswith("E"))
        for per_object in self.object_codes.values():
            codes |= {c for c in per_object if c.startswith("E")}
        return codes


def validate_root(path: Path) -> Report:
    """Validate the storage root and every object in it, with warnings."""
    if not layout_is_supported(EXTENSION):
        add_layout(EXTENSION, _Layout0004)
    store = ocfl.StorageRoot(root=str(path))
    store.registered_extensions.append(EXTENSION)
    valid = store.validate(log_warnings=True, check_digests=True)
    report = Report(valid=valid, root_codes=dict(store.log.codes))
    report.messages.extend(store.log.messages)
    for _dirpath, messages in store.errors:
        report.messages.append(messages)
    for dirpath in sorted(store.object_paths()):
        validator = Validator(log_warnings=True, check_digests=True)
        ok = validator.validate_object(str(Path(path, dirpath)))
        report.valid = report.valid and ok
        report.object_codes[dirpath] = dict(validator.log.codes)
        report.messages.extend(validator.log.messages)
    return report
