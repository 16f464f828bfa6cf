"""Statistics and exports over many cases on PostgreSQL: how long /stats and /export take, how
much memory the export needs and how long it holds the event loop.

Run: python bench/stats_scale.py [--cases 1000000 | --quick] [--server URL] [--keep] [--reuse]
It creates the database pact_bench_stats on that server (dropping any old one), migrates it and
seeds it with COPY: the authority directory, users, cases over the 15 programme municipalities
and 24 months (about 2.3 timeline entries each, a varied description each) and information
requests. It times case_stats and rti_stats (one warm-up, then the median of 5, each in a fresh
session) and then the cases export (CSV in a zip and .xlsx, in parts under Telegram's 50 MB):
wall time, the process's peak resident memory above its level before the export (VmHWM from
/proc, reset through /proc/self/clear_refs), the longest event-loop stall seen by a 10 ms ticker,
and the files' sizes. The last line is one JSON object with every figure, for bench/run_all.py.
`--quick` is 100,000 cases. The database is dropped at the end unless --keep is given; --reuse
measures an existing seeded database without seeding it again.

Other benchmarks build a big database with `build()` (run from bench/, `import stats_scale`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.cases.services import case_rules as cases
from bot.core.i18n import I18n
from bot.rti.services import directory
from bot.staff.services import export, export_files, spreadsheets, stats
from bot.staff.services.filters import Scope, case_conditions
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Authority, Case, CaseStatus, RequestStatus

DATABASE = "pact_bench_stats"
SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TZ = ZoneInfo("Europe/Tirane")
FIRST_DAY = date(2025, 1, 1)
DAYS = 730
"""24 months of cases and requests, 2025-01-01 to 2026-12-31."""
STAFF = 12
CHUNK = 50_000
"""Cases generated and copied per round, so seeding needs little memory at any size."""
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
WORDS = (
    "ujë rrugë ndriçim mbeturina kanalizim shkollë spital autobus urë kalldrëm pastrim lagje "
    "fshat bashki zyrë punonjës pritje javë muaj ditë natë fëmijët banorët askush problemi "
    "vazhdon prej kohësh është prishur nuk funksionon ka rrjedhje pa drita ndotur rrezik"
).split()
"""Albanian words for descriptions that compress like real ones, not like one repeated line."""


@dataclass(frozen=True)
class Sizes:
    """How much to seed."""

    cases: int = 1_000_000
    users: int = 100_000
    requests: int = 20_000


async def admin(server: str, sql: str) -> None:
    """Run one statement outside a transaction on the server's maintenance database."""
    engine = create_engine(server)
    try:
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def database_url(server: str, database: str = DATABASE) -> str:
    """The URL of `database` on the server `server` points at."""
    return make_url(server).set(database=database).render_as_string(False)


def moment(rng: random.Random) -> datetime:
    """A random moment in the 24 months, in UTC."""
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=TZ)
    return (start + timedelta(seconds=rng.uniform(0, DAYS * 86400))).astimezone(UTC)


def pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    """One key drawn by its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def description(rng: random.Random) -> str:
    """A sentence of 8 to 40 words."""
    return " ".join(rng.choices(WORDS, k=rng.randint(8, 40))).capitalize() + "."


def case_chunks(
    rng: random.Random, sizes: Sizes, municipalities: list[int], categories: list[str]
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Cases and their timeline in rounds of CHUNK: "received", a staff action unless untouched,
    the resolution for resolved cases. Named cases carry their reporter."""
    numbers: dict[int, int] = {}
    event_id = 0
    for first in range(1, sizes.cases + 1, CHUNK):
        rows, events = [], []
        for case_id in range(first, min(first + CHUNK, sizes.cases + 1)):
            created, status = moment(rng), pick(rng, CASE_STATUSES)
            corruption = rng.random() < 0.05
            numbers[created.year] = numbers.get(created.year, 0) + 1
            place = None if corruption and rng.random() < 0.5 else rng.choice(municipalities)
            identification = rng.choice(("named", "confidential", "anonymous"))
            named = identification == "named"
            rows.append(
                (
                    case_id,
                    f"PACT-{created.year}-{numbers[created.year]:07d}",
                    "corruption" if corruption else "service",
                    status,
                    identification,
                    place,
                    None if corruption else rng.choice(categories),
                    description(rng),
                    False,
                    rng.randint(1, sizes.users) if named else None,
                    f"Qytetar {case_id % 997}" if named else None,
                    created,
                    created,
                )
            )
            event_id += 1
            events.append((event_id, case_id, created, "status", CaseStatus.RECEIVED, None, False))
            if status == CaseStatus.RECEIVED:
                continue
            acted = created + timedelta(hours=rng.expovariate(1 / 30))
            event_id += 1
            staff = rng.randint(1, STAFF)
            events.append(
                (event_id, case_id, acted, "status", CaseStatus.UNDER_REVIEW, staff, False)
            )
            if status == CaseStatus.RESOLVED:
                resolved = acted + timedelta(days=rng.uniform(1, 60))
                event_id += 1
                staff = rng.randint(1, STAFF)
                events.append((event_id, case_id, resolved, "status", status, staff, False))
        yield rows, events


def request_rows(
    rng: random.Random, sizes: Sizes, programme: list[int], others: list[int]
) -> list[tuple[Any, ...]]:
    """Information requests, mostly to programme municipalities, most of them sent."""
    rows = []
    for request_id in range(1, sizes.requests + 1):
        status = pick(rng, REQUEST_STATUSES)
        authority = rng.choice(programme if rng.random() < 0.8 else others)
        sent = None if status == RequestStatus.PREPARED else moment(rng).astimezone(TZ).date()
        outcome = (
            sent + timedelta(days=rng.randint(1, 40)) if sent and status in WITH_OUTCOME else None
        )
        rows.append(
            (
                request_id,
                rng.randint(1, sizes.users),
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


async def seed(
    maker: async_sessionmaker[AsyncSession], sizes: Sizes, rng: random.Random | None = None
) -> None:
    """Authorities, users, cases with events and requests, then ANALYZE (PostgreSQL only)."""
    rng = rng or random.Random(2026)
    async with maker() as session, session.begin():
        await directory.seed(session, NOW)
        conn = await session.connection()
        programme, others = await authority_ids(conn)
        categories = [category.key for category in cases.categories()]
        users = [(i, 9_000_000 + i, "sq", NOW, NOW) for i in range(1, sizes.users + 1)]
        await copy(
            conn, "users", ["id", "telegram_id", "language", "created_at", "updated_at"], users
        )
        del users
        for case_list, events in case_chunks(rng, sizes, programme, categories):
            await copy(conn, "cases", CASE_COLUMNS, case_list)
            await copy(conn, "case_events", EVENT_COLUMNS, events)
        await copy(
            conn, "rti_requests", REQUEST_COLUMNS, request_rows(rng, sizes, programme, others)
        )
        for table in ("users", "cases", "case_events", "rti_requests"):
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
    async with maker() as session, session.begin():
        await session.execute(text("ANALYZE"))


async def build(server: str = SERVER, database: str = DATABASE, sizes: Sizes | None = None) -> str:
    """Create (replacing any old one), migrate and seed a big database, and vacuum cases (as
    autovacuum would soon: index-only scans need the visibility map); returns its URL. No
    command timeout: COPY and ANALYZE of a million rows take longer than the bot's 10 s."""
    await admin(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    await admin(server, f'CREATE DATABASE "{database}"')
    url = database_url(server, database)
    engine = create_engine(url, command_timeout=0)
    try:
        await migrate.upgrade(engine)
        await seed(create_sessionmaker(engine), sizes or Sizes())
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            await conn.execute(text("VACUUM (ANALYZE) cases"))
    finally:
        await engine.dispose()
    return url


async def drop(server: str = SERVER, database: str = DATABASE) -> None:
    """Drop the benchmark database."""
    await admin(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


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
    "reporter_user_id",
    "reporter_display",
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


def server_cpu(pid: int) -> float | None:
    """CPU seconds a PostgreSQL backend on this machine has used (None when it is elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed(
    maker: async_sessionmaker[AsyncSession],
    call: Callable[[AsyncSession, Scope, ZoneInfo], Awaitable[Any]],
    scope: Scope,
) -> tuple[float, float | None, Any]:
    """One warm-up, then the median wall time of RUNS calls (ms), each in a fresh session, and
    the median CPU time the server spent on them (ms; it does not grow when the machine is busy,
    unlike the wall time)."""
    durations, cpu, result = [], [], None
    for run in range(RUNS + 1):
        async with maker() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            before = server_cpu(pid)
            started = time.perf_counter()
            result = await call(session, scope, TZ)
            elapsed = time.perf_counter() - started
            after = server_cpu(pid)
        if run:
            durations.append(elapsed * 1000)
            if before is not None and after is not None:
                cpu.append((after - before) * 1000)
    return statistics.median(durations), statistics.median(cpu) if cpu else None, result


def describe(result: Any) -> str:
    """A few figures that show the call really counted something."""
    if isinstance(result, stats.CaseStats):
        return (
            f"{result.total:,} cases, {len(result.by_month)} months, "
            f"first action {result.median_hours_to_first_action:.1f} h, "
            f"resolution {result.median_days_to_resolution:.1f} d"
        )
    return f"{len(result)} authorities, {sum(row.requests for row in result):,} requests"


SCOPES = {
    "whole period": Scope(),
    "whole period, with corruption": Scope(include_corruption=True),
    "one municipality, 3 months": Scope(start=date(2026, 4, 1), end=date(2026, 6, 30)),
}


async def measure_stats(maker: async_sessionmaker[AsyncSession]) -> dict[str, float]:
    """Print and return the median time (ms) of each call for each scope."""
    async with maker() as session:
        conn = await session.connection()
        municipality = (await authority_ids(conn))[0][0]
    figures = {}
    for label, scope in SCOPES.items():
        if scope.start is not None:
            scope = Scope(start=scope.start, end=scope.end, municipality_ids=(municipality,))
        for name, call in (("case_stats", stats.case_stats), ("rti_stats", stats.rti_stats)):
            elapsed, cpu, result = await timed(maker, call, scope)
            figures[f"{name} {label}"] = round(elapsed, 1)
            if cpu is not None:
                figures[f"{name} {label} server cpu"] = round(cpu, 1)
            print(
                f"  {name:<10} {label:<30} {elapsed:7.1f} ms, server CPU {cpu or 0:6.0f} ms"
                f"   ({describe(result)})",
                flush=True,
            )
    return figures


async def legacy_medians(session: AsyncSession, scope: Scope, tz: ZoneInfo) -> tuple[Any, Any]:
    """The two medians as case_stats took them before migration 0021: percentile_cont over the
    seconds between the moments, computed and sorted for every case in scope (hours, days)."""
    seconds = [
        func.floor(func.date_part("epoch", moment)) - func.floor(func.date_part("epoch", created))
        for moment, created in (
            (Case.first_staff_action_at, Case.created_at),
            (Case.first_resolved_at, Case.created_at),
        )
    ]
    await session.execute(text("SET LOCAL jit = off"))
    to_act, to_resolve = (
        await session.execute(
            select(*(func.percentile_cont(0.5).within_group(value) for value in seconds)).where(
                *case_conditions(scope, tz)
            )
        )
    ).one()
    return to_act / 3600, to_resolve / 86400


async def indexed_medians(session: AsyncSession, scope: Scope, tz: ZoneInfo) -> tuple[Any, Any]:
    """The two medians as case_stats takes them over the whole period: counted, then read from
    the durations' indexes."""
    conditions = case_conditions(scope, tz)
    counts = (
        await session.execute(
            select(
                func.count(Case.seconds_to_first_action), func.count(Case.seconds_to_resolution)
            ).where(*conditions)
        )
    ).one()
    return await stats.case_medians(session, stats.POSTGRESQL, conditions, tuple(counts))


async def measure_medians(maker: async_sessionmaker[AsyncSession]) -> dict[str, float]:
    """The medians over the whole period before and after migration 0021, alternately (3 rounds);
    the count that case_stats gets from its tallies scan is a separate scan here, so "after"
    overstates what the medians cost inside case_stats."""
    figures: dict[str, list[float]] = {}
    for _ in range(3):
        for name, call in (("before", legacy_medians), ("after", indexed_medians)):
            elapsed, cpu, result = await timed(maker, call, Scope())
            figures.setdefault(f"medians {name}", []).append(elapsed)
            figures.setdefault(f"medians {name} server cpu", []).append(cpu or 0.0)
            print(f"  medians {name:<6} {elapsed:7.1f} ms, server CPU {cpu or 0:6.0f} ms {result}")
    return {key: round(statistics.median(values), 1) for key, values in figures.items()}


def resident() -> tuple[int, int]:
    """The process's resident memory now and at its peak (VmRSS, VmHWM), in bytes."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values["VmRSS"], values["VmHWM"]


def reset_peak() -> None:
    """Start the peak (VmHWM) afresh from the current resident memory (Linux 4.0 and later)."""
    Path("/proc/self/clear_refs").write_text("5")


class Ticker:
    """A task that wakes every 10 ms and notes the longest it had to wait beyond that."""

    PERIOD = 0.01

    def __init__(self) -> None:
        self.longest = 0.0
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Sleep, measure the oversleep, forever."""
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.PERIOD)
            self.longest = max(self.longest, time.perf_counter() - started - self.PERIOD)

    def __enter__(self) -> Ticker:
        self.task = asyncio.get_running_loop().create_task(self.run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()


async def measure_export(maker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Export every case (Albanian, all periods) as the /export button does, and measure it."""
    t = I18n("sq", TZ.key).translator("sq")
    scope = Scope(include_corruption=True)
    await asyncio.sleep(0.05)
    before, _ = resident()
    reset_peak()
    with tempfile.TemporaryDirectory() as folder, Ticker() as ticker:
        started = time.perf_counter()
        async with maker() as session, session.begin():
            parts = await export_files.write_tables(
                session, "cases", scope, TZ, t, Path(folder), NOW.date()
            )
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.02)
        sizes = {part.name: part.path.stat().st_size for part in parts}
        rows = sum(part.rows for part in parts if part.name.endswith(".zip"))
    _, peak = resident()
    figures = {
        "export_rows": rows,
        "export_s": round(elapsed, 1),
        "export_peak_mib": round((peak - before) / 2**20, 1),
        "export_stall_ms": round(ticker.longest * 1000, 1),
        "export_files": len(sizes),
        "export_largest_mb": round(max(sizes.values()) / 1e6, 1),
        "export_total_mb": round(sum(sizes.values()) / 1e6, 1),
    }
    for name, size in sizes.items():
        print(f"  {name:<52} {size / 1e6:7.1f} MB")
    print(
        f"  export of {rows:,} cases: {elapsed:.1f} s, peak +{figures['export_peak_mib']} MiB, "
        f"longest loop stall {figures['export_stall_ms']} ms",
        flush=True,
    )
    return figures


async def measure_legacy_export(maker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """The export as it was built before streaming, for comparison in the same run: every row in
    memory, then the CSV and the openpyxl workbook built on the event loop."""
    t = I18n("sq", TZ.key).translator("sq")
    scope = Scope(include_corruption=True)
    await asyncio.sleep(0.05)
    before, _ = resident()
    reset_peak()
    with Ticker() as ticker:
        started = time.perf_counter()
        async with maker() as session:
            rows = await export.case_rows(session, scope, TZ, t)
        header = export.header(t, export.CASE_COLUMNS)
        content = spreadsheets.to_csv(header, rows, TZ)
        book = spreadsheets.to_xlsx("cases", header, rows, TZ)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.02)
    _, peak = resident()
    figures = {
        "legacy_export_s": round(elapsed, 1),
        "legacy_export_peak_mib": round((peak - before) / 2**20, 1),
        "legacy_export_stall_ms": round(ticker.longest * 1000, 1),
        "legacy_csv_mb": round(len(content) / 1e6, 1),
        "legacy_xlsx_mb": round(len(book) / 1e6, 1),
    }
    print(f"  before streaming: {figures}", flush=True)
    return figures


async def count_cases(engine: AsyncEngine) -> int:
    """How many cases the database holds."""
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(Case))).scalar_one()


async def main() -> None:
    """Create, seed, measure and (unless --keep) drop the benchmark database."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default=SERVER, help="SQLAlchemy URL of any database there")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 cases")
    parser.add_argument("--database", default=DATABASE, help="the database to create and use")
    parser.add_argument("--keep", action="store_true", help="leave the database in place")
    parser.add_argument("--reuse", action="store_true", help="measure an existing seeded database")
    parser.add_argument("--no-export", action="store_true", help="time the statistics only")
    parser.add_argument("--no-stats", action="store_true", help="measure the export only")
    parser.add_argument(
        "--legacy", action="store_true", help="also the in-memory export of before (big memory)"
    )
    args = parser.parse_args()
    sizes = Sizes(cases=100_000 if args.quick else args.cases)
    url = database_url(args.server, args.database)
    seeding = 0.0
    if not args.reuse:
        started = time.perf_counter()
        await build(args.server, args.database, sizes)
        seeding = time.perf_counter() - started
    engine = create_engine(url)
    try:
        total = await count_cases(engine)
        print(f"{total:,} cases (seeding {seeding:.0f} s); median of {RUNS} runs:", flush=True)
        maker = create_sessionmaker(engine)
        results: dict[str, Any] = {"bench": "stats_scale", "cases": total}
        if not args.no_stats:
            results |= await measure_stats(maker)
            results |= await measure_medians(maker)
        if not args.no_export:
            results |= await measure_export(maker)
        if args.legacy:
            results |= await measure_legacy_export(maker)
    finally:
        await engine.dispose()
        if not args.keep and not args.reuse:
            await drop(args.server, args.database)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
