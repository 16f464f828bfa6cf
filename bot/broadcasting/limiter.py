"""A strict sliding-window rate limiter for PTB, so the bot never trips Telegram's flood control.

Telegram's limits are per bot, so the replying bot and the sending bot share one ``Budget``:
replies to the person typing go first, the outbox takes what is left, and together they never
make more than ``overall_per_second`` calls in any sliding second.

PTB's ``AIORateLimiter`` averages 30 calls per second but lets about twice that through in its
busiest second and, by default, drops a call answered with 429. ``StrictRateLimiter`` counts
calls in sliding windows instead, so no 1-second window ever holds more than
``overall_per_second`` of them, and it retries a call Telegram refused after pausing every call
for the ``retry_after`` Telegram asked for.

Telegram counts a call when it arrives, somewhere between the moment we start it and the moment
its answer is back, and how long that takes varies: on loopback a stalled event loop delayed a
burst by 150-190 ms while later calls took 4 ms, and a window over start times then let 33 calls
arrive within one second. So a call holds its place in a window from its start until one period
after its answer is back (1 s for the overall and private-chat limits, 60 s for groups). Whatever
the delays, Telegram then never sees more than the limit in any sliding window; the price is a
steady rate of ``overall_per_second`` per (1 s + round trip), e.g. 28.6/s at 50 ms.

Which calls count follows ``AIORateLimiter``: a call counts when its parameters name a
``chat_id`` (everything that sends or edits into a chat); calls without one (``getMe``,
``answerCallbackQuery``, ``answerInlineQuery``, ...) only honour a 429 pause. ``getUpdates``
never reaches a rate limiter at all. Unlike ``AIORateLimiter``, read-only chat look-ups
(``getChat``, ``getChatMember``, ...) are not counted, because they post nothing, and
``allow_paid_broadcast`` gets no higher limit: such calls count like any other send.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, Result]]
ChatKey = int | str

OVERALL_PERIOD = 1.0
GROUP_PERIOD = 60.0
RECHECK = 0.05
"""Seconds between looks while every place is held by a call still waiting for its answer."""
LOOKUPS = frozenset(
    {
        "getChat",
        "getChatAdministrators",
        "getChatMember",
        "getChatMemberCount",
        "getUserChatBoosts",
    }
)
"""Read-only methods that take a chat_id but post nothing, so they use no chat's budget."""
PRUNE_FLOOR = 512
"""Chat gates kept before idle ones are dropped, so a long-running bot's memory stays bounded."""


class SlidingWindow:
    """At most ``limit`` calls counted at once, each from its start to ``period`` after its answer.

    A call arrives at Telegram between those two moments, so no window of ``period`` seconds on
    Telegram's side can hold more than ``limit`` arrivals, whatever the network delays.
    """

    def __init__(self, limit: int, period: float) -> None:
        self._limit = limit
        self._period = period
        self._running = 0
        self._until: list[float] = []

    def free_at(self, now: float) -> float:
        """When a call may start: -inf if now, inf if only an answer can free a place."""
        self._forget(now)
        excess = self._running + len(self._until) - self._limit
        if excess < 0:
            return -math.inf
        return self._until[excess] if excess < len(self._until) else math.inf

    def busy(self, now: float) -> bool:
        """True while any call still counts, so the window must be kept."""
        self._forget(now)
        return self._running > 0 or bool(self._until)

    def _forget(self, now: float) -> None:
        """Drop answered calls whose period is over."""
        del self._until[: bisect.bisect_right(self._until, now)]

    def start(self) -> None:
        """Count a call that starts now until its answer is back."""
        self._running += 1

    def finish(self, now: float) -> None:
        """The call's answer is back: it keeps counting for one more period."""
        self._running -= 1
        bisect.insort(self._until, now + self._period)


@dataclass
class ChatGate:
    """One chat's window plus a lock, so that chat's calls start in order and apart."""

    window: SlidingWindow | None
    """None: no per-chat limit (a private chat's replies)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Budget:
    """The bot's overall window and 429 pause, shared by its limiters; replies go first.

    Telegram's limits are per bot token, so the replying bot and the sending bot draw from one
    budget. A call of a priority limiter (replies to the people typing) starts as soon as the
    window has room; a bulk call (the outbox) waits while any priority call is waiting, so bulk
    sends take only what replies leave. Checking the window and starting the call happen with no
    await between them, so the two lanes together never exceed the limit.
    """

    def __init__(
        self,
        overall_per_second: int = 30,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        _require(overall_per_second >= 1, "overall_per_second must be at least 1")
        self.window = SlidingWindow(overall_per_second, OVERALL_PERIOD)
        self.paused_until = -math.inf
        self.clock = clock
        self.sleep = sleep
        self._locks = {True: asyncio.Lock(), False: asyncio.Lock()}
        self._priority_waiting = 0
        self.floods = 0
        """429 answers seen (read by /metrics)."""

    async def take(self, priority: bool) -> None:
        """Wait for a place in the window (behind every waiting priority call unless one)."""
        async with self._locks[priority]:
            if priority:
                self._priority_waiting += 1
            try:
                await wait_until(self.clock, self.sleep, lambda now: self._free_at(now, priority))
            finally:
                if priority:
                    self._priority_waiting -= 1
            self.window.start()

    def _free_at(self, now: float, priority: bool) -> float:
        """When a call of this lane may start: after any pause, once the window has room."""
        if not priority and self._priority_waiting:
            return math.inf
        return max(self.paused_until, self.window.free_at(now))

    async def unpaused(self) -> None:
        """Wait out a 429 pause (calls that count against no window)."""
        await wait_until(self.clock, self.sleep, lambda _: self.paused_until)

    def pause(self, seconds: float) -> None:
        """Hold every new call of every lane until Telegram's deadline."""
        self.floods += 1
        self.paused_until = max(self.paused_until, self.clock() + seconds)


async def wait_until(
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    deadline: Callable[[float], float],
) -> None:
    """Sleep until ``deadline(now)`` has passed, re-read since answers and 429s move it."""
    while (delay := deadline(now := clock()) - now) > 0:
        await sleep(RECHECK if delay == math.inf else delay)


class StrictRateLimiter(BaseRateLimiter[int]):
    """Never more than ``overall_per_second`` calls in any sliding second; 429s pause and retry.

    ``rate_limit_args`` (an int) overrides ``max_retries`` for one call. ``clock`` and ``sleep``
    are injectable so tests can run on virtual time. Given a shared ``budget``, the overall limit
    and 429 pauses are those of the budget, with ``priority`` choosing the lane; a
    ``private_per_second`` of None puts no per-chat limit on private chats (replies).
    """

    def __init__(
        self,
        overall_per_second: int = 30,
        private_per_second: float | None = 1.0,
        group_per_minute: int = 20,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        budget: Budget | None = None,
        priority: bool = False,
    ) -> None:
        _require(overall_per_second >= 1, "overall_per_second must be at least 1")
        _require(
            private_per_second is None or private_per_second > 0,
            "private_per_second must be positive",
        )
        _require(group_per_minute >= 1, "group_per_minute must be at least 1")
        _require(max_retries >= 0, "max_retries must not be negative")
        self._overall_limit = overall_per_second
        self._private_period = None if private_per_second is None else 1.0 / private_per_second
        self._group_limit = group_per_minute
        self._max_retries = max_retries
        self._clock = budget.clock if budget is not None else clock
        self._sleep = budget.sleep if budget is not None else sleep
        self._shared = budget
        self._priority = priority
        self._reset()

    def _reset(self) -> None:
        """Forget every chat (and, unless shared, every call and pause): fresh locks."""
        if self._shared is None:
            self._budget = Budget(self._overall_limit, self._clock, self._sleep)
        else:
            self._budget = self._shared
        self._chats: dict[ChatKey, ChatGate] = {}
        self._prune_at = PRUNE_FLOOR

    async def initialize(self) -> None:
        """Start from a clean slate, so a limiter reused by a new event loop has fresh locks."""
        self._reset()

    async def shutdown(self) -> None:
        """Drop the per-chat state; nothing else holds resources."""
        self._chats.clear()

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Start the call when the limits allow; on 429 pause everyone, then retry the same call."""
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        chat = chat_key(endpoint, data)
        attempt = 0
        while True:
            windows = await self._admit(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self._pause(endpoint, retry_seconds(exc), attempt, retries)
                if attempt >= retries:
                    raise
                attempt += 1
            finally:
                self._finish(windows)

    def _pause(self, endpoint: str, seconds: float, attempt: int, retries: int) -> None:
        """Hold every new call until Telegram's deadline; log without chat ids or content."""
        self._budget.pause(seconds)
        if attempt >= retries:
            log.warning("flood control on %s: giving up after %d retries", endpoint, retries)
        else:
            log.warning(
                "flood control on %s: pausing all calls for %.1f s (retry %d of %d)",
                endpoint,
                seconds,
                attempt + 1,
                retries,
            )

    async def _admit(self, chat: ChatKey | None) -> list[SlidingWindow]:
        """Return at the moment the call may start, with the windows it now counts in."""
        if chat is None:
            await self._budget.unpaused()
            return []
        async with self._gate(chat) as gate:
            if gate.window is not None:
                await wait_until(self._clock, self._sleep, gate.window.free_at)
            await self._budget.take(self._priority)
            windows = [self._budget.window]
            if gate.window is not None:
                gate.window.start()
                windows.append(gate.window)
            return windows

    def _finish(self, windows: list[SlidingWindow]) -> None:
        """The call's answer (or error) is back: its places free up one period from now."""
        now = self._clock()
        for window in windows:
            window.finish(now)

    @contextlib.asynccontextmanager
    async def _gate(self, chat: ChatKey) -> AsyncIterator[ChatGate]:
        """Hold the chat's lock, so its calls queue in order without blocking other chats."""
        gate = self._gate_for(chat)
        gate.users += 1
        try:
            async with gate.lock:
                yield gate
        finally:
            gate.users -= 1

    def _gate_for(self, chat: ChatKey) -> ChatGate:
        """The chat's gate, created on first use with the private or the group window."""
        gate = self._chats.get(chat)
        if gate is None:
            self._prune()
            gate = self._chats[chat] = ChatGate(self._chat_window(chat))
        return gate

    def _chat_window(self, chat: ChatKey) -> SlidingWindow | None:
        """Groups, supergroups and channels (negative ids, @names) get the per-minute window."""
        if isinstance(chat, str) or chat < 0:
            return SlidingWindow(self._group_limit, GROUP_PERIOD)
        return None if self._private_period is None else SlidingWindow(1, self._private_period)

    def _prune(self) -> None:
        """Drop gates nobody waits on and whose window is empty; amortised by doubling the bar."""
        if len(self._chats) < self._prune_at:
            return
        now = self._clock()
        self._chats = {
            chat: gate
            for chat, gate in self._chats.items()
            if gate.users or (gate.window is not None and gate.window.busy(now))
        }
        self._prune_at = max(PRUNE_FLOOR, 2 * len(self._chats))


def chat_key(endpoint: str, data: dict[str, Any]) -> ChatKey | None:
    """The chat a call posts into (int id or @name), or None when it counts against no limit."""
    chat_id = data.get("chat_id")
    if chat_id is None or endpoint in LOOKUPS:
        return None
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)


def retry_seconds(exc: RetryAfter) -> float:
    """Seconds Telegram asked to wait, read like PTB's own limiter to avoid its v22 int warning."""
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _require(condition: bool, message: str) -> None:
    """Reject a nonsensical setting at construction instead of misbehaving later."""
    if not condition:
        raise ValueError(message)
