"""Turns a sent text or caption into what Telegram stores: parsed, trimmed and length-checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .html import HtmlParseError, parse_html, utf16_len

MAX_TEXT = 4096
MAX_CAPTION = 1024
PARSE_MODES = {"html", "markdown", "markdownv2"}


@dataclass(frozen=True)
class FormattedText:
    """A text or caption as Telegram keeps it: raw input, plain text and entities."""

    raw: str
    parse_mode: str | None
    plain: str
    entities: tuple[tuple[tuple[str, Any], ...], ...] = ()

    def entity_dicts(self) -> list[dict[str, Any]]:
        """Entities as Bot API dicts."""
        return [dict(entity) for entity in self.entities]

    def same_content(self, other: FormattedText) -> bool:
        """True when Telegram would call an edit from self to other "not modified"."""
        return self.plain == other.plain and self.entities == other.entities


def format_text(
    raw: str, parse_mode: str | None, entities: Any = None, *, caption: bool = False
) -> FormattedText:
    """Parse raw text with parse_mode (or explicit entities), trim it and check its length."""
    mode = parse_mode or None
    if mode is not None and mode.lower() not in PARSE_MODES:
        raise bad_request("unsupported parse_mode")
    if mode is not None and mode.lower() == "html":
        try:
            plain, found = parse_html(raw)
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    else:
        plain = raw
        found = _explicit_entities(entities)
    plain, found = _trim(plain, found)
    limit = MAX_CAPTION if caption else MAX_TEXT
    if utf16_len(plain) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return FormattedText(raw=raw, parse_mode=mode, plain=plain, entities=freeze(found))


def plain_text(text: str, entities: list[dict[str, Any]] | None = None) -> FormattedText:
    """Text typed by a user: no parse_mode, entities (e.g. bot_command) given as is."""
    return FormattedText(raw=text, parse_mode=None, plain=text, entities=freeze(entities or []))


def freeze(entities: list[dict[str, Any]]) -> tuple[tuple[tuple[str, Any], ...], ...]:
    """Entities in a comparable, immutable form."""
    return tuple(tuple(sorted(entity.items())) for entity in entities)


def _explicit_entities(entities: Any) -> list[dict[str, Any]]:
    """Entities passed instead of a parse_mode; each needs a type, an offset and a length."""
    if entities is None or entities == "":
        return []
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    for entity in entities:
        if not (
            isinstance(entity, dict)
            and isinstance(entity.get("type"), str)
            and isinstance(entity.get("offset"), int)
            and isinstance(entity.get("length"), int)
        ):
            raise bad_request("can't parse MessageEntity JSON object")
    return entities


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace like Telegram, clipping entities to what remains."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(size, entity["offset"] + entity["length"] - lead)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept
