"""Poll and RSVP presses under production limits: how soon each button stops spinning.

Run: python bench/poll_presses.py [--quick] [--users 1000] [--window 10] [--kind poll,rsvp]
     [--database URL] [--latency 0] [--compare] [--pool-size N]

N people who received a poll (or an event invitation) broadcast each press one button, spread
evenly over --window seconds, against the in-process fake Bot API. The bot runs with production
limits: StrictRateLimiter on the replies (priority lane) and on the broadcast sender (30/s shared
budget). The broadcast is sent beforehand by a bot without limits, then a fresh bot takes the
presses. Reported per kind: p50/p99/max from a press to its answerCallbackQuery reaching the
server, the most counted calls (sends and edits: everything with a chat_id but look-ups) in any
sliding second, the most in one chat in any sliding second, the seconds from the first press
until the last counted call arrived, the calls by method and how many messages came twice.
--compare runs each kind a second time with every reply call made inside the update's
processing slot, in order (as before the reply lanes of bot/core/replies.py), side by side.
--pool-size N is a what-if: the bot's PostgreSQL pool holds N connections instead of
SQLAlchemy's 5 + 10 overflow (below MAX_CONCURRENT_UPDATES, updates wait for a connection and,
after the pool timeout, fail and are tried again). --quick: 100 people. A PostgreSQL URL gets a
throwaway database (created and dropped). The last line is one JSON object of every figure
(bench/run_all.py reads it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_application
from bot.campaigns.services import campaigns, hearings, polls
from bot.core import logs, replies
from bot.core.clock import ManualClock
from bot.core.i18n import I18n
from bot.core.jobs import send_broadcasts
from bot.core.lifecycle import shutdown, start_polling, startup
from bot.core.settings import Settings
from db import engine as db_engine
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Consent, ConsentPurpose, Subscription, Topic, User
from fakeapi import FakeTelegram

FIRST = 3_000_000
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
NOT_COUNTED = frozenset({"getUpdates", "answerCallbackQuery", "getMe", "setMyCommands"})
LOOKUPS = frozenset({"getChat", "getChatMember", "getChatAdministrators", "getChatMemberCount"})
LABELS = {"poll": "Yes", "rsvp": "✅ I will attend"}
TOPICS = {"poll": Topic.POLLS, "rsvp": Topic.HEARINGS}
WAIT = 600.0


@contextlib.asynccontextmanager
async def database(url: str | None, tag: str) -> AsyncIterator[str]:
    """A temp SQLite file, or a throwaway database on the PostgreSQL server of `url`."""
    if url is None or make_url(url).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield url or f"sqlite+aiosqlite:///{Path(folder) / 'presses.db'}"
        return
    name = f"pact_presses_{tag}_{os.getpid()}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def seed(url: str, kind: str, users: int) -> None:
    """Subscribers with consent, and a poll or an event with its broadcast due."""
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        now = NOON
        async with engine.begin() as conn:
            await conn.execute(
                insert(User),
                [
                    {
                        "telegram_id": FIRST + n,
                        "language": "en",
                        "onboarded_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(users)
                ],
            )
            ids = (await conn.execute(select(User.id))).scalars().all()
            consents = [
                {"user_id": i, "purpose": p, "notice_version": "bench", "given_at": now}
                for i in ids
                for p in (ConsentPurpose.CASES, ConsentPurpose.CAMPAIGNS)
            ]
            await conn.execute(insert(Consent), consents)
            topic = TOPICS[kind].value
            await conn.execute(
                insert(Subscription),
                [
                    {"user_id": i, "topics": [topic], "created_at": now, "updated_at": now}
                    for i in ids
                ],
            )
        async with create_sessionmaker(engine)() as session, session.begin():
            if kind == "poll":
                poll = await polls.create(
                    session,
                    question_sq="A duhet bashkia të transmetojë mbledhjet?",
                    question_en="Should the council broadcast its meetings?",
                    options=[{"sq": "Po", "en": "Yes"}, {"sq": "Jo", "en": "No"}],
                    by_user_id=None,
                    now=now,
                )
                buttons = [{"kind": "poll", "poll_id": poll.id}]
                await campaigns.create_broadcast(
                    session,
                    title="Poll",
                    text_sq="Sondazh",
                    text_en="Poll",
                    topic=Topic.POLLS,
                    municipality_ids=None,
                    send_at=now,
                    by_user_id=None,
                    now=now,
                    buttons=buttons,
                )
            else:
                event = await hearings.create(
                    session,
                    title="Budget hearing",
                    municipality_id=None,
                    place="Town hall",
                    starts_at=now + timedelta(days=7),
                    description="The 2027 budget.",
                    by_user_id=None,
                    now=now,
                )
                await hearings.announce(session, event, I18n("sq", "Europe/Tirane"), now, None)
    finally:
        await engine.dispose()


def settings(url: str, fake: FakeTelegram, limited: bool) -> Settings:
    """Production limits (or none, for sending the poll beforehand)."""
    return Settings(
        _env_file=None,
        bot_token="1:BENCH",
        database_url=url,
        telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url,
        telegram_rate_limit=limited,
        broadcast_rate=30 if limited else 0,
        reminder_poll_seconds=0,
        updates_per_minute=100_000,  # the manual clock stands still
    )


class Arrivals:
    """Every call the fake answers, timed: (seconds, method, chat, callback query id)."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.calls: list[tuple[float, str, str | None, str | None]] = []
        self.texts: dict[tuple[str, str], int] = defaultdict(int)
        self.on = False
        self._fake = fake
        self._record = fake.record
        fake.record = self.record  # type: ignore[method-assign]

    def record(self, call: Any) -> None:
        """Note the call (its answer time less the fake's latency: when it arrived)."""
        if self.on:
            chat = call.params.get("chat_id")
            query = call.params.get("callback_query_id")
            at = time.perf_counter() - self._fake.latency
            self.calls.append((at, call.method, None if chat is None else str(chat), query))
            if call.method == "sendMessage" and call.ok:
                self.texts[(str(chat), str(call.params.get("text")))] += 1
        self._record(call)

    def answered(self) -> dict[str, float]:
        """When each callback query was first answered."""
        found: dict[str, float] = {}
        for at, method, _chat, query in self.calls:
            if method == "answerCallbackQuery" and query is not None:
                found.setdefault(str(query), at)
        return found

    def counted(self) -> list[tuple[float, str]]:
        """(arrival, chat) of the calls Telegram counts against the message limits."""
        return [
            (at, chat)
            for at, method, chat, _query in self.calls
            if chat is not None and method not in NOT_COUNTED and method not in LOOKUPS
        ]


def busiest(times: list[float], period: float = 1.0) -> int:
    """The most times inside any sliding window of ``period`` seconds."""
    times = sorted(times)
    first = most = 0
    for last, at in enumerate(times):
        while times[first] <= at - period:
            first += 1
        most = max(most, last - first + 1)
    return most


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def pooled(size: int) -> None:
    """What-if: every engine made from now on keeps ``size`` connections (no overflow)."""
    make = db_engine.create_async_engine

    def sized(url: str, **kwargs: Any) -> Any:
        if make_url(url).get_backend_name() != "sqlite":
            kwargs.update(pool_size=size, max_overflow=0)
        return make(url, **kwargs)

    db_engine.create_async_engine = sized  # type: ignore[assignment]


async def inline(
    bot: replies.ReplyBot, services: Any, row: Any, calls: Sequence[replies.Call]
) -> None:
    """The way before reply lanes: every call of the update in its processing slot, in order."""
    await replies.deliver(bot, services, row, calls)


async def run(kind: str, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """One scenario: seed, send the broadcast unlimited, then press under production limits."""
    lanes = replies.answer_then_queue
    if mode == "inline":
        replies.answer_then_queue = inline  # type: ignore[assignment]
    try:
        return await _run(kind, mode, args)
    finally:
        replies.answer_then_queue = lanes


async def _run(kind: str, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """See run."""
    async with database(args.database, kind) as url:
        await seed(url, kind, args.users)
        fake = FakeTelegram()
        await fake.start()
        people = [fake.user(user_id=FIRST + n, language_code="en") for n in range(args.users)]
        first = build_application(settings(url, fake, limited=False), clock=ManualClock(NOON))
        await startup(first)
        await send_broadcasts(first)
        await shutdown(first)
        missing = [p.user_id for p in people if not p.messages]
        assert not missing, f"{len(missing)} people did not get the broadcast"
        arrivals = Arrivals(fake)
        fake.latency = args.latency
        app = build_application(settings(url, fake, limited=True), clock=ManualClock(NOON))
        arrivals.on = True
        await startup(app)
        await start_polling(app, timeout=5)
        label = LABELS[kind]
        pressed: dict[str, float] = {}
        started = time.perf_counter()
        for n, person in enumerate(people):
            due = started + n * args.window / len(people)
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            message = next(m for m in person.messages if label in m.labels)
            update_id = await person.press(label, message=message)
            query = fake.queue.sent[update_id]["callback_query"]["id"]
            pressed[str(query)] = time.perf_counter()
        expected_sends = len(people) if kind == "rsvp" else 0

        def finished() -> bool:
            replies = sum(
                1 for _at, method, chat, _q in arrivals.calls if method == "sendMessage" and chat
            )
            return len(arrivals.answered()) >= len(pressed) and replies >= expected_sends

        await fake.wait_until(finished, timeout=WAIT)
        ended = time.perf_counter()
        await shutdown(app)
        await fake.stop()
    answered = arrivals.answered()
    waits = [answered[q] - at for q, at in pressed.items() if q in answered]
    counted = arrivals.counted()
    per_chat: dict[str, list[float]] = defaultdict(list)
    for at, chat in counted:
        per_chat[chat].append(at)
    methods: dict[str, int] = defaultdict(int)
    for _at, method, _chat, _q in arrivals.calls:
        if method != "getUpdates":
            methods[method] += 1
    last_counted = max((at for at, _chat in counted), default=None)
    return {
        "kind": kind,
        "mode": mode,
        "users": len(people),
        "window_s": args.window,
        "backend": make_url(url).get_backend_name(),
        "answered": len(waits),
        "answer_p50_s": round(statistics.median(waits), 3),
        "answer_p99_s": round(percentile(waits, 0.99), 3),
        "answer_max_s": round(max(waits), 3),
        "busiest_second_counted": busiest([at for at, _chat in counted]),
        "busiest_second_per_chat": max((busiest(t) for t in per_chat.values()), default=0),
        "sends_done_s": None if last_counted is None else round(last_counted - started, 2),
        "all_done_s": round(ended - started, 2),
        "calls": dict(sorted(methods.items())),
        "sent_twice": sum(1 for times in arrivals.texts.values() if times > 1),
    }


async def main() -> None:
    """One readable line per scenario, then every figure as one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="100 people instead of 1,000")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--window", type=float, default=10.0, help="seconds the presses span")
    parser.add_argument("--kind", default="poll,rsvp", help="poll, rsvp or both (comma)")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: temp SQLite)")
    parser.add_argument("--latency", type=float, default=0.0, help="fake round trip, seconds")
    parser.add_argument(
        "--compare", action="store_true", help="also the replies made inline, as before lanes"
    )
    parser.add_argument(
        "--pool-size", type=int, default=None, help="what-if: the engine's pool (default 5+10)"
    )
    args = parser.parse_args()
    if args.pool_size:
        pooled(args.pool_size)
    args.users = args.users or (100 if args.quick else 1000)
    logs.configure("ERROR")
    results = []
    modes = ("lanes", "inline") if args.compare else ("lanes",)
    for kind in args.kind.split(","):
        for mode in modes:
            found = await run(kind.strip(), mode, args)
            results.append(found)
            done = found["sends_done_s"]
            print(
                f"{found['kind']} ({mode}): {found['users']} presses in "
                f"{found['window_s']:.0f} s ({found['backend']}): answer p50 "
                f"{found['answer_p50_s']:.3f} s, p99 {found['answer_p99_s']:.3f} s, max "
                f"{found['answer_max_s']:.3f} s; busiest second "
                f"{found['busiest_second_counted']} counted calls, "
                f"{found['busiest_second_per_chat']} in one chat; sends done after "
                f"{'-' if done is None else f'{done:.1f}'} s; calls {found['calls']}",
                flush=True,
            )
    print(json.dumps({"bench": "poll_presses", "results": results}))


if __name__ == "__main__":
    asyncio.run(main())
