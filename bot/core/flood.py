"""Flood control: at most UPDATES_PER_MINUTE updates per Telegram user in any sliding minute.

One TypeHandler runs before everything else (group -3, before draft stamping and the staff gate).
Above the limit the person gets one polite message for that minute; further updates are dropped
(a pressed button's spinner is still stopped, without text) until the window has room again.
Dropped updates do not count. The windows are kept in memory only: a restart forgets them, and
with several bot processes each one counts on its own, which is acceptable for this purpose.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime, timedelta

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.core.application import PactContext

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=1)
SWEEP_AT = 10_000
"""Forget idle users once this many windows are held."""


class FloodGuard:
    """Sliding one-minute windows of accepted updates, and when each person was last warned."""

    def __init__(self) -> None:
        self._seen: dict[int, deque[datetime]] = {}
        self._warned_until: dict[int, datetime] = {}

    def admit(self, user_id: int, now: datetime, limit: int) -> bool:
        """Count this update if the person's last minute has room; False when over the limit."""
        if len(self._seen) > SWEEP_AT:
            self._sweep(now)
        window = self._seen.setdefault(user_id, deque())
        while window and window[0] <= now - WINDOW:
            window.popleft()
        if len(window) >= limit:
            return False
        window.append(now)
        return True

    def should_warn(self, user_id: int, now: datetime) -> bool:
        """True once per minute of flooding: the first refused update gets the message."""
        if self._warned_until.get(user_id, now) > now:
            return False
        self._warned_until[user_id] = now + WINDOW
        return True

    def _sweep(self, now: datetime) -> None:
        """Drop windows and warnings that no longer matter."""
        self._seen = {
            uid: window
            for uid, window in self._seen.items()
            if window and window[-1] > now - WINDOW
        }
        self._warned_until = {uid: t for uid, t in self._warned_until.items() if t > now}


def handler() -> TypeHandler:
    """The flood check as a handler with its own windows (one per Application)."""
    guard = FloodGuard()

    async def check(update: Update, context: PactContext) -> None:
        """Let the update through, or stop it here (with one message per flooded minute)."""
        user = update.effective_user
        if user is None:
            return
        now = context.services.clock.now()
        if guard.admit(user.id, now, context.services.settings.updates_per_minute):
            return
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
            chat = update.effective_chat
            if guard.should_warn(user.id, now) and chat is not None and chat.type == chat.PRIVATE:
                await context.bot.send_message(
                    chat.id,
                    context.t.gettext("You are sending messages very fast; please wait a minute."),
                )
        except TelegramError as error:
            log.info("flood notice not delivered: %s", type(error).__name__)
        raise ApplicationHandlerStop

    return TypeHandler(Update, check)
