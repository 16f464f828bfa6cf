"""Campaigns: opt-in subscriptions, broadcasts, and their outbox (one row per recipient).

The outbox's unique (broadcast, user) key makes a resumed broadcast skip everyone already
reached. The sender (``bot/broadcasting/sender.py``) records each row soon after Telegram accepted
the message; which rows a hard kill can repeat is explained there.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.account.services import consent as privacy
from bot.campaigns.services import recurrence
from bot.campaigns.services.audience import fill_outbox
from db.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    ConsentPurpose,
    OutboxMessage,
    OutboxStatus,
    Subscription,
    Topic,
    User,
)
from db.repositories import audit
from db.repositories import users as users_repo


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


def quiet(now: datetime, tz: ZoneInfo, start: time, end: time) -> bool:
    """Whether ``now`` is in quiet hours (local time, e.g. 21:00-08:00; equal ends: never)."""
    if start == end:
        return False
    local = now.astimezone(tz).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_ends(now: datetime, tz: ZoneInfo, end: time) -> datetime:
    """The next moment quiet hours end (``end`` local time) after ``now``."""
    local = now.astimezone(tz)
    moment = datetime.combine(local.date(), end, tzinfo=tz)
    return moment if moment > local else moment + timedelta(days=1)


PENDING, SENT, FAILED = OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.FAILED
SKIPPED, CANCELLED = OutboxStatus.SKIPPED, OutboxStatus.CANCELLED
"""Outbox row statuses."""
CAP_REASON, BLOCKED_REASON = "weekly cap", "blocked"


@dataclass(frozen=True)
class Recipient:
    """One pending outbox row with what sending needs to know about its person."""

    outbox_id: int
    user_id: int
    telegram_id: int
    language: str | None
    blocked: bool


QUIET_EXEMPT = (BroadcastKind.EVENT_REMINDER,)
"""Kinds that go out in quiet hours too: a reminder the person asked for, due before the event."""


async def next_sending(
    session: AsyncSession, skip: Collection[int] = (), quiet_now: bool = False
) -> Broadcast | None:
    """The sending broadcast to work on next: reminders and results first, then the oldest.

    In quiet hours only the kinds in QUIET_EXEMPT are worked on.
    """
    query = select(Broadcast).where(Broadcast.status == BroadcastStatus.SENDING)
    if quiet_now:
        query = query.where(Broadcast.kind.in_(QUIET_EXEMPT))
    if skip:
        query = query.where(Broadcast.id.not_in(list(skip)))
    campaign_last = case((Broadcast.kind == BroadcastKind.CAMPAIGN, 1), else_=0)
    found = await session.execute(query.order_by(campaign_last, Broadcast.id).limit(1))
    return found.scalar_one_or_none()


async def held_in_quiet_hours(session: AsyncSession, skip: Collection[int] = ()) -> list[Broadcast]:
    """Sending broadcasts that quiet hours hold back and whose sender follows the progress."""
    query = select(Broadcast).where(
        Broadcast.status == BroadcastStatus.SENDING,
        Broadcast.kind.not_in(QUIET_EXEMPT),
        Broadcast.progress_chat_id.is_not(None),
    )
    if skip:
        query = query.where(Broadcast.id.not_in(list(skip)))
    return list((await session.execute(query.order_by(Broadcast.id))).scalars())


async def status_of(session: AsyncSession, broadcast_id: int) -> str | None:
    """A broadcast's status as stored now (pause and cancel are rows the sender re-reads)."""
    found = await session.execute(select(Broadcast.status).where(Broadcast.id == broadcast_id))
    return found.scalar_one_or_none()


async def id_range(session: AsyncSession, broadcast_id: int) -> tuple[int, int] | None:
    """The first and last outbox id of a broadcast, or None if it has no rows."""
    first, last = (
        await session.execute(
            select(func.min(OutboxMessage.id), func.max(OutboxMessage.id)).where(
                OutboxMessage.broadcast_id == broadcast_id
            )
        )
    ).one()
    return None if first is None else (int(first), int(last))


async def pending_batch(
    session: AsyncSession, broadcast_id: int, after_id: int, last_id: int, limit: int
) -> tuple[list[Recipient], int]:
    """Pending rows of a broadcast among the next ``limit`` after ``after_id``; the id reached."""
    # Walk the primary key up to the broadcast's last row (one INSERT filled them, so they are
    # close together) and keep its pending rows here: each batch then costs the same however
    # many are left, whatever the statistics. Filtered in SQL, PostgreSQL planned on the
    # (broadcast, status) index and re-read all pending rows of a fresh outbox for every batch.
    scanned = (
        await session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.broadcast_id,
                OutboxMessage.status,
                OutboxMessage.user_id,
            )
            .where(OutboxMessage.id > after_id, OutboxMessage.id <= last_id)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    ).all()
    if not scanned:
        return [], last_id
    reached = scanned[-1][0]
    kept = [
        (row_id, user_id)
        for row_id, owner, status, user_id in scanned
        if owner == broadcast_id and status == PENDING
    ]
    if not kept:
        return [], reached
    found = await session.execute(
        select(User.id, User.telegram_id, User.language, User.blocked_at).where(
            User.id.in_([user_id for _, user_id in kept])
        )
    )
    people = {
        user_id: (telegram_id, language, blocked)
        for user_id, telegram_id, language, blocked in found
    }
    recipients = []
    for row_id, user_id in kept:
        if user_id in people:
            telegram_id, language, blocked_at = people[user_id]
            recipients.append(
                Recipient(row_id, user_id, telegram_id, language, blocked_at is not None)
            )
    return recipients, reached


async def capped(
    session: AsyncSession,
    broadcast_id: int,
    user_ids: Collection[int],
    now: datetime,
    cap: int,
) -> set[int]:
    """Of these people, those who got ``cap`` campaign messages in 7 days (reminders are exempt)."""
    # Through the outbox's (broadcast, user) key, for the few campaigns of the week.
    week_ago = now - timedelta(days=7)
    recent = (
        await session.execute(
            select(Broadcast.id).where(
                Broadcast.kind == BroadcastKind.CAMPAIGN,
                Broadcast.id != broadcast_id,
                Broadcast.started_at.is_not(None),
                or_(Broadcast.finished_at.is_(None), Broadcast.finished_at >= week_ago),
            )
        )
    ).scalars()
    broadcast_ids = list(recent)
    if not broadcast_ids or not user_ids:
        return set()
    found = await session.execute(
        select(OutboxMessage.user_id)
        .where(
            OutboxMessage.broadcast_id.in_(broadcast_ids),
            OutboxMessage.user_id.in_(list(user_ids)),
            OutboxMessage.status == SENT,
            OutboxMessage.sent_at >= week_ago,
        )
        .group_by(OutboxMessage.user_id)
        .having(func.count() >= cap)
    )
    return set(found.scalars())


OUTBOX = OutboxMessage.__table__.c


def _rows(ids: Collection[int]) -> Any:
    """A Core UPDATE of these outbox rows (no ORM objects are involved, so it stays cheap)."""
    return update(OutboxMessage.__table__).where(OUTBOX.id.in_(list(ids)))


async def mark_sent(session: AsyncSession, ids: Collection[int], now: datetime) -> None:
    """Telegram accepted these messages (even if the broadcast was cancelled meanwhile)."""
    if ids:
        await session.execute(_rows(ids).values(status=SENT, sent_at=now, error=None))


async def mark_failed(session: AsyncSession, ids: Collection[int], reason: str) -> None:
    """These rows will not be tried again; rows cancelled meanwhile stay cancelled."""
    if ids:
        await session.execute(
            _rows(ids).where(OUTBOX.status == PENDING).values(status=FAILED, error=reason)
        )


async def block_users(session: AsyncSession, user_ids: Collection[int], now: datetime) -> None:
    """These people blocked the bot or left Telegram (as accounts.set_blocked, many at once)."""
    if user_ids:
        users = User.__table__.c
        await session.execute(
            update(User.__table__)
            .where(users.id.in_(list(user_ids)), users.blocked_at.is_(None))
            .values(blocked_at=now, updated_at=now)
        )


async def mark_skipped(session: AsyncSession, ids: Collection[int], reason: str) -> None:
    """These people are not sent this broadcast (the weekly cap)."""
    if ids:
        await session.execute(
            _rows(ids).where(OUTBOX.status == PENDING).values(status=SKIPPED, error=reason)
        )


async def count_attempt(
    session: AsyncSession, ids: Collection[int], reason: str, max_attempts: int
) -> None:
    """One more failed attempt; after ``max_attempts`` the row fails with the reason."""
    if not ids:
        return
    await session.execute(
        _rows(ids)
        .where(OUTBOX.status == PENDING)
        .values(attempts=OUTBOX.attempts + 1, error=reason[:100])
    )
    await session.execute(
        _rows(ids)
        .where(OUTBOX.status == PENDING, OUTBOX.attempts >= max_attempts)
        .values(status=FAILED)
    )


async def finish_if_done(
    session: AsyncSession, broadcast_id: int, now: datetime
) -> Broadcast | None:
    """A sending broadcast with no pending rows left becomes done; None if it is not."""
    broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None or broadcast.status != BroadcastStatus.SENDING:
        return None
    left = await session.execute(
        select(OutboxMessage.id)
        .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status == PENDING)
        .limit(1)
    )
    if left.first() is not None:
        return None
    broadcast.status = BroadcastStatus.DONE
    broadcast.finished_at = now
    broadcast.updated_at = now
    return broadcast


async def counts(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """Outbox rows of a broadcast by status."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.status)
    )
    return {status: int(n) for status, n in rows.all()}


async def failures(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """Failed rows of a broadcast by reason ("blocked" or the error's name)."""
    rows = await session.execute(
        select(OutboxMessage.error, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status == FAILED)
        .group_by(OutboxMessage.error)
    )
    return {error or "": int(n) for error, n in rows.all()}


async def _change(
    session: AsyncSession,
    broadcast_id: int,
    allowed: Collection[str],
    status: BroadcastStatus,
    action: str,
    by_user_id: int | None,
    now: datetime,
) -> Broadcast | None:
    """Move a broadcast to ``status`` if it is in one of ``allowed`` (audited); else None."""
    broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None or broadcast.status not in allowed:
        return None
    before = broadcast.status
    broadcast.status = status
    broadcast.updated_at = now
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if by_user_id else "system",
        actor_user_id=by_user_id,
        action=action,
        subject_type="broadcast",
        subject_id=broadcast.id,
        before={"status": before},
        after={"status": status},
    )
    return broadcast


async def pause(
    session: AsyncSession, broadcast_id: int, by_user_id: int | None, now: datetime
) -> Broadcast | None:
    """Stop sending after the batch in hand; None unless it was sending."""
    return await _change(
        session,
        broadcast_id,
        [BroadcastStatus.SENDING],
        BroadcastStatus.PAUSED,
        "broadcast.paused",
        by_user_id,
        now,
    )


async def resume(
    session: AsyncSession, broadcast_id: int, by_user_id: int | None, now: datetime
) -> Broadcast | None:
    """Carry on where a paused broadcast stopped; None unless it was paused."""
    return await _change(
        session,
        broadcast_id,
        [BroadcastStatus.PAUSED],
        BroadcastStatus.SENDING,
        "broadcast.resumed",
        by_user_id,
        now,
    )


async def cancel(
    session: AsyncSession, broadcast_id: int, by_user_id: int | None, now: datetime
) -> Broadcast | None:
    """Stop a sending or paused broadcast for good: its unsent rows become cancelled."""
    broadcast = await _change(
        session,
        broadcast_id,
        [BroadcastStatus.SENDING, BroadcastStatus.PAUSED],
        BroadcastStatus.CANCELLED,
        "broadcast.cancelled",
        by_user_id,
        now,
    )
    if broadcast is None:
        return None
    broadcast.finished_at = now
    await session.execute(
        update(OutboxMessage.__table__)
        .where(OUTBOX.broadcast_id == broadcast_id, OUTBOX.status == PENDING)
        .values(status=CANCELLED)
    )
    return broadcast
