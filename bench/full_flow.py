"""The full service-report flow at scale: N people each walk it to a stored case, against PACT.

Run: python bench/full_flow.py [--users 500] [--database sqlite|postgresql|URL]
[--latency 0.05] [--paced 100] [--rate-limit on|off] [--profile out.txt]

The bot is the production command (`python -m bot run`) in a process of its own, configured
through the environment; this process runs the fake Bot API (with a staff group for the case
cards) and the people. Before the timed part every person is onboarded (/start, consent, two
skips: 4 updates each, not timed). Timed: each person, all at once, walks /menu → Report a
service problem → Shkodër → Municipality of Shkodër → Velipojë → Street lighting → the
description and the location sent back to back (two updates in flight in one chat, so their
order matters) → Done → identification (named, confidential, anonymous in turn) → Send, plus
"It is a different problem" when similar named cases are offered: 11–12 updates. Each person
presses a button only once the bot has shown it, as people do.

Measured: updates/s over the timed part (from the first update queued to the last case
confirmed); per step, the time from the bot fetching the update to the reply reaching the fake
server (p50/p99). `--paced R` queues the steps at a steady R updates/s at most instead of all at
once. `--latency S` makes the fake server wait S seconds before answering any call but
getUpdates. `--rate-limit off` lifts the production limiter (TELEGRAM_RATE_LIMIT=false,
BROADCAST_RATE=0). A person whose reply does not come within --timeout seconds gives up and is
counted in "stuck". Checked: cases stored == N, and every case has both its description and its
map point (the two back-to-back updates were handled in order). A PostgreSQL database
pact_bench_flow_<pid> is created and dropped. With --seed-cache DIR the onboarding is done once
into a seed database (a SQLite file in DIR, or pact_bench_flow_seed_<hash of DIR>) and each run
gets a copy (a file copy, or CREATE DATABASE … TEMPLATE); --drop-seed removes the PostgreSQL
seed. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchkit import (
    ROOT,
    TOKEN,
    BenchFake,
    BotProcess,
    Profiler,
    admin,
    database,
    emit,
    interruptible,
    percentile,
    pg_server,
    scalar,
    sqlite_url,
    warm_up,
    with_database,
)
from profile_summary import summarise

from fakeapi import FakeMessage, FakeUser

FIRST_USER = 100_000
DATABASE = f"pact_bench_flow_{os.getpid()}"
"""This run's throwaway PostgreSQL database (per process: runs at once do not collide)."""
NUMBERS_AFTER_SEED = 10_000_000
STAFF_GROUP = -100_555
REPORT = "🛠 Report a service problem"
IDENTITIES = ("👤 Named", "🔒 Confidential", "🕶 Anonymous")
DIFFERENT = "It is a different problem"
Check = Callable[[FakeMessage], bool]


def labelled(label: str) -> Check:
    """The newest message carries this button."""
    return lambda message: label in message.labels


def question_after(previous: str) -> Check:
    """A newer question than the one with ``previous`` (it has Cancel, not that button)."""
    return lambda message: previous not in message.labels and "✖️ Cancel" in message.labels


def confirmed(message: FakeMessage) -> bool:
    """The case is stored and its number given, or similar cases are offered."""
    return "PACT-" in (message.text or "") or DIFFERENT in message.labels


def stored(message: FakeMessage) -> bool:
    """The case is stored and its number given."""
    return "PACT-" in (message.text or "") and DIFFERENT not in message.labels


class StepTimeout(RuntimeError):
    """The bot's reply to a step did not come in time (lost, or the bot is far behind)."""


@dataclass
class Walker:
    """One person: their fake user and what they measured."""

    fake: BenchFake
    user: FakeUser
    index: int
    pacer: Pacer | None = None
    latencies: list[float] = field(default_factory=list)
    updates: int = 0
    timeout: float = 600
    stuck: str | None = None

    @property
    def chat(self) -> int:
        """The private chat's id."""
        return self.user.user_id

    async def step(self, actions: list[tuple[str, Any]], until: Check, timed: bool = True) -> None:
        """Send the updates back to back, then wait for the newest message to satisfy ``until``."""
        version = self.fake.chat_version.get(self.chat, 0)
        last = 0
        for kind, argument in actions:
            if self.pacer is not None and timed:
                await self.pacer.slot()
            if kind == "press":
                last = await self.user.press(argument)
            elif kind == "command":
                last = await self.user.send_command(argument)
            elif kind == "location":
                last = await self.user.send_location(*argument)
            else:
                last = await self.user.send_text(argument)
            self.updates += 1

        def ready() -> bool:
            if self.fake.chat_version.get(self.chat, 0) <= version:
                return False
            messages = self.user.messages
            return bool(messages) and until(messages[-1])

        try:
            done_at = await self.fake.wait_chat(self.chat, ready, self.timeout)
        except TimeoutError:
            shown = self.user.messages[-1] if self.user.messages else None
            seen = (shown.text or "")[:80] if shown else "nothing"
            raise StepTimeout(
                f"chat {self.chat}: after {actions[-1]} the bot's newest message did not fit in "
                f"{self.timeout:.0f} s (it reads {seen!r}, buttons {shown and shown.labels})"
            ) from None
        delivered = self.fake.delivered_at.get(last)
        if timed and delivered is not None:
            self.latencies.append(done_at - delivered)

    async def onboard(self) -> None:
        """Consent and skip the optional questions (not timed)."""
        await self.step([("command", "/start")], labelled("✅ I agree"), timed=False)
        await self.step([("press", "✅ I agree")], labelled("Skip"), timed=False)
        await self.step([("press", "Skip")], labelled("Youth activist"), timed=False)
        await self.step([("press", "Skip")], labelled(REPORT), timed=False)
        self.updates = 0

    async def report(self) -> None:
        """The timed walk; a person whose reply never came gives up (noted in ``stuck``)."""
        try:
            await self._report()
        except StepTimeout as error:
            self.stuck = str(error)

    async def _report(self) -> None:
        """The timed walk from /menu to the stored case."""
        await self.step([("command", "/menu")], labelled(REPORT))
        await self.step([("press", REPORT)], labelled("Shkodër"))
        await self.step([("press", "Shkodër")], labelled("Municipality of Shkodër"))
        await self.step([("press", "Municipality of Shkodër")], labelled("Velipojë"))
        await self.step([("press", "Velipojë")], labelled("Street lighting"))
        await self.step([("press", "Street lighting")], question_after("Street lighting"))
        description = f"Street lights off on the main road for two weeks (bench {self.chat})."
        point = (41.8667, 19.4167 + self.index / 1e6)
        await self.step([("text", description), ("location", point)], labelled("✔️ Done"))
        await self.step([("press", "✔️ Done")], labelled(IDENTITIES[1]))
        await self.step([("press", IDENTITIES[self.index % 3])], labelled("📨 Send"))
        await self.step([("press", "📨 Send")], confirmed)
        if DIFFERENT in self.user.messages[-1].labels:
            await self.step([("press", DIFFERENT)], stored)


class Pacer:
    """Hands out send slots at most ``rate`` per second, evenly spaced, never catching up."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def slot(self) -> None:
        """Wait for the next slot."""
        async with self.lock:
            now = time.perf_counter()
            at = max(self.next_at, now)
            self.next_at = at + self.interval
            if at > now:
                await asyncio.sleep(at - now)


def bot_environment(args: argparse.Namespace, url: str, fake: BenchFake) -> dict[str, str]:
    """The production settings, pointed at the fake server and the throwaway database."""
    env = {
        "BOT_TOKEN": TOKEN,
        "DATABASE_URL": url,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "STAFF_CHAT_ID": str(STAFF_GROUP),
        "LOG_LEVEL": "WARNING",
        "REMINDER_POLL_SECONDS": "0",
    }
    if args.rate_limit == "off":
        env.update({"TELEGRAM_RATE_LIMIT": "false", "BROADCAST_RATE": "0"})
    return env


@contextlib.asynccontextmanager
async def bot_session(
    args: argparse.Namespace, url: str, seeded: bool
) -> AsyncIterator[tuple[BenchFake, BotProcess]]:
    """The fake server and the bot on this database, warmed up; both stopped at the end.

    On a seeded database the fake's update, message and query numbers start above the seeding
    run's, as Telegram's would after a restart.
    """
    fake = BenchFake()
    await fake.start()
    fake.group(chat_id=STAFF_GROUP, title="Staff")
    if seeded:
        fake.queue.last_id = NUMBERS_AFTER_SEED
        fake.state.counters["callback_query"] = NUMBERS_AFTER_SEED
    bot = BotProcess(["-m", "bot", "run"], bot_environment(args, url, fake))
    bot.start()
    try:
        await warm_up(fake, bot, "/help")
        yield fake, bot
    finally:
        fake.latency = 0.0
        await bot.stop()
        await fake.stop()


def people(fake: BenchFake, count: int, seeded: bool, timeout: float) -> list[Walker]:
    """The walkers, with the same Telegram ids in every run."""
    walkers = []
    for index in range(count):
        user = fake.user(user_id=FIRST_USER + index, language_code="en")
        if seeded:
            user.chat.last_message_id = NUMBERS_AFTER_SEED
        walkers.append(Walker(fake, user, index, timeout=timeout))
    return walkers


async def onboard(walkers: list[Walker]) -> float:
    """Onboard everyone at once; seconds taken."""
    started = time.perf_counter()
    await asyncio.gather(*(walker.onboard() for walker in walkers))
    return time.perf_counter() - started


def seed_name(args: argparse.Namespace) -> str:
    """The PostgreSQL seed database of this seed cache folder."""
    folder = str(Path(args.seed_cache).resolve())
    return f"pact_bench_flow_seed_{hashlib.sha1(folder.encode()).hexdigest()[:8]}"


def _head() -> str:
    """The newest migration's file name: a seed made before a schema change is made again."""
    return max(path.name for path in (ROOT / "db" / "migrations" / "versions").glob("*.py"))


async def _build_seed(args: argparse.Namespace, kind: str, cache: Path) -> float:
    """Onboard args.users people into the cached seed database; seconds the onboarding took."""
    if kind == "sqlite":
        url = sqlite_url(str(cache), "seed.db")
        for suffix in ("", "-wal", "-shm"):
            (cache / f"seed.db{suffix}").unlink(missing_ok=True)
    else:
        server = pg_server(args.database)
        await admin(server, f'DROP DATABASE IF EXISTS "{seed_name(args)}" WITH (FORCE)')
        await admin(server, f'CREATE DATABASE "{seed_name(args)}"')
        url = with_database(args.database, seed_name(args))
    async with bot_session(args, url, seeded=False) as (fake, _bot):
        took = await onboard(people(fake, args.users, False, args.timeout))
    marker = {"users": args.users, "head": _head()}
    (cache / f"{kind}.json").write_text(json.dumps(marker))
    return took


def _cache(args: argparse.Namespace) -> tuple[Path, str, dict[str, Any]]:
    """The seed cache folder, the database kind, and what its marker says is there."""
    cache = Path(args.seed_cache)
    cache.mkdir(parents=True, exist_ok=True)
    kind = "sqlite" if args.database == "sqlite" else "postgresql"
    marker = cache / f"{kind}.json"
    return cache, kind, json.loads(marker.read_text()) if marker.exists() else {}


@contextlib.asynccontextmanager
async def prepared(args: argparse.Namespace) -> AsyncIterator[tuple[str, bool, float | None]]:
    """A throwaway database; with --seed-cache, a copy of one where everyone is onboarded.

    Yields the URL, whether it is seeded, and the onboarding time if it was done here.
    """
    if not args.seed_cache:
        async with database(args.database, DATABASE) as url:
            yield url, False, None
        return
    cache, kind, found = _cache(args)
    onboarding = None
    if found.get("users", 0) < args.users or found.get("head") != _head():
        onboarding = await _build_seed(args, kind, cache)
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="pact-bench-") as folder:
            for suffix in ("", "-wal", "-shm"):
                if (cache / f"seed.db{suffix}").exists():
                    shutil.copy(cache / f"seed.db{suffix}", Path(folder) / f"bench.db{suffix}")
            yield sqlite_url(folder), True, onboarding
        return
    server = pg_server(args.database)
    await admin(server, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await admin(server, f'CREATE DATABASE "{DATABASE}" TEMPLATE "{seed_name(args)}"')
    try:
        yield with_database(args.database, DATABASE), True, onboarding
    finally:
        await admin(server, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


async def drop_seed(args: argparse.Namespace) -> None:
    """Remove the PostgreSQL seed database of --seed-cache (run_all calls this at the end)."""
    name = seed_name(args)
    await admin(pg_server(args.database), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Onboard (or copy a seeded database), then time the walk; check what was stored."""
    profiler: Profiler | None = None
    async with prepared(args) as (url, seeded, onboarding):
        async with bot_session(args, url, seeded) as (fake, bot):
            walkers = people(fake, args.users, seeded, args.timeout)
            if not seeded:
                onboarding = await onboard(walkers)
            fake.latency = args.latency
            pacer = Pacer(args.paced) if args.paced else None
            for walker in walkers:
                walker.pacer = pacer
            calls_before = len(fake.calls)
            if args.profile:
                assert bot.process is not None
                profiler = Profiler(bot.process.pid, Path(args.profile).with_suffix(".raw"))
                profiler.start()
            started = time.perf_counter()
            await asyncio.gather(*(walker.report() for walker in walkers))
            elapsed = time.perf_counter() - started
            if profiler is not None:
                await profiler.stop()
            fake.latency = 0.0
            calls = [c.method for c in fake.calls[calls_before:] if c.method != "getUpdates"]
        cases = int(await scalar(url, "SELECT count(*) FROM cases"))
        whole = int(
            await scalar(
                url,
                "SELECT count(*) FROM cases WHERE latitude IS NOT NULL "
                "AND description LIKE '%(bench %'",
            )
        )
    updates = sum(walker.updates for walker in walkers)
    latencies = [value for walker in walkers for value in walker.latencies]
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    result: dict[str, Any] = {
        "bench": "full_flow",
        "database": "sqlite" if args.database == "sqlite" else "postgresql",
        "users": args.users,
        "latency_ms": round(args.latency * 1000),
        "paced": args.paced or None,
        "rate_limit": args.rate_limit,
        "updates": updates,
        "seconds": round(elapsed, 3),
        "updates_per_s": round(updates / elapsed, 1),
        "p50_ms": round(p50 * 1000, 1) if p50 is not None else None,
        "p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
        "stuck": sum(1 for walker in walkers if walker.stuck),
        "stuck_example": next((walker.stuck for walker in walkers if walker.stuck), None),
        "cases": cases,
        "cases_ok": cases == args.users,
        "order_kept": whole == cases,
        "calls_per_update": round(len(calls) / max(updates, 1), 2),
        "onboarding_s": round(onboarding, 1) if onboarding is not None else "seeded before",
    }
    if profiler is not None:
        result["_profile_raw"] = str(profiler.out)
    return result


def main() -> None:
    """Parse arguments, run, print the JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgresql or a URL")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--paced", type=float, default=0.0, help="updates/s (0: all at once)")
    parser.add_argument("--rate-limit", choices=("on", "off"), default="off")
    parser.add_argument("--profile", default=None, help="write py-spy hot spots to this file")
    parser.add_argument("--timeout", type=float, default=120, help="seconds one step may take")
    parser.add_argument("--seed-cache", default=None, help="folder: onboard once, copy per run")
    parser.add_argument("--drop-seed", action="store_true", help="drop the PostgreSQL seed, exit")
    args = parser.parse_args()
    interruptible()
    if args.drop_seed:
        asyncio.run(drop_seed(args))
        return
    result = asyncio.run(run(args))
    raw = result.pop("_profile_raw", None)
    if raw is not None:
        text, groups = summarise(Path(raw))
        Path(args.profile).write_text(text)
        result["profile"] = groups
    emit(result)


if __name__ == "__main__":
    main()
