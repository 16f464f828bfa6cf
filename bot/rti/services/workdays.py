"""Albanian working days (working-days.md): count deadlines the way administrative procedure does.

The day of the event is not counted; day 1 is the first working day after it. A working day is
Monday–Friday that is not an official holiday, not an observed (moved) holiday and not an extra
closure day. Counting only ever lands on working days, so a deadline never ends on a closed day.

Holidays come from the `holidays` package (Albania, names in Albanian). Its Islamic holidays
(the two Bajrams) past the years it has confirmed are estimates, marked in their names. Every
counting method takes `estimated_closed`, which says whether such a day counts as closed:

- `ESTIMATED_CLOSED` (True, the default) is the *generous* setting for an AUTHORITY's deadline:
  counting forward over a possible holiday gives the later date, so the bot never accuses an
  office a day early.
- `ESTIMATED_WORKING` (False) is the *conservative* setting for the CITIZEN's own deadline:
  counting forward, the possible holiday is used up as a working day, so the date shown is the
  earliest the deadline could be.

Counting backwards the effect flips (closed days push the result earlier), so callers choose the
flag by the date they need to be safe, as `bot.rti.services.deadlines` does.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

ESTIMATED_CLOSED = True
"""Generous: a holiday whose date is only an estimate is a day off (authority deadlines)."""

ESTIMATED_WORKING = False
"""Conservative: a holiday whose date is only an estimate is a working day (citizen deadlines)."""

DEFAULT_CLOSED_DAYS_CSV = Path(__file__).resolve().parents[3] / "db" / "data" / "closed_days.csv"
"""Extra closures decided ad hoc by the Council of Ministers; staff extend this file."""

WEEKEND_REASONS = {5: "e shtunë", 6: "e diel"}
"""Why Saturday and Sunday are closed, as shown to users."""

EXTRA_CLOSURE_REASON = "mbyllje e jashtëzakonshme"
"""Reason shown for an extra closure day from the closed-days list."""

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class _Holiday:
    """A day off from the package: its Albanian name(s) and whether its date is only estimated."""

    name: str
    estimated: bool


@functools.cache
def _holidays_in(year: int) -> dict[date, _Holiday]:
    """Albania's holidays and observed days of one year, cached since building them is slow."""
    import holidays  # on the first date counted, not at start-up

    calendar = holidays.country_holidays("AL", years=year, language="sq")
    marker = calendar.tr(getattr(calendar, "estimated_label", "")).strip("%s ()（）")
    found: dict[date, _Holiday] = {}
    for day in sorted(calendar):
        if day.year != year:
            continue
        names = calendar.get_list(day)
        estimated = bool(marker) and all(marker in name for name in names)
        found[day] = _Holiday("; ".join(names), estimated)
    return found


def _plain_date(day: date) -> date:
    """Reject datetimes: they never equal a date, so holidays would silently be missed."""
    if isinstance(day, datetime):
        raise TypeError(f"expected a date, got a datetime: {day!r}")
    return day


class WorkCalendar:
    """Albanian working days: weekends, official and observed holidays, extra closures."""

    def __init__(self, extra_closures: Iterable[date] = ()) -> None:
        """Use the package's holidays plus the given extra closure days."""
        self._extra = frozenset(_plain_date(day) for day in extra_closures)

    def closed_reason(self, day: date) -> str | None:
        """Why `day` is closed, in Albanian (estimates say so in the name); None if open."""
        holiday = _holidays_in(_plain_date(day).year).get(day)
        if holiday is not None:
            return holiday.name
        if day in self._extra:
            return EXTRA_CLOSURE_REASON
        return WEEKEND_REASONS.get(day.weekday())

    def is_working_day(self, day: date, *, estimated_closed: bool = ESTIMATED_CLOSED) -> bool:
        """Whether offices work on `day`; `estimated_closed` decides estimated holidays."""
        if _plain_date(day).weekday() in WEEKEND_REASONS or day in self._extra:
            return False
        holiday = _holidays_in(day.year).get(day)
        return holiday is None or (holiday.estimated and not estimated_closed)

    def next_working_day(self, day: date, *, estimated_closed: bool = ESTIMATED_CLOSED) -> date:
        """The first working day strictly after `day`."""
        return self._step(day, _ONE_DAY, estimated_closed)

    def roll_forward(self, day: date, *, estimated_closed: bool = ESTIMATED_CLOSED) -> date:
        """`day` itself if working, else the next working day (a deadline never ends closed)."""
        if self.is_working_day(day, estimated_closed=estimated_closed):
            return day
        return self.next_working_day(day, estimated_closed=estimated_closed)

    def add(self, start: date, days: int, *, estimated_closed: bool = ESTIMATED_CLOSED) -> date:
        """The `days`-th working day after `start` (start not counted; day 1 is the next one)."""
        current = start
        for _ in range(_positive(days)):
            current = self._step(current, _ONE_DAY, estimated_closed)
        return current

    def subtract(self, end: date, days: int, *, estimated_closed: bool = ESTIMATED_CLOSED) -> date:
        """The `days`-th working day before `end`; for a working `end`, add() undoes it."""
        current = end
        for _ in range(_positive(days)):
            current = self._step(current, -_ONE_DAY, estimated_closed)
        return current

    def count_between(
        self, start: date, end: date, *, estimated_closed: bool = ESTIMATED_CLOSED
    ) -> int:
        """Working days d with start < d <= end (0 when end is not after start)."""
        count = 0
        current = start + _ONE_DAY
        while current <= end:
            count += self.is_working_day(current, estimated_closed=estimated_closed)
            current += _ONE_DAY
        return count

    def _step(self, day: date, step: timedelta, estimated_closed: bool) -> date:
        """The nearest working day strictly after (or before, for a negative step) `day`."""
        current = day + step
        while not self.is_working_day(current, estimated_closed=estimated_closed):
            current += step
        return current


def _positive(days: int) -> int:
    """Deadlines are at least one working day long."""
    if days < 1:
        raise ValueError(f"a number of working days must be at least 1, got {days}")
    return days


def load_closed_days(path: Path) -> list[date]:
    """Extra closure days from a `date,note` CSV (ISO dates); a malformed row fails loudly."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "date" not in reader.fieldnames:
            raise ValueError(f"{path}: expected a header with a 'date' column")
        days: set[date] = set()
        for row in reader:
            raw = (row["date"] or "").strip()
            if not raw:
                continue
            try:
                days.add(date.fromisoformat(raw))
            except ValueError as error:
                raise ValueError(f"{path}:{reader.line_num}: not an ISO date: {raw!r}") from error
    return sorted(days)
