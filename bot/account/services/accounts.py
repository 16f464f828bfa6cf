"""A user's life cycle: consent or refusal, profile answers, language, blocking, erasure."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.account.services import consent as privacy
from bot.account.services import retention
from bot.reportcards.services import responses as report_cards
from bot.staff.services import permissions as staff
from db.base import Base
from db.models import (
    AgeBand,
    Case,
    CaseContact,
    ConsentPurpose,
    ErasedBy,
    Role,
    StaffMember,
    StaffRevocation,
    User,
)
from db.repositories import audit, bot_state
from db.repositories import users as users_repo

STAFF_TABLES = frozenset({StaffMember.__tablename__, StaffRevocation.__tablename__})
"""Kept when a staff member erases their data but keeps the role. (A revocation is keyed by the
Telegram id, not users.id, so no erasure deletes it: listed here only to be safe.)"""
AGE_SKIPPED = "skipped"
"""Stored when someone prefers not to say, so the question is not asked again."""


class Step(enum.StrEnum):
    """Where a person stands in onboarding; derived from their row so it survives restarts."""

    NOTICE = "notice"
    AGE = "age"
    ROLE = "role"
    DONE = "done"


@dataclass(frozen=True)
class Actor:
    """Who acts and when; passed to services instead of Telegram objects."""

    telegram_id: int
    now: datetime


def next_step(user: User | None) -> Step:
    """The onboarding question to ask next."""
    if user is None or (not privacy.has_consent(user) and user.onboarded_at is None):
        return Step.NOTICE
    if user.onboarded_at is not None:
        return Step.DONE
    if user.age_band is None:
        return Step.AGE
    return Step.ROLE


async def _audit(
    session: AsyncSession, user: User, now: datetime, action: str, **after: Any
) -> None:
    """Audit a change the user made to their own record."""
    await audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_user_id=user.id,
        action=action,
        subject_type="user",
        subject_id=user.id,
        after=after or None,
    )


async def _get_or_create(session: AsyncSession, actor: Actor, language: str) -> User:
    """The person's row, created with only the Telegram id and language if missing."""
    user = await users_repo.by_telegram_id(session, actor.telegram_id)
    if user is None:
        user = await users_repo.add(
            session,
            User(
                telegram_id=actor.telegram_id,
                language=language,
                created_at=actor.now,
                updated_at=actor.now,
                consents=[],
            ),
        )
    return user


async def accept_notice(session: AsyncSession, actor: Actor, language: str) -> User:
    """Consent to storing and handling (purpose a): creates the row if needed."""
    user = await _get_or_create(session, actor, language)
    user.privacy_refused_at = None
    user.language = user.language or language
    if user.age_band == AgeBand.UNDER_16:
        user.age_band = None
        user.onboarded_at = None
    granted = privacy.grant(user, ConsentPurpose.CASES, actor.now)
    user.updated_at = actor.now
    if granted is not None:
        await _audit(
            session,
            user,
            actor.now,
            "consent.given",
            purpose=ConsentPurpose.CASES,
            notice_version=privacy.NOTICE_VERSION,
        )
    return user


async def refuse_notice(session: AsyncSession, actor: Actor, language: str) -> User:
    """Remember a refusal and nothing more than the language we talk in."""
    user = await _get_or_create(session, actor, language)
    user.privacy_refused_at = actor.now
    user.updated_at = actor.now
    await _audit(session, user, actor.now, "consent.refused", notice_version=privacy.NOTICE_VERSION)
    return user


async def set_language(session: AsyncSession, actor: Actor, language: str) -> User | None:
    """Store the language if we already keep a row for this person; otherwise store nothing."""
    user = await users_repo.by_telegram_id(session, actor.telegram_id)
    if user is not None and user.language != language:
        user.language = language
        user.updated_at = actor.now
    return user


async def set_age_band(session: AsyncSession, actor: Actor, band: AgeBand | None) -> User | None:
    """Record the age band; under 16 withdraws consent and keeps only the band (privacy.md 3)."""
    user = await users_repo.by_telegram_id(session, actor.telegram_id)
    if user is None or not privacy.has_consent(user):
        return user
    if band == AgeBand.UNDER_16:
        withdrawn = privacy.withdraw_all(user, actor.now)
        user.role = None
        user.onboarded_at = actor.now
        await _audit(
            session,
            user,
            actor.now,
            "consent.withdrawn",
            purposes=sorted(withdrawn),
            reason="under_16",
        )
    user.age_band = band.value if band else AGE_SKIPPED
    user.updated_at = actor.now
    return user


async def correct_age_band(session: AsyncSession, actor: Actor, band: AgeBand) -> User | None:
    """A corrected age band from /privacy, audited; the band's rules follow (privacy.md 3).

    Becoming under 16 withdraws every consent and the role, as in onboarding; leaving under 16
    gives nothing back by itself: the person gives each consent again.
    """
    user = await users_repo.by_telegram_id(session, actor.telegram_id)
    if user is None or user.age_band == band.value:
        return user
    before = user.age_band
    if band == AgeBand.UNDER_16:
        withdrawn = privacy.withdraw_all(user, actor.now)
        user.role = None
        if withdrawn:
            await _audit(
                session,
                user,
                actor.now,
                "consent.withdrawn",
                purposes=sorted(withdrawn),
                reason="under_16",
            )
    user.age_band = band.value
    user.onboarded_at = user.onboarded_at or actor.now
    user.updated_at = actor.now
    await audit.record(
        session,
        at=actor.now,
        actor_kind="user",
        actor_user_id=user.id,
        action="user.age_band",
        subject_type="user",
        subject_id=user.id,
        before={"age_band": before},
        after={"age_band": band.value},
    )
    return user


async def set_role(session: AsyncSession, actor: Actor, role: Role | None) -> User | None:
    """Record the optional role and finish onboarding."""
    user = await users_repo.by_telegram_id(session, actor.telegram_id)
    if user is None or not privacy.has_consent(user):
        return user
    user.role = role.value if role else None
    user.onboarded_at = user.onboarded_at or actor.now
    user.updated_at = actor.now
    return user


async def change_consent(
    session: AsyncSession, actor: Actor, purpose: ConsentPurpose, give: bool
) -> User | None:
    """Give or withdraw one purpose; withdrawing purpose (a) also drops the profile answers."""
    user = await users_repo.by_telegram_id(session, actor.telegram_id)
    if user is None:
        return None
    if give:
        if privacy.grant(user, purpose, actor.now) is not None:
            await _audit(
                session,
                user,
                actor.now,
                "consent.given",
                purpose=purpose,
                notice_version=privacy.NOTICE_VERSION,
            )
    elif privacy.withdraw(user, purpose, actor.now) is not None:
        if purpose == ConsentPurpose.CASES:
            user.role = None
            user.age_band = None
            user.onboarded_at = None
        await _audit(session, user, actor.now, "consent.withdrawn", purpose=purpose)
    user.updated_at = actor.now
    return user


async def set_blocked(session: AsyncSession, actor: Actor, blocked: bool) -> None:
    """Note that the person blocked (or unblocked) the bot, if we keep a row for them."""
    user = await users_repo.by_telegram_id(session, actor.telegram_id)
    if user is not None:
        user.blocked_at = actor.now if blocked else None
        user.updated_at = actor.now


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, for the confirmation: cases kept without the person, the staff role,
    and whether the record of a revoked staff role stays (keyed by the Telegram id)."""

    cases_kept: int
    staff_role_kept: bool
    was_staff: bool
    revocation_kept: bool = False


async def _delete_owned_rows(session: AsyncSession, user_id: int, keep: frozenset[str]) -> None:
    """Delete the rows of every table that belongs to the person (a cascading users.id key).

    Read from the schema, so a table added later is covered without a change here; the
    tables in `keep` (the staff grant, when the person keeps it) stay.
    """
    for table in reversed(Base.metadata.sorted_tables):
        if table.name == User.__tablename__ or table.name in keep:
            continue
        for key in table.foreign_keys:
            if key.column.table.name == User.__tablename__ and key.ondelete == "CASCADE":
                await session.execute(delete(table).where(key.parent == user_id))


async def _own_cases(session: AsyncSession, user: User) -> list[Case]:
    """Cases the person filed: named (reporter link) or confidential (contact row)."""
    confidential = select(CaseContact.case_id).where(CaseContact.user_id == user.id)
    result = await session.execute(
        select(Case).where(or_(Case.reporter_user_id == user.id, Case.id.in_(confidential)))
    )
    return list(result.scalars())


async def erase(
    session: AsyncSession, actor: Actor, *, keep_staff_role: bool = True
) -> Erasure | None:
    """Erase everything held about a person (privacy.md 6); None when nothing was held.

    Filed cases stay for statistics without the person (retention.anonymise_case: name, own
    texts, place details, files and links go, marked "erased by the reporter"); every row of
    the person's own is deleted, with their stored conversation states. A staff member keeps
    the grant unless `keep_staff_role` is False: then only the Telegram id, language and the
    grant stay. The audit keeps that an erasure happened, with counts and no content. A
    revoked staff role stays recorded under the Telegram id (and so does ending one's own role
    here), so that ADMIN_IDS cannot make the id staff again after the user row is gone.
    """
    await bot_state.delete_of_person(session, actor.telegram_id)
    user = await users_repo.by_telegram_id(session, actor.telegram_id)
    if user is None:
        if await staff.revoked(session, actor.telegram_id):
            return Erasure(
                cases_kept=0, staff_role_kept=False, was_staff=False, revocation_kept=True
            )
        return None
    user_id = user.id
    own = await _own_cases(session, user)
    for case in own:
        await retention.anonymise_case(session, case, ErasedBy.REPORTER, actor.now)
    await report_cards.erase_of_person(session, user)  # closed rounds' are tied to no one
    was_staff = await session.get(StaffMember, user_id) is not None
    keep_role = was_staff and keep_staff_role
    if was_staff and not keep_role:
        await staff.revoke(session, actor.telegram_id, by_user_id=user_id, now=actor.now)
    await _delete_owned_rows(session, user_id, STAFF_TABLES if keep_role else frozenset())
    if keep_role:
        session.expire(user, ["consents"])
        user.age_band = None
        user.role = None
        user.onboarded_at = None
        user.privacy_refused_at = None
        user.blocked_at = None
        user.updated_at = actor.now
    else:
        session.expunge(user)
        await session.execute(delete(User).where(User.id == user_id))
    await audit.record(
        session,
        at=actor.now,
        actor_kind="user",
        actor_user_id=user_id if keep_role else None,
        action="user.erased",
        subject_type="user",
        subject_id=user_id,
        after={"cases_kept_anonymised": len(own), "staff_role_kept": keep_role},
    )
    return Erasure(
        cases_kept=len(own),
        staff_role_kept=keep_role,
        was_staff=was_staff,
        revocation_kept=not keep_role and await staff.revoked(session, actor.telegram_id),
    )
