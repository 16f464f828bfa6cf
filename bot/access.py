"""The one gate for staff-only actions: checked once, before any handler runs.

Each staff command and button prefix needs a permission (bot.services.staff.ALLOWED). Anyone
without it is answered as if the action did not exist, and the attempt is logged.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.application import PactContext
from bot.handlers.fallback import stale_button, unknown_command
from bot.services import staff
from bot.services.staff import Permission
from db.models import StaffMember

log = logging.getLogger(__name__)

STAFF_COMMANDS = {
    "authority": Permission.ADMIN,
    "import_authorities": Permission.ADMIN,
    "closed_day": Permission.ADMIN,
    "staff": Permission.ADMIN,
    "templates": Permission.ADMIN,
    "scorecard": Permission.ADMIN,
    "broadcast": Permission.BROADCAST,
    "broadcasts": Permission.BROADCAST,
    "poll": Permission.BROADCAST,
    "polls": Permission.BROADCAST,
    "event": Permission.BROADCAST,
    "events": Permission.BROADCAST,
    "inbox": Permission.CASES,
    "stats": Permission.STATS,
    "export": Permission.EXPORT,
}
STAFF_BUTTONS = {
    "adm:bc:": Permission.BROADCAST,
    "sb:": Permission.BROADCAST,
    "adm:": Permission.ADMIN,
    "stf:": Permission.CASES,
    "ex:": Permission.EXPORT,
    "vw:": Permission.STATS,
}
MEMBER = "staff_member"


def required(update: Update) -> tuple[str, Permission] | None:
    """The staff action this update asks for and the permission it needs, if any."""
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        for prefix, permission in STAFF_BUTTONS.items():
            if data.startswith(prefix):
                return prefix, permission
        return None
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        command = message.text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
        if command in STAFF_COMMANDS:
            return f"/{command}", STAFF_COMMANDS[command]
    return None


def current_member(context: PactContext) -> StaffMember | None:
    """The staff grant the gate found for this update (None outside staff actions)."""
    return context.scope.extra.get(MEMBER)  # type: ignore[return-value]


async def acting_user_id(update: Update, context: PactContext) -> int | None:
    """The acting staff member's user id: the gate's finding, or a look-up inside a flow."""
    member = current_member(context)
    if member is None and update.effective_user is not None:
        member = await staff.member(context.scope.session, update.effective_user.id)
    return member.user_id if member else None


async def gate(update: object, context: PactContext) -> None:
    """Let permitted staff through; answer anyone else as if the action did not exist."""
    if not isinstance(update, Update) or update.effective_user is None:
        return
    need = required(update)
    if need is None:
        return
    action, permission = need
    member = await staff.member(context.scope.session, update.effective_user.id)
    if staff.can(member, permission):
        context.scope.extra[MEMBER] = member
        return
    log.warning("refused staff action %s (needs %s)", action, permission)
    if update.callback_query is not None:
        await stale_button(update, context)
    else:
        await unknown_command(update, context)
    raise ApplicationHandlerStop
