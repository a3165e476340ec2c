"""The forms an export can take (`preserve export --format`), in a module of its own so the
command line can name them without loading the export machinery."""

from __future__ import annotations

from enum import Enum


class ExportFormat(str, Enum):
    """What `--format` writes: a BagIt directory, the bag as zip or tar, or E-ARK CSIP/SIP."""

    BAG = "bag"
    ZIP = "zip"
    TAR = "tar"
    EARK = "eark"

    @property
    def suffix(self) -> str:
        return {"zip": ".zip", "tar": ".tar"}.get(self.value, "")
