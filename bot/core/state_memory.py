"""The running Application's memory of bot_state rows: forget a person, or rows just pruned.

PTB keeps user_data, chat_data and conversation states in memory and writes them back to the
database (bot/core/persistence.py); deleting the rows alone would let the next write restore them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from telegram.ext import Application, ConversationHandler

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
