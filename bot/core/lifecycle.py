"""Start and stop the Application the same way in production, tests and the playground."""

from __future__ import annotations

import logging

from bot.broadcasting import sender as delivery
from bot.core import commands, jobs, replies
from bot.core.application import PactApplication
from bot.core.inbox import Inbox
from bot.core.runtime import unit_of_work
from bot.rti.services import directory
from bot.rti.services import requests as rti
from bot.staff.services import permissions as staff
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
    if isinstance(app.bot, replies.ReplyBot):
        await replies.deliver_pending(app.bot, app.services)  # before any new update's reply
    app.inbox = Inbox(app)
    app.inbox.start()  # stored updates not done yet (e.g. from before a restart) come first
    log.info("bot started as @%s", app.bot.username)


async def start_polling(app: PactApplication, timeout: int = 30) -> None:
    """Fetch updates by long polling into the inbox (the default mode; any webhook is removed)."""
    assert app.inbox is not None, "startup() first"
    app.inbox.start_polling(timeout)


async def shutdown(app: PactApplication) -> None:
    """Stop fetching, drain (SHUTDOWN_DRAIN_SECONDS), finish broadcast sends, close the database.

    Updates not handled by the drain limit stay undone in the inbox: the next start handles them.
    """
    if app.inbox is not None:
        await app.inbox.stop()
    await delivery.stop(app)
    if app.running:
        await app.stop()
    await app.shutdown()
    await app.services.engine.dispose()
    log.info("bot stopped")
