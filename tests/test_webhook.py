"""Webhook mode: a strong secret is required and checked, bad bodies get 400, wrong-secret
warnings are rate-limited, updates flow, /healthz answers."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from telegram import Update

from bot.app import build_application
from bot.core.lifecycle import shutdown, startup
from bot.core.settings import Settings
from bot.core.webhook import SECRET_HEADER, start_webhook
from fakeapi import FakeTelegram
from tests.harness import BotHarness

SECRET = "Zq8-Ue4_" * 5
"""A 40-character secret of the allowed alphabet."""


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
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    harness.app = build_application(harness.settings, clock=harness.clock)
    await startup(harness.app)
    runner = await start_webhook(harness.app, harness.settings)
    try:
        assert fake.webhook is not None and fake.webhook["secret_token"] == SECRET
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


@pytest.mark.parametrize(
    "secret",
    ["s3cret-token", "x", "a" * 31, "a" * 257, "ë" * 40, "has spaces in it but is long enough!!"],
)
def test_a_weak_secret_is_refused_at_start_with_how_to_make_one(secret: str) -> None:
    with pytest.raises(ValueError, match=r"WEBHOOK_SECRET.*32-256.*secrets\.token_urlsafe"):
        Settings(_env_file=None, webhook_url="https://bot.example.org/tg", webhook_secret=secret)


def test_a_strong_secret_is_accepted() -> None:
    for secret in (SECRET, "A" * 32, "b" * 256):
        settings = Settings(
            _env_file=None, webhook_url="https://bot.example.org/tg", webhook_secret=secret
        )
        assert settings.require_webhook_secret() == secret


def test_webhook_mode_without_a_secret_does_not_start() -> None:
    settings = Settings(_env_file=None, webhook_url="https://bot.example.org/tg")
    with pytest.raises(RuntimeError, match=r"WEBHOOK_SECRET is not set.*token_urlsafe"):
        settings.require_webhook_secret()


@dataclass
class Served:
    """A bot in webhook mode, its URL, and every update it stored in its inbox."""

    harness: BotHarness
    url: str
    queued: list[Any]


@pytest.fixture
async def served(
    fake: FakeTelegram, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Served]:
    """The bot serving its webhook on a free loopback port, what it stores recorded."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    harness = BotHarness(
        fake,
        database_url,
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    harness.app = build_application(harness.settings, clock=harness.clock)
    await startup(harness.app)
    runner = await start_webhook(harness.app, harness.settings)
    queued: list[Any] = []
    assert harness.app.inbox is not None
    accept = harness.app.inbox.accept

    async def recording_accept(payloads: list[dict[str, Any]]) -> None:
        """Record what the webhook stores in the inbox, then store it as before."""
        queued.extend(Update.de_json(payload, harness.app.bot) for payload in payloads)
        await accept(payloads)

    monkeypatch.setattr(harness.app.inbox, "accept", recording_accept)
    try:
        yield Served(harness, url, queued)
    finally:
        await runner.cleanup()
        await shutdown(harness.app)


BAD_BODIES = {
    "a JSON array": b'[{"update_id": 5}]',
    "not UTF-8": b'{"update_id": 6, "x": "\xff\xfe"}',
    "not JSON": b"update_id=7",
    "empty": b"",
    "a JSON string": b'"hello"',
    "an object without update_id": b'{"message": {"text": "hi"}}',
    "update_id not a number": b'{"update_id": "8"}',
    "update_id a boolean": b'{"update_id": true}',
    "a message that is not a message": b'{"update_id": 9, "message": "hi"}',
}


async def test_bad_bodies_get_400_and_nothing_is_handled(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        for name, body in BAD_BODIES.items():
            async with http.post(served.url, data=body, headers=headers) as response:
                assert response.status == 400, name
        assert served.queued == [], "nothing reached the bot"
        async with http.post(served.url, json={"update_id": 10}, headers=headers) as response:
            assert response.status == 200
    assert [update.update_id for update in served.queued] == [10]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_wrong_secret_warnings_are_rate_limited(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.core.webhook")

    def warnings() -> list[str]:
        """The wrong-secret warnings logged so far."""
        return [r.getMessage() for r in caplog.records if "secret" in r.getMessage()]

    async with aiohttp.ClientSession() as http:

        async def probe(times: int) -> None:
            """Post with a wrong secret, each refused."""
            for index in range(times):
                headers = {SECRET_HEADER: f"guess-{index}"}
                async with http.post(served.url, json={"update_id": 1}, headers=headers) as r:
                    assert r.status == 403

        await probe(20)
        assert len(warnings()) == 1
        served.harness.clock.advance(timedelta(seconds=59))
        await probe(5)
        assert len(warnings()) == 1, "still within the minute"
        served.harness.clock.advance(timedelta(seconds=2))
        await probe(1)
    assert len(warnings()) == 2
    assert "24 more" in warnings()[1]
    assert served.queued == []


def test_the_command_line_refuses_a_short_secret_and_says_how_to_make_one(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.core import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/tg")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret-token")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/never.sqlite3")
    assert cli.main(["migrate"]) == 2
    said = capsys.readouterr().err
    assert "WEBHOOK_SECRET has 12 characters" in said and "secrets.token_urlsafe(32)" in said
    assert "s3cret-token" not in said, "the secret itself is not repeated"
    assert not (tmp_path / "never.sqlite3").exists(), "nothing started"
