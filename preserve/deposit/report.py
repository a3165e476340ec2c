"""Building findings for deposits: every path and text shown through `escape_name`.

Codes live in the one catalogue, `preserve.findings` (BAG-, MAN-, PAY-, SER-, NAME-).
"""

from __future__ import annotations

from preserve.findings import CATALOGUE
from preserve.model import Finding
from preserve.names import escape_name, is_utf8

#: Longest quoted excerpt of a bad line in a message.
_EXCERPT = 80


def excerpt(text: str) -> str:
    """A bad line, shortened, for a message."""
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"


def make(code: str, path: str = "", **fields: object) -> Finding:
    """A Finding for `code`; `path` is both the finding's path and the template's {path}."""
    entry = CATALOGUE[code]
    shown = {k: escape_name(v) if isinstance(v, str) else v for k, v in fields.items()}
    shown.setdefault("path", escape_name(path))
    # A path that is not UTF-8 could not be stored or printed as JSON: keep it escaped.
    safe_path = path if is_utf8(path) else escape_name(path)
    return Finding(code=entry.code, severity=entry.severity, path=safe_path,
                   message=entry.template.format(**shown))
