"""Formats adapter: PRONOM format identification of stored files (DESIGN.md, "Standards").

siegfried (through `pygfried`) is used here and nowhere else in preserve. The rest of preserve
sees only `FormatInfo` values and PRONOM identifiers (PUIDs).
"""

from preserve.formats.identify import UNKNOWN, FormatIdentifier, FormatInfo

__all__ = ["FormatIdentifier", "FormatInfo", "UNKNOWN"]
