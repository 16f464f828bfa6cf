"""Requests for information: creation, the legal deadline clock, outcomes, reminders, complaint."""

from __future__ import annotations

import csv
import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rti.services import deadlines
from bot.rti.services.directory import fold
from bot.rti.services.workdays import DEFAULT_CLOSED_DAYS_CSV, WorkCalendar
from db.models import ClosedDay, Reminder, RequestStatus, RtiRequest, User
from db.repositories import audit
from db.repositories import reminders as reminders_repo

REMINDER_HOUR = time(9, 0)
"""Reminders go out at 09:00 Tirana time on their day, never at night."""
MAX_INFORMATION = 3000
MAX_NAME = 200
MAX_ADDRESS = 300
WAITING = (
    RequestStatus.SENT,
    RequestStatus.EXTENDED,
    RequestStatus.TRANSFERRED,
    RequestStatus.CLARIFY,
)
COMPLAINABLE = (RequestStatus.PARTIAL, RequestStatus.REFUSED, RequestStatus.NO_ANSWER)


def complaint_time_over(request: RtiRequest, today: date | None) -> bool:
    """Whether the 30 working days to complain to the Commissioner (art. 24) ended before today."""
    due = request.complaint_due_on
    return today is not None and due is not None and due < today


class Format(enum.StrEnum):
    """How the requester wants the information (art. 11(ç))."""

    ELECTRONIC = "electronic"
    PAPER = "paper"
    ON_SITE = "on_site"


class Channel(enum.StrEnum):
    """Where the answer goes (art. 11(b))."""

    EMAIL = "email"
    POST = "post"


class Outcome(enum.StrEnum):
    """What the requester tells us happened, with one tap."""

    ANSWERED = "answered"
    PARTIAL = "partial"
    REFUSED = "refused"
    CLARIFY = "clarify"
    EXTENDED = "extended"
    TRANSFERRED = "transferred"
    NO_ANSWER = "no_answer"


class ReminderKind(enum.StrEnum):
    """The reminders the clock sends."""

    BEFORE_DUE = "before_due"
    AFTER_DUE = "after_due"
    COMPLAINT_CLOSING = "complaint_closing"


class OutcomeRefusedError(Exception):
    """The outcome does not apply now (e.g. "no answer" before the deadline has passed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Draft:
    """The builder's answers, validated."""

    authority_id: int
    information: str
    format: Format
    channel: Channel
    address: str
    name: str


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$")
PERSONAL_HINTS = (
    "my pension",
    "my salary",
    "my file",
    "my case",
    "my certificate",
    "my application",
    "pensioni im",
    "pagen time",
    "paga ime",
    "dosja ime",
    "dosjen time",
    "certifikaten time",
    "kerkesen time",
    "ndihmen time",
    "ndihma ime",
    "rasti im",
    "rastin tim",
)


def looks_personal(text: str) -> bool:
    """A hint that the text asks about the person's own affairs rather than public information."""
    folded = fold(text)
    return any(fold(hint) in folded for hint in PERSONAL_HINTS)


def valid_email(value: str) -> bool:
    """A plausible e-mail address."""
    return bool(EMAIL.match(value.strip()))


def valid_name(value: str) -> bool:
    """Name and surname: at least two words, letters present, not too long."""
    words = value.split()
    return len(words) >= 2 and len(value) <= MAX_NAME and any(c.isalpha() for c in value)


async def calendar(session: AsyncSession) -> WorkCalendar:
    """The working-day calendar with the extra closures staff recorded."""
    rows = await session.execute(select(ClosedDay.day))
    return WorkCalendar(extra_closures=list(rows.scalars()))


async def seed_closed_days(session: AsyncSession, now: datetime) -> int:
    """Insert the shipped extra closures that are missing."""
    existing = set((await session.execute(select(ClosedDay.day))).scalars())
    added = 0
    with DEFAULT_CLOSED_DAYS_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = date.fromisoformat(row["date"])
            if day not in existing:
                session.add(ClosedDay(day=day, note=row.get("note") or "", created_at=now))
                added += 1
    await session.flush()
    return added


async def add_closed_day(
    session: AsyncSession, day: date, note: str, *, actor_user_id: int | None, now: datetime
) -> bool:
    """Record an extra closure (staff); False when it is already known."""
    if await session.get(ClosedDay, day) is not None:
        return False
    session.add(ClosedDay(day=day, note=note[:200], created_at=now))
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=actor_user_id,
        action="closed_day.added",
        subject_type="closed_day",
        subject_id=None,
        after={"day": day.isoformat(), "note": note[:200]},
    )
    return True


async def create(session: AsyncSession, user: User, draft: Draft, now: datetime) -> RtiRequest:
    """Store a prepared request (not yet sent)."""
    request = RtiRequest(
        user_id=user.id,
        authority_id=draft.authority_id,
        information=draft.information,
        format=draft.format,
        reply_channel=draft.channel,
        reply_address=draft.address,
        requester_name=draft.name,
        status=RequestStatus.PREPARED,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    await session.refresh(request, ["authority"])
    return request


async def for_user(session: AsyncSession, user: User) -> list[RtiRequest]:
    """A person's requests, newest first."""
    result = await session.execute(
        select(RtiRequest).where(RtiRequest.user_id == user.id).order_by(RtiRequest.id.desc())
    )
    return list(result.scalars())


async def owned(session: AsyncSession, user: User | None, request_id: int) -> RtiRequest | None:
    """The request if it belongs to this person (buttons carry ids; never trust them alone)."""
    if user is None:
        return None
    request = await session.get(RtiRequest, request_id)
    return request if request is not None and request.user_id == user.id else None


def _at_morning(day: date, tz: ZoneInfo) -> datetime:
    """09:00 local time on a day, as an aware datetime."""
    return datetime.combine(day, REMINDER_HOUR, tzinfo=tz)


async def _cancel_reminders(
    session: AsyncSession, request: RtiRequest, kinds: tuple[ReminderKind, ...], now: datetime
) -> None:
    """Cancel pending reminders of these kinds."""
    rows = await session.execute(
        select(Reminder).where(
            Reminder.request_id == request.id,
            Reminder.kind.in_([k.value for k in kinds]),
            Reminder.sent_at.is_(None),
            Reminder.cancelled_at.is_(None),
        )
    )
    for reminder in rows.scalars():
        reminder.cancelled_at = now


async def _schedule_answer_reminders(
    session: AsyncSession, request: RtiRequest, cal: WorkCalendar, tz: ZoneInfo, now: datetime
) -> None:
    """Two working days before the due date, and the working day after it; only moments still
    to come, and none once the deadline has passed (a past-dated request is told so at once)."""
    assert request.due_on is not None
    await _cancel_reminders(
        session, request, (ReminderKind.BEFORE_DUE, ReminderKind.AFTER_DUE), now
    )
    if request.due_on < now.astimezone(tz).date():
        return
    before, after = deadlines.answer_reminders(cal, request.due_on)
    for kind, day in ((ReminderKind.BEFORE_DUE, before), (ReminderKind.AFTER_DUE, after)):
        due_at = _at_morning(day, tz)
        if due_at > now:
            session.add(Reminder(request_id=request.id, kind=kind, due_at=due_at))


async def pending_reminder_days(
    session: AsyncSession, request: RtiRequest, tz: ZoneInfo
) -> list[date]:
    """The days of the request's reminders still to be sent, in order (what the bot promises)."""
    await session.flush()
    rows = await session.execute(
        select(Reminder.due_at)
        .where(
            Reminder.request_id == request.id,
            Reminder.sent_at.is_(None),
            Reminder.cancelled_at.is_(None),
        )
        .order_by(Reminder.due_at)
    )
    return [moment.astimezone(tz).date() for moment in rows.scalars()]


def complaint_due_after_silence(cal: WorkCalendar, request: RtiRequest) -> date:
    """The last day to complain when the authority stays silent (arts. 15(4), 24), counted from
    the answer deadline read the citizen's way (an estimated holiday a working day), so it is
    never later than the real one; the same date whether said before or after "No answer"."""
    assert request.sent_on is not None
    if request.transferred:
        due = deadlines.transferred_due(cal, request.sent_on, estimated_closed=False)
    else:
        due = deadlines.answer_due(cal, request.sent_on, estimated_closed=False)
    if request.extended:
        due = deadlines.extended_due(cal, due, estimated_closed=False)
    return deadlines.complaint_due(cal, deadlines.complaint_start_after_silence(cal, due))


async def mark_sent(
    session: AsyncSession,
    request: RtiRequest,
    sent_on: date,
    protocol: str | None,
    *,
    tz: ZoneInfo,
    now: datetime,
) -> RtiRequest:
    """Start the clock: due date in working days (art. 15(1)) and the reminders."""
    cal = await calendar(session)
    request.sent_on = sent_on
    request.protocol_number = protocol
    request.due_on = deadlines.answer_due(cal, sent_on)
    request.status = RequestStatus.SENT
    request.extended = request.transferred = False
    request.updated_at = now
    await session.flush()
    await _schedule_answer_reminders(session, request, cal, tz, now)
    return request


async def record_outcome(
    session: AsyncSession,
    request: RtiRequest,
    outcome: Outcome,
    *,
    today: date,
    tz: ZoneInfo,
    now: datetime,
) -> RtiRequest:
    """Move the request to the status the outcome means; recompute dates and reminders."""
    if request.sent_on is None or request.due_on is None:
        raise OutcomeRefusedError("not_sent")
    cal = await calendar(session)
    answer_kinds = (ReminderKind.BEFORE_DUE, ReminderKind.AFTER_DUE)
    if outcome is Outcome.EXTENDED:
        if request.extended:
            raise OutcomeRefusedError("already_extended")
        request.due_on = deadlines.extended_due(cal, request.due_on)
        request.extended = True
        request.status = RequestStatus.EXTENDED
        await _schedule_answer_reminders(session, request, cal, tz, now)
    elif outcome is Outcome.TRANSFERRED:
        request.due_on = deadlines.transferred_due(cal, request.sent_on)
        if request.extended:
            request.due_on = deadlines.extended_due(cal, request.due_on)
        request.transferred = True
        request.status = RequestStatus.TRANSFERRED
        await _schedule_answer_reminders(session, request, cal, tz, now)
    elif outcome is Outcome.CLARIFY:
        request.status = RequestStatus.CLARIFY
    elif outcome is Outcome.ANSWERED:
        request.status = RequestStatus.ANSWERED
        request.outcome_on = today
        await _cancel_reminders(session, request, answer_kinds, now)
    else:
        if outcome is Outcome.NO_ANSWER:
            if today <= request.due_on:
                raise OutcomeRefusedError("not_yet_due")
            request.complaint_due_on = complaint_due_after_silence(cal, request)
            request.status = RequestStatus.NO_ANSWER
        else:
            request.complaint_due_on = deadlines.complaint_due(cal, today)
            request.status = RequestStatus(outcome.value)
            request.outcome_on = today
        request.complaint_ground = outcome.value
        await _cancel_reminders(session, request, answer_kinds, now)
        await _cancel_reminders(session, request, (ReminderKind.COMPLAINT_CLOSING,), now)
        reminder_day = max(
            deadlines.complaint_reminder(cal, request.complaint_due_on), today + timedelta(days=1)
        )
        if reminder_day <= request.complaint_due_on:  # never a reminder of a day already gone
            session.add(
                Reminder(
                    request_id=request.id,
                    kind=ReminderKind.COMPLAINT_CLOSING,
                    due_at=_at_morning(reminder_day, tz),
                )
            )
    request.updated_at = now
    await session.flush()
    return request


def complaint_drafted(request: RtiRequest, today: date) -> None:
    """A complaint letter was drafted today: until it is filed, the latest draft's date is the
    one its copies bear."""
    if request.status in COMPLAINABLE:
        request.complaint_written_on = today


def complaint_date(request: RtiRequest) -> date | None:
    """The date of the complaint letter filed or last drafted (the filing day for complaints
    drafted before the date was kept)."""
    return request.complaint_written_on or request.complaint_filed_on


async def mark_complaint_filed(
    session: AsyncSession, request: RtiRequest, *, today: date, now: datetime
) -> RtiRequest:
    """The requester filed the complaint with the Commissioner."""
    if request.status not in COMPLAINABLE:
        raise OutcomeRefusedError("not_complainable")
    request.status = RequestStatus.COMPLAINT_FILED
    request.complaint_filed_on = today
    request.updated_at = now
    await _cancel_reminders(session, request, (ReminderKind.COMPLAINT_CLOSING,), now)
    return request


async def record_commissioner_outcome(
    session: AsyncSession, request: RtiRequest, outcome: str, *, now: datetime
) -> RtiRequest:
    """The Commissioner decided: upheld (in the requester's favour) or rejected."""
    if request.status != RequestStatus.COMPLAINT_FILED or outcome not in ("upheld", "rejected"):
        raise OutcomeRefusedError("not_filed")
    request.commissioner_outcome = outcome
    request.status = RequestStatus.CLOSED
    request.updated_at = now
    return request


async def due_reminders(
    session: AsyncSession, now: datetime, limit: int = 200
) -> list[tuple[Reminder, RtiRequest, User]]:
    """Reminders whose moment has come, with their request and person, oldest first."""
    result = await session.execute(
        select(Reminder, RtiRequest, User)
        .join(RtiRequest, Reminder.request_id == RtiRequest.id)
        .join(User, RtiRequest.user_id == User.id)
        .where(*reminders_repo.due(now))
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Reminder)
    )
    return [(row[0], row[1], row[2]) for row in result.all()]
