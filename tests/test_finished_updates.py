"""The Application remembers finished updates for wait_processed, but only the latest ones."""

from __future__ import annotations

import pytest

from bot.core import application
from tests.harness import BotHarness


async def test_finished_update_ids_stay_bounded(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past FINISHED_KEPT updates the oldest ids are forgotten; the newest is still awaited."""
    monkeypatch.setattr(application, "FINISHED_KEPT", 3)
    arta = bot.person()
    for _ in range(6):
        await arta.command("/help")
    finished = bot.app._finished
    assert len(finished) == 3
    assert list(finished) == sorted(finished)
    await bot.app.wait_processed(list(finished)[-1], timeout=1)
