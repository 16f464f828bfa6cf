"""The two backends every database test runs on: SQLite (a temp file) and PostgreSQL.

Each test process works in its own PostgreSQL database (pact_test_<pid>), created on first use
and dropped at the end, so two test runs on one server never disturb each other.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
_run_url: str | None = None


def postgres_url() -> str | None:
    """PACT_TEST_POSTGRES_URL, the local `test` database by default, or None when set to off."""
    url = os.environ.get("PACT_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    return None if url.lower() in ("", "off", "no", "0") else url


def backends() -> list[str]:
    """Backends to parametrise over."""
    return ["sqlite", "postgresql"] if postgres_url() else ["sqlite"]


def _run_database_name() -> str:
    return f"pact_test_{os.getpid()}"


async def _admin(sql: str) -> None:
    """Run a statement outside a transaction on the configured server."""
    url = postgres_url()
    assert url is not None
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    except OSError as error:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {url}: start it, or set "
            "PACT_TEST_POSTGRES_URL=off to run on SQLite only"
        ) from error
    finally:
        await engine.dispose()


async def _run_database() -> str:
    """This process's own database, created once."""
    global _run_url
    if _run_url is None:
        name = _run_database_name()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _admin(f'CREATE DATABASE "{name}"')
        base = make_url(postgres_url() or DEFAULT_POSTGRES)
        _run_url = base.set(database=name).render_as_string(hide_password=False)
    return _run_url


async def drop_run_database() -> None:
    """Remove this process's database at the end of the run."""
    if _run_url is not None:
        await _admin(f'DROP DATABASE IF EXISTS "{_run_database_name()}" WITH (FORCE)')


async def fresh_database(backend: str, tmp_path: Path) -> str:
    """An empty database for one test and its URL."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'pact.sqlite3'}"
    url = await _run_database()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    return url
