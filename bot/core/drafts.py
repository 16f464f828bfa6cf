"""Abandoned drafts expire: each person's drafts carry when they last did something.

``stamp`` runs after every other handler (the last group) and sets ``user_data[TOUCHED]`` while
the person holds a draft, removing it when they hold none (so an empty user_data stays empty).
``expire_stale`` runs first (group -2, before the staff gate): when someone comes back more than
DRAFT_EXPIRY_DAYS after their last step with an unfinished draft (a report, an RTI request, any
flow), the draft and their open conversations are dropped (in memory and in the table, also the
conversations of other chats, which are read into memory only when used) and they are told so
plainly; the update then goes on as usual. The daily purge
(``purge``, run by bot/core/jobs.py) does the same for people who never come back: in memory and in
the ``bot_state`` table.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from telegram import Update

from bot.core import state_memory
from bot.core.application import PactApplication, PactContext
from bot.core.persistence import TOUCHED, DbPersistence, forget


def is_stale(data: dict[Any, Any], now: datetime, days: int) -> bool:
    """A draft with content whose last step is more than `days` days old."""
    raw = data.get(TOUCHED)
    if not raw or not set(data) - {TOUCHED}:
        return False
    return datetime.fromisoformat(raw) < now - timedelta(days=days)


async def expire_stale(update: Update, context: PactContext) -> None:
    """Before anything else: drop a stale draft and its conversations, and say so."""
    user = update.effective_user
    if user is None or context.user_data is None:
        return
    now = context.services.clock.now()
    days = context.services.settings.draft_expiry_days
    if is_stale(context.user_data, now, days):
        context.user_data.clear()
        state_memory.end_conversations(context.application, user.id)
        await forget(context.scope.session, user.id)  # also those in chats not read into memory
        chat = update.effective_chat
        if chat is not None and chat.type == chat.PRIVATE:
            await context.bot.send_message(
                chat.id,
                context.t.ngettext(
                    "Your unfinished draft was discarded: it was left untouched for more than "
                    "{count} day.",
                    "Your unfinished draft was discarded: it was left untouched for more than "
                    "{count} days.",
                    days,
                ),
            )


async def stamp(update: Update, context: PactContext) -> None:
    """After everything else: record this moment as the last step of a draft, if one is held."""
    data = context.user_data if update.effective_user is not None else None
    if data is None:
        return
    if set(data) - {TOUCHED}:
        data[TOUCHED] = context.services.clock.now().isoformat()
    else:
        data.pop(TOUCHED, None)


async def purge(app: PactApplication) -> int:
    """Drop every stale draft, in memory and in storage; how many people's drafts went."""
    now = app.services.clock.now()
    days = app.services.settings.draft_expiry_days
    stale = [uid for uid, data in app.user_data.items() if is_stale(data, now, days)]
    for user_id in stale:
        state_memory.end_conversations(app, user_id)
        app.drop_user_data(user_id)
    stored = 0
    if isinstance(app.persistence, DbPersistence):
        await app.update_persistence()
        stored = await app.persistence.purge_stale(now - timedelta(days=days))
    return len(stale) + stored
