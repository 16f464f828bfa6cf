"""Messages to other people: outbox rows in the deciding transaction, sent after it commits.

``enqueue`` stores a direct row (``bot/broadcasting/services/outbox_rows.py``) in the current unit
of work and queues a post-commit effect that hands the rows to the running sender, which sends them
at once with its bot (and limiter). Rows it could not send stay pending with a doubling wait and are
retried by every later sender pass; each outcome is recorded. A refusal from a person's own chat
marks that person blocked; a refusal from any other chat (the staff group) marks nobody and alerts
the admins privately, once a day.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.account.services import accounts
from bot.broadcasting.limiter import retry_seconds
from bot.broadcasting.services import outbox_rows as rows
from bot.campaigns.services.campaigns import quiet, quiet_ends
from bot.core.i18n import shorten
from bot.core.runtime import Scope, Services, current_scope, unit_of_work
from db.models import User

log = logging.getLogger(__name__)

_QUEUED = "outbox_ids"
"""Key in ``Scope.extra`` of the rows this unit of work stored."""


async def enqueue(
    services: Services,
    *,
    kind: str,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    user_id: int | None = None,
    thread_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Store a message in this unit of work, to be sent once it commits; False if deduplicated."""
    scope = current_scope()
    payload: dict[str, Any] = {"method": "sendMessage", "text": text}
    if markup is not None:
        payload["reply_markup"] = markup.to_dict()
    if thread_id is not None:
        payload["message_thread_id"] = thread_id
    row = await rows.add(
        scope.session,
        kind=kind,
        chat_id=chat_id,
        payload=payload,
        now=services.clock.now(),
        user_id=user_id,
        dedupe_key=dedupe_key,
        not_before=not_before,
    )
    if row is None:
        return False
    _send_after_commit(services, scope, row.id)
    return True


FILE_METHODS = {"photo": "sendPhoto", "document": "sendDocument"}
"""A file already on Telegram (by file id) relayed to someone: kind → Bot API method."""


async def enqueue_file(
    services: Services,
    *,
    kind: str,
    chat_id: int,
    file_kind: str,
    file_id: str,
    caption: str,
    user_id: int | None = None,
) -> bool:
    """Store a photo or document (by its file id) to be sent once this unit of work commits."""
    scope = current_scope()
    row = await rows.add(
        scope.session,
        kind=kind,
        chat_id=chat_id,
        payload={"method": FILE_METHODS[file_kind], "file_id": file_id, "caption": caption},
        now=services.clock.now(),
        user_id=user_id,
    )
    if row is None:
        return False
    _send_after_commit(services, scope, row.id)
    return True


def _send_after_commit(services: Services, scope: Scope, row_id: int) -> None:
    """One post-commit effect per unit of work hands all its rows to the sender."""
    queued = scope.extra.get(_QUEUED)
    if not isinstance(queued, list):
        queued = scope.extra[_QUEUED] = []
        update = scope.replies is not None  # an update's: it must not wait for these sends
        scope.effects.append(lambda: _hand_over(services, queued, wait=not update))
    queued.append(row_id)


async def _hand_over(services: Services, ids: Sequence[int], wait: bool) -> None:
    """Send the committed rows if a sender runs (otherwise its next pass does): a job waits for
    them; an update hands them over and goes on, so a staff group's 20 messages a minute never
    hold the person's update, its processing slot or their chat."""
    if not wait and services.hand_outbox is not None:
        await services.hand_outbox(list(ids))
    elif services.deliver_outbox is not None:
        await services.deliver_outbox(list(ids))


class DirectSender:
    """Sends direct outbox rows one at a time, in id order, and records each outcome."""

    def __init__(
        self,
        services: Services,
        bot: ExtBot[None],
        replies: Callable[[rows.Direct], Awaitable[bool]] | None = None,
    ) -> None:
        self.services = services
        self.bot = bot
        self.replies = replies
        """Sends a reply row left over from an update (bot/core/replies.py) with the replying
        bot."""
        self._in_flight: set[int] = set()
        """Rows being sent by this process (the after-commit path and a pass never both send)."""
        self._handed: set[asyncio.Task[int]] = set()

    async def hand_over(self, ids: Sequence[int]) -> None:
        """Send rows just committed in a task of the sender's own; the caller goes on at once."""
        task = asyncio.create_task(self.deliver(ids), name="outbox:direct")
        self._handed.add(task)
        task.add_done_callback(self._handed.discard)

    async def settled(self) -> None:
        """Wait until the rows handed over so far are sent (tests and the playground)."""
        while self._handed:
            await asyncio.wait(set(self._handed))

    async def close(self, grace: float) -> None:
        """Let hand-overs finish within the grace; the rest stay pending for the next pass."""
        if self._handed:
            _done, left = await asyncio.wait(set(self._handed), timeout=grace)
            for task in left:
                task.cancel()
            if left:
                await asyncio.wait(left, timeout=1)

    async def deliver_due(self) -> int:
        """Send every pending direct row whose time has come; how many Telegram took."""
        async with unit_of_work(self.services) as scope:
            ids = await rows.due_ids(scope.session, self.services.clock.now())
        return await self.deliver(ids)

    async def deliver(self, ids: Sequence[int]) -> int:
        """Send these rows if still pending and due; how many Telegram took."""
        mine = [i for i in ids if i not in self._in_flight]
        self._in_flight.update(mine)
        try:
            async with unit_of_work(self.services) as scope:
                found = await rows.pending(scope.session, mine, self.services.clock.now())
            sent = 0
            for row in found:
                sent += await self._send(row)
            return sent
        finally:
            self._in_flight.difference_update(mine)

    async def _send(self, row: rows.Direct) -> int:
        """One row: call Telegram, then record what happened in its own unit of work."""
        if row.kind == rows.REPLY:
            return int(self.replies is not None and await self.replies(row))
        if row.kind in rows.QUIET_KINDS and await self._held_for_quiet_hours(row):
            return 0
        error: TelegramError | None = None
        try:
            await self._call(row)
        except TelegramError as caught:
            error = caught
        self.services.metrics.send("direct", error)
        now = self.services.clock.now()
        async with unit_of_work(self.services) as scope:
            session = scope.session
            if error is None:
                await rows.mark_sent(session, row.id, now)
                return 1
            reason = type(error).__name__
            if isinstance(error, RetryAfter):
                await rows.wait_for(session, row.id, now + timedelta(seconds=retry_seconds(error)))
            elif _refused(error) and row.user_id is not None:
                await rows.mark_failed(session, row.id, rows_blocked(error))
                if isinstance(error, Forbidden):
                    await mark_blocked(session, row.user_id, now)
            elif _refused(error):
                await rows.mark_failed(session, row.id, f"refused: {reason}")
                await alert_admins(self.services, error)
            elif isinstance(error, TimedOut) and row.user_id is not None:
                # Telegram may have taken it: a person is not sent it twice.
                await rows.mark_failed(session, row.id, reason)
            elif isinstance(error, BadRequest):
                await rows.mark_failed(session, row.id, reason)
            else:
                await rows.retry_later(session, row, reason, now)
        log.warning("outbox %s message %s not sent: %s", row.kind, row.id, reason)
        return 0

    async def _held_for_quiet_hours(self, row: rows.Direct) -> bool:
        """A citizen reminder retried at night waits for the end of quiet hours (recorded)."""
        settings = self.services.settings
        now = self.services.clock.now()
        if not quiet(now, settings.tz, settings.quiet_start, settings.quiet_end):
            return False
        async with unit_of_work(self.services) as scope:
            until = quiet_ends(now, settings.tz, settings.quiet_end)
            await rows.wait_for(scope.session, row.id, until)
        return True

    async def _call(self, row: rows.Direct) -> None:
        """The Bot API call the payload describes."""
        payload = row.payload
        if payload.get("method") == "sendPhoto":
            await self.bot.send_photo(row.chat_id, payload["file_id"], caption=payload["caption"])
            return
        if payload.get("method") == "sendDocument":
            await self.bot.send_document(
                row.chat_id, payload["file_id"], caption=payload["caption"]
            )
            return
        if payload.get("method") != "sendMessage":
            raise BadRequest(f"unsupported outbox method {payload.get('method')!r}")
        markup = payload.get("reply_markup")
        await self.bot.send_message(
            row.chat_id,
            payload["text"],
            reply_markup=InlineKeyboardMarkup.de_json(markup, self.bot) if markup else None,
            message_thread_id=payload.get("message_thread_id"),
        )


def _refused(error: TelegramError) -> bool:
    """The chat will not take messages: 403, or 400 "chat not found"."""
    return isinstance(error, Forbidden) or (
        isinstance(error, BadRequest) and "chat not found" in str(error).lower()
    )


def rows_blocked(error: TelegramError) -> str:
    """The recorded reason for a person's chat that refused."""
    return "blocked" if isinstance(error, Forbidden) else "chat not found"


async def mark_blocked(session: AsyncSession, user_id: int, now: datetime) -> None:
    """The person's own chat refused: they blocked the bot (dropped from later sends)."""
    person = await session.get(User, user_id)
    if person is not None and person.blocked_at is None:
        await accounts.set_blocked(session, accounts.Actor(person.telegram_id, now), True)


async def alert_admins(services: Services, error: TelegramError) -> None:
    """Tell each admin privately, at most once a day, that the staff chat refused a message."""
    scope = current_scope()
    now = services.clock.now()
    day = now.astimezone(services.settings.tz).date().isoformat()
    detail = shorten(f"{type(error).__name__}: {error}", 200)
    for user_id, telegram_id, language in await rows.admins(scope.session):
        t = services.i18n.translator(language)
        await enqueue(
            services,
            kind=rows.ADMIN_ALERT,
            chat_id=telegram_id,
            user_id=user_id,
            text=t.gettext(
                "⚠️ The staff group refused a message from the bot ({reason}). No case or "
                "reporter was changed. Please check that the bot is still a member of the staff "
                "group and may post there.",
                reason=detail,
            ),
            dedupe_key=f"staff-refused:{day}:{telegram_id}",
        )
