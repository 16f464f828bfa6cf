"""Direct messages as outbox rows: written in the deciding transaction, sent after its commit.

The broadcast outbox generalised: a direct row has no broadcast, a ``kind``, the ``chat_id`` to
send to (and the ``user_id`` when that chat is a person's own), and a ``payload`` the sender turns
into one Bot API call. No Telegram import here: the payload is plain data.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.staff.services import permissions as staff
from db.models import OutboxKind, OutboxMessage, OutboxStatus, StaffRole

PENDING, SENT, FAILED = OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.FAILED
BROADCAST = OutboxKind.BROADCAST
STAFF_CARD, STAFF_NOTICE = OutboxKind.STAFF_CARD, OutboxKind.STAFF_NOTICE
RELAY, REPORTER_ANSWER = OutboxKind.RELAY, OutboxKind.REPORTER_ANSWER
STATUS_NOTICE, REMINDER, ADMIN_ALERT = (
    OutboxKind.STATUS_NOTICE,
    OutboxKind.REMINDER,
    OutboxKind.ADMIN_ALERT,
)
DIGEST, ADMIN_NOTICE = OutboxKind.DIGEST, OutboxKind.ADMIN_NOTICE
QUIET_KINDS = frozenset({REMINDER})
"""Citizen messages no one is waiting for: a retry at night waits for the end of quiet hours."""
REPLY = OutboxKind.REPLY
"""The replies to one update (bot/core/replies.py), sent right after its commit."""
MAX_ATTEMPTS = 6
"""Tries of a direct row for errors that may pass (5xx, network) before it fails."""
BACKOFF = timedelta(seconds=30)
"""Wait before the second try; doubled after each failed try, at most MAX_BACKOFF."""
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Direct:
    """A direct row as the sender needs it."""

    id: int
    kind: OutboxKind
    chat_id: int
    user_id: int | None
    payload: dict[str, Any]
    attempts: int


async def add(
    session: AsyncSession,
    *,
    kind: OutboxKind,
    chat_id: int,
    payload: dict[str, Any],
    now: datetime,
    user_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage | None:
    """Store one pending direct message; None if a row with the same dedupe key exists."""
    if dedupe_key is not None:
        found = await session.execute(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if found.first() is not None:
            return None
    row = OutboxMessage(
        kind=kind,
        chat_id=chat_id,
        user_id=user_id,
        payload=payload,
        dedupe_key=dedupe_key,
        not_before=not_before,
        status=PENDING,
        attempts=0,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def pending(session: AsyncSession, ids: Collection[int], now: datetime) -> list[Direct]:
    """Those of these direct rows still pending and due, in id order."""
    if not ids:
        return []
    found = await session.execute(
        select(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(ids)),
            OutboxMessage.broadcast_id.is_(None),
            OutboxMessage.status == PENDING,
            or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
        )
        .order_by(OutboxMessage.id)
    )
    return [_direct(row) for row in found.scalars() if row.chat_id is not None]


async def due_ids(session: AsyncSession, now: datetime, limit: int = 200) -> list[int]:
    """Ids of pending direct rows whose time has come, oldest first."""
    found = await session.execute(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.broadcast_id.is_(None),
            OutboxMessage.status == PENDING,
            or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(found.scalars())


async def pending_replies(session: AsyncSession) -> list[Direct]:
    """Every reply row still pending (left by a stopped run), oldest first, whatever its time."""
    found = await session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.kind == REPLY, OutboxMessage.status == PENDING)
        .order_by(OutboxMessage.id)
    )
    return [_direct(row) for row in found.scalars() if row.chat_id is not None]


def _direct(row: OutboxMessage) -> Direct:
    """The sender's view of a row."""
    assert row.chat_id is not None
    return Direct(row.id, row.kind, row.chat_id, row.user_id, dict(row.payload or {}), row.attempts)


def _rows(ids: Sequence[int]) -> Any:
    """A Core UPDATE of pending direct rows."""
    table = OutboxMessage.__table__.c
    return (
        update(OutboxMessage.__table__)
        .where(table.id.in_(list(ids)), table.status == PENDING)
        .execution_options(synchronize_session=False)
    )


async def mark_sent(session: AsyncSession, row_id: int, now: datetime) -> None:
    """Telegram took it: sent, and its words are no longer kept."""
    await session.execute(
        _rows([row_id]).values(status=SENT, sent_at=now, error=None, payload=None)
    )


async def forget(session: AsyncSession, *row_ids: int) -> None:
    """Reply rows whose calls are made (or refused for good): nothing of them is kept."""
    await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(row_ids)))


async def mark_failed(session: AsyncSession, row_id: int, reason: str) -> None:
    """It will not be tried again: failed with the reason, its words no longer kept."""
    await session.execute(_rows([row_id]).values(status=FAILED, error=reason[:100], payload=None))


async def retry_later(
    session: AsyncSession, row: Direct, reason: str, now: datetime, *, count: bool = True
) -> bool:
    """One more failed try, the next after a doubling wait; fails it after MAX_ATTEMPTS (False)."""
    attempts = row.attempts + (1 if count else 0)
    if attempts >= MAX_ATTEMPTS:
        await session.execute(
            _rows([row.id]).values(
                status=FAILED, attempts=attempts, error=reason[:100], payload=None
            )
        )
        return False
    wait = min(BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
    await session.execute(
        _rows([row.id]).values(attempts=attempts, error=reason[:100], not_before=now + wait)
    )
    return True


async def resume_at(session: AsyncSession, row_id: int, done: int, until: datetime) -> None:
    """A reply row stopped by a 429 after ``done`` calls: go on from there at ``until``."""
    row = await session.get(OutboxMessage, row_id)
    if row is not None and row.payload is not None:
        row.payload = dict(row.payload, done=done)
        row.not_before = until


async def wait_for(session: AsyncSession, row_id: int, until: datetime) -> None:
    """Telegram asked to wait (429): try again then, without counting a failed try."""
    await session.execute(_rows([row_id]).values(not_before=until))


async def admins(session: AsyncSession) -> list[tuple[int, int, str | None]]:
    """(user id, Telegram id, language) of every admin who has not blocked the bot."""
    return [
        (user.id, user.telegram_id, user.language)
        for member, user in await staff.everyone(session)
        if member.role == StaffRole.ADMIN and user.blocked_at is None
    ]
