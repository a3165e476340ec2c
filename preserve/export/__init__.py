"""Export workflow: a package version written out for another archive with its whole history.

BagIt 1.0 directory, the same bag as a deterministic zip or tar, or an E-ARK CSIP/SIP 2.1
package; each read back and checked before it is given its name (`export.py`).
"""

from preserve.export.export import (
    ExportFormat, ExportOptions, ExportResult, default_name, export_package,
)

__all__ = ["ExportFormat", "ExportOptions", "ExportResult", "default_name", "export_package"]
