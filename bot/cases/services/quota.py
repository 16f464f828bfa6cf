"""Flood limits kept in the database: reports per person per day, files per case.

Reports per person per day (CASES_PER_DAY) are counted without linking anyone to a case. A row
holds only a keyed hash of (Telegram id, day), the day and a count: no case id, no user id, so
anonymous reports are counted like the others while nothing in the row says which case a person
filed. The key is HMAC-SHA256 with a secret derived from BOT_TOKEN (``secret_from``): the
database alone cannot turn a row back into a Telegram id, and rows of different days of the same
person cannot be matched. A new token only resets today's counts. Days are calendar days in the
bot's time zone; rows older than yesterday are pruned by the daily job.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseAttachment, ReportQuota


def secret_from(bot_token: str) -> bytes:
    """The hashing secret: derived from the bot token, so there is no extra secret to manage."""
    return hashlib.sha256(b"pact report quota\x00" + bot_token.encode()).digest()


def _key(secret: bytes, telegram_id: int, day: date) -> str:
    """The keyed hash naming one person's count on one day."""
    message = f"{telegram_id}:{day.isoformat()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _today(now: datetime, tz: ZoneInfo) -> date:
    """The calendar day in the bot's time zone."""
    return now.astimezone(tz).date()


async def used_today(
    session: AsyncSession, secret: bytes, telegram_id: int, now: datetime, tz: ZoneInfo
) -> int:
    """How many reports this person sent today."""
    row = await session.get(ReportQuota, _key(secret, telegram_id, _today(now, tz)))
    return row.count if row else 0


async def count_report(
    session: AsyncSession, secret: bytes, telegram_id: int, now: datetime, tz: ZoneInfo
) -> None:
    """Add one report to this person's count of today."""
    day = _today(now, tz)
    key = _key(secret, telegram_id, day)
    row = await session.get(ReportQuota, key)
    if row is None:
        session.add(ReportQuota(key=key, day=day, count=1))
    else:
        row.count += 1


async def prune(session: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """Drop counts older than yesterday; how many rows went."""
    cutoff = _today(now, tz) - timedelta(days=1)
    old = await session.execute(select(ReportQuota.key).where(ReportQuota.day < cutoff))
    keys = list(old.scalars())
    if keys:
        await session.execute(delete(ReportQuota).where(ReportQuota.key.in_(keys)))
    return len(keys)


async def files_of(session: AsyncSession, case_id: int) -> int:
    """How many files a case holds (FILES_PER_CASE caps what the reporter may add)."""
    found = await session.execute(
        select(func.count()).select_from(CaseAttachment).where(CaseAttachment.case_id == case_id)
    )
    return int(found.scalar_one())
