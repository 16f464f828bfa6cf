"""Helpers of the kill tests: `python -m bot run` started warm, and the database held from outside.

Importing the bot takes seconds on a busy machine; a test that kills and restarts it dozens of
times would spend most of its time there. So ``python -m tests.kill_steps`` imports everything
`python -m bot run` imports once, then forks on request: each child sets the environment it was
given and runs ``bot/__main__.py`` with the argument ``run``, exactly as ``python -m bot run`` does,
its output in a log file. The test kills a child by its pid (SIGKILL or SIGTERM) like any process;
the parent lets the kernel reap it.

To kill the bot while it handles an update, the test holds the database so that the update's
transaction cannot finish: on SQLite the write lock (``BEGIN IMMEDIATE`` on the same file: storing
the update waits, so it is received but not stored), on PostgreSQL ``outbox`` locked against
writes (every update that answers stores its reply row there just before its commit, after the
handlers ran and with its inbox row taken), then it waits until the bot waits, and kills it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

ROOT = Path(__file__).resolve().parents[1]


def _serve() -> None:
    """Import the bot, then fork a `python -m bot run` child for every request line."""
    import runpy

    import bot.app
    import bot.core.cli
    import bot.core.runner  # noqa: F401  # imported now, so that the children start warm

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid:
            print(pid, flush=True)
            continue
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.update(request["env"])
        output = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        code = 1
        try:
            sys.argv = ["bot", "run"]
            runpy.run_module("bot", run_name="__main__", alter_sys=True)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)


class Launcher:
    """The warm parent: starts one `python -m bot run` child at a time and stops it."""

    def __init__(self) -> None:
        self._parent = subprocess.Popen(
            [sys.executable, "-m", "tests.kill_steps"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._read()
        assert ready == "ready", ready
        self.pid: int | None = None
        """The running child, if any."""
        self.starts = 0

    def _read(self) -> str:
        """One line from the parent."""
        assert self._parent.stdout is not None
        return self._parent.stdout.readline().strip()

    async def start(self, env: dict[str, str], log: Path) -> int:
        """A new `python -m bot run` with these environment variables; its pid."""
        assert not self.alive(), "one bot at a time"
        assert self._parent.stdin is not None
        self._parent.stdin.write(json.dumps({"env": env, "log": str(log)}) + "\n")
        self._parent.stdin.flush()
        self.pid = int(await asyncio.to_thread(self._read))
        self.starts += 1
        return self.pid

    def alive(self) -> bool:
        """Whether the child still runs."""
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    async def stop(self, sig: signal.Signals = signal.SIGKILL, timeout: float = 30) -> None:
        """Send the signal to the child and wait until it is gone."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            handle = os.pidfd_open(pid)
        except ProcessLookupError:
            return  # gone already
        gone = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_reader(handle, gone.set)  # readable once the process has ended
        try:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            async with asyncio.timeout(timeout):
                await gone.wait()
        finally:
            loop.remove_reader(handle)
            os.close(handle)

    def close(self) -> None:
        """Kill any child and end the parent."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        assert self._parent.stdin is not None
        self._parent.stdin.close()
        self._parent.kill()
        self._parent.wait()


class Hold:
    """The database held from outside so that the bot's update transaction cannot finish."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._file: sqlite3.Connection | None = None
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Hold:
        if self.sqlite:
            path = make_url(str(self.engine.url)).database
            assert path
            self._file = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
            await asyncio.to_thread(self._file.execute, "BEGIN IMMEDIATE")
        else:
            self._connection = await self.engine.connect()
            await self._connection.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._file is not None:
            await asyncio.to_thread(self._file.execute, "ROLLBACK")
            self._file.close()
        if self._connection is not None:
            await self._connection.rollback()
            await self._connection.close()

    async def bot_waits(self) -> bool:
        """PostgreSQL: a transaction that holds an update's inbox row waits for the outbox."""
        async with self.engine.connect() as connection:
            found = await connection.execute(text(_WAITING))
            return bool(found.scalar_one())


_WAITING = """
SELECT count(*) FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'
  AND EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
              WHERE l.pid = a.pid AND NOT l.granted AND c.relname = 'outbox')
  AND EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
              WHERE l.pid = a.pid AND l.granted AND c.relname = 'inbox')
"""


def environment(**env: Any) -> dict[str, str]:
    """Environment variables as text."""
    return {key: str(value) for key, value in env.items()}


if __name__ == "__main__":
    _serve()
