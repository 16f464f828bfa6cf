"""The period and scope of statistics and exports, shared by both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement

from db.models import Case, CaseKind


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


def period(column: Any, scope: Scope, tz: ZoneInfo) -> list[ColumnElement[bool]]:
    """Conditions keeping `column` inside the scope's Tirana-day period."""
    lower, upper = scope.bounds(tz)
    conditions: list[ColumnElement[bool]] = []
    if lower is not None:
        conditions.append(column >= lower)
    if upper is not None:
        conditions.append(column < upper)
    return conditions


def case_conditions(scope: Scope, tz: ZoneInfo) -> list[ColumnElement[bool]]:
    """The scope on cases: created in the period, municipalities, corruption only if allowed."""
    conditions = period(Case.created_at, scope, tz)
    if scope.municipality_ids is not None:
        conditions.append(Case.municipality_id.in_(scope.municipality_ids))
    if not scope.include_corruption:
        conditions.append(Case.kind != CaseKind.CORRUPTION.value)
    return conditions
