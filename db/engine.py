"""Async engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
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
) -> AsyncEngine:
    """An engine for the URL whose connect, pool and statement waits are bounded (an outage
    ends in an apology within seconds, not a chat blocked for minutes); SQL parameters are kept
    out of errors; SQLite gets its folder and pragmas. A command_timeout of 0 means no limit."""
    parsed = make_url(url)
    # hide_parameters: SQL errors (and their tracebacks in logs) never show the bound values,
    # which are descriptions, names and file names.
    kwargs: dict[str, Any] = {"hide_parameters": True, "pool_timeout": pool_timeout}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs.pop("pool_timeout")  # an in-memory database has a single-connection pool
        # SQLite has no network: its wait is the busy timeout, for a lock another writer holds.
        busy = command_timeout or _SQLITE_NO_LIMIT
        kwargs["connect_args"] = {"timeout": busy}
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", partial(_sqlite_pragmas, busy))
        return engine
    connect_args: dict[str, Any] = {"timeout": connect_timeout}
    if command_timeout:
        connect_args["command_timeout"] = command_timeout
    return create_async_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


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
