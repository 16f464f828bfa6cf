"""Dates and times staff type, read as Tirana (or any configured zone) wall time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

FORMAT = "%Y-%m-%d %H:%M"


def parse_local(typed: str, tz: ZoneInfo) -> datetime | None:
    """A typed "YYYY-MM-DD HH:MM" (extra spaces allowed) in the zone, or None."""
    try:
        return datetime.strptime(" ".join(typed.split()), FORMAT).replace(tzinfo=tz)
    except ValueError:
        return None
