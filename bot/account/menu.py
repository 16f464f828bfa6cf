"""/menu and the Menu button (the menu itself is bot/kit/menu.py, shared by every feature)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.account.services.consent import is_minor
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
from bot.kit.ui import answer, edit_or_send, keyboard, send
from bot.reportcards import survey
from bot.reportcards.services import responses


async def _show(update: Update, context: PactContext, *, edit: bool = False) -> None:
    """The menu, with an entry for each report card open today (not for under-16s)."""
    rounds = []
    if not is_minor(context.user_row):
        services = context.services
        today = responses.local_today(services.clock.now(), services.settings.tz)
        rounds = await responses.open_rounds(context.scope.session, today)
    if not rounds:
        await show_menu(update, context, edit=edit)
        return
    t = context.t
    text = t.gettext("<b>Main menu</b>\nWhat would you like to do?")
    markup = InlineKeyboardMarkup(
        [
            *keyboard(*survey.menu_rows(context, rounds)).inline_keyboard,
            *menu_markup(t).inline_keyboard,
        ]
    )
    await (edit_or_send if edit else send)(update, context, text, markup)


async def menu_command(update: Update, context: PactContext) -> None:
    """/menu."""
    await _show(update, context)


async def menu_open(update: Update, context: PactContext) -> None:
    """The "Menu" button under other messages."""
    await answer(update)
    await _show(update, context, edit=True)


def routes() -> list[routing.Route]:
    """/menu and the button back to it (each item is answered by its own module)."""
    return routing.citizen(
        CommandHandler("menu", menu_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(menu_open, pattern=f"^{OPEN}$"),
    )
