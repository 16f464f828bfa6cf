"""Per-update translations with gettext catalogs and Babel formatting of dates and numbers.

Translations are HTML (Telegram's HTML parse mode): the catalog's template is trusted and every
value filled into it is escaped unless it is already `Markup` (markupsafe semantics), so text a
person typed can never become markup or break a message.
"""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from markupsafe import Markup, escape

import locales
from bot.core.settings import SUPPORTED_LOCALES

LOCALES_DIR = Path(locales.__file__).resolve().parent
DOMAIN = "messages"
log = logging.getLogger(__name__)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (labels defined at import)."""
    return message


def plain(text: str) -> str:
    """Text for places Telegram shows verbatim (button labels, toasts): HTML back to text."""
    return text.unescape() if isinstance(text, Markup) else text


def shorten(text: str, limit: int) -> str:
    """Plain text cut to `limit` characters at a word boundary with "…"; escape it afterwards."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:·–—-") + "…"


def escaped_within(text: str, limit: int) -> Markup:
    """Plain text cut at a word boundary so that, escaped, it is at most `limit` characters."""
    cut = limit
    while len(escaped := escape(shorten(text, cut))) > limit:
        cut -= 1
    return escaped


def join_lines(lines: Iterable[str], limit: int = 4000) -> Markup:
    """Lines joined as HTML (plain ones escaped), whole lines only, "…" when some did not fit."""
    kept: list[Markup] = []
    size = 0
    for line in lines:
        html = escape(line)
        size += len(html) + 1
        if size > limit - 2:
            kept.append(Markup("…"))
            break
        kept.append(html)
    return Markup("\n").join(kept)


def _load(locale: str) -> gettext.NullTranslations:
    """The compiled catalog if it is current, else compile the .po in memory."""
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    po_path, mo_path = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo_path.exists() and (
        not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    ):
        with mo_path.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if not po_path.exists():
        log.warning("no catalog for locale %s; falling back to message ids", locale)
        return gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Translator:
    """Translations and formatting for one locale; handed to code per update, never global."""

    locale: str
    _catalog: gettext.NullTranslations
    timezone: ZoneInfo

    def gettext(self, message: str, /, **values: object) -> Markup:
        """Translate (trusted HTML) and fill named placeholders, escaping every non-Markup value."""
        text = Markup(self._catalog.gettext(message))
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, count: int, /, **values: object) -> Markup:
        """Translate a counted phrase; `{count}` is filled in the user's number format."""
        text = Markup(self._catalog.ngettext(singular, plural, count))
        return text.format(count=self.number(count), **values)

    def date(self, value: date | datetime) -> str:
        """A date the way people write it: "23 nëntor 2026" / "23 November 2026"."""
        if isinstance(value, datetime):
            return format_datetime(value, "d MMMM y", tzinfo=self.timezone, locale=self.locale)
        return format_date(value, "d MMMM y", locale=self.locale)

    def month(self, value: date) -> str:
        """A month and year: "nëntor 2026" / "November 2026"."""
        return format_date(value, "LLLL y", locale=self.locale)

    def datetime(self, value: datetime) -> str:
        """Date and local time: "23 nëntor 2026, 14:05"."""
        return format_datetime(value, "d MMMM y, HH:mm", tzinfo=self.timezone, locale=self.locale)

    def number(self, value: float) -> str:
        """A number with the locale's separators."""
        return format_decimal(value, locale=self.locale)


class I18n:
    """Loads every shipped catalog once and hands out translators by locale."""

    def __init__(self, default_locale: str, timezone: str) -> None:
        self.default_locale = default_locale
        self.timezone = ZoneInfo(timezone)
        self._catalogs = {code: _load(code) for code in SUPPORTED_LOCALES}

    def translator(self, locale: str | None) -> Translator:
        """A translator for a supported locale, the default one otherwise."""
        code = locale if locale in self._catalogs else self.default_locale
        return Translator(code, self._catalogs[code], self.timezone)

    def locale_for_telegram(self, language_code: str | None) -> str:
        """Telegram's language_code "en…" means English; anything else gets the default."""
        if language_code and language_code.lower().startswith("en"):
            return "en"
        return self.default_locale
