"""Rules of the broadcast composer: text limits, link buttons, attachable polls and events,
and the schedule a typed moment means."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaigns.services.recurrence import Recurrence
from db.models import Event, Poll

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
LABEL_LIMIT = 40
MAX_BUTTONS = 3
LINK = re.compile(r"^(?P<label>.+?)\s+(?P<url>https?://\S+)$", re.DOTALL)


def text_limit(has_media: bool) -> int:
    """Telegram's limit: 1,024 characters for a caption, 4,096 for a message."""
    return CAPTION_LIMIT if has_media else TEXT_LIMIT


@dataclass(frozen=True)
class Link:
    """A link button typed as "label https://…"."""

    label: str
    url: str


def parse_link(typed: str) -> Link | None:
    """A label and a web address on one line, or None if it is not that."""
    found = LINK.match(typed.strip())
    if found is None:
        return None
    label = " ".join(found["label"].split())
    if not label or len(label) > LABEL_LIMIT:
        return None
    return Link(label, found["url"])


def recur_day(moment: datetime, recurrence: Recurrence, tz: ZoneInfo) -> int:
    """The weekday (0 = Monday) or day of month the first occurrence falls on."""
    local = moment.astimezone(tz)
    return local.weekday() if recurrence is Recurrence.WEEKLY else local.day


async def attachable_events(session: AsyncSession, now: datetime) -> list[Event]:
    """Upcoming, not cancelled events, soonest first."""
    found = await session.execute(
        select(Event)
        .where(Event.starts_at > now, Event.cancelled_at.is_(None))
        .order_by(Event.starts_at)
        .limit(10)
    )
    return list(found.scalars())


async def attachable_polls(session: AsyncSession) -> list[Poll]:
    """Open polls, newest first."""
    found = await session.execute(
        select(Poll).where(Poll.closed_at.is_(None)).order_by(Poll.id.desc()).limit(10)
    )
    return list(found.scalars())
