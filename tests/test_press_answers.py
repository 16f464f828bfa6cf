"""A press is answered at once: callback answers never wait for the message budget.

The limiter lets answerCallbackQuery through a full budget; an update records its answer before
its messages and makes it right after the commit, while its messages wait in the chat's lane, so
a burst of presses is answered even when every processing slot's messages are still waiting.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.broadcasting.limiter import Budget, StrictRateLimiter
from bot.campaigns.services import hearings as events
from bot.core import replies
from bot.core.jobs import send_broadcasts
from bot.core.runtime import Scope, _current
from db.models import EventRsvp
from tests.campaign_steps import follower
from tests.harness import BotHarness, Person
from tests.test_limiter import LATENCY, Recorder, busiest, on_virtual_time, send

ATTEND = "✅ I will attend"
NOTED = "Noted: you will attend."


def test_callback_answers_pass_a_full_budget() -> None:
    recorder = Recorder()
    answered: list[float] = []

    async def press(limiter: StrictRateLimiter, at: float) -> None:
        await asyncio.sleep(at)
        await send(limiter, recorder, endpoint="answerCallbackQuery")
        answered.append(asyncio.get_running_loop().time() - at)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        budget = Budget(30, clock=loop.time, sleep=asyncio.sleep)
        bulk = StrictRateLimiter(budget=budget)
        replies = StrictRateLimiter(budget=budget, priority=True, private_per_second=None)
        broadcast = [send(bulk, recorder, 10_000 + i) for i in range(300)]
        edits = [send(replies, recorder, 100 + i, endpoint="editMessageText") for i in range(300)]
        presses = [press(replies, 0.5 + i / 100) for i in range(1000)]
        await asyncio.gather(*broadcast, *edits, *presses)

    on_virtual_time(scenario)
    assert len(answered) == 1000
    assert max(answered) <= LATENCY + 1e-6, "no answer waited for the 600 queued messages"
    counted = [call.start for call in recorder.calls if call.chat is not None]
    assert len(counted) == 600
    assert busiest(counted, 1.0) <= 30, "the messages kept to the budget all the same"


async def test_an_update_records_its_callback_answer_before_its_messages() -> None:
    bot = replies.ReplyBot(token="1:TEST")
    scope = Scope(session=None, translator=None)  # type: ignore[arg-type]
    replies.capture(scope, datetime.now(UTC))
    token = _current.set(scope)
    try:
        await bot.edit_message_text("frozen", chat_id=5, message_id=3)
        await bot.send_message(5, "next question")
        await bot.answer_callback_query("q1", text="first")
        await bot.answer_callback_query("q1", text="thanks")
    finally:
        _current.reset(token)
    assert scope.replies is not None
    assert [call.endpoint for call in scope.replies] == [
        "answerCallbackQuery",
        "editMessageText",
        "sendMessage",
    ]
    assert scope.replies[0].params == {"callback_query_id": "q1", "text": "thanks"}


def test_a_chat_lane_keeps_its_order_and_holds_no_other_chat() -> None:
    done: list[str] = []

    def work(name: str, seconds: float) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await asyncio.sleep(seconds)
            done.append(name)

        return run

    async def scenario() -> None:
        lanes = replies.Lanes()
        lanes.add(1, work("1a", 3.0))
        lanes.add(1, work("1b", 0.1))
        lanes.add(2, work("2a", 0.5))
        assert lanes.busy(1) and lanes.busy(2)
        await lanes.settled(2)
        assert done == ["2a"], "chat 2 did not wait for chat 1"
        await lanes.settled(1)
        assert done == ["2a", "1a", "1b"]
        assert not lanes.busy(1)
        lanes.add(3, work("3a", 60.0))
        await lanes.close()
        assert "3a" not in done and not lanes.busy(3), "stopped at shutdown, its row kept"

    on_virtual_time(scenario)


def _hold(budget: Budget) -> int:
    """Take every place of the budget's window (as calls awaiting their answers); how many."""
    held = 0
    while budget.window.free_at(budget.clock()) != math.inf:
        budget.window.start()
        held += 1
    return held


def _release(budget: Budget, held: int) -> None:
    """Give the places back as if their period ended already."""
    past = budget.clock() - 1.0
    for _ in range(held):
        budget.window.finish(past)


async def _invited(bot: BotHarness, count: int) -> list[Person]:
    """People following hearings, each sent an event's invitation with its RSVP buttons."""
    people = [await follower(bot, f"P{n}", "⬜ Public hearings and events") for n in range(count)]
    now = bot.clock.now()
    async with bot.app.services.sessions() as session, session.begin():
        event = await events.create(
            session,
            title="Budget hearing",
            municipality_id=None,
            place="Town hall",
            starts_at=now + timedelta(days=7),
            description="",
            by_user_id=None,
            now=now,
        )
        await events.announce(session, event, bot.app.services.i18n, now, None)
    assert await send_broadcasts(bot.app) == count
    return people


async def test_a_burst_of_presses_is_answered_while_its_replies_wait(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, max_concurrent_updates=2)
    await bot.start()
    try:
        people = await _invited(bot, 6)
        budget = bot.app.services.rate_budget
        held = _hold(budget)
        ids = [await person.fake.press(ATTEND) for person in people]

        def answered() -> bool:
            return all(any(a.get("text") == NOTED for a in p.fake.callback_answers) for p in people)

        await fake.wait_until(answered)
        assert not any(p.seen("✅ Noted: you will attend") for p in people), "no budget yet"
        async with bot.app.services.sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(EventRsvp))
        assert stored == 6, "every press handled and committed, more than the 2 slots"

        _release(budget, held)
        for update_id in ids:
            await bot.settle(update_id)
        for person, update_id in zip(people, ids, strict=True):
            assert "✅ Noted: you will attend" in person.last.text
            query = str(fake.queue.sent[update_id]["callback_query"]["id"])
            methods = [c.method for c in fake.calls]
            answer = next(
                n
                for n, c in enumerate(fake.calls)
                if c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query
            )
            reply = next(
                n
                for n, c in enumerate(fake.calls)
                if c.method == "sendMessage"
                and str(c.params.get("chat_id")) == str(person.fake.user_id)
                and "Noted: you will attend" in str(c.params.get("text"))
            )
            assert answer < reply, methods[answer : reply + 1]
    finally:
        await bot.stop()
