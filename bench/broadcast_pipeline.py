"""Broadcast pipeline: the real sender (bot/broadcasting/sender.py), a real outbox, the fake API.

Run: python bench/broadcast_pipeline.py [--database postgresql+asyncpg://postgres@host/postgres]
     [--counts 10000,100000] [--concurrency 64] [--limited 3000] [--latency 0.05]
     [--flood-share 0.05] [--skip-ceiling] [--skip-limited] [--compare-httpx] [--tracemalloc]

Each measurement seeds a fresh database (an SQLite file by default; with --database, a database
pact_bench_pipeline created on that PostgreSQL server and dropped at the end) with subscribers
and one campaign broadcast, fills its outbox (timed apart), then runs ``Sender.run()``, the code
the bot runs, in a process of its own, so its peak RSS is the sender's alone. The fake Bot API
runs in another process and notes when each sendMessage reaches it.

- ceiling: BROADCAST_RATE=0 (no limiter), the fake answering at once, for each of --counts:
  messages per second, and the sender process's peak RSS (also before sending); --tracemalloc
  adds a run tracing the Python heap's peak while sending, --compare-httpx one with PTB's
  default HTTPXRequest in place of the aiohttp transport;
- limit: BROADCAST_RATE=30 (StrictRateLimiter) over --limited recipients with the fake answering
  after --latency: the rate and the most arrivals in any sliding second at the server;
- 429s: the same with --flood-share of sendMessage calls answered 429 (retry_after 1 s): the rate,
  and every recipient reached exactly once.

The figures go in docs/benchmarks.md; this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.app import build_services
from bot.broadcasting.sender import Sender, build_bot
from bot.campaigns.services import campaigns
from bot.core import logs
from bot.core.settings import Settings
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Consent, ConsentPurpose, OutboxMessage, Subscription, Topic, User
from fakeapi import FakeTelegram

TOKEN = "123456:BENCH"
FIRST = 1_000_000
DATABASE = "pact_bench_pipeline"
CHUNK = 10_000


@dataclass
class Run:
    """One measurement's figures."""

    label: str
    count: int
    fill_seconds: float
    sent: int
    elapsed: float
    rss_before_mb: float
    peak_rss_mb: float
    heap_peak_mb: float
    server: dict[str, Any]
    outbox: dict[str, int]

    @property
    def rate(self) -> float:
        """Messages sent per second of the sender's run."""
        return self.sent / self.elapsed


def memory_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (its peak) in MB; getrusage's peak would survive exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def busiest_second(arrivals: list[float]) -> int:
    """The most arrivals inside any sliding 1-second window."""
    first = most = 0
    for last, at in enumerate(arrivals):
        while arrivals[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def serve_fake(conn: Connection, count: int, latency: float, flood_share: float) -> None:
    """Child process: the fake Bot API with ``count`` private chats, until asked for a report."""
    asyncio.run(_serve_fake(conn, count, latency, flood_share))


async def _serve_fake(conn: Connection, count: int, latency: float, flood_share: float) -> None:
    fake = FakeTelegram()
    users = [fake.user(user_id=FIRST + n) for n in range(count)]
    arrivals: list[float] = []
    check = fake.flood.check

    def timed_check(method: str) -> object:
        if method == "sendMessage":
            arrivals.append(time.monotonic())
        return check(method)

    fake.flood.check = timed_check  # type: ignore[method-assign]
    fake.latency = latency
    fake.inject_429(flood_share, retry_after=1, methods={"sendMessage"}, seed=1)
    await fake.start()
    conn.send((fake.base_url, fake.base_file_url))
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    received = Counter(len(user.chat.messages) for user in users)
    conn.send(
        {
            "arrivals": len(arrivals),
            "busiest_second": busiest_second(arrivals),
            "refused_429": fake.flood.injected,
            "reached": sum(n for times, n in received.items() if times >= 1),
            "twice_or_more": sum(n for times, n in received.items() if times >= 2),
        }
    )
    await fake.stop()


def run_sender(conn: Connection, settings: dict[str, Any], httpx: bool, traced: bool) -> None:
    """Child process: one ``Sender.run()`` over the outbox; figures and peak RSS back."""
    logs.configure("ERROR")
    conn.send(asyncio.run(_run_sender(Settings(_env_file=None, **settings), httpx, traced)))


async def _run_sender(settings: Settings, httpx: bool, traced: bool) -> dict[str, float]:
    services = build_services(settings)
    bot = build_bot(settings)
    if httpx:
        request = HTTPXRequest(connection_pool_size=settings.broadcast_concurrency + 8)
        bot = ExtBot(
            token=settings.require_token(),
            base_url=settings.telegram_base_url,
            base_file_url=settings.telegram_base_file_url,
            request=request,
            rate_limiter=bot.rate_limiter,
            defaults=bot.defaults,
        )
    sender = Sender(services, bot)
    await bot.initialize()
    before = memory_mb("VmRSS")
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    sent = await sender.run()
    elapsed = time.perf_counter() - started
    heap = tracemalloc.get_traced_memory()[1] / 2**20 if traced else math.nan
    tracemalloc.stop()
    await sender.close()
    await services.engine.dispose()
    peak = memory_mb("VmHWM")
    return {
        "sent": sent,
        "elapsed": elapsed,
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "heap_peak_mb": heap,
    }


async def admin(server: str, sql: str) -> None:
    """One statement outside a transaction on the PostgreSQL server."""
    engine = create_engine(server)
    try:
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def fresh_database(server: str | None, folder: str) -> str:
    """An empty database: a new SQLite file, or pact_bench_pipeline recreated on the server."""
    if server is None:
        path = os.path.join(folder, f"pipeline-{time.monotonic_ns()}.sqlite3")
        return f"sqlite+aiosqlite:///{path}"
    await admin(server, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await admin(server, f'CREATE DATABASE "{DATABASE}"')
    return make_url(server).set(database=DATABASE).render_as_string(hide_password=False)


async def seed(database_url: str, count: int) -> tuple[int, float]:
    """Subscribers with consent (c), one campaign started with its outbox filled; (id, fill s)."""
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            for start in range(0, count, CHUNK):
                numbers = range(start, min(start + CHUNK, count))
                await conn.execute(
                    insert(User),
                    [
                        {"telegram_id": FIRST + n, "created_at": now, "updated_at": now}
                        for n in numbers
                    ],
                )
            ids = (await conn.execute(select(User.id))).scalars().all()
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                await conn.execute(
                    insert(Consent),
                    [
                        {
                            "user_id": user_id,
                            "purpose": ConsentPurpose.CAMPAIGNS,
                            "notice_version": "bench",
                            "given_at": now,
                        }
                        for user_id in chunk
                    ],
                )
                await conn.execute(
                    insert(Subscription),
                    [
                        {
                            "user_id": user_id,
                            "topics": [Topic.SERVICES.value],
                            "created_at": now,
                            "updated_at": now,
                        }
                        for user_id in chunk
                    ],
                )
        sessions = create_sessionmaker(engine)
        async with sessions() as session, session.begin():
            broadcast = await campaigns.create_broadcast(
                session,
                title="Bench",
                text_sq="Dëgjesë publike për buxhetin 2027, e hënë ora 10:00.",
                text_en=None,
                topic=Topic.SERVICES,
                municipality_ids=None,
                send_at=now - timedelta(minutes=1),
                by_user_id=None,
                now=now,
            )
            number = broadcast.id
        started = time.perf_counter()
        async with sessions() as session, session.begin():
            await campaigns.start_due(session, now, Settings(_env_file=None).tz)
        return number, time.perf_counter() - started
    finally:
        await engine.dispose()


async def outbox(database_url: str, broadcast_id: int) -> dict[str, int]:
    """Outbox rows by status after the run."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(OutboxMessage.status).where(OutboxMessage.broadcast_id == broadcast_id)
            )
            return dict(Counter(rows.scalars()))
    finally:
        await engine.dispose()


async def measure(
    label: str,
    count: int,
    *,
    server: str | None,
    folder: str,
    rate: float,
    concurrency: int,
    latency: float,
    flood_share: float,
    httpx: bool = False,
    traced: bool = False,
) -> Run:
    """Seed, start the fake and the sender processes, collect both sides' figures."""
    database_url = await fresh_database(server, folder)
    broadcast_id, fill = await seed(database_url, count)
    context = multiprocessing.get_context("spawn")
    fake_end, fake_child = context.Pipe()
    fake = context.Process(target=serve_fake, args=(fake_child, count, latency, flood_share))
    fake.start()
    loop = asyncio.get_running_loop()
    base_url, base_file_url = await loop.run_in_executor(None, fake_end.recv)
    settings = {
        "bot_token": TOKEN,
        "database_url": database_url,
        "telegram_base_url": base_url,
        "telegram_base_file_url": base_file_url,
        "broadcast_rate": rate,
        "broadcast_concurrency": concurrency,
        "reminder_poll_seconds": 0,
        "quiet_start": "00:00",
        "quiet_end": "00:00",
    }
    sender_end, sender_child = context.Pipe()
    sender = context.Process(target=run_sender, args=(sender_child, settings, httpx, traced))
    sender.start()
    figures = await loop.run_in_executor(None, sender_end.recv)
    sender.join()
    fake_end.send("report")
    report = await loop.run_in_executor(None, fake_end.recv)
    fake.join()
    rows = await outbox(database_url, broadcast_id)
    return Run(
        label,
        count,
        fill,
        int(figures["sent"]),
        figures["elapsed"],
        figures["rss_before_mb"],
        figures["peak_rss_mb"],
        figures["heap_peak_mb"],
        report,
        rows,
    )


def show(run: Run) -> None:
    """Print one measurement."""
    server = run.server
    print(
        f"  {run.label}, {run.count:,} recipients: {run.sent:,} sent in {run.elapsed:.1f} s = "
        f"{run.rate:,.1f} msg/s; outbox filled in {run.fill_seconds:.2f} s; sender RSS "
        f"{run.rss_before_mb:.0f} MB before sending, peak {run.peak_rss_mb:.0f} MB"
        + (
            ""
            if math.isnan(run.heap_peak_mb)
            else f", Python heap peak while sending {run.heap_peak_mb:.1f} MB"
        )
        + "\n"
        f"    server: {server['arrivals']:,} sendMessage arrivals, busiest 1 s "
        f"{server['busiest_second']}, {server['refused_429']} answered 429, "
        f"{server['reached']:,} chats reached, {server['twice_or_more']} twice; "
        f"outbox {run.outbox}"
    )


async def main() -> None:
    """Run the configured measurements and print them."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", help="PostgreSQL server URL (default: SQLite files)")
    parser.add_argument("--counts", default="10000,100000")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--limited", type=int, default=3000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--flood-share", type=float, default=0.05)
    parser.add_argument("--skip-ceiling", action="store_true")
    parser.add_argument("--skip-limited", action="store_true")
    parser.add_argument("--compare-httpx", action="store_true", help="ceiling with PTB's httpx")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="ceiling again, tracing the Python heap (slower)"
    )
    args = parser.parse_args()
    logs.configure("ERROR")
    backend = "PostgreSQL" if args.database else "SQLite"
    with tempfile.TemporaryDirectory() as folder:
        common = {"server": args.database, "folder": folder, "concurrency": args.concurrency}
        try:
            if not args.skip_ceiling:
                print(f"ceiling ({backend}, no limiter, no latency, {args.concurrency} in flight)")
                for count in (int(c) for c in args.counts.split(",")):
                    show(
                        await measure("aiohttp", count, rate=0, latency=0, flood_share=0, **common)
                    )
                    if args.tracemalloc:
                        show(
                            await measure(
                                "aiohttp, traced",
                                count,
                                rate=0,
                                latency=0,
                                flood_share=0,
                                traced=True,
                                **common,
                            )
                        )
                    if args.compare_httpx:
                        show(
                            await measure(
                                "httpx",
                                count,
                                rate=0,
                                latency=0,
                                flood_share=0,
                                httpx=True,
                                **common,
                            )
                        )
            if not args.skip_limited:
                print(f"at the limit ({backend}, 30/s, {args.latency * 1000:.0f} ms round trip)")
                limited = {"rate": 30, "latency": args.latency}
                show(await measure("limit", args.limited, flood_share=0, **limited, **common))
                show(
                    await measure(
                        f"{args.flood_share:.0%} 429s",
                        args.limited,
                        flood_share=args.flood_share,
                        **limited,
                        **common,
                    )
                )
        finally:
            if args.database:
                await admin(args.database, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
