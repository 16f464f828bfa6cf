"""Deployment files agree with the code: .env.example loads as it is, and compose.yaml gives the
bot time for a clean stop and checks its health where the bot serves it."""

from __future__ import annotations

import re
from pathlib import Path

from bot.broadcasting.sender import STOP_GRACE
from bot.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_env_example_loads_as_copied() -> None:
    """Its empty values (`STAFF_CHAT_ID=`, `HEALTH_PORT=`) mean unset, not invalid numbers."""
    settings = Settings(_env_file=ROOT / ".env.example")
    assert settings.staff_chat_id is None and settings.health_port is None
    assert settings.bot_token is None and not settings.webhook_mode
    assert settings.log_format == "text" and settings.metrics_token is None


def _bot_service(compose: str) -> str:
    """The text of the bot's settings in compose.yaml (the x-bot block every bot service merges)."""
    found = re.search(r"^x-bot: &bot\n(.*?)(?=^\S)", compose, re.S | re.M)
    assert found, "compose.yaml has the x-bot block"
    for service in ("bot", "fetcher", "worker"):
        assert re.search(rf"^  {service}:\n    <<: \*bot$", compose, re.M), service
    return found.group(1).replace("\n  ", "\n    ")


def test_compose_waits_for_a_clean_stop_and_checks_healthz() -> None:
    bot = _bot_service((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    grace = re.search(r"^    stop_grace_period: (\d+)s$", bot, re.M)
    assert grace, "the bot's stop_grace_period is set in seconds"
    drain = Settings(_env_file=None).shutdown_drain_seconds
    assert int(grace.group(1)) >= drain + 2 * STOP_GRACE + 5, (
        "the drain and the senders' graces fit"
    )
    assert "http://127.0.0.1:8080/healthz" in bot
    assert "DATABASE_URL: postgresql+asyncpg://" in bot
    assert "condition: service_healthy" in bot
