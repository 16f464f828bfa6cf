"""What every conversation shares: the Cancel button, and /cancel, /menu, /start as ways out."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler

from bot.application import PactContext
from bot.handlers import cancel as cancel_handlers
from bot.handlers import menu, onboarding
from bot.ui import answer, close_buttons


async def cancel_button(update: Update, context: PactContext) -> int:
    """The Cancel button: same as /cancel (drops the draft)."""
    await answer(update)
    await close_buttons(update)
    return await cancel_handlers.cancel(update, context)


async def leave_to_menu(update: Update, context: PactContext) -> int:
    """/menu inside a flow: leave, keep the draft for later."""
    await menu.show_menu(update, context)
    return ConversationHandler.END


async def leave_to_start(update: Update, context: PactContext) -> int:
    """/start inside a flow: leave, keep the draft for later."""
    await onboarding.start(update, context)
    return ConversationHandler.END


def exits() -> list[BaseHandler]:
    """The fallbacks of every conversation."""
    return [
        CommandHandler("cancel", cancel_handlers.cancel),
        CommandHandler("menu", leave_to_menu),
        CommandHandler("start", leave_to_start),
    ]
