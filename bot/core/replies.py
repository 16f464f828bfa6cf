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
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Sequence
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
from bot.core.runtime import Scope, Services, current_scope, unit_of_work

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


class ReplyBot(ExtBot[None]):
    """The Application's bot: posting calls made while an update is handled are recorded."""

    async def _do_post(self, endpoint: str, data: dict[str, Any], **timeouts: Any) -> Any:
        """Record a posting call on the capturing scope; make every other call now."""
        scope = _capturing(endpoint)
        if scope is None:
            return await super()._do_post(endpoint, data, **timeouts)
        request = RequestData([RequestParameter.from_input(k, v) for k, v in data.items()])
        assert scope.replies is not None
        if request.contains_files:
            scope.replies.append(Call(endpoint, None, dict(data)))
        elif endpoint == "answerCallbackQuery":
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
    """A press is answered once: a later answer in the same update replaces the earlier one."""
    query = (answer.params or {}).get("callback_query_id")
    for index, call in enumerate(calls):
        if (
            call.endpoint == answer.endpoint
            and (call.params or {}).get("callback_query_id") == query
        ):
            calls[index] = answer
            return
    calls.append(answer)


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
    scope.effects.insert(0, lambda: deliver(bot, services, direct, calls))


async def deliver(
    bot: ReplyBot, services: Services, row: rows.Direct, calls: Sequence[Call] | None = None
) -> bool:
    """Make a reply row's calls from where it stopped, then record the outcome; True if done."""
    if calls is None:
        calls = [Call.from_stored(item) for item in row.payload.get("calls", [])]
    start = int(row.payload.get("done", 0))
    done, error = await _play(bot, row, calls, start)
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
    bot: ReplyBot, row: rows.Direct, calls: Sequence[Call], start: int
) -> tuple[int, TelegramError | None]:
    """Make the calls in order; (calls done, the error that stopped them or None)."""
    for index in range(start, len(calls)):
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
    return len(calls), None


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


async def deliver_pending(bot: ReplyBot, services: Services) -> int:
    """At start: send every reply left pending by the last run, oldest first; how many."""
    async with unit_of_work(services) as scope:
        found = await rows.pending_replies(scope.session)
    sent = 0
    for row in found:
        sent += await deliver(bot, services, row)
    return sent
