"""Rows of the inbox: Telegram updates stored before they are confirmed, marked done once handled.

An update_id is stored at most once (insert-or-ignore), so a re-delivered update adds nothing.
The payload (what the person sent) and the chat are cleared when the row is done: only the id
stays, as long as Telegram could still re-deliver it (bot/core/inbox.py deletes older done rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InboxUpdate


async def store(
    session: AsyncSession, rows: Sequence[tuple[int, int | None, dict[str, Any]]], now: datetime
) -> None:
    """Insert (update_id, chat key, payload) rows, ignoring ids already stored."""
    if not rows:
        return
    values = [
        {
            "update_id": update_id,
            "chat_key": chat_key,
            "payload": payload,
            "received_at": now,
            "attempts": 0,
        }
        for update_id, chat_key, payload in rows
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(InboxUpdate).values(values).on_conflict_do_nothing(index_elements=["update_id"])
    )
    await session.execute(statement)


async def backlog(session: AsyncSession) -> int:
    """How many stored updates are not done yet."""
    found = await session.execute(
        select(func.count()).select_from(InboxUpdate).where(InboxUpdate.done_at.is_(None))
    )
    return int(found.scalar_one())


async def undone(session: AsyncSession, limit: int) -> list[InboxUpdate]:
    """The oldest updates not done yet, in update_id order."""
    found = await session.execute(
        select(InboxUpdate)
        .where(InboxUpdate.done_at.is_(None))
        .order_by(InboxUpdate.update_id)
        .limit(limit)
    )
    return list(found.scalars())


async def claim(session: AsyncSession, update_id: int) -> InboxUpdate | None:
    """The row, locked for this transaction on PostgreSQL (SQLite has one writer anyway)."""
    found = await session.execute(
        select(InboxUpdate)
        .where(InboxUpdate.update_id == update_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found.scalar_one_or_none()


async def mark_done(session: AsyncSession, update_id: int, now: datetime) -> None:
    """Done: counted as one attempt, payload and chat cleared (nothing of the person stays)."""
    await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.update_id == update_id)
        .values(done_at=now, payload=None, chat_key=None, attempts=InboxUpdate.attempts + 1)
    )


async def count_attempt(
    session: AsyncSession, update_id: int, give_up_at: int, now: datetime
) -> int:
    """One more failed attempt; done (payload cleared) once `give_up_at` is reached. The count."""
    row = await claim(session, update_id)
    if row is None or row.done_at is not None:
        return 0
    row.attempts += 1
    if row.attempts >= give_up_at:
        row.done_at, row.payload, row.chat_key = now, None, None
    return row.attempts


async def prune(session: AsyncSession, done_before: datetime) -> int:
    """Delete done rows older than Telegram would re-deliver; how many went."""
    result = await session.execute(
        delete(InboxUpdate).where(
            InboxUpdate.done_at.is_not(None), InboxUpdate.done_at < done_before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
