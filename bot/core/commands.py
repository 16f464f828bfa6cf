"""The command lists shown in Telegram's menu, per language (setMyCommands)."""

from __future__ import annotations

from telegram import BotCommand, BotCommandScopeDefault
from telegram.ext import ExtBot

from bot.core.i18n import N_, I18n

COMMANDS = (
    ("start", N_("Start or continue")),
    ("menu", N_("Main menu")),
    ("help", N_("Help")),
    ("language", N_("Change language")),
    ("privacy", N_("Your data and consents")),
    ("cancel", N_("Stop what you are doing")),
    ("stop", N_("Stop all campaign messages")),
)


async def register(bot: ExtBot[None], i18n: I18n) -> None:
    """Default list in the default language, plus one list per shipped language code."""
    scope = BotCommandScopeDefault()

    def listing(locale: str) -> list[BotCommand]:
        t = i18n.translator(locale)
        return [BotCommand(name, t.gettext(description)) for name, description in COMMANDS]

    await bot.set_my_commands(listing(i18n.default_locale), scope=scope)
    for locale in ("sq", "en"):
        await bot.set_my_commands(listing(locale), scope=scope, language_code=locale)
