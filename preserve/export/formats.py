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
    #: the E-ARK package as one zip, its folder (and mets/@OBJID) the package id made portable
    EARK_ZIP = "eark-zip"

    @property
    def suffix(self) -> str:
        return {"zip": ".zip", "tar": ".tar", "eark-zip": ".zip"}.get(self.value, "")

    @property
    def is_eark(self) -> bool:
        return self in (ExportFormat.EARK, ExportFormat.EARK_ZIP)

    @property
    def name_ending(self) -> str:
        """What a default export name ends with: the suffix, and `-eark` for an E-ARK folder,
        so a bag and an E-ARK export of one version into one folder never collide."""
        return "-eark" + self.suffix if self.is_eark else self.suffix
