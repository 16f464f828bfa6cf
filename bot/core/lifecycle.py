"""Start and stop the Application the same way in production, tests and the playground.

With PROCESS_ROLE other than `all` the process is one of several on PostgreSQL
(bot/core/cluster.py): set-up runs under a lock, the sender and the scheduled jobs run only while
this process holds the send lock, getUpdates only while it holds the fetch lock, and the feeder
only with the work role.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.broadcasting import sender as delivery
from bot.core import commands, jobs, replies, shared_state
from bot.core.application import PactApplication
from bot.core.cluster import FETCH, INBOX, OUTBOX, SEND, Presence, Roles, refuse_sqlite
from bot.core.inbox import Inbox
from bot.core.runtime import unit_of_work
from bot.rti.services import directory
from bot.rti.services import requests as rti
from bot.staff.services import permissions as staff
from db import migrate

log = logging.getLogger(__name__)
CLUSTER = "pact_cluster"
"""Key of the process's Presence in ``Application.bot_data`` (shared mode only)."""


async def startup(app: PactApplication) -> None:
    """Migrate, seed shipped data, initialise, schedule jobs, publish commands, send, start."""
    settings = app.services.settings
    roles = Roles.of(settings)
    cluster = None
    if roles.shared:
        problem = refuse_sqlite(settings)
        if problem:
            raise RuntimeError(problem)
        cluster = app.bot_data[CLUSTER] = Presence(settings)
        cluster.listen(INBOX, lambda: app.inbox.wake() if app.inbox is not None else None)
        cluster.listen(OUTBOX, lambda: _kick_here(app))
        await cluster.start()
        await cluster.setup_lock()  # one process at a time migrates and seeds
    try:
        await migrate.upgrade(app.services.engine)
        async with unit_of_work(app.services) as scope:
            now = app.services.clock.now()
            await directory.seed(scope.session, now)
            await rti.seed_closed_days(scope.session, now)
            await staff.bootstrap_admins(scope.session, settings.admin_ids, now)
            await jobs.ensure_digest(scope.session, now, settings.tz)
    finally:
        if cluster is not None:
            await cluster.setup_unlock()
    await app.initialize()
    await commands.register(app.bot, app.services.i18n)
    if cluster is None:
        jobs.schedule(app)
        await delivery.start(app)
    else:
        _send_elsewhere(app, cluster)
    await app.start()
    if cluster is None and isinstance(app.bot, replies.ReplyBot):
        await replies.deliver_pending(app.bot, app.services)  # before any new update's reply
    app.inbox = Inbox(app, cluster)
    if cluster is not None:
        app.shared_state = shared_state.load
        if roles.send:
            cluster.lead(SEND, lambda: _gain_send(app), lambda: _lose_send(app, cluster))
    if roles.work:
        app.inbox.start()  # stored updates not done yet (e.g. from before a restart) come first
    log.info("bot started as @%s (%s)", app.bot.username, settings.process_role)


def _kick_here(app: PactApplication) -> None:
    """A worker committed direct messages: the sender, if it runs in this process, sends them."""
    sender = app.bot_data.get(delivery.SENDER)
    if isinstance(sender, delivery.Sender):
        sender.kick()


def _send_elsewhere(app: PactApplication, cluster: Presence) -> None:
    """Without the sender here, committed messages and broadcasts are announced to it."""
    tasks: set[asyncio.Task[None]] = set()

    def announce() -> None:
        task = asyncio.create_task(cluster.notify(OUTBOX))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def hand_over(_ids: Sequence[int]) -> None:
        await cluster.notify(OUTBOX)

    app.services.deliver_outbox = hand_over
    app.bot_data[delivery.ELSEWHERE] = announce


async def _gain_send(app: PactApplication) -> None:
    """This process now holds the send lock: run the sender and the scheduled jobs."""
    await delivery.start(app)
    jobs.schedule(app)
    log.info("cluster: this process sends")


async def _lose_send(app: PactApplication, cluster: Presence) -> None:
    """The send lock is gone (stop, or the connection lost): stop sending here."""
    jobs.unschedule(app)
    await delivery.stop(app)
    _send_elsewhere(app, cluster)


async def start_polling(app: PactApplication, timeout: int = 30) -> None:
    """Fetch updates by long polling into the inbox (the default mode; any webhook is removed).

    In shared mode only a fetch process polls, and only while it holds the fetch lock.
    """
    inbox = app.inbox
    assert inbox is not None, "startup() first"
    cluster = app.bot_data.get(CLUSTER)
    if not isinstance(cluster, Presence):
        inbox.start_polling(timeout)
    elif Roles.of(app.services.settings).fetch:

        async def gain() -> None:
            inbox.start_polling(timeout)

        cluster.lead(FETCH, gain, inbox.stop_intake)


async def shutdown(app: PactApplication) -> None:
    """Stop fetching, drain (SHUTDOWN_DRAIN_SECONDS), finish broadcast sends, close the database.

    Updates not handled by the drain limit stay undone in the inbox: the next start handles them.
    """
    cluster = app.bot_data.get(CLUSTER)
    if isinstance(cluster, Presence):
        await cluster.settle()  # no role is taken from here on
    if app.inbox is not None:
        await app.inbox.stop()
    if isinstance(cluster, Presence):
        await cluster.stop()  # gives up the send and fetch locks: a standby takes over
    await delivery.stop(app)
    if app.running:
        await app.stop()
    await app.shutdown()
    await app.services.engine.dispose()
    log.info("bot stopped")
