"""The one gate for staff-only actions: checked once, before any handler runs."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.application import PactContext
from bot.handlers.fallback import stale_button, unknown_command
from bot.settings import Settings

log = logging.getLogger(__name__)

STAFF_COMMANDS = frozenset({"authority", "import_authorities", "closed_day"})
STAFF_CALLBACK_PREFIX = "adm:"


def is_admin(settings: Settings, telegram_id: int | None) -> bool:
    """Administrators are bootstrapped from ADMIN_IDS (staff roles come with the staff issue)."""
    return telegram_id is not None and telegram_id in settings.admin_ids


def staff_action(update: Update) -> str | None:
    """The staff command or button this update asks for, if any."""
    message = update.effective_message
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return data if data.startswith(STAFF_CALLBACK_PREFIX) else None
    if message is not None and message.text and message.text.startswith("/"):
        command = message.text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
        return f"/{command}" if command in STAFF_COMMANDS else None
    return None


async def gate(update: object, context: PactContext) -> None:
    """Let staff through; answer anyone else as if the action did not exist, and log it."""
    if not isinstance(update, Update):
        return
    action = staff_action(update)
    if action is None:
        return
    user = update.effective_user
    if is_admin(context.services.settings, user.id if user else None):
        return
    log.warning("refused staff action %s from a non-staff user", action.split(":")[0])
    if update.callback_query is not None:
        await stale_button(update, context)
    else:
        await unknown_command(update, context)
    raise ApplicationHandlerStop
