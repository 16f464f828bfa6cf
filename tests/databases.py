"""The two backends every database test runs on: SQLite (a temp file) and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str | None:
    """PACT_TEST_POSTGRES_URL, the local `test` database by default, or None when set to off."""
    url = os.environ.get("PACT_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    return None if url.lower() in ("", "off", "no", "0") else url


def backends() -> list[str]:
    """Backends to parametrise over."""
    return ["sqlite", "postgresql"] if postgres_url() else ["sqlite"]


async def fresh_database(backend: str, tmp_path: Path) -> str:
    """An empty database for one test and its URL."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'pact.sqlite3'}"
    url = postgres_url()
    assert url is not None
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    except OSError as error:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {url}: start it, or set "
            "PACT_TEST_POSTGRES_URL=off to run on SQLite only"
        ) from error
    finally:
        await engine.dispose()
    return url
