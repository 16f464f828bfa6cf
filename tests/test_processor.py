"""One chat's updates run in order while other chats go on; the unit of work's after-commit hook."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from bot.core.processor import ChatOrderedProcessor, chat_key
from bot.core.runtime import unit_of_work


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, None, chat, text="x"))  # type: ignore[arg-type]


async def test_same_chat_in_order_other_chats_proceed() -> None:
    processor = ChatOrderedProcessor(max_concurrent=8)
    gate = asyncio.Event()
    log: list[str] = []

    async def work(name: str, wait: bool = False) -> None:
        log.append(f"start {name}")
        if wait:
            await gate.wait()
        await asyncio.sleep(0)
        log.append(f"end {name}")

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 10), work("a1", wait=True))),
        asyncio.create_task(processor.process_update(_update(2, 10), work("a2"))),
        asyncio.create_task(processor.process_update(_update(3, 20), work("b1"))),
        asyncio.create_task(processor.process_update(_update(4, 10), work("a3"))),
    ]
    for _ in range(20):
        await asyncio.sleep(0)
    assert "end b1" in log, "another chat must not wait for a slow one"
    assert "start a2" not in log, "a chat's second update must wait for its first"
    gate.set()
    await asyncio.gather(*tasks)
    a_events = [entry for entry in log if " a" in entry]
    assert a_events == ["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]
    assert processor._locks == {}, "per-chat locks are released when a chat goes quiet"


async def test_concurrency_limit_is_respected() -> None:
    processor = ChatOrderedProcessor(max_concurrent=2)
    running = 0
    peak = 0

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(5):
            await asyncio.sleep(0)
        running -= 1

    await asyncio.gather(
        *(processor.process_update(_update(i, 100 + i), work()) for i in range(10))
    )
    assert peak == 2


def test_chat_key_falls_back_to_none_for_non_updates() -> None:
    assert chat_key(object()) is None
    assert chat_key(_update(1, 42)) == 42


async def test_after_commit_callbacks_run_only_once_committed(bot) -> None:
    seen: list[str] = []
    async with unit_of_work(bot.app.services) as scope:
        scope.after_commit.append(lambda: seen.append("committed"))
        assert seen == []
    async with unit_of_work(bot.app.services) as scope:
        scope.after_commit.append(lambda: seen.append("rolled back"))
        scope.fail()
    assert seen == ["committed"]
