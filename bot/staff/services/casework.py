"""Staff work on cases: take, assign, notes, replies, merge, reopen, redact; everything audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.services import case_rules
from db.models import (
    Case,
    CaseAttachment,
    CaseEvent,
    CaseEventKind,
    CaseFollower,
    CaseKind,
    CaseStatus,
    StaffMember,
)
from db.repositories import audit

PAGE = 8


async def _touch(
    session: AsyncSession,
    case: Case,
    *,
    staff_user_id: int,
    action: str,
    now: datetime,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Record a staff action on a case: last action time and an audit entry."""
    case.last_staff_action_at = now
    case.updated_at = now
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=staff_user_id,
        action=action,
        subject_type="case",
        subject_id=case.id,
        before=before,
        after=after,
    )


async def assign(
    session: AsyncSession, case: Case, assignee_user_id: int, *, staff_user_id: int, now: datetime
) -> None:
    """Give the case to a caseworker (taking it is assigning it to oneself)."""
    before = {"assignee": case.assignee_user_id}
    case.assignee_user_id = assignee_user_id
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind=CaseEventKind.ASSIGNED,
            internal=True,
            staff_user_id=staff_user_id,
        )
    )
    await _touch(
        session,
        case,
        staff_user_id=staff_user_id,
        action="case.assigned",
        now=now,
        before=before,
        after={"assignee": assignee_user_id},
    )


async def release(
    session: AsyncSession, case: Case, *, actor_user_id: int | None, now: datetime
) -> None:
    """Back to the queue: the assignee lost the right to see the case (revoked or rescoped)."""
    before = {"assignee": case.assignee_user_id}
    case.assignee_user_id = None
    case.updated_at = now
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind=CaseEventKind.UNASSIGNED,
            internal=True,
            staff_user_id=actor_user_id,
        )
    )
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if actor_user_id else "system",
        actor_user_id=actor_user_id,
        action="case.unassigned",
        subject_type="case",
        subject_id=case.id,
        before=before,
        after={"assignee": None, "reason": "access_revoked"},
    )


async def exchanges(session: AsyncSession, case: Case, limit: int = 6) -> list[CaseEvent]:
    """The latest staff messages and reporter answers of a case, oldest first (for staff)."""
    result = await session.execute(
        select(CaseEvent)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind.in_((CaseEventKind.STAFF_REPLY, CaseEventKind.REPORTER_REPLY)),
        )
        .order_by(CaseEvent.id.desc())
        .limit(limit)
    )
    return list(reversed(result.scalars().all()))


async def set_status(
    session: AsyncSession,
    case: Case,
    status: CaseStatus,
    note: str | None,
    *,
    staff_user_id: int,
    now: datetime,
    duplicate_of: Case | None = None,
) -> None:
    """A status change with its public note (the reporter and followers hear of it)."""
    await case_rules.change_status(
        session,
        case,
        status,
        public_note=note,
        actor_user_id=staff_user_id,
        now=now,
        duplicate_of=duplicate_of,
    )
    event = (
        await session.execute(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.id.desc())
            .limit(1)
        )
    ).scalar_one()
    event.staff_user_id = staff_user_id
    case.last_staff_action_at = now


async def note(
    session: AsyncSession, case: Case, text: str, *, staff_user_id: int, now: datetime
) -> None:
    """An internal note: never sent, never exported."""
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind=CaseEventKind.NOTE,
            public_text=text,
            internal=True,
            staff_user_id=staff_user_id,
        )
    )
    await _touch(session, case, staff_user_id=staff_user_id, action="case.note", now=now)


async def reply(
    session: AsyncSession, case: Case, text: str, *, staff_user_id: int, now: datetime
) -> None:
    """A message relayed to the reporter (shown in the timeline)."""
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind=CaseEventKind.STAFF_REPLY,
            public_text=text,
            staff_user_id=staff_user_id,
        )
    )
    await _touch(session, case, staff_user_id=staff_user_id, action="case.reply", now=now)


async def reporter_answer(
    session: AsyncSession, case: Case, text: str | None, now: datetime
) -> None:
    """The reporter's answer to a staff message, shown back in the case (None: files only)."""
    session.add(
        CaseEvent(case_id=case.id, at=now, kind=CaseEventKind.REPORTER_REPLY, public_text=text)
    )
    case.updated_at = now
    await session.flush()


async def answer_files(
    session: AsyncSession, case: Case, files: list[case_rules.Attachment], now: datetime
) -> None:
    """Files that came with a reporter's answer, already cleaned and under neutral names, kept
    as the case's attachments (staff see them in 📎 Files)."""
    for item in files:
        session.add(
            CaseAttachment(
                case_id=case.id,
                kind=item.kind,
                file_id=item.file_id,
                file_name=item.file_name,
                cleaned=item.cleaned,
                added_at=now,
            )
        )
    await session.flush()


def same_kind(duplicate: Case, kept: Case) -> bool:
    """Whether two cases may be merged: a service report and a corruption report never are (the
    duplicate's reporter would be told the other case's reference, and corruption cases have
    their own permission and confidentiality)."""
    return duplicate.kind == kept.kind


async def merge(
    session: AsyncSession, duplicate: Case, kept: Case, *, staff_user_id: int, now: datetime
) -> int:
    """Mark a duplicate; its followers and reachable reporter now follow the kept case."""
    if not same_kind(duplicate, kept):
        raise ValueError("a service case and a corruption case are never merged")
    moved = 0
    followers = (
        await session.execute(select(CaseFollower).where(CaseFollower.case_id == duplicate.id))
    ).scalars()
    people = [f.user_id for f in followers]
    reporter = await case_rules.reporter_of(session, duplicate)
    if reporter is not None:
        people.append(reporter.id)
    for user_id in dict.fromkeys(people):
        if (
            await session.get(CaseFollower, (kept.id, user_id)) is None
            and user_id != kept.reporter_user_id
        ):
            session.add(CaseFollower(case_id=kept.id, user_id=user_id, created_at=now))
            moved += 1
    await set_status(
        session,
        duplicate,
        CaseStatus.DUPLICATE,
        None,
        staff_user_id=staff_user_id,
        now=now,
        duplicate_of=kept,
    )
    await _touch(
        session,
        kept,
        staff_user_id=staff_user_id,
        action="case.merged",
        now=now,
        after={"duplicate": duplicate.reference},
    )
    return moved


async def redact(
    session: AsyncSession, case: Case, text: str, *, staff_user_id: int, now: datetime
) -> None:
    """Replace the description; the first original is kept for admins only."""
    if case.original_description is None:
        case.original_description = case.description
    case.description = text
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind=CaseEventKind.REDACTED,
            internal=True,
            staff_user_id=staff_user_id,
        )
    )
    await _touch(session, case, staff_user_id=staff_user_id, action="case.redacted", now=now)


async def inbox(
    session: AsyncSession,
    member: StaffMember,
    *,
    status: str,
    mine: bool,
    overdue_days: int | None,
    now: datetime,
    page: int,
) -> tuple[list[Case], bool]:
    """A page of the cases this staff member may see, filtered; and whether more follow."""
    query = select(Case)
    if status == "open":
        query = query.where(Case.status.in_([s.value for s in case_rules.OPEN]))
    elif status != "all":
        query = query.where(Case.status == status)
    if not member.corruption:
        query = query.where(Case.kind != CaseKind.CORRUPTION)
    if member.municipality_ids is not None:
        query = query.where(Case.municipality_id.in_(member.municipality_ids))
    if mine:
        query = query.where(Case.assignee_user_id == member.user_id)
    if overdue_days is not None:
        limit = now - timedelta(days=overdue_days)
        query = query.where(
            Case.status.in_([s.value for s in case_rules.OPEN]),
            or_(
                Case.last_staff_action_at < limit,
                Case.last_staff_action_at.is_(None) & (Case.created_at < limit),
            ),
        )
    rows = (
        (await session.execute(query.order_by(Case.id.desc()).offset(page * PAGE).limit(PAGE + 1)))
        .scalars()
        .all()
    )
    return list(rows[:PAGE]), len(rows) > PAGE


async def idle_for(session: AsyncSession, user_id: int, days: int, now: datetime) -> list[Case]:
    """Open cases assigned to someone with no staff action for `days` days."""
    limit = now - timedelta(days=days)
    result = await session.execute(
        select(Case)
        .where(
            Case.assignee_user_id == user_id,
            Case.status.in_([s.value for s in case_rules.OPEN]),
            or_(
                Case.last_staff_action_at < limit,
                Case.last_staff_action_at.is_(None) & (Case.created_at < limit),
            ),
        )
        .order_by(Case.id)
    )
    return list(result.scalars())
