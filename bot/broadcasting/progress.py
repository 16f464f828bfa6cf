"""The buttons under a broadcast's progress message: pause, resume, cancel (after a confirmation).

The gate lets only staff with the broadcast permission press them (``sb:`` buttons). Each press
changes the broadcast's status row, which the sender reads before every batch, and redraws the
message at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.broadcasting import sender as delivery
from bot.campaigns.services import campaigns
from bot.core import routing
from bot.core.access import current_member
from bot.core.application import PactContext
from bot.core.i18n import N_
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import answer, edit_or_send
from bot.staff.services.permissions import Permission
from db.models import Broadcast

Change = Callable[[AsyncSession, int, int | None, datetime], Awaitable[Broadcast | None]]
"""A status change in the campaigns service: pause, resume or cancel."""


def _number(update: Update, button: ButtonCodec) -> int | None:
    """The broadcast id a button carries."""
    assert update.callback_query is not None
    return button.parse(update.callback_query.data)


async def _redraw(
    update: Update, context: PactContext, broadcast_id: int, confirming: bool = False
) -> None:
    """The progress message as it stands now, in the presser's language."""
    session = context.scope.session
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return
    state = await delivery.snapshot(session, broadcast, None)
    sender = context.application.bot_data.get(delivery.SENDER)
    rate = (
        sender.rate(broadcast_id, state.count(campaigns.SENT))
        if isinstance(sender, delivery.Sender)
        else context.services.settings.broadcast_rate or None
    )
    state = replace(state, rate=rate)
    text, markup = delivery.progress_view(context.t, state, confirming)
    await edit_or_send(update, context, text, markup)


async def _act(
    update: Update,
    context: PactContext,
    button: ButtonCodec,
    change: Change,
    done: str,
    refused: str,
) -> int | None:
    """Apply a status change from a button, answer with a toast, redraw; the id, or None."""
    number = _number(update, button)
    if number is None:
        await stale_button(update, context)
        return None
    member = current_member(context)
    now = context.services.clock.now()
    changed = await change(context.scope.session, number, member.user_id if member else None, now)
    await answer(update, context.t.gettext(done) if changed else context.t.gettext(refused))
    await _redraw(update, context, number)
    return number if changed else None


async def pause(update: Update, context: PactContext) -> None:
    """⏸ Pause: nothing more is sent after the batch in hand."""
    await _act(
        update,
        context,
        delivery.PAUSE,
        campaigns.pause,
        N_("Paused."),
        N_("It is not sending any more."),
    )


async def resume(update: Update, context: PactContext) -> None:
    """▶️ Resume: sending goes on where it stopped."""
    number = await _act(
        update,
        context,
        delivery.RESUME,
        campaigns.resume,
        N_("Sending again."),
        N_("It is not paused any more."),
    )
    sender = context.application.bot_data.get(delivery.SENDER)
    if number is not None and isinstance(sender, delivery.Sender):
        sender.forget_pace(number)
    delivery.kick(context.application)


async def ask_cancel(update: Update, context: PactContext) -> None:
    """✖️ Cancel: ask first."""
    number = _number(update, delivery.CANCEL)
    if number is None:
        await stale_button(update, context)
        return
    await answer(update)
    await _redraw(update, context, number, confirming=True)


async def cancel(update: Update, context: PactContext) -> None:
    """Confirmed: the broadcast ends; nobody not yet reached gets it."""
    await _act(
        update,
        context,
        delivery.CANCEL_YES,
        campaigns.cancel,
        N_("Cancelled."),
        N_("It has already ended."),
    )


async def keep(update: Update, context: PactContext) -> None:
    """Not cancelled after all: back to the progress."""
    number = _number(update, delivery.KEEP)
    if number is None:
        await stale_button(update, context)
        return
    await answer(update)
    await _redraw(update, context, number)


def routes() -> list[routing.Route]:
    """The progress message's buttons: the broadcast permission."""
    return routing.staff(
        Permission.BROADCAST,
        CallbackQueryHandler(pause, pattern=delivery.PAUSE.pattern),
        CallbackQueryHandler(resume, pattern=delivery.RESUME.pattern),
        CallbackQueryHandler(ask_cancel, pattern=delivery.CANCEL.pattern),
        CallbackQueryHandler(cancel, pattern=delivery.CANCEL_YES.pattern),
        CallbackQueryHandler(keep, pattern=delivery.KEEP.pattern),
    )
