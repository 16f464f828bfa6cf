"""The two backends every database test runs on: SQLite (a temp file) and PostgreSQL.

Each test process works in its own PostgreSQL database (pact_test_<pid>), made afresh for each
test and dropped at the end, so two test runs on one server never disturb each other.

Alembic runs once per process and backend, into a template (pact_template_<pid>, or a SQLite
file); a test that needs the newest schema gets a copy of it (``migrated_database``) instead of
migrating from scratch, which took most of a short test's time. ``fresh_database`` still gives
an empty database (tests/test_migrations.py upgrades that from nothing).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from db import migrate
from db.engine import create_engine

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SHARED_MEMORY = Path("/dev/shm")
MEMORY_NEEDED = 512 * 1024 * 1024
SQLITE_NAME = "pact.sqlite3"
_run_url: str | None = None
_run_is_template = False
"""Whether this process's database was last made by ``migrated_database`` (so it can be
emptied by truncating rather than copied again)."""
_templates: dict[str, str] = {}
"""Backend → its migrated template (a PostgreSQL database name, a SQLite file path)."""
_template_schema = ""
"""The PostgreSQL template's schema fingerprint (``_SCHEMA``)."""
_template_folder: Path | None = None


def postgres_url() -> str | None:
    """PACT_TEST_POSTGRES_URL, the local `test` database by default, or None when set to off."""
    url = os.environ.get("PACT_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    return None if url.lower() in ("", "off", "no", "0") else url


def backends() -> list[str]:
    """Backends to parametrise over."""
    return ["sqlite", "postgresql"] if postgres_url() else ["sqlite"]


_NO_WAIT_FOR_DISK = 'ALTER DATABASE "{name}" SET synchronous_commit = off'
"""Commits in the test database do not wait for the disk: what the bot commits is still there
for every later connection and survives killing the bot (only a crash of the server itself
could lose it), so no test proves less, and each commit is quicker."""


@contextlib.contextmanager
def memory_folder(fallback: Path) -> Iterator[Path]:
    """A folder in shared memory for a test's SQLite file (removed afterwards), else `fallback`.

    A file there outlives a killed bot like one on disk, but a commit does not wait for a disk.
    """
    usable = SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK)
    if not usable or shutil.disk_usage(SHARED_MEMORY).free < MEMORY_NEEDED:
        yield fallback
        return
    folder = Path(tempfile.mkdtemp(prefix=f"pact-test-{os.getpid()}-", dir=SHARED_MEMORY))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale_memory_folders() -> None:
    """Remove shared-memory folders left by test runs that were killed (their process is gone)."""
    for folder in SHARED_MEMORY.glob("pact-test-*-*") if SHARED_MEMORY.is_dir() else ():
        pid = folder.name.split("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_database_name() -> str:
    return f"pact_test_{os.getpid()}"


def _template_database_name() -> str:
    return f"pact_template_{os.getpid()}"


def _database_url(name: str) -> str:
    """The configured server's URL with another database name."""
    base = make_url(postgres_url() or DEFAULT_POSTGRES)
    return base.set(database=name).render_as_string(hide_password=False)


async def _admin(*statements: str) -> None:
    """Run statements outside a transaction on the configured server."""
    url = postgres_url()
    assert url is not None
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for sql in statements:
                await conn.execute(text(sql))
    except OSError as error:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {url}: start it, or set "
            "PACT_TEST_POSTGRES_URL=off to run on SQLite only"
        ) from error
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    """Bring the database at `url` to Alembic head, as the bot's startup does."""
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def _template(backend: str) -> str:
    """This process's migrated template for the backend, made on first use."""
    global _template_folder, _template_schema
    if backend not in _templates:
        if backend == "sqlite":
            _template_folder = Path(tempfile.mkdtemp(prefix="pact-template-"))
            path = _template_folder / SQLITE_NAME
            await _migrate(f"sqlite+aiosqlite:///{path}")
            _templates[backend] = str(path)
        else:
            name = _template_database_name()
            await _admin(
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
            )
            await _migrate(_database_url(name))
            engine = create_async_engine(_database_url(name))
            try:
                async with engine.connect() as conn:
                    _template_schema = (await conn.execute(text(_SCHEMA))).scalar_one()
            finally:
                await engine.dispose()
            _templates[backend] = name
    return _templates[backend]


async def _run_database() -> str:
    """This process's own database, created once."""
    global _run_url
    if _run_url is None:
        name = _run_database_name()
        await _admin(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}"',
            _NO_WAIT_FOR_DISK.format(name=name),
        )
        _run_url = _database_url(name)
    return _run_url


async def drop_run_database() -> None:
    """Remove this process's databases and template file at the end of the run."""
    names = [_run_database_name()] if _run_url is not None else []
    if "postgresql" in _templates:
        names.append(_templates["postgresql"])
    if names:
        await _admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))
    if _template_folder is not None:
        shutil.rmtree(_template_folder, ignore_errors=True)


async def fresh_database(backend: str, tmp_path: Path) -> str:
    """An empty database for one test and its URL."""
    global _run_is_template
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / SQLITE_NAME}"
    url = await _run_database()
    _run_is_template = False
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    return url


async def migrated_database(backend: str, tmp_path: Path) -> str:
    """A database at the newest schema for one test (a copy of the template) and its URL."""
    template = await _template(backend)
    if backend == "sqlite":
        path = tmp_path / SQLITE_NAME
        shutil.copyfile(template, path)
        return f"sqlite+aiosqlite:///{path}"
    global _run_url, _run_is_template
    name = _run_database_name()
    if _run_is_template and _run_url is not None and await _emptied(_run_url):
        return _run_url
    await _admin(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
        _NO_WAIT_FOR_DISK.format(name=name),
    )
    _run_url, _run_is_template = _database_url(name), True
    return _run_url


async def _emptied(url: str) -> bool:
    """Put the previous test's copy back as the template was: nobody else connected, every table
    but alembic_version truncated, sequences restarted; False when its schema is not the
    template's any more (the caller then copies the template afresh)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '2s'"))
            await conn.execute(text(_TERMINATE_OTHERS))
            if (await conn.execute(text(_SCHEMA))).scalar_one() != _template_schema:
                return False
            await conn.execute(text(_TRUNCATE_ALL))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


_TERMINATE_OTHERS = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
"""
_SCHEMA = """
SELECT md5(concat_ws('|',
  (SELECT string_agg(concat_ws(':', c.relname, c.relkind::text, a.attname,
                     format_type(a.atttypid, a.atttypmod)), ',' ORDER BY c.relname, a.attnum)
   FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
   WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg(concat_ws(':', conname, pg_get_constraintdef(oid)), ',' ORDER BY conname)
   FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
  (SELECT string_agg(version_num, ',') FROM alembic_version)))
"""
"""A fingerprint of the public schema: relations and their columns, constraints, revision."""
_TRUNCATE_ALL = """
DO $$ DECLARE names text; sequence text; BEGIN
  SELECT string_agg(format('%I', tablename), ', ') INTO names FROM pg_tables
  WHERE schemaname = 'public' AND tablename <> 'alembic_version';
  EXECUTE 'TRUNCATE ' || names || ' RESTART IDENTITY';
  FOR sequence IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER SEQUENCE %I RESTART', sequence);
  END LOOP;
END $$
"""
"""Every table but alembic_version emptied, and every sequence (a table's or not) restarted."""
