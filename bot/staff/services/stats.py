"""Statistics for staff over cases and information requests, within a Scope.

Counts are GROUP BY queries. Medians are over whole-second durations kept on each case by
triggers: over the whole period PostgreSQL reads the middle values from each duration's index;
with a period or municipalities it takes percentile_cont; SQLite has no such aggregate, so there
the durations are read and the median taken in Python. All give the same figures
(percentile_cont(0.5) averages the two middle values, like statistics.median).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, Integer, case, cast, func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.rti.services import directory
from bot.staff.services.filters import Scope, case_conditions
from db.models import (
    Authority,
    Case,
    CaseKind,
    RequestStatus,
    RtiRequest,
)

POSTGRESQL = "postgresql"
NO_MUNICIPALITY = "—"
NO_CATEGORY = "—"
CORRUPTION = CaseKind.CORRUPTION.value
ANSWERED = (RequestStatus.ANSWERED.value, RequestStatus.PARTIAL.value)
"""Request statuses that count as answered: a full or a partial answer."""
SQLITE_MONTH, SQLITE_MINUTE = "%Y-%m", "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class CaseStats:
    """Case figures in a scope; lists are (label, count), biggest first unless said otherwise."""

    total: int
    by_municipality: list[tuple[str, int]]
    by_category: list[tuple[str, int]]
    by_status: list[tuple[str, int]]
    by_month: list[tuple[str, int]]
    median_hours_to_first_action: float | None
    median_days_to_resolution: float | None


@dataclass(frozen=True)
class AuthorityRti:
    """Sent information requests to one authority and how it answered them."""

    authority: str
    requests: int
    answered: int
    answer_rate: float | None
    median_days_to_answer: float | None


def _dialect(session: AsyncSession) -> str:
    """The backend's name, to pick SQL the backend understands."""
    return session.get_bind().dialect.name


def rti_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """The scope on requests: sent, on a day in the period, to one of the municipalities."""
    conditions: list[ColumnElement[bool]] = [RtiRequest.sent_on.is_not(None)]
    if scope.start is not None:
        conditions.append(RtiRequest.sent_on >= scope.start)
    if scope.end is not None:
        conditions.append(RtiRequest.sent_on <= scope.end)
    if scope.municipality_ids is not None:
        conditions.append(RtiRequest.authority_id.in_(scope.municipality_ids))
    return conditions


def ranked(tally: Counter[str]) -> list[tuple[str, int]]:
    """Biggest count first, ties by label, so charts and tests see a stable order."""
    return sorted(tally.items(), key=lambda item: (-item[1], item[0]))


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not None, or None when there are none."""
    present = [value for value in values if value is not None]
    return float(statistics.median(present)) if present else None


def days_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[int]:
    """Calendar days from one date column to another."""
    if dialect == POSTGRESQL:
        return later - earlier
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def month_key(dialect: str, tz: ZoneInfo) -> ColumnElement[str]:
    """The creation month in `tz` ("YYYY-MM") on PostgreSQL; a UTC bucket on SQLite.

    SQLite has no time zones. On UTC days 2 to 27 the month is the same in every zone, so
    those cases group by UTC month; the days around a month's turn group by UTC minute, which
    month_of then places in the month of `tz`.
    """
    if dialect == POSTGRESQL:
        return func.to_char(func.timezone(tz.key, Case.created_at), "YYYY-MM")
    mid_month = func.strftime("%d", Case.created_at).between("02", "27")
    return case(
        (mid_month, func.strftime(SQLITE_MONTH, Case.created_at)),
        else_=func.strftime(SQLITE_MINUTE, Case.created_at),
    )


def month_of(dialect: str, tz: ZoneInfo) -> Callable[[str], str]:
    """Turn a month_key value into its "YYYY-MM" month in `tz`."""
    if dialect == POSTGRESQL:
        return str

    def fold(bucket: str) -> str:
        if len(bucket) == len("YYYY-MM"):
            return bucket
        moment = datetime.strptime(bucket, SQLITE_MINUTE).replace(tzinfo=UTC)
        return moment.astimezone(tz).strftime("%Y-%m")

    return fold


def category_of(kind: str, category: str | None) -> str:
    """The category key a case counts under; every corruption report counts as "corruption"."""
    return CORRUPTION if kind == CORRUPTION else category or NO_CATEGORY


async def tally(
    session: AsyncSession,
    conditions: Sequence[ColumnElement[bool]],
    keys: Sequence[ColumnElement[Any]],
    fold: Callable[..., str],
) -> Counter[str]:
    """Count in-scope cases per distinct key values in SQL, then fold the values to labels.

    The keys are selected in a subquery and grouped outside it, so expressions with bound
    parameters (to_char formats, zone names) never have to be repeated in GROUP BY.
    """
    scoped = (
        select(*(key.label(f"key{i}") for i, key in enumerate(keys)))
        .select_from(Case)
        .outerjoin(Authority, Authority.id == Case.municipality_id)
        .where(*conditions)
        .subquery("scoped")
    )
    columns = list(scoped.c)
    result = await session.execute(select(*columns, func.count()).group_by(*columns))
    counts: Counter[str] = Counter()
    for row in result:
        counts[fold(*row[:-1])] += row[-1]
    return counts


async def case_medians(
    session: AsyncSession,
    dialect: str,
    conditions: Sequence[ColumnElement[bool]],
    counts: tuple[int, int] | None = None,
) -> tuple[float | None, float | None]:
    """Median hours to the first staff action and median days to the first resolution, from the
    whole-second durations the triggers keep on each case (migration 0021).

    With `counts` (how many in-scope cases have each duration; only when the scope has no period
    and no municipalities) PostgreSQL reads the middle values from each duration's index;
    otherwise it takes percentile_cont over one scan, and SQLite the median in Python."""
    durations = (Case.seconds_to_first_action, Case.seconds_to_resolution)
    if dialect == POSTGRESQL and counts is not None:
        hours, days = [
            await middle(session, duration, conditions, count)
            for duration, count in zip(durations, counts, strict=True)
        ]
    elif dialect == POSTGRESQL:
        hours, days = (
            await session.execute(
                select(
                    *(func.percentile_cont(0.5).within_group(duration) for duration in durations)
                ).where(*conditions)
            )
        ).one()
    else:
        rows = (
            await session.execute(
                select(*durations).where(
                    *conditions, or_(*(duration.is_not(None) for duration in durations))
                )
            )
        ).all()
        hours, days = median(row[0] for row in rows), median(row[1] for row in rows)
    return (
        None if hours is None else float(hours) / 3600,
        None if days is None else float(days) / 86400,
    )


async def middle(
    session: AsyncSession,
    duration: InstrumentedAttribute[int | None],
    conditions: Sequence[ColumnElement[bool]],
    count: int,
) -> float | None:
    """The median of the `count` in-scope non-NULL values of `duration`, as percentile_cont(0.5)
    gives it: the middle value, or the mean of the two middle ones (exact: integers below 2**53),
    read in order from the duration's partial index (None if cases vanished since counting)."""
    if count == 0:
        return None
    values = (
        (
            await session.execute(
                select(duration)
                .where(duration.is_not(None), *conditions)
                .order_by(duration)
                .offset((count - 1) // 2)
                .limit(2 - count % 2)
            )
        )
        .scalars()
        .all()
    )
    return statistics.fmean(values) if values else None


async def month_starts(session: AsyncSession, tz: ZoneInfo) -> list[datetime]:
    """The first moment (UTC) of each month in `tz` from the oldest case's month to the month
    after the newest case's, for bucketing cases by month without converting every row."""
    oldest, newest = (
        await session.execute(select(func.min(Case.created_at), func.max(Case.created_at)))
    ).one()
    if oldest is None:
        return []
    month = oldest.astimezone(tz).date().replace(day=1)
    starts = []
    while True:
        start = datetime.combine(month, datetime.min.time(), tzinfo=tz).astimezone(UTC)
        starts.append(start)
        if start > newest:
            return starts
        month = (month + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class Tallies:
    """Case counts by status, municipality, category and month, and how many of the cases have a
    first staff action and a first resolution."""

    by_status: Counter[str]
    by_municipality: Counter[str]
    by_category: Counter[str]
    by_month: Counter[str]
    timed: tuple[int, int]


async def postgresql_tallies(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], tz: ZoneInfo
) -> Tallies:
    """The four tallies (status, municipality, category, month) and the cases with a first action
    and a first resolution, from one scan of cases.

    The scan groups by the five raw keys (a few tens of thousands of groups at most), the month
    as a bucket of month starts in `tz` (width_bucket: no time zone conversion per row); grouping
    sets over that small result give each tally.
    """
    starts = await month_starts(session, tz)
    epochs = [start.timestamp() for start in starts] or [0.0]
    bucket = func.width_bucket(
        func.date_part("epoch", Case.created_at), array(epochs, type_=Float)
    ).label("month")
    keys = (Case.status, Case.municipality_id, Case.kind, Case.category)
    fine = (
        select(
            *keys,
            bucket,
            func.count().label("n"),
            func.count(Case.first_staff_action_at).label("acted"),
            func.count(Case.first_resolved_at).label("resolved"),
        )
        .where(*conditions)
        .group_by(*keys, bucket)
        .subquery("fine")
    )
    status, place, kind, category, month = (fine.c[key] for key in fine.c.keys()[:5])
    sets = func.grouping_sets(tuple_(status), tuple_(place), tuple_(kind, category), tuple_(month))
    result = await session.execute(
        select(
            func.grouping(status, place, kind, category, month),
            status,
            place,
            kind,
            category,
            month,
            func.sum(fine.c.n),
            func.sum(fine.c.acted),
            func.sum(fine.c.resolved),
        ).group_by(sets)
    )
    names = dict((await session.execute(select(Authority.id, Authority.name))).all())
    by_status: Counter[str] = Counter()
    by_place: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    by_month: Counter[str] = Counter()
    timed = [0, 0]
    for mask, key_status, key_place, key_kind, key_category, key_month, count, *firsts in result:
        count = int(count)
        if mask == GROUPED_BY_STATUS:
            by_status[str(key_status)] += count
            timed = [total + int(first) for total, first in zip(timed, firsts, strict=True)]
        elif mask == GROUPED_BY_PLACE:
            by_place[names.get(key_place) or NO_MUNICIPALITY] += count
        elif mask == GROUPED_BY_CATEGORY:
            by_category[category_of(key_kind, key_category)] += count
        else:
            by_month[starts[key_month - 1].astimezone(tz).strftime("%Y-%m")] += count
    return Tallies(by_status, by_place, by_category, by_month, (timed[0], timed[1]))


GROUPED_BY_STATUS, GROUPED_BY_PLACE, GROUPED_BY_CATEGORY = 0b01111, 0b10111, 0b11001
"""grouping(status, place, kind, category, month): a 1 bit for each key not in the set."""


async def case_stats(session: AsyncSession, scope: Scope, tz: ZoneInfo) -> CaseStats:
    """Counts by municipality, category, status and month (in `tz`), and the two medians.

    On PostgreSQL JIT is off for the rest of the transaction: compiling the scans' expressions
    cost more server CPU than it saved over a million cases (0.71 s against 0.96 s). work_mem is
    32 MB: the planner guesses a group per case (the month bucket is an expression), and with
    the default 4 MB it sorts a million rows on disk or spills the hash table; the real table of
    some 50,000 groups needs about 22 MB."""
    dialect = _dialect(session)
    conditions = case_conditions(scope, tz)
    if dialect == POSTGRESQL:
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL work_mem = '32MB'"))
        tallies = await postgresql_tallies(session, conditions, tz)
        by_status, by_municipality = tallies.by_status, tallies.by_municipality
        by_category, by_month = tallies.by_category, tallies.by_month
        whole = scope.start is None and scope.end is None and scope.municipality_ids is None
        counts = tallies.timed if whole else None
    else:
        counts = None
        by_status = await tally(session, conditions, [Case.status], str)
        by_municipality = await tally(
            session, conditions, [Authority.name], lambda name: name or NO_MUNICIPALITY
        )
        by_category = await tally(session, conditions, [Case.kind, Case.category], category_of)
        by_month = await tally(session, conditions, [month_key(dialect, tz)], month_of(dialect, tz))
    hours_to_act, days_to_resolve = await case_medians(session, dialect, conditions, counts)
    return CaseStats(
        total=sum(by_status.values()),
        by_municipality=ranked(by_municipality),
        by_category=ranked(by_category),
        by_status=ranked(by_status),
        by_month=sorted(by_month.items()),
        median_hours_to_first_action=hours_to_act,
        median_days_to_resolution=days_to_resolve,
    )


async def answer_medians(
    session: AsyncSession, dialect: str, conditions: Sequence[ColumnElement[bool]]
) -> dict[int, float]:
    """Per authority, the median calendar days from sending to an answer, over answered ones."""
    days = days_between(dialect, RtiRequest.outcome_on, RtiRequest.sent_on)
    answered = [*conditions, RtiRequest.status.in_(ANSWERED), RtiRequest.outcome_on.is_not(None)]
    if dialect == POSTGRESQL:
        result = await session.execute(
            select(RtiRequest.authority_id, func.percentile_cont(0.5).within_group(days))
            .where(*answered)
            .group_by(RtiRequest.authority_id)
        )
        return {authority_id: float(value) for authority_id, value in result}
    spans: defaultdict[int, list[float]] = defaultdict(list)
    for authority_id, value in await session.execute(
        select(RtiRequest.authority_id, days).where(*answered)
    ):
        spans[authority_id].append(value)
    return {key: float(statistics.median(values)) for key, values in spans.items()}


async def rti_stats(session: AsyncSession, scope: Scope, tz: ZoneInfo) -> list[AuthorityRti]:
    """Sent requests per authority (most first): how many, how many answered, how fast.

    A request counts when it was sent (sent_on set; the period applies to sent_on and the
    municipalities to the authority). It is answered when its status is "answered" or
    "partial"; the median days to answer is over those with an outcome date, as calendar days
    from sent_on to outcome_on. Corruption does not concern requests, so it is not filtered.
    """
    dialect = _dialect(session)
    conditions = rti_conditions(scope)
    answered = func.sum(case((RtiRequest.status.in_(ANSWERED), 1), else_=0))
    result = await session.execute(
        select(Authority.id, Authority.kind, Authority.name, func.count(), answered)
        .join(Authority, Authority.id == RtiRequest.authority_id)
        .where(*conditions)
        .group_by(Authority.id, Authority.kind, Authority.name)
    )
    medians = await answer_medians(session, dialect, conditions)
    rows = [
        AuthorityRti(
            authority=f"Bashkia {name}" if kind == directory.MUNICIPALITY else name,
            requests=requests,
            answered=int(answers),
            answer_rate=int(answers) / requests if requests else None,
            median_days_to_answer=medians.get(authority_id),
        )
        for authority_id, kind, name, requests, answers in result
    ]
    return sorted(rows, key=lambda row: (-row.requests, row.authority))
