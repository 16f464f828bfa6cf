"""When a recurring broadcast fires next: weekly on a weekday or monthly on a day, Tirana time.

The local time of day stays the same across daylight-saving changes; a monthly day past the
month's end (31 in November) falls on the month's last day, and the next month goes back to it.
"""

from __future__ import annotations

import calendar
import enum
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


class Recurrence(enum.StrEnum):
    """How often a broadcast repeats."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"


def _on(day: date, moment: datetime, tz: ZoneInfo) -> datetime:
    """``day`` at the local time of day of ``moment``."""
    return datetime.combine(day, moment.astimezone(tz).time(), tzinfo=tz)


def _month_day(year: int, month: int, wanted: int) -> date:
    """The wanted day of a month, or its last day if the month is shorter."""
    return date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


def first(start: datetime, recurrence: Recurrence, day: int, tz: ZoneInfo) -> datetime:
    """The first occurrence at or after ``start`` (weekday 0 = Monday, or day of month 1–31)."""
    local = start.astimezone(tz)
    if recurrence is Recurrence.WEEKLY:
        candidate = _on(local.date() + timedelta(days=(day - local.weekday()) % 7), local, tz)
        return candidate if candidate >= local else candidate + timedelta(days=7)
    candidate = _on(_month_day(local.year, local.month, day), local, tz)
    if candidate >= local:
        return candidate
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return _on(_month_day(year, month, day), local, tz)


def following(previous: datetime, recurrence: Recurrence, day: int, tz: ZoneInfo) -> datetime:
    """The occurrence after ``previous``."""
    local = previous.astimezone(tz)
    if recurrence is Recurrence.WEEKLY:
        return _on(local.date() + timedelta(days=7), local, tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return _on(_month_day(year, month, day), local, tz)


def next_after(
    previous: datetime, now: datetime, recurrence: Recurrence, day: int, tz: ZoneInfo
) -> datetime:
    """The first occurrence later than ``now``: missed ones (the bot was down) are not caught up."""
    moment = following(previous, recurrence, day, tz)
    while moment <= now:
        moment = following(moment, recurrence, day, tz)
    return moment
