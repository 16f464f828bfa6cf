"""The one global error handler: roll back, log without personal data, apologise, tell staff."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot import logs
from bot.application import PactContext
from bot.handlers import menu
from bot.runtime import current_scope, unit_of_work
from bot.services import accounts

log = logging.getLogger("bot.errors")


def describe(update: object) -> str:
    """What kind of update failed, without any of its content."""
    if not isinstance(update, Update):
        return type(update).__name__
    kinds = [
        name
        for name in ("message", "callback_query", "my_chat_member", "edited_message")
        if getattr(update, name) is not None
    ]
    chat = update.effective_chat.type if update.effective_chat else "none"
    return f"update {update.update_id} ({'/'.join(kinds) or 'other'}, chat type {chat})"


async def on_error(update: object, context: PactContext) -> None:
    """Handle any exception raised by a handler or job."""
    error = context.error
    try:
        current_scope().fail()
    except RuntimeError:
        pass
    if not isinstance(update, Update):
        log.warning("error outside an update (%s): %s", describe(update), logs.failure(error))
        return
    if isinstance(error, Forbidden):
        await _mark_blocked(update, context)
        log.info("%s: the user blocked the bot", describe(update))
        return
    # Never the message or args of the error: they can hold what the person typed.
    log.error("%s failed: %s", describe(update), logs.failure(error))
    if update.effective_chat is not None:
        await _apologise(update, context)
    await _tell_staff(update, context)


async def _mark_blocked(update: Update, context: PactContext) -> None:
    """Note the block in a fresh unit of work (the failed one is rolled back)."""
    if update.effective_user is None:
        return
    async with unit_of_work(context.services) as scope:
        actor = accounts.Actor(update.effective_user.id, context.services.clock.now())
        await accounts.set_blocked(scope.session, actor, True)


async def _apologise(update: Update, context: PactContext) -> None:
    """A short translated apology with the menu; never a traceback."""
    t = context.t
    assert update.effective_chat is not None
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            t.gettext(
                "Sorry, something went wrong on our side. What you had already sent is kept. "
                "Please try again."
            ),
            reply_markup=menu.menu_markup(t),
        )
    except TelegramError:
        log.warning("%s: could not send the apology", describe(update))


async def _tell_staff(update: Update, context: PactContext) -> None:
    """A one-line alert to the staff chat, when one is configured."""
    chat_id = context.services.settings.staff_chat_id
    if chat_id is None:
        return
    try:
        await context.bot.send_message(
            chat_id,
            f"⚠️ {html.escape(type(context.error).__name__)} — {html.escape(describe(update))}",
        )
    except TelegramError:
        log.warning("could not alert the staff chat")
