"""The site's figures as one PublicSnapshot row, rebuilt on a schedule; pages read only that row.

A job (bot/core/jobs.py) rebuilds the row every PUBLIC_REFRESH_MINUTES and once at start-up,
where the scheduled jobs run and the deployment serves HTTP. A page view asks the database only
for the row's built_at (one primary-key read) and rereads the data only when it changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import CallbackContext

from bot.core.application import PactApplication
from bot.core.runtime import Services, current_scope, unit_of_work
from bot.transparency.services import figures
from db.models import PublicSnapshot

log = logging.getLogger(__name__)
KEY = "site"
JOB = "public_snapshot"
JOB_NOW = "public_snapshot_now"


@dataclass(frozen=True)
class Snapshot:
    """The figures as built at one moment."""

    built_at: datetime
    data: dict[str, Any]

    def municipality(self, slug: str) -> dict[str, Any] | None:
        """One municipality's figures by its slug."""
        return next((m for m in self.data["municipalities"] if m["slug"] == slug), None)


async def store(session: AsyncSession, built_at: datetime, data: dict[str, Any]) -> None:
    """Create or replace the site's row in one upsert: two rebuilds at once (the start-up one
    and one after a publication) neither fail on the first insert nor put older figures back."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(PublicSnapshot).values(key=KEY, built_at=built_at, data=data)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[PublicSnapshot.key],
            set_={"built_at": statement.excluded.built_at, "data": statement.excluded.data},
            where=PublicSnapshot.built_at <= statement.excluded.built_at,
        )
    )


async def rebuild(services: Services) -> datetime:
    """Build every figure and store them in one unit of work; when they were built."""
    settings = services.settings
    async with unit_of_work(services) as scope:
        now = services.clock.now()
        data = await figures.build(scope.session, now, settings.suppression_threshold, settings.tz)
        await store(scope.session, now, data)
    log.info("public site figures rebuilt")
    return now


async def refresh_job(context: CallbackContext) -> None:
    """The JobQueue callback; a failure is logged and the next run tries again."""
    app: PactApplication = context.application  # type: ignore[assignment]
    try:
        await rebuild(app.services)
    except Exception:
        log.exception("could not rebuild the public site figures")


def serves_http(app: PactApplication) -> bool:
    """Whether this deployment serves the site (webhook mode, or HEALTH_PORT/WEB_PORT set)."""
    settings = app.services.settings
    return settings.webhook_mode or settings.health_port is not None


def schedule(app: PactApplication) -> None:
    """Rebuild now and every PUBLIC_REFRESH_MINUTES, when this deployment serves HTTP.

    This runs before the job queue starts: a repeating job's first run "now" would be in the past
    by then and skipped to the next interval, so the start-up rebuild is a one-off that runs
    however late the queue starts."""
    if app.job_queue is None or not serves_http(app):
        return
    seconds = app.services.settings.public_refresh_minutes * 60
    app.job_queue.run_once(refresh_job, 0, name=JOB_NOW, job_kwargs={"misfire_grace_time": None})
    app.job_queue.run_repeating(refresh_job, interval=seconds, first=seconds, name=JOB)


def rebuild_when_committed(app: PactApplication) -> None:
    """Rebuild once, in the background, after the current unit of work commits: for changes the
    site should show without waiting for the next scheduled rebuild (a card published or taken
    off the page). Nothing happens if the work is rolled back or the site is not served here."""
    if app.job_queue is None or not serves_http(app):
        return
    queue = app.job_queue
    current_scope().after_commit.append(lambda: queue.run_once(refresh_job, 0, name=JOB_NOW))


def unschedule(app: PactApplication) -> None:
    """Stop rebuilding here (another process runs the jobs)."""
    if app.job_queue is not None:
        for job in app.job_queue.get_jobs_by_name(JOB):
            job.schedule_removal()


class SnapshotCache:
    """The last snapshot read, kept in memory until the row's built_at changes."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.current: Snapshot | None = None
        self.failing = False

    async def get(self) -> Snapshot | None:
        """The newest snapshot: one read of built_at, and of the data only when it is new; the
        last one read while the database does not answer (the site stays up meanwhile)."""
        try:
            found = await self._read()
        except Exception as error:
            if not self.failing:  # once per outage, not once per page view
                log.warning(
                    "public site: snapshot not read (%s), serving the last one",
                    type(error).__name__,
                )
            self.failing = True
            return self.current
        self.failing = False
        return found

    async def _read(self) -> Snapshot | None:
        """Read built_at, and the data when it changed."""
        async with self.sessions() as session:
            built_at = (
                await session.execute(
                    select(PublicSnapshot.built_at).where(PublicSnapshot.key == KEY)
                )
            ).scalar_one_or_none()
            if built_at is None:
                return None
            if self.current is None or self.current.built_at != built_at:
                data = (
                    await session.execute(
                        select(PublicSnapshot.data).where(PublicSnapshot.key == KEY)
                    )
                ).scalar_one()
                if data.get("schema") != figures.SCHEMA:
                    return None  # built by another version: wait for this one's rebuild
                self.current = Snapshot(built_at=built_at, data=data)
            return self.current
