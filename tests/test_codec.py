"""Button codecs: the data they write, what they read back, and what they refuse."""

from __future__ import annotations

import enum

import pytest
from telegram.ext import CallbackQueryHandler

from bot.core.routing import button_prefixes
from bot.kit.codec import MAX_ID, ButtonCodec


class Answer(enum.StrEnum):
    """A choice carried by a button."""

    YES = "yes"
    NO = "no"


CASE = ButtonCodec("cs:open:", int)
RSVP = ButtonCodec("ev:rsvp:", int, Answer)
PLACE = ButtonCodec("adm:staff:", int, "m", int)
WORD = ButtonCodec("lang:", ("sq", "en"))
NAME = ButtonCodec("cmp:reg:", str)


def test_data_and_parse_round_trip() -> None:
    assert CASE.data(42) == "cs:open:42"
    assert CASE.parse("cs:open:42") == 42
    assert RSVP.data(12, Answer.YES) == "ev:rsvp:12:yes"
    assert RSVP.parse("ev:rsvp:12:no") == (12, Answer.NO)
    assert PLACE.data(5, 7) == "adm:staff:5:m:7"
    assert PLACE.parse("adm:staff:5:m:7") == (5, 7)
    assert WORD.parse("lang:en") == "en"
    assert NAME.parse(NAME.data("Shkodër")) == "Shkodër"


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "cs:open:",
        "cs:open:²",
        "cs:open:١٢",
        "cs:open:-1",
        "cs:open:1x",
        "cs:open:1\n",
        "cs:open:1:2",
        f"cs:open:{MAX_ID + 1}",
        "cs:open:99999999999",
        "cs:opens:1",
    ],
)
def test_parse_refuses_every_other_shape(data: str | None) -> None:
    """Only ASCII digits up to the column's range, nothing before or after."""
    assert CASE.parse(data) is None
    assert data is None or CASE.pattern.match(data) is None or data.endswith(str(MAX_ID + 1))


@pytest.mark.parametrize(
    ("codec", "data"),
    [
        (RSVP, "ev:rsvp:12:maybe"),
        (RSVP, "ev:rsvp:12"),
        (PLACE, "adm:staff:5:x:7"),
        (WORD, "lang:de"),
        (NAME, "cmp:reg:"),
        (NAME, "cmp:reg:a:b"),
    ],
)
def test_several_fields_and_choices_must_all_fit(codec: ButtonCodec, data: str) -> None:
    assert codec.parse(data) is None


def test_the_largest_id_is_accepted() -> None:
    assert CASE.parse(CASE.data(MAX_ID)) == MAX_ID
    assert CASE.parse("cs:open:007") == 7  # as str.isdigit() read it before


def test_data_refuses_values_that_would_not_parse_or_are_too_long() -> None:
    with pytest.raises(AssertionError):
        CASE.data(MAX_ID + 1)
    with pytest.raises(AssertionError):
        NAME.data("a:b")
    with pytest.raises(AssertionError):
        NAME.data("x" * 60)
    with pytest.raises(AssertionError):
        CASE.data(1, 2)


def test_the_route_table_reads_the_prefix_from_the_pattern() -> None:
    """The gate keys staff buttons by prefix: a codec's pattern gives exactly its prefix."""

    async def noop(update: object, context: object) -> None:
        """Never called."""

    for codec in (CASE, RSVP, PLACE, WORD, NAME):
        handler = CallbackQueryHandler(noop, pattern=codec.pattern)
        assert button_prefixes(handler) == (codec.prefix,)
        assert codec.pattern.match(codec.example())
        assert ButtonCodec.made[codec.pattern.pattern] is codec
