"""Updates handled per second with a 50 ms Bot API round trip: sequential vs. chat-ordered.

Run: python bench/update_throughput.py [--chats 50] [--per-chat 4] [--latency 0.05]
Each update is a /help command (one database read, one sendMessage). The figures go in
docs/benchmarks.md; this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bot.app import build_application
from bot.core import logs
from bot.core.lifecycle import shutdown, start_polling, startup
from bot.core.settings import Settings
from fakeapi import FakeTelegram


async def measure(concurrency: int, rate_limit: bool, args: argparse.Namespace) -> float:
    """Updates per second for one configuration."""
    fake = FakeTelegram()
    await fake.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,
            bot_token="1:BENCH",
            database_url=args.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
            telegram_base_url=fake.base_url,
            telegram_base_file_url=fake.base_file_url,
            max_concurrent_updates=concurrency,
            telegram_rate_limit=rate_limit,
        )
        app = build_application(settings)
        await startup(app)
        await start_polling(app, timeout=5)
        fake.latency = args.latency
        users = [fake.user(user_id=10_000 + i, language_code="en") for i in range(args.chats)]
        started = time.perf_counter()
        ids = [await user.send_command("/help") for _ in range(args.per_chat) for user in users]
        for update_id in ids:
            await fake.wait_delivered(update_id, timeout=600)
            await app.wait_processed(update_id, timeout=600)
        elapsed = time.perf_counter() - started
        fake.latency = 0.0
        await shutdown(app)
    await fake.stop()
    return len(ids) / elapsed


async def main() -> None:
    """Print one line per configuration."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--per-chat", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: temp SQLite)")
    args = parser.parse_args()
    logs.configure("WARNING")
    print(f"{args.chats} chats x {args.per_chat} updates, {args.latency * 1000:.0f} ms round trip")
    for concurrency, rate_limit in ((1, False), (32, False), (32, True)):
        rate = await measure(concurrency, rate_limit, args)
        limiter = "with" if rate_limit else "without"
        print(f"  concurrency {concurrency:>2}, {limiter} rate limiter: {rate:6.1f} updates/s")


if __name__ == "__main__":
    asyncio.run(main())
