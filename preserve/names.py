"""File names as deposited: safe display and collision detection (DESIGN.md, "Metadata").

Names are kept byte-exact and never transliterated. Two things need care:

* Display. A name may hold control characters (a newline, an escape sequence) or Unicode
  bidirectional formatting characters (UAX #9) that make a terminal hide or reorder text, so
  `escape_name` prints them as `\\x0a` / `\\u202e`. Bytes that are not UTF-8 reach Python as
  surrogate escapes (PEP 383) and are printed as `\\x..` too. Ordinary letters of any script
  (Cyrillic, Arabic, Persian, the Uzbek modifier letter U+02BB) are left alone.
* Collisions. Names that differ only in Unicode normalization (NFC vs NFD, canonical
  equivalence, UAX #15) are one name on macOS and many sync tools; names that differ only in
  case are one name on case-insensitive filesystems. `collisions` finds both.

Standard library only (core module).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Bidirectional formatting characters (UAX #9 section 2): embeddings, overrides, isolates,
#: and the implicit marks LRM, RLM and ALM.
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)

NFC = "NFC"
#: Characters outside XML 1.0's Char production (section 2.2): C0 controls other than tab, LF
#: and CR, lone surrogates (names smuggled in by surrogateescape), U+FFFE and U+FFFF.
NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CASEFOLD = "casefold"


def _needs_escape(ch: str) -> bool:
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0:  # C0, DEL, C1
        return True
    if ch in BIDI_CONTROLS:
        return True
    if 0xD800 <= code <= 0xDFFF:  # surrogate escape of a non-UTF-8 byte, or a lone surrogate
        return True
    return ch in ("\u2028", "\u2029")  # line/paragraph separators break lines like LF


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # PEP 383: the original byte is code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def escape_name(name: str) -> str:
    """`name` with control, bidi and undecodable characters shown as escapes.

    Backslashes are doubled so the result is unambiguous.
    """
    if not any(ch == "\\" or _needs_escape(ch) for ch in name):
        return name
    return "".join(
        "\\\\" if ch == "\\" else _escape_char(ch) if _needs_escape(ch) else ch for ch in name
    )


def has_unsafe_characters(name: str) -> bool:
    """True if `name` holds control or bidi characters (kept, but worth a warning)."""
    return any(_needs_escape(ch) for ch in name)


def is_utf8(name: str) -> bool:
    """True if `name` (as returned by os.listdir) came from valid UTF-8 bytes."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _canonical(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _caseless(name: str) -> str:
    # Canonical caseless matching (Unicode 15, D145): NFD, case fold, NFD; NFC for readability.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def collisions(paths: Iterable[str]) -> list[tuple[str, str, str]]:
    """Pairs of distinct paths that become equal after normalization or case folding.

    Returns `(first, other, kind)` with kind `"NFC"` (canonically equivalent: equal after NFC,
    hence also after NFD) or `"casefold"` (equal only after case folding and NFC). Each
    colliding group yields one pair per member after its first (sorted), so the result is
    linear in the input. Pairs that collide canonically are not repeated as case collisions.
    """
    unique = sorted(set(paths))
    result: list[tuple[str, str, str]] = []
    by_nfc: dict[str, list[str]] = {}
    for path in unique:
        by_nfc.setdefault(_canonical(path), []).append(path)
    for group in by_nfc.values():
        result.extend((group[0], other, NFC) for other in group[1:])
    by_case: dict[str, list[str]] = {}
    for key, group in by_nfc.items():  # one representative per canonical class
        by_case.setdefault(_caseless(key), []).append(group[0])
    for group in by_case.values():
        result.extend((group[0], other, CASEFOLD) for other in group[1:])
    return result


def json_visible(document: str) -> str:
    """A JSON text with bidi controls, C1 controls and line separators written as `\\uXXXX`.

    JSON already escapes C0 controls; these others would still reorder or break a terminal
    line. A `\\uXXXX` escape decodes to the same character, so the data stays byte-exact for
    programs while people see the escape.
    """
    if not any(_needs_escape(ch) for ch in document if ch != "\n"):
        return document
    return "".join(f"\\u{ord(ch):04x}" if ch != "\n" and _needs_escape(ch) else ch
                   for ch in document)


#: Characters no Windows file name may hold (and `/`, which no POSIX one may), with the
#: control characters: what `portable_name` replaces.
_NOT_PORTABLE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}


def portable_name(identifier: str, limit: int = 200) -> str:
    """`identifier` as a folder name every operating system can create: the characters
    Windows forbids (`:` of a `urn:uuid:` among them), `/` and control characters become
    `_`; no trailing dot or space, no device name (CON, NUL, ...). Letters of every script
    stay as they are. Used where a package is named on disk (E-ARK CSIP1: the package folder
    is the package's name)."""
    name = _NOT_PORTABLE.sub("_", identifier)[:limit].rstrip(". ").lstrip(".")
    if name.split(".")[0].upper() in _WINDOWS_DEVICES:
        name = "_" + name
    return name or "package"


#: Uzbek Latin writes oʻ/gʻ with U+02BB and the tutuq with U+02BC; keyboards give any of these.
_APOSTROPHES = str.maketrans({c: "'" for c in "ʻʼ‘’`´"})


def folded(text: str) -> str:
    """`text` as title and identifier search compares it (`preserve find`, the service layer,
    issue 15): NFKC, case-folded, one apostrophe for all the ones people type for the okina."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
