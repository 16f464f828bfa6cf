"""LOG_FORMAT=json: every line is one JSON object with time, level, logger and message, the update
id and handler name inside an update, secrets redacted, and no contents or user ids."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from bot.account import help as help_module
from bot.core import logs
from bot.core.settings import Settings
from fakeapi import FakeTelegram
from tests.harness import TOKEN, BotHarness, Person

PERSON = 731945286
TYPED = "Kanali te shkolla Xhevdet Doda është bllokuar"


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """LOG_FORMAT=json at DEBUG, the output caught; the old set-up restored."""
    root = logging.getLogger()
    names = [*logs.QUIET, "telegram", "alembic", "sqlalchemy.engine", "bot"]
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in names})
    saved_warnings = warnings.filters[:]
    logs.configure("DEBUG", secrets=[TOKEN], fmt="json")
    output = io.StringIO()
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(output)
    try:
        yield output
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
        warnings.filters[:] = saved_warnings


def lines(output: io.StringIO) -> list[dict[str, Any]]:
    """Every line written, parsed (fails on a line that is not one JSON object)."""
    parsed = [json.loads(line) for line in output.getvalue().splitlines()]
    assert parsed and all(isinstance(line, dict) for line in parsed)
    return parsed


def test_the_setting_accepts_text_and_json_only() -> None:
    assert Settings(_env_file=None).log_format == "text"
    assert Settings(_env_file=None, log_format="json").log_format == "json"
    with pytest.raises(ValueError, match="log_format"):
        Settings(_env_file=None, log_format="yaml")


async def test_json_lines_carry_the_update_and_handler_and_no_personal_data(
    fake: FakeTelegram,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    json_logs: io.StringIO,
) -> None:
    inside = logging.getLogger("bot.account.help")
    original = help_module._text

    async def logged(update: Any, context: Any) -> Any:
        inside.info("composing the help text")
        return await original(update, context)

    async def broken(update: Any, context: Any) -> Any:
        raise RuntimeError(f"help failed for {PERSON}: {TYPED}")

    bot = BotHarness(fake, database_url)
    await bot.start()
    try:
        arta = Person(bot, fake.user(user_id=PERSON, first_name="Zamira", language_code="en"))
        await arta.text(TYPED)
        monkeypatch.setattr(help_module, "_text", logged)
        asked = await arta.fake.send_command("/help")
        await bot.settle(asked)
        monkeypatch.setattr(help_module, "_text", broken)
        failed = await arta.fake.send_command("/help")
        await bot.settle(failed)
        assert arta.seen("Sorry, something went wrong on our side.")
    finally:
        await bot.stop()

    written = lines(json_logs)
    for line in written:
        assert {"time", "level", "logger", "message"} <= set(line) <= set(logs.JSON_FIELDS)
        assert line["time"].endswith("+00:00")
    assert any(line["level"] == "DEBUG" for line in written), "DEBUG really was on"
    handler = "bot.account.help.help_command"
    [composing] = [line for line in written if line["message"] == "composing the help text"]
    assert composing["update_id"] == asked and composing["handler"] == handler
    assert composing["logger"] == "bot.account.help" and composing["level"] == "INFO"
    [error] = [line for line in written if line["level"] == "ERROR"]
    assert error["update_id"] == failed and error["handler"] == handler, "the failing handler"
    assert "RuntimeError in bot/account/help.py" in error["message"]
    outside = [line for line in written if line["message"].startswith("bot started")]
    assert outside and "update_id" not in outside[0] and "handler" not in outside[0]
    everything = json_logs.getvalue()
    assert str(PERSON) not in everything and "Xhevdet" not in everything and TOKEN not in everything


def test_tracebacks_and_messages_are_redacted_in_json(json_logs: io.StringIO) -> None:
    log = logging.getLogger("bot.test_json_logs")
    log.warning("our own token %s", TOKEN)
    try:
        raise ValueError(f"https://api.telegram.org/bot{TOKEN}/getMe refused")
    except ValueError:
        log.exception("start-up failed")
    log.info("with extras", extra={"chat_id": PERSON, "text": TYPED})
    written = lines(json_logs)
    assert [line["message"] for line in written] == [
        f"our own token {logs.REDACTED}",
        "start-up failed",
        "with extras",
    ]
    assert "getMe refused" in written[1]["exc_info"] and TOKEN not in written[1]["exc_info"]
    assert set(written[2]) == {"time", "level", "logger", "message"}, "extras are never written"
    assert TOKEN not in json_logs.getvalue() and str(PERSON) not in json_logs.getvalue()
