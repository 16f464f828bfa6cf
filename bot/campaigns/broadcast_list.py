"""/broadcasts (staff with the broadcast permission): what is waiting, repeating, running, done.

Waiting or repeating broadcasts can be stopped here (after a confirmation); running ones are
paused, resumed or cancelled from their progress message.
"""

from __future__ import annotations

from markupsafe import Markup
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.broadcasting.sender import plain_title
from bot.campaigns.services import schedule as broadcast_schedule
from bot.campaigns.services.recurrence import Recurrence
from bot.core import routing
from bot.core.access import current_member
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator, join_lines, shorten
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, answer, edit_or_send, keyboard
from bot.staff.services.permissions import Permission
from db.models import Broadcast, BroadcastStatus

P = "sb:list:"
LIST, STOP, STOP_SURE = f"{P}all", ButtonCodec(f"{P}stop:", int), ButtonCodec(f"{P}sure:", int)
STATUS = {
    BroadcastStatus.SCHEDULED: N_("🕒 scheduled"),
    BroadcastStatus.RECURRING: N_("🔁 repeating"),
    BroadcastStatus.SENDING: N_("📤 sending"),
    BroadcastStatus.PAUSED: N_("⏸ paused"),
    BroadcastStatus.CANCELLED: N_("✖️ cancelled"),
    BroadcastStatus.DONE: N_("✅ done"),
}


def _line(t: Translator, broadcast: Broadcast) -> Markup:
    """One broadcast: number, status, moment, title."""
    when = t.datetime(broadcast.send_at)
    if broadcast.recurrence == Recurrence.WEEKLY:
        when = t.gettext("weekly, next {time}", time=when)
    elif broadcast.recurrence == Recurrence.MONTHLY:
        when = t.gettext("monthly, next {time}", time=when)
    status = t.gettext(STATUS[BroadcastStatus(broadcast.status)])
    return Markup("#{} · {} · {}\n   {}").format(
        broadcast.id, status, when, shorten(plain_title(broadcast.title), 50)
    )


async def _render(update: Update, context: PactContext, note: str = "") -> None:
    """The list, with a Stop button for each waiting or repeating broadcast."""
    t = context.t
    session = context.scope.session
    active = await broadcast_schedule.active(session)
    recent = await broadcast_schedule.recent(session)
    lines = [note] if note else []
    lines.append(t.gettext("<b>Broadcasts</b>"))
    lines += [_line(t, b) for b in active] or [t.gettext("Nothing waiting or running.")]
    if recent:
        lines.append(t.gettext("<b>Recently finished</b>"))
        lines += [
            _line(t, b) + "\n   " + t.gettext("sent {sent}, failed {failed}", sent=s, failed=f)
            for b, s, f in recent
        ]
    rows: list[list[Button]] = [
        [(t.gettext("✖️ Stop #{number}", number=b.id), STOP.data(b.id))]
        for b in active
        if b.status in broadcast_schedule.WAITING
    ]
    await edit_or_send(update, context, join_lines(lines), keyboard(*rows) if rows else None)


async def list_command(update: Update, context: PactContext) -> None:
    """/broadcasts."""
    await _render(update, context)


async def ask_stop(update: Update, context: PactContext) -> None:
    """Confirm before stopping."""
    query = await answer(update)
    number = STOP.parse(query.data)
    if number is None:
        await stale_button(update, context)
        return
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext(
            "Stop broadcast #{number}? It will not be sent (or repeated) again.", number=number
        ),
        keyboard(
            [(t.gettext("✖️ Yes, stop it"), STOP_SURE.data(number)), (t.gettext("⬅️ Back"), LIST)]
        ),
    )


async def stop(update: Update, context: PactContext) -> None:
    """Stop it (audited)."""
    query = await answer(update)
    number = STOP_SURE.parse(query.data)
    if number is None:
        await stale_button(update, context)
        return
    member = current_member(context)
    stopped = await broadcast_schedule.stop(
        context.scope.session,
        number,
        member.user_id if member else None,
        context.services.clock.now(),
    )
    t = context.t
    note = (
        t.gettext("Broadcast #{number} stopped.", number=number)
        if stopped
        else t.gettext("Broadcast #{number} has already started or ended.", number=number)
    )
    await _render(update, context, note)


async def back(update: Update, context: PactContext) -> None:
    """Back to the list."""
    await answer(update)
    await _render(update, context)


def routes() -> list[routing.Route]:
    """The command and its buttons: the broadcast permission."""
    return routing.staff(
        Permission.BROADCAST,
        CommandHandler("broadcasts", list_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(ask_stop, pattern=STOP.pattern),
        CallbackQueryHandler(stop, pattern=STOP_SURE.pattern),
        CallbackQueryHandler(back, pattern=f"^{LIST}$"),
    )
