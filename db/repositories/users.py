"""Users and their consents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from db.models import User


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> User | None:
    """The user row for a Telegram account, consents loaded in the same query (every update
    reads it: one statement, not two)."""
    result = await session.execute(
        select(User).where(User.telegram_id == telegram_id).options(joinedload(User.consents))
    )
    return result.unique().scalar_one_or_none()


async def add(session: AsyncSession, user: User) -> User:
    """Insert a new user and get its id."""
    session.add(user)
    await session.flush()
    return user


async def delete(session: AsyncSession, user: User) -> None:
    """Remove a user row; consents go with it."""
    await session.delete(user)
    await session.flush()
