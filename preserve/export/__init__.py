"""Export workflow: a package version written out for another archive with its whole history.

BagIt 1.0 directory, the same bag as a deterministic zip or tar, or an E-ARK CSIP/SIP 2.1
package; each read back and checked before it is given its name (`export.py`).
"""

from __future__ import annotations

import importlib
from typing import Any

# Names are imported on first use (PEP 562): the CLI imports this package for one
# command, and loading every module (SQLAlchemy, Alembic, lxml) costs a third of a
# second of start-up that `preserve validate` never needs.
_EXPORTS = {
    "ExportFormat": "preserve.export.formats",
    "ExportOptions": "preserve.export.export",
    "ExportResult": "preserve.export.export",
    "default_name": "preserve.export.export",
    "export_package": "preserve.export.export",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
