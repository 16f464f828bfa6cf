"""Updates handled per second by 1 and by 2 worker processes sharing PostgreSQL.

Run: python bench/workers.py [--chats 100] [--per-chat 10] [--rounds 3] [--latency 0]
Each configuration is one fetcher (`PROCESS_ROLE=fetch`) and N workers (`work,send`), every one
a `python -m bot run` process against the fake Bot API in this process, on a throwaway PostgreSQL
database; for reference, one process doing everything (`PROCESS_ROLE=all`) is measured too. A
burst of /help and /privacy commands (one reply each) is queued at once; the time is from the
first update queued to the last reply received. Configurations alternate (all, 1, 2, all, ...);
the medians of the rounds are printed as one JSON line. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from fakeapi import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-TOKEN"
SERVER = os.environ.get(
    "PACT_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


async def _admin(sql: str) -> None:
    """One statement outside a transaction on the server."""
    engine = create_async_engine(SERVER, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(sql))
    await engine.dispose()


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m bot run` with this environment, its output in the log."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=output, stderr=output
        )


def _started(logs: list[Path]) -> bool:
    """Whether every process says it started."""
    return all(log.exists() and "bot started as" in log.read_text() for log in logs)


async def _until(predicate: Callable[[], bool], timeout: float) -> None:
    """Poll until the predicate holds."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.01)


async def _run(workers: int, args: argparse.Namespace, folder: Path, number: int) -> float:
    """Updates per second of one fetcher and `workers` workers on a fresh database."""
    name = f"pact_bench_workers_{os.getpid()}_{number}"
    await _admin(f'DROP DATABASE IF EXISTS "{name}"')
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    fake = FakeTelegram(token=TOKEN)
    await fake.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        env = dict(
            os.environ,
            BOT_TOKEN=TOKEN,
            DATABASE_URL=url,
            TELEGRAM_BASE_URL=fake.base_url,
            TELEGRAM_BASE_FILE_URL=fake.base_file_url,
            TELEGRAM_RATE_LIMIT="false",
            BROADCAST_RATE="0",
            UPDATES_PER_MINUTE="100000",
            DEFAULT_LOCALE="en",
            LOG_LEVEL="INFO",
        )
        roles = ["fetch"] + ["work,send"] * workers if workers else ["all"]
        logs = [folder / f"{number}-{index}.log" for index in range(len(roles))]
        processes += [
            _spawn(dict(env, PROCESS_ROLE=r), log) for r, log in zip(roles, logs, strict=True)
        ]
        await _until(lambda: _started(logs), 120)
        await asyncio.sleep(1.5)  # the workers take their roles within a second
        people = [fake.user(user_id=50_000 + i, language_code="en") for i in range(args.chats)]
        fake.latency = args.latency
        started = time.perf_counter()
        total = 0
        for round_ in range(args.per_chat):
            for person in people:
                await person.send_command("/help" if round_ % 2 == 0 else "/privacy")
                total += 1
        await _until(lambda: sum(len(person.messages) for person in people) >= total, 600)
        elapsed = time.perf_counter() - started
        fake.latency = 0.0
        return total / elapsed
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        await fake.stop()
        with contextlib.suppress(Exception):
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    """Alternate 1 and 2 workers, print the medians as one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--per-chat", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.0, help="emulated round trip, s")
    args = parser.parse_args()
    rates: dict[int, list[float]] = {0: [], 1: [], 2: []}
    with tempfile.TemporaryDirectory() as folder:
        number = 0
        for _round in range(args.rounds):
            for workers in (0, 1, 2):
                number += 1
                rates[workers].append(await _run(workers, args, Path(folder), number))
    result = {
        "bench": "workers",
        "updates": args.chats * args.per_chat,
        "chats": args.chats,
        "latency_ms": args.latency * 1000,
        "single_process_per_s": round(statistics.median(rates[0]), 1),
        "one_worker_per_s": round(statistics.median(rates[1]), 1),
        "two_workers_per_s": round(statistics.median(rates[2]), 1),
        "ratio": round(statistics.median(rates[2]) / statistics.median(rates[1]), 2),
        "runs": {str(k): [round(r, 1) for r in v] for k, v in rates.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
