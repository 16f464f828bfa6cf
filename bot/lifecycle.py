"""Start and stop the Application the same way in production, tests and the playground."""

from __future__ import annotations

import logging

from telegram import Update

from bot import commands
from bot.application import PactApplication
from db import migrate

log = logging.getLogger(__name__)


async def startup(app: PactApplication) -> None:
    """Migrate the database to head, initialise, publish the command lists, start."""
    await migrate.upgrade(app.services.engine)
    await app.initialize()
    await commands.register(app.bot, app.services.i18n)
    await app.start()
    log.info("bot started as @%s", app.bot.username)


async def start_polling(app: PactApplication, timeout: int = 30) -> None:
    """Fetch updates by long polling (the default mode; PTB removes any webhook first)."""
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0, timeout=timeout, allowed_updates=Update.ALL_TYPES
    )


async def shutdown(app: PactApplication) -> None:
    """Stop fetching, finish what is in hand, close the database."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    await app.services.engine.dispose()
    log.info("bot stopped")
