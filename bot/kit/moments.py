"""Dates and times staff type, read as Tirana (or any configured zone) wall time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

FORMAT = "%Y-%m-%d %H:%M"
DOTTED = "%d.%m.%Y %H:%M"
"""How dates are written in Albania (and how the bot asks for other dates), also understood."""


def parse_local(typed: str, tz: ZoneInfo) -> datetime | None:
    """A typed "YYYY-MM-DD HH:MM" or "DD.MM.YYYY HH:MM" (extra spaces allowed) in the zone, or
    None."""
    for form in (FORMAT, DOTTED):
        try:
            return datetime.strptime(" ".join(typed.split()), form).replace(tzinfo=tz)
        except ValueError:
            continue
    return None


def example(now: datetime, tz: ZoneInfo, at: str = "10:00") -> str:
    """Tomorrow at `at` in the zone, as staff type it: an example that is never in the past."""
    return (now.astimezone(tz) + timedelta(days=1)).strftime(f"%Y-%m-%d {at}")
