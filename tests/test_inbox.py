"""The durable inbox: stored before confirmed, handled once, state saved with the update, drained.

In-process tests drive the real Application over the fake Bot API (tests/harness.py). The kill
tests run ``python -m bot run`` against the fake server, as tests/test_crash.py does, and kill it
with SIGKILL (or stop it with SIGTERM), then start it again on the same database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.core.lifecycle import shutdown, startup
from bot.core.webhook import SECRET_HEADER, start_webhook
from db.engine import create_engine, create_sessionmaker
from db.models import BotState, InboxUpdate, OutboxMessage, RtiRequest
from db.repositories import inbox as inbox_repo
from fakeapi import FakeTelegram
from tests.harness import TOKEN, BotHarness, Person
from tests.rti_steps import onboard_english

ROOT = Path(__file__).resolve().parents[1]
SECRET = "Zq8-Ue4_" * 5


async def _rti_up_to_preview(person: Person) -> None:
    """The request builder walked to its preview."""
    await person.command("/menu")
    await person.press("⚖️ Right to information")
    await person.press("✍️ Ask for information")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")
    await person.text("The 2026 budget of the municipality and its annexes.")
    await person.press("📧 Electronic copy")
    await person.press("📧 E-mail")
    await person.text("arta@example.com")
    await person.text("Arta Kelmendi")


async def _requests(bot: BotHarness) -> int:
    """How many information requests are stored."""
    async with bot.app.services.sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(RtiRequest))).scalar_one()
        )


def _calls(bot: BotHarness) -> dict[str, int]:
    """How many calls of each Bot API method (but getUpdates) the bot has made."""
    counts: dict[str, int] = {}
    for call in bot.fake.calls:
        if call.method != "getUpdates":
            counts[call.method] = counts.get(call.method, 0) + 1
    return counts


async def _inbox_row(bot: BotHarness, update_id: int) -> InboxUpdate | None:
    """The inbox row of one update."""
    async with bot.app.services.sessions() as session:
        return await session.get(InboxUpdate, update_id)


# --- one effect per update_id -------------------------------------------------------------


async def test_a_redelivered_update_has_no_second_effect(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _rti_up_to_preview(arta)
    press = await arta.fake.press("✅ Make the request")
    await bot.settle(press)
    assert arta.seen("Your request no. 1 is ready.")
    seen, calls = len(arta.messages), _calls(bot)

    bot.fake.redeliver(press)  # Telegram was not told we had it: it sends it again
    await arta.command("/help")  # handled after the re-delivered press (same chat, later id)

    assert not bot.fake.queue.repeats, "the press was delivered a second time"
    assert await _requests(bot) == 1, "one request, not two"
    assert len(arta.messages) == seen + 1 and "PACT Civic Bot" in arta.last.text, "only /help"
    assert _calls(bot) == {**calls, "sendMessage": calls.get("sendMessage", 0) + 1}, "no call"
    row = await _inbox_row(bot, press)
    assert row is not None and row.done_at is not None and row.attempts == 1
    assert row.payload is None and row.chat_key is None, "nothing of the person stays"


async def test_a_redelivery_while_the_first_is_in_hand_has_no_second_effect(
    bot: BotHarness,
) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _rti_up_to_preview(arta)
    bot.fake.latency = 0.3  # every answer of the fake server is slow: the press is in hand
    press = await arta.fake.press("✅ Make the request")
    await bot.fake.wait_delivered(press)
    bot.fake.redeliver(press)
    await bot.settle(press)
    await arta.command("/help")
    bot.fake.latency = 0

    assert not bot.fake.queue.repeats
    assert await _requests(bot) == 1
    assert sum("Your request no. 1 is ready." in text for text in arta.texts()) == 1
    assert not arta.seen("no longer active"), "the repeat was not handled at all"
    answers = bot.fake.calls_to("answerCallbackQuery")
    assert len({c.params["callback_query_id"] for c in answers}) == len(answers), "one answer"


async def test_a_webhook_update_is_stored_before_200_and_a_repeat_has_no_second_effect(
    fake: FakeTelegram, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    harness = BotHarness(
        fake, database_url, webhook_url=url, webhook_secret=SECRET,
        webhook_listen="127.0.0.1", webhook_port=port,
    )  # fmt: skip
    harness.app = build_application(harness.settings, clock=harness.clock)
    await startup(harness.app)
    runner = await start_webhook(harness.app, harness.settings)
    try:
        arta = harness.person(language_code="en")
        await onboard_english(arta)
        await _rti_up_to_preview(arta)
        press = await arta.fake.press("✅ Make the request")
        await harness.settle(press)
        assert await _requests(harness) == 1
        headers = {SECRET_HEADER: SECRET}
        help_id = await arta.fake.send_command("/help")
        await harness.settle(help_id)
        helps = sum("PACT Civic Bot" in text for text in arta.texts())
        fresh = {**fake.queue.sent[help_id], "update_id": 1_000_000}

        async def failing_store(*_args: Any, **_kwargs: Any) -> None:
            """The database refuses the write."""
            raise ConnectionError("database away")

        async with aiohttp.ClientSession() as http:
            for _ in range(2):  # Telegram repeats a press it is unsure landed
                async with http.post(url, json=fake.queue.sent[press], headers=headers) as r:
                    assert r.status == 200
            with monkeypatch.context() as patch:
                patch.setattr(inbox_repo, "store", failing_store)
                async with http.post(url, json=fresh, headers=headers) as r:
                    assert r.status == 503, "not stored: Telegram must send it again"
            assert await _inbox_row(harness, 1_000_000) is None
            async with http.post(url, json=fresh, headers=headers) as r:
                assert r.status == 200
                assert await _inbox_row(harness, 1_000_000) is not None, "stored before 200"
        await harness.app.wait_processed(1_000_000)
        assert await _requests(harness) == 1, "the repeated press made no second request"
        assert sum("Your request no. 1 is ready." in text for text in arta.texts()) == 1
        assert sum("PACT Civic Bot" in text for text in arta.texts()) == helps + 1
    finally:
        await runner.cleanup()
        await shutdown(harness.app)


def _free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- state saved with the update ----------------------------------------------------------


async def test_each_step_is_stored_in_the_update_that_answered_it(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    key = f"report:[{arta.fake.user_id}, {arta.fake.user_id}]"

    async def stored() -> tuple[Any, Any]:
        """The stored conversation state and report draft, read at once (no flush awaited)."""
        async with bot.app.services.sessions() as session:
            state = await session.get(BotState, ("conv", key))
            data = await session.get(BotState, ("user_data", str(arta.fake.user_id)))
        return (state.data["state"] if state else None), (data.data if data else {})

    await arta.command("/menu")
    await arta.press("🛠 Report a service problem")
    assert (await stored())[0] == "report.municipality", "asking the municipality"
    await arta.press("Shkodër")
    await arta.press("Municipality of Shkodër")
    state, data = await stored()
    assert state == "report.unit" and data["report_draft"]["municipality_id"], "the unit"
    await arta.press("Velipojë")
    state, data = await stored()
    assert state == "report.category" and data["report_draft"]["unit"] == "Velipojë"
    await arta.press("Street lighting")
    state, data = await stored()
    assert state == "report.description" and data["report_draft"]["category"]
    await arta.text("The street lights on the main road have been off for two weeks.")
    state, data = await stored()
    assert state == "report.location"
    assert data["report_draft"]["description"].startswith("The street")


async def test_nothing_is_stored_for_someone_without_consent(bot: BotHarness) -> None:
    besa = bot.person(language_code="en")
    await besa.command("/start")
    await besa.press("No, thanks")
    await besa.press("🛠 Report a service problem")
    await besa.press("Shkodër")
    async with bot.app.services.sessions() as session:
        rows = (await session.execute(select(BotState))).scalars().all()
    assert not [row for row in rows if str(besa.fake.user_id) in row.key], "memory only"
    assert bot.app.user_data[besa.fake.user_id]["report_draft"]["kind"] == "service"


async def test_a_torn_report_draft_goes_back_to_the_missing_step(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    await arta.press("🛠 Report a service problem")
    await arta.press("Shkodër")
    await arta.press("Municipality of Shkodër")
    await arta.press("Velipojë")
    await arta.press("Street lighting")
    await arta.text("The street lights on the main road have been off for two weeks.")
    await arta.press("Skip")
    await arta.press("✔️ Done")
    await arta.press("👤 Named")
    assert "Check your report" in arta.last.text
    draft = bot.app.user_data[arta.fake.user_id]["report_draft"]
    del draft["identification"], draft["description"]  # a draft torn by the old flush
    await arta.text("hello")  # at the preview: "use the buttons", nothing lost
    assert arta.last.text == "Please use the buttons above."
    await arta.press("✏️ Problem")
    await arta.press("Street lighting")  # then the preview, which asks what is missing
    assert not arta.seen("Sorry, something went wrong")
    assert "What happened?" in arta.last.text, "the first missing answer is asked again"
    await arta.text("The street lights on the main road have been off for two weeks.")
    assert "How do you want to be identified?" in arta.last.text


async def test_a_torn_request_draft_goes_back_to_the_missing_step(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _rti_up_to_preview(arta)
    assert "Check your request" in arta.last.text
    del bot.app.user_data[arta.fake.user_id]["rti_draft"]["information"]
    await arta.press("✅ Make the request")
    assert not arta.seen("Sorry, something went wrong")
    assert "What information do you want?" in arta.last.text
    await arta.text("The 2026 budget of the municipality and its annexes.")
    await arta.press("✅ Make the request")
    assert arta.seen("Your request no. 1 is ready.")


# --- kills and stops of the real process ---------------------------------------------------


def _start(fake: FakeTelegram, database_url: str, log: Path, **env: str) -> subprocess.Popen[Any]:
    """`python -m bot run` against the fake server, without a rate limiter."""
    environment = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "DATABASE_URL": database_url,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "TELEGRAM_RATE_LIMIT": "false",
        "BROADCAST_RATE": "0",
        "UPDATES_PER_MINUTE": "10000",
        "QUIET_START": "00:00",
        "QUIET_END": "00:00",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def _stop(process: subprocess.Popen[Any], sig: signal.Signals) -> None:
    """Send the signal and wait for the process to end."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        await asyncio.to_thread(process.wait, 30)
    finally:
        if process.poll() is None:
            process.kill()
            await asyncio.to_thread(process.wait)


async def _rows(database_url: str) -> list[InboxUpdate]:
    """Every inbox row, read by this test process."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.execute(select(InboxUpdate))).scalars())
    except Exception:
        return []  # not created yet
    finally:
        await engine.dispose()


async def _until(predicate: Any, timeout: float, process: subprocess.Popen[Any], log: Path) -> None:
    """Poll an async predicate until it holds; the process must stay alive meanwhile."""
    async with asyncio.timeout(timeout):
        while not await predicate():
            assert process.poll() is None, log.read_text()  # noqa: ASYNC240
            await asyncio.sleep(0.1)


async def test_a_reply_in_flight_at_a_sigkill_is_sent_after_restart_once(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    arta = fake.user(user_id=7001, language_code="en")
    log = tmp_path / "bot.log"
    first = _start(fake, database_url, log)
    try:
        await fake.wait_until(lambda: fake.calls_to("deleteWebhook"), timeout=60)
        fake.latency = 5.0  # the reply hangs at Telegram: handled and committed, not yet sent
        update_id = await arta.send_command("/help")

        async def handled() -> bool:
            """The update is done and its reply row stored."""
            return any(r.update_id == update_id and r.done_at for r in await _rows(database_url))

        await _until(handled, 30, first, log)
    finally:
        await _stop(first, signal.SIGKILL)
    [row] = await _rows(database_url)
    assert row.done_at is not None and row.payload is None, "handled once, its words dropped"
    [reply] = await _replies(database_url)
    assert reply.status == "pending" and reply.payload is not None, "the reply waits in the outbox"
    assert arta.messages == [], "not answered yet"

    fake.latency = 0
    second = _start(fake, database_url, log)
    try:

        async def sent() -> bool:
            """The reply row is gone: its calls are made."""
            return await _replies(database_url) == []

        await _until(sent, 60, second, log)
    finally:
        await _stop(second, signal.SIGTERM)
    answers = [m for m in arta.messages if "PACT Civic Bot" in (m.text or "")]
    assert len(answers) == 1, "answered after the restart, once"


async def _replies(database_url: str) -> list[OutboxMessage]:
    """Every reply row, read by this test process."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            found = await session.execute(
                select(OutboxMessage).where(OutboxMessage.kind == "reply")
            )
            return list(found.scalars())
    finally:
        await engine.dispose()


USERS, EACH = 100, 10
FIRST_USER = 300_000
KINDS = {
    "text": "I can't use this message here.",
    "command": "I don't know that command.",
}


def _kind(user: int, index: int) -> str:
    """A fixed pseudo-random kind of message per user and position (so swaps would show)."""
    return "text" if (user * 7919 + index * index * 104_729) % 3 else "command"


def _answers(person: Any) -> list[str]:
    """The kinds of the bot's answers in a chat, in order (menus left out)."""
    kinds = []
    for message in person.messages:
        for kind, start in KINDS.items():
            if (message.text or "").startswith(start):
                kinds.append(kind)
    return kinds


def _in_order(expected: list[str], got: list[str]) -> int | None:
    """Duplicates if `got` is `expected` with some answers repeated in place; None otherwise."""
    index = repeats = 0
    for kind in got:
        if index < len(expected) and kind == expected[index]:
            index += 1
        elif index > 0 and kind == expected[index - 1]:
            repeats += 1
        else:
            return None
    return repeats if index == len(expected) else None


async def test_burst_of_1000_updates_sigkill_after_one_second_then_restart(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    people = [fake.user(user_id=FIRST_USER + n, language_code="en") for n in range(USERS)]
    expected: dict[int, list[str]] = {}
    for index in range(EACH):
        for n, person in enumerate(people):
            kind = _kind(n, index)
            expected.setdefault(n, []).append(kind)
            if kind == "text":
                await person.send_text(f"message {index}")
            else:
                await person.send_command(f"/nosuch{index}")
    log = tmp_path / "bot.log"

    first = _start(fake, database_url, log)
    try:
        await fake.wait_until(lambda: fake.calls_to("sendMessage"), timeout=60)
        await asyncio.sleep(1)
    finally:
        await _stop(first, signal.SIGKILL)
    answered_before = sum(len(_answers(person)) for person in people)
    assert answered_before < USERS * EACH, "killed in the middle of the burst"

    second = _start(fake, database_url, log)
    try:

        def everyone_answered() -> bool:
            """Every chat has at least as many answers as messages."""
            return all(len(_answers(p)) >= EACH for p in people)

        await fake.wait_until(everyone_answered, timeout=240)

        async def all_done() -> bool:
            """Every update is stored and done."""
            rows = await _rows(database_url)
            return len(rows) == USERS * EACH and all(row.done_at for row in rows)

        await _until(all_done, 60, second, log)
    finally:
        await _stop(second, signal.SIGTERM)

    repeats = 0
    for n, person in enumerate(people):
        found = _in_order(expected[n], _answers(person))
        assert found is not None, (n, expected[n], _answers(person))
        repeats += found
    print(f"\nburst: {answered_before} answered before the kill, {repeats} answered twice")
    assert repeats <= 32, "at most the updates in hand at the kill (MAX_CONCURRENT_UPDATES)"


async def test_sigterm_with_a_backlog_drains_in_time_and_the_rest_follows_the_restart(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    drain = 3
    people = [fake.user(user_id=FIRST_USER + n, language_code="en") for n in range(30)]
    for index in range(10):
        for person in people:
            await person.send_text(f"message {index}")
    log = tmp_path / "bot.log"

    first = _start(fake, database_url, log, SHUTDOWN_DRAIN_SECONDS=str(drain))
    try:
        await fake.wait_until(lambda: fake.calls_to("deleteWebhook"), timeout=60)
        fake.latency = 2.0  # from the first fetch on, an update takes two answers, 4 s: > drain
        await fake.wait_until(lambda: fake.calls_to("sendMessage"), timeout=60)
        loop = asyncio.get_running_loop()
        began = loop.time()
        first.send_signal(signal.SIGTERM)
        await asyncio.to_thread(first.wait, 30)
        took = loop.time() - began
    finally:
        await _stop(first, signal.SIGKILL)
    assert first.returncode == 0, log.read_text()
    assert took <= drain + 1, f"stopped after {took:.1f} s"
    rows = await _rows(database_url)
    left = [row for row in rows if row.done_at is None]
    assert left, "a backlog was left for the restart"
    print(f"\nSIGTERM: stopped in {took:.1f} s, {len(left)} updates left for the restart")

    fake.latency = 0
    second = _start(fake, database_url, log)
    try:

        async def all_done() -> bool:
            """Every update is stored and done."""
            found = await _rows(database_url)
            return len(found) == 300 and all(row.done_at for row in found)

        await _until(all_done, 120, second, log)
    finally:
        await _stop(second, signal.SIGTERM)
    for person in people:
        assert len(_answers(person)) >= 10, "every message answered"


async def test_done_ids_are_deleted_after_48_hours(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    first = await arta.fake.send_command("/help")
    await bot.settle(first)
    assert await _inbox_row(bot, first) is not None, "kept while Telegram could send it again"
    bot.clock.advance(timedelta(hours=49))
    await arta.command("/help")  # the feeder's pass that hands this over prunes after it
    await arta.command("/help")  # handed over by a later pass: the pruning is finished
    assert await _inbox_row(bot, first) is None, "only ids of the last 48 hours are kept"


async def test_a_failed_update_is_tried_again_before_its_chats_next_one(
    fake: FakeTelegram, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chat's next update was already queued behind the failed one: it waits for the retry."""
    from bot.core import application as application_module

    bot = BotHarness(fake, database_url)
    before, after = bot.person(language_code="en"), bot.person(language_code="en")
    await bot.start()
    try:
        await before.command("/help")
        await before.command("/privacy")  # the answers as they come without a failure
    finally:
        await bot.stop()

    real = application_module.save_update_state
    failed: list[int] = []

    async def fails_once(app: Any, session: Any, update: Any, *args: Any, **kwargs: Any) -> None:
        if update.update_id == first and not failed:
            failed.append(update.update_id)
            raise RuntimeError("the commit could not be made")
        await real(app, session, update, *args, **kwargs)

    monkeypatch.setattr(application_module, "save_update_state", fails_once)
    first = await after.fake.send_command("/help")  # both in the first batch the bot fetches
    second = await after.fake.send_command("/privacy")
    await bot.start()
    try:
        await bot.settle(second)
        await bot.app.wait_processed(first, timeout=10)
        assert failed == [first]
        apology = "Sorry, something went wrong on our side."
        assert after.texts()[0].startswith(apology)
        assert after.texts()[1:] == before.texts(), "the retried /help came before /privacy"
        async with bot.app.services.sessions() as session:
            assert (await inbox_repo.claim(session, second)).done_at is not None
    finally:
        await bot.stop()
