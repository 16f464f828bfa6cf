"""Scheduled work. APScheduler only wakes the bot; what is due lives in database rows."""

from __future__ import annotations

import logging

from telegram.error import Forbidden, TelegramError
from telegram.ext import CallbackContext

from bot.application import PactApplication
from bot.handlers import case_views
from bot.handlers import rti_views as views
from bot.runtime import unit_of_work
from bot.services import accounts, rti
from bot.services import cases as case_rules
from bot.ui import keyboard
from db.models import CaseStatus

log = logging.getLogger(__name__)


async def send_due_reminders(app: PactApplication) -> int:
    """Send every reminder whose moment has come; one unit of work per reminder."""
    sent = 0
    while True:
        async with unit_of_work(app.services) as scope:
            now = app.services.clock.now()
            due = await rti.due_reminders(scope.session, now, limit=1)
            if not due:
                return sent
            reminder, request, user = due[0]
            if user.blocked_at is not None:
                reminder.cancelled_at = now
                continue
            t = app.services.i18n.translator(user.language)
            try:
                await app.bot.send_message(
                    user.telegram_id,
                    views.reminder_text(t, request, rti.ReminderKind(reminder.kind)),
                    reply_markup=keyboard(*views.card_buttons(t, request)),
                )
            except Forbidden:
                await accounts.set_blocked(
                    scope.session, accounts.Actor(user.telegram_id, now), True
                )
                reminder.cancelled_at = now
                continue
            except TelegramError as error:
                log.warning("reminder %s not sent: %s", reminder.id, type(error).__name__)
                scope.fail()
                return sent
            reminder.sent_at = now
            sent += 1


async def send_due_followups(app: PactApplication) -> int:
    """Ask reporters "Is the problem solved?" 21 days after resolved or answered."""
    sent = 0
    while True:
        async with unit_of_work(app.services) as scope:
            now = app.services.clock.now()
            due = await case_rules.due_followups(scope.session, now)
            if not due:
                return sent
            reminder, case = due[0]
            person = await case_rules.reporter_of(scope.session, case)
            if (
                person is None
                or person.blocked_at is not None
                or case.status
                not in (
                    CaseStatus.RESOLVED,
                    CaseStatus.ANSWERED,
                )
            ):
                reminder.cancelled_at = now
                continue
            t = app.services.i18n.translator(person.language)
            try:
                await app.bot.send_message(
                    person.telegram_id,
                    case_views.followup_question(t, case),
                    reply_markup=keyboard(*case_views.followup_buttons(t, case)),
                )
            except Forbidden:
                await accounts.set_blocked(
                    scope.session, accounts.Actor(person.telegram_id, now), True
                )
                reminder.cancelled_at = now
                continue
            except TelegramError as error:
                log.warning("follow-up %s not sent: %s", reminder.id, type(error).__name__)
                scope.fail()
                return sent
            reminder.sent_at = now
            sent += 1


async def reminders_job(context: CallbackContext) -> None:
    """The JobQueue callback: every kind of due row."""
    app: PactApplication = context.application  # type: ignore[assignment]
    await send_due_reminders(app)
    await send_due_followups(app)


def schedule(app: PactApplication) -> None:
    """Wake up regularly to look for due rows (REMINDER_POLL_SECONDS; 0 turns it off)."""
    seconds = app.services.settings.reminder_poll_seconds
    if seconds and app.job_queue is not None:
        app.job_queue.run_repeating(reminders_job, interval=seconds, first=5, name="reminders")
