"""What a walk through every flow of the playground in Albanian found (issue 13), kept fixed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.clock import ManualClock
from bot.core.playground import Playground
from bot.core.settings import Settings
from bot.kit import moments
from bot.kit.ui import PHONE_WIDTH, list_line
from tests import staff_steps as steps
from tests.harness import START
from tests.rti_steps import onboard_english


def test_list_lines_keep_the_status_whole_and_cut_names_between_words() -> None:
    line = list_line("PACT-2026-00001", "Rrugët vendore dhe trotuaret", "në shqyrtim")
    assert line == "PACT-2026-00001 · Rrugët vendore… · në shqyrtim"
    assert list_line("#3", "Bashkia Shkodër", "pa përgjigje brenda afatit") == (
        "#3 · Bashkia… · pa përgjigje brenda afatit"
    )
    short = list_line("#3", "Bashkia Shkodër", "e përgatitur")
    assert short == "#3 · Bashkia Shkodër · e përgatitur"
    names = ["Rrugët vendore dhe trotuaret", "Bashkia Shkodër", "Komisioneri për të Drejtën e"]
    statuses = ["i marrë", "i përcjellë te institucioni", "e dërguar, në pritje të përgjigjes"]
    for name in names:
        for status in statuses:
            line = list_line("PACT-2026-00001", name, status)
            assert len(line) <= PHONE_WIDTH, line
            middle = line.split(" · ")[1].removesuffix("…")
            assert name.startswith(middle) and name[len(middle) : len(middle) + 1] in ("", " ")


async def test_a_card_button_pressed_in_the_private_chat_says_nothing_about_the_private_chat(
    fake, database_url
) -> None:
    bot = await steps.start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await steps.report(arta, "👤 Named")
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/start")
        await steps.press_in_group(bot, admin, steps.OPEN_PRIVATELY, "PACT-2026-00001")
        await admin.press("✉️ Reply", message=admin.last)
        assert admin.last.text.startswith("Type the message for the reporter of PACT-2026-00001")
        assert "private chat" not in (admin.fake.callback_answers[-1].get("text") or "")
    finally:
        await bot.stop()


def test_staff_may_type_a_moment_the_albanian_way() -> None:
    tirana = ZoneInfo("Europe/Tirane")
    expected = datetime(2026, 12, 5, 10, 0, tzinfo=tirana)
    assert moments.parse_local("05.12.2026 10:00", tirana) == expected
    assert moments.parse_local("2026-12-05  10:00", tirana) == expected
    assert moments.parse_local("5 dhjetor", tirana) is None
    late_evening = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)
    assert moments.example(late_evening, tirana) == "2026-12-03 10:00"


async def test_the_scorecard_says_in_words_what_there_is_not_yet_to_measure(
    fake, database_url
) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/start")
        await admin.command("/scorecard")
        await admin.press("Shkodër")
        await admin.press("This month so far")
        text = admin.last.text
        assert "Requests for information: none sent" in text
        assert "Complaints: none received" in text
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await steps.report(arta, "👤 Named")
        await admin.command("/scorecard")
        await admin.press("Shkodër")
        await admin.press("This month so far")
        assert "Complaints: 1 received, none resolved yet" in admin.last.text
        assert "—" not in admin.last.text
    finally:
        await bot.stop()


async def test_a_playground_started_again_on_the_same_database_still_answers(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        default_locale="en",
        reminder_poll_seconds=0,
        updates_per_minute=10_000,
    )
    seen: list[str] = []
    for session in range(2):
        ground = Playground(
            settings, "en", seen.append, clock=ManualClock(START), files_dir=tmp_path / "p"
        )
        await ground.start()
        try:
            before = len(seen)
            assert await ground.handle("/start" if session == 0 else "/help")
            ground.render()
            assert len(seen) > before, f"the bot answered in session {session + 1}"
        finally:
            await ground.stop()
    assert any("/privacy" in line for line in seen[before:]), "the help, the second time"
