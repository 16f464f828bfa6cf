"""What a walk through every flow of the playground in Albanian found (issue 13), kept fixed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.clock import ManualClock
from bot.core.i18n import I18n
from bot.core.playground import Playground
from bot.core.settings import Settings
from bot.kit import moments
from bot.kit.ui import PHONE_WIDTH, list_line, rows_of
from bot.rti import letter_sending
from tests import staff_steps as steps
from tests.harness import START, Person
from tests.rti_steps import build_request, onboard_english, open_builder


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


async def test_back_from_a_picker_screen_leaves_no_header_without_buttons(
    fake, database_url
) -> None:
    bot = await steps.start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await open_builder(arta)
        await arta.press("Shkodër")
        assert arta.last.text == "Choose the municipality:"
        await arta.press("⬅️ Back")
        assert "Which authority?" in arta.last.text
        assert not [m for m in arta.messages if m.text == "Choose the municipality:"]
        await arta.text("Shkodër")
        assert arta.last.text == "Here is what I found:", "an exact name is no guess"
        await arta.press("⬅️ Back")
        assert not [m for m in arta.messages if m.text == "Here is what I found:"]
        await arta.text("shkod")
        assert arta.last.text == "Did you mean:"
        await arta.press("Municipality of Shkodër")
        assert "What information" in arta.last.text
    finally:
        await bot.stop()


async def test_typing_a_sent_date_has_back_and_cancel(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await build_request(arta)
        await arta.press("📮 I have sent it")
        await arta.press("📅 Another date")
        prompt = arta.last
        assert prompt.text.startswith("Type the date") and prompt.buttons == [
            ["⬅️ Back", "✖️ Cancel"]
        ]
        await arta.press("⬅️ Back")
        assert arta.last.message_id == prompt.message_id, "the prompt turns back into the days"
        assert arta.last.text == "When did you send or hand in the request?"
        await arta.press("📅 Another date")
        await arta.press("✖️ Cancel")
        assert not [m for m in arta.messages if m.text.startswith("Type the date") and m.buttons]
    finally:
        await bot.stop()


async def test_the_authority_search_can_be_cancelled_and_long_field_labels_get_a_row(
    fake, database_url
) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin = Person(bot, fake.user(user_id=steps.ADMIN, first_name="Ledi", language_code="sq"))
        await admin.command("/start")
        await admin.press("🇦🇱 Shqip")
        await admin.press("✅ Pajtohem")
        await admin.command("/authority")
        prompt = admin.last
        assert prompt.labels == ["✖️ Anuloni"]
        await admin.press("✖️ Anuloni")
        assert not [m for m in admin.messages if m.message_id == prompt.message_id and m.buttons]
        await admin.text("shkoder")
        assert not admin.seen("Bashkia Shkodër"), "the search is over"
        await admin.command("/authority", args="shkoder")
        await admin.press("Bashkia Shkodër")
        long_rows = [
            row for row in admin.last.buttons if any(len(b) > PHONE_WIDTH // 2 for b in row)
        ]
        assert long_rows and all(len(row) == 1 for row in long_rows), admin.last.buttons
    finally:
        await bot.stop()


def test_long_poll_edit_labels_and_field_labels_take_a_row_of_their_own() -> None:
    rows = rows_of([("✏️ Ndryshoni pyetjen", "a"), ("✏️ Ndryshoni pyetjen në anglisht", "b")])
    assert rows == [[("✏️ Ndryshoni pyetjen", "a")], [("✏️ Ndryshoni pyetjen në anglisht", "b")]]


def test_a_complaint_drafted_after_its_deadline_does_not_show_the_deadline_as_open() -> None:
    t = I18n("sq", "Europe/Tirane").translator("en")
    settings = Settings(_env_file=None, bot_token="1:x", database_url="sqlite+aiosqlite://")
    text = str(letter_sending._late_filing(t, date(2026, 10, 28), settings))
    assert "ended on <b>28 October 2026</b>" in text
    assert "Deadline:" not in text
