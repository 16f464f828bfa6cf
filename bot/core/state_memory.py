"""The running Application's memory of bot_state rows: forget a person, or rows just pruned.

PTB keeps user_data, chat_data and conversation states in memory and writes them back to the
database (bot/core/persistence.py); deleting the rows alone would let the next write restore them.
Only the people who were active lately are in memory (``Residents``): a person's rows are read
when their update arrives, and the least recently active are dropped from memory again, so memory
does not grow with the number of people who ever used the bot.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application, ConversationHandler
from telegram.ext._utils.types import ConversationKey

from db.repositories.bot_state import CONVERSATION, USER_DATA


def conversation_states(app: Application) -> dict[str, dict]:
    """The persistent conversation handlers' state dicts by name (PTB's own registry of them)."""
    return getattr(app, "_conversation_handler_conversations", {})


def end_conversations(app: Application, telegram_id: int) -> None:
    """End every conversation the person is in, persistent or not, so no step runs on lost data."""
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, ConversationHandler):
                # PTB has no public API to end a conversation from outside; its states live here.
                states = handler._conversations
                for key in [key for key in states if telegram_id in key[:2]]:
                    del states[key]


def forget_person(app: Application, telegram_id: int) -> None:
    """Drop a person's user data, private chat data and every conversation state holding the id."""
    if telegram_id in app.user_data:
        app.drop_user_data(telegram_id)
    if telegram_id in app.chat_data:
        app.drop_chat_data(telegram_id)
    end_conversations(app, telegram_id)
    unsaved = getattr(app, "unsaved_languages", None)
    if unsaved is not None:
        unsaved.pop(telegram_id, None)


def conversations_of(app: Application, telegram_id: int) -> list[str]:
    """Names of the conversations the person is in now (for their data download)."""
    return [
        name
        for name, states in conversation_states(app).items()
        if any(telegram_id in key[:2] for key in states)
    ]


def forget_rows(app: Application, rows: Iterable[tuple[str, str]]) -> None:
    """Drop the in-memory copies of pruned rows given as (kind, key)."""
    conversations = conversation_states(app)
    for kind, key in rows:
        if kind == USER_DATA and key.lstrip("-").isdigit() and int(key) in app.user_data:
            app.drop_user_data(int(key))
        elif kind == CONVERSATION and ":" in key:
            name, raw = key.split(":", 1)
            states = conversations.get(name)
            conversation_key = tuple(json.loads(raw))
            if states is not None and conversation_key in states:
                del states[conversation_key]


KEPT_PEOPLE = 10_000
"""How many recently active people's drafts and states stay in memory at most."""
EVICTION_TRIES = 8
"""How many of the oldest people one eviction looks at before giving up for now."""


class Residents:
    """Whose drafts and conversation states are in memory, the least recently active first.

    A person is loaded from the table once (bot/core/persistence.py load_update_state) and stays
    while they are among the `limit` most recently active. Dropping someone from memory loses
    nothing: every step is committed with its update. Never dropped: a person with an update in
    progress, and one whose memory holds what the table does not (no consent, or a step that is
    never written, see NOT_STORED in bot/core/persistence.py) while it holds anything at all.
    """

    def __init__(self, limit: int = KEPT_PEOPLE) -> None:
        self.limit = limit
        self._keys: OrderedDict[int, set[ConversationKey]] = OrderedDict()
        """Person → the conversation keys read for them (each for every conversation name)."""
        self._busy: dict[int, int] = {}
        """Update id → person, for the updates in progress."""
        self.memory_only: set[int] = set()
        """People whose memory may hold what the table does not (set after each of their steps)."""
        self._locks: dict[int, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def loading(self, user_id: int) -> AsyncIterator[None]:
        """One load of a person at a time (their updates in two chats may run together)."""
        lock, users = self._locks.setdefault(user_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[user_id]

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._keys

    def missing(
        self, user_id: int, keys: Iterable[tuple[str, ConversationKey]]
    ) -> list[tuple[str, ConversationKey]]:
        """The (name, key) pairs of a person not read yet (all of them if not loaded)."""
        known = self._keys.get(user_id, set())
        return [(name, key) for name, key in keys if key not in known]

    def enter(
        self, app: Application, update_id: int, user_id: int, keys: Iterable[tuple[str, Any]]
    ) -> None:
        """A person's update starts: they are the most recently active; the oldest may go."""
        self._keys.setdefault(user_id, set()).update(key for _name, key in keys)
        self._keys.move_to_end(user_id)
        self._busy[update_id] = user_id
        self.evict(app)

    def finished(self, update_id: int) -> None:
        """An update ended (handled, failed or skipped)."""
        self._busy.pop(update_id, None)

    def evict(self, app: Application) -> None:
        """Drop the least recently active people from memory while there are too many."""
        if len(self._keys) <= self.limit:
            return
        busy = set(self._busy.values())
        for _ in range(EVICTION_TRIES):
            if len(self._keys) <= self.limit:
                return
            user_id, keys = self._keys.popitem(last=False)
            if user_id in busy or (user_id in self.memory_only and self._holds(app, user_id, keys)):
                self._keys[user_id] = keys  # kept, checked again later
                continue
            self.memory_only.discard(user_id)
            app._user_data.pop(user_id, None)  # no write: the table already has it
            for memory in conversation_states(app).values():
                for key in keys:
                    memory.data.pop(key, None)  # untracked: nothing to write

    @staticmethod
    def _holds(app: Application, user_id: int, keys: Iterable[ConversationKey]) -> bool:
        """Whether memory has any draft or conversation state of the person."""
        if app.user_data.get(user_id):
            return True
        return any(key in memory for memory in conversation_states(app).values() for key in keys)
