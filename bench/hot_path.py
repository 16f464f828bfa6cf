"""The per-update hot path: updates/s, SQL statements and commits per update, and a profile.

Run: python bench/hot_path.py [--users 100] [--database URL] [--profile out.html]
Each user walks onboarding and the service-report flow to a stored named case (15 updates), all
users at once, against the in-process fake Bot API with the rate limiter lifted. Statements and
commits are counted with SQLAlchemy events on the bot's engine while the walk runs, so the
figures are per update including the reply row and its deletion after the commit. A PostgreSQL
URL gets a throwaway database of its own (created and dropped; with --no-disk-wait its commits do
not wait for the disk, for a loaded machine whose disk would hide the bot's own costs). With
--profile the walk runs under pyinstrument and writes its HTML report. Quick, for before/after
comparisons of one change; the full comparison with the peers is bench/full_flow.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from telegram.request import HTTPXRequest

import bot.app
from bot.core import logs
from bot.core.lifecycle import shutdown, start_polling, startup
from bot.core.settings import Settings
from fakeapi import FakeTelegram

STEPS: list[tuple[str, Any]] = [
    ("command", "/start"),
    ("press", "✅ I agree"),
    ("press", "Skip"),
    ("press", "Skip"),
    ("command", "/menu"),
    ("press", "🛠 Report a service problem"),
    ("press", "Shkodër"),
    ("press", "Municipality of Shkodër"),
    ("press", "Velipojë"),
    ("press", "Street lighting"),
    ("text", "The street lights on the main road have been off for two weeks."),
    ("location", (41.8667, 19.4167)),
    ("press", "✔️ Done"),
    ("press", "👤 Named"),
    ("press", "📨 Send"),
]
"""One person's walk: consent, then a named street-lighting report."""


@contextlib.asynccontextmanager
async def database(url: str | None, disk_wait: bool = True) -> AsyncIterator[str]:
    """A temp SQLite file, or a throwaway database on the PostgreSQL server of `url`."""
    if url is None or make_url(url).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield url or f"sqlite+aiosqlite:///{Path(folder) / 'hot.db'}"
        return
    name = f"pact_hotpath_{os.getpid()}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
        if not disk_wait:
            await conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


class Counter:
    """Statements and commits on one engine while switched on."""

    def __init__(self) -> None:
        self.on = False
        self.statements = 0
        self.commits = 0
        self.connections = 0
        self.kinds: dict[str, int] = {}
        self.errors: dict[str, int] = {}

    def statement(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if self.on:
            self.statements += 1
            key = " ".join(statement.split()[:6])[:90]
            self.kinds[key] = self.kinds.get(key, 0) + 1

    def error(self, context: Any) -> None:
        """Database errors by message (bench data only: no one's content)."""
        key = str(context.original_exception)[:80]
        self.errors[key] = self.errors.get(key, 0) + 1

    def connect(self, *_: Any) -> None:
        if self.on:
            self.connections += 1

    def commit(self, *_: Any) -> None:
        if self.on:
            self.commits += 1


def _httpx_request(connections: int) -> HTTPXRequest:
    """PTB's default transport, as the bot used before (the --httpx comparison)."""
    return HTTPXRequest(connection_pool_size=connections)


async def walk(fake: FakeTelegram, app: Any, user: Any) -> int:
    """One person's steps, each waiting for the previous one to be handled; updates sent."""
    for kind, value in STEPS:
        if kind == "command":
            update_id = await user.send_command(value)
        elif kind == "press":
            update_id = await user.press(value)
        elif kind == "text":
            update_id = await user.send_text(value)
        else:
            update_id = await user.send_location(*value)
        await fake.wait_delivered(update_id, timeout=600)
        await app.wait_processed(update_id, timeout=600)
    return len(STEPS)


async def measure(args: argparse.Namespace, url: str) -> dict[str, float]:
    """Run the walk of every user at once; the figures."""
    fake = FakeTelegram()
    await fake.start()
    settings = Settings(
        _env_file=None,
        bot_token="1:BENCH",
        database_url=url,
        telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url,
        telegram_rate_limit=False,
        updates_per_minute=100_000,
        reminder_poll_seconds=0,
        broadcast_rate=0,
    )
    if args.httpx:
        bot.app.AiohttpRequest = _httpx_request  # type: ignore[assignment]
    app = bot.app.build_application(settings)
    await startup(app)
    await start_polling(app, timeout=5)
    counter = Counter()
    sync_engine = app.services.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", counter.statement)
    event.listen(sync_engine, "commit", counter.commit)
    event.listen(sync_engine, "handle_error", counter.error)
    event.listen(sync_engine, "connect", counter.connect)
    users = [fake.user(user_id=20_000 + i, language_code="en") for i in range(args.users)]
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    counter.on = True
    started = time.perf_counter()
    sent = sum(await asyncio.gather(*(walk(fake, app, user) for user in users)))
    elapsed = time.perf_counter() - started
    counter.on = False
    if profiler is not None:
        profiler.stop()
        await asyncio.to_thread(Path(args.profile).write_text, profiler.output_html())
        print(profiler.output_text(unicode=True, color=False, show_all=False)[:6000])
    await shutdown(app)
    await fake.stop()
    for message, count in counter.errors.items():
        print(f"  database error x{count}: {message}")
    if args.statements:
        for key, count in sorted(counter.kinds.items(), key=lambda item: -item[1]):
            print(f"  {count / sent:6.2f}  {key}")
    return {
        "updates": sent,
        "rate": sent / elapsed,
        "statements": counter.statements / sent,
        "commits": counter.commits / sent,
        "connections": counter.connections,
    }


async def main() -> None:
    """Print one line of figures per run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: temp SQLite)")
    parser.add_argument(
        "--no-disk-wait",
        action="store_true",
        help="PostgreSQL commits do not wait for the disk (as in the tests): the bot's own cost",
    )
    parser.add_argument("--httpx", action="store_true", help="PTB's httpx transport instead")
    parser.add_argument("--statements", action="store_true", help="list statements by kind")
    parser.add_argument("--profile", default=None, help="write a pyinstrument HTML report here")
    args = parser.parse_args()
    logs.configure("WARNING")
    for _ in range(args.runs):
        async with database(args.database, not args.no_disk_wait) as url:
            found = await measure(args, url)
        backend = make_url(url).get_backend_name()
        print(
            f"{backend}: {found['updates']:.0f} updates, {found['rate']:6.1f} updates/s, "
            f"{found['statements']:.2f} statements and {found['commits']:.2f} commits per update, "
            f"{found['connections']:.0f} database connections opened"
        )


if __name__ == "__main__":
    asyncio.run(main())
