"""Webhook mode: Telegram's secret header is checked, updates flow, /healthz answers."""

from __future__ import annotations

import socket

import aiohttp

from bot.app import build_application
from bot.fakeapi import FakeTelegram
from bot.lifecycle import shutdown, startup
from bot.webhook import SECRET_HEADER, start_webhook
from tests.harness import BotHarness


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_end_to_end(fake: FakeTelegram, database_url: str) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    harness = BotHarness(
        fake,
        database_url,
        webhook_url=url,
        webhook_secret="s3cret-token",
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    harness.app = build_application(harness.settings, clock=harness.clock)
    await startup(harness.app)
    runner = await start_webhook(harness.app, harness.settings)
    try:
        assert fake.webhook is not None and fake.webhook["secret_token"] == "s3cret-token"
        arta = harness.person(language_code="en")
        await arta.command("/help")
        assert "PACT Civic Bot" in arta.last.text

        async with aiohttp.ClientSession() as http:
            async with http.post(
                url, json={"update_id": 999}, headers={SECRET_HEADER: "wrong"}
            ) as r:
                assert r.status == 403
            async with http.post(url, json={"update_id": 998}) as r:
                assert r.status == 403
            async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 200
                assert (await r.json())["status"] == "ok"
    finally:
        await runner.cleanup()
        await shutdown(harness.app)
