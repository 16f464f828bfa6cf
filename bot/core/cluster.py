"""Several processes sharing one PostgreSQL: roles, presence, and who fetches and who sends.

``PROCESS_ROLE=all`` (the default) is one process doing everything, on SQLite or PostgreSQL.
Any other value (a comma-separated choice of ``fetch``, ``work``, ``send``) makes the process one
of several sharing PostgreSQL; SQLite is refused (one writer, one process).

Each such process holds one connection of its own for its whole life (``Presence``): on it, a
session advisory lock on a random number says the process is alive (PostgreSQL releases it the
moment the process dies, even on SIGKILL, because its connection closes), and it listens for
notifications: ``pact_inbox`` (updates stored: workers look at once) and ``pact_outbox`` (direct
messages committed by a worker: the sender sends them at once).

- work: takes chats with undone updates that no live worker holds (``inbox_chats``, claimed
  ``FOR UPDATE SKIP LOCKED``) and keeps each chat until it dies, so a chat's updates are handled
  by one process at a time, in order, and memory-only state (steps before consent) stays valid.
- fetch: in polling mode the one process holding the fetch lock calls getUpdates (another waits as
  standby); in webhook mode every fetch process receives webhooks.
- send: the one process holding the send lock runs the broadcast sender, the direct outbox and the
  scheduled jobs (reminders, digests, retention: they scan and send, so they run once); a standby
  tries the lock every second and takes over within about a second of the holder's death.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

from bot.core.settings import Settings

log = logging.getLogger(__name__)

SPACE = 0x50414354
"""First key of the workers' liveness locks ("PACT"); the second is the worker's number."""
LEADERS = SPACE + 1
"""First key of the one-at-a-time locks; the second says which."""
SEND, FETCH, SETUP = 1, 2, 3
INBOX, OUTBOX = "pact_inbox", "pact_outbox"
"""Notification channels: updates stored; direct messages committed."""
POLL_SECONDS = 1.0
"""How often a standby tries a free lock and the connection is checked."""
CHECK_TIMEOUT = 5.0


@dataclass(frozen=True)
class Roles:
    """What this process does."""

    shared: bool
    fetch: bool
    work: bool
    send: bool

    @classmethod
    def of(cls, settings: Settings) -> Roles:
        """From PROCESS_ROLE."""
        if settings.process_role == "all":
            return cls(shared=False, fetch=True, work=True, send=True)
        parts = set(settings.process_role.split(","))
        return cls(True, "fetch" in parts, "work" in parts, "send" in parts)


def refuse_sqlite(settings: Settings) -> str | None:
    """Why this configuration cannot run, if it cannot: several processes need PostgreSQL."""
    if Roles.of(settings).shared and make_url(settings.database_url).get_backend_name() != (
        "postgresql"
    ):
        return (
            f"PROCESS_ROLE={settings.process_role} runs several processes on one database, which "
            "needs PostgreSQL (DATABASE_URL=postgresql+asyncpg://...). On SQLite run one process "
            "with PROCESS_ROLE=all."
        )
    return None


@contextlib.asynccontextmanager
async def set_up_alone(settings: Settings) -> AsyncIterator[None]:
    """On PostgreSQL, hold the set-up lock meanwhile: processes starting together (`pact-bot
    migrate` in each container, or several bots) migrate one after the other, not at once."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        yield
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=settings.db_connect_timeout)
    try:
        await connection.execute(f"SELECT pg_advisory_lock({LEADERS}, {SETUP})")
        yield
    finally:
        await connection.close()  # the lock goes with the connection


@dataclass
class Leader:
    """A one-at-a-time role: what to do when this process gets it and when it loses it."""

    key: int
    gain: Callable[[], Awaitable[None]]
    lose: Callable[[], Awaitable[None]]
    held: bool = False


class Presence:
    """The process's own connection: liveness lock, one-at-a-time locks, notifications."""

    def __init__(self, settings: Settings) -> None:
        url = make_url(settings.database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._timeout = settings.db_connect_timeout
        self._connection: asyncpg.Connection | None = None
        self._use = asyncio.Lock()
        self._listeners: dict[str, Callable[[], None]] = {}
        self._leaders: list[Leader] = []
        self._task: asyncio.Task[None] | None = None
        self.worker: int | None = None
        """This process's number while its liveness lock is held (None: connection lost)."""

    def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Call back on each notification of the channel (set before start)."""
        self._listeners[channel] = callback

    def lead(
        self, key: int, gain: Callable[[], Awaitable[None]], lose: Callable[[], Awaitable[None]]
    ) -> None:
        """Take part in the race for a one-at-a-time role (tried within POLL_SECONDS)."""
        self._leaders.append(Leader(key, gain, lose))

    def holds(self, key: int) -> bool:
        """Whether this process holds the role now."""
        return any(leader.held for leader in self._leaders if leader.key == key)

    async def start(self) -> None:
        """Connect, take a worker number, listen; then keep trying the free roles."""
        await self._connect()
        self._task = asyncio.create_task(self._watch(), name="cluster:presence")

    async def _connect(self) -> None:
        """A fresh connection with a worker number of its own."""
        connection = await asyncpg.connect(self._dsn, timeout=self._timeout)
        while True:
            number = random.randint(1, 2**31 - 1)
            if await connection.fetchval("SELECT pg_try_advisory_lock($1, $2)", SPACE, number):
                break
        for channel, callback in self._listeners.items():
            await connection.add_listener(channel, _caller(callback))
        self._connection, self.worker = connection, number
        log.info("cluster: this process is worker %d", number)

    async def _watch(self) -> None:
        """Every POLL_SECONDS: check the connection, try each role not held."""
        while True:
            try:
                if self._connection is None:
                    await self._connect()
                await self._try_roles()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("cluster: connection lost (%s); roles given up", type(error).__name__)
                await self._lost()
            await asyncio.sleep(POLL_SECONDS)

    async def _try_roles(self) -> None:
        """Check the connection; take each free role this process races for."""
        async with self._use:
            assert self._connection is not None
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self._connection.fetchval("SELECT 1")
        for leader in self._leaders:
            if leader.held:
                continue
            async with self._use, asyncio.timeout(CHECK_TIMEOUT):
                got = await self._connection.fetchval(
                    "SELECT pg_try_advisory_lock($1, $2)", LEADERS, leader.key
                )
            if got:
                leader.held = True
                log.info("cluster: took role %d", leader.key)
                await leader.gain()

    async def _lost(self) -> None:
        """The connection (and so every lock) is gone: stop the roles, forget the number."""
        self.worker = None
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.terminate()
        for leader in self._leaders:
            if leader.held:
                leader.held = False
                with contextlib.suppress(Exception):
                    await leader.lose()

    async def notify(self, channel: str) -> None:
        """Tell the other processes (best effort: they look on their own every second too)."""
        if self._connection is None:
            return
        with contextlib.suppress(Exception):
            async with self._use, asyncio.timeout(CHECK_TIMEOUT):
                await self._connection.execute(f"NOTIFY {channel}")

    async def setup_lock(self) -> None:
        """Wait for the set-up lock (migrations and seeding run in one process at a time)."""
        assert self._connection is not None
        async with self._use:
            await self._connection.execute(f"SELECT pg_advisory_lock({LEADERS}, {SETUP})")

    async def setup_unlock(self) -> None:
        """Free the set-up lock."""
        assert self._connection is not None
        async with self._use:
            await self._connection.execute(f"SELECT pg_advisory_unlock({LEADERS}, {SETUP})")

    async def settle(self) -> None:
        """Take no more roles (at stop); the ones held and the connection stay."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def stop(self) -> None:
        """Give up the roles and close the connection (the locks go with it)."""
        await self.settle()
        for leader in self._leaders:
            if leader.held:
                leader.held = False
                with contextlib.suppress(Exception):
                    await leader.lose()
        connection, self._connection = self._connection, None
        self.worker = None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)


def _caller(callback: Callable[[], None]) -> Callable[..., None]:
    """An asyncpg listener that calls back without arguments."""

    def listener(*_args: object) -> None:
        callback()

    return listener
