"""The durable inbox: every update is stored before Telegram is told we have it, then handled.

Intake: in polling mode our own getUpdates loop stores each batch in one committed transaction
and only then asks for the next batch with offset = last + 1 (which is what confirms the batch to
Telegram); in webhook mode bot/core/webhook.py stores the update before answering 200. Fetching
pauses while more than INBOX_BACKLOG stored updates are not done.

Processing: the feeder hands undone rows to the Application in update_id order (after a restart:
everything not done), through the ChatOrderedProcessor, so one chat's updates keep their order.
PactApplication.process_update marks the row done in the update's own transaction; a row already
done is skipped, so a re-delivered update has no second effect.

Outage: updates that cannot be stored are not confirmed (Telegram sends them again, so they
are handled once the database is back) and go to the error handler, which apologises once each.

Failures: a handler that raises gets the error handler's apology and its row is marked done at
once (a fresh transaction), so a poison update is never retried. When the unit of work itself
fails (the commit, e.g. the database is away), the row stays undone and is tried again with a
backoff, and later updates of its chat wait behind it (the chat's order holds); after
INBOX_ATTEMPTS such failures it is marked done and given up (logged).

Several processes (bot/core/cluster.py, PostgreSQL): intake also records each new chat in
``inbox_chats`` and notifies the workers; each worker's feeder takes chats no live worker holds
(FOR UPDATE SKIP LOCKED, no more at a time than it has room for) and hands on only the undone
rows of the chats it holds. A chat stays with its worker until that process dies; then the
next feeder to look takes it (within RESCAN_SECONDS), starting from the stored state.

Stop: intake ends first; updates already being handled get SHUTDOWN_DRAIN_SECONDS to finish,
the rest stay undone in the inbox and are handled after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from telegram import Update
from telegram.error import TelegramError

from bot.core import logs
from bot.core.cluster import INBOX, SPACE
from bot.core.processor import chat_key
from bot.core.shared_state import deliver_left_replies, forget_chats
from db.repositories import inbox as inbox_repo

if TYPE_CHECKING:
    from bot.core.application import PactApplication
    from bot.core.cluster import Presence

log = logging.getLogger(__name__)
BATCH = 100
"""Updates asked for per getUpdates (Telegram's maximum)."""
RESCAN_SECONDS = 1.0
"""The feeder looks at the table at least this often (retries, rows stored by other paths)."""
RETRY_MAX_SECONDS = 30.0
STORE_RETRY_MAX_SECONDS = 2.0
"""While updates cannot be stored, the batch is fetched again this often (new ones get their
apology within that time)."""
KEEP_DONE = timedelta(hours=48)
"""Done ids are kept this long (Telegram re-delivers for at most 24 hours), then deleted."""
PRUNE_EVERY = timedelta(hours=1)


class Inbox:
    """Stores updates, feeds undone ones to the Application, and drains on stop."""

    def __init__(self, app: PactApplication, cluster: Presence | None = None) -> None:
        self.app = app
        self.cluster = cluster
        """Set when this is one of several processes (shared mode, PostgreSQL)."""
        self.draining = False
        """Set at stop: updates not yet started are left undone for the next run."""
        self.in_flight: set[int] = set()
        self._chats: Counter[int | None] = Counter()
        """Updates in hand by chat (a chat leaving makes room for another in shared mode)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._retry_at: dict[int, tuple[float, int]] = {}
        self._blocked: dict[int, int] = {}
        """Chat -> its update whose unit of work failed: the chat's later ones wait for its retry
        (they may already be queued in the processor behind it, so they are turned back there)."""
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._feeder: asyncio.Task[None] | None = None
        self._intake: asyncio.Task[None] | None = None
        self._stopping = False
        self._offset: int | None = None
        """The next update_id to ask for: everything below it is stored."""
        self._pruned_at = app.services.clock.now() - PRUNE_EVERY

    # --- intake ---------------------------------------------------------------------------

    async def accept(self, payloads: Iterable[dict[str, Any]]) -> None:
        """Store updates (insert-or-ignore by update_id) in one committed transaction."""
        rows = {}
        for payload in payloads:
            update = Update.de_json(payload, self.app.bot)
            rows.setdefault(update.update_id, (update.update_id, chat_key(update), payload))
        if not rows:
            return
        async with self.app.services.sessions() as session, session.begin():
            await inbox_repo.store(session, list(rows.values()), self.app.services.clock.now())
            if self.cluster is not None:
                await inbox_repo.register_chats(session, (row[1] for row in rows.values()))
                await session.execute(text(f"NOTIFY {INBOX}"))  # sent at the commit
        self.app.services.metrics.received.inc(len(rows))
        self._wake.set()

    def wake(self) -> None:
        """Look at the table now (another process stored updates)."""
        self._wake.set()

    def start_polling(self, timeout: int) -> None:
        """Begin the getUpdates loop."""
        self._stopping = False
        self._intake = asyncio.create_task(self._poll(timeout), name="inbox:intake")

    async def _poll(self, timeout: int) -> None:
        """Fetch, store, and only then confirm by asking for the next batch."""
        bot = self.app.bot
        await self._until_ok(lambda: bot.delete_webhook(drop_pending_updates=False))
        failures = 0
        while not self._stopping:
            await self._room()
            if self._stopping:
                break
            try:
                updates = await bot.get_updates(
                    offset=self._offset,
                    limit=BATCH,
                    timeout=timeout,
                    allowed_updates=Update.ALL_TYPES,
                    read_timeout=timeout + 10,
                )
            except Exception as error:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", type(error).__name__)
                await self._pause(min(2.0**failures / 4, RETRY_MAX_SECONDS))
                continue
            if not updates:
                failures = 0
                continue
            try:
                await self.accept([update.to_dict() for update in updates])
            except Exception as error:
                failures += 1
                log.warning(
                    "could not store %d updates (%s); not confirmed, Telegram sends them again",
                    len(updates),
                    type(error).__name__,
                )
                await self._apologise(updates, error)
                await self._pause(min(2.0**failures / 4, STORE_RETRY_MAX_SECONDS))
                continue
            failures = 0
            self._offset = updates[-1].update_id + 1

    async def _apologise(self, updates: list[Update], error: Exception) -> None:
        """Updates that could not be stored go to the error handler (it apologises once each)."""
        for update in updates:
            try:
                await self.app.process_error(update, error)
            except Exception as failure:
                log.warning("the error handler failed (%s)", type(failure).__name__)

    async def _room(self) -> None:
        """Wait while the stored backlog is at or above INBOX_BACKLOG."""
        bound = self.app.services.settings.inbox_backlog
        while not self._stopping:
            try:
                async with self.app.services.sessions() as session:
                    waiting = await inbox_repo.backlog(session)
            except Exception as error:
                log.warning("could not count the inbox (%s)", type(error).__name__)
                return  # fetch all the same: storing fails too, and that gets the apology
            if waiting < bound:
                return
            self._progress.clear()
            await self._wait(self._progress, RESCAN_SECONDS)

    async def _prune(self) -> None:
        """Now and then, delete done rows older than Telegram could re-deliver them."""
        now = self.app.services.clock.now()
        if now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        try:
            async with self.app.services.sessions() as session, session.begin():
                await inbox_repo.prune(session, now - KEEP_DONE)
                if self.cluster is not None:
                    await inbox_repo.prune_chats(session, SPACE)
        except Exception as error:
            log.warning("could not prune the inbox (%s)", type(error).__name__)

    async def stop_intake(self) -> None:
        """End the getUpdates loop wherever it is (nothing is lost).

        A batch not yet stored was not confirmed either, and one stored but not yet confirmed
        comes again at the next start and is ignored.
        """
        self._stopping = True
        task, self._intake = self._intake, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if self._offset is not None:  # confirm what is stored, so the next start gets only news
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await self.app.bot.get_updates(offset=self._offset, limit=1, timeout=0)

    # --- processing -----------------------------------------------------------------------

    def start(self) -> None:
        """Begin feeding stored updates to the Application."""
        self._feeder = asyncio.create_task(self._feed(), name="inbox:feeder")

    async def _feed(self) -> None:
        """Hand every undone row, oldest first, to the processor; look again when woken."""
        while not self.draining:
            self._wake.clear()
            try:
                rows = await self._undone()
            except Exception as error:
                log.warning("could not read the inbox (%s)", type(error).__name__)
                await self._wait(self._wake, RESCAN_SECONDS)
                continue
            now = asyncio.get_running_loop().time()
            undone = {row.update_id for row in rows} | self.in_flight
            for chat, blocker in list(self._blocked.items()):
                if blocker not in undone:  # done or given up meanwhile: the chat goes on
                    del self._blocked[chat]
            for row in rows:
                if self.draining:
                    return
                if row.update_id in self.in_flight:
                    continue
                blocker = self._blocked.get(row.chat_key) if row.chat_key is not None else None
                if blocker is not None and blocker != row.update_id:
                    continue  # after the chat's failed update, once its retry is through
                retry = self._retry_at.get(row.update_id)
                if retry and retry[0] > now:
                    continue
                self._dispatch(row.update_id, row.payload, row.chat_key)
            await self._prune()  # here, so it runs in webhook mode too
            await self._wait(self._wake, RESCAN_SECONDS)

    async def _undone(self) -> list[Any]:
        """The undone rows to hand on: all of them, or in shared mode those of our chats."""
        limit = self.app.services.settings.inbox_backlog + BATCH + len(self.in_flight)
        if self.cluster is None:
            async with self.app.services.sessions() as session:
                return list(await inbox_repo.undone(session, limit))
        me = self.cluster.worker
        if me is None:
            return []  # our presence is lost: another worker may hold our chats now
        room = self.app.services.settings.max_concurrent_updates - len(self._chats)
        if room > 0:
            async with self.app.services.sessions() as session, session.begin():
                now = self.app.services.clock.now()
                taken = await inbox_repo.take_chats(session, SPACE, me, now, room)
            await self._took(taken)
        async with self.app.services.sessions() as session:
            return await inbox_repo.mine(session, SPACE, me, limit)

    async def _took(self, taken: list[tuple[int, int | None]]) -> None:
        """Chats just taken start from the database; a dead worker's unsent replies go first."""
        if not taken:
            return
        chats = [chat for chat, _before in taken]
        forget_chats(self.app, chats)
        orphans = [chat for chat, before in taken if before is not None]
        if orphans:
            await deliver_left_replies(self.app.bot, self.app.services, orphans)

    def _dispatch(self, update_id: int, payload: Any, chat: int | None) -> None:
        """Start handling one stored update (the processor keeps the chat's order)."""
        self.in_flight.add(update_id)
        self._chats[chat] += 1
        task = asyncio.create_task(
            self._handle(update_id, payload, chat), name=f"inbox:{update_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, update_id: int, payload: Any, chat: int | None) -> None:
        """Run the update through the processor; note a failed unit of work for a retry."""
        try:
            try:
                update = Update.de_json(payload, self.app.bot)
            except Exception as error:
                log.error("update %s cannot be read: given up: %s", update_id, logs.failure(error))
                await self._give_up(update_id)
                return
            skipped = False

            async def in_turn() -> None:
                """Handle it, unless an earlier update of its chat failed and waits for a retry."""
                nonlocal skipped
                blocker = self._blocked.get(chat) if chat is not None else None
                if blocker is not None and blocker != update_id:
                    skipped = True  # left undone: the feeder brings it again after the retry
                    return
                await self.app.process_update(update)

            await self.app.update_processor.process_update(update, in_turn())
            if skipped:
                return
            self._retry_at.pop(update_id, None)
            self._unblock(chat, update_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the unit of work itself failed (a handler's error is caught)
            if chat is not None:  # before any await: the chat's next update is already queued
                self._blocked[chat] = update_id
            await self._apologise([update], error)
            await self._failed(update_id, error)
        finally:
            self.in_flight.discard(update_id)
            self._progress.set()
            self._chats[chat] -= 1
            if self._chats[chat] <= 0:
                del self._chats[chat]
                if self.cluster is not None:
                    self._wake.set()  # room for another chat

    async def _failed(self, update_id: int, error: Exception) -> None:
        """The unit of work failed: count it, retry later with a backoff, give up after N."""
        limit = self.app.services.settings.inbox_attempts
        attempts = self._retry_at.get(update_id, (0.0, 0))[1] + 1
        try:
            async with self.app.services.sessions() as session, session.begin():
                stored = await inbox_repo.count_attempt(
                    session, update_id, limit, self.app.services.clock.now()
                )
            attempts = max(attempts, stored)
        except Exception:
            pass  # the database is away: the in-memory count goes on
        if attempts >= limit:
            log.error(
                "update %s failed %d times: given up: %s", update_id, attempts, logs.failure(error)
            )
            self._retry_at.pop(update_id, None)
            self._unblock_update(update_id)
            return
        log.warning("update %s failed (%s): tried again later", update_id, type(error).__name__)
        delay = min(2.0 ** (attempts - 1), RETRY_MAX_SECONDS)
        self._retry_at[update_id] = (asyncio.get_running_loop().time() + delay, attempts)

    def _unblock(self, chat: int | None, update_id: int) -> None:
        """The chat's failed update is done: its later updates may run."""
        if chat is not None and self._blocked.get(chat) == update_id:
            del self._blocked[chat]
            self._wake.set()  # its later updates wait in the table

    def _unblock_update(self, update_id: int) -> None:
        """The failed update was given up: whichever chat it held goes on."""
        for chat, blocker in list(self._blocked.items()):
            if blocker == update_id:
                del self._blocked[chat]
                self._wake.set()

    async def _give_up(self, update_id: int) -> None:
        """Mark an update done without handling it (it can never be handled)."""
        with contextlib.suppress(Exception):
            async with self.app.services.sessions() as session, session.begin():
                await inbox_repo.mark_done(session, update_id, self.app.services.clock.now())

    async def stop(self) -> None:
        """Stop intake, let handling in progress finish within the drain time, leave the rest."""
        await self.stop_intake()
        self.draining = True
        self._wake.set()
        if self._feeder is not None:
            self._feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._feeder
        pending = {task for task in self._tasks if not task.done()}
        if pending:
            seconds = self.app.services.settings.shutdown_drain_seconds
            _done, pending = await asyncio.wait(pending, timeout=seconds)
        if pending:
            log.warning(
                "%d updates still in hand at the drain limit: left for the restart", len(pending)
            )
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=1)

    # --- small waits ----------------------------------------------------------------------

    async def _until_ok(self, call: Any) -> None:
        """Retry a Telegram call until it works or intake stops."""
        failures = 0
        while not self._stopping:
            try:
                await call()
                return
            except TelegramError as error:
                failures += 1
                log.warning("%s; retrying", type(error).__name__)
                await self._pause(min(2.0**failures / 4, RETRY_MAX_SECONDS))

    async def _pause(self, seconds: float) -> None:
        """Sleep, cut short when intake stops."""
        self._progress.clear()
        deadline = asyncio.get_running_loop().time() + seconds
        while not self._stopping:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            await self._wait(self._progress, left)

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> None:
        """Wait for the event or the time, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()
