"""Several processes on one PostgreSQL: chats claimed one worker at a time, one sender at a time.

The claim queries (db/repositories/inbox.py) on two sessions at once: SKIP LOCKED hands each
chat to one worker without waiting, a chat stays with its live worker, a dead worker's chats are
taken over. Then real processes (`python -m bot run`, forked warm by tests/kill_steps.py) against
the fake Telegram: one fetcher and two workers that also race for the send lock; a few hundred
updates over twenty chats are each handled once and answered in their chat's order; after a
SIGKILL of the process that sends, the other sends the outbox within seconds and takes over the
dead worker's chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.core.cluster import LEADERS, SEND, SPACE
from bot.core.settings import Settings
from db.engine import create_engine
from db.models import InboxChat, InboxUpdate, OutboxMessage
from db.repositories import inbox as inbox_repo
from fakeapi import FakeTelegram
from tests.harness import TOKEN
from tests.kill_steps import Launcher, environment

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
COMMANDS = {"/help": "/privacy", "/privacy": "/help"}


def _postgres(database_url: str) -> None:
    """Several processes need PostgreSQL: skip on SQLite, which refuses them (one writer)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share PostgreSQL only; SQLite runs one process")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's own connections to the database."""
    _postgres(database_url)
    created = create_engine(database_url)
    yield created
    await created.dispose()


async def _alive(engine: AsyncEngine, worker: int) -> AsyncConnection:
    """A connection holding the worker's liveness lock, as bot/core/cluster.py Presence does."""
    connection = await engine.connect()
    await connection.execute(text("SELECT pg_advisory_lock(:s, :w)"), {"s": SPACE, "w": worker})
    await connection.commit()
    return connection


async def _die(connection: AsyncConnection) -> None:
    """The connection closed for good (not back to the pool), as when its process dies."""
    if not connection.closed:
        await connection.invalidate()
        await connection.close()


async def _store(engine: AsyncEngine, *rows: tuple[int, int | None]) -> None:
    """Store (update_id, chat) rows as the shared-mode intake does."""
    async with AsyncSession(engine) as session, session.begin():
        await inbox_repo.store(session, [(u, c, {"update_id": u}) for u, c in rows], NOW)
        await inbox_repo.register_chats(session, [c for _u, c in rows])


async def _take(session: AsyncSession, worker: int, limit: int = 10) -> dict[int, int | None]:
    """Chats taken by the worker: chat → the worker before."""
    return dict(await inbox_repo.take_chats(session, SPACE, worker, NOW, limit))


async def _mine(engine: AsyncEngine, worker: int) -> list[tuple[int, int | None]]:
    """(update_id, chat) the worker is to handle, in order."""
    async with AsyncSession(engine) as session:
        rows = await inbox_repo.mine(session, SPACE, worker, 100)
    return [(row.update_id, row.chat_key) for row in rows]


async def test_workers_claim_chats_without_waiting_and_keep_them(engine: AsyncEngine) -> None:
    a, b = await _alive(engine, 11), await _alive(engine, 22)
    try:
        await _store(engine, (1, 100), (2, 200), (3, 100), (4, 300), (5, 400))
        async with AsyncSession(engine) as first, AsyncSession(engine) as second:
            async with first.begin():
                taken_a = await _take(first, 11, limit=2)  # holds its candidates' locks
                async with asyncio.timeout(5), second.begin():
                    taken_b = await _take(second, 22)  # skips them: no wait, no double
        assert len(taken_a) == 2 and len(taken_b) == 2
        assert not set(taken_a) & set(taken_b)
        assert set(taken_a) | set(taken_b) == {100, 200, 300, 400}
        assert set(taken_a.values()) | set(taken_b.values()) == {None}
        mine_a, mine_b = await _mine(engine, 11), await _mine(engine, 22)
        assert {chat for _u, chat in mine_a} == set(taken_a)
        assert [u for u, _c in mine_a] == sorted(u for u, _c in mine_a)
        holder = 11 if 100 in taken_a else 22
        assert [u for u, c in (mine_a if holder == 11 else mine_b) if c == 100] == [1, 3]

        await _store(engine, (6, 100), (7, 500))  # a chat held stays with its live worker
        async with AsyncSession(engine) as session, session.begin():
            other = 22 if holder == 11 else 11
            assert await _take(session, other) == {500: None}
        assert (6, 100) in await _mine(engine, holder)
        assert (6, 100) not in await _mine(engine, other)
    finally:
        await _die(a)
        await _die(b)


async def test_a_dead_workers_chats_are_taken_over(engine: AsyncEngine) -> None:
    a, b = await _alive(engine, 11), await _alive(engine, 22)
    try:
        await _store(engine, (1, 100), (2, 200))
        async with AsyncSession(engine) as session, session.begin():
            assert set(await _take(session, 11)) == {100, 200}
        async with AsyncSession(engine) as session, session.begin():
            assert await _take(session, 22) == {}  # 11 lives: nothing to take
        await _die(a)  # the process dies: PostgreSQL frees its lock with its connection
        async with AsyncSession(engine) as session, session.begin():
            assert await _take(session, 22) == {100: 11, 200: 11}
        assert await _mine(engine, 22) == [(1, 100), (2, 200)]
        async with AsyncSession(engine) as session, session.begin():
            for update_id in (1, 2):
                await inbox_repo.mark_done(session, update_id, NOW)
            await inbox_repo.prune_chats(session, SPACE)  # b lives: its chats are kept
        async with AsyncSession(engine) as session:
            kept = await session.execute(select(func.count()).select_from(InboxChat))
            assert kept.scalar_one() == 2
    finally:
        await _die(b)


async def test_updates_without_a_chat_go_to_the_lowest_live_worker(engine: AsyncEngine) -> None:
    a, b = await _alive(engine, 11), await _alive(engine, 22)
    try:
        await _store(engine, (1, None))
        assert await _mine(engine, 11) == [(1, None)]
        assert await _mine(engine, 22) == []
        await _die(a)
        assert await _mine(engine, 22) == [(1, None)]
    finally:
        await _die(b)


async def test_set_up_runs_in_one_process_at_a_time(database_url: str) -> None:
    _postgres(database_url)
    from bot.core.cluster import set_up_alone

    settings = Settings(_env_file=None, database_url=database_url)
    order: list[str] = []

    async def set_up(name: str) -> None:
        async with set_up_alone(settings):
            order.append(f"{name} in")
            await asyncio.sleep(0.3)
            order.append(f"{name} out")

    await asyncio.gather(set_up("a"), set_up("b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


def test_several_processes_refuse_sqlite() -> None:
    from bot.core.cluster import Roles, refuse_sqlite

    settings = Settings(_env_file=None, process_role="work, fetch")
    assert settings.process_role == "fetch,work"
    assert Roles.of(settings) == Roles(shared=True, fetch=True, work=True, send=False)
    assert "needs PostgreSQL" in (refuse_sqlite(settings) or "")
    assert refuse_sqlite(Settings(_env_file=None)) is None
    with pytest.raises(ValueError, match="separated by commas"):
        Settings(_env_file=None, process_role="fetch,cook")


# --- real processes ---------------------------------------------------------------------------

CHATS = 20
PER_CHAT = 10


class Fleet(Launcher):
    """The warm parent of tests/kill_steps.py, starting several `python -m bot run` at once."""

    def __init__(self) -> None:
        super().__init__()
        self.pids: dict[str, int] = {}

    async def spawn(self, name: str, env: dict[str, str], log: Path) -> int:
        """Start one more process under a name."""
        assert self._parent.stdin is not None
        self._parent.stdin.write(json.dumps({"env": env, "log": str(log)}) + "\n")
        self._parent.stdin.flush()
        self.pids[name] = int(await asyncio.to_thread(self._read))
        return self.pids[name]

    async def end(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Stop one process and wait until it is gone."""
        self.pid = self.pids.pop(name)
        await self.stop(sig)

    def close(self) -> None:
        """Kill every process, then the parent."""
        for pid in self.pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.pids.clear()
        super().close()


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    """The processes of one test."""
    started = Fleet()
    yield started
    started.close()


def _tails(logs: Path) -> str:
    """The end of each process's log, for a failure message."""
    return "\n".join(
        f"--- {log.name}\n{log.read_text()[-1500:]}" for log in sorted(logs.glob("*.log"))
    )


async def _until(predicate: Any, what: str, timeout: float, logs: Path) -> None:
    """Poll an async predicate until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}\n{_tails(logs)}")
        await asyncio.sleep(0.05)


async def _count(engine: AsyncEngine, query: Any) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def _sender_held(engine: AsyncEngine) -> bool:
    """Whether a process holds the send lock."""
    query = text(
        "SELECT count(*) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.classid = :c AND l.objid = :k "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    async with engine.connect() as connection:
        return bool((await connection.execute(query, {"c": LEADERS, "k": SEND})).scalar_one())


def _started(logs: Path) -> bool:
    """Whether every process's log says it started."""
    return all("bot started as" in log.read_text() for log in logs.glob("*.log"))


def _senders(logs: Path) -> list[str]:
    """The processes whose log says they took the send lock."""
    return sorted(
        log.stem for log in logs.glob("*.log") if "cluster: this process sends" in log.read_text()
    )


async def test_two_workers_and_a_standby_sender(
    fake: FakeTelegram, database_url: str, engine: AsyncEngine, fleet: Fleet, tmp_path: Path
) -> None:
    base = dict(
        BOT_TOKEN=TOKEN,
        DATABASE_URL=database_url,
        TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_BASE_FILE_URL=fake.base_file_url,
        TELEGRAM_RATE_LIMIT="false",
        BROADCAST_RATE=0,
        UPDATES_PER_MINUTE=10_000,
        QUIET_START="00:00",
        QUIET_END="00:00",
        DEFAULT_LOCALE="en",
        LOG_LEVEL="INFO",
        REMINDER_POLL_SECONDS=1,
        MAX_CONCURRENT_UPDATES=8,  # a worker holds at most this many chats with work at once
    )
    await fleet.spawn("fetcher", environment(**base, PROCESS_ROLE="fetch"), tmp_path / "f.log")
    for name in ("one", "two"):
        env = environment(**base, PROCESS_ROLE="work,send")
        await fleet.spawn(name, env, tmp_path / f"{name}.log")

    loop = asyncio.get_running_loop()
    began = loop.time()

    async def started() -> bool:
        return _started(tmp_path)

    await _until(started, "three processes started", 30, tmp_path)
    ready = loop.time() - began
    people = [fake.user(user_id=70_000 + i, language_code="en") for i in range(CHATS)]
    sent: dict[int, list[str]] = {person.user_id: [] for person in people}
    updates = 0
    command = "/help"
    for _round in range(PER_CHAT):
        for person in people:
            await person.send_command(command)
            sent[person.user_id].append(command)
            updates += 1
        command = COMMANDS[command]

    undone = select(func.count()).select_from(InboxUpdate).where(InboxUpdate.done_at.is_(None))
    done = select(func.count()).select_from(InboxUpdate).where(InboxUpdate.done_at.is_not(None))

    async def all_handled() -> bool:
        return await _count(engine, done) == updates and await _count(engine, undone) == 0

    await _until(all_handled, f"{updates} updates handled", 45, tmp_path)
    handled = loop.time() - began
    pending = (
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    )

    async def replies_sent() -> bool:
        return await _count(engine, pending) == 0

    await _until(replies_sent, "every reply sent", 10, tmp_path)

    for person in people:
        texts = [m.text or "" for m in person.messages]
        assert len(texts) == PER_CHAT, (person.user_id, texts)  # each update answered once
        kinds = ["/privacy" if _is_privacy(t) else "/help" for t in texts]
        assert kinds == sent[person.user_id], texts  # in order
    holders = await _count(engine, select(func.count(func.distinct(InboxChat.worker))))
    assert holders == 2, "both workers took chats"

    assert await _sender_held(engine)
    [active] = _senders(tmp_path)
    assert active in ("one", "two")
    standby = "two" if active == "one" else "one"
    await fleet.end(active, signal.SIGKILL)
    killed_at = asyncio.get_running_loop().time()

    staff = fake.user(user_id=79_999, language_code="en")
    await staff.send_command("/start")  # the chat exists in Telegram's eyes
    async with AsyncSession(engine) as session, session.begin():
        session.add(
            OutboxMessage(
                kind="admin_notice",
                chat_id=staff.user_id,
                payload={"method": "sendMessage", "text": "Sent by the standby"},
                status="pending",
                attempts=0,
                created_at=datetime.now(UTC),
            )
        )

    async def standby_sent() -> bool:
        return any("Sent by the standby" in (m.text or "") for m in staff.messages)

    await _until(standby_sent, "the standby sending after the kill", 10, tmp_path)
    took = asyncio.get_running_loop().time() - killed_at
    assert _senders(tmp_path) == sorted([active, standby])

    for person in people:  # the dead worker's chats are taken over by the one left
        await person.send_command("/help")

    async def taken_over() -> bool:
        return all(len(person.messages) == PER_CHAT + 1 for person in people)

    await _until(taken_over, "every chat answered after the kill", 15, tmp_path)
    assert await _count(engine, select(func.count(func.distinct(InboxChat.worker)))) == 1
    print(
        f"\nstarted in {ready:.1f} s, {updates} updates over {CHATS} chats handled by "
        f"{handled:.1f} s; the standby sent {took:.1f} s after the kill"
    )


def _is_privacy(text: str) -> bool:
    """Whether a reply is the privacy notice (else the help)."""
    return "Your privacy" in text
