"""The broadcasts staff can see and stop: waiting, repeating, running, and recently finished."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, BroadcastStatus, OutboxMessage, OutboxStatus
from db.repositories import audit

WAITING = (BroadcastStatus.SCHEDULED, BroadcastStatus.RECURRING)
ACTIVE = (*WAITING, BroadcastStatus.SENDING, BroadcastStatus.PAUSED)


async def active(session: AsyncSession, limit: int = 15) -> list[Broadcast]:
    """Waiting, repeating, sending and paused broadcasts, next first."""
    found = await session.execute(
        select(Broadcast)
        .where(Broadcast.status.in_(ACTIVE))
        .order_by(Broadcast.send_at, Broadcast.id)
        .limit(limit)
    )
    return list(found.scalars())


async def recent(session: AsyncSession, limit: int = 5) -> list[tuple[Broadcast, int, int]]:
    """The last finished or cancelled broadcasts with how many were sent and failed."""
    found = await session.execute(
        select(Broadcast)
        .where(Broadcast.status.in_([BroadcastStatus.DONE, BroadcastStatus.CANCELLED]))
        .order_by(Broadcast.updated_at.desc(), Broadcast.id.desc())
        .limit(limit)
    )
    rows = []
    for broadcast in found.scalars():
        tally = dict(
            (
                await session.execute(
                    select(OutboxMessage.status, func.count())
                    .where(OutboxMessage.broadcast_id == broadcast.id)
                    .group_by(OutboxMessage.status)
                )
            ).all()
        )
        rows.append(
            (
                broadcast,
                int(tally.get(OutboxStatus.SENT, 0)),
                int(tally.get(OutboxStatus.FAILED, 0)),
            )
        )
    return rows


async def stop(
    session: AsyncSession, broadcast_id: int, by_user_id: int | None, now: datetime
) -> Broadcast | None:
    """Cancel a broadcast that has not started (or stop a repeat); None if it cannot be."""
    broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None or broadcast.status not in WAITING:
        return None
    before = broadcast.status
    broadcast.status = BroadcastStatus.CANCELLED
    broadcast.updated_at = now
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=by_user_id,
        action="broadcast.cancelled",
        subject_type="broadcast",
        subject_id=broadcast.id,
        before={"status": before},
        after={"status": BroadcastStatus.CANCELLED},
    )
    return broadcast
