"""Alembic environment: uses a connection handed in by db.migrate, or DATABASE_URL from settings."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from db import models  # noqa: F401 - registers the tables on Base.metadata
from db.base import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    """Configure and run; batch mode lets SQLite alter tables."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    """Used by the `alembic` command line: connect with the configured URL."""
    from bot.core.settings import Settings
    from db.engine import create_engine

    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_configure)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) mode is not supported; run against a database.")

_given = config.attributes.get("connection")
if _given is not None:
    _configure(_given)
else:
    asyncio.run(_run_with_own_engine())
