"""/language and the Language menu item: choose Shqip or English."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.account import menu
from bot.account.fallback import stale_button
from bot.account.services import accounts
from bot.core import routing
from bot.core.application import PactContext
from bot.core.settings import SUPPORTED_LOCALES
from bot.kit.codec import ButtonCodec
from bot.kit.ui import answer, edit_or_send, keyboard, send

CHOICE = ButtonCodec("lang:", SUPPORTED_LOCALES)
NAMES = {"sq": "🇦🇱 Shqip", "en": "🇬🇧 English"}


def _choices():
    """One button per shipped language, labelled in that language."""
    return keyboard([(NAMES[code], CHOICE.data(code)) for code in SUPPORTED_LOCALES])


async def language_command(update: Update, context: PactContext) -> None:
    """/language."""
    await send(update, context, context.t.gettext("Choose your language:"), _choices())


async def language_button(update: Update, context: PactContext) -> None:
    """Language from the menu."""
    await answer(update)
    await edit_or_send(update, context, context.t.gettext("Choose your language:"), _choices())


async def choose(update: Update, context: PactContext) -> None:
    """Store the choice (in the row if we keep one, else only in memory) and confirm."""
    query = await answer(update)
    code = CHOICE.parse(query.data)
    if code is None:
        await stale_button(update, context)
        return
    context.remember_language(update, code)
    await accounts.set_language(context.scope.session, context.actor(update), code)
    t = context.use_locale(code)
    await edit_or_send(update, context, t.gettext("Language set to English."))
    await menu.show_menu(update, context)


def routes() -> list[routing.Route]:
    """/language, the Language menu item and the choice."""
    return routing.citizen(
        CommandHandler("language", language_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(language_button, pattern=f"^{menu.LANGUAGE}$"),
        CallbackQueryHandler(choose, pattern=CHOICE.pattern),
    )
