"""Button data written and read in one place: one small codec per prefix.

``CASE = ButtonCodec("cs:open:", int)`` gives ``CASE.data(42) == "cs:open:42"``,
``CASE.parse(data)`` (42, or None for anything not of exactly this shape) and ``CASE.pattern`` for
a CallbackQueryHandler. The pattern starts with the literal prefix, so bot/core/routing.py still
reads the prefix (and the gate its permission) from it.

Fields, separated by ":" after the prefix:

- ``int``: ASCII digits up to 2**31 - 1 (PostgreSQL's integer), parsed to an int;
- ``str``: any text without ":" (at least one character);
- a StrEnum class: one of its values, parsed to the member;
- a tuple of strings: one of them, parsed to the string;
- a plain string: a fixed word that must be there, not part of the parsed value.

``parse`` gives the one value of a one-field codec, a tuple for several, None when it does not fit.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

MAX_ID = 2**31 - 1
"""The largest id any table holds (PostgreSQL's integer)."""
MAX_DATA_BYTES = 64
"""Telegram's limit on callback_data, in UTF-8 bytes."""

Spec = type[int] | type[str] | type[enum.StrEnum] | tuple[str, ...] | str


@dataclass(frozen=True)
class _Field:
    """One part of the data after the prefix: its regular expression and how to read it."""

    regex: str
    read: Callable[[str], Any] | None
    """None for a fixed word (checked, not returned)."""
    example: str
    """A value of this field (the word itself for a fixed word)."""


def _int(raw: str) -> int | None:
    """An id: ASCII digits within the column's range."""
    value = int(raw)
    return value if value <= MAX_ID else None


def read_id(raw: str | None) -> int | None:
    """An id read as a codec's ``int`` field reads it (for data a wizard step has already split
    off its key): ASCII digits within the column's range, else None."""
    if raw is None or re.fullmatch(_field(int).regex, raw) is None:
        return None
    return _int(raw)


def _field(spec: Spec) -> _Field:
    """The field a spec describes."""
    if spec is int:
        return _Field("[0-9]{1,10}", _int, "1")
    if spec is str:
        return _Field("[^:]+", str, "x")
    if isinstance(spec, type) and issubclass(spec, enum.StrEnum):
        values = [member.value for member in spec]
        return _Field(_one_of(values), spec, values[0])
    if isinstance(spec, tuple) and spec and all(isinstance(word, str) for word in spec):
        return _Field(_one_of(spec), str, spec[0])
    if isinstance(spec, str) and spec:
        return _Field(re.escape(spec), None, spec)
    raise TypeError(f"not a button field: {spec!r}")


def _one_of(words: tuple[str, ...] | list[str]) -> str:
    """A group matching exactly one of the words (longest first, so none hides another)."""
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


class ButtonCodec:
    """The callback data of one kind of button: a literal prefix and ":"-separated fields."""

    made: ClassVar[dict[str, ButtonCodec]] = {}
    """Every codec by the text of its pattern (tests find a sample press for a handler here)."""

    def __init__(self, prefix: str, *specs: Spec) -> None:
        self.prefix = prefix
        self._fields = tuple(_field(spec) for spec in specs)
        body = ":".join(f"({f.regex})" for f in self._fields)
        self.pattern = re.compile(f"^{re.escape(prefix)}(?={body}\\Z)")
        """Matches exactly this shape; the fields sit in a lookahead, so the literal prefix is all
        bot/core/routing.py reads from it (a choice of words does not split the prefix)."""
        ButtonCodec.made[self.pattern.pattern] = self

    def __repr__(self) -> str:
        return f"ButtonCodec({self.pattern.pattern!r})"

    def data(self, *values: Any) -> str:
        """The callback data for these values (fixed words are filled in, not given)."""
        given = iter(values)
        parts = [f.example if f.read is None else str(next(given)) for f in self._fields]
        assert next(given, None) is None, f"{self!r}: too many values {values!r}"
        data = self.prefix + ":".join(parts)
        assert self.parse(data) is not None, f"{data!r} does not fit {self!r}"
        assert len(data.encode()) <= MAX_DATA_BYTES, f"{data!r} is over {MAX_DATA_BYTES} bytes"
        return data

    def parse(self, data: str | None) -> Any:
        """The value(s) the data carries, or None when it is not exactly of this shape."""
        match = self.pattern.match(data or "")
        if match is None:
            return None
        values = []
        for f, raw in zip(self._fields, match.groups(), strict=True):
            if f.read is None:
                continue
            value = f.read(raw)
            if value is None:
                return None
            values.append(value)
        return values[0] if len(values) == 1 else tuple(values)

    def example(self) -> str:
        """Data of this shape (for tests that press every button)."""
        return self.prefix + ":".join(f.example for f in self._fields)
