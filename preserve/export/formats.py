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

    @property
    def name_ending(self) -> str:
        """What a default export name ends with: the suffix, and `-eark` for an E-ARK folder,
        so a bag and an E-ARK export of one version into one folder never collide."""
        return "-eark" if self is ExportFormat.EARK else self.suffix
