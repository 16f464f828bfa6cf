"""case_stats on both backends equals a naive count over the raw rows, for random cases and
timelines that change after the fact (entries added out of order, moved, deleted, a staff member
deleted, cases' creation moved): the per-case first action and resolution and the durations to
them that the triggers keep stay exact, and so do medians read from the durations' indexes."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import column, delete, insert, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.staff.services import stats
from bot.staff.services.filters import Scope, case_conditions
from db import migrate
from db.base import UTCDateTime
from db.engine import create_engine, create_sessionmaker
from db.models import Authority, Case, CaseEvent, CaseKind, CaseStatus, User
from tests.databases import backends, fresh_database

TZ = ZoneInfo("Europe/Tirane")
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
STAFF = (7, 8, 9)
CATEGORIES = ("water", "roads", "waste", None)


@pytest.fixture
async def maker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database with four municipalities, a reporter and three staff members."""
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    maker = create_sessionmaker(engine)
    async with maker() as session, session.begin():
        session.add_all(
            Authority(
                kind="municipality", name=name, in_programme=True, created_at=NOW, updated_at=NOW
            )
            for name in ("Shkodër", "Lezhë", "Kukës", "Tropojë")
        )
        session.add_all(
            User(id=user_id, telegram_id=1000 + user_id, created_at=NOW, updated_at=NOW)
            for user_id in (1, *STAFF)
        )
    yield maker
    await engine.dispose()


def moment(rng: random.Random) -> datetime:
    """A moment in 2026 H1, often right at a month's turn (where zones disagree on the month)."""
    if rng.random() < 0.3:
        month = rng.randint(1, 6)
        turn = datetime(2026, month, 1, tzinfo=UTC)
        return turn + timedelta(minutes=rng.randint(-180, 180), seconds=rng.random() * 60)
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 180 * 86400))


async def seed(maker: async_sessionmaker[AsyncSession], rng: random.Random) -> None:
    """Random cases and timelines, then changes to the timelines after they were written."""
    async with maker() as session, session.begin():
        places = list((await session.execute(select(Authority.id))).scalars())
        events = []
        for number in range(1, 161):
            created = moment(rng)
            corruption = rng.random() < 0.15
            session.add(
                Case(
                    id=number,
                    reference=f"PACT-2026-{number:05d}",
                    kind=CaseKind.CORRUPTION if corruption else CaseKind.SERVICE,
                    status=rng.choice(list(CaseStatus)),
                    identification="named",
                    municipality_id=None if rng.random() < 0.1 else rng.choice(places),
                    category=None if corruption else rng.choice(CATEGORIES),
                    created_at=created,
                    updated_at=created,
                )
            )
            events.append(CaseEvent(case_id=number, at=created, kind="status", status="received"))
            for _ in range(rng.randint(0, 4)):
                status = rng.choice((None, "under_review", "resolved", "resolved", "rejected"))
                events.append(
                    CaseEvent(
                        case_id=number,
                        at=created + timedelta(seconds=rng.uniform(1, 40 * 86400)),
                        kind="status" if status or rng.random() < 0.2 else "note",
                        status=status,
                        staff_user_id=rng.choice((None, *STAFF)),
                    )
                )
        await session.flush()
        rng.shuffle(events)
        for event in events:
            session.add(event)
            await session.flush()
    async with maker() as session, session.begin():
        ids = list((await session.execute(select(CaseEvent.id))).scalars())
        for event_id in rng.sample(ids, 30):
            await session.execute(
                update(CaseEvent)
                .where(CaseEvent.id == event_id)
                .values(at=NOW - timedelta(days=rng.randint(0, 200)), staff_user_id=None)
            )
        for event_id in rng.sample(ids, 20):
            await session.execute(
                update(CaseEvent)
                .where(CaseEvent.id == event_id)
                .values(kind="status", status="resolved", case_id=rng.randint(1, 160))
            )
        await session.execute(delete(CaseEvent).where(CaseEvent.id.in_(rng.sample(ids, 30))))
    async with maker() as session, session.begin():
        await session.execute(delete(User).where(User.id == STAFF[0]))
        for number in rng.sample(range(1, 161), 15):
            moved = await session.get(Case, number)
            assert moved is not None
            moved.created_at += timedelta(seconds=rng.uniform(-5 * 86400, 5 * 86400))


async def naive(session: AsyncSession, scope: Scope) -> stats.CaseStats:
    """The figures from every in-scope case and its raw timeline, counted in Python."""
    cases = (await session.execute(select(Case).where(*case_conditions(scope, TZ)))).scalars()
    names = dict((await session.execute(select(Authority.id, Authority.name))).all())
    events = (await session.execute(select(CaseEvent))).scalars().all()
    by_status, by_place, by_category, by_month = Counter(), Counter(), Counter(), Counter()
    to_act, to_resolve = [], []
    for case in cases:
        by_status[str(case.status)] += 1
        by_place[names.get(case.municipality_id) or stats.NO_MUNICIPALITY] += 1
        by_category[stats.category_of(str(case.kind), case.category)] += 1
        by_month[case.created_at.astimezone(TZ).strftime("%Y-%m")] += 1
        timeline = [event for event in events if event.case_id == case.id]
        acted = [e.at for e in timeline if e.staff_user_id is not None]
        resolved = [e.at for e in timeline if e.kind == "status" and e.status == "resolved"]
        start = math.floor(case.created_at.timestamp())
        if acted:
            to_act.append(math.floor(min(acted).timestamp()) - start)
        if resolved:
            to_resolve.append(math.floor(min(resolved).timestamp()) - start)
    return stats.CaseStats(
        total=sum(by_status.values()),
        by_municipality=stats.ranked(by_place),
        by_category=stats.ranked(by_category),
        by_status=stats.ranked(by_status),
        by_month=sorted(by_month.items()),
        median_hours_to_first_action=statistics.median(to_act) / 3600 if to_act else None,
        median_days_to_resolution=statistics.median(to_resolve) / 86400 if to_resolve else None,
    )


@pytest.mark.parametrize("seed_value", [1, 2])
async def test_case_stats_equal_a_naive_count_of_the_raw_rows(maker, seed_value) -> None:
    rng = random.Random(seed_value)
    await seed(maker, rng)
    async with maker() as session:
        places = list((await session.execute(select(Authority.id))).scalars())
    scopes = [
        Scope(),
        Scope(include_corruption=True),
        Scope(start=date(2026, 2, 1), end=date(2026, 3, 31), municipality_ids=tuple(places[:2])),
        Scope(start=date(2027, 1, 1), include_corruption=True),
    ]
    for scope in scopes:
        async with maker() as session:
            expected = await naive(session, scope)
            got = await stats.case_stats(session, scope, TZ)
        assert got == expected, scope
    assert expected.total == 0 and expected.median_days_to_resolution is None
    async with maker() as session:
        for case in (await session.execute(select(Case))).scalars():
            assert case.seconds_to_first_action == whole_seconds(
                case.first_staff_action_at, case.created_at
            )
            assert case.seconds_to_resolution == whole_seconds(
                case.first_resolved_at, case.created_at
            )


def whole_seconds(later: datetime | None, earlier: datetime) -> int | None:
    """Seconds from `earlier` to `later`, each cut to the whole second; None without `later`."""
    if later is None:
        return None
    return math.floor(later.timestamp()) - math.floor(earlier.timestamp())


async def test_whole_period_medians_of_odd_and_even_counts_equal_a_naive_count(maker) -> None:
    rng = random.Random(3)
    created = datetime(2026, 3, 1, 10, 0, 0, 600_000, tzinfo=UTC)
    for number in range(1, 8):
        async with maker() as session, session.begin():
            session.add(
                Case(
                    id=number,
                    reference=f"PACT-2026-{number:05d}",
                    kind=CaseKind.CORRUPTION if number == 4 else CaseKind.SERVICE,
                    status=CaseStatus.RECEIVED,
                    identification="named",
                    created_at=created,
                    updated_at=created,
                )
            )
            await session.flush()
            later = created + timedelta(seconds=rng.uniform(0, 90_000))
            session.add(CaseEvent(case_id=number, at=later, kind="note", staff_user_id=STAFF[1]))
            if number % 3:
                session.add(CaseEvent(case_id=number, at=later, kind="status", status="resolved"))
        for scope in (Scope(), Scope(include_corruption=True)):
            async with maker() as session:
                assert await stats.case_stats(session, scope, TZ) == await naive(session, scope)


@pytest.mark.parametrize("backend", backends())
async def test_the_migration_fills_each_cases_first_action_and_resolution(
    backend: str, tmp_path: Path
) -> None:
    engine = create_engine(await fresh_database(backend, tmp_path))
    when = UTCDateTime()
    users = table("users", column("id"), column("telegram_id"), column("created_at", when))
    users.append_column(column("updated_at", when))
    cases = table(
        "cases",
        *(column(name) for name in ("id", "reference", "kind", "status", "identification")),
        column("forward_consent"),
        column("created_at", when),
        column("updated_at", when),
    )
    events = table(
        "case_events",
        *(column(name) for name in ("case_id", "kind", "status", "staff_user_id", "internal")),
        column("at", when),
    )
    created = datetime(2026, 3, 1, 10, tzinfo=UTC)
    try:
        await migrate.upgrade(engine, "0018_inbox_chats")
        async with engine.begin() as conn:
            await conn.execute(
                insert(users),
                [{"id": 7, "telegram_id": 1007, "created_at": NOW, "updated_at": NOW}],
            )
            await conn.execute(
                insert(cases),
                [
                    {
                        "id": number,
                        "reference": f"PACT-2026-{number:05d}",
                        "kind": "service",
                        "status": "received",
                        "identification": "named",
                        "forward_consent": False,
                        "created_at": created,
                        "updated_at": created,
                    }
                    for number in (1, 2)
                ],
            )
            hour = timedelta(hours=1)
            timeline = [
                (1, created, "status", "received", None),
                (1, created + 5 * hour, "note", None, 7),
                (1, created + 2 * hour, "status", None, 7),
                (1, created + 9 * hour, "status", "resolved", None),
                (2, created, "status", "received", None),
            ]
            await conn.execute(
                insert(events),
                [
                    dict(
                        zip(("case_id", "at", "kind", "status", "staff_user_id"), row, strict=True)
                    )
                    | {"internal": False}
                    for row in timeline
                ],
            )
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            found = await conn.execute(
                select(Case.id, Case.first_staff_action_at, Case.first_resolved_at).order_by(
                    Case.id
                )
            )
            assert found.all() == [(1, created + 2 * hour, created + 9 * hour), (2, None, None)]
            found = await conn.execute(
                select(Case.seconds_to_first_action, Case.seconds_to_resolution).order_by(Case.id)
            )
            assert found.all() == [(7200, 32400), (None, None)]
        await migrate.downgrade(engine, "0018_inbox_chats")
    finally:
        await engine.dispose()
