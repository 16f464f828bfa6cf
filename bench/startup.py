"""Start-up with a big database: from process start to the first getUpdates, and idle memory.

Run: python bench/startup.py [--quick] [--runs 5] [--server URL] [--root DIR] [--before DIR]
     [--keep] [--reuse]
It builds two PostgreSQL databases: pact_bench_startup, seeded by bench/stats_scale.py's build()
(100,000 users and 1,000,000 cases; --quick: 10,000 and 100,000) plus drafts and conversation
states of 20,000 people (--quick: 2,000) in bot_state, and pact_bench_startup_empty, migrated and
empty. Then, alternating empty and big, it starts `python -m bot run` as a subprocess against the
fake Bot API (fakeapi/) and measures the time from just before the process is spawned to the
first getUpdates reaching the fake server, and the process's resident memory (VmRSS) once it has
idled a few seconds after that; median of --runs starts for each database. --root runs the bot
of another checkout; --before DIR also starts the bot of DIR (e.g. `git archive <older commit>`
unpacked there; copy this checkout's db/migrations/versions/*.py into it, since the databases are
at our newest schema), interleaved with ours, for a before/after comparison in the same run. The
last line is one JSON object with every figure, for bench/run_all.py. This is a measurement, not
a test; the databases are dropped at the end unless --keep is given (with --keep, a later --reuse
skips seeding when the big database is already there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import stats_scale
from benchkit import PG_SERVER, ROOT, TOKEN, BenchFake, emit, scalar

from db import migrate
from db.engine import create_engine

BIG = "pact_bench_startup"
EMPTY = "pact_bench_startup_empty"
IDLE_SECONDS = 3.0
"""How long the bot idles after its first getUpdates before its memory is read."""
TIMEOUT = 120.0
FLOWS = {
    "report": "category",
    "rti_builder": "information",
    "broadcast_composer": "text",
}
"""Conversation names of the seeded states, and a state each (only loaded, never run)."""


def state_rows(people: int, first_telegram_id: int) -> list[tuple[str, str, str, Any]]:
    """Drafts and conversation states of `people` people: one draft and one state each."""
    rng = random.Random(14)
    now = stats_scale.NOW
    rows = []
    names = list(FLOWS)
    for n in range(people):
        telegram_id = first_telegram_id + n
        name = rng.choice(names)
        draft = {
            name: {"municipality_id": rng.randint(1, 61), "text": "Drita e rrugës nuk ndizet."},
            "touched_at": now.isoformat(),
        }
        key = json.dumps([telegram_id, telegram_id])
        rows.append(("user_data", str(telegram_id), json.dumps(draft), now))
        rows.append(("conv", f"{name}:{key}", json.dumps({"state": FLOWS[name]}), now))
    return rows


async def seed_states(url: str, people: int) -> None:
    """Write the drafts and states with COPY (the seeded users have Telegram ids 9,000,001...)."""
    engine = create_engine(url, command_timeout=0)
    try:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(
                "bot_state",
                records=state_rows(people, 9_000_001),
                columns=["kind", "key", "data", "updated_at"],
            )
    finally:
        await engine.dispose()


async def build_empty(server: str) -> str:
    """A migrated database with nothing in it."""
    await stats_scale.admin(server, f'DROP DATABASE IF EXISTS "{EMPTY}" WITH (FORCE)')
    await stats_scale.admin(server, f'CREATE DATABASE "{EMPTY}"')
    url = stats_scale.database_url(server, EMPTY)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    return url


async def build_big(server: str, sizes: stats_scale.Sizes, people: int, reuse: bool) -> str:
    """The seeded database (kept as is with --reuse when it has its cases)."""
    url = stats_scale.database_url(server, BIG)
    if reuse:
        try:
            if await scalar(url, "SELECT count(*) FROM cases") == sizes.cases:
                return url
        except Exception as error:  # no such database yet: build it
            print(f"cannot reuse {BIG}: {error.__class__.__name__}", file=sys.stderr)
    started = time.perf_counter()
    # Bulk COPY into a busy server can outlast the bot's 10 s statement timeout: none here.
    stats_scale.create_engine = partial(create_engine, command_timeout=0)
    url = await stats_scale.build(server, BIG, sizes)
    await seed_states(url, people)
    print(
        f"seeded {sizes.users:,} users, {sizes.cases:,} cases and the states of {people:,} people"
        f" in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return url


def resident_kib(pid: int) -> int:
    """The process's resident memory (VmRSS) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def one_start(url: str, root: Path) -> tuple[float, int]:
    """Start the bot once: seconds to the first getUpdates, and idle RSS in KiB; then stop it."""
    fake = BenchFake()
    first: list[float] = []
    check = fake.flood.check

    def noting_check(method: str) -> Any:
        """The fake's flood check runs when a call arrives: note the first getUpdates."""
        if method == "getUpdates" and not first:
            first.append(time.perf_counter())
        return check(method)

    fake.flood.check = noting_check  # type: ignore[method-assign]
    await fake.start()
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "DATABASE_URL": url,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("HEALTH_PORT", None)
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=root, env=env, stdout=log, stderr=log
        )
        try:
            deadline = started + TIMEOUT
            while not first:
                if process.returncode is not None or time.perf_counter() > deadline:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-3000:]
                    raise RuntimeError(f"the bot never polled:\n{tail}")
                await asyncio.sleep(0.005)
            await asyncio.sleep(IDLE_SECONDS)
            return first[0] - started, resident_kib(process.pid)
        finally:
            if process.returncode is None:
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
            await fake.stop()


async def measure(starts: dict[str, tuple[str, Path]], runs: int) -> dict[str, dict[str, float]]:
    """Alternate the starts (A B A B ...), one warm-up each, then `runs` each; label → figures.

    `starts` maps a label to the database URL and the checkout to start.
    """
    seconds: dict[str, list[float]] = {label: [] for label in starts}
    memory: dict[str, list[int]] = {label: [] for label in starts}
    for run in range(runs + 1):
        for label, (url, root) in starts.items():
            took, rss = await one_start(url, root)
            if run:  # the first start of each warms the disk cache and the bytecode
                seconds[label].append(took)
                memory[label].append(rss)
                print(f"  {label:<12} {took:6.2f} s  {rss / 1024:6.1f} MiB", file=sys.stderr)
    return {
        label: {
            "startup_s": round(statistics.median(seconds[label]), 3),
            "startup_s_min": round(min(seconds[label]), 3),
            "idle_rss_mib": round(statistics.median(memory[label]) / 1024, 1),
        }
        for label in starts
    }


def summary(figures: dict[str, dict[str, float]], prefix: str = "") -> dict[str, Any]:
    """The figures of one checkout: empty, big, and the difference the data makes."""
    empty, big = figures[f"{prefix}empty"], figures[f"{prefix}big"]
    return {
        "empty": empty,
        "big": big,
        "big_minus_empty_s": round(big["startup_s"] - empty["startup_s"], 3),
        "big_minus_empty_rss_mib": round(big["idle_rss_mib"] - empty["idle_rss_mib"], 1),
    }


async def import_seconds(root: Path, runs: int) -> float:
    """Median wall time of `python -c "import bot.app"` (what start-up pays before our code)."""
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import bot.app", cwd=root
        )
        await process.wait()
        took.append(time.perf_counter() - started)
    return round(statistics.median(took), 3)


async def main() -> None:
    """Build the databases, time the starts, print the JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10,000 users and 100,000 cases")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--server", default=PG_SERVER, help="SQLAlchemy URL of any database there")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose bot is started")
    parser.add_argument(
        "--before", type=Path, help="another checkout (an older commit) measured alongside"
    )
    parser.add_argument("--keep", action="store_true", help="leave the databases in place")
    parser.add_argument("--reuse", action="store_true", help="reuse a seeded big database")
    args = parser.parse_args()
    sizes = (
        stats_scale.Sizes(cases=100_000, users=10_000, requests=2_000)
        if args.quick
        else stats_scale.Sizes(cases=1_000_000, users=100_000, requests=20_000)
    )
    people = 2_000 if args.quick else 20_000
    root = args.root.resolve()
    try:
        urls = {
            "empty": await build_empty(args.server),
            "big": await build_big(args.server, sizes, people, args.reuse),
        }
        starts = {name: (url, root) for name, url in urls.items()}
        if args.before is not None:
            starts |= {f"before_{name}": (url, args.before.resolve()) for name, url in urls.items()}
        figures = await measure(starts, args.runs)
        imports = await import_seconds(root, args.runs)
        before_imports = (
            await import_seconds(args.before.resolve(), args.runs) if args.before else None
        )
    finally:
        if not args.keep:
            await stats_scale.admin(args.server, f'DROP DATABASE IF EXISTS "{EMPTY}" WITH (FORCE)')
            await stats_scale.drop(args.server, BIG)
    result: dict[str, Any] = {
        "bench": "startup",
        "quick": args.quick,
        "users": sizes.users,
        "cases": sizes.cases,
        "people_with_states": people,
        "runs": args.runs,
        "import_bot_app_s": imports,
        **summary(figures),
        "target_s": 2.0,
    }
    if args.before is not None:
        result["before"] = {"import_bot_app_s": before_imports, **summary(figures, "before_")}
    emit(result)


if __name__ == "__main__":
    asyncio.run(main())
