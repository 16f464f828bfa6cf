"""Replies to an update: captured while it is handled, stored with it, sent after its commit.

While an update is handled, the bot's posting calls (``send*``, ``edit*``, deletes, callback
answers) are not made: ``ReplyBot`` records them on the update's scope and returns what Telegram
would (a message with no real id yet). Just before the commit the recorded calls become one outbox
row (kind "reply") in the update's own transaction; after the commit they are made in order and
the row is deleted (it exists only while calls are still to be made). So no reply leaves before
the data it reports is stored; a reply is not lost to a kill after the commit (the next start
sends pending replies before any new update); and a reply is repeated only when a kill falls
between Telegram taking it and the row being deleted, at most the replies in flight then. File
uploads (letters, exports, charts) are made after the commit in their place from memory, not
stored: after a kill the person asks again. A handler that needs Telegram's real answer now (the
evidence copy's file id) uses ``immediately()``.

Callback answers go first and at once: they are not messages, so a toast never waits for the
message budget. Under a rate limiter the other calls join the chat's lane (``Lanes``), which makes
them in order behind the chat's earlier replies while the update's slot goes to the next update.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.broadcasting.limiter import retry_seconds
from bot.broadcasting.outbox import mark_blocked
from bot.broadcasting.services import outbox_rows as rows
from bot.core.runtime import Scope, Services, current_scope, run_effect, unit_of_work

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=10)
"""A reply row is the update's own to send; the sender's passes leave it alone this long."""
DEFERRED = frozenset(
    {
        "answerCallbackQuery",
        "copyMessage",
        "deleteMessage",
        "deleteMessages",
        "forwardMessage",
        "pinChatMessage",
        "unpinChatMessage",
    }
)
"""Posting calls besides every ``send*`` (but ``sendChatAction``) and ``edit*`` call."""
EDITS_THAT_CAN_BE_SENT = frozenset({"editMessageText"})
"""An edit of a message that is gone is sent as a new message instead (edit_or_send's rule)."""
RESENT_KEYS = ("chat_id", "text", "parse_mode", "reply_markup", "link_preview_options", "entities")
IGNORED = ("not modified", "query is too old", "query id is invalid", "message to delete not found")
"""Refusals that mean the call's effect is already there (or no longer matters)."""
GONE = ("message to edit not found", "can't be edited", "message not found")
ANSWER = "answerCallbackQuery"

_immediate: ContextVar[bool] = ContextVar("pact_reply_immediate", default=False)


@dataclass
class Call:
    """One recorded Bot API call: its stored parameters, or (a file upload) its data in memory."""

    endpoint: str
    params: dict[str, str] | None
    upload: dict[str, Any] | None = None

    def stored(self) -> dict[str, Any]:
        """The form kept in the outbox row (an upload is kept as a marker only)."""
        if self.params is None:
            return {"m": self.endpoint, "upload": True}
        return {"m": self.endpoint, "p": self.params}

    @classmethod
    def from_stored(cls, item: dict[str, Any]) -> Call:
        """Back from the outbox row."""
        return cls(str(item["m"]), item.get("p"))


class Lanes:
    """Per chat, the replies still to make after their commit, made in order across updates.

    An update hands its messages to its chat's lane and is done, so a burst of presses is not
    held to the message budget's pace: each press is answered as soon as it is handled, and its
    messages follow in the chat's order at the pace the rate limiter allows. Rows whose calls
    are all made are deleted together, one transaction for all that finished meanwhile.
    """

    def __init__(self) -> None:
        self._tails: dict[int, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._made: list[int] = []
        self._deleting: asyncio.Task[None] | None = None

    def add(self, chat: int, work: Callable[[], Awaitable[object]]) -> None:
        """Queue work behind the chat's earlier work."""
        task = asyncio.create_task(_after(self._tails.get(chat), work))
        self._tails[chat] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._forget(chat, done))

    def _forget(self, chat: int, task: asyncio.Task[None]) -> None:
        """A finished task leaves; the chat's lane goes when its last task is done."""
        self._tasks.discard(task)
        if self._tails.get(chat) is task:
            del self._tails[chat]

    def busy(self, chat: int) -> bool:
        """Whether the chat has replies still queued."""
        return chat in self._tails

    def made(self, services: Services, row_id: int) -> None:
        """A row's calls are all made: delete it soon, with the others made meanwhile."""
        self._made.append(row_id)
        if self._deleting is None or self._deleting.done():
            self._deleting = asyncio.create_task(self._delete(services))

    async def _delete(self, services: Services) -> None:
        """Delete the made rows in one transaction, again while more come."""
        while self._made:
            ids, self._made = self._made, []
            try:
                async with unit_of_work(services) as scope:
                    await rows.forget(scope.session, *ids)
            except Exception as error:
                log.warning("%d made replies kept (%s)", len(ids), type(error).__name__)

    async def settled(self, chat: int | None = None) -> None:
        """Wait until the chat's queued replies (every chat's when None) are made and deleted."""
        while tails := self._waiting_on(chat):
            await asyncio.wait(tails)
        if self._deleting is not None:
            await asyncio.wait([self._deleting])

    def _waiting_on(self, chat: int | None) -> list[asyncio.Task[None]]:
        """The tasks settled() waits for now."""
        if chat is None:
            return list(self._tails.values())
        tail = self._tails.get(chat)
        return [tail] if tail is not None else []

    async def close(self) -> None:
        """Stop what is still queued (the inbox's drain was its time; the rows stay stored and
        the next start sends them first), then delete the rows already made."""
        left = set(self._tasks)
        if left:
            log.warning("%d replies still queued at shutdown: sent at the next start", len(left))
            for task in left:
                task.cancel()
            await asyncio.wait(left, timeout=1)
        if self._deleting is not None:
            await asyncio.wait([self._deleting], timeout=1)


async def _after(before: asyncio.Task[None] | None, work: Callable[[], Awaitable[object]]) -> None:
    """Run the work once the chat's earlier work is over (however it ended)."""
    if before is not None:
        await asyncio.wait([before])
    await run_effect(work)


class ReplyBot(ExtBot[None]):
    """The Application's bot: posting calls made while an update is handled are recorded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self.lanes = Lanes()

    async def shutdown(self) -> None:
        """Stop queued replies (kept for the next start) before the connections close."""
        await self.lanes.close()
        await super().shutdown()

    async def _do_post(self, endpoint: str, data: dict[str, Any], **timeouts: Any) -> Any:
        """Record a posting call on the capturing scope; make every other call now."""
        scope = _capturing(endpoint)
        if scope is None:
            chat = _chat_id(data.get("chat_id")) if _posts(endpoint) else None
            if chat is not None and self.lanes.busy(chat):
                await self.lanes.settled(chat)  # a message made now keeps the chat's order
            return await super()._do_post(endpoint, data, **timeouts)
        request = RequestData([RequestParameter.from_input(k, v) for k, v in data.items()])
        assert scope.replies is not None
        if request.contains_files:
            scope.replies.append(Call(endpoint, None, dict(data)))
        elif endpoint == ANSWER:
            _answer_once(scope.replies, Call(endpoint, request.json_parameters))
        else:
            scope.replies.append(Call(endpoint, request.json_parameters))
        return _as_telegram_would(endpoint, data, scope)

    async def make(self, call: Call) -> None:
        """Make a recorded call now (after the commit), through the rate limiter."""
        if call.upload is not None:
            await super()._do_post(call.endpoint, call.upload)
        elif call.params is not None:
            await super()._do_post(call.endpoint, dict(call.params))


def _answer_once(calls: list[Call], answer: Call) -> None:
    """A press is answered once (a later answer in the update replaces the earlier one), and
    before the update's other calls: a toast is not a message, so it never waits for one."""
    query = (answer.params or {}).get("callback_query_id")
    for index, call in enumerate(calls):
        if (
            call.endpoint == answer.endpoint
            and (call.params or {}).get("callback_query_id") == query
        ):
            calls[index] = answer
            return
    calls.insert(_answers(calls), answer)


def _answers(calls: Sequence[Call]) -> int:
    """How many callback answers lead the calls."""
    return next((n for n, call in enumerate(calls) if call.endpoint != ANSWER), len(calls))


def _capturing(endpoint: str) -> Scope | None:
    """The scope recording this call, or None when it must be made now."""
    if _immediate.get() or not _posts(endpoint):
        return None
    try:
        scope = current_scope()
    except RuntimeError:
        return None
    return scope if scope.replies is not None else None


def _posts(endpoint: str) -> bool:
    """Whether the call posts into a chat (and so waits for the commit)."""
    if endpoint == "sendChatAction":
        return False
    return endpoint.startswith(("send", "edit")) or endpoint in DEFERRED


def _as_telegram_would(endpoint: str, data: dict[str, Any], scope: Scope) -> Any:
    """The answer the caller expects: True, or a message with id 0 (the real one comes later)."""
    if endpoint in DEFERRED and endpoint != "copyMessage":
        return True
    if endpoint == "copyMessage":
        return {"message_id": 0}
    if endpoint.startswith("edit") and data.get("inline_message_id"):
        return True
    chat = data.get("chat_id")
    chat_id = chat if isinstance(chat, int) else int(chat) if str(chat).lstrip("-").isdigit() else 0
    message: dict[str, Any] = {
        "message_id": int(data.get("message_id") or 0),
        "date": int(scope.extra.get("reply_clock", 0)),
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
    }
    if isinstance(data.get("text"), str):
        message["text"] = data["text"]
    return message


@contextlib.contextmanager
def immediately() -> Iterator[None]:
    """Make calls at once inside this block (for a handler that needs Telegram's real answer)."""
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


def capture(scope: Scope, now: datetime) -> None:
    """Start recording this update's replies."""
    scope.replies = []
    scope.extra["reply_clock"] = now.timestamp()


async def finish(scope: Scope) -> None:
    """Run the handlers' after-commit replies (still recorded) so they keep their order."""
    while scope.deferred_replies and scope.replies is not None:
        effect = scope.deferred_replies.pop(0)
        try:
            await effect()
        except Exception as error:
            log.warning("a reply after the commit failed: %s", type(error).__name__)


async def store(scope: Scope, services: Services, bot: ReplyBot, chat_id: int | None) -> None:
    """Keep the recorded calls as one outbox row in this transaction, sent once it commits."""
    calls, scope.replies = scope.replies, None
    if not calls:
        return
    now = services.clock.now()
    user = scope.user
    own = user is not None and chat_id == user.telegram_id
    row = await rows.add(
        scope.session,
        kind=rows.REPLY,
        chat_id=chat_id if chat_id is not None else 0,
        payload={"method": "calls", "calls": [call.stored() for call in calls]},
        now=now,
        user_id=user.id if own and user is not None else None,
        not_before=now + GRACE,
    )
    assert row is not None
    direct = rows.Direct(row.id, row.kind, row.chat_id or 0, row.user_id, dict(row.payload), 0)
    scope.effects.insert(0, lambda: answer_then_queue(bot, services, direct, calls))


async def answer_then_queue(
    bot: ReplyBot, services: Services, row: rows.Direct, calls: Sequence[Call]
) -> None:
    """Just after the commit: make the callback answers now, queue the rest on the chat's lane.

    Without a rate limiter nothing waits for a budget: the calls are all made here, in order.
    """
    if bot.rate_limiter is None:
        await deliver(bot, services, row, calls)
        return
    answers = _answers(calls)
    if answers == len(calls):
        await _make(bot, services, row, calls, 0)
    elif not answers or await _make(bot, services, row, calls, 0, answers):
        bot.lanes.add(row.chat_id, lambda: _make(bot, services, row, calls, answers))


async def _make(
    bot: ReplyBot,
    services: Services,
    row: rows.Direct,
    calls: Sequence[Call],
    start: int,
    stop: int | None = None,
) -> bool:
    """Make the calls from start (to stop); the row is deleted with others once all are made,
    or kept to resume at the call that failed. True if no call failed."""
    done, error = await _play(bot, row, calls, start, stop)
    if error is not None:
        await _record(services, row, done, error)
        return False
    if done == len(calls):
        services.metrics.send("reply", None)
        bot.lanes.made(services, row.id)
    return True


async def deliver(
    bot: ReplyBot, services: Services, row: rows.Direct, calls: Sequence[Call] | None = None
) -> bool:
    """Make a reply row's calls from where it stopped, then record the outcome; True if done."""
    if calls is None:
        calls = [Call.from_stored(item) for item in row.payload.get("calls", [])]
    start = int(row.payload.get("done", 0))
    done, error = await _play(bot, row, calls, start)
    return await _record(services, row, done, error)


async def _record(
    services: Services, row: rows.Direct, done: int, error: TelegramError | None
) -> bool:
    """Forget a row whose calls are all made, or keep it to resume at the call that failed."""
    services.metrics.send("reply", error)
    now = services.clock.now()
    async with unit_of_work(services) as scope:
        session = scope.session
        if error is None:
            await rows.forget(session, row.id)
            return True
        reason = type(error).__name__
        if isinstance(error, RetryAfter):
            await rows.resume_at(
                session, row.id, done, now + timedelta(seconds=retry_seconds(error))
            )
        elif isinstance(error, Forbidden):
            await rows.forget(session, row.id)
            if row.user_id is not None:
                await mark_blocked(session, row.user_id, now)
        else:
            payload = dict(row.payload, done=done)
            waiting = rows.Direct(row.id, row.kind, row.chat_id, row.user_id, payload, row.attempts)
            if not await rows.retry_later(session, waiting, reason, now):
                await rows.forget(session, row.id)  # given up: logged below, nothing kept
    log.warning("reply %s stopped at call %d: %s", row.id, done, reason)
    return False


async def _play(
    bot: ReplyBot, row: rows.Direct, calls: Sequence[Call], start: int, stop: int | None = None
) -> tuple[int, TelegramError | None]:
    """Make the calls from start (to stop) in order; (calls done, the error that stopped them)."""
    end = len(calls) if stop is None else stop
    for index in range(start, end):
        call = calls[index]
        if call.params is None and call.upload is None:
            log.info("reply %s: a file upload lost at a restart is not sent", row.id)
            continue
        try:
            await bot.make(call)
        except BadRequest as error:
            await _after_refusal(bot, row, call, error)
        except Forbidden as error:
            if _chat_of(call) == row.chat_id and row.user_id is not None:
                return index, error
            log.warning("reply %s: %s refused by another chat", row.id, call.endpoint)
        except TimedOut:
            log.warning("reply %s: %s timed out (Telegram may have it)", row.id, call.endpoint)
        except TelegramError as error:
            return index, error
    return end, None


async def _after_refusal(bot: ReplyBot, row: rows.Direct, call: Call, error: BadRequest) -> None:
    """A refused call: fine if already in effect, sent anew if it edits a gone message."""
    message = str(error).lower()
    if any(sign in message for sign in IGNORED):
        return
    if call.endpoint in EDITS_THAT_CAN_BE_SENT and call.params and any(s in message for s in GONE):
        params = {k: v for k, v in call.params.items() if k in RESENT_KEYS}
        with contextlib.suppress(BadRequest):
            await bot.make(Call("sendMessage", params))
        return
    log.warning("reply %s: %s refused (%s)", row.id, call.endpoint, type(error).__name__)


def _chat_of(call: Call) -> int | None:
    """The chat a recorded call posts into."""
    value = (call.params or call.upload or {}).get("chat_id")
    try:
        return int(json.loads(value)) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        return None


def _chat_id(value: Any) -> int | None:
    """A call's chat id as a number (None for none or a @name)."""
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


async def deliver_pending(bot: ReplyBot, services: Services) -> int:
    """At start: send every reply left pending by the last run, oldest first; how many."""
    async with unit_of_work(services) as scope:
        found = await rows.pending_replies(scope.session)
    sent = 0
    for row in found:
        sent += await deliver(bot, services, row)
    return sent
