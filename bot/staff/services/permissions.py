"""Staff roles and what each may do: the permission table every staff action is checked against."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.staff.services import casework
from db.models import Case, CaseKind, StaffMember, StaffRevocation, StaffRole, User
from db.repositories import audit
from db.repositories import users as users_repo

log = logging.getLogger(__name__)


class Permission(enum.StrEnum):
    """Things staff do."""

    ADMIN = "admin"
    CASES = "cases"
    STATS = "stats"
    EXPORT = "export"
    BROADCAST = "broadcast"
    REPORT_CARDS = "report_cards"


ALLOWED = {
    StaffRole.ADMIN: {
        Permission.ADMIN,
        Permission.CASES,
        Permission.STATS,
        Permission.EXPORT,
        Permission.BROADCAST,
        Permission.REPORT_CARDS,
    },
    StaffRole.CASEWORKER: {Permission.CASES, Permission.STATS, Permission.EXPORT},
    StaffRole.VIEWER: {Permission.STATS},
}


def can(member: StaffMember | None, permission: Permission) -> bool:
    """Whether a staff member (or nobody) holds a permission."""
    return member is not None and permission in ALLOWED[StaffRole(member.role)]


def sees(member: StaffMember | None, case: Case) -> bool:
    """Caseworkers see cases of their municipalities; corruption only with the permission."""
    if not can(member, Permission.CASES):
        return False
    assert member is not None
    if case.kind == CaseKind.CORRUPTION and not member.corruption:
        return False
    scope = member.municipality_ids
    return scope is None or case.municipality_id in scope


async def member(session: AsyncSession, telegram_id: int) -> StaffMember | None:
    """The staff grant of a Telegram account, if any."""
    result = await session.execute(
        select(StaffMember)
        .join(User, User.id == StaffMember.user_id)
        .where(User.telegram_id == telegram_id)
    )
    return result.scalar_one_or_none()


async def sees_now(session: AsyncSession, user_id: int, case: Case) -> bool:
    """Whether the user may see the case by their grant as stored now (not as remembered)."""
    return sees(await session.get(StaffMember, user_id), case)


async def everyone(session: AsyncSession) -> list[tuple[StaffMember, User]]:
    """All staff with their user rows."""
    result = await session.execute(
        select(StaffMember, User)
        .join(User, User.id == StaffMember.user_id)
        .order_by(StaffMember.display_name)
    )
    return [(row[0], row[1]) for row in result.all()]


async def _user_for(session: AsyncSession, telegram_id: int, now: datetime) -> User:
    """The user row of a staff member (created bare when they never used the bot)."""
    user = await users_repo.by_telegram_id(session, telegram_id)
    if user is None:
        user = await users_repo.add(
            session, User(telegram_id=telegram_id, created_at=now, updated_at=now, consents=[])
        )
    return user


async def grant(
    session: AsyncSession,
    telegram_id: int,
    role: StaffRole,
    *,
    display_name: str,
    corruption: bool,
    municipality_ids: Iterable[int] | None,
    by_user_id: int | None,
    now: datetime,
) -> StaffMember:
    """Give or change a role; audited with before/after; cases it no longer sees are released.

    A grant by an admin also clears a recorded revocation (ADMIN_IDS never does: by_user_id None).
    """
    user = await _user_for(session, telegram_id, now)
    current = await session.get(StaffMember, user.id)
    before = _describe(current)
    revocation = await session.get(StaffRevocation, telegram_id)
    if revocation is not None and by_user_id is not None:
        await session.delete(revocation)
        before = {**(before or {}), "revoked_at": revocation.revoked_at.isoformat()}
    if current is None:
        current = StaffMember(user_id=user.id, granted_at=now, display_name=display_name)
        session.add(current)
    current.role = role
    current.corruption = corruption
    current.municipality_ids = sorted(municipality_ids) if municipality_ids is not None else None
    current.display_name = display_name[:100]
    current.granted_by_user_id = by_user_id
    current.granted_at = now
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if by_user_id else "system",
        actor_user_id=by_user_id,
        action="staff.granted",
        subject_type="staff",
        subject_id=user.id,
        before=before,
        after=_describe(current),
    )
    await release_unseen(session, user.id, current, by_user_id=by_user_id, now=now)
    return current


async def revoke(
    session: AsyncSession, telegram_id: int, *, by_user_id: int | None, now: datetime
) -> bool:
    """Remove a staff grant, record the revocation, return their cases to the queue; audited."""
    user = await users_repo.by_telegram_id(session, telegram_id)
    current = await session.get(StaffMember, user.id) if user else None
    if current is None or user is None:
        return False
    before = _describe(current)
    await session.delete(current)
    revocation = await session.get(StaffRevocation, telegram_id)
    if revocation is None:
        revocation = StaffRevocation(telegram_id=telegram_id, revoked_at=now)
        session.add(revocation)
    revocation.revoked_at = now
    revocation.revoked_by_user_id = by_user_id
    await session.flush()
    await release_unseen(session, user.id, None, by_user_id=by_user_id, now=now)
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=by_user_id,
        action="staff.revoked",
        subject_type="staff",
        subject_id=user.id,
        before=before,
    )
    return True


async def release_unseen(
    session: AsyncSession,
    user_id: int,
    grant_now: StaffMember | None,
    *,
    by_user_id: int | None,
    now: datetime,
) -> int:
    """Return to the queue every case assigned to the user that their grant no longer sees."""
    assigned = await session.execute(select(Case).where(Case.assignee_user_id == user_id))
    released = 0
    for case in assigned.scalars().all():
        if not sees(grant_now, case):
            await casework.release(session, case, actor_user_id=by_user_id, now=now)
            released += 1
    return released


async def revoked(session: AsyncSession, telegram_id: int) -> bool:
    """Whether the account's staff grant was revoked (and not granted again by an admin).

    Keyed by the Telegram id, so it holds after the person erased their data (no user row).
    """
    return await session.get(StaffRevocation, telegram_id) is not None


async def bootstrap_admins(session: AsyncSession, admin_ids: Iterable[int], now: datetime) -> int:
    """ADMIN_IDS become admins (with the corruption permission) unless staff or ever revoked."""
    added = 0
    for telegram_id in admin_ids:
        if await revoked(session, telegram_id):
            log.warning("an ADMIN_IDS entry was revoked before; it is not made admin again")
            continue
        if await member(session, telegram_id) is None:
            await grant(
                session,
                telegram_id,
                StaffRole.ADMIN,
                display_name=f"Admin {telegram_id % 10000}",
                corruption=True,
                municipality_ids=None,
                by_user_id=None,
                now=now,
            )
            added += 1
    return added


def _describe(current: StaffMember | None) -> dict | None:
    """The audited shape of a grant."""
    if current is None:
        return None
    return {
        "role": current.role,
        "corruption": current.corruption,
        "municipality_ids": current.municipality_ids,
    }
