"""Start and stop the Application the same way in production, tests and the playground."""

from __future__ import annotations

import logging

from telegram import Update

from bot import commands, delivery, jobs
from bot.application import PactApplication
from bot.runtime import unit_of_work
from bot.services import directory, rti, staff
from db import migrate

log = logging.getLogger(__name__)


async def startup(app: PactApplication) -> None:
    """Migrate, seed shipped data, initialise, schedule jobs, publish commands, send, start."""
    await migrate.upgrade(app.services.engine)
    async with unit_of_work(app.services) as scope:
        now = app.services.clock.now()
        await directory.seed(scope.session, now)
        await rti.seed_closed_days(scope.session, now)
        await staff.bootstrap_admins(scope.session, app.services.settings.admin_ids, now)
        await jobs.ensure_digest(scope.session, now, app.services.settings.tz)
    await app.initialize()
    jobs.schedule(app)
    await commands.register(app.bot, app.services.i18n)
    await delivery.start(app)
    await app.start()
    log.info("bot started as @%s", app.bot.username)


async def start_polling(app: PactApplication, timeout: int = 30) -> None:
    """Fetch updates by long polling (the default mode; PTB removes any webhook first)."""
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0, timeout=timeout, allowed_updates=Update.ALL_TYPES
    )


async def shutdown(app: PactApplication) -> None:
    """Stop fetching, finish what is in hand (broadcast sends in flight too), close the database."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    await delivery.stop(app)
    if app.running:
        await app.stop()
    await app.shutdown()
    await app.services.engine.dispose()
    log.info("bot stopped")
