"""Answers every feature gives the same way: a stale button, an unknown command, /cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import ConversationHandler

from bot.core.application import PactContext
from bot.core.i18n import Translator
from bot.core.persistence import TOUCHED
from bot.kit import after_consent
from bot.kit.menu import show_menu
from bot.kit.ui import send

DISCARDED: dict[str, Callable[[Translator], str]] = {}
"""What /cancel says it discarded, by user_data key ("Your draft report was discarded.");
each wizard registers its own (Wizard.discarded)."""
DISCARDED_BY_CONTENT: dict[str, Callable[[Translator, Any], str]] = {}
"""Like DISCARDED, for a draft whose wording depends on what it holds (a staff draft is a reply,
a note or a status note); given the user_data value."""


async def stale_button(update: Update, context: PactContext) -> None:
    """A button from an old message whose action no longer exists or no longer applies."""
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(context.t.gettext("This button is no longer active."))
        except BadRequest:
            pass  # the handler had already answered this query before finding it stale
    chat = update.effective_chat
    if chat is not None and chat.type != chat.PRIVATE:
        return  # a group (the staff group) does not get the menu for one member's old button
    await send(
        update,
        context,
        context.t.gettext("That button is no longer active. Here is the menu."),
    )
    await show_menu(update, context)


async def unknown_command(update: Update, context: PactContext) -> None:
    """A command we do not have."""
    await send(update, context, context.t.gettext("I don't know that command."))
    await show_menu(update, context)


def drop_drafts(context: PactContext) -> bool:
    """Forget unconfirmed answers kept for the current flow; True if there were any."""
    had = bool(context.user_data)
    context.user_data.clear()
    return had


def discarded_text(t: Translator, keys: list[str], drafts: dict[str, Any] | None = None) -> str:
    """What was discarded: one line per known draft, else a general line; "" for nothing."""
    drafts = drafts or {}
    lines = [
        DISCARDED_BY_CONTENT[key](t, drafts.get(key))
        if key in DISCARDED_BY_CONTENT
        else DISCARDED[key](t)
        for key in keys
        if key in DISCARDED or key in DISCARDED_BY_CONTENT
    ]
    if not lines and keys:
        lines.append(t.gettext("Cancelled. Your unfinished answers were discarded."))
    return "\n".join(lines)


async def cancel(update: Update, context: PactContext) -> int:
    """/cancel: also the fallback of every conversation, so it ends them too.

    Says which drafts were discarded, and closes a reply keyboard a step may have opened."""
    keys = [str(key) for key in context.user_data if key not in (TOUCHED, after_consent.KEY)]
    drafts = {key: context.user_data.get(key) for key in keys}
    drop_drafts(context)
    t = context.t
    text = discarded_text(t, keys, drafts) or t.gettext("There is nothing to cancel.")
    await send(update, context, text, ReplyKeyboardRemove())
    await show_menu(update, context)
    return ConversationHandler.END
