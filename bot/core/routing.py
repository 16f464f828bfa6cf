"""Routes: each handler a module registers, declared with the staff permission it needs.

A module that owns commands or buttons exposes ``routes()``; bot/app.py registers them in order
and bot/core/access.py builds the staff gate from the same list, so a handler cannot be registered
without a decision about who may use it (None: everyone). The buttons and commands a route
answers are read from its handlers (patterns and commands), never written down twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from re import _parser as sre  # the standard library's own reading of a pattern
from typing import Any

from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.staff.services.permissions import Permission


class Tier(IntEnum):
    """Where a handler sits in group 0; within a tier the modules' order decides."""

    NOTICE = 0
    """Telegram's notices about the chat (the person blocked or unblocked the bot)."""
    CONVERSATION = 1
    """Flows: inside one, its own steps and exits come before anything else."""
    COMMAND = 2
    BUTTON = 3
    CATCH_ALL = 4
    """Unknown commands, stray messages, stale buttons: last."""


@dataclass(frozen=True)
class Route:
    """A handler (or a whole conversation) and who may use it: None for everyone."""

    handler: BaseHandler
    permission: Permission | None
    draft: str | None = None
    """For a staff conversation: the user_data key of its draft, dropped when a step is refused."""

    @property
    def tier(self) -> Tier:
        """The handler's place in the order of registration."""
        return tier(self.handler)

    @property
    def name(self) -> str | None:
        """The conversation's name (None for a single handler)."""
        return self.handler.name if isinstance(self.handler, ConversationHandler) else None

    @property
    def commands(self) -> frozenset[str]:
        """The commands that start this route (a conversation's entry points), lower case."""
        entries = (
            self.handler.entry_points
            if isinstance(self.handler, ConversationHandler)
            else [self.handler]
        )
        return frozenset(
            command
            for handler in entries
            if isinstance(handler, CommandHandler)
            for command in handler.commands
        )

    @property
    def exits(self) -> frozenset[str]:
        """Commands inside a conversation's steps and fallbacks (/cancel, /menu): ways out."""
        return (
            frozenset(
                command
                for handler in inner_handlers(self.handler)
                if isinstance(handler, CommandHandler)
                for command in handler.commands
            )
            - self.commands
        )

    @property
    def buttons(self) -> tuple[str, ...]:
        """The callback-data prefixes this route answers ("" for any button), in order."""
        found: dict[str, None] = {}
        for handler in [self.handler, *inner_handlers(self.handler)]:
            if isinstance(handler, CallbackQueryHandler):
                found.update(dict.fromkeys(button_prefixes(handler)))
        return tuple(found)


def citizen(*handlers: BaseHandler) -> list[Route]:
    """Routes open to everyone (the gate does not check them)."""
    return [Route(handler, None) for handler in handlers]


def staff(permission: Permission, *handlers: BaseHandler) -> list[Route]:
    """Routes for staff holding `permission` (the gate refuses anyone else)."""
    return [Route(handler, permission) for handler in handlers]


def staff_flow(conversation: ConversationHandler, permission: Permission, draft: str) -> Route:
    """A staff conversation: its entry points pass the gate, every later step re-checks."""
    return Route(conversation, permission, draft)


def tier(handler: BaseHandler) -> Tier:
    """Conversations, commands, buttons with a pattern, then the catch-alls; notices first."""
    if isinstance(handler, ConversationHandler):
        return Tier.CONVERSATION
    if isinstance(handler, CommandHandler):
        return Tier.COMMAND
    if isinstance(handler, CallbackQueryHandler):
        return Tier.BUTTON if handler.pattern is not None else Tier.CATCH_ALL
    if isinstance(handler, MessageHandler):
        return Tier.CATCH_ALL
    return Tier.NOTICE


def inner_handlers(handler: BaseHandler) -> Iterator[BaseHandler]:
    """A conversation's entry points, the handlers of its states and its fallbacks."""
    if not isinstance(handler, ConversationHandler):
        return
    yield from handler.entry_points
    for steps in handler.states.values():
        yield from steps
    yield from handler.fallbacks


def button_prefixes(handler: CallbackQueryHandler) -> tuple[str, ...]:
    """The literal starts that every callback data the handler accepts begins with.

    One per alternative (``^(a|b)`` gives both); "" when it has no pattern (any button). PTB
    matches patterns at the start of the data, so the literal characters up to the first
    repetition, class or group are a prefix of every match.
    """
    pattern: Any = handler.pattern
    if pattern is None:
        return ("",)
    if not isinstance(pattern, re.Pattern):
        raise TypeError(f"{handler.callback!r}: give its pattern as a regular expression")
    parsed = sre.parse(pattern.pattern, pattern.flags)
    if parsed.state.flags & re.IGNORECASE:
        raise ValueError(f"{pattern.pattern!r}: case-insensitive patterns cannot be gated")
    return tuple(dict.fromkeys(_starts(list(parsed))))


def _starts(items: Sequence[tuple[Any, Any]]) -> list[str]:
    """The literal starts of a parsed pattern (sound: shorter when in doubt)."""
    starts = [""]
    for op, arg in items:
        if op is sre.AT:  # ^ and $ consume nothing
            continue
        if op is sre.LITERAL:
            starts = [start + chr(arg) for start in starts]
            continue
        if op is sre.SUBPATTERN:
            if arg[1] & re.IGNORECASE:
                raise ValueError("case-insensitive groups cannot be gated")
            inner = _starts(arg[3])
        elif op is sre.BRANCH:
            inner = [start for branch in arg[1] for start in _starts(branch)]
        else:
            return starts
        return [start + more for start in starts for more in inner]
    return starts


def register(app: Application, routes: Sequence[Route]) -> None:
    """Add every route's handler to group 0: by tier, and within a tier in the given order."""
    for route in sorted(routes, key=lambda route: route.tier):
        app.add_handler(route.handler)
