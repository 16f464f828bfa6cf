"""`/start crc_<round>` before onboarding's /start, so the link opens the survey after /start left
another flow (bot/kit/flow.py answers /start with the first /start command route it finds)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ConversationHandler, filters

from bot.core import routing
from bot.core.application import PactContext
from bot.reportcards import survey


async def link(update: Update, context: PactContext) -> None:
    """Hand the link to the survey's conversation, which then holds the person's step."""
    for handler in context.application.handlers.get(0, ()):
        if isinstance(handler, ConversationHandler) and handler.name == survey.WIZARD.name:
            found = handler.check_update(update)
            if found is not None and found is not False:
                await handler.handle_update(update, context.application, found, context)
            return


def routes() -> list[routing.Route]:
    """Only `/start crc_<round>` in a private chat; any other /start is onboarding's."""
    private = filters.ChatType.PRIVATE
    return routing.citizen(
        CommandHandler("start", link, filters=private & filters.Regex(survey.DEEP_LINK))
    )
