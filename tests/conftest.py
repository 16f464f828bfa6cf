"""Fixtures: a database per backend, the fake Telegram server, and a running bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from fakeapi import FakeTelegram
from tests.databases import (
    backends,
    drop_run_database,
    memory_folder,
    migrated_database,
    remove_stale_memory_folders,
)
from tests.harness import BotHarness


@pytest.fixture(scope="session", autouse=True)
def _own_postgres_database() -> Iterator[None]:
    """Clear what killed runs left in shared memory; drop this run's databases at the end."""
    remove_stale_memory_folders()
    yield
    asyncio.run(drop_run_database())


@pytest.fixture(params=backends())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database at the newest schema (a copy of one migrated per run), on each backend in turn;
    SQLite's file in shared memory when there is room."""
    with memory_folder(tmp_path) as folder:
        yield await migrated_database(request.param, folder)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API on a free loopback port."""
    server = FakeTelegram(bot_username="pact_test_bot")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram, database_url: str) -> AsyncIterator[BotHarness]:
    """The real Application, polling the fake server, on a fresh database."""
    harness = BotHarness(fake, database_url)
    await harness.start()
    yield harness
    await harness.stop()
