"""Update processor: concurrent across chats, strictly in order within one chat."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

QUEUE_BOUND = 100_000
"""PTB's own semaphore only bounds tasks in memory; the real concurrency limit is ours."""


def chat_key(update: object) -> int | None:
    """The chat (or, failing that, the user) whose updates must keep their order."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Takes the chat's lock first (FIFO), then a slot; one slow chat never blocks the others."""

    def __init__(self, max_concurrent: int) -> None:
        super().__init__(QUEUE_BOUND)
        self._slots = asyncio.Semaphore(max_concurrent)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run after earlier updates of the same chat, within the concurrency limit."""
        key = chat_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""
