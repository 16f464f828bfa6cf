"""The one gate for staff-only actions: checked once, before any handler runs.

Each staff command and button prefix needs a permission (bot.staff.services.permissions.ALLOWED);
the table is built by `install` from the routes the features declare (bot/core/routing.py), the same
list that is registered, so a staff button cannot be registered without its permission. Anyone
without it is answered as if the action did not exist, and the attempt is logged. Steps inside a
staff conversation (typed text, files, buttons) are checked again on every update by
`guard_staff_flows`, so a grant revoked mid-flow stops the flow at its next step.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    ConversationHandler,
)

from bot.core.application import PactContext
from bot.core.i18n import N_
from bot.core.routing import Route
from bot.kit.answers import stale_button, unknown_command
from bot.staff.services import permissions as staff
from bot.staff.services.permissions import Permission
from db.models import StaffMember

log = logging.getLogger(__name__)

MEMBER = "staff_member"
STAFF_COMMANDS: dict[str, Permission] = {}
"""Staff commands and the permission each needs (built from the routes by `install`)."""
STAFF_BUTTONS: dict[str, Permission] = {}
"""Callback-data prefixes of staff buttons and their permission, longest first."""
STAFF_FLOWS: dict[str, tuple[Permission, str]] = {}
"""Staff conversations: the permission every step needs and the user_data key of its draft."""
NO_LONGER = N_("This action is no longer available to you.")
Step = Callable[[Update, PactContext], Awaitable[Any]]


def install(routes: Sequence[Route]) -> None:
    """Build the gate's tables from the declared routes (the same for every Application).

    Refuses a declaration the gate could not enforce: a staff button without a literal prefix,
    one prefix or command with two permissions, a button for everyone that a staff prefix
    would swallow, a staff conversation without its draft key or with a command inside that no
    route declares (inside a flow only the entry points are gated).
    """
    commands: dict[str, Permission | None] = {}
    buttons: dict[str, Permission | None] = {}
    flows: dict[str, tuple[Permission, str]] = {}
    for route in routes:
        for command in route.commands:
            _claim(commands, f"/{command}", command, route.permission)
        for prefix in route.buttons:
            if route.permission is not None and not prefix:
                raise ValueError(f"{route.handler!r}: a staff button needs a literal prefix")
            _claim(buttons, prefix, prefix, route.permission)
        if route.permission is not None and route.name is not None:
            if not route.draft:
                raise ValueError(f"staff conversation {route.name!r}: name its draft key")
            flows[route.name] = (route.permission, route.draft)
    for route in routes:
        ungated = sorted(command for command in route.exits if command not in commands)
        if route.permission is not None and ungated:
            raise ValueError(f"staff conversation {route.name!r}: /{ungated[0]} is not gated")
    gated = {prefix: p for prefix, p in buttons.items() if p is not None}
    for prefix, permission in buttons.items():
        under = [outer for outer in gated if prefix != outer and prefix.startswith(outer)]
        if permission is None and under:
            raise ValueError(f"button {prefix!r} for everyone lies under staff {under[0]!r}")
    STAFF_COMMANDS.clear()
    STAFF_COMMANDS.update({c: p for c, p in commands.items() if p is not None})
    STAFF_BUTTONS.clear()
    STAFF_BUTTONS.update(sorted(gated.items(), key=lambda item: -len(item[0])))
    STAFF_FLOWS.clear()
    STAFF_FLOWS.update(flows)


def _claim(
    table: dict[str, Permission | None], label: str, key: str, permission: Permission | None
) -> None:
    """Record who may use `key`; the same key declared twice must agree."""
    if key in table and table[key] != permission:
        raise ValueError(f"{label} is declared for both {table[key]} and {permission}")
    table[key] = permission


def required(update: Update) -> tuple[str, Permission] | None:
    """The staff action this update asks for and the permission it needs, if any."""
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        for prefix, permission in STAFF_BUTTONS.items():  # longest first
            if data.startswith(prefix):
                return prefix, permission
        return None
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        words = message.text[1:].split(maxsplit=1)  # "/" alone or "/ x" has no command
        command = words[0].split("@", 1)[0].lower() if words else ""
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


async def refuse_button(update: Update, context: PactContext) -> None:
    """The stale-button answer; in a group only the toast, so nothing is posted for everyone."""
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        await stale_button(update, context)
    elif update.callback_query is not None:
        await update.callback_query.answer(context.t.gettext("This button is no longer active."))


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
        await refuse_button(update, context)
    else:
        await unknown_command(update, context)
    raise ApplicationHandlerStop


def _checked(callback: Step, name: str, permission: Permission, key: str) -> Step:
    """A conversation step that runs only while the member still holds the permission."""

    async def step(update: Update, context: PactContext) -> Any:
        """Re-check the grant in the database; on refusal drop the draft and end the flow."""
        user = update.effective_user
        member = await staff.member(context.scope.session, user.id) if user else None
        if staff.can(member, permission):
            context.scope.extra[MEMBER] = member
            return await callback(update, context)
        log.warning("refused a step of the staff flow %s (needs %s)", name, permission)
        context.user_data.pop(key, None)
        if update.callback_query is not None:
            await update.callback_query.answer()
        chat = update.effective_chat
        if chat is not None:
            await context.bot.send_message(chat.id, context.t.gettext(NO_LONGER))
        return ConversationHandler.END

    step.__doc__ = callback.__doc__
    return step


def guard_staff_flows(app: Application) -> None:
    """Wrap every step of each staff conversation (STAFF_FLOWS) in a fresh permission check.

    Entry points are commands and buttons the gate already checks; the states (and fallbacks
    other than commands) are what the gate cannot recognise (typed text, files), so each of
    their handlers re-checks on every update.
    """
    found = set()
    for handlers in app.handlers.values():
        for handler in handlers:
            if not isinstance(handler, ConversationHandler) or handler.name not in STAFF_FLOWS:
                continue
            permission, key = STAFF_FLOWS[handler.name]
            inside = [inner for steps in handler.states.values() for inner in steps]
            inside += [x for x in handler.fallbacks if not isinstance(x, CommandHandler)]
            for inner in inside:  # the exits (/cancel, /menu) stay as they are
                inner.callback = _checked(inner.callback, handler.name, permission, key)
            found.add(handler.name)
    missing = set(STAFF_FLOWS) - found
    if missing:
        raise RuntimeError(f"staff conversations not registered: {sorted(missing)}")
