"""Campaigns: opt-in subscriptions, broadcasts, and their outbox (one row per recipient).

The outbox's unique (broadcast, user) key makes a resumed broadcast skip everyone already
reached; a row is marked sent right after Telegram accepted the message, so a hard kill can
repeat at most the message in flight.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import privacy, recurrence
from bot.services.audience import fill_outbox
from db.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    ConsentPurpose,
    OutboxMessage,
    Subscription,
    Topic,
    User,
)
from db.repositories import audit
from db.repositories import users as users_repo

QUIET_START, QUIET_END = time(21, 0), time(8, 0)


class NoCampaignConsentError(Exception):
    """Subscriptions need consent (c), receiving campaign messages."""


async def subscription(session: AsyncSession, user: User) -> Subscription | None:
    """A person's subscription, if any."""
    return await session.get(Subscription, user.id)


async def _own(session: AsyncSession, user: User, now: datetime) -> Subscription:
    """The person's subscription, created empty; only with consent (c)."""
    if not privacy.has_consent(user, ConsentPurpose.CAMPAIGNS):
        raise NoCampaignConsentError
    current = await subscription(session, user)
    if current is None:
        current = Subscription(user_id=user.id, topics=[], created_at=now, updated_at=now)
        session.add(current)
    return current


async def toggle_topic(session: AsyncSession, user: User, topic: Topic, now: datetime) -> bool:
    """Follow or stop following a topic; True if now followed. Needs consent (c)."""
    current = await _own(session, user, now)
    topics = set(current.topics or [])
    topics ^= {topic.value}
    current.topics = sorted(topics)
    current.updated_at = now
    await session.flush()
    return topic.value in topics


async def set_place(
    session: AsyncSession,
    user: User,
    now: datetime,
    municipality_id: int | None = None,
    region: str | None = None,
) -> None:
    """The municipality or the region (qark) whose news the person wants; neither means all."""
    current = await _own(session, user, now)
    current.municipality_id = municipality_id
    current.region = None if municipality_id is not None else region
    current.updated_at = now
    await session.flush()


async def unsubscribe_topic(session: AsyncSession, user: User, topic: Topic, now: datetime) -> bool:
    """One-tap opt-out from a message: drop that topic. True if it was followed."""
    current = await subscription(session, user)
    if current is None or topic.value not in (current.topics or []):
        return False
    current.topics = [t for t in current.topics if t != topic.value]
    current.updated_at = now
    return True


async def stop_all(session: AsyncSession, telegram_id: int, now: datetime) -> bool:
    """/stop: forget every subscription and withdraw consent (c). True if anything changed."""
    user = await users_repo.by_telegram_id(session, telegram_id)
    if user is None:
        return False
    current = await subscription(session, user)
    changed = current is not None
    if current is not None:
        await session.delete(current)
    if privacy.withdraw(user, ConsentPurpose.CAMPAIGNS, now) is not None:
        changed = True
        await audit.record(
            session,
            at=now,
            actor_kind="user",
            actor_user_id=user.id,
            action="consent.withdrawn",
            subject_type="user",
            subject_id=user.id,
            after={"purpose": ConsentPurpose.CAMPAIGNS},
        )
    return changed


async def create_broadcast(
    session: AsyncSession,
    *,
    title: str,
    text_sq: str,
    text_en: str | None,
    topic: Topic,
    municipality_ids: list[int] | None,
    send_at: datetime,
    by_user_id: int | None,
    now: datetime,
    kind: BroadcastKind = BroadcastKind.CAMPAIGN,
    audience: dict[str, Any] | None = None,
    buttons: list[dict[str, Any]] | None = None,
    media_kind: str | None = None,
    media_file_id: str | None = None,
    recurrence: str | None = None,
    recur_day: int | None = None,
    progress_chat_id: int | None = None,
) -> Broadcast:
    """Store a scheduled (or recurring) broadcast, audited."""
    broadcast = Broadcast(
        kind=kind,
        title=title[:100],
        text_sq=text_sq,
        text_en=text_en,
        topic=topic,
        municipality_ids=municipality_ids,
        audience=audience or None,
        buttons=buttons or None,
        media_kind=media_kind,
        media_file_id=media_file_id,
        status=BroadcastStatus.RECURRING if recurrence else BroadcastStatus.SCHEDULED,
        send_at=send_at,
        recurrence=recurrence,
        recur_day=recur_day,
        progress_chat_id=progress_chat_id,
        created_by_user_id=by_user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(broadcast)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if by_user_id else "system",
        actor_user_id=by_user_id,
        action="broadcast.created",
        subject_type="broadcast",
        subject_id=broadcast.id,
        after={
            "title": broadcast.title,
            "kind": kind,
            "topic": topic,
            "municipality_ids": municipality_ids,
            "audience": audience,
            "recurrence": recurrence,
        },
    )
    return broadcast


COPIED = (
    "kind",
    "title",
    "text_sq",
    "text_en",
    "media_kind",
    "media_file_id",
    "buttons",
    "topic",
    "municipality_ids",
    "audience",
    "progress_chat_id",
    "created_by_user_id",
)
"""What an occurrence of a recurring broadcast takes from its template."""


async def start_due(session: AsyncSession, now: datetime, tz: ZoneInfo) -> list[Broadcast]:
    """Broadcasts whose moment came: fill their outbox once and mark them sending.

    A recurring template spawns a copy and moves its own ``send_at`` to the next occurrence in
    the same transaction, so a restart or a second worker never fires one occurrence twice.
    """
    due = (
        (
            await session.execute(
                select(Broadcast)
                .where(
                    Broadcast.status.in_([BroadcastStatus.SCHEDULED, BroadcastStatus.RECURRING]),
                    Broadcast.send_at <= now,
                )
                .order_by(Broadcast.send_at, Broadcast.id)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    started = []
    for broadcast in due:
        if broadcast.status == BroadcastStatus.RECURRING:
            occurrence = Broadcast(
                **{name: getattr(broadcast, name) for name in COPIED},
                status=BroadcastStatus.SCHEDULED,
                send_at=broadcast.send_at,
                parent_id=broadcast.id,
                created_at=now,
                updated_at=now,
            )
            session.add(occurrence)
            assert broadcast.recurrence is not None and broadcast.recur_day is not None
            broadcast.send_at = recurrence.next_after(
                broadcast.send_at,
                now,
                recurrence.Recurrence(broadcast.recurrence),
                broadcast.recur_day,
                tz,
            )
            broadcast.updated_at = now
            await session.flush()
            broadcast = occurrence
        await fill_outbox(session, broadcast, now)
        broadcast.status = BroadcastStatus.SENDING
        broadcast.started_at = now
        broadcast.updated_at = now
        started.append(broadcast)
    await session.flush()
    return started


def quiet(now: datetime, tz: ZoneInfo) -> bool:
    """21:00–08:00 Tirana time: nothing is delivered; due messages wait until morning."""
    local = now.astimezone(tz).time()
    return local >= QUIET_START or local < QUIET_END


async def next_pending(session: AsyncSession) -> tuple[OutboxMessage, Broadcast, User] | None:
    """The oldest unsent outbox row of a sending broadcast, locked for this worker."""
    row = (
        await session.execute(
            select(OutboxMessage, Broadcast, User)
            .join(Broadcast, Broadcast.id == OutboxMessage.broadcast_id)
            .join(User, User.id == OutboxMessage.user_id)
            .where(OutboxMessage.status == "pending", Broadcast.status == "sending")
            .order_by(OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


async def sent_this_week(session: AsyncSession, user_id: int, now: datetime) -> int:
    """Campaign messages a person received in the last 7 days (the weekly cap)."""
    result = await session.execute(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.status == "sent",
            OutboxMessage.sent_at >= now - timedelta(days=7),
        )
    )
    return int(result.scalar_one())


async def finish_done(session: AsyncSession, now: datetime) -> list[Broadcast]:
    """Sending broadcasts with no pending rows left become done."""
    sending = (
        (await session.execute(select(Broadcast).where(Broadcast.status == "sending")))
        .scalars()
        .all()
    )
    done = []
    for broadcast in sending:
        left = await session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast.id, OutboxMessage.status == "pending")
        )
        if int(left.scalar_one()) == 0:
            broadcast.status = "done"
            broadcast.updated_at = now
            done.append(broadcast)
    return done


async def counts(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """Outbox rows of a broadcast by status."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.status)
    )
    return {status: int(n) for status, n in rows.all()}
