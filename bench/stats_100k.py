"""Statistics over 100,000 cases on PostgreSQL: how long case_stats and rti_stats take.

Run: python bench/stats_100k.py [--server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
It creates the database pact_bench_stats on that server (dropping any old one), migrates it,
seeds 100,000 cases over the 15 programme municipalities and 24 months (about 2.3 timeline
entries each) and 20,000 information requests with COPY, then times each call: one warm-up
run, then the median of 5. The database is dropped at the end unless --keep is given. The
figures go in docs/benchmarks.md; this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.cases.services import case_rules as cases
from bot.rti.services import directory
from bot.staff.services import stats
from bot.staff.services.filters import Scope
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Authority, CaseStatus, RequestStatus

DATABASE = "pact_bench_stats"
SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TZ = ZoneInfo("Europe/Tirane")
FIRST_DAY = date(2025, 1, 1)
DAYS = 730
"""24 months of cases and requests, 2025-01-01 to 2026-12-31."""
CASES, REQUESTS, USERS, STAFF = 100_000, 20_000, 3_000, 12
RUNS = 5
CASE_STATUSES = {
    CaseStatus.RECEIVED: 10,
    CaseStatus.UNDER_REVIEW: 15,
    CaseStatus.FORWARDED: 15,
    CaseStatus.ANSWERED: 10,
    CaseStatus.RESOLVED: 30,
    CaseStatus.NOT_RESOLVED: 8,
    CaseStatus.REJECTED: 7,
    CaseStatus.DUPLICATE: 3,
    CaseStatus.WITHDRAWN: 2,
}
REQUEST_STATUSES = {
    RequestStatus.PREPARED: 10,
    RequestStatus.SENT: 15,
    RequestStatus.EXTENDED: 5,
    RequestStatus.ANSWERED: 35,
    RequestStatus.PARTIAL: 10,
    RequestStatus.REFUSED: 8,
    RequestStatus.NO_ANSWER: 10,
    RequestStatus.COMPLAINT_FILED: 4,
    RequestStatus.CLOSED: 3,
}
WITH_OUTCOME = {RequestStatus.ANSWERED, RequestStatus.PARTIAL, RequestStatus.REFUSED}
NOW = datetime(2027, 1, 1, tzinfo=UTC)


async def admin(server: str, sql: str) -> None:
    """Run one statement outside a transaction on the server's maintenance database."""
    engine = create_engine(server)
    try:
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def moment(rng: random.Random) -> datetime:
    """A random moment in the 24 months, in UTC."""
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=TZ)
    return (start + timedelta(seconds=rng.uniform(0, DAYS * 86400))).astimezone(UTC)


def pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    """One key drawn by its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def case_rows(
    rng: random.Random, municipalities: list[int], categories: list[str]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Cases and their timeline: "received", a staff action unless untouched, the resolution."""
    rows, events, numbers = [], [], dict.fromkeys((2025, 2026), 0)
    for case_id in range(1, CASES + 1):
        created, status = moment(rng), pick(rng, CASE_STATUSES)
        corruption = rng.random() < 0.05
        numbers[created.year] = numbers.get(created.year, 0) + 1
        place = None if corruption and rng.random() < 0.5 else rng.choice(municipalities)
        rows.append(
            (
                case_id,
                f"PACT-{created.year}-{numbers[created.year]:05d}",
                "corruption" if corruption else "service",
                status,
                rng.choice(("named", "confidential", "anonymous")),
                place,
                None if corruption else rng.choice(categories),
                "Përshkrim i shkurtër i problemit.",
                False,
                created,
                created,
            )
        )
        events.append((case_id, created, "status", CaseStatus.RECEIVED, None))
        if status == CaseStatus.RECEIVED:
            continue
        acted = created + timedelta(hours=rng.expovariate(1 / 30))
        events.append((case_id, acted, "status", CaseStatus.UNDER_REVIEW, rng.randint(1, STAFF)))
        if status == CaseStatus.RESOLVED:
            resolved = acted + timedelta(days=rng.uniform(1, 60))
            events.append((case_id, resolved, "status", status, rng.randint(1, STAFF)))
    return rows, [(i, *event, False) for i, event in enumerate(events, start=1)]


def request_rows(rng: random.Random, programme: list[int], others: list[int]) -> list[tuple]:
    """Information requests, mostly to programme municipalities, most of them sent."""
    rows = []
    for request_id in range(1, REQUESTS + 1):
        status = pick(rng, REQUEST_STATUSES)
        authority = rng.choice(programme if rng.random() < 0.8 else others)
        sent = None if status == RequestStatus.PREPARED else moment(rng).astimezone(TZ).date()
        outcome = (
            sent + timedelta(days=rng.randint(1, 40)) if sent and status in WITH_OUTCOME else None
        )
        rows.append(
            (
                request_id,
                rng.randint(1, USERS),
                authority,
                "Kopje e kontratave të pastrimit për vitin 2025.",
                "electronic",
                "email",
                "qytetar@example.com",
                "Qytetar Shembull",
                status,
                sent,
                sent + timedelta(days=10) if sent else None,
                False,
                False,
                outcome,
                NOW,
                NOW,
            )
        )
    return rows


async def copy(conn: AsyncConnection, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Bulk-load rows with PostgreSQL COPY through the asyncpg connection."""
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(table, records=rows, columns=columns)


async def authority_ids(conn: AsyncConnection) -> tuple[list[int], list[int]]:
    """Programme municipalities, and every other authority."""
    result = await conn.execute(select(Authority.id, Authority.in_programme).order_by(Authority.id))
    rows = result.all()
    return [i for i, yes in rows if yes], [i for i, yes in rows if not yes]


async def seed(maker: async_sessionmaker[AsyncSession], rng: random.Random) -> list[int]:
    """Authorities, users, cases with events and requests; returns programme municipality ids."""
    async with maker() as session, session.begin():
        await directory.seed(session, NOW)
        conn = await session.connection()
        programme, others = await authority_ids(conn)
        categories = [category.key for category in cases.categories()]
        users = [(i, 9_000_000 + i, "sq", NOW, NOW) for i in range(1, USERS + 1)]
        await copy(
            conn, "users", ["id", "telegram_id", "language", "created_at", "updated_at"], users
        )
        case_list, events = case_rows(rng, programme, categories)
        await copy(conn, "cases", CASE_COLUMNS, case_list)
        await copy(conn, "case_events", EVENT_COLUMNS, events)
        await copy(conn, "rti_requests", REQUEST_COLUMNS, request_rows(rng, programme, others))
        for table in ("users", "cases", "case_events", "rti_requests"):
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
    async with maker() as session, session.begin():
        await session.execute(text("ANALYZE"))
    print(f"seeded {len(case_list):,} cases, {len(events):,} events, {REQUESTS:,} requests")
    return programme


CASE_COLUMNS = [
    "id",
    "reference",
    "kind",
    "status",
    "identification",
    "municipality_id",
    "category",
    "description",
    "forward_consent",
    "created_at",
    "updated_at",
]
EVENT_COLUMNS = ["id", "case_id", "at", "kind", "status", "staff_user_id", "internal"]
REQUEST_COLUMNS = [
    "id",
    "user_id",
    "authority_id",
    "information",
    "format",
    "reply_channel",
    "reply_address",
    "requester_name",
    "status",
    "sent_on",
    "due_on",
    "extended",
    "transferred",
    "outcome_on",
    "created_at",
    "updated_at",
]


async def timed(
    maker: async_sessionmaker[AsyncSession],
    call: Callable[[AsyncSession, Scope, ZoneInfo], Awaitable[Any]],
    scope: Scope,
) -> tuple[float, Any]:
    """One warm-up, then the median wall time of RUNS calls (ms), each in a fresh session."""
    durations, result = [], None
    for run in range(RUNS + 1):
        started = time.perf_counter()
        async with maker() as session:
            result = await call(session, scope, TZ)
        if run:
            durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations), result


def describe(result: Any) -> str:
    """A few figures that show the call really counted something."""
    if isinstance(result, stats.CaseStats):
        return (
            f"{result.total:,} cases, {len(result.by_month)} months, "
            f"first action {result.median_hours_to_first_action:.1f} h, "
            f"resolution {result.median_days_to_resolution:.1f} d"
        )
    return f"{len(result)} authorities, {sum(row.requests for row in result):,} requests"


async def measure(maker: async_sessionmaker[AsyncSession], municipality: int) -> None:
    """Print the median time of each call for each scope."""
    scopes = {
        "whole period, all municipalities": Scope(),
        "whole period, with corruption": Scope(include_corruption=True),
        "one municipality, 3 months": Scope(
            start=date(2026, 4, 1), end=date(2026, 6, 30), municipality_ids=(municipality,)
        ),
    }
    for label, scope in scopes.items():
        for name, call in (("case_stats", stats.case_stats), ("rti_stats", stats.rti_stats)):
            elapsed, result = await timed(maker, call, scope)
            print(f"  {name:<10} {label:<34} {elapsed:7.1f} ms   ({describe(result)})")


async def main() -> None:
    """Create, seed, measure and drop the benchmark database."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default=SERVER, help="SQLAlchemy URL of any database there")
    parser.add_argument("--keep", action="store_true", help="leave pact_bench_stats in place")
    args = parser.parse_args()
    await admin(args.server, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await admin(args.server, f'CREATE DATABASE "{DATABASE}"')
    engine = create_engine(make_url(args.server).set(database=DATABASE).render_as_string(False))
    try:
        await migrate.upgrade(engine)
        maker = create_sessionmaker(engine)
        started = time.perf_counter()
        programme = await seed(maker, random.Random(2026))
        print(f"seeding took {time.perf_counter() - started:.1f} s; median of {RUNS} runs:")
        await measure(maker, programme[0])
    finally:
        await engine.dispose()
        if not args.keep:
            await admin(args.server, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
