"""Scheduled work. APScheduler only wakes the bot; what is due lives in database rows."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup
from telegram.ext import CallbackContext

from bot.account.services import retention
from bot.broadcasting import outbox
from bot.broadcasting import sender as delivery
from bot.broadcasting.services import outbox_rows
from bot.campaigns.services.campaigns import quiet
from bot.cases import views as case_views
from bot.cases.services import case_rules, quota
from bot.cases.services import secret_codes as case_codes
from bot.core import drafts, state_memory
from bot.core.application import PactApplication
from bot.core.i18n import Translator
from bot.core.runtime import Services, unit_of_work
from bot.kit.ui import keyboard
from bot.reportcards.services import rounds as report_card_rounds
from bot.rti import views
from bot.rti.services import requests as rti
from bot.staff import views as staff_views
from bot.staff.services import casework
from bot.staff.services import permissions as staff
from bot.transparency import snapshot
from db.models import CaseStatus, Reminder, StaffRole, User
from db.repositories import reminders as reminders_repo

log = logging.getLogger(__name__)

Message = tuple[str, InlineKeyboardMarkup]
Due = tuple[Reminder, User | None, Message | None]
"""A due reminder, who gets it, and what they get (None: cancel it, nobody to tell)."""
NextDue = Callable[[AsyncSession, datetime, Services], Awaitable[Due | None]]


async def _next_request_reminder(
    session: AsyncSession, now: datetime, services: Services
) -> Due | None:
    """The next due reminder about a request for information."""
    due = await rti.due_reminders(session, now, limit=1)
    if not due:
        return None
    reminder, request, user = due[0]
    t = services.i18n.translator(user.language)
    text = views.reminder_text(t, request, rti.ReminderKind(reminder.kind))
    return reminder, user, (text, keyboard(*views.card_buttons(t, request)))


async def _next_case_followup(
    session: AsyncSession, now: datetime, services: Services
) -> Due | None:
    """The next "Is the problem solved?" question, 21 days after resolved or answered."""
    due = await case_rules.due_followups(session, now)
    if not due:
        return None
    reminder, case = due[0]
    person = await case_rules.reporter_of(session, case)
    if person is None or case.status not in (CaseStatus.RESOLVED, CaseStatus.ANSWERED):
        return reminder, person, None
    t = services.i18n.translator(person.language)
    message = (
        case_views.followup_question(t, case),
        keyboard(*case_views.followup_buttons(t, case)),
    )
    return reminder, person, message


async def _deliver(app: PactApplication, next_due: NextDue) -> int:
    """Queue due rows one unit of work each: the reminder is marked with its outbox row."""
    sent = 0
    while True:
        async with unit_of_work(app.services) as scope:
            now = app.services.clock.now()
            if _quiet_hours(app.services, now):
                return sent  # held, not dropped: the first run after quiet hours sends them
            item = await next_due(scope.session, now, app.services)
            if item is None:
                return sent
            reminder, person, message = item
            if person is None or message is None or person.blocked_at is not None:
                reminder.cancelled_at = now
                continue
            # An outbox row in the reminder's transaction: sent after the commit, retried there.
            await outbox.enqueue(
                app.services,
                kind=outbox_rows.REMINDER,
                chat_id=person.telegram_id,
                user_id=person.id,
                text=message[0],
                markup=message[1],
            )
            reminder.sent_at = now
            sent += 1


def _quiet_hours(services: Services, now: datetime) -> bool:
    """Whether citizen reminders wait now (QUIET_START-QUIET_END, as for campaigns): one
    caught up after downtime goes out at the next allowed time, not at night."""
    settings = services.settings
    return quiet(now, settings.tz, settings.quiet_start, settings.quiet_end)


async def send_due_reminders(app: PactApplication) -> int:
    """Reminders about requests for information."""
    return await _deliver(app, _next_request_reminder)


async def send_due_followups(app: PactApplication) -> int:
    """Follow-up questions about resolved or answered cases."""
    return await _deliver(app, _next_case_followup)


DIGEST = "staff_digest"
DIGEST_HOUR = time(9, 0)


def _next_morning(now: datetime, tz: ZoneInfo) -> datetime:
    """The next 09:00 in Tirana after `now`."""
    local = now.astimezone(tz)
    moment = datetime.combine(local.date(), DIGEST_HOUR, tzinfo=tz)
    return moment if moment > local else moment + timedelta(days=1)


async def ensure_digest(session: AsyncSession, now: datetime, tz: ZoneInfo) -> None:
    """Keep exactly one pending daily-digest row (a stored job, not an in-memory one)."""
    pending = await session.execute(
        select(Reminder.id).where(
            Reminder.kind == DIGEST, Reminder.sent_at.is_(None), Reminder.cancelled_at.is_(None)
        )
    )
    if pending.first() is None:
        session.add(Reminder(kind=DIGEST, due_at=_next_morning(now, tz)))


async def send_staff_digests(app: PactApplication) -> int:
    """Once a day: each caseworker's assigned cases with no staff action for STAFF_IDLE_DAYS."""
    services = app.services
    async with unit_of_work(services) as scope:
        now = services.clock.now()
        due = await scope.session.execute(
            select(Reminder)
            .where(Reminder.kind == DIGEST, *reminders_repo.due(now))
            .with_for_update(skip_locked=True)
        )
        rows = list(due.scalars())
        if not rows:
            return 0
        for row in rows:
            row.sent_at = now
        session = scope.session
        session.add(Reminder(kind=DIGEST, due_at=_next_morning(now, services.settings.tz)))
        sent = 0
        days = services.settings.staff_idle_days
        for member, user in await staff.everyone(session):
            idle = await casework.idle_for(session, member.user_id, days, now)
            if not idle or user.blocked_at is not None:
                continue
            t = services.i18n.translator(user.language)
            lines = [
                t.gettext("⏰ Cases assigned to you with no action for {days} days:", days=days)
            ]
            lines += [
                f"• {c.reference} · {t.gettext(case_views.STATUS[CaseStatus(c.status)])}"
                for c in idle
            ]
            buttons = [[(c.reference, staff_views.OPEN.data(c.id))] for c in idle[:10]]
            await outbox.enqueue(  # sent after the commit, retried, its outcome recorded
                services,
                kind=outbox_rows.DIGEST,
                chat_id=user.telegram_id,
                user_id=user.id,
                text="\n".join(lines),
                markup=keyboard(*buttons),
            )
            sent += 1
        return sent


DRAFT_PURGE = "draft_purge"
DRAFT_PURGE_HOUR = time(3, 30)


async def purge_stale_drafts(app: PactApplication) -> int:
    """Once a day (a stored row says when): drop drafts untouched for DRAFT_EXPIRY_DAYS and
    yesterday's report counts; how many people's drafts went. Every tick, before that check:
    forget wrong secret-code tries past their hour (each links an account to an anonymous
    case), so they go even when nobody checks a code again."""
    services = app.services
    async with unit_of_work(services) as scope:
        now = services.clock.now()
        await case_codes.prune(scope.session, now)
        pending = await scope.session.execute(
            select(Reminder).where(
                Reminder.kind == DRAFT_PURGE,
                Reminder.sent_at.is_(None),
                Reminder.cancelled_at.is_(None),
            )
        )
        tomorrow = datetime.combine(
            now.astimezone(services.settings.tz).date() + timedelta(days=1),
            DRAFT_PURGE_HOUR,
            tzinfo=services.settings.tz,
        )
        if pending.first() is None:  # the first run ever: purge now, then daily at 03:30
            scope.session.add(Reminder(kind=DRAFT_PURGE, due_at=now))
            await scope.session.flush()
        due = await scope.session.execute(
            select(Reminder)
            .where(Reminder.kind == DRAFT_PURGE, *reminders_repo.due(now))
            .with_for_update(skip_locked=True)
        )
        ready = list(due.scalars())
        if not ready:
            return 0
        for row in ready:
            row.sent_at = now
        scope.session.add(Reminder(kind=DRAFT_PURGE, due_at=tomorrow))
        await quota.prune(scope.session, now, services.settings.tz)
    return await drafts.purge(app)


RETENTION = "retention"
RETENTION_HOUR = time(3, 0)


def retention_report(t: Translator, counts: retention.Counts, months: int) -> str:
    """What a retention run did, for the admins, in their language."""
    lines = [t.gettext("🗄 Retention ({months} months after closing):", months=months)]
    lines += [
        "• " + line
        for line, count in (
            (
                t.ngettext("{count} case anonymised", "{count} cases anonymised", counts.cases),
                counts.cases,
            ),
            (
                t.ngettext(
                    "{count} request for information anonymised",
                    "{count} requests for information anonymised",
                    counts.requests,
                ),
                counts.requests,
            ),
            (
                t.ngettext(
                    "{count} saved conversation state deleted",
                    "{count} saved conversation states deleted",
                    counts.states,
                ),
                counts.states,
            ),
            (
                t.ngettext(
                    "{count} delivery record deleted",
                    "{count} delivery records deleted",
                    counts.deliveries,
                ),
                counts.deliveries,
            ),
            (
                t.ngettext(
                    "{count} audit entry emptied of its details",
                    "{count} audit entries emptied of their details",
                    counts.audit_details,
                ),
                counts.audit_details,
            ),
        )
        if count
    ]
    return "\n".join(lines)


async def run_retention(app: PactApplication) -> retention.Counts | None:
    """Once a day (a stored row says when; the first run ever is at once): anonymise and prune
    what is older than CASE_RETENTION_MONTHS (bot/account/services/retention.py), forget the pruned
    states in memory too, then tell each admin the counts when anything changed."""
    services = app.services
    months = services.settings.case_retention_months
    async with unit_of_work(services) as scope:
        session = scope.session
        now = services.clock.now()
        pending = await session.execute(
            select(Reminder.id).where(
                Reminder.kind == RETENTION,
                Reminder.sent_at.is_(None),
                Reminder.cancelled_at.is_(None),
            )
        )
        if pending.first() is None:
            session.add(Reminder(kind=RETENTION, due_at=now))
            await session.flush()
        due = await session.execute(
            select(Reminder)
            .where(Reminder.kind == RETENTION, *reminders_repo.due(now))
            .with_for_update(skip_locked=True)
        )
        ready = list(due.scalars())
        if not ready:
            return None
        for row in ready:
            row.sent_at = now
        local = now.astimezone(services.settings.tz)
        next_run = datetime.combine(
            local.date() + timedelta(days=1), RETENTION_HOUR, tzinfo=services.settings.tz
        )
        session.add(Reminder(kind=RETENTION, due_at=next_run))
        counts = await retention.run(session, now, months)
        if counts.any():
            for member, user in await staff.everyone(session):
                if member.role != StaffRole.ADMIN or user.blocked_at is not None:
                    continue
                await outbox.enqueue(  # sent after the commit, retried, its outcome recorded
                    services,
                    kind=outbox_rows.ADMIN_NOTICE,
                    chat_id=user.telegram_id,
                    user_id=user.id,
                    text=retention_report(services.i18n.translator(user.language), counts, months),
                )
    state_memory.forget_rows(app, counts.pruned_states)
    return counts


async def close_report_card_rounds(app: PactApplication) -> list[int]:
    """Close every launched report-card round whose closing day has ended (in the bot's time
    zone): the rounds are the rows; their salts and respondent codes go in one unit of work."""
    services = app.services
    async with unit_of_work(services) as scope:
        return await report_card_rounds.close_due(
            scope.session, services.clock.now(), services.settings.tz
        )


async def send_broadcasts(app: PactApplication, budget: int | None = None) -> int:
    """Start due broadcasts and deliver their outbox (bot/broadcasting/sender.py); how many sent."""
    return await delivery.sender_of(app).run(budget)


async def reminders_job(context: CallbackContext) -> None:
    """The JobQueue callback: every kind of due row; broadcasts go on in the background."""
    app: PactApplication = context.application  # type: ignore[assignment]
    await send_due_reminders(app)
    await send_due_followups(app)
    await send_staff_digests(app)
    await purge_stale_drafts(app)
    await run_retention(app)
    await close_report_card_rounds(app)
    delivery.kick(app)


def schedule(app: PactApplication) -> None:
    """Wake up regularly to look for due rows (REMINDER_POLL_SECONDS; 0 turns it off); rebuild
    the public site's figures (bot/transparency/snapshot.py)."""
    snapshot.schedule(app)
    seconds = app.services.settings.reminder_poll_seconds
    if seconds and app.job_queue is not None:
        app.job_queue.run_repeating(reminders_job, interval=seconds, first=5, name="reminders")


def unschedule(app: PactApplication) -> None:
    """Stop the regular wake-ups (this process no longer holds the send lock, cluster.py).

    With several processes, the jobs scan due rows and send, so they run only in the one process
    holding the send lock, where the sender runs too: nothing is scanned or sent twice.
    """
    snapshot.unschedule(app)
    if app.job_queue is not None:
        for job in app.job_queue.get_jobs_by_name("reminders"):
            job.schedule_removal()
