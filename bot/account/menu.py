"""The main menu (/menu and its buttons); items of later issues answer that they are coming."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator
from bot.kit.ui import answer, edit_or_send, keyboard, send

PREFIX = "menu:"
OPEN = "menu:open"
RTI, SERVICE, CORRUPTION, CASES, CAMPAIGNS = (
    "menu:rti",
    "menu:service",
    "menu:corruption",
    "menu:cases",
    "menu:campaigns",
)
HELP, LANGUAGE, PRIVACY = "menu:help", "menu:language", "menu:privacy"

ITEMS = (
    ((N_("⚖️ Right to information"), RTI),),
    ((N_("🛠 Report a service problem"), SERVICE),),
    ((N_("🚨 Report corruption"), CORRUPTION),),
    ((N_("📂 My cases"), CASES), (N_("📣 Campaigns & events"), CAMPAIGNS)),
    ((N_("❓ Help"), HELP), (N_("🌐 Language"), LANGUAGE), (N_("🔒 Privacy"), PRIVACY)),
)


def menu_markup(t: Translator):
    """The menu as buttons in the user's language."""
    return keyboard(*[[(t.gettext(label), data) for label, data in row] for row in ITEMS])


def menu_button(t: Translator) -> tuple[str, str]:
    """A single "Menu" button to put under any message."""
    return (t.gettext("☰ Menu"), OPEN)


async def show_menu(update: Update, context: PactContext, *, edit: bool = False) -> None:
    """Show the menu, replacing the pressed message when asked to."""
    text = context.t.gettext("<b>Main menu</b>\nWhat would you like to do?")
    if edit:
        await edit_or_send(update, context, text, menu_markup(context.t))
    else:
        await send(update, context, text, menu_markup(context.t))


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
