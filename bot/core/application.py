"""The PTB Application with one unit of work per update and the user's locale resolved up front.

An update that came through the inbox (bot/core/inbox.py) is handled at most once: its row is
re-checked (locked on PostgreSQL) inside the update's transaction and marked done in it, together
with the person's drafts and conversation states (bot/core/persistence.py save_update_state); on
PostgreSQL the check, the lock and the mark are one statement (db/repositories/inbox.py take).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.account.services.accounts import Actor
from bot.core import replies
from bot.core.i18n import Translator
from bot.core.persistence import (
    DbPersistence,
    UpdateState,
    consented,
    load_update_state,
    release_update_state,
    save_update_state,
)
from bot.core.runtime import Scope, Services, current_scope, unit_of_work
from db.models import User
from db.repositories import inbox as inbox_repo
from db.repositories import users as users_repo

if TYPE_CHECKING:
    from bot.core.inbox import Inbox

log = logging.getLogger(__name__)

FINISHED_KEPT = 10_000
"""How many finished update ids wait_processed remembers (the oldest are forgotten first)."""


class PactApplication(Application):
    """Wraps each update in a database session committed once, and tracks finished updates."""

    services: Services

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._finished: OrderedDict[int, int] = OrderedDict()
        """Finished update ids with their chat (0: none), whose queued replies they wait for."""
        self._finished_changed = asyncio.Condition()
        self.unsaved_languages: dict[int, str] = {}
        """Languages chosen before consent: memory only, never stored (lost on restart)."""
        self.inbox: Inbox | None = None
        """Where updates are stored before they are confirmed (set by bot/core/lifecycle.py)."""
        self.shared_state: Any = None
        """In shared mode, brings the person's state up to the database first (lifecycle.py)."""

    async def process_update(self, update: object) -> None:
        """Open the unit of work, resolve user and locale, run the handlers, commit once.

        A stored update already done is skipped (re-delivered: no second effect). The person's
        drafts and states, its replies (bot/core/replies.py) and the inbox's done mark are written
        before the commit; the replies are sent after it. When a handler
        failed (the error handler rolled back), memory goes back to its state before the update
        and the row is marked done in a fresh transaction: a poison update is not tried again.
        """
        if not isinstance(update, Update):
            await super().process_update(update)
            return
        if self.inbox is not None and self.inbox.draining:
            return  # stopping: left undone in the inbox for the next run
        try:
            await self.services.metrics.observe(update, self._process(update))
        finally:
            release_update_state(self, update)
            async with self._finished_changed:
                chat = update.effective_chat
                self._finished[update.update_id] = chat.id if chat else 0
                while len(self._finished) > FINISHED_KEPT:
                    self._finished.popitem(last=False)
                self._finished_changed.notify_all()

    async def _process(self, update: Update) -> None:
        """The unit of work of one update (see process_update)."""
        stored = False
        before: UpdateState | None = None
        try:
            async with unit_of_work(self.services) as scope:
                taken = await inbox_repo.take(
                    scope.session, update.update_id, self.services.clock.now()
                )
                if taken is inbox_repo.Taken.DONE:
                    log.info("update %s was already handled: skipped", update.update_id)
                    return
                stored = taken is not inbox_repo.Taken.ABSENT
                await load_update_state(self, scope.session, update)  # first need: read it
                if self.shared_state is not None:  # several workers (bot/core/shared_state.py)
                    await self.shared_state(self, scope.session, update)
                before = UpdateState(self, update)
                if isinstance(self.bot, replies.ReplyBot):
                    replies.capture(scope, self.services.clock.now())
                await self._resolve_user(scope, update)
                tg_user = update.effective_user
                before.consented = tg_user is not None and consented(scope.user, tg_user.id)
                await super().process_update(update)
                if not scope.failed:
                    await replies.finish(scope)
                if not scope.failed:
                    now = self.services.clock.now()
                    if isinstance(self.bot, replies.ReplyBot):
                        chat = update.effective_chat
                        await replies.store(scope, self.services, self.bot, chat and chat.id)
                    await save_update_state(
                        self, scope.session, update, now, user_row=scope.user, previous=before
                    )
                    if taken is inbox_repo.Taken.OPEN:
                        await inbox_repo.mark_done(scope.session, update.update_id, now)
        except BaseException:
            if before is not None:
                before.restore()  # nothing of it was committed: memory says the same
            raise
        if scope.failed:
            self.services.metrics.failed(update)
            if before is not None:
                before.restore()
            if stored:
                async with unit_of_work(self.services) as fresh:
                    now = self.services.clock.now()
                    await inbox_repo.mark_done(fresh.session, update.update_id, now)

    async def update_persistence(self) -> None:
        """PTB's periodic flush, reduced to the drafts it was told to drop.

        Drafts and conversation states are written in their update's own transaction
        (save_update_state). PTB's flush would take the keys a running update has just marked
        as changed, so a flush between a handler and that update's commit would lose the step.
        """
        if not isinstance(self.persistence, DbPersistence):
            await super().update_persistence()
            return
        drops = self._user_ids_to_be_deleted_in_persistence
        self._user_ids_to_be_deleted_in_persistence = set()
        self._user_ids_to_be_updated_in_persistence.clear()  # written with their update
        self._chat_ids_to_be_updated_in_persistence.clear()  # chat data is not stored
        for user_id in drops:
            await self.persistence.drop_user_data(user_id)

    async def _resolve_user(self, scope: Scope, update: Update) -> None:
        """Load the stored user and choose the language to answer in."""
        tg_user = update.effective_user
        if tg_user is None:
            return
        scope.user = await users_repo.by_telegram_id(scope.session, tg_user.id)
        chosen = self.unsaved_languages.get(tg_user.id)
        locale = (
            (scope.user.language if scope.user else None)
            or chosen
            or self.services.i18n.locale_for_telegram(tg_user.language_code)
        )
        scope.translator = self.services.i18n.translator(locale)

    async def wait_processed(self, update_id: int, timeout: float = 10) -> None:
        """Resolve once the update has been fully handled, its replies made and the messages it
        stored for others sent (tests and the playground use this)."""
        async with asyncio.timeout(timeout):
            async with self._finished_changed:
                await self._finished_changed.wait_for(lambda: update_id in self._finished)
            chat = self._finished.get(update_id)
            if chat is not None and isinstance(self.bot, replies.ReplyBot):
                await self.bot.lanes.settled(chat)
            if self.services.outbox_settled is not None:  # its messages to other people
                await self.services.outbox_settled()


class PactContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Callback context with the update's session, translator and user row at hand."""

    @property
    def services(self) -> Services:
        """Settings, database, translations and clock."""
        return self.application.services  # type: ignore[attr-defined,no-any-return]

    @property
    def scope(self) -> Scope:
        """This update's unit of work."""
        return current_scope()

    @property
    def t(self) -> Translator:
        """The translator for this update's user (short name: used on every line of text)."""
        return current_scope().translator

    def remember_language(self, update: Update, locale: str) -> None:
        """Keep a language choice in memory (stored in the row too when there is one)."""
        assert update.effective_user is not None
        self.application.unsaved_languages[update.effective_user.id] = locale  # type: ignore[attr-defined]

    def use_locale(self, locale: str) -> Translator:
        """Switch the rest of this update to another language (after a language change)."""
        current_scope().translator = self.services.i18n.translator(locale)
        return current_scope().translator

    @property
    def user_row(self) -> User | None:
        """The stored user, if we keep one."""
        return current_scope().user

    def actor(self, update: Update) -> Actor:
        """Who acts now, for the services."""
        assert update.effective_user is not None
        return Actor(telegram_id=update.effective_user.id, now=self.services.clock.now())
