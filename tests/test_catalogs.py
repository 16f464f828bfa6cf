"""The catalogs are current, complete in Albanian, and every translation is safe to send."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from fakeapi.html import HtmlParseError, parse_html

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"


def _ids_in_code() -> set[str]:
    """msgids found in bot/ now (code and the site's templates), by babel.cfg's mapping, as
    `scripts/update-catalogs.sh` would extract them."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map=method_map, options_map=options_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _key(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def _entries(locale: str) -> list[Message]:
    return [m for m in _catalog(LOCALES / locale / "LC_MESSAGES" / "messages.po", locale) if m.id]


def test_template_is_not_stale() -> None:
    template = {_key(m) for m in _catalog(LOCALES / "messages.pot") if m.id}
    code = _ids_in_code()
    assert code - template == set(), "new strings: run scripts/update-catalogs.sh"
    assert template - code == set(), "strings gone from the code: run scripts/update-catalogs.sh"


@pytest.mark.parametrize("locale", ["sq", "en"])
def test_catalog_has_every_template_entry(locale: str) -> None:
    template = {_key(m) for m in _catalog(LOCALES / "messages.pot") if m.id}
    assert {_key(m) for m in _entries(locale)} == template


def test_albanian_is_complete_and_not_fuzzy() -> None:
    untranslated = [_key(m) for m in _entries("sq") if not all(_strings(m))]
    fuzzy = [_key(m) for m in _entries("sq") if m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def _strings(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


@pytest.mark.parametrize("locale", ["sq", "en"])
def test_placeholders_match_and_html_parses(locale: str) -> None:
    for message in _entries(locale):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = set().union(*(_placeholders(i) for i in ids))
        for text in _strings(message):
            if not text:
                continue
            assert _placeholders(text) == expected, f"{locale}: placeholders differ in {text!r}"
            try:
                parse_html(text.format(**{name: "x" for name in expected}))
            except HtmlParseError as error:
                pytest.fail(f"{locale}: Telegram would refuse {text!r}: {error}")
