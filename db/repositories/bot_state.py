"""Rows of bot_state (PTB persistence, bot/core/persistence.py) found by person or by age.

Key formats, as bot/core/persistence.py writes them: kind "user_data" with the Telegram user id as
key; kind "conv" with "<conversation name>:<JSON list of the conversation key>", for example
"report:[5001, 5001]" (chat id, user id). tests/test_erasure.py walks real conversations, so a
change of format there makes those tests fail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BotState

USER_DATA = "user_data"
CONVERSATION = "conv"


def _of_person(telegram_id: int) -> ColumnElement[bool]:
    """Rows keyed by the id: its user data, and conversations whose key holds the id."""
    n = str(int(telegram_id))
    in_key = (f"%:[{n}]", f"%:[{n}, %", f"%, {n}]", f"%, {n}, %")
    return or_(
        BotState.key == n,
        and_(BotState.kind == CONVERSATION, or_(*(BotState.key.like(p) for p in in_key))),
    )


async def of_person(session: AsyncSession, telegram_id: int) -> list[BotState]:
    """Every stored state row of one Telegram id (for the data download)."""
    result = await session.execute(
        select(BotState).where(_of_person(telegram_id)).order_by(BotState.kind, BotState.key)
    )
    return list(result.scalars())


async def delete_of_person(session: AsyncSession, telegram_id: int) -> int:
    """Delete every stored state row of one Telegram id (erasure); how many went."""
    found = await of_person(session, telegram_id)
    if found:
        await session.execute(delete(BotState).where(_of_person(telegram_id)))
    return len(found)


async def delete_older_than(session: AsyncSession, cutoff: datetime) -> list[tuple[str, str]]:
    """Delete rows not written since `cutoff` (retention); their (kind, key) pairs."""
    result = await session.execute(
        select(BotState.kind, BotState.key).where(BotState.updated_at < cutoff)
    )
    pruned = [(row[0], row[1]) for row in result.all()]
    if pruned:
        await session.execute(delete(BotState).where(BotState.updated_at < cutoff))
    return pruned
