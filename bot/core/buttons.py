"""Button data checked once, before any handler: every number in it must be an id a column holds.

Handlers parse their own fields with ``str.isdigit()``; that accepts digits such as "²" that
``int()`` refuses, and ids beyond any column (PostgreSQL's integer ends at 2**31 - 1). A press
carrying either can only be forged, so it gets the stale-button answer here and goes no further.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler

from bot.core.application import PactContext
from bot.kit.answers import stale_button

MAX_ID = 2**31 - 1
"""The largest id any table holds (PostgreSQL's integer)."""


def digit_runs(data: str) -> list[str]:
    """The maximal runs of characters ``str.isdigit()`` accepts, in order."""
    runs: list[str] = []
    current = ""
    for character in data:
        if character.isdigit():
            current += character
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


def malformed(data: object) -> bool:
    """Whether a number in the data is not a plain ASCII id up to MAX_ID."""
    if not isinstance(data, str):
        return False
    return any(
        not run.isascii() or len(run) > len(str(MAX_ID)) or int(run) > MAX_ID
        for run in digit_runs(data)
    )


async def refuse(update: Update, context: PactContext) -> None:
    """Answer like any stale button and stop every later handler."""
    await stale_button(update, context)
    raise ApplicationHandlerStop


def handler() -> CallbackQueryHandler[PactContext, None]:
    """Matches only presses whose data is malformed (registered before every other handler)."""
    return CallbackQueryHandler(refuse, pattern=malformed)
