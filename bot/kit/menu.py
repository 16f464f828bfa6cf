"""The main menu as buttons, and showing it: every feature's way back, so it lives in the kit.

bot/account/menu.py answers /menu and the Menu button with it.
"""

from __future__ import annotations

from telegram import Update

from bot.core.application import PactContext
from bot.core.i18n import N_, Translator
from bot.kit.ui import edit_or_send, keyboard, send

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
