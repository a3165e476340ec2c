"""Export workflow: a package version written out for another archive with its whole history.

BagIt 1.0 directory, the same bag as a deterministic zip or tar, or an E-ARK CSIP/SIP 2.1
package; each read back and checked before it is given its name (`export.py`).
"""

from __future__ import annotations

from preserve.lazy import lazy_exports

# Names are imported on first use (PEP 562; see preserve.lazy).
_EXPORTS = {
    "ExportFormat": "preserve.export.formats",
    "ExportOptions": "preserve.export.export",
    "ExportResult": "preserve.export.export",
    "default_name": "preserve.export.export",
    "export_package": "preserve.export.export",
    "export_target": "preserve.export.export",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
