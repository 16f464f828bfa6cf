"""StrictRateLimiter: sliding-window limits, per-chat limits and 429 handling, on virtual time.

Most tests run on an event loop whose clock is virtual: when every task is asleep, the loop jumps
the clock to the earliest wake-up instead of blocking, so concurrency is real (locks, queues,
interleaving) while minutes of limiter waits take milliseconds. The limiter gets that loop's
clock and ``asyncio.sleep`` (which advances it) as its injected ``clock`` and ``sleep``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
import selectors
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram.error import BadRequest, RetryAfter
from telegram.ext import ApplicationBuilder

from bot.broadcasting.limiter import PRUNE_FLOOR, Budget, StrictRateLimiter
from fakeapi import FakeTelegram

EPSILON = 1e-6
LATENCY = 0.05


class JumpingSelector(selectors.DefaultSelector):
    """Instead of blocking until the next timer, moves the loop's virtual clock to it."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Jump ahead by the wait asyncio asked for, then poll without blocking."""
        if timeout is None:
            raise RuntimeError("deadlock: every task waits and no timer is due")
        self._loop.virtual_now += max(timeout, 0.0)
        return super().select(0)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock only moves when every task is sleeping."""

    def __init__(self) -> None:
        self.virtual_now = 0.0
        super().__init__(selector=JumpingSelector(self))

    def time(self) -> float:
        """The virtual time, in seconds since the loop was made."""
        return self.virtual_now


def on_virtual_time(scenario: Callable[[], Coroutine[Any, Any, None]]) -> float:
    """Run a scenario on virtual time; returns the real seconds it took."""
    started = time.perf_counter()
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        runner.run(scenario())
    return time.perf_counter() - started


def make_limiter(**settings: Any) -> StrictRateLimiter:
    """A limiter on the running loop's clock, sleeping with that loop's (virtual) sleep."""
    return StrictRateLimiter(clock=asyncio.get_running_loop().time, sleep=asyncio.sleep, **settings)


@dataclass
class Call:
    """One call the fake Bot API saw: when it started, when its answer came back, which chat."""

    start: float
    chat: Any
    end: float = math.inf


@dataclass
class Recorder:
    """A fake Bot API callback: logs each call's start, answer and chat."""

    calls: list[Call] = field(default_factory=list)
    fail_once: set[Any] = field(default_factory=set)
    always_fail: bool = False
    latency: Callable[[], float] = lambda: LATENCY

    async def call(self, endpoint: str, data: dict[str, Any]) -> bool:
        """Record the start, take a round trip, and answer 429 when told to."""
        loop = asyncio.get_running_loop()
        call = Call(loop.time(), data.get("chat_id"))
        self.calls.append(call)
        await asyncio.sleep(self.latency())
        call.end = loop.time()
        if self.always_fail or call.chat in self.fail_once:
            self.fail_once.discard(call.chat)
            raise RetryAfter(retry_after_seconds(endpoint))
        return True

    def times(self, chat: Any = None) -> list[float]:
        """Start times, of one chat when given."""
        return [call.start for call in self.calls if chat is None or call.chat == chat]


def retry_after_seconds(endpoint: str) -> int:
    """The flood wait the fake callback asks for: 2 s for sendMessage, 1 s otherwise."""
    return 2 if endpoint == "sendMessage" else 1


async def send(
    limiter: StrictRateLimiter,
    recorder: Recorder,
    chat: Any = None,
    endpoint: str = "sendMessage",
    rate_limit_args: int | None = None,
    delay: float = 0.0,
) -> Any:
    """One call through process_request, after an optional delay, like ExtBot makes it."""
    if delay:
        await asyncio.sleep(delay)
    data: dict[str, Any] = {"text": "secret text"}
    if chat is not None:
        data["chat_id"] = chat
    return await limiter.process_request(
        recorder.call, (endpoint, data), {}, endpoint, data, rate_limit_args
    )


def busiest(times: list[float], period: float) -> int:
    """Most moments inside any sliding window (t - period, t]."""
    ordered = sorted(times)
    first = 0
    most = 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - period + EPSILON:
            first += 1
        most = max(most, last - first + 1)
    return most


def most_counted_at_a_start(calls: list[Call], period: float) -> int:
    """Most earlier calls that could still arrive within ``period`` of a later call's start.

    An earlier call counts if its answer was not back, or came back less than ``period``
    before the later call started. Below the limit at every start means that, wherever each
    call lands between its start and its answer, Telegram never sees more than the limit.
    """
    most = 0
    for later, call in enumerate(calls):
        counted = sum(1 for earlier in calls[:later] if earlier.end + period > call.start + EPSILON)
        most = max(most, counted)
    return most


def test_500_private_chats_never_exceed_30_in_any_second() -> None:
    recorder = Recorder()

    async def scenario() -> None:
        limiter = make_limiter()
        chats = list(range(1000, 1500))
        results = await asyncio.gather(*(send(limiter, recorder, chat) for chat in chats))
        assert results == [True] * 500
        assert [call.chat for call in recorder.calls] == chats, "first come, first served"

    real = on_virtual_time(scenario)
    times = recorder.times()
    assert busiest(times, 1.0) == 30
    assert busiest([call.end for call in recorder.calls], 1.0) == 30
    assert most_counted_at_a_start(recorder.calls, 1.0) == 29
    assert max(times) == pytest.approx(16 * (1 + LATENCY)), "about 500/30 s, plus round trips"
    assert real < 5, "virtual time: no real sleeping"


def test_varying_delays_never_put_more_than_30_in_a_second_at_telegram() -> None:
    rng = random.Random(7)
    recorder = Recorder(latency=lambda: 3.0 if rng.random() < 0.05 else rng.uniform(0.005, 0.4))
    arrivals = sorted(rng.uniform(0, 10) for _ in range(900))

    async def scenario() -> None:
        limiter = make_limiter()
        calls = (send(limiter, recorder, 1 + i, delay=at) for i, at in enumerate(arrivals))
        await asyncio.gather(*calls)

    on_virtual_time(scenario)
    assert len(recorder.calls) == 900
    assert most_counted_at_a_start(recorder.calls, 1.0) <= 29
    landed = [rng.uniform(call.start, call.end) for call in recorder.calls]
    assert busiest(landed, 1.0) <= 30
    assert busiest(recorder.times(), 1.0) == 30


def test_one_private_chat_waits_a_second_while_others_proceed() -> None:
    recorder = Recorder()

    async def scenario() -> None:
        limiter = make_limiter()
        same = [send(limiter, recorder, 42) for _ in range(5)]
        early = [send(limiter, recorder, 100 + i) for i in range(10)]
        later = [send(limiter, recorder, 200 + i, delay=0.5) for i in range(10)]
        await asyncio.gather(*same, *early, *later)

    on_virtual_time(scenario)
    ours = recorder.times(42)
    assert all(b - a >= 1 + LATENCY - EPSILON for a, b in itertools.pairwise(ours))
    assert ours[-1] == pytest.approx(4 * (1 + LATENCY)), "a second after each answer"
    assert [recorder.times(100 + i)[0] for i in range(10)] == [0.0] * 10
    assert [recorder.times(200 + i)[0] for i in range(10)] == [pytest.approx(0.5)] * 10


def test_group_gets_at_most_20_per_minute() -> None:
    recorder = Recorder()

    async def scenario() -> None:
        limiter = make_limiter()
        group = [send(limiter, recorder, -100123) for _ in range(25)]
        channel = [send(limiter, recorder, "@news") for _ in range(21)]
        private = send(limiter, recorder, 7, delay=1.0)
        await asyncio.gather(*group, *channel, private)

    on_virtual_time(scenario)
    group_times = recorder.times(-100123)
    assert len(group_times) == 25
    assert busiest(group_times, 60.0) == 20
    assert group_times[20] == pytest.approx(60.0 + LATENCY), "a minute after the first answer"
    assert busiest(recorder.times("@news"), 60.0) == 20
    assert recorder.times(7)[0] < 2.0, "a busy group does not hold up others"


def test_retry_after_pauses_everything_then_retries(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder(fail_once={987654})

    async def scenario() -> None:
        limiter = make_limiter()
        failing = send(limiter, recorder, 987654)
        others = [send(limiter, recorder, 2000 + i, delay=0.5) for i in range(5)]
        button = send(limiter, recorder, endpoint="answerCallbackQuery", delay=0.5)
        assert await asyncio.gather(failing, *others, button) == [True] * 7

    with caplog.at_level(logging.WARNING, logger="bot.broadcasting.limiter"):
        on_virtual_time(scenario)
    resume = LATENCY + 2
    assert recorder.times(987654) == [0.0, pytest.approx(resume)]
    assert all(at == pytest.approx(resume) for at in recorder.times()[1:])
    assert len(recorder.calls) == 8, "every call made it, the refused one twice"
    assert "pausing all calls for 2.0 s" in caplog.text
    assert "987654" not in caplog.text and "secret" not in caplog.text


def test_retries_exhausted_the_error_propagates() -> None:
    recorder = Recorder(always_fail=True)

    async def scenario() -> None:
        limiter = make_limiter(max_retries=2)
        with pytest.raises(RetryAfter):
            await send(limiter, recorder, 5, endpoint="editMessageText")

    on_virtual_time(scenario)
    times = recorder.times()
    assert len(times) == 3
    assert times[1] - times[0] == pytest.approx(LATENCY + 1)
    assert times[2] - times[1] == pytest.approx(LATENCY + 1)


@pytest.mark.parametrize(("override", "attempts"), [(0, 1), (1, 2), (None, 4)])
def test_rate_limit_args_override_max_retries(override: int | None, attempts: int) -> None:
    recorder = Recorder(always_fail=True)

    async def scenario() -> None:
        limiter = make_limiter(max_retries=3)
        with pytest.raises(RetryAfter):
            await send(limiter, recorder, 5, endpoint="copyMessage", rate_limit_args=override)

    on_virtual_time(scenario)
    assert len(recorder.calls) == attempts


def test_other_errors_propagate_untouched() -> None:
    calls = 0

    async def refuse(*_: Any) -> bool:
        nonlocal calls
        calls += 1
        raise BadRequest("Chat not found")

    async def scenario() -> None:
        limiter = make_limiter()
        data = {"chat_id": 1, "text": "x"}
        with pytest.raises(BadRequest):
            await limiter.process_request(refuse, (), {}, "sendMessage", data, None)

    on_virtual_time(scenario)
    assert calls == 1


def test_calls_without_a_chat_are_not_limited() -> None:
    recorder = Recorder()
    free = ["answerCallbackQuery", "answerInlineQuery", "getMe", "getUpdates", "getFile"]

    async def scenario() -> None:
        limiter = make_limiter()
        unlimited = [send(limiter, recorder, endpoint=name) for name in free * 20]
        lookups = [send(limiter, recorder, -100123, endpoint="getChatMember") for _ in range(50)]
        await asyncio.gather(*unlimited, *lookups)
        await asyncio.gather(*(send(limiter, recorder, 1 + i) for i in range(30)))

    on_virtual_time(scenario)
    assert len(recorder.calls) == 180
    times = recorder.times()
    assert times[:150] == [0.0] * 150, "no waiting for calls that post into no chat"
    assert times[150:] == [pytest.approx(LATENCY)] * 30, "and they used none of the budget"


def test_a_call_holds_its_place_until_its_answer_is_back() -> None:
    recorder = Recorder(latency=lambda: 3.0)

    async def scenario() -> None:
        limiter = make_limiter()
        slow = [send(limiter, recorder, 1 + i) for i in range(30)]
        await asyncio.gather(*slow, send(limiter, recorder, 99, delay=0.1))

    on_virtual_time(scenario)
    assert recorder.times(99) == [pytest.approx(4.0)], "one second after the first answer"


def test_idle_chats_are_forgotten() -> None:
    recorder = Recorder()

    async def scenario() -> None:
        limiter = make_limiter()
        for batch in range(6):
            chats = range(batch * 100, batch * 100 + 100)
            await asyncio.gather(*(send(limiter, recorder, 1 + chat) for chat in chats))
        assert len(limiter._chats) <= PRUNE_FLOOR

    on_virtual_time(scenario)
    assert len(recorder.calls) == 600


def test_replies_go_first_and_both_lanes_together_stay_within_30_a_second() -> None:
    recorder = Recorder()
    reply_starts: list[float] = []

    async def reply(replies: StrictRateLimiter, chat: int, at: float) -> None:
        """A reply asked for at ``at``; records how long it waited."""
        await asyncio.sleep(at)
        asked = asyncio.get_running_loop().time()
        await send(replies, recorder, chat)
        reply_starts.append(recorder.times(chat)[-1] - asked)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        budget = Budget(30, clock=loop.time, sleep=asyncio.sleep)
        bulk = StrictRateLimiter(budget=budget)
        replies = StrictRateLimiter(budget=budget, priority=True, private_per_second=None)
        broadcast = [send(bulk, recorder, 10_000 + i) for i in range(300)]
        answers = [reply(replies, 7, 2.0 + i * 0.25) for i in range(12)]
        answers += [reply(replies, 100 + i, 3.0) for i in range(20)]
        await asyncio.gather(*broadcast, *answers)

    on_virtual_time(scenario)
    assert len(recorder.calls) == 332
    assert most_counted_at_a_start(recorder.calls, 1.0) <= 29, "never more than 30 in a second"
    assert busiest(recorder.times(), 1.0) == 30, "the budget is used in full"
    assert max(reply_starts) <= 1.0 + LATENCY + EPSILON, "a reply waits at most for one window"
    assert recorder.times(7) == sorted(recorder.times(7)), "one chat's replies keep their order"
    gaps = [b - a for a, b in itertools.pairwise(recorder.times(7))]
    assert min(gaps) < 0.5, "replies to one person are not held a second apart"
    bulk_times = [c.start for c in recorder.calls if c.chat >= 10_000]
    assert max(bulk_times) > max(recorder.times(7)), "the broadcast went on around the replies"


def test_a_429_in_one_lane_pauses_the_other() -> None:
    recorder = Recorder(fail_once={55})

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        budget = Budget(30, clock=loop.time, sleep=asyncio.sleep)
        bulk = StrictRateLimiter(budget=budget)
        replies = StrictRateLimiter(budget=budget, priority=True, private_per_second=None)
        await asyncio.gather(send(bulk, recorder, 55), send(replies, recorder, 7, delay=0.5))

    on_virtual_time(scenario)
    [reply] = recorder.times(7)
    assert reply >= LATENCY + retry_after_seconds("sendMessage") - EPSILON, "held by the pause"


def test_rejects_nonsense_settings() -> None:
    nonsense = ({"overall_per_second": 0}, {"private_per_second": 0}, {"max_retries": -1})
    for settings in (*nonsense, {"group_per_minute": 0}):
        with pytest.raises(ValueError):
            StrictRateLimiter(**settings)


async def test_application_delivers_every_message_through_429s(fake: FakeTelegram) -> None:
    users = [fake.user(user_id=5000 + i) for i in range(40)]
    fake.inject_429(share=0.2, retry_after=1, methods={"sendMessage"}, seed=1)
    app = (
        ApplicationBuilder()
        .token("1:A")
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .rate_limiter(StrictRateLimiter())
        .build()
    )
    started = time.monotonic()
    async with app:
        sends = (app.bot.send_message(user.user_id, f"news {i}") for i, user in enumerate(users))
        await asyncio.gather(*sends)
    elapsed = time.monotonic() - started
    assert [len(fake.user(user.user_id).messages) for user in users] == [1] * 40
    assert fake.flood.injected > 0
    assert elapsed < 5
