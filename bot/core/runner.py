"""Run the bot against Telegram until SIGTERM or SIGINT, in polling or webhook mode."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from bot.app import build_application
from bot.core.cluster import Roles
from bot.core.lifecycle import shutdown, start_polling, startup
from bot.core.settings import Settings
from bot.core.webhook import start_http, start_webhook

log = logging.getLogger(__name__)


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Start, wait for a stop signal, shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = build_application(settings)
    await startup(app)
    # What start-up built (modules, handlers, catalogs) lives as long as the process: keep it out
    # of the collector's full passes, which otherwise walk it all (pauses of 0.2-0.4 s seen).
    gc.freeze()
    runner = None
    try:
        if settings.webhook_mode and Roles.of(settings).fetch:
            runner = await start_webhook(app, settings)
        elif settings.webhook_mode:  # a worker or sender of several: no webhook here
            if settings.health_port is not None:
                runner = await start_http(app, settings, settings.health_port)
        else:
            if settings.health_port is not None:
                runner = await start_http(app, settings, settings.health_port)
            await start_polling(app)
        await stop.wait()
        log.info("stop signal received")
    finally:
        if runner is not None:
            await runner.cleanup()
        await shutdown(app)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        # Everything is closed and the process is about to end: spare it the final collection
        # of every object (about a second on a busy machine), so a stop ends in time.
        gc.freeze()
