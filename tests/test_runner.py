"""`pact-bot run` in polling mode starts, answers, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal

from bot.core.runner import serve
from bot.core.settings import Settings
from fakeapi import FakeTelegram
from tests.harness import TOKEN


async def test_sigterm_stops_the_bot_cleanly(fake: FakeTelegram, database_url: str) -> None:
    settings = Settings(
        _env_file=None,
        bot_token=TOKEN,
        database_url=database_url,
        telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url,
    )
    task = asyncio.create_task(serve(settings))
    await fake.wait_until(lambda: fake.calls_to("deleteWebhook"), timeout=10)
    john = fake.user(user_id=7001, language_code="en")
    await john.send_command("/help")
    await fake.wait_until(lambda: john.messages, timeout=10)
    assert "PACT Civic Bot" in john.last.text

    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, timeout=15)
    assert task.exception() is None
    assert fake.calls[-1].method in {"getUpdates", "close", "deleteWebhook"}
