"""Retention (privacy.md 7): what was closed longer than CASE_RETENTION_MONTHS ago loses its
personal data; old conversation states, deliveries and audit details go. No Telegram here:
bot/core/jobs.py runs this once a day and tells the admins the counts.

Anonymising keeps what statistics need (category, municipality, a unit from the municipality's
own list, kind, identification mode, status, dates, timeline statuses; for requests the
authority, status and dates) and clears everything a person wrote or that leads to a person.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.services import case_rules
from bot.rti.services import requests as rti
from db.models import (
    AuditEntry,
    Broadcast,
    BroadcastStatus,
    Case,
    CaseAttachment,
    CaseContact,
    CaseEvent,
    CaseEventKind,
    CaseFollower,
    CaseStatus,
    CodeAttempt,
    ErasedBy,
    OutboxMessage,
    OutboxStatus,
    Reminder,
    RequestStatus,
    RtiRequest,
)
from db.repositories import audit, bot_state

REPORTER_TEXTS = (CaseEventKind.REPORTER_INFO, CaseEventKind.REPORTER_REPLY)
"""Timeline kinds whose text the reporter typed (cleared when the reporter erases their data)."""
CLOSED_CASES = (*case_rules.FINAL, CaseStatus.WITHDRAWN)
FINISHED_REQUESTS = (RequestStatus.ANSWERED, RequestStatus.CLOSED, RequestStatus.PREPARED)
"""Requests that are over once untouched long enough (a prepared one was never sent)."""
DONE_BROADCASTS = (BroadcastStatus.DONE, BroadcastStatus.CANCELLED)
OUTBOX_PENDING = OutboxStatus.PENDING
CHUNK = 500


def months_before(moment: datetime, months: int) -> datetime:
    """The same moment `months` calendar months earlier (the 31st becomes the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class Counts:
    """What one retention run changed; `pruned_states` lets the bot forget them in memory too."""

    cases: int = 0
    requests: int = 0
    states: int = 0
    deliveries: int = 0
    audit_details: int = 0
    pruned_states: list[tuple[str, str]] = field(default_factory=list)

    def any(self) -> bool:
        """Whether anything changed (the admins are told only then)."""
        return any((self.cases, self.requests, self.states, self.deliveries, self.audit_details))


async def anonymise_case(session: AsyncSession, case: Case, by: ErasedBy, now: datetime) -> None:
    """Clear a case's personal data and links, keep its facts; `by` says why (shown to staff).

    On the reporter's erasure only the reporter's own timeline texts are cleared (staff messages
    stay part of the case record); on retention every text of the timeline goes.
    """
    if not case_rules.listed_unit(case):
        case.unit = None
    case.reporter_display = None
    case.reporter_user_id = None
    case.description = None
    case.original_description = None
    case.happened_when = None
    case.institution = None
    case.location_text = None
    case.latitude = None
    case.longitude = None
    case.secret_hash = None
    case.erased_by = by
    case.erased_at = now
    events = select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.public_text.is_not(None)
    )
    if by is ErasedBy.REPORTER:
        events = events.where(CaseEvent.kind.in_(REPORTER_TEXTS))
    for event in (await session.execute(events)).scalars():
        event.public_text = None
        event.erased_by = by
    await session.execute(delete(CaseAttachment).where(CaseAttachment.case_id == case.id))
    await session.execute(delete(CaseContact).where(CaseContact.case_id == case.id))
    await session.execute(delete(CodeAttempt).where(CodeAttempt.case_id == case.id))
    if by is ErasedBy.RETENTION:
        await session.execute(delete(CaseFollower).where(CaseFollower.case_id == case.id))
    await session.execute(
        update(Reminder)
        .where(Reminder.case_id == case.id, Reminder.sent_at.is_(None))
        .where(Reminder.cancelled_at.is_(None))
        .values(cancelled_at=now)
    )
    await session.flush()


async def anonymise_request(session: AsyncSession, request: RtiRequest, now: datetime) -> None:
    """Clear a request's name, reply address, information and owner; keep authority and dates."""
    request.information = ""
    request.reply_address = ""
    request.requester_name = ""
    request.user_id = None
    request.anonymised_at = now
    await session.execute(
        update(Reminder)
        .where(Reminder.request_id == request.id, Reminder.sent_at.is_(None))
        .where(Reminder.cancelled_at.is_(None))
        .values(cancelled_at=now)
    )
    await session.flush()


async def _old_cases(session: AsyncSession, cutoff: datetime) -> list[Case]:
    """Closed or withdrawn cases untouched since the cutoff and not yet anonymised by retention.

    `updated_at` moves with every change, so a case closed later, or worked on after closing,
    waits: nothing is anonymised earlier than the notice says.
    """
    result = await session.execute(
        select(Case).where(
            Case.status.in_([s.value for s in CLOSED_CASES]),
            Case.updated_at < cutoff,
            or_(Case.erased_by.is_(None), Case.erased_by != ErasedBy.RETENTION),
        )
    )
    return list(result.scalars())


async def _old_requests(session: AsyncSession, cutoff: datetime) -> list[RtiRequest]:
    """Requests over (answered, decided, or never sent), or whose complaint window closed."""
    cutoff_day: date = cutoff.date()
    complaint_over = RtiRequest.status.in_([s.value for s in rti.COMPLAINABLE]) & or_(
        RtiRequest.complaint_due_on.is_(None), RtiRequest.complaint_due_on < cutoff_day
    )
    result = await session.execute(
        select(RtiRequest).where(
            RtiRequest.anonymised_at.is_(None),
            RtiRequest.updated_at < cutoff,
            or_(RtiRequest.status.in_([s.value for s in FINISHED_REQUESTS]), complaint_over),
        )
    )
    return list(result.scalars())


async def _prune_outbox(session: AsyncSession, cutoff: datetime) -> int:
    """Delete finished delivery rows (finished broadcasts, direct) created before the cutoff."""
    finished = select(Broadcast.id).where(Broadcast.status.in_(DONE_BROADCASTS))
    old = (
        OutboxMessage.created_at < cutoff,
        OutboxMessage.status != OUTBOX_PENDING,
        or_(OutboxMessage.broadcast_id.in_(finished), OutboxMessage.broadcast_id.is_(None)),
    )
    ids = list((await session.execute(select(OutboxMessage.id).where(*old))).scalars())
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(chunk)))
    return len(ids)


async def _prune_audit(session: AsyncSession, cutoff: datetime) -> int:
    """Empty before/after of audit entries older than the cutoff; who, what and when stay.

    Emptied entries hold SQL NULL (not JSON null), so the next run does not read them again.
    """
    result = await session.execute(
        select(AuditEntry.id, AuditEntry.before, AuditEntry.after).where(
            AuditEntry.at < cutoff,
            or_(AuditEntry.before.is_not(None), AuditEntry.after.is_not(None)),
        )
    )
    rows = result.all()
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        await session.execute(
            update(AuditEntry).where(AuditEntry.id.in_(chunk)).values(before=null(), after=null())
        )
    return sum(1 for row in rows if row[1] is not None or row[2] is not None)


async def run(session: AsyncSession, now: datetime, months: int) -> Counts:
    """One retention pass over everything older than `months` months before `now`."""
    cutoff = months_before(now, months)
    old_cases = await _old_cases(session, cutoff)
    for case in old_cases:
        await anonymise_case(session, case, ErasedBy.RETENTION, now)
    old_requests = await _old_requests(session, cutoff)
    for request in old_requests:
        await anonymise_request(session, request, now)
    pruned = await bot_state.delete_older_than(session, cutoff)
    deliveries = await _prune_outbox(session, cutoff)
    audit_details = await _prune_audit(session, cutoff)
    counts = Counts(
        cases=len(old_cases),
        requests=len(old_requests),
        states=len(pruned),
        deliveries=deliveries,
        audit_details=audit_details,
        pruned_states=pruned,
    )
    await audit.record(
        session,
        at=now,
        actor_kind="system",
        action="retention.run",
        subject_type="system",
        subject_id=None,
        after={
            "months": months,
            "cases": counts.cases,
            "requests": counts.requests,
            "states": counts.states,
            "deliveries": counts.deliveries,
            "audit_details": counts.audit_details,
        },
    )
    return counts
