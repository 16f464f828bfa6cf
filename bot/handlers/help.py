"""/help and the Help menu item."""

from __future__ import annotations

from telegram import Update

from bot.application import PactContext
from bot.handlers import menu
from bot.handlers.texts import help_text
from bot.ui import answer, edit_or_send, keyboard, send


async def help_command(update: Update, context: PactContext) -> None:
    """/help."""
    await send(update, context, help_text(context.t), keyboard([menu.menu_button(context.t)]))


async def help_button(update: Update, context: PactContext) -> None:
    """Help from the menu."""
    await answer(update)
    await edit_or_send(
        update, context, help_text(context.t), keyboard([menu.menu_button(context.t)])
    )
