"""Several worker processes: memory of drafts and conversation states kept true to the database.

A chat is handled by one worker at a time (bot/core/cluster.py), but a person's drafts
(user_data) are shared by all their chats (a caseworker acts in the staff group and in private),
and a chat taken over from a dead worker has memory of an older time, or none. So, in shared mode
only, each update first loads its person's stored drafts and the stored states of its
conversations, in its own transaction; what is never stored (NOT_STORED keys, memory-only steps,
people who may not be stored) stays as this worker's memory has it. A chat just taken over
starts from the database alone, as after a restart, and its replies left unsent by the dead
worker go out before its next update is handled.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import Application, ConversationHandler

from bot.broadcasting.services import outbox_rows as rows
from bot.core import replies
from bot.core.persistence import (
    CONVERSATION,
    NOT_STORED,
    NOT_STORED_CONVERSATIONS,
    TOUCHED,
    USER_DATA,
    _conversation_key,
    _update_keys,
    may_store,
    user_of_key,
)
from bot.core.runtime import Services, unit_of_work
from bot.core.state_memory import conversation_states
from db.models import BotState, OutboxMessage

log = logging.getLogger(__name__)


async def load(app: Application, session: AsyncSession, update: Update) -> None:
    """Bring the update's person's drafts and conversation states in memory up to the database."""
    user = update.effective_user
    if user is None:
        return
    names = {_conversation_key(name, key): (name, key) for name, key in _update_keys(app, update)}
    query = select(BotState).where(
        or_(
            and_(BotState.kind == USER_DATA, BotState.key == str(user.id)),
            and_(BotState.kind == CONVERSATION, BotState.key.in_(list(names))),
        )
    )
    found = {(row.kind, row.key): row.data for row in (await session.execute(query)).scalars()}
    storable: dict[int, bool] = {}

    async def stored_for(telegram_id: int) -> bool:
        if telegram_id not in storable:
            storable[telegram_id] = await may_store(session, telegram_id)
        return storable[telegram_id]

    memory: dict[int, Any] = app._user_data  # PTB's own dict behind the read-only user_data
    mine = dict(memory.get(user.id) or {})
    row = found.get((USER_DATA, str(user.id)))
    if row is not None or (set(mine) - NOT_STORED - {TOUCHED} and await stored_for(user.id)):
        fresh = dict(row or {})
        fresh.update({key: value for key, value in mine.items() if key in NOT_STORED})
        if fresh:
            memory[user.id] = fresh
        else:
            memory.pop(user.id, None)
    states = conversation_states(app)
    for stored_key, (name, key) in names.items():
        if name in NOT_STORED_CONVERSATIONS or name not in states:
            continue
        data = found.get((CONVERSATION, stored_key))
        table = states[name].data  # not tracked: nothing changed that needs writing
        if data is not None:
            table[key] = data["state"]
        elif key in table and await stored_for(user_of_key(key)):
            del table[key]


def forget_chats(app: Application, chats: Iterable[int]) -> None:
    """Memory of chats just taken over: drafts and states of that chat, as after a restart."""
    memory: dict[int, Any] = app._user_data
    for chat in chats:
        if chat > 0:  # a private chat: its id is the person's
            memory.pop(chat, None)
            getattr(app, "unsaved_languages", {}).pop(chat, None)
        for handlers in app.handlers.values():
            for handler in handlers:
                if isinstance(handler, ConversationHandler):
                    table = getattr(handler._conversations, "data", handler._conversations)
                    for key in [key for key in table if chat in key[:2]]:
                        del table[key]  # not tracked: the stored state is not to be deleted


async def deliver_left_replies(bot: Any, services: Services, chats: Iterable[int]) -> int:
    """Send the replies a dead worker left pending in these chats, oldest first; how many."""
    wanted = list(chats)
    if not wanted or not isinstance(bot, replies.ReplyBot):
        return 0
    async with unit_of_work(services) as scope:
        found = await scope.session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.kind == rows.REPLY,
                OutboxMessage.status == rows.PENDING,
                OutboxMessage.chat_id.in_(wanted),
            )
            .order_by(OutboxMessage.id)
        )
        left = [
            rows.Direct(r.id, r.kind, r.chat_id, r.user_id, dict(r.payload or {}), r.attempts)
            for r in found.scalars()
            if r.chat_id is not None
        ]
    sent = 0
    for row in left:
        sent += await replies.deliver(bot, services, row)
    if left:
        log.info("cluster: %d replies left by a stopped worker sent", len(left))
    return sent
