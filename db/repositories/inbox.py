"""Rows of the inbox: Telegram updates stored before they are confirmed, marked done once handled.

An update_id is stored at most once (insert-or-ignore), so a re-delivered update adds nothing.
The payload (what the person sent) and the chat are cleared when the row is done: only the id
stays, as long as Telegram could still re-deliver it (bot/core/inbox.py deletes older done rows).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InboxChat, InboxUpdate


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


class Taken(enum.Enum):
    """What `take` found for an update about to be handled."""

    ABSENT = "absent"
    """Not stored (handled without the inbox): nothing to mark."""
    DONE = "done"
    """Already handled: skip it."""
    MARKED = "marked"
    """To handle now; already marked done in this transaction (PostgreSQL)."""
    OPEN = "open"
    """To handle now; `mark_done` before the commit (SQLite)."""


async def take(session: AsyncSession, update_id: int, now: datetime) -> Taken:
    """Claim an update for this transaction: on PostgreSQL locked and marked done in one statement
    (a rollback undoes the mark), on SQLite only read (marked at the end, so the write lock is
    not taken while the handlers run)."""
    if session.get_bind().dialect.name == "postgresql":
        marked = await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == update_id, InboxUpdate.done_at.is_(None))
            .values(done_at=now, payload=None, chat_key=None, attempts=InboxUpdate.attempts + 1)
            .returning(InboxUpdate.update_id)
            .execution_options(synchronize_session=False)
        )
        if marked.first() is not None:
            return Taken.MARKED
    found = await session.execute(
        select(InboxUpdate.done_at).where(InboxUpdate.update_id == update_id).with_for_update()
    )
    row = found.first()
    if row is None:
        return Taken.ABSENT
    return Taken.DONE if row.done_at is not None else Taken.OPEN


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


# --- several processes on one PostgreSQL (bot/core/cluster.py) ----------------------------------

_LIVE = """live AS MATERIALIZED (
    SELECT l.objid::bigint AS worker FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :space AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))"""
"""The live worker processes: each holds its advisory lock, released when it dies."""

_TAKE = text(
    f"""
WITH {_LIVE},
candidates AS (
    SELECT c.chat_key, c.worker AS before FROM inbox_chats c
    WHERE c.chat_key IN (SELECT i.chat_key FROM inbox i WHERE i.done_at IS NULL)
      AND (c.worker IS NULL OR c.worker NOT IN (SELECT worker FROM live))
    LIMIT :limit
    FOR UPDATE OF c SKIP LOCKED
)
UPDATE inbox_chats c SET worker = :me, taken_at = :now FROM candidates
WHERE c.chat_key = candidates.chat_key
RETURNING c.chat_key, candidates.before
"""
)
_MINE = text(
    f"""
WITH {_LIVE}
SELECT i.update_id, i.chat_key, i.payload FROM inbox i
LEFT JOIN inbox_chats c ON c.chat_key = i.chat_key
WHERE i.done_at IS NULL
  AND (c.worker = :me OR (i.chat_key IS NULL AND :me <= (SELECT min(worker) FROM live)))
ORDER BY i.update_id
LIMIT :limit
"""
)
_PRUNE_CHATS = text(
    f"""
WITH {_LIVE}
DELETE FROM inbox_chats c
WHERE c.chat_key NOT IN (SELECT i.chat_key FROM inbox i
                         WHERE i.done_at IS NULL AND i.chat_key IS NOT NULL)
  AND (c.worker IS NULL OR c.worker NOT IN (SELECT worker FROM live))
"""
)


async def register_chats(session: AsyncSession, chat_keys: Iterable[int | None]) -> None:
    """Shared mode: a row in inbox_chats for each chat not seen before (nobody holds it yet)."""
    keys = sorted({key for key in chat_keys if key is not None})
    if keys:
        statement = postgresql.insert(InboxChat).values([{"chat_key": key} for key in keys])
        await session.execute(statement.on_conflict_do_nothing(index_elements=["chat_key"]))


async def take_chats(
    session: AsyncSession, space: int, me: int, now: datetime, limit: int
) -> list[tuple[int, int | None]]:
    """Shared mode: hold up to `limit` chats with undone updates that no live worker holds.

    Candidates are locked FOR UPDATE SKIP LOCKED, so workers taking at the same moment never
    wait for each other or take the same chat. Returns (chat, the worker that held it before).
    """
    found = await session.execute(_TAKE, {"space": space, "me": me, "now": now, "limit": limit})
    return [(int(chat), before) for chat, before in found.all()]


async def mine(session: AsyncSession, space: int, me: int, limit: int) -> list[Any]:
    """Shared mode: undone updates of the chats this worker holds (and, for the live worker with
    the lowest number, updates without a chat), in update_id order."""
    found = await session.execute(_MINE, {"space": space, "me": me, "limit": limit})
    return list(found.all())


async def prune_chats(session: AsyncSession, space: int) -> None:
    """Shared mode: forget chats with nothing undone whose worker is gone."""
    await session.execute(_PRUNE_CHATS, {"space": space})
