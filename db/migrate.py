"""Run Alembic programmatically (the bot upgrades to head at start).

A database already at the newest revision is recognised with one query and without importing
Alembic (about a sixth of the bot's import time), so a restart does not pay for migrations.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r'^revision(?:: str)? = "([^"]+)"', re.MULTILINE)
_DOWN = re.compile(r'^down_revision(?:: [^=]+)? = "([^"]+)"', re.MULTILINE)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config that works from a checkout and from an installed wheel."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@cache
def head() -> str | None:
    """The newest revision, read from the migration files (None: not one single head)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        parents.update(_DOWN.findall(source))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def current(engine: AsyncEngine) -> str | None:
    """The database's revision (None: not migrated yet, or unreadable)."""
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except Exception:
        return None
    return rows[0][0] if len(rows) == 1 else None


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision` on the engine's database (nothing to do: one query)."""
    if revision == "head" and head() is not None and await current(engine) == head():
        return
    async with engine.begin() as conn:
        await conn.run_sync(_run, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Take the schema down to `revision` (tests prove downgrades are clean)."""
    async with engine.begin() as conn:
        await conn.run_sync(_run, "downgrade", revision)


def _run(connection: Connection, direction: str, revision: str) -> None:
    """Hand Alembic our connection so it runs inside our transaction."""
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    getattr(command, direction)(cfg, revision)
