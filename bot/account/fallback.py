"""Answers for anything no other handler took: unknown commands, stray messages, stale buttons."""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.account import menu
from bot.core import routing
from bot.core.application import PactContext
from bot.kit.ui import send


async def unknown_command(update: Update, context: PactContext) -> None:
    """A command we do not have."""
    await send(update, context, context.t.gettext("I don't know that command."))
    await menu.show_menu(update, context)


async def unexpected_message(update: Update, context: PactContext) -> None:
    """Text, a sticker, a voice note, a photo… sent outside any step that asked for it."""
    await send(
        update,
        context,
        context.t.gettext("I can't use this message here. Please choose from the menu."),
    )
    await menu.show_menu(update, context)


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
    await menu.show_menu(update, context)


def routes() -> list[routing.Route]:
    """The catch-alls, registered last: unknown commands, stray messages, stale buttons."""
    private = filters.ChatType.PRIVATE
    return routing.citizen(
        MessageHandler(private & filters.COMMAND, unknown_command),
        MessageHandler(private & ~filters.StatusUpdate.ALL, unexpected_message),
        CallbackQueryHandler(stale_button),
    )
