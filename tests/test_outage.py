"""The database goes away: people get an honest translated apology (buttons stop spinning),
nothing confirmed is lost, and the bot carries on once it is back, with no restart. Also: a
re-delivered button press is handled without a spurious apology, and a short database blip
while a broadcast is recorded makes nobody get it twice."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.campaigns.services import campaigns
from bot.core.jobs import send_broadcasts
from bot.staff.services import permissions as staff
from db.models import Case, Consent, User
from fakeapi import FakeTelegram
from tests import test_delivery
from tests.db_proxy import DatabaseProxy
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english
from tests.test_reports import _report_lighting

OUTAGE_SECONDS = float(os.environ.get("PACT_OUTAGE_SECONDS", "10"))
"""How long the database stays cut (the issue's 10 s; PACT_OUTAGE_SECONDS overrides)."""
APOLOGY = "Sorry, we could not save this right now. Please try again in a few minutes."
FAST_TIMEOUTS = {"db_connect_timeout": 1.0, "db_pool_timeout": 1.0, "db_command_timeout": 2.0}


def _is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def _apologies(person: Person) -> int:
    return sum(APOLOGY in text for text in person.texts())


async def _sees(bot: BotHarness, person: Person, count: int) -> None:
    """Wait (on the fake server's own events, no sleeping) until the person has `count`
    apologies; fails after 10 s, so a silent bot fails the test."""
    await bot.fake.wait_until(lambda: _apologies(person) >= count, timeout=10)


async def _answered(bot: BotHarness, person: Person, earlier: int) -> None:
    """Wait until the person's button press after `earlier` answers was answered (no spinner)."""
    await bot.fake.wait_until(lambda: len(person.fake.callback_answers) > earlier, timeout=10)


def _take_away(path: Path, moved: Path) -> None:
    """Move the database file aside and leave a folder in its place: nothing can open it."""
    path.rename(moved)
    path.mkdir()


def _put_back(path: Path, moved: Path) -> None:
    """Restore the database file (idempotent, for the test's cleanup too)."""
    if moved.exists():
        if path.is_dir():
            path.rmdir()
        moved.rename(path)


async def _rows(bot: BotHarness) -> tuple[int, int, int]:
    """Cases, users and consents stored."""
    async with bot.app.services.sessions() as session:
        return (
            (await session.execute(select(func.count()).select_from(Case))).scalar_one(),
            (await session.execute(select(func.count()).select_from(User))).scalar_one(),
            (await session.execute(select(func.count()).select_from(Consent))).scalar_one(),
        )


@pytest.mark.parametrize("stall", [False, True], ids=["refused", "partition"])
async def test_a_database_cut_gets_the_apology_and_nothing_confirmed_is_lost(
    fake: FakeTelegram, database_url: str, stall: bool
) -> None:
    """Refused: the server is gone. Partition: nothing answers, so only the connect, pool and
    command timeouts end each wait (without them a chat hung for a minute)."""
    if _is_sqlite(database_url):
        pytest.skip(
            "not applicable on SQLite: the database is a file inside the bot's own process, "
            "there is no connection to cut (the file test below covers SQLite)"
        )
    proxy = DatabaseProxy()
    await proxy.start()
    bot = BotHarness(fake, proxy.url(database_url), **FAST_TIMEOUTS)
    await bot.start()
    try:
        arta = bot.person(language_code="en")
        await onboard_english(arta)
        await _report_lighting(arta, "👤 Named")
        assert arta.seen("Your case number is PACT-2026-00001.")
        bledi = bot.person(language_code="en", first_name="Bledi")
        await onboard_english(bledi)
        await bledi.command("/menu")
        menu = bledi.last
        confirmed = await _rows(bot)
        assert confirmed == (1, 2, 2)

        before = {arta: len(arta.texts()), bledi: len(bledi.texts())}
        await proxy.cut(stall=stall)
        cut_at = time.monotonic()
        rounds = 0
        while rounds < 2 or time.monotonic() - cut_at < OUTAGE_SECONDS:
            rounds += 1
            answered = len(bledi.fake.callback_answers)
            await arta.fake.send_command("/menu")  # both in one wait: a round is one retry
            await bledi.fake.press("❓ Help", message=menu)
            await _sees(bot, arta, rounds)
            await _sees(bot, bledi, rounds)
            await _answered(bot, bledi, answered)
        assert proxy.refused > 0, "the bot did try the database during the cut"
        for person, seen in before.items():
            assert person.texts()[seen:] == [APOLOGY] * rounds, "only the apology, each time"
        proxy.restore()

        await arta.command("/menu")
        assert "Main menu" in arta.last.text
        # The presses of the outage were never confirmed (not stored): Telegram sends them again
        # and they are handled now (bot/core/inbox.py), so the menu turns into the help page.
        await bot.fake.wait_until(lambda: "/mydata" in menu.text, timeout=10)
        assert await _rows(bot) == confirmed, "nothing confirmed is lost"
        await arta.command("/start")
        assert not arta.seen("Sorry, something went wrong"), "only the honest apology"
    finally:
        proxy.restore()
        await bot.stop()
        await proxy.stop()


async def test_an_unavailable_database_file_gets_the_apology_then_recovers(
    fake: FakeTelegram, database_url: str
) -> None:
    if not _is_sqlite(database_url):
        pytest.skip("SQLite's file; PostgreSQL's outage is the connection cut above")
    bot = BotHarness(fake, database_url, **FAST_TIMEOUTS)
    await bot.start()
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    moved = path.with_name("away.sqlite3")
    try:
        arta = bot.person(language_code="en")
        await onboard_english(arta)
        await arta.command("/menu")
        menu = arta.last

        await bot.app.services.engine.dispose()  # closes the open connections to the file
        _take_away(path, moved)  # now nothing opens it: "unable to open database file"
        await arta.fake.send_command("/menu")
        await _sees(bot, arta, 1)
        answered = len(arta.fake.callback_answers)
        await arta.fake.press("❓ Help", message=menu)
        await _sees(bot, arta, 2)
        await _answered(bot, arta, answered)

        _put_back(path, moved)
        await arta.command("/menu")
        assert "Main menu" in arta.last.text
        user = await bot.user_row(arta)
        assert user is not None and user.onboarded_at is not None, "nothing confirmed is lost"
    finally:
        _put_back(path, moved)
        await bot.stop()


async def test_a_re_delivered_button_press_is_handled_without_an_apology(
    bot: BotHarness,
) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    menu = arta.last
    payloads: list[dict[str, Any]] = []
    enqueue = bot.fake.enqueue

    def recording(kind: str, payload: dict[str, Any]) -> int:
        payloads.append(payload)
        return enqueue(kind, payload)

    bot.fake.enqueue = recording  # type: ignore[method-assign]
    await arta.press("❓ Help", message=menu)
    bot.fake.enqueue = enqueue  # type: ignore[method-assign]
    assert "/mydata" in menu.text
    await arta.press("☰ Menu", message=menu)
    assert "Main menu" in menu.text

    # Telegram sends the same press again (e.g. its confirmation was lost in a restart): the
    # query was answered the first time, so answering it again is refused as "too old".
    update_id = bot.fake.enqueue("callback_query", payloads[-1])
    await bot.settle(update_id)
    refused = [c for c in bot.fake.calls_to("answerCallbackQuery") if not c.ok]
    assert refused, "the second answer was refused, as Telegram does"
    assert not arta.seen("Sorry"), "no spurious apology"
    assert "/mydata" in menu.text, "the press was handled all the same"


async def test_a_database_blip_while_recording_a_broadcast_sends_it_to_nobody_twice(
    fake: FakeTelegram, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await test_delivery.started(fake, database_url)
    try:
        people = await test_delivery.subscribers(bot, 150)
        test_delivery.at(bot, "2026-11-23T10:00")
        number = await test_delivery.broadcast(bot, "Budget hearing")
        real = campaigns.mark_sent
        failures = 0

        async def blip(session: Any, rows: Any, now: Any) -> None:
            """The database is away for four tries: more than the old recorder's three."""
            nonlocal failures
            if failures < 4:
                failures += 1
                raise OperationalError("UPDATE outbox", {}, ConnectionResetError("blip"))
            await real(session, rows, now)

        monkeypatch.setattr(campaigns, "mark_sent", blip)
        try:
            await send_broadcasts(bot.app)
        except OperationalError:
            pass  # the old recorder gave up here; the next pass resent what it had not recorded
        await send_broadcasts(bot.app)
        assert failures == 4, "the blip outlasted the old three quick tries"
        assert test_delivery.received(people, "Budget hearing") == [1] * 150
        counts = await test_delivery.counts(bot, number)
        assert counts.get(campaigns.SENT) == 150 and not counts.get(campaigns.PENDING)
    finally:
        await bot.stop()


async def test_a_database_error_in_the_staff_gate_ends_in_one_apology(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate (group -1) reads the database before any command handler: when that read fails
    the update stops there with the apology, instead of running on into later groups."""
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    before = len(arta.texts())

    async def unreachable(*args: Any, **kwargs: Any) -> None:
        raise ConnectionResetError("the database went away")

    monkeypatch.setattr(staff, "member", unreachable)
    answered = len(arta.fake.callback_answers)
    await arta.fake.send_command("/inbox")
    await _sees(bot, arta, 1)
    await arta.fake.press_data("stf:take:1", message_id=arta.last.message_id)
    await _sees(bot, arta, 2)
    await _answered(bot, arta, answered)
    monkeypatch.undo()
    await arta.command("/menu")
    assert arta.texts()[before:-1] == [APOLOGY, APOLOGY], "one apology each, nothing else"
    assert "Main menu" in arta.last.text
