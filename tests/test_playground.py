"""The playground drives the real bot through the fake server from scripted terminal input: what a
phone would show (files, toasts, map points, the staff group) is printed, the clock moves on
demand, and several lines go out as one message."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram import Bot, KeyboardButton, ReplyKeyboardMarkup

from bot.core.application import PactApplication
from bot.core.clock import ManualClock
from bot.core.playground import PLAYER_ID, Playground, parse_duration, play
from bot.core.settings import Settings
from bot.rti.services.requests import ReminderKind
from db.models import AttachmentKind, Case, CaseAttachment, Reminder
from fakeapi import FakeTelegram
from tests.harness import Person
from tests.rti_steps import build_request, onboard_english, sent_on
from tests.staff_steps import report

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
Step = str | Callable[[], Awaitable[object]]


def _settings(database_url: str, **overrides: object) -> Settings:
    """Playground settings for a test: English, no background job, no flood limit."""
    values: dict[str, object] = {
        "database_url": database_url,
        "default_locale": "en",
        "reminder_poll_seconds": 0,
        "updates_per_minute": 10_000,
        **overrides,
    }
    return Settings(_env_file=None, **values)


class Screen:
    """What the playground printed, with a mark to look only at what came after it."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.mark = 0

    def write(self, text: str) -> None:
        """The playground's output function."""
        self.lines.append(text)

    def since(self) -> str:
        """Everything printed since the last call."""
        text = "\n".join(self.lines[self.mark :])
        self.mark = len(self.lines)
        return text


class _Bot:
    """The parts of tests.harness.BotHarness that Person needs, on the playground's bot."""

    def __init__(self, ground: Playground) -> None:
        self.ground = ground

    @property
    def fake(self) -> FakeTelegram:
        return self.ground.fake

    @property
    def app(self) -> PactApplication:
        return self.ground.app


@pytest.fixture
async def screen() -> Screen:
    return Screen()


async def _ground(
    database_url: str, tmp_path: Path, screen: Screen, **overrides: object
) -> Playground:
    ground = Playground(
        _settings(database_url, **overrides),
        "en",
        screen.write,
        clock=ManualClock(START),
        files_dir=tmp_path / "playground",
    )
    await ground.start()
    return ground


@pytest.fixture
async def ground(database_url: str, tmp_path: Path, screen: Screen) -> AsyncIterator[Playground]:
    """A started playground whose player is an administrator."""
    started = await _ground(database_url, tmp_path, screen, admin_ids=frozenset({PLAYER_ID}))
    yield started
    await started.stop()


async def run(ground: Playground, *steps: Step) -> None:
    """Feed lines to the playground's input loop; callables run in between (setup steps)."""
    pending = list(steps)

    async def read(_prompt: str) -> str:
        while pending:
            step = pending.pop(0)
            if isinstance(step, str):
                return step
            await step()
        raise EOFError

    await ground.loop(read)


def player(ground: Playground) -> Person:
    """The player as a tests.harness Person, for the shared flow steps."""
    return Person(_Bot(ground), ground.user)  # type: ignore[arg-type]


async def test_playground_walks_onboarding_and_survives_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    lines = iter(
        [
            "/start",
            "1",
            "8",
            "12",
            ":sticker",
            ":block",
            "hello",
            ":unblock",
            ":restart",
            "/menu",
            "14",
            ":quit",
        ]
    )
    output: list[str] = []

    async def read(_prompt: str) -> str:
        return next(lines)

    settings = Settings(_env_file=None, database_url=database_url, reminder_poll_seconds=0)
    files = tmp_path / "playground"
    await play(
        settings, "sq", read=read, write=output.append, clock=ManualClock(START), files_dir=files
    )
    text = "\n".join(output)
    assert "Mirë se vini" in text
    assert "[1] ✅ Pajtohem" in text
    assert "Pëlqimi juaj u regjistrua" in text
    assert "[8] " in text and "[12] " in text, "button numbers go on across messages"
    assert "Këtë mesazh nuk mund ta përdor këtu" in text
    assert "has blocked the bot" in text, "the playground explains instead of crashing"
    assert "(bot restarted)" in text
    before, after = text.split("(bot restarted)")
    assert "Menyja kryesore" in after
    assert "[14] 🛠" in before, "a button of the menu shown before the restart"
    assert "] Shkodër" in after, "pressed by its number, it still works"
    assert " INFO " in (files / "bot.log").read_text(encoding="utf-8"), "log lines go to a file"
    assert not any(" INFO " in line or " WARNING " in line for line in output)


async def test_help_says_who_the_player_is_how_to_become_admin_and_every_command(
    database_url: str, tmp_path: Path, screen: Screen
) -> None:
    citizen = await _ground(database_url, tmp_path, screen)
    try:
        await run(citizen, ":help", ":nonsense", ":chat nowhere")
    finally:
        await citizen.stop()
    text = screen.since()
    assert f"You are Telegram user {PLAYER_ID}" in text
    assert f"ADMIN_IDS={PLAYER_ID} pact-bot playground" in text
    assert ":chat staff" in text
    for command in citizen.commands.values():
        assert command.usage in text and command.summary in text
    assert "(unknown command :nonsense; type :help)" in text
    assert "(:chat me or :chat staff)" in text


async def test_help_tells_an_admin_they_are_one(ground: Playground, screen: Screen) -> None:
    await run(ground, ":help")
    assert "You are an administrator (ADMIN_IDS)." in screen.since()


async def test_files_are_saved_and_their_paths_printed(
    ground: Playground, screen: Screen, tmp_path: Path
) -> None:
    await run(ground, "/start", ":press I agree", ":press Skip", ":press Skip")
    screen.since()
    await run(ground, "/export", ":press This month", "/stats", ":press This month")
    text = screen.since()
    folder = tmp_path / "playground"
    with_files = [m for m in ground.user.messages if m.document or m.photo]
    extensions = {path.suffix for path in folder.iterdir()}
    assert {".zip", ".xlsx", ".png"} <= extensions  # the CSV comes zipped
    assert len(list(folder.iterdir())) == len(with_files), "one file saved per file sent"
    for message in with_files:
        [path] = folder.glob(f"me-{message.message_id:04d}-*")
        assert f"→ {path}" in text
        sent = message.document or message.photo
        assert sent is not None and path.read_bytes() == sent["content"]
    assert "📎 " in text and "🖼 photo" in text


async def test_staff_group_toasts_and_a_voice_note_sent_by_files(
    ground: Playground, screen: Screen
) -> None:
    arta = Person(
        _Bot(ground), ground.fake.user(user_id=5001, first_name="Arta", language_code="en")
    )

    async def citizen_reports_with_a_voice_note() -> None:
        await onboard_english(arta)
        await report(arta, "👤 Named")
        case = (await _cases(ground))[0]
        voice = ground.fake.state.files.add(b"OggS" + bytes(400), "voice", mime_type="audio/ogg")
        voice.duration = 4
        async with ground.app.services.sessions() as session, session.begin():
            session.add(
                CaseAttachment(
                    case_id=case.id,
                    kind=AttachmentKind.VOICE,
                    file_id=voice.file_id,
                    added_at=START,
                )
            )

    await run(ground, "/start", ":press I agree", ":press Skip", ":press Skip")
    await run(ground, citizen_reports_with_a_voice_note, "")
    assert "(🔔 1 new in the staff group: :chat staff)" in screen.since()

    await run(ground, ":chat staff")
    text = screen.since()
    assert "(now in the staff group)" in text and "── bot · staff group ──" in text
    assert "Open in my private chat" in text
    await run(ground, ":press Open in my private chat")
    assert "(🔔 1 new in your private chat: :chat me)" in screen.since()
    await run(ground, ":photo", ":chat me")
    text = screen.since()
    assert "(the staff group takes text" in text
    assert "📎 Files" in text
    await run(ground, ":press 📎 Files")
    text = screen.since()
    assert "📍 41.8667, 19.4167" in text
    assert "🎤 voice note (4 s) → " in text and "me-" in text
    assert "💬 toast: Sent to your private chat." in text
    [voice] = [m for m in ground.user.messages if m.voice]
    assert voice.text == (await _cases(ground))[0].reference

    alert = {"text": "This poll is closed.", "show_alert": True}
    ground.user.callback_answers.append(alert)  # as answerCallbackQuery with show_alert stores it
    await run(ground, "")
    assert screen.since() == "⚠️ alert: This poll is closed."


async def _cases(ground: Playground) -> list[Case]:
    """The stored cases, oldest first."""
    async with ground.app.services.sessions() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


async def test_advance_moves_the_clock_and_sends_a_due_reminder(
    ground: Playground, screen: Screen
) -> None:
    me = player(ground)

    async def a_request_sent_on_the_20th() -> None:
        await onboard_english(me)
        await build_request(me)
        await sent_on(me, "20.11.2026")

    await run(ground, a_request_sent_on_the_20th, "")
    async with ground.app.services.sessions() as session:
        pending = await session.execute(
            select(Reminder.due_at)
            .where(Reminder.kind == ReminderKind.BEFORE_DUE, Reminder.sent_at.is_(None))
            .order_by(Reminder.due_at)
        )
        due = pending.scalars().first()
    assert due is not None
    days = math.ceil((due.replace(tzinfo=UTC) - START).total_seconds() / 86400)
    screen.since()
    await run(ground, ":advance soon", f":advance {days}d")
    text = screen.since()
    assert "(:advance 3d, 12h, 30m or 1d12h)" in text
    assert "; 1 due message(s) sent)" in text
    assert text.split("due message(s) sent)")[1].count("── bot ──") == 1
    assert "request no. 1" in text.split("due message(s) sent)")[1]


async def test_several_lines_reach_the_bot_as_one_message(
    ground: Playground, screen: Screen
) -> None:
    await run(ground, ":multi", "Po", "", "Jo", ":end", "Ndoshta \\", "Kurrë")
    said = [m.text for m in ground.fake.state.chat(PLAYER_ID).messages.values() if not m.from_bot]
    assert said == ["Po\n\nJo", "Ndoshta \nKurrë"]
    assert "(type the lines; :end sends them as one message)" in screen.since()


async def test_reply_keyboard_buttons_send_what_a_phone_sends(
    ground: Playground, screen: Screen
) -> None:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("📍 Send my location", request_location=True)], ["❌ Cancel"]]
    )
    async with Bot("1:X", base_url=ground.fake.base_url) as other:
        await other.send_message(PLAYER_ID, "Where is it?", reply_markup=keyboard)
    await run(ground, "")
    text = screen.since()
    location = next(line for line in text.splitlines() if "📍 Send my location" in line)
    cancel = next(line for line in text.splitlines() if "❌ Cancel" in line)
    assert location.startswith("  ⌨ [") and cancel.startswith("  ⌨ [")
    number = location.split("[")[1].split("]")[0]
    await run(ground, number, "📍 Send my location", cancel.split("[")[1].split("]")[0])
    said = [m for m in ground.fake.state.chat(PLAYER_ID).messages.values() if not m.from_bot]
    assert [m.kind for m in said] == ["location", "location", "text"]
    assert said[0].location == {"latitude": 42.0683, "longitude": 19.5126}
    assert said[2].text == "❌ Cancel"


def test_durations() -> None:
    assert parse_duration("3d").days == 3  # type: ignore[union-attr]
    assert parse_duration("1d12h").total_seconds() == 36 * 3600  # type: ignore[union-attr]
    assert parse_duration("30m").total_seconds() == 1800  # type: ignore[union-attr]
    assert parse_duration("3 weeks") is None and parse_duration("") is None
