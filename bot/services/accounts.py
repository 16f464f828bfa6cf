"""A user's life cycle: consent or refusal, profile answers, language, blocking, export, erasure."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import privacy
from db.models import AgeBand, Case, ConsentPurpose, Role, RtiRequest, Subscription, User
from db.repositories import audit
from db.repositories import users as users_repo

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


def export(
    user: User,
    requests: list[RtiRequest],
    cases: list[tuple[Case, bool]] = (),
    subscription: Subscription | None = None,
    poll_votes: list[dict[str, Any]] | None = None,
    event_rsvps: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything held about a person, as plain data for the download (privacy.md 6)."""
    return {
        "telegram_id": user.telegram_id,
        "language": user.language,
        "age_band": user.age_band,
        "role": user.role,
        "created_at": user.created_at.isoformat(),
        "onboarded_at": user.onboarded_at.isoformat() if user.onboarded_at else None,
        "privacy_refused_at": (
            user.privacy_refused_at.isoformat() if user.privacy_refused_at else None
        ),
        "consents": [
            {
                "purpose": c.purpose,
                "notice_version": c.notice_version,
                "given_at": c.given_at.isoformat(),
                "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
            }
            for c in user.consents
        ],
        "information_requests": [_request_data(request) for request in requests],
        "cases": [_case_data(case, reporter) for case, reporter in cases],
        "campaign_subscription": (
            {
                "topics": subscription.topics,
                "municipality_id": subscription.municipality_id,
                "region": subscription.region,
            }
            if subscription
            else None
        ),
        "poll_votes": poll_votes or [],
        "event_rsvps": event_rsvps or [],
    }


def _case_data(case: Case, reporter: bool) -> dict[str, Any]:
    """A case the person filed (everything) or follows (reference and status only)."""
    data: dict[str, Any] = {
        "reference": case.reference,
        "role": "reporter" if reporter else "follower",
        "status": case.status,
    }
    if reporter:
        data.update(
            kind=case.kind,
            identification=case.identification,
            municipality=case.municipality.name if case.municipality else None,
            unit=case.unit,
            category=case.category,
            institution=case.institution,
            happened_when=case.happened_when,
            description=case.description,
            location_text=case.location_text,
            latitude=case.latitude,
            longitude=case.longitude,
            created_at=case.created_at.isoformat(),
        )
    return data


def _request_data(request: RtiRequest) -> dict[str, Any]:
    """One request for information as plain data."""
    dates = ("sent_on", "due_on", "outcome_on", "complaint_due_on", "complaint_filed_on")
    return {
        "number": request.id,
        "authority": request.authority.name,
        "information": request.information,
        "format": request.format,
        "reply_channel": request.reply_channel,
        "reply_address": request.reply_address,
        "requester_name": request.requester_name,
        "status": request.status,
        "protocol_number": request.protocol_number,
        "commissioner_outcome": request.commissioner_outcome,
        "created_at": request.created_at.isoformat(),
        **{
            name: getattr(request, name).isoformat() if getattr(request, name) else None
            for name in dates
        },
    }


async def erase(session: AsyncSession, actor: Actor) -> bool:
    """Delete everything held about a person; the audit keeps only that an erasure happened."""
    user = await users_repo.by_telegram_id(session, actor.telegram_id)
    if user is None:
        return False
    user_id = user.id
    await users_repo.delete(session, user)
    await audit.record(
        session,
        at=actor.now,
        actor_kind="user",
        action="user.erased",
        subject_type="user",
        subject_id=user_id,
    )
    return True
