"""Long-lived services shared by handlers and jobs, and the per-update unit of work."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.broadcasting.limiter import Budget
from bot.core.clock import Clock
from bot.core.i18n import I18n, Translator
from bot.core.metrics import Metrics
from bot.core.settings import Settings
from db.models import User

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the bot needs beyond Telegram: settings, database, translations, time."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    i18n: I18n
    clock: Clock
    cache: dict[str, object] = field(default_factory=dict)
    """Facts learnt from Telegram at run time (e.g. whether the staff group is a forum)."""
    rate_budget: Budget = field(default_factory=Budget)
    """Telegram's per-bot sending budget, shared by replies (first) and the outbox."""
    deliver_outbox: Callable[[Sequence[int]], Awaitable[None]] | None = None
    """Sends direct outbox rows just committed (set by the running sender; None: left pending)."""
    hand_outbox: Callable[[Sequence[int]], Awaitable[None]] | None = None
    """Like deliver_outbox, but returns at once (the sender sends them in a task of its own)."""
    outbox_settled: Callable[[], Awaitable[None]] | None = None
    """Waits until the rows given to hand_outbox so far are sent (set with it)."""
    metrics: Metrics = field(default_factory=Metrics)
    """Counters, histograms and scrape-time gauges for /metrics (bot/core/metrics.py)."""


@dataclass
class Scope:
    """One update's or job's unit of work: its session, user row and locale."""

    session: AsyncSession
    translator: Translator
    user: User | None = None
    failed: bool = False
    extra: dict[str, object] = field(default_factory=dict)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    """Called once the work has committed, e.g. to wake the sender for rows just stored."""
    effects: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    """Sends run in order only after a successful commit (a reply that reports stored data)."""
    after_rollback: list[Callable[[], None]] = field(default_factory=list)
    """Called when the work is rolled back, e.g. to put back a draft taken out of memory."""
    replies: list[Any] | None = None
    """An update's posting calls, recorded to be stored and made after the commit
    (bot/core/replies.py); None: calls are made at once (jobs, and after a failure)."""
    deferred_replies: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    """Replies queued "after the commit" while replies are recorded: run last, still recorded."""

    def fail(self) -> None:
        """Roll back instead of committing; what was recorded to send is dropped with it."""
        self.failed = True
        self.replies = None
        self.deferred_replies.clear()


_current: ContextVar[Scope | None] = ContextVar("pact_scope", default=None)


def current_scope() -> Scope:
    """The scope of the update or job being processed; an error outside one."""
    scope = _current.get()
    if scope is None:
        raise RuntimeError("no unit of work is open (called outside an update or job)")
    return scope


@asynccontextmanager
async def unit_of_work(services: Services, locale: str | None = None) -> AsyncIterator[Scope]:
    """Open a session, expose it as the current scope, commit once at the end (or roll back).

    Only after a successful commit do the ``after_commit`` callbacks and then the ``effects``
    run; a failing effect is logged and never undoes the committed work.
    """
    async with services.sessions() as session:
        scope = Scope(session=session, translator=services.i18n.translator(locale))
        token = _current.set(scope)
        try:
            try:
                yield scope
            except BaseException:
                await session.rollback()
                _rolled_back(scope)
                raise
            if scope.failed:
                await session.rollback()
                _rolled_back(scope)
            else:
                try:
                    await session.commit()
                except BaseException:
                    _rolled_back(scope)
                    raise
                for callback in scope.after_commit:
                    callback()
                # Still the current scope (its translator and user), but nothing more is written.
                for effect in scope.effects:
                    await run_effect(effect)
        finally:
            _current.reset(token)


def _rolled_back(scope: Scope) -> None:
    """Run the rollback callbacks; post-commit work is dropped with the transaction."""
    scope.effects.clear()
    scope.after_commit.clear()
    for callback in scope.after_rollback:
        try:
            callback()
        except Exception as error:
            log.warning("a rollback callback failed: %s", type(error).__name__)


async def run_effect(effect: Callable[[], Awaitable[object]]) -> None:
    """Run one post-commit effect; its failure is logged by type only (no content), not raised."""
    try:
        await effect()
    except Exception as error:
        log.warning("a message after the commit was not sent: %s", type(error).__name__)


def after_commit_effect(effect: Callable[[], Awaitable[object]]) -> None:
    """Queue a send on the current unit of work, to run once (and only if) it commits.

    While an update's replies are recorded it runs at the end of the handling instead, so its
    calls join the update's stored replies, in order, and are made after the commit with them.
    """
    scope = current_scope()
    if scope.replies is not None:
        scope.deferred_replies.append(effect)
    else:
        scope.effects.append(effect)
