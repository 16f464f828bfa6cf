"""/menu and the Menu button (the menu itself is bot/kit/menu.py, shared by every feature)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core import routing
from bot.core.application import PactContext
from bot.kit.menu import (  # noqa: F401 (re-exported until every feature imports bot.kit.menu)
    CAMPAIGNS,
    CASES,
    CORRUPTION,
    HELP,
    ITEMS,
    LANGUAGE,
    OPEN,
    PRIVACY,
    RTI,
    SERVICE,
    menu_button,
    menu_markup,
    show_menu,
)
from bot.kit.ui import answer


async def menu_command(update: Update, context: PactContext) -> None:
    """/menu."""
    await show_menu(update, context)


async def menu_open(update: Update, context: PactContext) -> None:
    """The "Menu" button under other messages."""
    await answer(update)
    await show_menu(update, context, edit=True)


def routes() -> list[routing.Route]:
    """/menu and the button back to it (each item is answered by its own module)."""
    return routing.citizen(
        CommandHandler("menu", menu_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(menu_open, pattern=f"^{OPEN}$"),
    )
