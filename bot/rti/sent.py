""" "I have sent it": the date sent and the protocol number start the legal clock (rti_sent.mmd)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from markupsafe import Markup
from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.core import routing
from bot.core.application import PactContext
from bot.kit import answers, menu
from bot.kit.answers import stale_button
from bot.kit.ui import answer, close_buttons, edit_or_send, keyboard, send
from bot.rti import views
from bot.rti.services import deadlines
from bot.rti.services import requests as rti
from db.models import RequestStatus, RtiRequest

# States
DATE, TYPED_DATE, PROTOCOL = range(3)

DAY = "rtsd:"
TODAY, YESTERDAY, OTHER = "rtsd:today", "rtsd:yesterday", "rtsd:other"
BACK = "rtsb:back"
SKIP, CANCEL = "rtsp:skip", "rtsp:cancel"
KEY = "rti_sent"
OLDEST_DAYS = 365
DATE_FORMATS = (
    re.compile(r"^(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
)


def parse_date(text: str) -> date | None:
    """23.11.2026, 23/11/2026, 23-11-2026 or 2026-11-23."""
    for pattern in DATE_FORMATS:
        match = pattern.match(text.strip())
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None


def _today(context: PactContext) -> date:
    """Today in Tirana."""
    return context.services.clock.now().astimezone(context.services.settings.tz).date()


async def start(update: Update, context: PactContext) -> int:
    """Entry from a prepared request's "I have sent it" button."""
    query = await answer(update)
    number = views.SENT.parse(query.data)
    request = (
        await rti.owned(context.scope.session, context.user_row, number)
        if number is not None
        else None
    )
    if request is None or request.status != RequestStatus.PREPARED:
        await stale_button(update, context)
        return ConversationHandler.END
    context.user_data[KEY] = {"request_id": request.id}
    return await ask_date(update, context)


async def ask_date(update: Update, context: PactContext, in_place: bool = False) -> int:
    """When it was sent (in place of the pressed message when coming back to it)."""
    t = context.t
    reply = edit_or_send if in_place else send
    await reply(
        update,
        context,
        t.gettext("When did you send or hand in the request?"),
        keyboard(
            [(t.gettext("Today"), TODAY), (t.gettext("Yesterday"), YESTERDAY)],
            [(t.gettext("📅 Another date"), OTHER)],
            [(t.gettext("✖️ Cancel"), CANCEL)],
        ),
    )
    return DATE


async def back_to_days(update: Update, context: PactContext) -> int:
    """Back from typing a date: the day buttons again, in place of the typing prompt."""
    await answer(update)
    return await ask_date(update, context, in_place=True)


async def choose_day(update: Update, context: PactContext) -> int:
    """Today or yesterday, or ask to type a date."""
    query = await answer(update)
    t = context.t
    if query.data == OTHER:
        await edit_or_send(
            update,
            context,
            t.gettext("Type the date, for example {example}.", example="20.11.2026"),
            keyboard([(t.gettext("⬅️ Back"), BACK), (t.gettext("✖️ Cancel"), CANCEL)]),
        )
        return TYPED_DATE
    await close_buttons(update)
    day = _today(context) - timedelta(days=1 if query.data == YESTERDAY else 0)
    return await _keep_date(update, context, day)


async def typed_date(update: Update, context: PactContext) -> int:
    """A typed date: not in the future, not older than a year."""
    t = context.t
    day = parse_date(update.effective_message.text or "") if update.effective_message else None
    today = _today(context)
    if day is None:
        await send(
            update,
            context,
            t.gettext("I could not read that date. Type it like {example}.", example="20.11.2026"),
        )
        return TYPED_DATE
    if day > today or day < today - timedelta(days=OLDEST_DAYS):
        await send(
            update,
            context,
            t.gettext("The date must be within the last year and not in the future."),
        )
        return TYPED_DATE
    return await _keep_date(update, context, day)


async def _keep_date(update: Update, context: PactContext, day: date) -> int:
    """Keep the date and ask for the protocol number."""
    context.user_data.setdefault(KEY, {})["sent_on"] = day.isoformat()
    t = context.t
    await send(
        update,
        context,
        t.gettext(
            "Did the authority give you a protocol or serial number (from its Register of "
            "Requests and Responses)? Type it, or skip."
        ),
        keyboard([(t.gettext("Skip"), SKIP), (t.gettext("✖️ Cancel"), CANCEL)]),
    )
    return PROTOCOL


async def protocol(update: Update, context: PactContext) -> int:
    """A typed protocol number."""
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    if not text or len(text) > 64:
        await send(
            update,
            context,
            context.t.gettext("Please type the number (at most 64 characters), or skip."),
        )
        return PROTOCOL
    return await _start_clock(update, context, text)


async def skip_protocol(update: Update, context: PactContext) -> int:
    """No protocol number."""
    await answer(update)
    await close_buttons(update)
    return await _start_clock(update, context, None)


async def _start_clock(update: Update, context: PactContext, number: str | None) -> int:
    """Store the date and number, compute the due date, schedule the reminders, say what
    comes next."""
    state = context.user_data.pop(KEY, {})
    request = await rti.owned(context.scope.session, context.user_row, state.get("request_id", 0))
    if request is None or "sent_on" not in state or request.status != RequestStatus.PREPARED:
        await stale_button(update, context)
        return ConversationHandler.END
    settings = context.services.settings
    await rti.mark_sent(
        context.scope.session,
        request,
        date.fromisoformat(state["sent_on"]),
        number,
        tz=settings.tz,
        now=context.services.clock.now(),
    )
    t = context.t
    text = await _clock_text(context, request)
    await send(
        update, context, text, keyboard(*views.card_buttons(t, request), [menu.menu_button(t)])
    )
    return ConversationHandler.END


async def _clock_text(context: PactContext, request: RtiRequest) -> str:
    """The answer deadline and the reminders actually scheduled; for a request dated so far back
    that the deadline has passed, that plainly, and the complaint to the Commissioner as the
    next step (art. 15(4), 24) or, when that time is over too, asking again."""
    t = context.t
    session = context.scope.session
    assert request.due_on is not None
    today = _today(context)
    if request.due_on < today:
        complain_by = rti.complaint_due_after_silence(await rti.calendar(session), request)
        if complain_by >= today:
            return t.gettext(
                "⏱ The authority had to answer by <b>{date}</b> ({days} working days from the "
                "day you submitted it, art. 15(1)), and that day has passed. If it has not "
                "answered, its silence counts as a refusal (art. 15(4)). Next step: complain to "
                "the Commissioner by <b>{complain_by}</b> (30 working days, art. 24). Tell me "
                "below what happened and I will draft the complaint.",
                date=t.date(request.due_on),
                days=deadlines.ANSWER_DAYS,
                complain_by=t.date(complain_by),
            )
        return t.gettext(
            "⏱ The authority had to answer by <b>{date}</b> ({days} working days from the day "
            "you submitted it, art. 15(1)). If it did not answer, the 30 working days to "
            "complain to the Commissioner (art. 24) ended on {complain_by}. You can send the "
            "request again: a new request starts a new deadline.",
            date=t.date(request.due_on),
            days=deadlines.ANSWER_DAYS,
            complain_by=t.date(complain_by),
        )
    reminders = await rti.pending_reminder_days(session, request, context.services.settings.tz)
    if len(reminders) == 2:
        return t.gettext(
            "⏱ The authority must answer as soon as possible and at the latest by "
            "<b>{date}</b>: {days} working days from the day you submitted it, not counting "
            "weekends and holidays (art. 15(1)). I will remind you on {before} and on {after}.",
            date=t.date(request.due_on),
            days=deadlines.ANSWER_DAYS,
            before=t.date(reminders[0]),
            after=t.date(reminders[1]),
        )
    deadline = t.gettext(
        "⏱ The authority must answer as soon as possible and at the latest by <b>{date}</b>: "
        "{days} working days from the day you submitted it, not counting weekends and "
        "holidays (art. 15(1)).",
        date=t.date(request.due_on),
        days=deadlines.ANSWER_DAYS,
    )
    if not reminders:
        return deadline
    reminder = t.gettext("I will remind you on {date}.", date=t.date(reminders[0]))
    return Markup("{} {}").format(deadline, reminder)


async def cancel(update: Update, context: PactContext) -> int:
    """Leave without starting the clock."""
    if update.callback_query:
        await answer(update)
        await close_buttons(update)
    return await answers.cancel(update, context)


async def not_text(update: Update, context: PactContext) -> int:
    """Anything else where a date or number is expected."""
    await send(update, context, context.t.gettext("Please type your answer as text."))
    return None  # type: ignore[return-value]


def conversation() -> ConversationHandler:
    """The sent-date conversation, persistent like the builder."""
    text = filters.TEXT & ~filters.COMMAND
    other = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    cancel_button = CallbackQueryHandler(cancel, pattern=f"^{CANCEL}$")
    return ConversationHandler(
        name="rti_sent",
        persistent=True,
        allow_reentry=True,
        entry_points=[CallbackQueryHandler(start, pattern=views.SENT.pattern)],
        states={
            DATE: [CallbackQueryHandler(choose_day, pattern=f"^{DAY}"), cancel_button],
            TYPED_DATE: [
                MessageHandler(text, typed_date),
                MessageHandler(other, not_text),
                CallbackQueryHandler(back_to_days, pattern=f"^{BACK}$"),
                cancel_button,
            ],
            PROTOCOL: [
                MessageHandler(text, protocol),
                CallbackQueryHandler(skip_protocol, pattern=f"^{SKIP}$"),
                MessageHandler(other, not_text),
                cancel_button,
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CommandHandler("menu", lambda u, c: _leave(u, c)),
        ],
    )


async def _leave(update: Update, context: PactContext) -> int:
    """/menu: leave the step (the request stays prepared)."""
    context.user_data.pop(KEY, None)
    await menu.show_menu(update, context)
    return ConversationHandler.END


def routes() -> list[routing.Route]:
    """The sent-date flow, open to everyone."""
    return routing.citizen(conversation())
