"""Shared bench machinery: the fake Bot API with per-chat waiting, bot processes, databases.

Every bot under test (PACT, and the aiogram and PTB echo peers) runs in a process of its own and
talks over loopback HTTP to the fake Bot API (`fakeapi.FakeTelegram`) running in the driver's
process, so all of them are measured the same way: from the moment an update is queued to the
moment its reply reaches the fake server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakeapi import FakeTelegram
from fakeapi.registry import ApiCall

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
TOKEN = "123456:BENCH-TOKEN"
WARM_UP_USER = 1
PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
CHAT_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument", "sendPhoto"}
)


class BenchFake(FakeTelegram):
    """The fake Bot API, noting when each update was fetched and waking one chat's waiters."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN)
        self.delivered_at: dict[int, float] = {}
        self.chat_version: dict[int, int] = {}
        self.chat_call_at: dict[int, float] = {}
        self._chat_events: dict[int, asyncio.Event] = {}
        mark = self.queue.mark_delivered

        def mark_delivered(update_id: int) -> None:
            self.delivered_at.setdefault(update_id, time.perf_counter())
            mark(update_id)

        self.queue.mark_delivered = mark_delivered  # type: ignore[method-assign]

    def record(self, call: ApiCall) -> None:
        """Log the call; a call into a chat bumps that chat's version and wakes its waiter."""
        self.calls.append(call)
        chat_id = call.params.get("chat_id")
        if chat_id is None or call.method not in CHAT_METHODS:
            return
        try:
            chat = int(chat_id)
        except (TypeError, ValueError):
            return
        self.chat_version[chat] = self.chat_version.get(chat, 0) + 1
        self.chat_call_at[chat] = time.perf_counter()
        event = self._chat_events.pop(chat, None)
        if event is not None:
            event.set()

    async def wait_chat(self, chat: int, predicate: Callable[[], bool], timeout: float) -> float:
        """Wait until predicate() holds after a call into the chat; return that call's time."""
        async with asyncio.timeout(timeout):
            while not predicate():
                event = self._chat_events.setdefault(chat, asyncio.Event())
                await event.wait()
        return self.chat_call_at.get(chat, time.perf_counter())

    def sent_texts(self, chat: int) -> list[str]:
        """Texts of every sendMessage into a chat, in the order they reached the server."""
        return [
            str(call.params.get("text"))
            for call in self.calls
            if call.method == "sendMessage" and str(call.params.get("chat_id")) == str(chat)
        ]

    def method_counts(self) -> dict[str, int]:
        """How many calls of each method (getUpdates left out)."""
        counts: dict[str, int] = {}
        for call in self.calls:
            if call.method != "getUpdates":
                counts[call.method] = counts.get(call.method, 0) + 1
        return counts


@dataclass
class BotProcess:
    """A bot under test in its own process, stopped with SIGTERM (then SIGKILL)."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self) -> None:
        """Spawn it, its output to a temporary log file."""
        handle, name = tempfile.mkstemp(prefix="pact-bench-bot-", suffix=".log")
        os.close(handle)
        self.log = Path(name)
        environment = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [PYTHON, *self.argv], cwd=ROOT, env=environment, stdout=out, stderr=out
            )

    def tail(self, lines: int = 15) -> str:
        """The end of its output, for error messages."""
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process is not None and self.process.poll() is None

    async def stop(self, timeout: float = 20) -> None:
        """SIGTERM, wait, SIGKILL if needed; remove the log."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.unlink(missing_ok=True)


async def warm_up(fake: BenchFake, bot: BotProcess, command: str, timeout: float = 120) -> None:
    """Send one update from a spare user and wait for any reply: the bot is up and polling."""
    user = fake.user(user_id=WARM_UP_USER, language_code="en")
    if command.startswith("/"):
        await user.send_command(command)
    else:
        await user.send_text(command)
    deadline = time.monotonic() + timeout
    while fake.chat_version.get(WARM_UP_USER, 0) == 0:
        if not bot.alive():
            raise RuntimeError(f"the bot process ended:\n{bot.tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bot did not answer within {timeout}s:\n{bot.tail()}")
        await asyncio.sleep(0.05)


class Profiler:
    """py-spy recording a process's main thread (raw collapsed stacks) while it runs."""

    def __init__(self, pid: int, out: Path, rate: int = 200) -> None:
        self.out = out
        self.argv = [
            str(Path(PYTHON).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--threads",
            "--rate",
            str(rate),
            "--nonblocking",
            "-o",
            str(out),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Attach py-spy."""
        self.process = subprocess.Popen(
            self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    async def stop(self) -> None:
        """Detach (SIGINT makes py-spy write its file)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(self.process.wait, 10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def sqlite_url(folder: str, name: str = "bench.db") -> str:
    """A SQLite database file in a temporary folder."""
    return f"sqlite+aiosqlite:///{Path(folder) / name}"


async def admin(server: str, sql: str) -> None:
    """One statement outside a transaction on the server's maintenance database."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def pg_server(url: str) -> str:
    """The maintenance database URL of the server of "postgresql" or a PostgreSQL URL."""
    from sqlalchemy.engine import make_url

    server = make_url(PG_SERVER if url == "postgresql" else url)
    return server.set(database="postgres").render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    """The URL of database ``name`` on the server of "postgresql" or a PostgreSQL URL."""
    from sqlalchemy.engine import make_url

    server = make_url(PG_SERVER if url == "postgresql" else url)
    return server.set(database=name).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def database(kind: str, name: str) -> AsyncIterator[str]:
    """A throwaway database: "sqlite" (temporary file) or a PostgreSQL server URL."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="pact-bench-") as folder:
            yield sqlite_url(folder)
        return
    maintenance = pg_server(kind)
    await admin(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(maintenance, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(kind, name)
    finally:
        await admin(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def scalar(url: str, sql: str) -> Any:
    """One value from the bot's database."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await engine.dispose()


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (share in 0..1), or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def interruptible() -> None:
    """SIGTERM and SIGINT stop a bench cleanly (bots stopped, databases dropped), even when
    started in the background, where SIGINT is ignored."""

    def stop(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def emit(result: dict[str, Any]) -> None:
    """Print the result as one JSON line (what run_all reads)."""
    print(json.dumps(result, ensure_ascii=False), flush=True)
