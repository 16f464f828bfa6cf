"""Strict parser for Telegram's HTML parse mode: plain text plus entities, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n"


class HtmlParseError(ValueError):
    """Text that Telegram would refuse with "can't parse entities: ..."."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts offsets and limits in."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    """A start tag waiting for its end tag."""

    name: str
    offset: int
    attrs: dict[str, str]
    language: str | None = None
    children: list[str] = field(default_factory=list)


class _Parser:
    """One pass over the source; keeps output text, open tags and finished entities."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.length = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def fail(self, message: str, at: int | None = None) -> HtmlParseError:
        """An error mentioning the UTF-8 byte offset, as Telegram does."""
        where = self.pos if at is None else at
        offset = len(self.src[:where].encode("utf-8"))
        return HtmlParseError(message.format(offset=offset))

    def emit(self, text: str) -> None:
        """Append plain text to the output."""
        self.out.append(text)
        self.length += utf16_len(text)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        """Parse everything and return the plain text and sorted entities."""
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char == "&":
                self.emit(self.entity())
            elif char == "<":
                if src.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            else:
                nxt = min(
                    (i for i in (src.find("&", self.pos), src.find("<", self.pos)) if i >= 0),
                    default=len(src),
                )
                self.emit(src[self.pos : nxt])
                self.pos = nxt
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def entity(self) -> str:
        """Decode ``&...;`` at the cursor; anything unrecognised is an error."""
        start = self.pos
        end = self.src.find(";", start + 1, start + 12)
        if end < 0:
            raise self.fail('Character "&" must be escaped as "&amp;" at byte offset {offset}')
        name = self.src[start + 1 : end]
        char = _NAMED_ENTITIES.get(name)
        if char is None and name.startswith("#"):
            char = _numeric_entity(name[1:])
        if char is None:
            raise self.fail('Unsupported HTML entity "&' + name + ';" at byte offset {offset}')
        self.pos = end + 1
        return char

    def read_name(self, what: str, start: int) -> str:
        """Read a tag name up to whitespace or ``>``."""
        src = self.src
        end = self.pos
        while end < len(src) and src[end] not in _SPACES and src[end] not in "<>":
            end += 1
        if end >= len(src) or src[end] == "<":
            raise self.fail(f"Unclosed {what} tag at byte offset {{offset}}", start)
        name = src[self.pos : end].lower()
        self.pos = end
        return name

    def skip_spaces(self) -> None:
        """Move past whitespace inside a tag."""
        while self.pos < len(self.src) and self.src[self.pos] in _SPACES:
            self.pos += 1

    def start_tag(self) -> None:
        """Parse ``<name attr=value ...>`` and open the entity."""
        start = self.pos
        self.pos += 1
        name = self.read_name("start", start)
        if name not in _ENTITY_TYPES:
            raise self.fail(f'Unsupported start tag "{name}" at byte offset {{offset}}', start)
        attrs = self.attributes(name, start)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self.fail(
                'Tag "span" must have class "tg-spoiler" at byte offset {offset}', start
            )
        if name == "a" and not attrs.get("href"):
            raise self.fail('Tag "a" must have attribute "href" at byte offset {offset}', start)
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise self.fail(
                'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}', start
            )
        if self.stack:
            self.stack[-1].children.append(name)
        self.stack.append(_OpenTag(name, self.length, attrs))

    def attributes(self, tag: str, start: int) -> dict[str, str]:
        """Read attributes until ``>``; values may be quoted, unquoted or absent."""
        src = self.src
        attrs: dict[str, str] = {}
        while True:
            self.skip_spaces()
            if self.pos >= len(src):
                raise self.fail("Unclosed start tag at byte offset {offset}", start)
            if src[self.pos] == ">":
                self.pos += 1
                return attrs
            begin = self.pos
            while self.pos < len(src) and src[self.pos] not in _SPACES + "=<>\"'":
                self.pos += 1
            attr = src[begin : self.pos].lower()
            if not attr:
                raise self.fail(
                    f'Empty attribute name in the tag "{tag}" at byte offset {{offset}}'
                )
            self.skip_spaces()
            if self.pos < len(src) and src[self.pos] == "=":
                self.pos += 1
                self.skip_spaces()
                attrs[attr] = self.attribute_value(start)
            else:
                attrs[attr] = ""

    def attribute_value(self, start: int) -> str:
        """Read one attribute value, decoding entities inside it."""
        src = self.src
        if self.pos < len(src) and src[self.pos] in "\"'":
            quote = src[self.pos]
            end = src.find(quote, self.pos + 1)
            if end < 0:
                raise self.fail("Unclosed start tag at byte offset {offset}", start)
            raw = src[self.pos + 1 : end]
            self.pos = end + 1
        else:
            begin = self.pos
            while self.pos < len(src) and src[self.pos] not in _SPACES + "<>\"'":
                self.pos += 1
            raw = src[begin : self.pos]
        return _decode_value(raw)

    def end_tag(self) -> None:
        """Parse ``</name>`` and close the innermost open tag, which must match."""
        start = self.pos
        self.pos += 2
        end = self.src.find(">", self.pos)
        if end < 0:
            raise self.fail("Unclosed end tag at byte offset {offset}", start)
        name = self.src[self.pos : end].strip().lower()
        self.pos = end + 1
        if not self.stack:
            raise self.fail("Unexpected end tag at byte offset {offset}", start)
        top = self.stack[-1]
        if name != top.name:
            raise self.fail(
                f'Unmatched end tag at byte offset {{offset}}, expected "</{top.name}>", '
                f'found "</{name}>"',
                start,
            )
        self.stack.pop()
        self.close(top)

    def close(self, tag: _OpenTag) -> None:
        """Turn a closed tag into an entity; empty ones are dropped like Telegram does."""
        length = self.length - tag.offset
        parent = self.stack[-1] if self.stack else None
        language = tag.attrs.get("class", "")
        if tag.name == "code" and parent and parent.name == "pre" and len(parent.children) == 1:
            if language.startswith("language-"):
                parent.language = language.removeprefix("language-")
            return
        if length <= 0:
            return
        entity: dict[str, Any] = {
            "type": _ENTITY_TYPES[tag.name],
            "offset": tag.offset,
            "length": length,
        }
        if tag.name == "a":
            entity["url"] = tag.attrs["href"]
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attrs["emoji-id"]
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        self.entities.append(entity)


def _numeric_entity(body: str) -> str | None:
    """Decode the part after ``&#`` of a numeric character reference, or None."""
    try:
        code = int(body[1:], 16) if body[:1] in ("x", "X") else int(body, 10)
    except ValueError:
        return None
    if code <= 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _decode_value(raw: str) -> str:
    """Decode entities inside an attribute value with the same strict rules as text."""
    if "&" not in raw:
        return raw
    text, _ = _Parser(raw.replace("<", "&lt;")).run()
    return text


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, Bot API entity dicts); raise HtmlParseError."""
    return _Parser(source).run()


def escape(text: str) -> str:
    """Escape plain text for HTML parse mode."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
