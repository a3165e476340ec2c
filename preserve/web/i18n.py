"""Languages of the interface (issue 15 "Languages"): gettext catalogs read from the .po
files in preserve/web/locale at start-up with Babel (no compiled .mo to drift), the language
chosen from a cookie, else the browser's Accept-Language, else English; dates and numbers
formatted by Babel with the locale's own conventions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LOCALE_DIR = Path(__file__).with_name("locale")

#: Language tag (BCP 47, as the cookie and the URL spell it) -> Babel locale identifier.
LANGUAGES: dict[str, str] = {
    "en": "en", "uz-Latn": "uz_Latn", "uz-Cyrl": "uz_Cyrl", "ru": "ru", "kk": "kk", "tk": "tk",
}
DEFAULT = "en"
COOKIE = "preserve_lang"


@cache
def messages(tag: str) -> dict[str, str]:
    """msgid -> msgstr of one language's catalog (English is the msgids themselves)."""
    if tag == DEFAULT:
        return {}
    with (LOCALE_DIR / LANGUAGES[tag] / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if it names one we have, else the first Accept-Language match by
    quality (`uz` alone means Uzbek in Latin script, the official one), else English."""
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        fields = part.strip().split(";")
        quality = 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, position, fields[0].strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            continue
        for known in LANGUAGES:
            if tag == known.lower():
                return known
        primary = tag.split("-")[0]
        if primary == "uz":
            return "uz-Cyrl" if "cyrl" in tag else "uz-Latn"
        if primary in LANGUAGES:
            return primary
    return DEFAULT


@dataclass(frozen=True)
class Translator:
    """One request's language: the `_` of the templates and the locale's formatters."""

    tag: str

    def gettext(self, message: str) -> str:
        return messages(self.tag).get(message, message)

    @property
    def locale(self) -> Locale:
        return Locale.parse(LANGUAGES[self.tag])

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, fraction: float) -> str:
        """A fraction as a whole percentage per locale (`45 %` in Russian, `%45` in Turkmen)."""
        return format_percent(min(1.0, max(0.0, fraction)), locale=self.locale)

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, format="medium", locale=self.locale)

    def size(self, value: int) -> str:
        """Bytes in the largest binary unit under 1024, the number per locale."""
        units = ["B", "KiB", "MiB", "GiB", "TiB"]
        amount = float(value)
        for unit in units:
            if amount < 1024 or unit == units[-1]:
                shown = format_decimal(round(amount, 1), locale=self.locale)
                return f"{shown}\u00a0{unit}"
            amount /= 1024
        raise AssertionError("unreachable")
