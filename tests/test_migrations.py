"""Alembic is the only way the schema changes: upgrade from empty, match the models, downgrade."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from db import migrate
from db.base import Base
from db.engine import create_engine
from tests.databases import backends, fresh_database

TABLES = {
    "users",
    "consents",
    "audit_log",
    "authorities",
    "rti_requests",
    "reminders",
    "closed_days",
    "bot_state",
}


@pytest.mark.parametrize("backend", backends())
async def test_upgrade_matches_models_and_downgrades_cleanly(backend: str, tmp_path: Path) -> None:
    engine = create_engine(await fresh_database(backend, tmp_path))
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert TABLES <= names
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert diff == [], f"models and migrations differ: {diff}"

        await migrate.downgrade(engine, "base")
        async with engine.connect() as conn:
            left = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert left <= {"alembic_version"}

        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def test_head_read_from_the_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    assert (
        migrate.head() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    )


@pytest.mark.parametrize("backend", backends())
async def test_a_database_at_head_is_recognised_and_one_behind_is_upgraded(
    backend: str, tmp_path: Path
) -> None:
    engine = create_engine(await fresh_database(backend, tmp_path))
    try:
        assert await migrate.current(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current(engine) == migrate.head()
        await migrate.upgrade(engine)  # the fast path: nothing to do
        await migrate.downgrade(engine, "-1")
        assert await migrate.current(engine) != migrate.head()
        await migrate.upgrade(engine)
        assert await migrate.current(engine) == migrate.head()
    finally:
        await engine.dispose()
