"""Async engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(
    url: str,
    *,
    connect_timeout: float = 5.0,
    pool_timeout: float = 5.0,
    command_timeout: float = 10.0,
    pool_size: int = 15,
) -> AsyncEngine:
    """An engine for the URL whose connect, pool and statement waits are bounded (an outage
    ends in an apology within seconds, not a chat blocked for minutes); SQL parameters are kept
    out of errors; SQLite gets its folder and pragmas. A command_timeout of 0 means no limit.

    The pool keeps up to pool_size connections open once made, with no overflow: an overflow
    connection was closed at its commit and a new one opened (connect, authenticate, set up)
    for the next update."""
    parsed = make_url(url)
    # hide_parameters: SQL errors (and their tracebacks in logs) never show the bound values,
    # which are descriptions, names and file names.
    kwargs: dict[str, Any] = {
        "hide_parameters": True,
        "pool_timeout": pool_timeout,
        "pool_size": pool_size,
        "max_overflow": 0,
    }
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:  # an in-memory database has a single-connection pool
            for key in ("pool_timeout", "pool_size", "max_overflow"):
                kwargs.pop(key)
        # SQLite has no network: its wait is the busy timeout, for a lock another writer holds.
        busy = command_timeout or _SQLITE_NO_LIMIT
        kwargs["connect_args"] = {"timeout": busy}
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", partial(_sqlite_pragmas, busy))
        return engine
    connect_args: dict[str, Any] = {
        "timeout": connect_timeout,
        "connection_class": _bounded_cancel(connect_timeout),
    }
    if command_timeout:
        connect_args["command_timeout"] = command_timeout
    engine = create_async_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    event.listen(engine.sync_engine, "handle_error", _drop_broken_connection)
    return engine


def _bounded_cancel(seconds: float) -> type[asyncpg.Connection]:
    """asyncpg's connection whose cancel request (sent when a statement timed out) and close
    give up after `seconds`: across a network partition both wait for an answer that never
    comes, and every later use or close of that connection would hang with them."""

    class BoundedConnection(asyncpg.Connection):  # type: ignore[misc]
        """A connection whose statement cancel and close cannot hang."""

        async def _cancel(self, waiter: asyncio.Future[None]) -> None:
            """Send the cancel request, within the time allowed to connect."""
            async with asyncio.timeout(seconds):
                await super()._cancel(waiter)
            if not waiter.done():
                waiter.set_result(None)

        async def close(self, *, timeout: float | None = None) -> None:
            """Close gracefully within the time given (else `seconds`), then just drop it."""
            try:
                async with asyncio.timeout(timeout or seconds):
                    await super().close(timeout=timeout or seconds)
            except TimeoutError:
                self.terminate()

    return BoundedConnection


def _drop_broken_connection(context: ExceptionContext) -> None:
    """A statement that timed out or a broken socket leaves the connection unusable (asyncpg
    then waits for a cancel request that a cut network never carries): invalidate it, so the
    pool opens a fresh one instead of hanging on it."""
    if isinstance(context.original_exception, OSError):  # TimeoutError and resets included
        context.is_disconnect = True


_SQLITE_NO_LIMIT = 24 * 3600.0
"""The busy timeout used when DB_COMMAND_TIMEOUT is 0 (SQLite needs a number)."""


def _sqlite_pragmas(busy_seconds: float, dbapi_connection: Any, _record: Any) -> None:
    """Enforce foreign keys, let readers work while one writer commits, bound lock waits."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after the single commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
