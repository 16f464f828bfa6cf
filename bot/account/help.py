"""/help and the Help menu item."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.account import menu
from bot.account.texts import help_text
from bot.core import routing
from bot.core.access import STAFF_COMMANDS
from bot.core.application import PactContext
from bot.core.i18n import N_
from bot.kit.ui import answer, edit_or_send, keyboard, send
from bot.staff.services import permissions as staff

STAFF_HELP = {
    "authority": N_("correct a contact in the directory"),
    "import_authorities": N_("import the directory from CSV"),
    "closed_day": N_("add an official day off"),
    "staff": N_("staff roles and permissions"),
    "templates": N_("reply templates"),
    "scorecard": N_("a municipality's monthly scorecard"),
    "broadcast": N_("write a campaign message"),
    "broadcasts": N_("waiting, repeating and running broadcasts"),
    "poll": N_("create a poll"),
    "polls": N_("polls and their results"),
    "event": N_("create an event"),
    "events": N_("events and who attends"),
    "initiatives": N_("funded initiatives on the public page"),
    "inbox": N_("cases to work on"),
    "stats": N_("statistics with charts"),
    "export": N_("cases as a CSV file"),
    "reportcards": N_("citizen report card rounds"),
    "rcresults": N_("report card results, files and publishing"),
}
"""Every staff command, in the order /help lists them (the gate says who may use which)."""


async def _text(update: Update, context: PactContext) -> str:
    """The help, plus the staff commands this person may use."""
    t = context.t
    text = help_text(t) + "\n" + t.gettext("/mydata – everything we hold about you, as a file")
    if update.effective_user is None:
        return text
    member = await staff.member(context.scope.session, update.effective_user.id)
    allowed = [
        f"/{name} – {t.gettext(description)}"
        for name, description in STAFF_HELP.items()
        if name in STAFF_COMMANDS and staff.can(member, STAFF_COMMANDS[name])
    ]
    if allowed:
        text += "\n\n" + t.gettext("<b>Staff commands</b>") + "\n" + "\n".join(allowed)
    return text


async def help_command(update: Update, context: PactContext) -> None:
    """/help."""
    await send(
        update, context, await _text(update, context), keyboard([menu.menu_button(context.t)])
    )


async def help_button(update: Update, context: PactContext) -> None:
    """Help from the menu."""
    await answer(update)
    await edit_or_send(
        update, context, await _text(update, context), keyboard([menu.menu_button(context.t)])
    )


def routes() -> list[routing.Route]:
    """/help and the Help menu item."""
    return routing.citizen(
        CommandHandler("help", help_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(help_button, pattern=f"^{menu.HELP}$"),
    )
