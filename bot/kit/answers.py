"""Answers every feature gives the same way: a stale button, an unknown command, /cancel."""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ConversationHandler

from bot.core.application import PactContext
from bot.kit.menu import show_menu
from bot.kit.ui import send


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


async def cancel(update: Update, context: PactContext) -> int:
    """/cancel: also the fallback of every conversation, so it ends them too."""
    had = drop_drafts(context)
    t = context.t
    await send(
        update,
        context,
        t.gettext("Cancelled. Nothing from that step was saved.")
        if had
        else t.gettext("There is nothing to cancel."),
    )
    await show_menu(update, context)
    return ConversationHandler.END
