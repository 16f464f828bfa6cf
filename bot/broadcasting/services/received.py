"""What a person was actually sent: buttons carry only ids, and anyone can send any id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaigns.services.campaigns import SENT
from db.models import Broadcast, OutboxMessage


async def was_sent_broadcast(session: AsyncSession, user_id: int, broadcast_id: int) -> bool:
    """Whether this broadcast was delivered to this person."""
    found = await session.execute(
        select(OutboxMessage.id).where(
            OutboxMessage.broadcast_id == broadcast_id,
            OutboxMessage.user_id == user_id,
            OutboxMessage.status == SENT,
        )
    )
    return found.first() is not None


async def was_sent_button(session: AsyncSession, user_id: int, kind: str, item_id: int) -> bool:
    """Whether a broadcast delivered to this person carried this poll's or event's buttons."""
    found = await session.execute(
        select(Broadcast.buttons)
        .join(OutboxMessage, OutboxMessage.broadcast_id == Broadcast.id)
        .where(OutboxMessage.user_id == user_id, OutboxMessage.status == SENT)
    )
    key = f"{kind}_id"
    return any(
        isinstance(button, dict) and button.get("kind") == kind and button.get(key) == item_id
        for buttons in found.scalars()
        for button in buttons or []
    )
