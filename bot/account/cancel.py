"""/cancel: leave any flow and drop whatever it held that the user did not confirm."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ConversationHandler, filters

from bot.account import menu
from bot.core import routing
from bot.core.application import PactContext
from bot.kit.ui import send


def drop_drafts(context: PactContext) -> bool:
    """Forget unconfirmed answers kept for the current flow; True if there were any."""
    had = bool(context.user_data)
    context.user_data.clear()
    return had


async def cancel(update: Update, context: PactContext) -> int:
    """Also the fallback of every conversation, so it ends them too."""
    had = drop_drafts(context)
    t = context.t
    await send(
        update,
        context,
        t.gettext("Cancelled. Nothing from that step was saved.")
        if had
        else t.gettext("There is nothing to cancel."),
    )
    await menu.show_menu(update, context)
    return ConversationHandler.END


def routes() -> list[routing.Route]:
    """/cancel outside any flow (each flow has its own)."""
    return routing.citizen(CommandHandler("cancel", cancel, filters=filters.ChatType.PRIVATE))
