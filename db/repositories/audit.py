"""The append-only audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry


async def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor_kind: str,
    action: str,
    subject_type: str,
    subject_id: int | None,
    actor_user_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry."""
    entry = AuditEntry(
        at=at,
        actor_kind=actor_kind,
        actor_user_id=actor_user_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        before=before,
        after=after,
    )
    session.add(entry)
    await session.flush()
    return entry


async def for_subject(
    session: AsyncSession, subject_type: str, subject_id: int
) -> list[AuditEntry]:
    """Entries about one record, oldest first."""
    result = await session.execute(
        select(AuditEntry)
        .where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
        .order_by(AuditEntry.id)
    )
    return list(result.scalars())
