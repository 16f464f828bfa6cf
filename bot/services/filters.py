"""The period and scope of statistics and exports, shared by both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Scope:
    """Which cases count: a period of creation dates (Tirana days, both ends included),
    some municipalities (None = all) and whether corruption reports may be included."""

    start: date | None = None
    end: date | None = None
    municipality_ids: tuple[int, ...] | None = None
    include_corruption: bool = False

    def bounds(self, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """The period as aware datetimes [from, to) for comparing with created_at."""
        lower = datetime.combine(self.start, time(0), tzinfo=tz) if self.start else None
        upper = (
            datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz) if self.end else None
        )
        return lower, upper
