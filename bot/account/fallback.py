"""Answers for anything no other handler took: unknown commands, stray messages, stale buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.account import menu
from bot.core import routing
from bot.core.application import PactContext
from bot.kit.answers import stale_button, unknown_command
from bot.kit.ui import send


async def unexpected_message(update: Update, context: PactContext) -> None:
    """Text, a sticker, a voice note, a photo… sent outside any step that asked for it."""
    await send(
        update,
        context,
        context.t.gettext("I can't use this message here. Please choose from the menu."),
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
