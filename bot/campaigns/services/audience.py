"""Who a broadcast reaches, as one SQL query: consent (c), not blocked, and its filters.

Filters combine with AND; values inside one filter with OR. A person who follows a region
(qark) is in the audience of each of its municipalities, one who follows "all" in every one.
An event audience is the people attending it, a poll audience the people who voted in it;
both still need consent (c).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, and_, cast, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Authority,
    Broadcast,
    Consent,
    ConsentPurpose,
    EventRsvp,
    OutboxMessage,
    OutboxStatus,
    PollVote,
    Subscription,
    User,
)

FILTERS = ("topics", "roles", "languages", "age_bands")


@dataclass(frozen=True)
class Audience:
    """A broadcast's filters; empty lists mean "anyone"."""

    topics: tuple[str, ...] = ()
    municipality_ids: tuple[int, ...] = ()
    roles: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    event_id: int | None = None
    poll_id: int | None = None
    not_attending: int | None = None
    """An event (by id) whose attendees are left out: a re-announcement does not re-invite."""
    default_language: str = field(default="sq", compare=False)

    @classmethod
    def of(cls, broadcast: Broadcast, default_language: str = "sq") -> Audience:
        """The audience stored on a broadcast (its topic counts when no topics are listed)."""
        extra: dict[str, Any] = broadcast.audience or {}
        topics = tuple(extra.get("topics") or ([broadcast.topic] if broadcast.topic else []))
        if extra.get("event_id") or extra.get("poll_id"):
            topics = ()
        return cls(
            topics=topics,
            municipality_ids=tuple(broadcast.municipality_ids or ()),
            roles=tuple(extra.get("roles") or ()),
            languages=tuple(extra.get("languages") or ()),
            age_bands=tuple(extra.get("age_bands") or ()),
            event_id=extra.get("event_id"),
            poll_id=extra.get("poll_id"),
            not_attending=extra.get("not_attending"),
            default_language=default_language,
        )

    def stored(self) -> dict[str, Any] | None:
        """The JSON kept in Broadcast.audience (topics and municipalities have their own)."""
        kept: dict[str, Any] = {name: list(getattr(self, name)) for name in FILTERS}
        kept["event_id"], kept["poll_id"] = self.event_id, self.poll_id
        kept["not_attending"] = self.not_attending
        kept = {name: value for name, value in kept.items() if value}
        return kept or None


def _follows(topic: str) -> Any:
    """Subscription.topics (a JSON list of plain words) contains a topic, on any backend."""
    return cast(Subscription.topics, String).like(f'%"{topic}"%')


def recipients(audience: Audience) -> Select[tuple[int]]:
    """User ids the audience reaches, as a query (never loaded whole into memory)."""
    consented = select(Consent.user_id).where(
        Consent.purpose == ConsentPurpose.CAMPAIGNS, Consent.withdrawn_at.is_(None)
    )
    query = select(User.id).where(User.blocked_at.is_(None), User.id.in_(consented))
    if audience.event_id is not None:
        attending = select(EventRsvp.user_id).where(
            EventRsvp.event_id == audience.event_id, EventRsvp.attending.is_(True)
        )
        query = query.where(User.id.in_(attending))
    if audience.not_attending is not None:
        coming = select(EventRsvp.user_id).where(
            EventRsvp.event_id == audience.not_attending, EventRsvp.attending.is_(True)
        )
        query = query.where(User.id.not_in(coming))
    if audience.poll_id is not None:
        voted = select(PollVote.user_id).where(PollVote.poll_id == audience.poll_id)
        query = query.where(User.id.in_(voted))
    if audience.topics or audience.municipality_ids:
        query = query.join(Subscription, Subscription.user_id == User.id)
        if audience.topics:
            query = query.where(or_(*(_follows(topic) for topic in audience.topics)))
        if audience.municipality_ids:
            regions = select(Authority.qark).where(Authority.id.in_(audience.municipality_ids))
            query = query.where(
                or_(
                    Subscription.municipality_id.in_(audience.municipality_ids),
                    Subscription.region.in_(regions),
                    and_(Subscription.municipality_id.is_(None), Subscription.region.is_(None)),
                )
            )
    if audience.roles:
        query = query.where(User.role.in_(audience.roles))
    if audience.age_bands:
        query = query.where(User.age_band.in_(audience.age_bands))
    if audience.languages:
        language = User.language.in_(audience.languages)
        if audience.default_language in audience.languages:
            language = or_(language, User.language.is_(None))
        query = query.where(language)
    return query


async def count(session: AsyncSession, audience: Audience) -> int:
    """How many people match right now (shown to staff before anything is sent)."""
    found = await session.execute(select(func.count()).select_from(recipients(audience).subquery()))
    return int(found.scalar_one())


async def fill_outbox(
    session: AsyncSession, broadcast: Broadcast, now: datetime, default_language: str = "sq"
) -> int:
    """One pending outbox row per recipient not already there, in one INSERT … SELECT."""
    audience = Audience.of(broadcast, default_language)
    present = select(OutboxMessage.user_id).where(OutboxMessage.broadcast_id == broadcast.id)
    table = OutboxMessage.__table__.c
    chosen = recipients(audience).where(User.id.not_in(present)).subquery()
    rows = select(
        literal(broadcast.id, type_=table.broadcast_id.type),
        chosen.c.id,
        literal(OutboxStatus.PENDING, type_=table.status.type),
        literal(0, type_=table.attempts.type),
        literal(now, type_=table.created_at.type),
    )
    result = await session.execute(
        insert(OutboxMessage).from_select(
            ["broadcast_id", "user_id", "status", "attempts", "created_at"], rows
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
