"""Long-lived services shared by handlers and jobs, and the per-update unit of work."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.i18n import I18n, Translator
from bot.settings import Settings
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

    def fail(self) -> None:
        """Roll back instead of committing when the work ends (set by the error handler)."""
        self.failed = True


_current: ContextVar[Scope | None] = ContextVar("pact_scope", default=None)


def current_scope() -> Scope:
    """The scope of the update or job being processed; an error outside one."""
    scope = _current.get()
    if scope is None:
        raise RuntimeError("no unit of work is open (called outside an update or job)")
    return scope


@asynccontextmanager
async def unit_of_work(services: Services, locale: str | None = None) -> AsyncIterator[Scope]:
    """Open a session, expose it as the current scope, commit once at the end (or roll back)."""
    async with services.sessions() as session:
        scope = Scope(session=session, translator=services.i18n.translator(locale))
        token = _current.set(scope)
        try:
            yield scope
        except BaseException:
            await session.rollback()
            raise
        else:
            if scope.failed:
                await session.rollback()
            else:
                await session.commit()
                for callback in scope.after_commit:
                    callback()
        finally:
            _current.reset(token)
