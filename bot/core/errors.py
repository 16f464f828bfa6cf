"""The one global error handler: roll back, log without personal data, apologise, tell staff.

It needs no open unit of work: when the database is down the apology still goes out."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import OrderedDict

from markupsafe import Markup
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.account.services import accounts
from bot.core import logs
from bot.core.application import PactContext
from bot.core.i18n import Translator
from bot.core.runtime import current_scope, unit_of_work
from bot.kit import menu

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


STALE_QUERY = ("query is too old", "query id is invalid")
"""Telegram's answer to a second or late answerCallbackQuery (a re-delivered button press)."""
DATABASE_ALERT_SECONDS = 60.0
"""At most one staff alert per this many seconds about the database being unreachable."""
SQLITE_UNAVAILABLE = ("unable to open", "locked", "busy", "disk i/o")
"""SQLite's words for a database file that cannot be used right now (not for a bug)."""
REMEMBERED = 1000
"""Update ids remembered as apologised to, so one failed update gets one apology."""


def database_error(error: BaseException | None) -> bool:
    """Whether the error (or what caused it) is the database being unreachable, timed out, busy
    or gone away, not a bug: the apology then says that this could not be saved right now."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, (OSError, SATimeoutError, InterfaceError)):
            return True  # refused, reset, timed out (connect or statement), pool exhausted
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, sqlite3.OperationalError) and any(
            sign in str(error).lower() for sign in SQLITE_UNAVAILABLE
        ):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def stale_query(error: BaseException | None) -> bool:
    """Whether Telegram refused to answer a button press because it was answered before."""
    return isinstance(error, BadRequest) and any(part in str(error).lower() for part in STALE_QUERY)


async def on_error(update: object, context: PactContext) -> None:
    """Handle any exception raised by a handler, the unit of work around it, or a job.

    Works with or without an open unit of work (the database may be what failed) and stops the
    update's remaining handler groups: their work would be rolled back anyway."""
    error = context.error
    try:
        current_scope().fail()
    except RuntimeError:
        pass
    if not isinstance(update, Update):
        log.warning("error outside an update (%s): %s", describe(update), logs.failure(error))
        return
    if isinstance(error, Forbidden):
        # Only the person's own (private) chat refusing marks them blocked; sends to other chats
        # (the staff group) go through the outbox, which alerts the admins instead.
        if update.effective_chat is not None and update.effective_chat.type == "private":
            await _mark_blocked(update, context)
        log.info("%s: the user blocked the bot", describe(update))
        raise ApplicationHandlerStop
    if stale_query(error):
        # A re-delivered press: its spinner stopped long ago; nothing to apologise for.
        log.info("%s: the button press was already answered", describe(update))
        raise ApplicationHandlerStop
    outage = database_error(error)
    # Never the message or args of the error: they can hold what the person typed.
    log.error("%s failed: %s", describe(update), logs.failure(error))
    if _first_failure(context, update):
        await _stop_spinner(update)
        if update.effective_chat is not None:
            await _apologise(update, context, outage)
        if not outage or _database_alert_due(context):
            await _tell_staff(update, context)
    raise ApplicationHandlerStop


def _first_failure(context: PactContext, update: Update) -> bool:
    """True the first time an update fails (a failed handler, then its failed rollback: once)."""
    failed = context.services.cache.setdefault("apologised_updates", OrderedDict())
    assert isinstance(failed, OrderedDict)
    if update.update_id in failed:
        return False
    failed[update.update_id] = None
    while len(failed) > REMEMBERED:
        failed.popitem(last=False)
    return True


def _database_alert_due(context: PactContext) -> bool:
    """Whether to tell staff about this database failure (not once per update in an outage)."""
    now = time.monotonic()
    last = context.services.cache.get("database_alert_at")
    if isinstance(last, float) and now - last < DATABASE_ALERT_SECONDS:
        return False
    context.services.cache["database_alert_at"] = now
    return True


async def _stop_spinner(update: Update) -> None:
    """Answer the button press, so the person's button stops spinning."""
    if update.callback_query is None:
        return
    try:
        await update.callback_query.answer()
    except TelegramError:
        pass  # the handler had answered it before failing


async def _mark_blocked(update: Update, context: PactContext) -> None:
    """Note the block in a fresh unit of work (the failed one is rolled back)."""
    if update.effective_user is None:
        return
    try:
        async with unit_of_work(context.services) as scope:
            actor = accounts.Actor(update.effective_user.id, context.services.clock.now())
            await accounts.set_blocked(scope.session, actor, True)
    except Exception as error:
        log.warning("%s: the block was not recorded: %s", describe(update), logs.failure(error))


def translator_for(update: Update, context: PactContext) -> Translator:
    """The update's translator: its unit of work's when one is open, else (the database may be
    down) the language chosen in this run, else the one Telegram reports for the person."""
    try:
        return current_scope().translator
    except RuntimeError:
        pass
    user = update.effective_user
    i18n = context.services.i18n
    if user is None:
        return i18n.translator(None)
    chosen = getattr(context.application, "unsaved_languages", {}).get(user.id)
    return i18n.translator(chosen or i18n.locale_for_telegram(user.language_code))


async def _apologise(update: Update, context: PactContext, outage: bool) -> None:
    """A short translated apology with the menu; never a traceback, never a false promise."""
    t = translator_for(update, context)
    assert update.effective_chat is not None
    if outage:
        text = t.gettext(
            "Sorry, we could not save this right now. Please try again in a few minutes."
        )
    else:
        text = t.gettext("Sorry, something went wrong on our side. Please try again.")
    try:
        await context.bot.send_message(
            update.effective_chat.id, text, reply_markup=menu.menu_markup(t)
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
            Markup("⚠️ {} — {}").format(type(context.error).__name__, describe(update)),
        )
    except TelegramError:
        log.warning("could not alert the staff chat")
